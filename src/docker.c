/*
 * docker.c - the Docker Engine API client: HTTP over the Engine's unix
 * socket (or TCP, optionally with TLS client certificates) with libcurl,
 * JSON with jansson.
 *
 * One curl easy handle per struct docker, so a pass reuses one connection
 * and handles never cross threads; the process-wide libcurl and jansson
 * set-up runs once under pthread_once.  The API version is negotiated at
 * open (GET /version) and every later path carries it as a prefix, so a
 * newer Engine answers in the dialect this file was written against.
 *
 * Every request is bounded: the handle's timeout, a pull a longer one plus
 * an idle limit, a stop the grace period on top, a wait the caller's.
 * Response bodies are capped at MAX_RESPONSE.  json_t never leaves this
 * file: answers become the structs of docker.h and observed.h here.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "docker.h"
#include "names.h"
#include "util.h"

#define DEFAULT_SOCKET "/var/run/docker.sock"
/* Newest API this file knows; the oldest it needs: wait with
 * condition=not-running is 1.30 (Healthcheck.StartPeriod is 1.29). */
#define API_MAX_MINOR 43
#define API_MIN_MINOR 30
#define DEFAULT_TIMEOUT_MS 30000L
#define CONNECT_TIMEOUT_MS 5000L
#define PULL_TIMEOUT_MS (30L * 60 * 1000)
#define PULL_IDLE_S 120L
#define PULL_NOTE_MS 5000
#define MAX_RESPONSE ((size_t)64 << 20)
#define MAX_MESSAGE 400

#ifdef PACKAGE_VERSION
#define USER_AGENT "cara/" PACKAGE_VERSION
#else
#define USER_AGENT "cara"
#endif

struct docker {
	CURL *curl;
	struct curl_slist *headers;
	struct docker_endpoint ep;
	char *tls_dir;           /* where the TLS files were looked for */
	char *ca, *cert, *key;   /* TLS files that exist, else NULL */
	char api[16];            /* "1.41" */
	long timeout_ms;
	unsigned long calls;
	struct buf body;         /* the last response */
	bool too_big;
	/* a pull answers with a stream of progress lines, read as they come */
	bool stream;
	struct docker_pull_progress progress;
	void (*pull_note)(void *arg, const char *summary);
	void *pull_arg;
	int64_t pull_noted_ms;   /* when pull_note was last called */
	/* a list answer is read element by element as it comes */
	struct docker_json_items *items;
	CURLcode last_cc;
	long last_code;
	bool answered;           /* a request of this handle got a status */
	char errbuf[CURL_ERROR_SIZE];
};

struct req {
	const char *method;      /* "GET", "POST", "DELETE" */
	const char *path;        /* escaped, without the version prefix */
	const char *json;        /* request body, or NULL */
	long timeout_ms;         /* 0: the handle's */
	long idle_s;             /* abort when nothing arrives for this long */
	bool unversioned;
	bool stream;
	struct docker_json_items *items;   /* a list, read as it comes */
};

/* ---- process-wide set-up ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static bool init_ok;

static void *json_xmalloc(size_t n)
{
	return xmalloc(n ? n : 1);
}

static void global_init(void)
{
	/* jansson then aborts on exhaustion like the rest of cara, so a NULL
	 * from it only ever means invalid input (a string not UTF-8) */
	json_set_alloc_funcs(json_xmalloc, free);
	json_object_seed(0);
	init_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

/* ---- pure helpers ---- */

void docker_endpoint_release(struct docker_endpoint *e)
{
	free(e->socket_path);
	free(e->url);
	memset(e, 0, sizeof(*e));
}

static int parse_tcp(struct docker_endpoint *out, const char *full,
		     const char *rest, bool https, bool verify)
{
	size_t n = strcspn(rest, "/");
	char *hostport = xstrndup(rest, n);
	char *colon = strrchr(hostport, ':');
	char *bracket = strrchr(hostport, ']');
	long long port;
	int rc = -1;

	if (colon && (!bracket || colon > bracket)) {
		if (parse_ll(colon + 1, 1, 65535, &port) < 0) {
			error_set("docker: bad port in DOCKER_HOST '%s'", full);
			goto out;
		}
		*colon = '\0';
	} else {
		port = https || verify ? 2376 : 2375;
	}
	if (!*hostport || strspn(rest + n, "/") != strlen(rest + n)) {
		error_set("docker: bad DOCKER_HOST '%s' (want tcp://HOST:PORT)", full);
		goto out;
	}
	out->tls = https || verify || port == 2376;
	out->url = xasprintf("%s://%s:%lld", out->tls ? "https" : "http",
			     hostport, port);
	rc = 0;
out:
	free(hostport);
	return rc;
}

int docker_endpoint_parse(struct docker_endpoint *out, const char *host,
			  const char *tls_verify)
{
	bool verify = tls_verify && *tls_verify;

	memset(out, 0, sizeof(*out));
	if (!host || !*host)
		host = "unix://" DEFAULT_SOCKET;
	if (!strncmp(host, "unix://", 7)) {
		if (!host[7])
			return error_set("docker: DOCKER_HOST '%s' names no socket", host);
		out->socket_path = xstrdup(host + 7);
		out->url = xstrdup("http://localhost");
		return 0;
	}
	if (!strncmp(host, "tcp://", 6))
		return parse_tcp(out, host, host + 6, false, verify);
	if (!strncmp(host, "http://", 7))
		return parse_tcp(out, host, host + 7, false, verify);
	if (!strncmp(host, "https://", 8))
		return parse_tcp(out, host, host + 8, true, verify);
	return error_set("docker: unsupported DOCKER_HOST '%s' (use unix:///PATH "
			 "or tcp://HOST:PORT)", host);
}

const char *docker_status_health(const char *status)
{
	if (!status)
		return "";
	if (strstr(status, "(unhealthy)"))
		return "unhealthy";
	if (strstr(status, "(healthy)"))
		return "healthy";
	if (strstr(status, "(health: starting)"))
		return "starting";
	return "";
}

int docker_status_exit_code(const char *status)
{
	const char *p;
	char *end;
	long v;

	if (!status || strncmp(status, "Exited (", 8))
		return 0;
	p = status + 8;
	errno = 0;
	v = strtol(p, &end, 10);
	if (end == p || *end != ')' || errno || v < -2147483647L || v > 2147483647L)
		return 0;
	return (int)v;
}

void docker_url_escape(struct buf *out, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~' || (keep_slash && c == '/')) {
			buf_putc(out, (char)c);
		} else {
			buf_putc(out, '%');
			buf_putc(out, hex[c >> 4]);
			buf_putc(out, hex[c & 15]);
		}
	}
}

void docker_split_ref(const char *ref, char **out_repo, char **out_tag)
{
	const char *at = strchr(ref, '@');
	const char *slash, *colon;

	if (at) {
		*out_repo = xstrndup(ref, (size_t)(at - ref));
		*out_tag = xstrdup(at + 1);
		return;
	}
	slash = strrchr(ref, '/');
	colon = strrchr(slash ? slash : ref, ':');
	if (colon) {
		*out_repo = xstrndup(ref, (size_t)(colon - ref));
		*out_tag = xstrdup(colon + 1);
	} else {
		*out_repo = xstrdup(ref);
		*out_tag = xstrdup("latest");
	}
}

static const char *http_reason(long code)
{
	switch (code) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 406: return "Not Acceptable";
	case 409: return "Conflict";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return NULL;
	}
}

/* Append text, one line, trimmed and capped. */
static void put_message(struct buf *out, const char *s, size_t len)
{
	size_t i;

	while (len && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
		s++;
		len--;
	}
	for (i = 0; i < len && s[i] != '\n' && s[i] != '\r'; i++)
		;
	while (i && (s[i - 1] == ' ' || s[i - 1] == '\t'))
		i--;
	if (i > MAX_MESSAGE) {
		buf_add(out, s, MAX_MESSAGE);
		buf_puts(out, "...");
	} else {
		buf_add(out, s, i);
	}
}

