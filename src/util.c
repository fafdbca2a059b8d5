/*
 * util.c - allocation, buffers, vectors, errors, diagnostics, time,
 * base64, sha256.
 * See util.h for the invariants.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static NORETURN void oom(void)
{
	fputs("cara: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (size && nmemb > SIZE_MAX / size)
		oom();
	p = realloc(p, (nmemb && size) ? nmemb * size : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	if (!s)
		return NULL;
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p;
	size_t len = strnlen(s, n);

	if (len == SIZE_MAX)
		oom();
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b);
}

void grow_array(void **v, size_t *cap, size_t n, size_t sz)
{
	size_t ncap;

	if (n <= *cap)
		return;
	ncap = *cap ? *cap : 8;
	while (ncap < n) {
		if (ncap > SIZE_MAX / 2)
			oom();
		ncap *= 2;
	}
	*v = xreallocarray(*v, ncap, sz);
	*cap = ncap;
}

void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("cara: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- buf ---- */

void buf_init(struct buf *b)
{
	b->ptr = NULL;
	b->len = b->cap = 0;
}

void buf_release(struct buf *b)
{
	free(b->ptr);
	buf_init(b);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

static void buf_grow(struct buf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len - 1)
		oom();
	GROW(b->ptr, b->cap, b->len + extra + 1);
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	buf_grow(b, len);
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

const char *buf_cstr(const struct buf *b)
{
	return b->ptr ? b->ptr : "";
}

char *buf_detach(struct buf *b)
{
	char *p = b->ptr ? b->ptr : xstrdup("");

	buf_init(b);
	return p;
}

/* Length of the well-formed UTF-8 sequence at p (1 to 4), 0 if none. */
static size_t utf8_len(const unsigned char *p)
{
	size_t n, i;
	unsigned long cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates and values past U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

void buf_json_str(struct buf *b, const char *s)
{
	const unsigned char *p;
	size_t n;

	buf_putc(b, '"');
	for (p = (const unsigned char *)(s ? s : ""); *p; p += n) {
		n = 1;
		switch (*p) {
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				buf_printf(b, "\\u%04x", *p);
			else if (!(n = utf8_len(p))) {
				buf_puts(b, "\\ufffd");   /* not UTF-8: never invalid JSON */
				n = 1;
			} else
				buf_add(b, p, n);
		}
	}
	buf_putc(b, '"');
}

void buf_text_safe(struct buf *b, const char *s)
{
	const unsigned char *p;
	size_t n;

	for (p = (const unsigned char *)(s ? s : ""); *p; p += n) {
		n = *p < 0x20 || *p == 0x7f ? 0 : utf8_len(p);
		if (n) {
			buf_add(b, p, n);
		} else {
			/* a newline or CR in a name must not forge a line */
			buf_printf(b, "\\x%02x", *p);
			n = 1;
		}
	}
}

/* ---- strvec ---- */

void strvec_push(struct strvec *sv, const char *s)
{
	strvec_push_nodup(sv, xstrdup(s));
}

void strvec_push_nodup(struct strvec *sv, char *s)
{
	GROW(sv->v, sv->cap, sv->n + 2);
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

void strvec_release(struct strvec *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = sv->cap = 0;
}

bool strvec_has(const struct strvec *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return true;
	return false;
}

const char *strvec_sorted_prefix(const struct strvec *sv, const char *prefix)
{
	size_t lo = 0, hi = sv ? sv->n : 0;

	while (lo < hi) {   /* the first not below prefix: begins with it, if any does */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(sv->v[mid], prefix) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (sv && lo < sv->n && !strncmp(sv->v[lo], prefix, strlen(prefix)))
		return sv->v[lo];
	return NULL;
}

const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* ---- paths ---- */

char *path_clean(const char *path)
{
	struct buf b = BUF_INIT;
	const char *p = path;
	size_t n;

	while (*p) {
		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (!n)
			break;
		if (n == 2 && !strncmp(p, "..", 2)) {
			while (b.len && b.ptr[b.len - 1] != '/')
				b.len--;
			if (b.len)
				b.len--;        /* the '/' before the dropped component */
			if (b.ptr)
				b.ptr[b.len] = '\0';
		} else if (n != 1 || *p != '.') {
			buf_putc(&b, '/');
			buf_add(&b, p, n);
		}
		p += n;
	}
	if (!b.len)
		buf_putc(&b, '/');
	return buf_detach(&b);
}

char *path_resolve_beneath(const char *root, const char *path)
{
	struct buf out = BUF_INIT;
	struct stat st;
	char *croot = path_clean(root), *cpath = path_clean(path), *real = NULL;
	const char *rel, *p;
	size_t rl = strlen(croot), n;
	int fd = -1, next;

	if (strcmp(croot, "/") &&
	    (strncmp(cpath, croot, rl) || (cpath[rl] && cpath[rl] != '/'))) {
		error_set("'%s' is not under '%s'", path, root);
		free(croot);
		free(cpath);
		errno = EXDEV;
		return NULL;
	}
	rel = strcmp(croot, "/") ? cpath + rl : cpath;
	/* the root itself may be a link: the operator chose it */
	fd = open(croot, O_PATH | O_DIRECTORY | O_CLOEXEC);
	real = fd < 0 ? NULL : realpath(croot, NULL);
	if (!real) {
		error_set("root '%s': %s", root, strerror(errno));
		goto fail;
	}
	buf_puts(&out, strcmp(real, "/") ? real : "");
	for (p = rel; *p; p += n) {
		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (!n)
			break;
		{
			char *comp = xstrndup(p, n);

			next = openat(fd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			free(comp);
		}
		if (next < 0) {
			error_set(errno == ENOENT ? "'%s' does not exist" : "'%s': %s",
				  path, strerror(errno));
			goto fail;
		}
		close(fd);
		fd = next;
		if (fstat(fd, &st) < 0) {
			error_set("'%s': %s", path, strerror(errno));
			goto fail;
		}
		buf_putc(&out, '/');
		buf_add(&out, p, n);
		if (S_ISLNK(st.st_mode)) {
			error_set("'%s' is a symbolic link, which may lead out of '%s'",
				  buf_cstr(&out), root);
			goto fail;
		}
		if (p[n] && !S_ISDIR(st.st_mode)) {
			error_set("'%s' is not a directory", buf_cstr(&out));
			goto fail;
		}
	}
	if (!out.len)
		buf_putc(&out, '/');
	if (fstat(fd, &st) < 0 || !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode) ||
				    S_ISSOCK(st.st_mode))) {
		error_set("'%s' is not a directory, a file or a socket", path);
		goto fail;
	}
	close(fd);
	free(real);
	free(croot);
	free(cpath);
	return buf_detach(&out);
fail:
	if (fd >= 0)
		close(fd);
	free(real);
	free(croot);
	free(cpath);
	buf_release(&out);
	return NULL;
}

/* ---- whole small files ---- */

int read_regular_file(const char *path, size_t max, struct buf *out)
{
	struct stat st;
	char chunk[4096];
	ssize_t n;
	int fd, err = 0;

	buf_reset(out);
	/* O_NONBLOCK: opening a FIFO with no writer must not block the pass */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		err = errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = EINVAL;
		goto out;
	}
	if ((uintmax_t)st.st_size > max) {
		err = EFBIG;
		goto out;
	}
	buf_grow(out, (size_t)st.st_size);   /* one allocation: nothing to wipe elsewhere */
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			goto out;
		}
		if (n == 0)
			break;
		if ((size_t)n > max - out->len) {
			err = EFBIG;
			goto out;
		}
		buf_add(out, chunk, (size_t)n);
	}
out:
	explicit_bzero(chunk, sizeof(chunk));
	close(fd);
	if (err) {
		buf_wipe(out);
		errno = err;
		return -1;
	}
	return 0;
}

