/*
 * source/git.c - the git source: the manifest repository, read with libgit2.
 *
 * The cache is a bare repository at cache_dir.  Its config names remote
 * "origin" with the *redacted* URL, which is how a cache is recognised as
 * ours for this repository.  Fetches go through an in-memory remote that
 * holds the real URL, which may carry credentials, so no secret is written
 * to disk (that also keeps clear of libgit2 1.5's config regex matching,
 * which leaks).  A cache belongs to a repository location, not to a
 * credential: rotating a token does not re-clone.
 *
 * Fetch: heads to refs/remotes/origin/NAME, tags to refs/tags/NAME, forced
 * (a force-pushed branch or a re-created tag is simply followed) and
 * pruned.  refs/remotes/origin/HEAD records the remote's default branch so
 * that an offline pass can still find it.  Files are read as blobs from
 * the commit's tree; there is no working tree.
 *
 * Recovery: a cache that cannot be opened, was made for another URL, has a
 * ref to a missing object, fails a fetch after the connection was made or
 * fails while the commit is read, is cloned again into "{cache_dir}.new"
 * and swapped in only once complete, so a failed re-clone leaves the old
 * cache in place.  Only a directory holding our marker file (or an empty
 * one) is ever removed, and removal never follows a symbolic link.
 *
 * Offline: only a failure to connect counts as "unreachable".  Refused
 * credentials or host keys are reported, never papered over with the
 * cached commit.
 *
 * Signatures: with verify_signatures the commit a pass is about to use,
 * fetched or cached, is refused before anything of its tree is read unless
 * its signature verifies (source/signature.c runs ssh-keygen or gpgv).  Only that
 * commit is checked, not its history: its tree is all that is applied.
 *
 * git_* types stay in this file.  Every message that could hold the URL or
 * a secret goes through scrub().
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>

#include "source/signature.h"
#include "source/source.h"
#include "util.h"

#define MAX_DEPTH 64
#define MAX_SECRET_FILE (64 << 10)
#define MAX_CRED_ATTEMPTS 3
#define CACHE_MARKER "cara-cache"

static const char *const fetch_refspecs[] = {
	"+refs/heads/*:refs/remotes/origin/*",
	"+refs/tags/*:refs/tags/*",
};

/*
 * Internal results (util.h's codes); source_fetch turns every one of
 * them into -1.  Here a failure that says nothing more (ERR_FAIL, as
 * libgit2 calls return) means the cache is unusable: clone again.
 */
#define SRC_EREPO ERR_FAIL        /* the cache is unusable: clone again */
#define SRC_EUSER ERR_INPUT       /* wrong ref or path, oversized file: report */
#define SRC_EREMOTE ERR_UNREACHABLE /* could not connect: offline candidate */
#define SRC_EFATAL ERR_REFUSED    /* local failure, refused credentials or host key */

enum cache_state { CACHE_MISSING, CACHE_BAD, CACHE_OK };

/* The credential handed to libgit2 in this connection, if any. */
enum cred_offer { OFFER_NONE, OFFER_SSH_KEY, OFFER_AGENT, OFFER_TOKEN };

struct fetch_ctx {
	const struct source_options *opts;
	char *url_shown;           /* opts->url redacted */
	int ssh_port;
	struct strvec secrets;     /* scrubbed from every message */
	char *token, *passphrase;
	bool url_creds;            /* an http(s) URL with user[:password]@ */
	enum cred_offer offered;
	char *offered_user;        /* the account it was offered for */
	int cred_attempts;
	char *refusal;             /* why a callback said no */
	char *default_branch;      /* "refs/heads/main" from the remote */
	unsigned long received;
};

/* ---- libgit2 setup ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void init_libgit2(void)
{
	init_rc = git_libgit2_init();
}

static int libgit2_ready(void)
{
	const git_error *e;

	pthread_once(&init_once, init_libgit2);
	if (init_rc >= 0)
		return 0;
	e = git_error_last();
	return error_set("cannot initialise libgit2: %s",
			 e && e->message ? e->message : "unknown error");
}

/* ---- URLs ---- */

static bool is_ssh_scheme(const char *url, size_t len)
{
	return (len == 3 && !strncasecmp(url, "ssh", 3)) ||
	       (len == 7 && (!strncasecmp(url, "git+ssh", 7) ||
			     !strncasecmp(url, "ssh+git", 7)));
}

/*
 * Locate the userinfo of url: "user:pw" in https://user:pw@host/r, "tok"
 * in https://tok@host/r, "git" in git@host:org/r.  The authority ends at
 * the first '/', '?' or '#' and the userinfo at its last '@', so an '@' in
 * the path is never taken for one.  Strings without "://" are scp-like
 * only when a ':' comes before the first '/'; anything else is a local
 * path and has no userinfo.
 */
static bool url_userinfo(const char *url, size_t *start, size_t *len, bool *ssh)
{
	const char *sep = strstr(url, "://"), *host, *end, *at = NULL, *p;

	if (sep) {
		host = sep + 3;
		end = host + strcspn(host, "/?#");
		*ssh = is_ssh_scheme(url, (size_t)(sep - url));
	} else {
		host = url;
		end = url + strcspn(url, "/");
		if (!memchr(url, ':', (size_t)(end - url)))
			return false;
		*ssh = true;
	}
	for (p = host; p < end; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return false;
	*start = (size_t)(host - url);
	*len = (size_t)(at - host);
	return true;
}

/*
 * The rule: a userinfo with a password ("user:pw@") is always replaced by
 * "***@"; a bare user name is kept for ssh (ssh://git@host/r, git@host:r:
 * "git" is an account, not a secret) and replaced for every other scheme,
 * where it is typically a token (https://TOKEN@host/r).
 */
char *source_redact_url(const char *url)
{
	struct buf b = BUF_INIT;
	size_t start, len;
	bool ssh;

	if (!url)
		return NULL;
	if (!url_userinfo(url, &start, &len, &ssh) ||
	    (ssh && !memchr(url + start, ':', len)))
		return xstrdup(url);
	buf_add(&b, url, start);
	buf_puts(&b, "***");
	buf_puts(&b, url + start + len);
	return buf_detach(&b);
}

/* Port of an ssh:// URL for known_hosts ("[host]:port" entries); 22 else. */
static int url_ssh_port(const char *url)
{
	const char *sep = strstr(url, "://"), *host, *end, *p, *colon = NULL;
	long long port;
	char *digits;
	int r;

	if (!sep)
		return 22;
	host = sep + 3;
	end = host + strcspn(host, "/?#");
	for (p = host; p < end; p++)
		if (*p == '@')
			host = p + 1;
	if (*host == '[') {
		p = memchr(host, ']', (size_t)(end - host));
		if (p && p + 1 < end && p[1] == ':')
			colon = p + 1;
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
	}
	if (!colon)
		return 22;
	digits = xstrndup(colon + 1, (size_t)(end - colon - 1));
	r = parse_ll(digits, 1, 65535, &port);
	free(digits);
	return r < 0 ? 22 : (int)port;
}

/* ---- secrets and messages ---- */

static void add_secret(struct fetch_ctx *c, const char *s, size_t len)
{
	/* Shorter strings would mangle ordinary words of a message; the
	 * URL itself is replaced as a whole before this list is applied. */
	if (len >= 3)
		strvec_push_nodup(&c->secrets, xstrndup(s, len));
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void buf_replace_all(struct buf *b, const char *from, const char *to)
{
	struct buf out = BUF_INIT;
	size_t flen = strlen(from);
	const char *p, *hit;

	if (!flen || !b->len || !strstr(b->ptr, from))
		return;
	for (p = b->ptr; (hit = strstr(p, from)); p = hit + flen) {
		buf_add(&out, p, (size_t)(hit - p));
		buf_puts(&out, to);
	}
	buf_puts(&out, p);
	buf_release(b);
	*b = out;
}

static void scrub(const struct fetch_ctx *c, struct buf *b)
{
	size_t i;

	if (strcmp(c->opts->url, c->url_shown))
		buf_replace_all(b, c->opts->url, c->url_shown);
	for (i = 0; i < c->secrets.n; i++)
		buf_replace_all(b, c->secrets.v[i], "***");
}

/* error_set(msg) with secrets scrubbed; returns code. */
static int fail_msg(const struct fetch_ctx *c, int code, const char *msg)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, msg);
	while (b.len && strchr(" \t\r\n.", b.ptr[b.len - 1]))
		b.ptr[--b.len] = '\0';
	scrub(c, &b);
	error_set("%s", buf_cstr(&b));
	buf_release(&b);
	return code;
}