void docker_format_error(struct buf *out, const char *what, long http_code,
			 const char *body, size_t len)
{
	const char *reason = http_reason(http_code);
	json_t *j = NULL;
	json_t *m;
	size_t before;

	buf_printf(out, "docker: %s: %ld", what, http_code);
	if (reason)
		buf_printf(out, " %s", reason);
	if (!body || !len)
		return;
	before = out->len;
	buf_puts(out, ": ");
	j = json_loadb(body, len, 0, NULL);
	m = json_object_get(j, "message");
	if (json_is_string(m))
		put_message(out, json_string_value(m), json_string_length(m));
	else
		put_message(out, body, len);
	if (out->len == before + 2) {
		out->len = before;
		out->ptr[before] = '\0';
	}
	json_decref(j);
}

/* ---- JSON helpers: building ---- */

/*
 * jansson refuses keys and strings that are not UTF-8, and so does the
 * Engine; *bad records it and the request is not sent.
 */
static void jset(json_t *o, const char *k, json_t *v, bool *bad)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		*bad = true;
}

static void jpush(json_t *a, json_t *v, bool *bad)
{
	if (!v || json_array_append_new(a, v) < 0)
		*bad = true;
}

static json_t *jstr(const char *s)
{
	return json_string(s ? s : "");
}

static json_t *jstrvec(const struct strvec *sv, bool *bad)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < sv->n; i++)
		jpush(a, jstr(sv->v[i]), bad);
	return a;
}

/* A label object {"k": "v"}. */
/* cara.project, cara.owner (when owner is not NULL) and one more pair. */
static json_t *jlabels(const char *project, const char *owner, const char *k2,
		       const char *v2, bool *bad)
{
	json_t *o = json_object();

	jset(o, LABEL_PROJECT, jstr(project), bad);
	if (owner && *owner)
		jset(o, LABEL_OWNER, jstr(owner), bad);
	if (k2)
		jset(o, k2, jstr(v2), bad);
	return o;
}

/* Serialise and free root; NULL (error set) when it could not be built. */
static char *jdump(json_t *root, bool bad, const char *what)
{
	char *s = NULL;

	if (!bad)
		s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!s)
		error_set("docker: %s: a name or value is not valid UTF-8", what);
	return s;
}

/* ---- JSON helpers: reading ---- */