void buf_wipe(struct buf *b)
{
	if (b->ptr)
		explicit_bzero(b->ptr, b->cap);
	b->len = 0;
}

/* ---- variable name patterns ---- */

const char *env_pattern_check(const char *pat)
{
	size_t i, n = strlen(pat);

	if (n && pat[n - 1] == '*')
		n--;
	if (!n)
		return "is not a variable name or PREFIX*";
	if (isdigit((unsigned char)pat[0]))
		return "must not start with a digit";
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)pat[i]) && pat[i] != '_')
			return "may contain only letters, digits and '_' (and a final '*')";
	return NULL;
}

bool env_pattern_match(const char *pat, const char *name)
{
	size_t n = strlen(pat);

	if (n && pat[n - 1] == '*')
		return !strncmp(pat, name, n - 1);
	return !strcmp(pat, name);
}

/* ---- errors ---- */

static _Thread_local struct buf last_error;

int error_set(const char *fmt, ...)
{
	struct buf nb = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&nb, fmt, ap);
	va_end(ap);
	buf_release(&last_error);
	last_error = nb;
	return -1;
}

const char *error_last(void)
{
	return last_error.len ? last_error.ptr : "unknown error";
}

void error_clear(void)
{
	buf_release(&last_error);
}

/* ---- diagnostics ---- */

