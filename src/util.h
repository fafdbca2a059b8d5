/*
 * util.h - small shared pieces: checked allocation, a growable string
 * buffer (git's strbuf), a string vector, a thread-local last-error
 * context (libgit2's git_error_last), diagnostics with file positions,
 * durations and RFC 3339 timestamps, JSON string escaping, base64.
 *
 * Invariants: a struct buf's ptr is always NUL-terminated once anything
 * was added (buf.ptr may be NULL while len == 0; use buf_cstr()).
 * Allocation failure aborts the program: a pass is short and has nothing
 * better to do, and every caller stays free of OOM branches.
 */
#ifndef CARA_UTIL_H
#define CARA_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define NORETURN __attribute__((noreturn))
#else
#define PRINTF_LIKE(f, a)
#define NORETURN
#endif

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
/* realloc(p, nmemb * size) with overflow check. */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);           /* xstrdup(NULL) == NULL */
char *xstrndup(const char *s, size_t n);
/* Returns a new string the caller frees. */
char *xasprintf(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Grow *v (holding *cap elements of size sz) so that it holds at least n. */
void grow_array(void **v, size_t *cap, size_t n, size_t sz);
#define GROW(v, cap, n) grow_array((void **)&(v), &(cap), (n), sizeof(*(v)))

/* Print "cara: msg" to stderr and exit(1). Only main and command entry points. */
NORETURN void die(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* ---- growable string buffer ---- */
struct buf {
	char *ptr;
	size_t len;
	size_t cap;
};
#define BUF_INIT { NULL, 0, 0 }
void buf_init(struct buf *b);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);                 /* len = 0, keeps memory */
void buf_add(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
const char *buf_cstr(const struct buf *b);     /* never NULL */
char *buf_detach(struct buf *b);               /* caller frees; never NULL */
/* Append s as a JSON string literal, quotes included. */
void buf_json_str(struct buf *b, const char *s);
/* Append s for a terminal or a log line: control characters (newline, CR,
 * tab, escape...) and bytes that are not UTF-8 as \xNN. */
void buf_text_safe(struct buf *b, const char *s);

/* ---- string vector ---- */
struct strvec {
	char **v;
	size_t n;
	size_t cap;
};
#define STRVEC_INIT { NULL, 0, 0 }
void strvec_push(struct strvec *sv, const char *s);        /* copies s */
void strvec_push_nodup(struct strvec *sv, char *s);        /* takes s */
void strvec_release(struct strvec *sv);
bool strvec_has(const struct strvec *sv, const char *s);
/* In sv sorted (strcmp order; may be NULL), the first string that begins
 * with prefix, or NULL: O(log n). */
const char *strvec_sorted_prefix(const struct strvec *sv, const char *prefix);

/* one when n is 1, else many: "1 project", "2 projects" */
const char *plural(size_t n, const char *one, const char *many);

/* ---- paths ---- */
/*
 * The absolute path as the Engine will see it: '//' and '/./' collapsed,
 * '..' applied lexically (never above '/'), no trailing '/'.  "/d/" and
 * "/d" give "/d"; "/x/.." gives "/".  Caller frees.
 */
char *path_clean(const char *path);
/*
 * The real path of `path` (absolute, textually under `root`), walked from
 * root one component at a time without following a symbolic link: a link
 * anywhere below root, a missing component, or an end that is not a
 * directory, file or socket is refused.  root itself may be a link.
 * Returns a new string, or NULL with error_last() (errno EXDEV when path
 * is not under root at all).
 */
char *path_resolve_beneath(const char *root, const char *path);

/* ---- whole small files ---- */
/*
 * Read the regular file at path, at most max bytes, into out.  A FIFO,
 * device, socket or directory is refused at once, never waited on.
 * Returns 0, or -1 with errno set (open's and read's, EINVAL: not a regular
 * file, EFBIG: larger than max) and out wiped.
 */
int read_regular_file(const char *path, size_t max, struct buf *out);
/* All of data to fd (EINTR retried); -1 with errno on failure. */
int write_full(int fd, const void *data, size_t len);
/* Replace file with data (mode, fsync'd, then rename(2) over it), so a
 * reader sees the old file or the new one, never part of one; what names
 * the file in messages ("metrics file"). */
int write_file_atomic(const char *file, const void *data, size_t len, int mode,
		      const char *what);
/* Zero the whole allocation (for secrets) and empty b. */
void buf_wipe(struct buf *b);

/* ---- variable name patterns: "NAME" or "PREFIX*" ---- */
/* NULL when pat is a valid pattern, else why not (static text). */
const char *env_pattern_check(const char *pat);
bool env_pattern_match(const char *pat, const char *name);

/* ---- errors: one set of codes, the message per thread ---- */
/*
 * What a failing function returns (negative), for every module: callers
 * that act on a kind of failure test for its code, the rest for < 0.
 * The words for the user are in error_last().
 */
enum cara_error {
	ERR_FAIL = -1,          /* anything else: the message says */
	ERR_NOTFOUND = -2,      /* the object, file or database does not exist */
	ERR_LOCKED = -3,        /* another pass holds the state's lock */
	ERR_FOREIGN = -4,       /* an object of cara's name that is not ours */
	ERR_INPUT = -5,         /* the user's ref, path or file is wrong */
	ERR_UNREACHABLE = -6,   /* could not connect (a remote, the Engine) */
	ERR_REFUSED = -7,       /* credentials or a host key refused; fatal */
	ERR_ROLLED_BACK = -8,   /* a cluster undid an update (it runs the old spec) */
};

/* Set the calling thread's error message; always returns -1 (ERR_FAIL). */
int error_set(const char *fmt, ...) PRINTF_LIKE(1, 2);
const char *error_last(void);   /* never NULL; "unknown error" if unset */
void error_clear(void);

/* ---- diagnostics (validation findings) ---- */
enum diag_severity { DIAG_ERROR, DIAG_WARNING };
struct diag {
	enum diag_severity severity;
	char *file;     /* as the user should see it, e.g. "apps/web.yaml" */
	int line, col;  /* 1-based; 0 when unknown */
	char *path;     /* field path, e.g. "spec.services[1].image"; may be "" */
	char *message;
};
struct diags {
	struct diag *v;
	size_t n, cap;
	size_t nerrors, nwarnings;
};
#define DIAGS_INIT { NULL, 0, 0, 0, 0 }
void diags_add(struct diags *d, enum diag_severity sev, const char *file,
	       int line, int col, const char *path, const char *fmt, ...)
	PRINTF_LIKE(7, 8);
void diags_release(struct diags *d);
/* Sort by file, line, col (stable for equal keys). */
void diags_sort(struct diags *d);
/* "FILE:LINE:COL: path: message" or with "warning: " after the position. */
void diag_format(struct buf *out, const struct diag *d);

/* ---- numbers, durations and time ---- */
/* Parse a decimal integer in [min, max] with no junk; 0 ok, -1 bad. */
int parse_ll(const char *s, long long min, long long max, long long *out);
/* Go-style durations "1h2m3s", "500ms", "10s", "1.5s"; bare numbers are
 * seconds.  Result in milliseconds.  0 ok, -1 bad. */
int parse_duration_ms(const char *s, int64_t *out_ms);
/* RFC 3339 ("2026-12-01T00:00:00Z", "...+02:00", fractional secs). */
int parse_rfc3339(const char *s, int64_t *out_unix);
/* Format unix seconds as "YYYY-MM-DDTHH:MM:SSZ" into out (>= 21 bytes). */
void format_rfc3339(int64_t t, char out[static 21]);
/* Milliseconds on the monotonic clock: for timeouts and intervals. */
int64_t monotonic_ms(void);
/* "5s", "3m", "2h", "4d" style age for tables. */
void format_age(int64_t seconds, char out[static 16]);
/* Memory sizes: "512m", "1g", "1024k", "1048576", "64MiB". Bytes. */
int parse_memory(const char *s, int64_t *out_bytes);

/* ---- sha256 ---- */
struct sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char block[64];
	size_t fill;
};
void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, unsigned char out[32]);
/* Hex digest of data into out (65 bytes incl. NUL). */
void sha256_hex(const void *data, size_t len, char out[65]);

/* ---- base64 (RFC 4648) ---- */
enum base64_flags {
	BASE64_URL = 1,         /* encode: '-' '_' for '+' '/'; decode: accept them too */
	BASE64_NOPAD = 2,       /* encode: no '=' padding (as OpenSSH prints fingerprints) */
};
/* Append the base64 of data[0..n) to out.  A caller with a secret in out
 * reserves room first: this grows out as buf_add does. */
void base64_encode(struct buf *out, const void *data, size_t n, unsigned flags);
/*
 * Append the bytes that s[0..n) encodes to out: '=' padding at the end is
 * optional; any other character outside the alphabet, or a length that no
 * encoding has (4k+1 characters once padding is stripped), is -1, with
 * out holding part of the bytes.  At most n * 3 / 4 bytes are appended.
 */
int base64_decode(struct buf *out, const char *s, size_t n, unsigned flags);

/* Last, after every declaration: see banned.h. */
#include "banned.h"

#endif