static const char *jget_str(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long jget_int(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

static char *jdup(const json_t *o, const char *k)
{
	const char *s = jget_str(o, k);

	return xstrdup(s ? s : "");
}

/* ---- pure helpers: API version, pull progress ---- */

/* "1.41" -> 41; -1 for anything but 1.N. */
static int api_minor(const char *v)
{
	long long minor;

	if (!v || strncmp(v, "1.", 2) || parse_ll(v + 2, 0, 1000, &minor) < 0)
		return -1;
	return (int)minor;
}

int docker_api_negotiate(char *out, size_t size, const char *engine_api)
{
	int minor = api_minor(engine_api);

	if (size)
		out[0] = '\0';
	if (!engine_api)
		return error_set("docker: version: the Engine reports no ApiVersion; "
				 "cara speaks 1.%d to 1.%d", API_MIN_MINOR, API_MAX_MINOR);
	if (minor < 0)
		return error_set("docker: the Engine speaks API '%s'; cara speaks "
				 "1.%d to 1.%d", engine_api, API_MIN_MINOR, API_MAX_MINOR);
	if (minor < API_MIN_MINOR)
		return error_set("docker: the Engine speaks API 1.%d; cara needs 1.%d "
				 "or newer", minor, API_MIN_MINOR);
	if (minor > API_MAX_MINOR)
		minor = API_MAX_MINOR;
	snprintf(out, size, "1.%d", minor);
	return 0;
}

void docker_pull_progress_init(struct docker_pull_progress *p)
{
	memset(p, 0, sizeof(*p));
	buf_init(&p->line);
}

void docker_pull_progress_release(struct docker_pull_progress *p)
{
	size_t i;

	buf_release(&p->line);
	free(p->error);
	p->error = NULL;
	for (i = 0; i < p->nlayers; i++)
		free(p->layers[i].id);
	free(p->layers);
	p->layers = NULL;
	p->nlayers = p->alloc = 0;
}

static struct docker_pull_layer *pull_layer(struct docker_pull_progress *p,
					    const char *id)
{
	struct docker_pull_layer *l;
	size_t i;

	for (i = 0; i < p->nlayers; i++)
		if (!strcmp(p->layers[i].id, id))
			return &p->layers[i];
	if (p->nlayers == p->alloc) {
		p->alloc = p->alloc ? p->alloc * 2 : 8;
		p->layers = xreallocarray(p->layers, p->alloc, sizeof(*p->layers));
	}
	l = &p->layers[p->nlayers++];
	memset(l, 0, sizeof(*l));
	l->id = xstrdup(id);
	return l;
}

/*
 * A layer's line: {"status":"Downloading","progressDetail":{"current":N,
 * "total":M},"id":"a1b2"}, then "Download complete", "Extracting", "Pull
 * complete"; "Already exists" for one that is there.  Lines that name the
 * image rather than a layer ("Pulling from library/busybox", id "1")
 * come before any layer line and say no "Pulling fs layer".
 */
static void progress_layer(struct docker_pull_progress *p, const json_t *j)
{
	const char *status = jget_str(j, "status"), *id = jget_str(j, "id");
	const json_t *detail = json_object_get(j, "progressDetail");
	struct docker_pull_layer *l;

	if (!status || !id)
		return;
	if (!strcmp(status, "Pulling fs layer") || !strcmp(status, "Waiting")) {
		pull_layer(p, id);
	} else if (!strcmp(status, "Downloading")) {
		l = pull_layer(p, id);
		if (jget_int(detail, "total") > 0)
			l->total = (int64_t)jget_int(detail, "total");
		if (jget_int(detail, "current") >= 0)
			l->current = (int64_t)jget_int(detail, "current");
	} else if (!strcmp(status, "Download complete") ||
		   !strcmp(status, "Verifying Checksum")) {
		l = pull_layer(p, id);
		if (l->total)
			l->current = l->total;
	} else if (!strcmp(status, "Pull complete") ||
		   !strcmp(status, "Already exists")) {
		l = pull_layer(p, id);
		if (l->total)
			l->current = l->total;
		l->done = true;
	}
}

void docker_pull_progress_summary(const struct docker_pull_progress *p,
				  struct buf *out)
{
	int64_t current = 0, total = 0;
	size_t i, done = 0;

	if (!p->nlayers) {
		buf_puts(out, "starting");
		return;
	}
	for (i = 0; i < p->nlayers; i++) {
		done += p->layers[i].done;
		current += p->layers[i].current;
		total += p->layers[i].total;
	}
	buf_printf(out, "%zu of %zu layer%s", done, p->nlayers,
		   p->nlayers == 1 ? "" : "s");
	if (total)
		buf_printf(out, ", %.1f of %.1f MB", (double)current / 1e6,
			   (double)total / 1e6);
}

/* Drop the first n bytes of a buffer. */
static void buf_consume(struct buf *b, size_t n)
{
	if (!n)
		return;
	memmove(b->ptr, b->ptr + n, b->len - n);
	b->len -= n;
	b->ptr[b->len] = '\0';
}

/* One progress line; anything but a JSON object with an error is progress. */
static void progress_line(struct docker_pull_progress *p, const char *line,
			  size_t len)
{
	json_t *j;
	const char *err;

	if (!len)
		return;
	j = json_loadb(line, len, 0, NULL);
	err = jget_str(j, "error");
	if (!err)
		err = jget_str(json_object_get(j, "errorDetail"), "message");
	if (err) {
		free(p->error);
		p->error = xstrdup(err);
	} else if (json_is_object(j)) {
		progress_layer(p, j);
	}
	json_decref(j);
}

int docker_pull_progress_feed(struct docker_pull_progress *p, const char *data,
			      size_t len, size_t max)
{
	size_t used = 0;
	const char *nl;

	if (p->line.len > max || len > max - p->line.len)
		return -1;
	buf_add(&p->line, data, len);
	while (used < p->line.len &&
	       (nl = memchr(p->line.ptr + used, '\n', p->line.len - used))) {
		progress_line(p, p->line.ptr + used,
			      (size_t)(nl - p->line.ptr) - used);
		used = (size_t)(nl - p->line.ptr) + 1;
	}
	buf_consume(&p->line, used);
	return 0;
}

int docker_pull_progress_finish(struct docker_pull_progress *p)
{
	struct buf msg = BUF_INIT;

	progress_line(p, p->line.ptr, p->line.len);
	buf_reset(&p->line);
	if (!p->error)
		return 0;
	put_message(&msg, p->error, strlen(p->error));
	free(p->error);
	p->error = buf_detach(&msg);
	return -1;
}

/* ---- pure helpers: the elements of a JSON array ---- */

enum { ITEMS_START, ITEMS_FIRST, ITEMS_IN, ITEMS_AFTER, ITEMS_NEXT, ITEMS_END };

void docker_json_items_init(struct docker_json_items *it,
			    int (*fn)(void *arg, const char *item, size_t len),
			    void *arg)
{
	memset(it, 0, sizeof(*it));
	it->fn = fn;
	it->arg = arg;
	it->state = ITEMS_START;
}

void docker_json_items_release(struct docker_json_items *it)
{
	buf_release(&it->item);
	free(it->error);
	it->error = NULL;
}

static int items_fail(struct docker_json_items *it, const char *why)
{
	if (!it->error)
		it->error = xstrdup(why);
	return -1;
}

/* The element ends with p[0..n): hand it over whole. */
static int items_emit(struct docker_json_items *it, const char *p, size_t n,
		      size_t max)
{
	int rc;

	if (it->item.len) {
		if (n > max - it->item.len)
			return items_fail(it, "a list element is too large");
		buf_add(&it->item, p, n);
		rc = it->fn(it->arg, it->item.ptr, it->item.len);
		buf_reset(&it->item);
	} else {
		rc = it->fn(it->arg, p, n);   /* whole in this chunk: no copy */
	}
	if (rc < 0)
		return items_fail(it, error_last());
	it->count++;
	return 0;
}

static bool json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int docker_json_items_feed(struct docker_json_items *it, const char *data,
			   size_t len, size_t max)
{
	size_t i, from = 0;        /* data[from..i) belongs to the element */
	char c;

	if (it->error)
		return -1;
	for (i = 0; i < len; i++) {
		c = data[i];
		if (it->state != ITEMS_IN) {
			if (json_space(c))
				continue;
			switch (it->state) {
			case ITEMS_START:
				if (c != '[')
					return items_fail(it, "not a JSON array");
				it->state = ITEMS_FIRST;
				continue;
			case ITEMS_FIRST:
				if (c == ']') {
					it->state = ITEMS_END;
					continue;
				}
				break;
			case ITEMS_AFTER:
				if (c == ',') {
					it->state = ITEMS_NEXT;
					continue;
				}
				if (c == ']') {
					it->state = ITEMS_END;
					continue;
				}
				return items_fail(it, "',' or ']' expected after an element");
			case ITEMS_NEXT:
				if (c == ']' || c == ',')
					return items_fail(it, "an element expected after ','");
				break;
			default:
				return items_fail(it, "data after the end of the array");
			}
			it->state = ITEMS_IN;
			it->depth = 0;
			it->in_string = it->escape = false;
			from = i;
		}
		if (it->in_string) {
			if (it->escape)
				it->escape = false;
			else if (c == '\\')
				it->escape = true;
			else if (c == '"') {
				it->in_string = false;
				if (!it->depth) {
					if (items_emit(it, data + from, i + 1 - from, max) < 0)
						return -1;
					it->state = ITEMS_AFTER;
				}
			}
			continue;
		}
		switch (c) {
		case '"':
			it->in_string = true;
			break;
		case '{':
		case '[':
			it->depth++;
			break;
		case '}':
		case ']':
			if (!it->depth) {
				/* a number, true, false or null ends at the array's end */
				if (c == '}')
					return items_fail(it, "unbalanced '}'");
				if (items_emit(it, data + from, i - from, max) < 0)
					return -1;
				it->state = ITEMS_END;
			} else if (!--it->depth) {
				if (items_emit(it, data + from, i + 1 - from, max) < 0)
					return -1;
				it->state = ITEMS_AFTER;
			}
			break;
		case ',':
			if (!it->depth) {
				if (items_emit(it, data + from, i - from, max) < 0)
					return -1;
				it->state = ITEMS_NEXT;
			}
			break;
		default:
			if (!it->depth && json_space(c)) {
				if (items_emit(it, data + from, i - from, max) < 0)
					return -1;
				it->state = ITEMS_AFTER;
			}
			break;
		}
	}
	if (it->state == ITEMS_IN) {
		if (len - from > max - it->item.len)
			return items_fail(it, "a list element is too large");
		buf_add(&it->item, data + from, len - from);
	}
	return 0;
}

int docker_json_items_finish(struct docker_json_items *it)
{
	if (it->error)
		return -1;
	if (it->state == ITEMS_START)
		return items_fail(it, "an empty answer where a JSON array was expected");
	if (it->state != ITEMS_END)
		return items_fail(it, "the list ends before its closing ']'");
	return 0;
}

static json_t *parse_body(struct docker *d, const char *what)
{
	json_error_t je;
	json_t *v = json_loadb(buf_cstr(&d->body), d->body.len, 0, &je);

	if (!v)
		error_set("docker: %s: unreadable answer from the Engine: %s", what,
			  je.text);
	return v;
}

/* ---- transport ---- */

/* Tell the watcher of a long pull how far it got, every PULL_NOTE_MS. */
static void pull_note(struct docker *d)
{
	struct buf b = BUF_INIT;
	int64_t now;

	if (!d->pull_note || (now = monotonic_ms()) - d->pull_noted_ms < PULL_NOTE_MS)
		return;
	d->pull_noted_ms = now;
	docker_pull_progress_summary(&d->progress, &b);
	d->pull_note(d->pull_arg, buf_cstr(&b));
	buf_release(&b);
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct docker *d = arg;
	size_t len = size * n;
	long code = 0;

	/* a pull's progress is read as it comes, an error answer is one JSON
	 * object: keep that whole */
	if (d->stream && curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE,
					   &code) == CURLE_OK && code == 200) {
		if (docker_pull_progress_feed(&d->progress, p, len, MAX_RESPONSE) < 0) {
			d->too_big = true;
			return 0;
		}
		pull_note(d);
		return len;
	}
	if (d->items && curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE,
					  &code) == CURLE_OK && code == 200)
		return docker_json_items_feed(d->items, p, len, MAX_RESPONSE) < 0 ? 0 : len;
	if (len > MAX_RESPONSE - d->body.len) {
		d->too_big = true;
		return 0;
	}
	buf_add(&d->body, p, len);
	return len;
}

static const char *where(const struct docker *d)
{
	return d->ep.socket_path ? d->ep.socket_path : d->ep.url;
}

/*
 * Over https, before any HTTP status: the handshake failed, or, on the
 * handle's first connection, the Engine dropped it right after the
 * handshake, which is how TLS 1.3 refuses a missing or untrusted client
 * certificate (the client is done with its part before the server has
 * checked the certificate).  Once the Engine answered, the certificates
 * were good and a dropped connection is just that.
 */
static bool tls_failure(const struct docker *d)
{
	if (!d->ep.tls || d->last_code)
		return false;
	switch (d->last_cc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		return true;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return !d->answered;
	default:
		return false;
	}
}