void diags_add(struct diags *d, enum diag_severity sev, const char *file,
	       int line, int col, const char *path, const char *fmt, ...)
{
	struct diag *g;
	struct buf m = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&m, fmt, ap);
	va_end(ap);
	GROW(d->v, d->cap, d->n + 1);
	g = &d->v[d->n++];
	g->severity = sev;
	g->file = xstrdup(file ? file : "");
	g->line = line;
	g->col = col;
	g->path = xstrdup(path ? path : "");
	g->message = buf_detach(&m);
	if (sev == DIAG_ERROR)
		d->nerrors++;
	else
		d->nwarnings++;
}

void diags_release(struct diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].path);
		free(d->v[i].message);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->cap = d->nerrors = d->nwarnings = 0;
}

static int diag_cmp(const struct diag *a, const struct diag *b)
{
	int c = strcmp(a->file, b->file);

	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->col != b->col)
		return a->col < b->col ? -1 : 1;
	return 0;
}

void diags_sort(struct diags *d)
{
	size_t i, j;

	/* insertion sort: stable, and finding lists are short */
	for (i = 1; i < d->n; i++) {
		struct diag t = d->v[i];

		for (j = i; j > 0 && diag_cmp(&d->v[j - 1], &t) > 0; j--)
			d->v[j] = d->v[j - 1];
		d->v[j] = t;
	}
}

void diag_format(struct buf *out, const struct diag *d)
{
	buf_text_safe(out, d->file);
	buf_printf(out, ":%d:%d: ", d->line, d->col);
	if (d->severity == DIAG_WARNING)
		buf_puts(out, "warning: ");
	if (d->path[0]) {
		buf_text_safe(out, d->path);
		buf_puts(out, ": ");
	}
	buf_text_safe(out, d->message);
}

/* ---- numbers and time ---- */

int parse_ll(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int parse_duration_ms(const char *s, int64_t *out_ms)
{
	static const struct { const char *unit; double ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	const char *p = s;
	double total = 0;
	bool any = false;

	if (!s || !*s)
		return -1;
	/* a bare number means seconds */
	{
		long long v;
		if (!parse_ll(s, 0, INT64_MAX / 1000, &v)) {
			*out_ms = (int64_t)v * 1000;
			return 0;
		}
	}
	while (*p) {
		char *end;
		double v;
		size_t i, best = SIZE_MAX, bestlen = 0;

		if (!isdigit((unsigned char)*p) && *p != '.')
			return -1;
		errno = 0;
		v = strtod(p, &end);
		if (errno || end == p || v < 0)
			return -1;
		p = end;
		for (i = 0; i < ARRAY_SIZE(units); i++) {
			size_t ul = strlen(units[i].unit);
			if (!strncmp(p, units[i].unit, ul) && ul > bestlen &&
			    !(ul == 1 && units[i].unit[0] == 'm' && p[1] == 's')) {
				best = i;
				bestlen = ul;
			}
		}
		if (best == SIZE_MAX)
			return -1;
		p += bestlen;
		total += v * units[best].ms;
		if (total > 9.0e15)
			return -1;
		any = true;
	}
	if (!any)
		return -1;
	*out_ms = (int64_t)(total + 0.5);
	return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian); civil algorithm. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

static int digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int parse_rfc3339(const char *s, int64_t *out_unix)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	const char *p;
	size_t len;

	if (!s)
		return -1;
	len = strlen(s);
	if (len < 20)
		return -1;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
	    s[7] != '-' || digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
	    s[16] != ':' || digits(s + 17, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || sec > 60)
		return -1;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '+' ? 1 : -1;
		if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) ||
		    oh > 23 || om > 59)
			return -1;
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	if (sec == 60)
		sec = 59;
	*out_unix = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
		    h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60);
	return 0;
}

void format_rfc3339(int64_t t, char out[static 21])
{
	int64_t days = t / 86400, rem = t % 86400;
	int y;
	unsigned m, d;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	snprintf(out, 21, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)y % 10000u,
		 m % 100u, d % 100u, (unsigned)(rem / 3600) % 24u,
		 (unsigned)(rem / 60) % 60u, (unsigned)rem % 60u);
}

int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void format_age(int64_t s, char out[static 16])
{
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(out, 16, "%llds", (long long)s);
	else if (s < 7200)
		snprintf(out, 16, "%lldm", (long long)(s / 60));
	else if (s < 172800)
		snprintf(out, 16, "%lldh", (long long)(s / 3600));
	else
		snprintf(out, 16, "%lldd", (long long)(s / 86400) % 100000000);
}