static int fail(const struct fetch_ctx *c, int code, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
static int fail(const struct fetch_ctx *c, int code, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	fail_msg(c, code, buf_cstr(&b));
	buf_release(&b);
	return code;
}

/* "what: why", why being a callback's refusal or libgit2's last error. */
static int fail_git(const struct fetch_ctx *c, int code, const char *what)
{
	const git_error *e = git_error_last();
	const char *why = c->refusal ? c->refusal :
			  e && e->message ? e->message : "unknown libgit2 error";

	return fail(c, code, "%s: %s", what, why);
}

/* Record why a callback refused and return a libgit2 error code. */
static int refuse(struct fetch_ctx *c, const char *fmt, ...) PRINTF_LIKE(2, 3);
static int refuse(struct fetch_ctx *c, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(c->refusal);
	c->refusal = buf_detach(&b);
	return GIT_EUSER;
}

static void ctx_init(struct fetch_ctx *c, const struct source_options *opts)
{
	size_t start, len, i;
	bool ssh;

	memset(c, 0, sizeof(*c));
	c->opts = opts;
	c->url_shown = source_redact_url(opts->url);
	c->ssh_port = url_ssh_port(opts->url);
	c->url_creds = url_userinfo(opts->url, &start, &len, &ssh) && !ssh;
	if (url_userinfo(opts->url, &start, &len, &ssh) &&
	    strcmp(opts->url, c->url_shown)) {
		add_secret(c, opts->url + start, len);
		for (i = 0; i < len; i++)
			if (opts->url[start + i] == ':') {
				add_secret(c, opts->url + start + i + 1, len - i - 1);
				break;
			}
	}
}

static void ctx_release(struct fetch_ctx *c)
{
	size_t i;

	for (i = 0; i < c->secrets.n; i++)
		explicit_bzero(c->secrets.v[i], strlen(c->secrets.v[i]));
	strvec_release(&c->secrets);
	wipe_free(c->token);
	wipe_free(c->passphrase);
	free(c->url_shown);
	free(c->offered_user);
	free(c->refusal);
	free(c->default_branch);
	memset(c, 0, sizeof(*c));
}

/* ---- credentials ---- */

/* Read a small secret file, trailing newlines stripped.  *out NULL on error
 * (c->refusal says why). */
static int read_secret_file(struct fetch_ctx *c, const char *path,
			    const char *what, char **out)
{
	struct buf b = BUF_INIT;
	int rc = -1;

	*out = NULL;
	if (read_regular_file(path, MAX_SECRET_FILE, &b) < 0) {
		if (errno == EINVAL)
			refuse(c, "%s '%s' is not a regular file", what, path);
		else if (errno == EFBIG)
			refuse(c, "%s '%s' is larger than %d bytes", what, path,
			       MAX_SECRET_FILE);
		else
			refuse(c, "cannot read %s '%s': %s", what, path, strerror(errno));
		goto out;
	}
	while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == '\r'))
		b.ptr[--b.len] = '\0';
	if (!b.len || memchr(b.ptr, '\0', b.len)) {
		refuse(c, "%s '%s' is empty or holds a NUL byte", what, path);
		goto out;
	}
	*out = buf_detach(&b);
	rc = 0;
out:
	buf_wipe(&b);
	buf_release(&b);
	return rc < 0 ? GIT_EUSER : 0;
}

static int load_token(struct fetch_ctx *c)
{
	const struct source_options *o = c->opts;
	const char *v;

	if (c->token)
		return 0;
	if (o->token_file) {
		if (read_secret_file(c, o->token_file, "token file", &c->token) < 0)
			return GIT_EUSER;
	} else if (o->token_env) {
		v = getenv(o->token_env);
		if (!v || !*v)
			return refuse(c, "environment variable '%s' (token-env) is "
				      "not set or empty", o->token_env);
		c->token = xstrdup(v);
	} else {
		return 0;
	}
	add_secret(c, c->token, strlen(c->token));
	return 0;
}

static int load_passphrase(struct fetch_ctx *c)
{
	const char *f = c->opts->ssh_passphrase_file;

	if (c->passphrase || !f)
		return 0;
	if (read_secret_file(c, f, "ssh passphrase file", &c->passphrase) < 0)
		return GIT_EUSER;
	add_secret(c, c->passphrase, strlen(c->passphrase));
	return 0;
}

/* Remember what is offered to whom, so that a refusal can say so. */
static void note_offer(struct fetch_ctx *c, enum cred_offer what, const char *user)
{
	c->offered = what;
	free(c->offered_user);
	c->offered_user = xstrdup(user);
}

/* The server asked again after an offer: it refused that credential. */
static int refused_offer(struct fetch_ctx *c)
{
	const struct source_options *o = c->opts;
	const char *u = c->offered_user;

	switch (c->offered) {
	case OFFER_SSH_KEY:
		return refuse(c, "authentication as '%s' failed: the server refused "
			      "the ssh key '%s'", u, o->ssh_key);
	case OFFER_AGENT:
		return refuse(c, "authentication as '%s' failed: the server refused "
			      "every key ssh-agent offered (give one with --ssh-key)", u);
	case OFFER_TOKEN:
		if (o->token_file)
			return refuse(c, "authentication as '%s' failed: the server "
				      "refused the token in '%s'", u, o->token_file);
		return refuse(c, "authentication as '%s' failed: the server refused "
			      "the token in environment variable '%s'", u,
			      o->token_env);
	case OFFER_NONE:
		break;
	}
	return refuse(c, "authentication failed");
}

/*
 * libgit2 calls this again after every rejected credential and would do so
 * forever.  Each credential is offered once per connection: the same key
 * or token would only be refused again, and servers count the failures
 * (sshd drops the connection after MaxAuthTries, leaving libgit2 with a
 * message that no longer says why; forges lock accounts).  So a request
 * after an offer is the server's "no", and is reported as that.  The
 * attempt cap only bounds "username first, then a key".
 *
 * Credentials come only from the options, never from the URL: libgit2
 * itself presents an http user:password@ URL first, before asking here,
 * so for such a URL the first request means those were refused.
 */
static int cred_cb(git_credential **out, const char *url, const char *url_user,
		   unsigned int allowed, void *payload)
{
	struct fetch_ctx *c = payload;
	const struct source_options *o = c->opts;
	const char *user;
	int fd;

	(void)url;
	if (c->offered != OFFER_NONE)
		return refused_offer(c);
	if (++c->cred_attempts > MAX_CRED_ATTEMPTS)
		return refuse(c, "authentication failed: no usable credentials");
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, o->username ? o->username : "git");
	if (allowed & GIT_CREDENTIAL_SSH_KEY) {
		user = url_user ? url_user : o->username ? o->username : "git";
		if (!o->ssh_key) {
			note_offer(c, OFFER_AGENT, user);
			return git_credential_ssh_key_from_agent(out, user);
		}
		/* libssh2 would say only "Unable to open private key file" */
		if ((fd = open(o->ssh_key, O_RDONLY | O_CLOEXEC)) < 0)
			return refuse(c, "cannot read ssh key '%s': %s", o->ssh_key,
				      strerror(errno));
		close(fd);
		if (load_passphrase(c) < 0)
			return GIT_EUSER;
		note_offer(c, OFFER_SSH_KEY, user);
		return git_credential_ssh_key_new(out, user, NULL, o->ssh_key,
						  c->passphrase);
	}
	if (allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) {
		if (load_token(c) < 0)
			return GIT_EUSER;
		if (!c->token && c->url_creds)
			return refuse(c, "authentication failed: the server refused the "
				      "credentials in the URL (or give a token with "
				      "--token-file or --token-env)");
		if (!c->token)
			return refuse(c, "the server asks for credentials: give a token "
				      "or password with --token-file or --token-env");
		user = o->username ? o->username : url_user ? url_user : "git";
		note_offer(c, OFFER_TOKEN, user);
		return git_credential_userpass_plaintext_new(out, user, c->token);
	}
	return refuse(c, "the server asks for an authentication method cara does "
		      "not support");
}