static int tls_error(struct docker *d, const char *what)
{
	const char *dir = d->tls_dir ? d->tls_dir : "(no DOCKER_CERT_PATH, no HOME)";
	const char *detail = curl_easy_strerror(d->last_cc);

	/* the first failure curl reports for a reset connection can be a
	 * getpeername() on the dead socket: keep only TLS library text */
	if (strstr(d->errbuf, "SSL") || strstr(d->errbuf, "TLS") ||
	    strstr(d->errbuf, "certificate"))
		detail = d->errbuf;
	if (d->last_cc == CURLE_PEER_FAILED_VERIFICATION) {
		if (d->ca)
			return error_set("docker: %s: cannot verify the Docker Engine at "
					 "%s: %s (CA certificate %s)", what, where(d),
					 detail, d->ca);
		return error_set("docker: %s: cannot verify the Docker Engine at %s: "
				 "%s (no ca.pem in %s: the system's CA certificates "
				 "were used)", what, where(d), detail, dir);
	}
	if (d->last_cc == CURLE_SSL_CERTPROBLEM ||
	    d->last_cc == CURLE_SSL_CACERT_BADFILE)
		return error_set("docker: %s: TLS with the Docker Engine at %s: "
				 "cannot use the certificates in %s: %s", what,
				 where(d), dir, detail);
	if (!d->cert || !d->key)
		return error_set("docker: %s: TLS with the Docker Engine at %s failed: "
				 "%s (no client certificate sent: cert.pem and key.pem "
				 "not both in %s)", what, where(d), detail, dir);
	return error_set("docker: %s: TLS with the Docker Engine at %s failed: %s "
			 "(did the Engine refuse the client certificate %s? it "
			 "must be signed by a CA the Engine trusts)", what,
			 where(d), detail, d->cert);
}

static int transport_error(struct docker *d, const char *what, long timeout_ms)
{
	long os_errno = 0;
	const char *why;

	if (d->too_big)
		return error_set("docker: %s: answer larger than %zu MiB", what,
				 MAX_RESPONSE >> 20);
	if (d->items && d->items->error)
		return error_set("docker: %s: unreadable answer from the Engine: %s",
				 what, d->items->error);
	if (d->last_cc == CURLE_OPERATION_TIMEDOUT) {
		if (d->last_code)
			return error_set("docker: %s: the Docker Engine at %s stopped "
					 "answering (timeout %ld ms)", what, where(d),
					 timeout_ms);
		return error_set("docker: %s: no answer from the Docker Engine at %s "
				 "within %ld ms (is dockerd running?)", what, where(d),
				 timeout_ms);
	}
	if (d->last_cc == CURLE_COULDNT_CONNECT ||
	    d->last_cc == CURLE_COULDNT_RESOLVE_HOST) {
		curl_easy_getinfo(d->curl, CURLINFO_OS_ERRNO, &os_errno);
		switch (os_errno) {
		case ENOENT: why = "no such socket"; break;
		case ECONNREFUSED: why = "connection refused"; break;
		case EACCES: why = "permission denied"; break;
		default: why = curl_easy_strerror(d->last_cc); break;
		}
		return error_set("docker: %s: Docker Engine unreachable at %s: %s "
				 "(is dockerd running? check DOCKER_HOST)", what,
				 where(d), why);
	}
	if (tls_failure(d))
		return tls_error(d, what);
	return error_set("docker: %s: talking to the Docker Engine at %s: %s", what,
			 where(d), d->errbuf[0] ? d->errbuf : curl_easy_strerror(d->last_cc));
}

#define SETOPT(opt, val) do { \
	if (curl_easy_setopt(d->curl, (opt), (val)) != CURLE_OK) \
		bad = true; \
} while (0)

/*
 * One request.  0 with *out_code the HTTP status and d->body the answer;
 * -1 (error set) when the Engine could not be talked to, with d->last_cc
 * and d->last_code telling how far it got.
 */
static int perform(struct docker *d, const struct req *r, const char *what,
		   long *out_code)
{
	long timeout = r->timeout_ms > 0 ? r->timeout_ms : d->timeout_ms;
	long connect = timeout < CONNECT_TIMEOUT_MS ? timeout : CONNECT_TIMEOUT_MS;
	struct buf url = BUF_INIT;
	bool bad = false;
	int rc = -1;

	buf_reset(&d->body);
	d->too_big = false;
	d->stream = r->stream;
	docker_pull_progress_release(&d->progress);
	d->items = r->items;
	d->errbuf[0] = '\0';
	d->last_code = 0;
	*out_code = 0;

	buf_puts(&url, d->ep.url);
	if (!r->unversioned)
		buf_printf(&url, "/v%s", d->api);
	buf_puts(&url, r->path);

	curl_easy_reset(d->curl);
	SETOPT(CURLOPT_URL, buf_cstr(&url));
	if (d->ep.socket_path)
		SETOPT(CURLOPT_UNIX_SOCKET_PATH, d->ep.socket_path);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_TIMEOUT_MS, timeout);
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, connect);
	if (r->idle_s > 0) {
		SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1L);
		SETOPT(CURLOPT_LOW_SPEED_TIME, r->idle_s);
	}
	SETOPT(CURLOPT_WRITEFUNCTION, on_data);
	SETOPT(CURLOPT_WRITEDATA, d);
	SETOPT(CURLOPT_ERRORBUFFER, d->errbuf);
	SETOPT(CURLOPT_USERAGENT, USER_AGENT);
	SETOPT(CURLOPT_HTTPHEADER, d->headers);
	if (!strcmp(r->method, "POST")) {
		SETOPT(CURLOPT_POST, 1L);
		SETOPT(CURLOPT_POSTFIELDS, r->json ? r->json : "");
		SETOPT(CURLOPT_POSTFIELDSIZE, (long)(r->json ? strlen(r->json) : 0));
	} else if (strcmp(r->method, "GET")) {
		SETOPT(CURLOPT_CUSTOMREQUEST, r->method);
	}
	if (d->ep.tls) {
		if (d->ca)
			SETOPT(CURLOPT_CAINFO, d->ca);
		if (d->cert)
			SETOPT(CURLOPT_SSLCERT, d->cert);
		if (d->key)
			SETOPT(CURLOPT_SSLKEY, d->key);
	}
	if (bad) {
		error_set("docker: %s: cannot set up the request", what);
		goto out;
	}

	d->calls++;
	d->last_cc = curl_easy_perform(d->curl);
	if (curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &d->last_code) != CURLE_OK)
		d->last_code = 0;
	if (d->last_code)
		d->answered = true;
	if (d->last_cc != CURLE_OK) {
		transport_error(d, what, timeout);
		goto out;
	}
	*out_code = d->last_code;
	rc = 0;
out:
	buf_release(&url);
	return rc;
}

#undef SETOPT

/* Turn a failed status into an error; ERR_NOTFOUND for 404. */
static int http_error(struct docker *d, const char *what, long code)
{
	struct buf b = BUF_INIT;

	docker_format_error(&b, what, code, buf_cstr(&d->body), d->body.len);
	error_set("%s", buf_cstr(&b));
	buf_release(&b);
	return code == 404 ? ERR_NOTFOUND : -1;
}

/* A request whose success is one of the 2xx statuses. */
static int simple(struct docker *d, const char *method, const char *path,
		  const char *json, const char *what, long *out_code)
{
	struct req r = { .method = method, .path = path, .json = json };

	if (perform(d, &r, what, out_code) < 0)
		return -1;
	if (*out_code >= 200 && *out_code < 300)
		return 0;
	return http_error(d, what, *out_code);
}

/* "/KIND/ESCAPED-NAME[SUFFIX]"; the caller frees. */
static char *obj_path(const char *kind, const char *name, const char *suffix)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "/%s/", kind);
	docker_url_escape(&b, name, false);
	if (suffix)
		buf_puts(&b, suffix);
	return buf_detach(&b);
}

/* ---- handle ---- */

static char *tls_file(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);

	if (access(p, R_OK) == 0)
		return p;
	free(p);
	return NULL;
}

static void tls_files(struct docker *d)
{
	const char *dir = getenv("DOCKER_CERT_PATH");
	const char *home = getenv("HOME");
	char *fallback = NULL;

	if (!dir || !*dir) {
		if (!home || !*home)
			return;
		dir = fallback = xasprintf("%s/.docker", home);
	}
	d->tls_dir = xstrdup(dir);
	d->ca = tls_file(dir, "ca.pem");
	d->cert = tls_file(dir, "cert.pem");
	d->key = tls_file(dir, "key.pem");
	free(fallback);
}