int parse_memory(const char *s, int64_t *out_bytes)
{
	static const struct { const char *suffix; int64_t mult; } sfx[] = {
		{ "", 1 }, { "b", 1 }, { "k", 1024 }, { "kb", 1024 }, { "kib", 1024 },
		{ "ki", 1024 }, { "m", 1 << 20 }, { "mb", 1 << 20 }, { "mib", 1 << 20 },
		{ "mi", 1 << 20 }, { "g", 1 << 30 }, { "gb", 1 << 30 },
		{ "gib", 1 << 30 }, { "gi", 1 << 30 },
	};
	char *end;
	long long v;
	size_t i;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(sfx); i++) {
		if (!strcasecmp(end, sfx[i].suffix)) {
			if (v > INT64_MAX / sfx[i].mult)
				return -1;
			*out_bytes = (int64_t)v * sfx[i].mult;
			return 0;
		}
	}
	return -1;
}

/* ---- base64 ---- */

static const char base64_std[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char base64_url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void base64_encode(struct buf *out, const void *data, size_t n, unsigned flags)
{
	const char *a = flags & BASE64_URL ? base64_url : base64_std;
	const unsigned char *p = data;
	uint32_t v;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		buf_putc(out, a[v >> 18 & 63]);
		buf_putc(out, a[v >> 12 & 63]);
		buf_putc(out, a[v >> 6 & 63]);
		buf_putc(out, a[v & 63]);
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		buf_putc(out, a[v >> 18 & 63]);
		buf_putc(out, a[v >> 12 & 63]);
		if (!(flags & BASE64_NOPAD))
			buf_puts(out, "==");
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		buf_putc(out, a[v >> 18 & 63]);
		buf_putc(out, a[v >> 12 & 63]);
		buf_putc(out, a[v >> 6 & 63]);
		if (!(flags & BASE64_NOPAD))
			buf_putc(out, '=');
	}
}

static int base64_value(char c, unsigned flags)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || (c == '-' && (flags & BASE64_URL)))
		return 62;
	if (c == '/' || (c == '_' && (flags & BASE64_URL)))
		return 63;
	return -1;
}

int base64_decode(struct buf *out, const char *s, size_t n, unsigned flags)
{
	uint32_t acc = 0;
	int bits = 0, v;
	size_t i;

	while (n && s[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++) {
		if ((v = base64_value(s[i], flags)) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_putc(out, (char)(acc >> bits & 0xff));
		}
	}
	return bits >= 6 ? -1 : 0;
}

/* ---- sha256 (FIPS 180-4) ---- */

static const uint32_t K256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(struct sha256 *c, const unsigned char *p)
{
	uint32_t w[64], a, b, cc, d, e, f, g, h, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = c->h[0]; b = c->h[1]; cc = c->h[2]; d = c->h[3];
	e = c->h[4]; f = c->h[5]; g = c->h[6]; h = c->h[7];
	for (i = 0; i < 64; i++) {
		t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) +
		     K256[i] + w[i];
		t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
		h = g; g = f; f = e; e = d + t1;
		d = cc; cc = b; b = a; a = t1 + t2;
	}
	c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d;
	c->h[4] += e; c->h[5] += f; c->h[6] += g; c->h[7] += h;
}

void sha256_init(struct sha256 *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};
	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
	c->fill = 0;
}

void sha256_update(struct sha256 *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	c->len += len;
	while (len) {
		size_t n = 64 - c->fill;
		if (n > len)
			n = len;
		memcpy(c->block + c->fill, p, n);
		c->fill += n;
		p += n;
		len -= n;
		if (c->fill == 64) {
			sha256_block(c, c->block);
			c->fill = 0;
		}
	}
}

void sha256_final(struct sha256 *c, unsigned char out[32])
{
	uint64_t bits = c->len * 8;
	unsigned char pad = 0x80, zero = 0, lenbe[8];
	int i;

	sha256_update(c, &pad, 1);
	while (c->fill != 56)
		sha256_update(c, &zero, 1);
	for (i = 0; i < 8; i++)
		lenbe[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(c, lenbe, 8);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[32];
	struct sha256 c;
	int i;

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, d);
	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}

int write_full(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int write_file_atomic(const char *file, const void *data, size_t len, int mode,
		      const char *what)
{
	char *tmp = xasprintf("%s.tmp.%ld", file, (long)getpid());
	int fd, rc = -1;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0) {
		error_set("cannot write %s '%s': %s", what, tmp, strerror(errno));
		goto out;
	}
	if (write_full(fd, data, len) < 0) {
		error_set("cannot write %s '%s': %s", what, tmp, strerror(errno));
		goto out;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		error_set("cannot write %s '%s': %s", what, tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, file) < 0) {
		error_set("cannot replace %s '%s': %s", what, file, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}
