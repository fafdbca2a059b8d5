/*
 * backend/engine/http.c - the Engine's HTTP transport: libcurl over the
 * unix socket or TCP (with TLS client certificates), the handle, API
 * version negotiation, error messages in the user's terms.
 *
 * One curl easy handle per struct docker, so a pass reuses one connection
 * and handles never cross threads; the process-wide libcurl and jansson
 * set-up runs once under pthread_once.  The API version is negotiated at
 * open (GET /version) and every later path carries it as a prefix, so a
 * newer Engine answers in the dialect this client was written against.
 *
 * Every request is bounded: the handle's timeout, a pull a longer one plus
 * an idle limit, a stop the grace period on top, a wait the caller's.
 * Response bodies are capped at MAX_RESPONSE.  json_t never leaves
 * backend/engine/: answers become the structs of docker.h and observed.h.
 */
#include "backend/engine/internal.h"

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
void engine_put_message(struct buf *out, const char *s, size_t len)
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
		engine_put_message(out, json_string_value(m), json_string_length(m));
	else
		engine_put_message(out, body, len);
	if (out->len == before + 2) {
		out->len = before;
		out->ptr[before] = '\0';
	}
	json_decref(j);
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

bool docker_api_has_start_interval(const char *api)
{
	int minor = api_minor(api);

	return minor >= 0 && minor >= api_minor(DOCKER_API_START_INTERVAL);
}

json_t *engine_parse_body(struct docker *d, const char *what)
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

/* Hand each whole line of the event stream to d->ev_fn. */
static int events_feed(struct docker *d, const char *p, size_t len)
{
	struct docker_event ev;
	const char *nl;
	size_t n;

	while (len) {
		nl = memchr(p, '\n', len);
		n = nl ? (size_t)(nl - p) : len;
		if (n > MAX_EVENT_LINE - d->ev_line.len) {
			error_set("an event message longer than %zu KiB",
				  MAX_EVENT_LINE >> 10);
			d->ev_bad = true;
			return -1;
		}
		buf_add(&d->ev_line, p, n);
		if (!nl)
			break;
		if (d->ev_line.len) {
			int rc = docker_event_parse(&ev, buf_cstr(&d->ev_line),
						    d->ev_line.len);

			if (rc < 0) {
				d->ev_bad = true;
				return -1;
			}
			if (rc == 0)
				d->ev_fn(d->ev_arg, &ev);
		}
		buf_reset(&d->ev_line);
		p += n + 1;
		len -= n + 1;
	}
	return 0;
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
	if (d->ev_fn && curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE,
					  &code) == CURLE_OK && code == 200)
		return events_feed(d, p, len) < 0 ? 0 : len;
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

/*
 * The sockets of a cancellable request pass through these, under
 * cancel_mu, so that docker_cancel can shut down the one in use and never
 * a descriptor already closed (and perhaps reused by another thread).
 */
static curl_socket_t open_socket(void *arg, curlsocktype purpose,
				 struct curl_sockaddr *a)
{
	struct docker *d = arg;
	curl_socket_t fd = CURL_SOCKET_BAD;

	(void)purpose;
	pthread_mutex_lock(&d->cancel_mu);
	if (!d->cancelled) {
		fd = socket(a->family, a->socktype, a->protocol);
		if (fd < 0)
			fd = CURL_SOCKET_BAD;
		d->sock = fd;
	}
	pthread_mutex_unlock(&d->cancel_mu);
	return fd;
}

static int close_socket(void *arg, curl_socket_t fd)
{
	struct docker *d = arg;
	int rc;

	pthread_mutex_lock(&d->cancel_mu);
	if (d->sock == fd)
		d->sock = CURL_SOCKET_BAD;
	rc = close(fd);
	pthread_mutex_unlock(&d->cancel_mu);
	return rc;
}

/* Nonzero ends the transfer: a cancel that came before the socket. */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		       curl_off_t un)
{
	struct docker *d = arg;
	bool c;

	(void)dt; (void)dn; (void)ut; (void)un;
	pthread_mutex_lock(&d->cancel_mu);
	c = d->cancelled;
	pthread_mutex_unlock(&d->cancel_mu);
	return c ? 1 : 0;
}