static int negotiate(struct docker *d)
{
	struct req r = { .method = "GET", .path = "/version", .unversioned = true };
	json_t *j;
	long code;
	int rc;

	if (perform(d, &r, "connect", &code) < 0)
		return -1;
	if (code != 200) {
		http_error(d, "version", code);
		return -1;
	}
	if (!(j = parse_body(d, "version")))
		return -1;
	rc = docker_api_negotiate(d->api, sizeof(d->api),
				  jget_str(j, "ApiVersion"));
	json_decref(j);
	return rc;
}

int docker_open(struct docker **out, const struct docker_options *opts)
{
	const char *host = opts && opts->host ? opts->host : getenv("DOCKER_HOST");
	struct curl_slist *h;
	struct docker *d;

	*out = NULL;
	if (pthread_once(&init_once, global_init) != 0 || !init_ok)
		return error_set("docker: cannot initialise libcurl");
	d = xcalloc(1, sizeof(*d));
	d->timeout_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms
						     : DEFAULT_TIMEOUT_MS;
	if (docker_endpoint_parse(&d->ep, host, getenv("DOCKER_TLS_VERIFY")) < 0)
		goto fail;
	if (d->ep.tls)
		tls_files(d);
	if (!(d->curl = curl_easy_init())) {
		error_set("docker: cannot create a libcurl handle");
		goto fail;
	}
	/* no "Expect: 100-continue" round trip before a body */
	h = curl_slist_append(NULL, "Content-Type: application/json");
	if (h) {
		d->headers = h;
		h = curl_slist_append(h, "Expect:");
	}
	if (!h) {
		error_set("docker: out of memory for request headers");
		goto fail;
	}
	d->headers = h;
	if (negotiate(d) < 0)
		goto fail;
	*out = d;
	return 0;
fail:
	docker_free(d);
	return -1;
}

void docker_free(struct docker *d)
{
	if (!d)
		return;
	if (d->curl)
		curl_easy_cleanup(d->curl);
	curl_slist_free_all(d->headers);
	docker_endpoint_release(&d->ep);
	free(d->ca);
	free(d->cert);
	free(d->key);
	free(d->tls_dir);
	docker_pull_progress_release(&d->progress);
	buf_release(&d->body);
	free(d);
}

unsigned long docker_calls(const struct docker *d)
{
	return d ? d->calls : 0;
}

const char *docker_api_version(const struct docker *d)
{
	return d->api;
}

/* ---- observe ---- */

/* ?filters={"label":[LABEL_PROJECT]}, escaped. */
static char *label_filter_path(const char *base, const char *more)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, base);
	buf_puts(&b, more);
	buf_puts(&b, "filters=");
	docker_url_escape(&b, "{\"label\":[\"" LABEL_PROJECT "\"]}", false);
	return buf_detach(&b);
}

/* GET path and parse the answer: 0, or simple()'s error (ERR_NOTFOUND
 * for a 404), or -1 when the body is not JSON. */
static int get_json(struct docker *d, const char *path, const char *what,
		    json_t **out)
{
	long code;
	int rc;

	*out = NULL;
	if ((rc = simple(d, "GET", path, NULL, what, &code)) < 0)
		return rc;
	*out = parse_body(d, what);
	return *out ? 0 : -1;
}

struct each {
	int (*fn)(void *arg, const json_t *j);
	void *arg;
};

static int each_item(void *arg, const char *item, size_t len)
{
	struct each *e = arg;
	json_error_t je;
	json_t *j = json_loadb(item, len, 0, &je);
	int rc;

	if (!j)
		return error_set("%s", je.text);
	rc = e->fn(e->arg, j);
	json_decref(j);
	return rc;
}

/*
 * GET a list (a JSON array) and call fn on each element as it arrives;
 * memory stays that of one element whatever the length of the list.
 */
static int list_each(struct docker *d, const char *path, const char *what,
		     int (*fn)(void *arg, const json_t *j), void *arg)
{
	struct each e = { fn, arg };
	struct docker_json_items it;
	struct req r = { .method = "GET", .path = path, .items = &it };
	long code;
	int rc = -1;

	docker_json_items_init(&it, each_item, &e);
	if (perform(d, &r, what, &code) < 0)
		goto out;
	if (code != 200) {
		http_error(d, what, code);
		goto out;
	}
	if (docker_json_items_finish(&it) < 0) {
		error_set("docker: %s: unreadable answer from the Engine: %s", what,
			  it.error);
		goto out;
	}
	rc = 0;
out:
	d->items = NULL;
	docker_json_items_release(&it);
	return rc;
}