/* ---- host keys ---- */

/*
 * SHA-1 and HMAC-SHA-1, only for hashed known_hosts names
 * ("|1|salt|HMAC-SHA1(salt, host)"); nothing here relies on SHA-1 for
 * security beyond matching what OpenSSH wrote.
 */
struct sha1 {
	uint32_t h[5];
	uint64_t len;
	unsigned char block[64];
	size_t fill;
};

#define ROL(x, n) ((uint32_t)((x) << (n) | (x) >> (32 - (n))))

static void sha1_block(uint32_t h[5], const unsigned char *p)
{
	uint32_t w[80], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = ROL(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	for (i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = ROL(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = ROL(b, 30);
		b = a;
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

static void sha1_init(struct sha1 *s)
{
	static const uint32_t iv[5] = {
		0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0
	};

	memset(s, 0, sizeof(*s));
	memcpy(s->h, iv, sizeof(iv));
}

static void sha1_update(struct sha1 *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t take;

	s->len += n;
	while (n) {
		take = 64 - s->fill < n ? 64 - s->fill : n;
		memcpy(s->block + s->fill, p, take);
		s->fill += take;
		p += take;
		n -= take;
		if (s->fill == 64) {
			sha1_block(s->h, s->block);
			s->fill = 0;
		}
	}
}

static void sha1_final(struct sha1 *s, unsigned char out[20])
{
	uint64_t bits = s->len * 8;
	unsigned char pad = 0x80, len[8];
	int i;

	sha1_update(s, &pad, 1);
	pad = 0;
	while (s->fill != 56)
		sha1_update(s, &pad, 1);
	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(s, len, 8);
	for (i = 0; i < 20; i++)
		out[i] = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

static void hmac_sha1(const unsigned char *key, size_t klen, const char *msg,
		      unsigned char out[20])
{
	unsigned char k[64] = { 0 }, pad[64], inner[20];
	struct sha1 s;
	int i;

	if (klen > 64) {
		sha1_init(&s);
		sha1_update(&s, key, klen);
		sha1_final(&s, k);
	} else {
		memcpy(k, key, klen);
	}
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	sha1_init(&s);
	sha1_update(&s, pad, 64);
	sha1_update(&s, msg, strlen(msg));
	sha1_final(&s, inner);
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	sha1_init(&s);
	sha1_update(&s, pad, 64);
	sha1_update(&s, inner, 20);
	sha1_final(&s, out);
}

/* "|1|base64(salt)|base64(hmac)" against name. */
static bool hashed_host_matches(const char *pat, size_t n, const char *name)
{
	struct buf salt = BUF_INIT, want = BUF_INIT;
	const char *bar;
	unsigned char got[20];
	bool ok = false;

	pat += 3;
	n -= 3;
	bar = memchr(pat, '|', n);
	if (!bar)
		return false;
	if (base64_decode(&salt, pat, (size_t)(bar - pat), 0) < 0 ||
	    base64_decode(&want, bar + 1, n - (size_t)(bar - pat) - 1, 0) < 0 ||
	    want.len != sizeof(got))
		goto out;
	hmac_sha1((const unsigned char *)buf_cstr(&salt), salt.len, name, got);
	ok = !memcmp(got, want.ptr, sizeof(got));
out:
	buf_release(&salt);
	buf_release(&want);
	return ok;
}

/* OpenSSH's host patterns: '*' and '?' only ('[' is literal, as in
 * "[host]:port"), without regard to case. */
static bool glob_matches(const char *pat, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++, name++) {
		if (pat[i] == '*') {
			do {
				if (glob_matches(pat + i + 1, n - i - 1, name))
					return true;
			} while (*name++);
			return false;
		}
		if (!*name || (pat[i] != '?' &&
			       tolower((unsigned char)pat[i]) !=
			       tolower((unsigned char)*name)))
			return false;
	}
	return !*name;
}

/* A known_hosts host list ("a,b,!c,*.d,[e]:2222,|1|..") against name. */
static bool host_list_matches(const char *list, size_t n, const char *name)
{
	const char *p = list, *end = list + n, *comma;
	bool neg, hit, matched = false;
	size_t len;

	while (p < end) {
		comma = memchr(p, ',', (size_t)(end - p));
		len = comma ? (size_t)(comma - p) : (size_t)(end - p);
		neg = len && *p == '!';
		if (neg) {
			p++;
			len--;
		}
		if (len > 3 && !strncmp(p, "|1|", 3))
			hit = hashed_host_matches(p, len, name);
		else
			hit = glob_matches(p, len, name);
		if (hit && neg)
			return false;
		matched |= hit;
		p += len + 1;
	}
	return matched;
}

enum kh_result { KH_NONE, KH_MATCH, KH_MISMATCH, KH_REVOKED };

/* Next whitespace-separated field of *line, advanced past it. */
static bool next_field(const char **line, const char **f, size_t *n)
{
	const char *p = *line + strspn(*line, " \t");

	*f = p;
	*n = strcspn(p, " \t\r\n");
	*line = p + *n;
	return *n > 0;
}

static enum kh_result known_hosts_line(const char *line, const char *name,
				       const unsigned char *key, size_t keylen)
{
	const char *hosts, *type, *blob, *marker = NULL;
	size_t nhosts, ntype, nblob;
	struct buf raw = BUF_INIT;
	enum kh_result r = KH_NONE;
	bool same;

	if (!next_field(&line, &hosts, &nhosts) || *hosts == '#')
		return KH_NONE;
	if (*hosts == '@') {
		marker = hosts;
		if (!next_field(&line, &hosts, &nhosts))
			return KH_NONE;
	}
	if (!next_field(&line, &type, &ntype) || !next_field(&line, &blob, &nblob))
		return KH_NONE;
	if (marker && strncmp(marker, "@revoked", 8))
		return KH_NONE;    /* @cert-authority: certificates are not used */
	if (!host_list_matches(hosts, nhosts, name))
		return KH_NONE;
	if (base64_decode(&raw, blob, nblob, 0) < 0)
		goto out;
	same = raw.len == keylen && !memcmp(raw.ptr, key, keylen);
	if (marker)
		r = same ? KH_REVOKED : KH_NONE;
	else
		r = same ? KH_MATCH : KH_MISMATCH;
out:
	buf_release(&raw);
	return r;
}

static enum kh_result known_hosts_check(FILE *f, const char *name,
					const unsigned char *key, size_t keylen)
{
	enum kh_result r, best = KH_NONE;
	char *line = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, f) > 0) {
		r = known_hosts_line(line, name, key, keylen);
		if (r == KH_REVOKED) {
			best = r;
			break;
		}
		/* any matching line accepts, as in OpenSSH: a host may have
		 * keys of several types, one per line */
		if (r == KH_MATCH || (r == KH_MISMATCH && best == KH_NONE))
			best = r;
	}
	free(line);
	return best;
}

static char *default_known_hosts(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (!home || !*home) {
		pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	return home ? xasprintf("%s/.ssh/known_hosts", home) : NULL;
}

static int hostkey_fingerprint(const git_cert_hostkey *hk, struct buf *fp)
{
	unsigned char h[32];
	struct sha256 s;

	if (hk->type & GIT_CERT_SSH_SHA256) {
		memcpy(h, hk->hash_sha256, sizeof(h));
	} else if (hk->type & GIT_CERT_SSH_RAW) {
		sha256_init(&s);
		sha256_update(&s, hk->hostkey, hk->hostkey_len);
		sha256_final(&s, h);
	} else {
		return -1;
	}
	base64_encode(fp, h, sizeof(h), BASE64_NOPAD);
	return 0;
}

static bool pin_matches(const char *pin, const char *fp)
{
	size_t n;

	if (!strncasecmp(pin, "SHA256:", 7))
		pin += 7;
	n = strlen(pin);
	while (n && pin[n - 1] == '=')
		n--;
	return n == strlen(fp) && !strncmp(pin, fp, n);
}

static int check_known_hosts(struct fetch_ctx *c, const git_cert_hostkey *hk,
			     const char *host, const char *fp)
{
	char *file = c->opts->known_hosts ? xstrdup(c->opts->known_hosts) :
		     default_known_hosts();
	char *name, *lower = xstrdup(host);
	enum kh_result r = KH_NONE;
	FILE *f = NULL;
	size_t i;
	int rc = 0;

	for (i = 0; lower[i]; i++)
		lower[i] = (char)tolower((unsigned char)lower[i]);
	name = c->ssh_port == 22 ? xstrdup(lower) :
	       xasprintf("[%s]:%d", lower, c->ssh_port);
	if (file && (hk->type & GIT_CERT_SSH_RAW) && (f = fopen(file, "re"))) {
		r = known_hosts_check(f, name, (const unsigned char *)hk->hostkey,
				      hk->hostkey_len);
		fclose(f);
	}
	if (r == KH_MATCH)
		goto out;
	if (r == KH_REVOKED)
		rc = refuse(c, "the host key of '%s' (SHA256:%s) is marked @revoked "
			    "in %s", host, fp, file);
	else if (r == KH_MISMATCH)
		rc = refuse(c, "the host key of '%s' (SHA256:%s) does not match the "
			    "one in %s: refusing to connect (if the key really "
			    "changed, update that file or pin the new key with "
			    "--host-key-sha256)", host, fp, file);
	else
		rc = refuse(c, "cannot verify the host key of '%s' (SHA256:%s): it "
			    "is not in %s; add it (ssh-keyscan%s%s %s >> %s) or pin "
			    "it with --host-key-sha256 SHA256:%s", host, fp,
			    file ? file : "known_hosts",
			    c->ssh_port == 22 ? "" : " -p ",
			    c->ssh_port == 22 ? "" : strchr(name, ':') + 1,
			    host, file ? file : "~/.ssh/known_hosts", fp);
out:
	free(name);
	free(lower);
	free(file);
	return rc;
}

/*
 * ssh host keys: a pinned fingerprint wins, then the explicit opt-out,
 * then known_hosts (--known-hosts, else ~/.ssh/known_hosts), read here as
 * OpenSSH reads it.  libgit2 1.5 checks ~/.ssh/known_hosts too and passes
 * the result as `valid`, but through libssh2, which accepts a key that
 * the file marks @revoked and lets a plain "host" entry vouch for every
 * port, where OpenSSH wants "[host]:port".  So `valid` counts only when
 * libgit2 gives no raw key to check.  TLS certificates are left to libgit2.
 */
static int cert_cb(git_cert *cert, int valid, const char *host, void *payload)
{
	struct fetch_ctx *c = payload;
	const struct source_options *o = c->opts;
	const git_cert_hostkey *hk = (const git_cert_hostkey *)cert;
	struct buf fp = BUF_INIT;
	int rc = 0;

	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2)
		return GIT_PASSTHROUGH;
	if (hostkey_fingerprint(hk, &fp) < 0) {
		rc = refuse(c, "'%s' sent no usable host key", host);
	} else if (o->host_key_sha256) {
		if (!pin_matches(o->host_key_sha256, buf_cstr(&fp)))
			rc = refuse(c, "the host key of '%s' is SHA256:%s, not the "
				    "pinned %s", host, buf_cstr(&fp),
				    o->host_key_sha256);
	} else if (!o->insecure_ignore_host_key &&
		   !(valid && !o->known_hosts && !(hk->type & GIT_CERT_SSH_RAW))) {
		rc = check_known_hosts(c, hk, host, buf_cstr(&fp));
	}
	buf_release(&fp);
	return rc;
}

/* ---- the cache directory ---- */

static bool has_marker(const char *dir)
{
	char *p = xasprintf("%s/%s", dir, CACHE_MARKER);
	struct stat st;
	bool ok = lstat(p, &st) == 0 && S_ISREG(st.st_mode);

	free(p);
	return ok;
}

/* 1 empty, 0 not, -1 error */
static int dir_is_empty(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int empty = 1;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

/* Remove name under dirfd; never follows a symlink, never leaves dev. */
static int remove_at(int dirfd, const char *name, dev_t dev, int depth)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd, rc = 0;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0);
	if (st.st_dev != dev || depth > 256) {
		errno = EXDEV;
		return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc = remove_at(fd, de->d_name, dev, depth + 1);
	closedir(d);
	if (rc == 0)
		rc = unlinkat(dirfd, name, AT_REMOVEDIR);
	return rc;
}

/*
 * Remove a cache (or a half-made one).  Refuses a directory that is
 * neither empty nor marked as ours: cache_dir may be misconfigured to
 * point at something precious.  A symlink is removed, not followed.
 */
static int remove_cache(const struct fetch_ctx *c, const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) < 0)
		return errno == ENOENT ? 0 :
		       fail(c, SRC_EFATAL, "cache '%s': %s", dir, strerror(errno));
	if (S_ISLNK(st.st_mode)) {
		if (unlink(dir) < 0)
			return fail(c, SRC_EFATAL, "cannot remove '%s': %s", dir,
				    strerror(errno));
		return 0;
	}
	if (!S_ISDIR(st.st_mode) || (!has_marker(dir) && dir_is_empty(dir) != 1))
		return fail(c, SRC_EFATAL, "cache '%s' was not made by cara; "
			    "refusing to remove it", dir);
	if (remove_at(AT_FDCWD, dir, st.st_dev, 0) < 0)
		return fail(c, SRC_EFATAL, "cannot remove the cache '%s': %s", dir,
			    strerror(errno));
	return 0;
}