/* The end of the headers of a 200 answer: the event stream is up. */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct docker *d = arg;
	size_t len = size * n;
	long code = 0;

	if (!d->ev_upped && (len == 2 || len == 1) && (p[0] == '\r' || p[0] == '\n') &&
	    curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK &&
	    code == 200) {
		d->ev_upped = true;
		d->ev_up(d->ev_arg);
	}
	return len;
}

void docker_cancel(struct docker *d)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->cancel_mu);
	d->cancelled = true;
	if (d->sock != CURL_SOCKET_BAD)
		shutdown(d->sock, SHUT_RDWR);
	pthread_mutex_unlock(&d->cancel_mu);
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
int engine_perform(struct docker *d, const struct req *r, const char *what,
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
	SETOPT(CURLOPT_TIMEOUT_MS, r->endless ? 0L : timeout);
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, connect);
	if (r->cancellable) {
		/* a socket of its own, known to docker_cancel */
		SETOPT(CURLOPT_FRESH_CONNECT, 1L);
		SETOPT(CURLOPT_FORBID_REUSE, 1L);
		SETOPT(CURLOPT_OPENSOCKETFUNCTION, open_socket);
		SETOPT(CURLOPT_OPENSOCKETDATA, d);
		SETOPT(CURLOPT_CLOSESOCKETFUNCTION, close_socket);
		SETOPT(CURLOPT_CLOSESOCKETDATA, d);
		SETOPT(CURLOPT_NOPROGRESS, 0L);
		SETOPT(CURLOPT_XFERINFOFUNCTION, on_progress);
		SETOPT(CURLOPT_XFERINFODATA, d);
	}
	if (d->ev_up) {
		SETOPT(CURLOPT_HEADERFUNCTION, on_header);
		SETOPT(CURLOPT_HEADERDATA, d);
	}
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
		if (r->body) {
			SETOPT(CURLOPT_POSTFIELDS, r->body);
			SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
		} else {
			SETOPT(CURLOPT_POSTFIELDS, r->json ? r->json : "");
			SETOPT(CURLOPT_POSTFIELDSIZE, (long)(r->json ? strlen(r->json) : 0));
		}
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
int engine_http_error(struct docker *d, const char *what, long code)
{
	struct buf b = BUF_INIT;

	docker_format_error(&b, what, code, buf_cstr(&d->body), d->body.len);
	error_set("%s", buf_cstr(&b));
	buf_release(&b);
	return code == 404 ? ERR_NOTFOUND : -1;
}

/* A request whose success is one of the 2xx statuses. */
int engine_simple(struct docker *d, const char *method, const char *path,
		  const char *json, const char *what, long *out_code)
{
	struct req r = { .method = method, .path = path, .json = json };

	if (engine_perform(d, &r, what, out_code) < 0)
		return -1;
	if (*out_code >= 200 && *out_code < 300)
		return 0;
	return engine_http_error(d, what, *out_code);
}

/* "/KIND/ESCAPED-NAME[SUFFIX]"; the caller frees. */
char *engine_obj_path(const char *kind, const char *name, const char *suffix)
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

	if (engine_perform(d, &r, "connect", &code) < 0)
		return -1;
	if (code != 200) {
		engine_http_error(d, "version", code);
		return -1;
	}
	if (!(j = engine_parse_body(d, "version")))
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
	pthread_mutex_init(&d->cancel_mu, NULL);
	d->sock = CURL_SOCKET_BAD;
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
	if (opts && opts->api) {
		if (snprintf(d->api, sizeof(d->api), "%s", opts->api) >=
		    (int)sizeof(d->api)) {
			error_set("docker: API version '%s' too long", opts->api);
			goto fail;
		}
	} else if (negotiate(d) < 0) {
		goto fail;
	}
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
	buf_release(&d->ev_line);
	pthread_mutex_destroy(&d->cancel_mu);
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