/* The container's own name: the one of Names without a link path. */
static const char *container_name(const json_t *names)
{
	const char *first = NULL;
	size_t i;

	for (i = 0; i < json_array_size(names); i++) {
		const char *n = json_string_value(json_array_get(names, i));

		if (!n)
			continue;
		if (*n == '/')
			n++;
		if (!first)
			first = n;
		if (!strchr(n, '/'))
			return n;
	}
	return first ? first : "";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The NetworkID of each entry of a container's NetworkSettings.Networks,
 * sorted and ' '-separated ("" for none). */
static char *network_ids(const json_t *nets)
{
	struct strvec v = STRVEC_INIT;
	struct buf b = BUF_INIT;
	const char *key;
	json_t *ep;
	size_t i;

	json_object_foreach((json_t *)nets, key, ep) {
		const char *id = jget_str(ep, "NetworkID");

		(void)key;
		if (id && *id)
			strvec_push(&v, id);
	}
	if (v.n)
		qsort(v.v, v.n, sizeof(*v.v), cmp_str);
	for (i = 0; i < v.n; i++)
		buf_printf(&b, "%s%s", i ? " " : "", v.v[i]);
	strvec_release(&v);
	return buf_detach(&b);
}

static int add_container(void *arg, const json_t *j)
{
	const json_t *labels = json_object_get(j, "Labels");
	const char *status = jget_str(j, "Status");
	struct obs_container *c = observed_add_container(arg);

	c->id = jdup(j, "Id");
	c->name = xstrdup(container_name(json_object_get(j, "Names")));
	c->project = jdup(labels, LABEL_PROJECT);
	c->owner = jdup(labels, LABEL_OWNER);
	c->service = jdup(labels, LABEL_SERVICE);
	c->spec_hash = jdup(labels, LABEL_SPEC_HASH);
	c->spec_fields = jdup(labels, LABEL_SPEC_FIELDS);
	c->image = jdup(j, "Image");
	c->state = obs_state_parse(jget_str(j, "State"));
	c->health = obs_health_parse(docker_status_health(status));
	c->exit_code = docker_status_exit_code(status);
	c->created = (int64_t)jget_int(j, "Created");
	c->networks = network_ids(json_object_get(json_object_get(j, "NetworkSettings"),
						  "Networks"));
	return 0;
}

static int observe_containers(struct docker *d, struct observed *o)
{
	char *path = label_filter_path("/containers/json", "?all=1&");
	int rc = list_each(d, path, "list containers", add_container, o);

	free(path);
	return rc;
}

static int add_network(void *arg, const json_t *j)
{
	struct obs_network *n = observed_add_network(arg);

	n->id = jdup(j, "Id");
	n->name = jdup(j, "Name");
	n->project = jdup(json_object_get(j, "Labels"), LABEL_PROJECT);
	n->owner = jdup(json_object_get(j, "Labels"), LABEL_OWNER);
	return 0;
}

static int observe_networks(struct docker *d, struct observed *o)
{
	char *path = label_filter_path("/networks", "?");
	int rc = list_each(d, path, "list networks", add_network, o);

	free(path);
	return rc;
}

static int observe_volumes(struct docker *d, struct observed *o)
{
	char *path = label_filter_path("/volumes", "?");
	json_t *j = NULL, *a;
	size_t i;
	int rc = -1;

	if (get_json(d, path, "list volumes", &j) < 0)
		goto out;
	a = json_object_get(j, "Volumes");
	for (i = 0; i < json_array_size(a); i++) {
		json_t *v = json_array_get(a, i);
		json_t *labels = json_object_get(v, "Labels");
		struct obs_volume *ov = observed_add_volume(o);

		ov->name = jdup(v, "Name");
		ov->project = jdup(labels, LABEL_PROJECT);
		ov->type = jdup(labels, LABEL_VOLUME_TYPE);
		ov->owner = jdup(labels, LABEL_OWNER);
	}
	rc = 0;
out:
	json_decref(j);
	free(path);
	return rc;
}

static int add_image(void *arg, const json_t *j)
{
	const json_t *tags = json_object_get(j, "RepoTags");
	size_t k;

	for (k = 0; k < json_array_size(tags); k++) {
		const char *t = json_string_value(json_array_get(tags, k));

		if (t && strcmp(t, "<none>:<none>"))
			observed_add_image(arg, t);
	}
	return 0;
}

static int observe_images(struct docker *d, struct observed *o)
{
	return list_each(d, "/images/json", "list images", add_image, o);
}

int docker_observe(struct docker *d, struct observed *out)
{
	struct observed o = OBSERVED_INIT;

	if (observe_containers(d, &o) < 0 || observe_networks(d, &o) < 0 ||
	    observe_volumes(d, &o) < 0 || observe_images(d, &o) < 0) {
		observed_release(&o);
		return -1;
	}
	observed_sort(&o);
	*out = o;
	return 0;
}

/* ---- networks and volumes ---- */

/*
 * POST a create of a named object labelled for its project; an object of
 * that name that exists already is what we wanted (409).  Takes root.
 */
static int create_object(struct docker *d, const char *kind, const char *name,
			 json_t *root, bool bad)
{
	char *what = xasprintf("create %s '%s'", kind, name);
	char *path = xasprintf("/%ss/create", kind);
	char *body;
	long code;
	int rc = -1;

	if ((body = jdump(root, bad, what))) {
		rc = simple(d, "POST", path, body, what, &code);
		if (rc < 0 && code == 409) {
			error_clear();
			rc = 0;
		}
		free(body);
	}
	free(path);
	free(what);
	return rc;
}

/* DELETE of a named object, where a missing one is fine. */
static int remove_object(struct docker *d, const char *kind, const char *name,
			 const char *query)
{
	char *what = xasprintf("remove %s '%s'", kind, name);
	char *coll = xasprintf("%ss", kind);
	char *path = obj_path(coll, name, query);
	long code;
	int rc = simple(d, "DELETE", path, NULL, what, &code);

	if (rc == ERR_NOTFOUND) {
		error_clear();
		rc = 0;
	}
	free(path);
	free(coll);
	free(what);
	return rc;
}

/*
 * CheckDuplicate is not atomic: a create still in flight in dockerd when
 * its pass was killed and the next pass's create can both succeed, and a
 * network name that matches twice fails every container start.  After a
 * create, keep the network with the smallest id (the planner keeps the same
 * one) and remove the others.
 */
static int network_dedupe(struct docker *d, const char *name)
{
	json_t *filter = json_pack("{s{sb}}", "name", name, 1);
	char *fs = filter ? json_dumps(filter, JSON_COMPACT) : NULL;
	struct buf path = BUF_INIT;
	json_t *a = NULL;
	const char *keep = NULL;
	size_t i;
	int rc = -1;

	json_decref(filter);
	if (!fs) {
		error_set("docker: list networks '%s': name is not valid UTF-8", name);
		return -1;
	}
	buf_puts(&path, "/networks?filters=");
	docker_url_escape(&path, fs, false);
	free(fs);
	if (get_json(d, buf_cstr(&path), "list networks", &a) < 0)
		goto out;
	for (i = 0; i < json_array_size(a); i++) {
		const char *n = jget_str(json_array_get(a, i), "Name");
		const char *id = jget_str(json_array_get(a, i), "Id");

		if (n && id && !strcmp(n, name) && (!keep || strcmp(id, keep) < 0))
			keep = id;
	}
	rc = 0;
	for (i = 0; i < json_array_size(a); i++) {
		const char *n = jget_str(json_array_get(a, i), "Name");
		const char *id = jget_str(json_array_get(a, i), "Id");

		if (n && id && keep && !strcmp(n, name) && strcmp(id, keep) &&
		    remove_object(d, "network", id, NULL) < 0)
			rc = -1;
	}
out:
	json_decref(a);
	buf_release(&path);
	return rc;
}

/*
 * After a create that may have found the object there already (a network's
 * 409, a volume's silent 201): it is ours only when its labels say so.
 * ERR_FOREIGN with a message naming what the labels say otherwise.
 */
static int check_owner(struct docker *d, const char *kind, const char *name,
		       const char *project, const char *owner)
{
	char *what = xasprintf("inspect %s '%s'", kind, name);
	char *coll = xasprintf("%ss", kind);
	char *path = obj_path(coll, name, NULL);
	const char *lp, *lo;
	json_t *j = NULL, *labels;
	int rc;

	if ((rc = get_json(d, path, what, &j)) < 0)
		goto out;
	rc = -1;
	labels = json_object_get(j, "Labels");
	lp = jget_str(labels, LABEL_PROJECT);
	lo = jget_str(labels, LABEL_OWNER);
	if (!lp)
		rc = error_set("%s '%s' exists and is not cara's (it has no cara.project "
			       "label): cara does not use it; remove or rename it",
			       kind, name);
	else if (strcmp(lp, project))
		rc = error_set("%s '%s' belongs to project '%s', not '%s': cara does "
			       "not use it", kind, name, lp, project);
	else if (owner && *owner && strcmp(lo ? lo : "", owner))
		rc = error_set("%s '%s' is owned by another cara state (%s), not "
			       "this one (%s)", kind, name, lo && *lo ? lo : "no owner label",
			       owner);
	else
		rc = 0;
	if (rc < 0)
		rc = ERR_FOREIGN;
out:
	json_decref(j);
	free(path);
	free(coll);
	free(what);
	return rc;
}

int docker_network_create(struct docker *d, const char *name,
			  const char *project, const char *owner)
{
	json_t *root = json_object();
	bool bad = false;

	jset(root, "Name", jstr(name), &bad);
	jset(root, "Driver", jstr("bridge"), &bad);
	jset(root, "CheckDuplicate", json_true(), &bad);
	jset(root, "Labels", jlabels(project, owner, NULL, NULL, &bad), &bad);
	if (create_object(d, "network", name, root, bad) < 0 ||
	    network_dedupe(d, name) < 0)
		return -1;
	return check_owner(d, "network", name, project, owner);
}

int docker_network_connect(struct docker *d, const char *network,
			   const char *container, const char *alias)
{
	json_t *root = json_object(), *ep = json_object(), *aliases = json_array();
	char *what = xasprintf("connect container '%s' to network '%s'", container,
			       network);
	char *path = obj_path("networks", network, "/connect");
	char *body;
	bool bad = false;
	long code;
	int rc = -1;

	jset(root, "Container", jstr(container), &bad);
	if (alias && *alias)
		jpush(aliases, jstr(alias), &bad);
	jset(ep, "Aliases", aliases, &bad);
	jset(root, "EndpointConfig", ep, &bad);
	if ((body = jdump(root, bad, what))) {
		rc = simple(d, "POST", path, body, what, &code);
		free(body);
	}
	free(path);
	free(what);
	return rc;
}

int docker_network_remove(struct docker *d, const char *id_or_name)
{
	return remove_object(d, "network", id_or_name, NULL);
}

int docker_volume_create(struct docker *d, const char *name,
			 const char *project, const char *type, const char *owner)
{
	json_t *root = json_object();
	bool bad = false;

	jset(root, "Name", jstr(name), &bad);
	jset(root, "Labels", jlabels(project, owner, LABEL_VOLUME_TYPE, type, &bad),
	     &bad);
	if (create_object(d, "volume", name, root, bad) < 0)
		return -1;
	return check_owner(d, "volume", name, project, owner);
}

int docker_volume_remove(struct docker *d, const char *name)
{
	return remove_object(d, "volume", name, NULL);
}

/* ---- images ---- */

int docker_image_inspect(struct docker *d, const char *ref)
{
	char *what = xasprintf("inspect image '%s'", ref);
	struct buf path = BUF_INIT;
	long code;
	int rc;

	buf_puts(&path, "/images/");
	docker_url_escape(&path, ref, true);
	buf_puts(&path, "/json");
	rc = simple(d, "GET", buf_cstr(&path), NULL, what, &code);
	buf_release(&path);
	free(what);
	return rc;
}

/* The Engine's words for a pull the registry refused for want of (good)
 * credentials: a 401, "no basic auth credentials", Hub's "pull access
 * denied". */
static bool pull_refused(const char *msg)
{
	static const char *const words[] = {
		"unauthorized", "authentication required", "no basic auth credentials",
		"denied",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (strcasestr(msg, words[i]))
			return true;
	return false;
}

/* Free a header list after zeroing its lines (one holds credentials). */
static void headers_wipe_free(struct curl_slist *h)
{
	struct curl_slist *p;

	for (p = h; p; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

int docker_image_pull(struct docker *d, const char *ref, const char *registry_auth,
		      void (*note)(void *arg, const char *summary), void *arg)
{
	struct req r = { .method = "POST", .stream = true, .idle_s = PULL_IDLE_S };
	char *what = xasprintf("pull %s", ref);
	struct curl_slist *saved = d->headers, *auth = NULL, *h, *p;
	struct buf path = BUF_INIT, line = BUF_INIT;
	const char *engine = NULL;   /* the Engine's words for a failure */
	char *repo, *tag;
	long code;
	int rc = -1;

	docker_split_ref(ref, &repo, &tag);
	buf_puts(&path, "/images/create?fromImage=");
	docker_url_escape(&path, repo, false);
	buf_puts(&path, "&tag=");
	docker_url_escape(&path, tag, false);
	r.path = buf_cstr(&path);
	r.timeout_ms = d->timeout_ms > PULL_TIMEOUT_MS ? d->timeout_ms : PULL_TIMEOUT_MS;
	/* this request's headers: the handle's and the credentials (freed
	 * here: perform() resets the handle before any later request) */
	for (p = registry_auth ? saved : NULL; p; p = p->next) {
		if (!(h = curl_slist_append(auth, p->data)))
			goto nomem;
		auth = h;
	}
	if (registry_auth) {
		buf_printf(&line, "X-Registry-Auth: %s", registry_auth);
		h = curl_slist_append(auth, buf_cstr(&line));
		buf_wipe(&line);
		if (!h)
			goto nomem;
		d->headers = auth = h;
	}
	d->pull_note = note;
	d->pull_arg = arg;
	d->pull_noted_ms = monotonic_ms();
	rc = perform(d, &r, what, &code);
	d->pull_note = NULL;
	d->headers = saved;
	if (rc < 0)
		goto out;
	rc = -1;
	if (code != 200) {
		http_error(d, what, code);
		engine = buf_cstr(&d->body);
	/* the status is sent before the pull starts: failures come in-band */
	} else if (docker_pull_progress_finish(&d->progress) < 0) {
		error_set("docker: %s: %s", what, d->progress.error);
		engine = d->progress.error;
	} else {
		rc = 0;
	}
	/* ERR_REFUSED: the caller knows whose credentials they were */
	if (rc < 0 && engine && pull_refused(engine))
		rc = ERR_REFUSED;
	goto out;
nomem:
	error_set("docker: %s: out of memory for request headers", what);
out:
	docker_pull_progress_release(&d->progress);
	headers_wipe_free(auth);
	buf_release(&line);
	buf_release(&path);
	free(repo);
	free(tag);
	free(what);
	return rc;
}

/* ---- containers ---- */

static void add_health(json_t *cfg, const struct healthcheck *h, bool *bad)
{
	json_t *o = json_object();

	jset(o, "Test", jstrvec(&h->test, bad), bad);
	/* the Engine counts durations in nanoseconds */
	if (h->interval_ms > 0)
		jset(o, "Interval", json_integer(h->interval_ms * 1000000), bad);
	if (h->timeout_ms > 0)
		jset(o, "Timeout", json_integer(h->timeout_ms * 1000000), bad);
	if (h->start_period_ms > 0)
		jset(o, "StartPeriod", json_integer(h->start_period_ms * 1000000), bad);
	if (h->retries > 0)
		jset(o, "Retries", json_integer(h->retries), bad);
	jset(cfg, "Healthcheck", o, bad);
}

static void add_ports(json_t *cfg, json_t *hc, const struct container_spec *s,
		      bool *bad)
{
	json_t *exposed = json_object(), *bindings = json_object();
	size_t i;

	for (i = 0; i < s->nports; i++) {
		const struct port *p = &s->ports[i];
		char *key = xasprintf("%d/%s", p->container_port,
				      p->protocol && *p->protocol ? p->protocol : "tcp");
		char *hport = p->host_port ? xasprintf("%d", p->host_port) : xstrdup("");
		json_t *list, *b = json_object();

		jset(exposed, key, json_object(), bad);
		if (!json_object_get(bindings, key))
			jset(bindings, key, json_array(), bad);
		jset(b, "HostIp", jstr(p->host_ip), bad);
		jset(b, "HostPort", jstr(hport), bad);
		/* a borrowed reference, NULL when the key was refused */
		if ((list = json_object_get(bindings, key)))
			jpush(list, b, bad);
		else
			json_decref(b);
		free(hport);
		free(key);
	}
	jset(cfg, "ExposedPorts", exposed, bad);
	jset(hc, "PortBindings", bindings, bad);
}

/*
 * Named volumes as Mounts; host paths as Binds, which create a missing
 * directory the way `docker run -v` does, unless a ':' in a path would
 * make the bind string ambiguous.
 */
static void add_mounts(json_t *hc, const struct container_spec *s, bool *bad)
{
	json_t *mounts = json_array(), *binds = json_array();
	size_t i;

	for (i = 0; i < s->nmounts; i++) {
		const struct container_mount *m = &s->mounts[i];
		bool bind = !strcmp(m->type, "bind");
		json_t *o;

		if (bind && !strchr(m->source, ':') && !strchr(m->target, ':')) {
			char *b = xasprintf("%s:%s%s", m->source, m->target,
					    m->read_only ? ":ro" : "");
			jpush(binds, jstr(b), bad);
			free(b);
			continue;
		}
		o = json_object();
		jset(o, "Type", jstr(bind ? "bind" : "volume"), bad);
		jset(o, "Source", jstr(m->source), bad);
		jset(o, "Target", jstr(m->target), bad);
		jset(o, "ReadOnly", json_boolean(m->read_only), bad);
		jpush(mounts, o, bad);
	}
	jset(hc, "Mounts", mounts, bad);
	jset(hc, "Binds", binds, bad);
}

static json_t *host_config(json_t *cfg, const struct container_spec *s, bool *bad)
{
	json_t *hc = json_object();

	add_ports(cfg, hc, s, bad);
	add_mounts(hc, s, bad);
	if (s->restart && *s->restart) {
		json_t *rp = json_object();

		jset(rp, "Name", jstr(s->restart), bad);
		jset(rp, "MaximumRetryCount", json_integer(0), bad);
		jset(hc, "RestartPolicy", rp, bad);
	}
	if (s->memory_bytes > 0)
		jset(hc, "Memory", json_integer(s->memory_bytes), bad);
	if (s->nano_cpus > 0)
		jset(hc, "NanoCpus", json_integer(s->nano_cpus), bad);
	if (s->network && *s->network)
		jset(hc, "NetworkMode", jstr(s->network), bad);
	return hc;
}

static json_t *create_body(const struct container_spec *s, bool *bad)
{
	json_t *cfg = json_object();
	size_t i;

	jset(cfg, "Image", jstr(s->image), bad);
	if (s->cmd)
		jset(cfg, "Cmd", jstrvec(s->cmd, bad), bad);
	if (s->entrypoint) {
		/* an empty list would mean "the image's"; [""] means none */
		if (s->entrypoint->n)
			jset(cfg, "Entrypoint", jstrvec(s->entrypoint, bad), bad);
		else
			jset(cfg, "Entrypoint", json_pack("[s]", ""), bad);
	}
	if (s->working_dir && *s->working_dir)
		jset(cfg, "WorkingDir", jstr(s->working_dir), bad);
	if (s->user && *s->user)
		jset(cfg, "User", jstr(s->user), bad);
	if (s->env)
		jset(cfg, "Env", jstrvec(s->env, bad), bad);
	{
		json_t *labels = json_object();

		for (i = 0; i < s->nlabels; i++)
			jset(labels, s->labels[i].key, jstr(s->labels[i].value), bad);
		jset(cfg, "Labels", labels, bad);
	}
	if (s->health && s->health->present && s->health->test.n)
		add_health(cfg, s->health, bad);
	if (s->stop_timeout_s >= 0)
		jset(cfg, "StopTimeout", json_integer(s->stop_timeout_s), bad);
	jset(cfg, "HostConfig", host_config(cfg, s, bad), bad);
	if (s->network && *s->network && s->alias && *s->alias) {
		json_t *ep = json_object(), *eps = json_object(), *nc = json_object();
		json_t *aliases = json_array();

		jpush(aliases, jstr(s->alias), bad);
		jset(ep, "Aliases", aliases, bad);
		jset(eps, s->network, ep, bad);
		jset(nc, "EndpointsConfig", eps, bad);
		jset(cfg, "NetworkingConfig", nc, bad);
	}
	return cfg;
}

int docker_container_create(struct docker *d, const struct container_spec *spec,
			    char **out_id)
{
	char *what = xasprintf("create container '%s'", spec->name);
	struct buf path = BUF_INIT;
	bool bad = false;
	char *body = NULL;
	json_t *j = NULL;
	const char *id;
	long code;
	int rc = -1;

	*out_id = NULL;
	if (!(body = jdump(create_body(spec, &bad), bad, what)))
		goto out;
	buf_puts(&path, "/containers/create?name=");
	docker_url_escape(&path, spec->name, false);
	if ((rc = simple(d, "POST", buf_cstr(&path), body, what, &code)) < 0)
		goto out;
	rc = -1;
	if (!(j = parse_body(d, what)))
		goto out;
	if (!(id = jget_str(j, "Id")) || !*id) {
		error_set("docker: %s: the Engine returned no container id", what);
		goto out;
	}
	*out_id = xstrdup(id);
	rc = 0;
out:
	json_decref(j);
	free(body);
	buf_release(&path);
	free(what);
	return rc;
}

/* POST /containers/{id}/VERB, no body; 304 (already so) is success. */
static int container_post(struct docker *d, const char *id_or_name,
			  const char *verb)
{
	char *what = xasprintf("%s container '%s'", verb, id_or_name);
	char *suffix = xasprintf("/%s", verb);
	char *path = obj_path("containers", id_or_name, suffix);
	struct req r = { .method = "POST", .path = path };
	long code;
	int rc = -1;

	if (perform(d, &r, what, &code) < 0)
		goto out;
	if ((code >= 200 && code < 300) || code == 304)
		rc = 0;
	else
		rc = http_error(d, what, code);
out:
	free(path);
	free(suffix);
	free(what);
	return rc;
}

int docker_container_start(struct docker *d, const char *id_or_name)
{
	return container_post(d, id_or_name, "start");
}

int docker_container_unpause(struct docker *d, const char *id_or_name)
{
	return container_post(d, id_or_name, "unpause");
}

/*
 * GET /containers/{id}/json into out; *out_stop_timeout (may be NULL) gets
 * Config.StopTimeout, the Engine's 10 s when unset.
 */
static int inspect_container(struct docker *d, const char *id_or_name,
			     const char *what, struct container_state *out,
			     int *out_stop_timeout)
{
	char *path = obj_path("containers", id_or_name, "/json");
	json_t *j = NULL, *st, *v;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = get_json(d, path, what, &j)) < 0)
		goto out;
	st = json_object_get(j, "State");
	snprintf(out->status, sizeof(out->status), "%s",
		 jget_str(st, "Status") ? jget_str(st, "Status") : "");
	snprintf(out->health, sizeof(out->health), "%s",
		 jget_str(json_object_get(st, "Health"), "Status") ?
		 jget_str(json_object_get(st, "Health"), "Status") : "");
	out->exit_code = (int)jget_int(st, "ExitCode");
	out->oom_killed = json_is_true(json_object_get(st, "OOMKilled"));
	out->restart_count = (int)jget_int(j, "RestartCount");
	snprintf(out->error, sizeof(out->error), "%s",
		 jget_str(st, "Error") ? jget_str(st, "Error") : "");
	if (out_stop_timeout) {
		v = json_object_get(json_object_get(j, "Config"), "StopTimeout");
		*out_stop_timeout = json_is_integer(v) && json_integer_value(v) >= 0 &&
				    json_integer_value(v) < 86400 ?
				    (int)json_integer_value(v) : 10;
	}
	rc = 0;
out:
	json_decref(j);
	free(path);
	return rc;
}

int docker_container_state(struct docker *d, const char *id_or_name,
			   struct container_state *out)
{
	char *what = xasprintf("inspect container '%s'", id_or_name);
	int rc = inspect_container(d, id_or_name, what, out, NULL);

	free(what);
	return rc;
}

int docker_container_stop(struct docker *d, const char *id_or_name,
			  int timeout_s)
{
	char *what = xasprintf("stop container '%s'", id_or_name);
	struct buf path = BUF_INIT;
	struct req r = { .method = "POST" };
	struct container_state cs;
	int grace = timeout_s;
	long code;
	int rc;

	/*
	 * The Engine waits up to the grace period before it answers, so the
	 * request's timeout must cover it: with the container's own period,
	 * read it first (a stopped container needs no stop at all).
	 */
	if (timeout_s < 0) {
		if ((rc = inspect_container(d, id_or_name, what, &cs, &grace)) < 0)
			goto out;
		if (strcmp(cs.status, "running") && strcmp(cs.status, "restarting") &&
		    strcmp(cs.status, "paused"))
			goto out;
	}
	buf_puts(&path, "/containers/");
	docker_url_escape(&path, id_or_name, false);
	buf_puts(&path, "/stop");
	if (timeout_s >= 0)
		buf_printf(&path, "?t=%d", timeout_s);
	r.path = buf_cstr(&path);
	r.timeout_ms = d->timeout_ms + (long)grace * 1000;
	if ((rc = perform(d, &r, what, &code)) < 0)
		goto out;
	/* 304: stopped already */
	if ((code >= 200 && code < 300) || code == 304)
		rc = 0;
	else
		rc = http_error(d, what, code);
out:
	buf_release(&path);
	free(what);
	return rc;
}

int docker_container_remove(struct docker *d, const char *id_or_name,
			    bool force)
{
	return remove_object(d, "container", id_or_name,
			     force ? "?force=1&v=0" : "?force=0&v=0");
}

int docker_container_wait(struct docker *d, const char *id_or_name,
			  long timeout_ms, int *out_exit)
{
	char *what = xasprintf("wait for container '%s'", id_or_name);
	char *path = obj_path("containers", id_or_name,
			      "/wait?condition=not-running");
	struct req r = { .method = "POST", .path = path, .timeout_ms = timeout_ms };
	json_t *j = NULL;
	const char *msg;
	long code;
	int rc = -1;

	*out_exit = 0;
	if (perform(d, &r, what, &code) < 0) {
		/* the Engine answers 200 at once, then the body when it exits */
		if (d->last_cc == CURLE_OPERATION_TIMEDOUT && d->last_code == 200) {
			error_set("docker: %s: still running after %ld ms", what,
				  timeout_ms > 0 ? timeout_ms : d->timeout_ms);
			rc = 1;
		}
		goto out;
	}
	if (code != 200) {
		rc = http_error(d, what, code);
		goto out;
	}
	if (!(j = parse_body(d, what)))
		goto out;
	msg = jget_str(json_object_get(j, "Error"), "Message");
	if (msg && *msg) {
		error_set("docker: %s: %s", what, msg);
		goto out;
	}
	*out_exit = (int)jget_int(j, "StatusCode");
	rc = 0;
out:
	json_decref(j);
	free(path);
	free(what);
	return rc;
}