int source_remove_scratch(const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) < 0)
		return errno == ENOENT ? 0 : error_set("'%s': %s", dir, strerror(errno));
	if (remove_at(AT_FDCWD, dir, st.st_dev, 0) < 0)
		return error_set("cannot remove '%s': %s", dir, strerror(errno));
	return 0;
}

static int mkdir_parents(const struct fetch_ctx *c, const char *path)
{
	char *p = xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			rc = fail(c, SRC_EFATAL, "cannot create '%s': %s", p,
				  strerror(errno));
			break;
		}
		*s = '/';
	}
	free(p);
	return rc;
}

static int write_marker(const struct fetch_ctx *c, const char *dir)
{
	static const char text[] = "This is a cache of cara's manifest repository.\n"
				   "cara removes and re-creates it when needed.\n";
	char *p = xasprintf("%s/%s", dir, CACHE_MARKER);
	int fd, rc = 0;

	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1))
		rc = fail(c, SRC_EFATAL, "cannot write '%s': %s", p, strerror(errno));
	if (fd >= 0 && close(fd) < 0 && rc == 0)
		rc = fail(c, SRC_EFATAL, "cannot write '%s': %s", p, strerror(errno));
	free(p);
	return rc;
}

/* The configured URL, read raw so that url.*.insteadOf cannot change it. */
static bool origin_matches(const struct fetch_ctx *c, git_repository *repo)
{
	git_config *cfg = NULL;
	const char *url;
	bool ok = false;

	if (git_repository_config_snapshot(&cfg, repo) < 0)
		return false;
	if (git_config_get_string(&url, cfg, "remote.origin.url") == 0)
		ok = !strcmp(url, c->url_shown);
	git_config_free(cfg);
	return ok;
}

/* Every direct ref names an object the odb has: catches deleted objects. */
static bool refs_resolve(git_repository *repo)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	git_odb *odb = NULL;
	bool ok = false;
	int err;

	if (git_repository_odb(&odb, repo) < 0 ||
	    git_reference_iterator_new(&it, repo) < 0)
		goto out;
	while ((err = git_reference_next(&ref, it)) == 0) {
		ok = git_reference_type(ref) != GIT_REFERENCE_DIRECT ||
		     git_odb_exists(odb, git_reference_target(ref));
		git_reference_free(ref);
		if (!ok)
			goto out;
	}
	ok = err == GIT_ITEROVER;
out:
	git_reference_iterator_free(it);
	git_odb_free(odb);
	return ok;
}

static int open_cache(const struct fetch_ctx *c, const char *dir,
		      git_repository **out)
{
	git_repository *repo = NULL;
	git_reference *head = NULL;
	struct stat st;
	int r;

	*out = NULL;
	if (stat(dir, &st) < 0) {
		if (errno == ENOENT)
			return CACHE_MISSING;
		return fail(c, SRC_EFATAL, "cache '%s': %s", dir, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return fail(c, SRC_EFATAL, "cache '%s' is not a directory", dir);
	if ((r = dir_is_empty(dir)) != 0)
		return r == 1 ? CACHE_MISSING :
		       fail(c, SRC_EFATAL, "cache '%s': %s", dir, strerror(errno));
	if (!has_marker(dir))
		return fail(c, SRC_EFATAL, "cache '%s' is not empty and was not made "
			    "by cara; refusing to use or remove it", dir);
	if (git_repository_open_ext(&repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH |
				    GIT_REPOSITORY_OPEN_BARE, NULL) < 0)
		return CACHE_BAD;
	if (!git_repository_is_bare(repo) || !origin_matches(c, repo) ||
	    git_reference_lookup(&head, repo, "HEAD") < 0 || !refs_resolve(repo)) {
		git_reference_free(head);
		git_repository_free(repo);
		return CACHE_BAD;
	}
	git_reference_free(head);
	*out = repo;
	return CACHE_OK;
}

/* ---- fetch ---- */

static void set_origin_head(const struct fetch_ctx *c, git_repository *repo)
{
	static const char heads[] = "refs/heads/";
	git_reference *ref = NULL;
	char *target;

	if (!c->default_branch || strncmp(c->default_branch, heads, sizeof(heads) - 1))
		return;
	target = xasprintf("refs/remotes/origin/%s",
			   c->default_branch + sizeof(heads) - 1);
	/* Best effort: without it only an offline pass with no --ref fails. */
	if (git_reference_symbolic_create(&ref, repo, "refs/remotes/origin/HEAD",
					  target, 1, "cara: remote HEAD") == 0)
		git_reference_free(ref);
	free(target);
}

/*
 * Connect, download, update and prune the refs.  SRC_EREMOTE when the
 * connection could not be made, SRC_EFATAL when credentials or the host
 * key were refused, SRC_EREPO for any later failure.
 */
static int remote_fetch(struct fetch_ctx *c, git_repository *repo)
{
	git_remote *remote = NULL;
	git_remote_create_options ro;
	git_remote_callbacks cbs;
	git_fetch_options fo;
	git_proxy_options po;
	git_strarray specs = { (char **)fetch_refspecs, ARRAY_SIZE(fetch_refspecs) };
	git_buf head = GIT_BUF_INIT;
	const git_indexer_progress *st;
	char *what = xasprintf("fetch %s", c->url_shown);
	int err, rc = SRC_EREPO;

	git_remote_init_callbacks(&cbs, GIT_REMOTE_CALLBACKS_VERSION);
	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	git_proxy_options_init(&po, GIT_PROXY_OPTIONS_VERSION);
	cbs.credentials = cred_cb;
	cbs.certificate_check = cert_cb;
	cbs.payload = c;
	po.type = GIT_PROXY_AUTO;
	c->cred_attempts = 0;
	c->offered = OFFER_NONE;
	free(c->refusal);
	c->refusal = NULL;
	git_remote_create_options_init(&ro, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	ro.repository = repo;
	ro.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
		   GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if (git_remote_create_with_opts(&remote, c->opts->url, &ro) < 0) {
		rc = fail_git(c, SRC_EFATAL, what);
		goto out;
	}
	err = git_remote_connect(remote, GIT_DIRECTION_FETCH, &cbs, &po, NULL);
	if (err < 0) {
		rc = c->refusal || err == GIT_EAUTH || err == GIT_ECERTIFICATE ?
		     SRC_EFATAL : SRC_EREMOTE;
		fail_git(c, rc, what);
		goto out;
	}
	err = git_remote_default_branch(&head, remote);
	free(c->default_branch);
	c->default_branch = NULL;
	if (err == 0)
		c->default_branch = xstrdup(head.ptr);
	else if (err != GIT_ENOTFOUND)
		goto fail;
	fo.callbacks = cbs;
	fo.prune = GIT_FETCH_PRUNE;
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	fo.proxy_opts = po;
	if (git_remote_download(remote, &specs, &fo) < 0)
		goto fail;
	st = git_remote_stats(remote);
	c->received = st->received_objects;
	if (git_remote_update_tips(remote, &cbs, 0, GIT_REMOTE_DOWNLOAD_TAGS_NONE,
				   "cara: fetch") < 0 ||
	    git_remote_prune(remote, &cbs) < 0)
		goto fail;
	set_origin_head(c, repo);
	free(c->refusal);
	c->refusal = NULL;
	rc = 0;
	goto out;
fail:
	rc = c->refusal ? SRC_EFATAL : SRC_EREPO;
	fail_git(c, rc, what);
out:
	if (remote) {
		git_remote_disconnect(remote);
		git_remote_free(remote);
	}
	git_buf_dispose(&head);
	free(what);
	return rc;
}

/* A new bare cache in tmp, fetched; removed again on failure. */
static int clone_cache(struct fetch_ctx *c, const char *tmp)
{
	git_repository_init_options io;
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	int rc;

	if ((rc = remove_cache(c, tmp)) < 0 || (rc = mkdir_parents(c, tmp)) < 0)
		return rc;
	if (mkdir(tmp, 0700) < 0)
		return fail(c, SRC_EFATAL, "cannot create '%s': %s", tmp,
			    strerror(errno));
	if ((rc = write_marker(c, tmp)) < 0)
		goto out;
	git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	io.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_NO_REINIT;
	rc = SRC_EFATAL;
	if (git_repository_init_ext(&repo, tmp, &io) < 0 ||
	    git_repository_config(&cfg, repo) < 0 ||
	    git_config_set_string(cfg, "remote.origin.url", c->url_shown) < 0 ||
	    git_config_set_string(cfg, "remote.origin.fetch", fetch_refspecs[0]) < 0) {
		fail_git(c, rc, "cannot create the cache");
		goto out;
	}
	rc = remote_fetch(c, repo);
out:
	git_config_free(cfg);
	git_repository_free(repo);
	if (rc < 0) {
		char *keep = xstrdup(error_last());

		remove_cache(c, tmp);
		error_set("%s", keep);
		free(keep);
	}
	return rc;
}

static int swap_cache(struct fetch_ctx *c, const char *tmp, const char *dir)
{
	int rc;

	if ((rc = remove_cache(c, dir)) < 0)
		return rc;
	if (rename(tmp, dir) < 0)
		return fail(c, SRC_EFATAL, "cannot rename '%s' to '%s': %s", tmp, dir,
			    strerror(errno));
	return 0;
}

/* ---- reading the commit ---- */

static bool is_hex(const char *s, size_t min, size_t max)
{
	size_t n = strspn(s, "0123456789abcdefABCDEF");

	return !s[n] && n >= min && n <= max;
}

/* 0 found, 1 not there, or an SRC_ error */
static int lookup_commit_ref(struct fetch_ctx *c, git_repository *repo,
			     const char *name, git_oid *out)
{
	git_reference *ref = NULL;
	git_object *obj = NULL;
	int err, rc;

	err = git_reference_lookup(&ref, repo, name);
	if (err == GIT_ENOTFOUND || err == GIT_EINVALIDSPEC)
		return 1;
	if (err < 0)
		return fail_git(c, SRC_EREPO, name);
	err = git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT);
	if (err == 0) {
		git_oid_cpy(out, git_object_id(obj));
		rc = 0;
	} else if (err == GIT_EPEEL || err == GIT_EINVALIDSPEC ||
		   err == GIT_EAMBIGUOUS) {
		rc = fail(c, SRC_EUSER, "ref '%s' does not point to a commit",
			  c->opts->ref);
	} else {
		rc = fail_git(c, SRC_EREPO, name);
	}
	git_object_free(obj);
	git_reference_free(ref);
	return rc;
}

static int resolve_default(struct fetch_ctx *c, git_repository *repo, git_oid *out)
{
	static const char *const names[] = {
		"refs/remotes/origin/HEAD", "refs/remotes/origin/main",
		"refs/remotes/origin/master",
	};
	size_t i;
	int r;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if ((r = lookup_commit_ref(c, repo, names[i], out)) <= 0)
			return r;
	return fail(c, SRC_EUSER, "%s has no default branch (is it empty?); "
		    "give one with --ref", c->url_shown);
}

static int resolve_commit_id(struct fetch_ctx *c, git_repository *repo,
			     git_oid *out)
{
	git_object *obj = NULL, *peeled = NULL;
	git_oid id;
	int err, rc;

	if (git_oid_fromstr(&id, c->opts->ref) < 0)
		return fail(c, SRC_EUSER, "invalid commit id '%s'", c->opts->ref);
	err = git_object_lookup(&obj, repo, &id, GIT_OBJECT_ANY);
	if (err == GIT_ENOTFOUND)
		return fail(c, SRC_EUSER, "ref '%s' not found in %s", c->opts->ref,
			    c->url_shown);
	if (err < 0)
		return fail_git(c, SRC_EREPO, c->opts->ref);
	if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0) {
		rc = fail(c, SRC_EUSER, "ref '%s' is not a commit", c->opts->ref);
	} else {
		git_oid_cpy(out, git_object_id(peeled));
		rc = 0;
	}
	git_object_free(peeled);
	git_object_free(obj);
	return rc;
}

/*
 * Resolution: NULL -> the remote's default branch; 40 hex digits -> that
 * commit, which the fetch must have brought; refs/heads/X -> the
 * remote-tracking branch; refs/tags/X -> the tag; a short name -> the
 * branch or the tag of that name, an error when both exist and differ.
 * Abbreviated commit ids are refused: they can become ambiguous later.
 */
static int resolve_ref(struct fetch_ctx *c, git_repository *repo, git_oid *out)
{
	const char *ref = c->opts->ref;
	git_oid branch_id, tag_id;
	char *branch, *tag;
	int rb, rt, rc;

	if (!ref || !*ref)
		return resolve_default(c, repo, out);
	if (is_hex(ref, GIT_OID_HEXSZ, GIT_OID_HEXSZ))
		return resolve_commit_id(c, repo, out);
	if (!strncmp(ref, "refs/heads/", 11)) {
		branch = xasprintf("refs/remotes/origin/%s", ref + 11);
		tag = NULL;
	} else if (!strncmp(ref, "refs/tags/", 10)) {
		branch = NULL;
		tag = xstrdup(ref);
	} else {
		branch = xasprintf("refs/remotes/origin/%s", ref);
		tag = xasprintf("refs/tags/%s", ref);
	}
	rb = branch ? lookup_commit_ref(c, repo, branch, &branch_id) : 1;
	rt = rb >= 0 && tag ? lookup_commit_ref(c, repo, tag, &tag_id) : 1;
	if (rb < 0 || rt < 0)
		rc = rb < 0 ? rb : rt;
	else if (rb == 0 && rt == 0 && !git_oid_equal(&branch_id, &tag_id))
		rc = fail(c, SRC_EUSER, "ref '%s' is ambiguous: there is a branch and "
			  "a tag of that name; use refs/heads/%s or refs/tags/%s",
			  ref, ref, ref);
	else if (rb == 0 || rt == 0)
		rc = (git_oid_cpy(out, rb == 0 ? &branch_id : &tag_id), 0);
	else if (is_hex(ref, 4, GIT_OID_HEXSZ - 1))
		rc = fail(c, SRC_EUSER, "ref '%s' not found in %s (abbreviated "
			  "commit ids are not accepted: give all 40 hex digits)",
			  ref, c->url_shown);
	else
		rc = fail(c, SRC_EUSER, "ref '%s' not found in %s", ref, c->url_shown);
	free(branch);
	free(tag);
	return rc;
}

/* opts->path without "./", leading, trailing or doubled slashes; NULL for
 * the root.  Sets *bad for a ".." component. */
static char *normalize_path(const char *path, bool *bad)
{
	struct buf b = BUF_INIT;
	const char *p = path ? path : "";
	size_t n;

	*bad = false;
	while (*p) {
		p += strspn(p, "/");
		n = strcspn(p, "/");
		if (n == 2 && !strncmp(p, "..", 2))
			*bad = true;
		if (n && !(n == 1 && *p == '.')) {
			if (b.len)
				buf_putc(&b, '/');
			buf_add(&b, p, n);
		}
		p += n;
	}
	return b.len ? buf_detach(&b) : (buf_release(&b), NULL);
}

static int open_subtree(struct fetch_ctx *c, git_repository *repo,
			git_commit *commit, const char *hex, git_tree **out)
{
	git_tree *root = NULL;
	git_tree_entry *te = NULL;
	char *path;
	bool bad;
	int err, rc;

	*out = NULL;
	path = normalize_path(c->opts->path, &bad);
	if (bad) {
		rc = fail(c, SRC_EUSER, "path '%s' leaves the repository", c->opts->path);
		goto out;
	}
	if (git_commit_tree(&root, commit) < 0) {
		rc = fail_git(c, SRC_EREPO, "read the tree of the commit");
		goto out;
	}
	if (!path) {
		*out = root;
		root = NULL;
		rc = 0;
		goto out;
	}
	err = git_tree_entry_bypath(&te, root, path);
	if (err == GIT_ENOTFOUND)
		rc = fail(c, SRC_EUSER, "path '%s' not found at commit %.12s in %s",
			  path, hex, c->url_shown);
	else if (err < 0)
		rc = fail_git(c, SRC_EREPO, path);
	else if (git_tree_entry_type(te) != GIT_OBJECT_TREE)
		rc = fail(c, SRC_EUSER, "path '%s' is not a directory at commit %.12s",
			  path, hex);
	else if (git_tree_lookup(out, repo, git_tree_entry_id(te)) < 0)
		rc = fail_git(c, SRC_EREPO, path);
	else
		rc = 0;
out:
	git_tree_entry_free(te);
	git_tree_free(root);
	free(path);
	return rc;
}

struct pending {
	char *path;
	git_oid id;
	bool exec;
};

struct walk {
	struct pending *v;
	size_t n, cap;
	struct pending *x;             /* the other regular files */
	size_t nx, capx;
	struct source_snapshot *out;   /* for the files refused on the way */
	bool full;                     /* SOURCE_MAX_FILES reached and reported */
};

/* A problem of the git source: always an error. */
static void add_problem(struct source_snapshot *s, char *path, char *message)
{
	source_snapshot_add_problem(s, path, message, false);
}

/*
 * Collect *.yaml / *.yml blobs.  Skipped without a word: names starting
 * with '.' (.github/, .gitlab-ci.yml are not manifests) and files of
 * other names.  Refused (a problem of the snapshot, which then must not
 * prune): a symbolic link named like a manifest or a directory (its target is a path,
 * and following one could leave the directory), a submodule (its content
 * is not in this repository), the files past SOURCE_MAX_FILES.
 */
static int walk_tree(struct fetch_ctx *c, git_repository *repo,
		     const git_tree *tree, const char *prefix, int depth,
		     struct walk *w)
{
	size_t i, n = git_tree_entrycount(tree);
	const git_tree_entry *e;
	git_tree *sub;
	const char *name;
	char *path;
	int rc;

	for (i = 0; i < n; i++) {
		e = git_tree_entry_byindex(tree, i);
		name = git_tree_entry_name(e);
		if (!source_kept_name(name))
			continue;
		if (git_tree_entry_type(e) == GIT_OBJECT_TREE) {
			path = xasprintf("%s%s/", prefix, name);
			if (depth >= MAX_DEPTH)
				rc = fail(c, SRC_EUSER, "'%s': directories nested "
					  "more than %d deep", path, MAX_DEPTH);
			else if (git_tree_lookup(&sub, repo, git_tree_entry_id(e)) < 0)
				rc = fail_git(c, SRC_EREPO, path);
			else {
				rc = walk_tree(c, repo, sub, path, depth + 1, w);
				git_tree_free(sub);
			}
			free(path);
			if (rc < 0)
				return rc;
			continue;
		}
		if (git_tree_entry_type(e) == GIT_OBJECT_COMMIT) {
			add_problem(w->out, xasprintf("%s%s", prefix, name),
				    xstrdup("a submodule: cara does not read submodules, "
					    "so what it holds cannot be known"));
			continue;
		}
		/* a link named like a manifest, or like a directory (no '.'),
		 * may stand for manifests; a link like README.md does not */
		if (git_tree_entry_type(e) == GIT_OBJECT_BLOB &&
		    git_tree_entry_filemode(e) == GIT_FILEMODE_LINK &&
		    (source_manifest_name(name) || !strchr(name, '.'))) {
			add_problem(w->out, xasprintf("%s%s", prefix, name),
				    xstrdup("a symbolic link: cara reads no links from "
					    "a git source"));
			continue;
		}
		if (git_tree_entry_type(e) == GIT_OBJECT_BLOB &&
		    git_tree_entry_filemode(e) == GIT_FILEMODE_LINK) {
			source_snapshot_refuse(w->out, xasprintf("%s%s", prefix, name),
					       xstrdup("a symbolic link: cara reads "
						       "no links from a git source"));
			continue;
		}
		if (git_tree_entry_type(e) != GIT_OBJECT_BLOB)
			continue;
		if (!source_manifest_name(name)) {
			/* the other files: read if there is room (read_extra) */
			GROW(w->x, w->capx, w->nx + 1);
			w->x[w->nx].path = xasprintf("%s%s", prefix, name);
			git_oid_cpy(&w->x[w->nx].id, git_tree_entry_id(e));
			w->x[w->nx].exec = git_tree_entry_filemode(e) ==
					   GIT_FILEMODE_BLOB_EXECUTABLE;
			w->nx++;
			continue;
		}
		if (w->n >= SOURCE_MAX_FILES) {
			if (!w->full)
				add_problem(w->out, xasprintf("%s%s", prefix, name),
					    xasprintf("more than %d manifest files: this "
						      "one and the rest are not read",
						      SOURCE_MAX_FILES));
			w->full = true;
			continue;
		}
		GROW(w->v, w->cap, w->n + 1);
		w->v[w->n].path = xasprintf("%s%s", prefix, name);
		git_oid_cpy(&w->v[w->n].id, git_tree_entry_id(e));
		w->n++;
	}
	return 0;
}

static int cmp_pending(const void *a, const void *b)
{
	return strcmp(((const struct pending *)a)->path,
		      ((const struct pending *)b)->path);
}

/* Read the blobs in path order; the size is checked from the object
 * header, before anything is inflated. */
static int read_files(struct fetch_ctx *c, git_repository *repo,
		      struct walk *w, struct source_snapshot *out)
{
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	git_object_t type;
	struct source_file *f;
	size_t i, len;
	int rc = 0;

	if (w->n)
		qsort(w->v, w->n, sizeof(*w->v), cmp_pending);
	if (git_repository_odb(&odb, repo) < 0)
		return fail_git(c, SRC_EREPO, "open the object database");
	for (i = 0; i < w->n && rc == 0; i++) {
		if (git_odb_read_header(&len, &type, odb, &w->v[i].id) < 0) {
			rc = fail_git(c, SRC_EREPO, w->v[i].path);
		} else if (len > SOURCE_MAX_FILE_BYTES) {
			add_problem(out, w->v[i].path,
				    xasprintf("%zu bytes, more than the %llu a manifest "
					      "may have", len,
					      (unsigned long long)SOURCE_MAX_FILE_BYTES));
			w->v[i].path = NULL;
		} else if (!source_snapshot_room(out, len)) {
			add_problem(out, w->v[i].path, source_total_message());
			w->v[i].path = NULL;
		} else if (git_odb_read(&obj, odb, &w->v[i].id) < 0 ||
			   git_odb_object_type(obj) != GIT_OBJECT_BLOB) {
			rc = fail_git(c, SRC_EREPO, w->v[i].path);
		} else {
			GROW(out->files, out->capfiles, out->nfiles + 1);
			f = &out->files[out->nfiles++];
			f->len = git_odb_object_size(obj);
			f->data = xmalloc(f->len + 1);
			memcpy(f->data, git_odb_object_data(obj), f->len);
			f->data[f->len] = '\0';
			out->total_bytes += f->len;
			f->path = w->v[i].path;
			w->v[i].path = NULL;
		}
		git_odb_object_free(obj);
		obj = NULL;
	}
	git_odb_free(odb);
	return rc;
}

/* The other files, in path order, while there is room under the
 * SOURCE_MAX_EXTRA_* caps; the size is read from the header first. */
static int read_extra(struct fetch_ctx *c, git_repository *repo,
		      struct walk *w, struct source_snapshot *out)
{
	git_odb *odb = NULL;
	git_odb_object *obj = NULL;
	git_object_t type;
	struct buf data = BUF_INIT;
	size_t i, len;
	int rc = 0;

	if (!w->nx)
		return 0;
	qsort(w->x, w->nx, sizeof(*w->x), cmp_pending);
	if (git_repository_odb(&odb, repo) < 0)
		return fail_git(c, SRC_EREPO, "open the object database");
	for (i = 0; i < w->nx && rc == 0; i++) {
		if (git_odb_read_header(&len, &type, odb, &w->x[i].id) < 0) {
			rc = fail_git(c, SRC_EREPO, w->x[i].path);
		} else if (!source_extra_room(out, len)) {
			data.len = len;   /* add_extra says why, reads nothing */
			source_snapshot_add_extra(out, w->x[i].path, &data, false);
			w->x[i].path = NULL;
		} else if (git_odb_read(&obj, odb, &w->x[i].id) < 0 ||
			   git_odb_object_type(obj) != GIT_OBJECT_BLOB) {
			rc = fail_git(c, SRC_EREPO, w->x[i].path);
		} else {
			buf_reset(&data);
			buf_add(&data, git_odb_object_data(obj), git_odb_object_size(obj));
			source_snapshot_add_extra(out, w->x[i].path, &data, w->x[i].exec);
			w->x[i].path = NULL;
		}
		git_odb_object_free(obj);
		obj = NULL;
	}
	buf_release(&data);
	git_odb_free(odb);
	return rc;
}

/* The first line of the message, trailing blanks removed. */
static char *commit_subject(const git_commit *commit)
{
	const char *m = git_commit_message(commit);
	size_t n;

	if (!m)
		return xstrdup("");
	m += strspn(m, " \t\r\n");
	n = strcspn(m, "\r\n");
	while (n && (m[n - 1] == ' ' || m[n - 1] == '\t'))
		n--;
	return xstrndup(m, n);
}

/*
 * --verify-signatures: the commit's gpgsig header must verify against the
 * allowed signers.  SRC_EUSER with "refusing commit ID: why" when it does
 * not; *signer_out (caller frees) says who signed.  libgit2 hands over the
 * signature and the exact bytes it covers (the commit without that header).
 */
static int verify_commit(struct fetch_ctx *c, git_repository *repo,
			 git_oid *id, const char *hex, char **signer_out)
{
	struct signature_keys keys = { c->opts->allowed_signers, c->opts->gpg_keyring };
	git_buf sig = GIT_BUF_INIT, data = GIT_BUF_INIT;
	int err, rc;

	*signer_out = NULL;
	err = git_commit_extract_signature(&sig, &data, repo, id, NULL);
	if (err == GIT_ENOTFOUND)
		rc = fail(c, SRC_EUSER, "refusing commit %.12s: not signed "
			  "(--verify-signatures accepts only signed commits)", hex);
	else if (err < 0)
		rc = fail_git(c, SRC_EREPO, hex);
	else if (signature_verify(signer_out, sig.ptr, sig.size, data.ptr,
				  data.size, &keys) < 0)
		rc = fail(c, SRC_EUSER, "refusing commit %.12s: %s", hex, error_last());
	else
		rc = 0;
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	return rc;
}

/*
 * A signed history can still be replayed: a force-push back to an older
 * signed commit would resurrect what was retired since.  The commit must
 * be the last applied one or descend from it.
 */
static int check_rewind(struct fetch_ctx *c, git_repository *repo,
			const git_oid *id, const char *hex,
			struct source_snapshot *out)
{
	const char *last = c->opts->last_applied;
	git_oid lid;
	int d;

	if (!last || !*last || !strcmp(last, hex))
		return 0;
	if (git_oid_fromstr(&lid, last) < 0)
		return 0;
	d = git_graph_descendant_of(repo, id, &lid);
	if (d == 1)
		return 0;
	if (c->opts->allow_rewind) {
		out->rewound = true;
		return 0;
	}
	return fail(c, SRC_EUSER, "refusing commit %.12s: it does not descend from "
		    "%.12s, the last commit applied (history rewritten or rolled "
		    "back?); --allow-rewind accepts it", hex, last);
}

static int read_snapshot(struct fetch_ctx *c, git_repository *repo,
			 struct source_snapshot *out)
{
	struct walk w = { .out = out };
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	char hex[GIT_OID_HEXSZ + 1];
	git_oid id;
	size_t i;
	int rc;

	if ((rc = resolve_ref(c, repo, &id)) < 0)
		goto out;
	git_oid_tostr(hex, sizeof(hex), &id);
	if (git_commit_lookup(&commit, repo, &id) < 0) {
		rc = fail_git(c, SRC_EREPO, hex);
		goto out;
	}
	if (c->opts->verify_signatures &&
	    (rc = verify_commit(c, repo, &id, hex, &out->signer)) < 0)
		goto out;
	if (c->opts->verify_signatures && (rc = check_rewind(c, repo, &id, hex, out)) < 0)
		goto out;
	if ((rc = open_subtree(c, repo, commit, hex, &tree)) < 0 ||
	    (rc = walk_tree(c, repo, tree, "", 0, &w)) < 0 ||
	    (rc = read_files(c, repo, &w, out)) < 0 ||
	    (rc = read_extra(c, repo, &w, out)) < 0)
		goto out;
	memcpy(out->commit, hex, sizeof(out->commit));
	out->commit_time = (int64_t)git_commit_author(commit)->when.time;
	out->subject = commit_subject(commit);
out:
	for (i = 0; i < w.n; i++)
		free(w.v[i].path);
	free(w.v);
	for (i = 0; i < w.nx; i++)
		free(w.x[i].path);
	free(w.x);
	git_tree_free(tree);
	git_commit_free(commit);
	return rc;
}

/* ---- the pass ---- */

/* The fetch failed to connect: the cached commit, if allowed and usable.
 * Returns 0 or -1 with the fetch error (and why the cache did not help). */
static int use_cached(struct fetch_ctx *c, git_repository *repo,
		      struct source_snapshot *out)
{
	char *fetch_err;
	int rc;

	if (!c->opts->offline_ok || !repo)
		return -1;
	fetch_err = xstrdup(error_last());
	rc = read_snapshot(c, repo, out);
	if (rc < 0) {
		char *why = xstrdup(error_last());

		error_set("%s; the cached copy cannot be used either: %s",
			  fetch_err, why);
		free(why);
	} else {
		out->offline = true;
		out->received_objects = 0;
	}
	free(fetch_err);
	return rc < 0 ? -1 : 0;
}

static char *cache_path(const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return xstrndup(dir, n);
}

int source_fetch(struct source_snapshot *out, const struct source_options *opts)
{
	struct fetch_ctx c;
	git_repository *repo = NULL;
	char *dir, *tmp;
	int state, rc;
	bool had_cache;

	memset(out, 0, sizeof(*out));
	if (!opts || !opts->url || !*opts->url || !opts->cache_dir || !*opts->cache_dir)
		return error_set("source: a repository URL and a cache directory "
				 "are required");
	if (libgit2_ready() < 0)
		return -1;
	ctx_init(&c, opts);
	dir = cache_path(opts->cache_dir);
	tmp = xasprintf("%s.new", dir);
	if (!strcmp(dir, "/")) {
		rc = fail(&c, SRC_EFATAL, "refusing '/' as the cache directory");
		goto out;
	}

	rc = state = open_cache(&c, dir, &repo);
	if (rc < 0)
		goto out;
	had_cache = state != CACHE_MISSING;
	if (state == CACHE_OK) {
		rc = remote_fetch(&c, repo);
		if (rc == 0) {
			rc = read_snapshot(&c, repo, out);
			if (rc != SRC_EREPO)
				goto done;
			/* the cache cannot give what it should: clone again */
		} else if (rc == SRC_EREMOTE) {
			rc = use_cached(&c, repo, out);
			goto out;
		} else if (rc != SRC_EREPO) {
			goto out;
		}
		source_snapshot_release(out);
	}

	rc = clone_cache(&c, tmp);
	if (rc == SRC_EREMOTE && repo) {
		rc = use_cached(&c, repo, out);
		goto out;
	}
	if (rc < 0)
		goto out;
	git_repository_free(repo);
	repo = NULL;
	if ((rc = swap_cache(&c, tmp, dir)) < 0)
		goto out;
	if (git_repository_open_ext(&repo, dir, GIT_REPOSITORY_OPEN_NO_SEARCH |
				    GIT_REPOSITORY_OPEN_BARE, NULL) < 0) {
		rc = fail_git(&c, SRC_EFATAL, dir);
		goto out;
	}
	rc = read_snapshot(&c, repo, out);
	out->recloned = had_cache;
done:
	out->received_objects = c.received;
out:
	git_repository_free(repo);
	ctx_release(&c);
	free(dir);
	free(tmp);
	if (rc < 0) {
		source_snapshot_release(out);
		return -1;
	}
	return 0;
}
