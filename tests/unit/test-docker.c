/*
 * test-docker.c - the Engine client: its pure helpers (DOCKER_HOST, status
 * text, URL escaping, references, error text) and, when a Docker Engine
 * answers, the whole API against it.  Every Docker object made here is
 * named cdt<pid>-... and removed at the end, whatever happened before.
 */
/* Fixtures are made and removed with shell commands (see banned.h). */
#define CARA_BANNED_ALLOW_SHELL
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend/engine/docker.h"
#include "backend/engine/events.h"
#include "tap.h"

/* The state's name, "" for one nothing was said of. */
static bool obs_state_is(enum obs_state st, const char *want)
{
	return !strcmp(st == OBS_UNKNOWN ? "" : obs_state_name(st), want);
}
#include "util.h"

/* ---- pure helpers ---- */

static void test_endpoint(void)
{
	static const struct {
		const char *host, *verify;
		int rc;
		const char *socket, *url;
		bool tls;
	} v[] = {
		{ NULL, NULL, 0, "/var/run/docker.sock", "http://localhost", false },
		{ "", NULL, 0, "/var/run/docker.sock", "http://localhost", false },
		{ "unix:///tmp/d.sock", NULL, 0, "/tmp/d.sock", "http://localhost", false },
		{ "unix:///tmp/d.sock", "1", 0, "/tmp/d.sock", "http://localhost", false },
		{ "tcp://10.0.0.5:2375", NULL, 0, NULL, "http://10.0.0.5:2375", false },
		{ "tcp://10.0.0.5:2375", "", 0, NULL, "http://10.0.0.5:2375", false },
		{ "tcp://10.0.0.5:2375", "1", 0, NULL, "https://10.0.0.5:2375", true },
		{ "tcp://docker.example:2376", NULL, 0, NULL, "https://docker.example:2376", true },
		{ "tcp://docker.example", NULL, 0, NULL, "http://docker.example:2375", false },
		{ "tcp://docker.example", "yes", 0, NULL, "https://docker.example:2376", true },
		{ "tcp://docker.example:2375/", NULL, 0, NULL, "http://docker.example:2375", false },
		{ "tcp://[::1]:2375", NULL, 0, NULL, "http://[::1]:2375", false },
		{ "tcp://[::1]", NULL, 0, NULL, "http://[::1]:2375", false },
		{ "https://h:443", NULL, 0, NULL, "https://h:443", true },
		{ "unix://", NULL, -1, NULL, NULL, false },
		{ "tcp://", NULL, -1, NULL, NULL, false },
		{ "tcp://:2375", NULL, -1, NULL, NULL, false },
		{ "tcp://h:0", NULL, -1, NULL, NULL, false },
		{ "tcp://h:99999", NULL, -1, NULL, NULL, false },
		{ "tcp://h:12x", NULL, -1, NULL, NULL, false },
		{ "tcp://h:2375/some/path", NULL, -1, NULL, NULL, false },
		{ "ssh://me@host", NULL, -1, NULL, NULL, false },
		{ "/var/run/docker.sock", NULL, -1, NULL, NULL, false },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		struct docker_endpoint e;
		int rc = docker_endpoint_parse(&e, v[i].host, v[i].verify);
		const char *h = v[i].host ? v[i].host : "(null)";

		is_int(rc, v[i].rc, "endpoint '%s' verify '%s': rc", h,
		       v[i].verify ? v[i].verify : "(null)");
		if (rc == 0) {
			is_str(e.socket_path, v[i].socket, "endpoint '%s': socket", h);
			is_str(e.url, v[i].url, "endpoint '%s': url", h);
			is_int(e.tls, v[i].tls, "endpoint '%s': tls", h);
		} else {
			ok(strstr(error_last(), "DOCKER_HOST") != NULL,
			   "endpoint '%s': message names DOCKER_HOST: %s", h, error_last());
		}
		docker_endpoint_release(&e);
	}
}

static void test_status_text(void)
{
	static const struct { const char *status, *health; int code; } v[] = {
		{ "Up 3 seconds", "", 0 },
		{ "Up 2 minutes (healthy)", "healthy", 0 },
		{ "Up 5 seconds (unhealthy)", "unhealthy", 0 },
		{ "Up 1 second (health: starting)", "starting", 0 },
		{ "Up About a minute (Paused)", "", 0 },
		{ "Restarting (1) 2 seconds ago", "", 0 },
		{ "Exited (0) 3 seconds ago", "", 0 },
		{ "Exited (137) About an hour ago", "", 137 },
		{ "Exited (3) 1 second ago", "", 3 },
		{ "Exited (-1) 1 second ago", "", -1 },
		{ "Exited (x) 1 second ago", "", 0 },
		{ "Exited (12", "", 0 },
		{ "Created", "", 0 },
		{ "", "", 0 },
		{ NULL, "", 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		const char *s = v[i].status ? v[i].status : "(null)";

		is_str(docker_status_health(v[i].status), v[i].health, "health of '%s'", s);
		is_int(docker_status_exit_code(v[i].status), v[i].code,
		       "exit code of '%s'", s);
	}
}

static void test_escape(void)
{
	static const struct { const char *in; bool slash; const char *out; } v[] = {
		{ "web-app_1.x~", false, "web-app_1.x~" },
		{ "cara-local/busybox:1", true, "cara-local/busybox%3A1" },
		{ "cara-local/busybox:1", false, "cara-local%2Fbusybox%3A1" },
		{ "{\"label\":[\"cara.project\"]}", false,
		  "%7B%22label%22%3A%5B%22cara.project%22%5D%7D" },
		{ "a b&c=d?e#f%", false, "a%20b%26c%3Dd%3Fe%23f%25" },
		{ "\xc3\xa9", false, "%C3%A9" },
		{ "", false, "" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		struct buf b = BUF_INIT;

		docker_url_escape(&b, v[i].in, v[i].slash);
		is_str(buf_cstr(&b), v[i].out, "escape '%s'%s", v[i].in,
		       v[i].slash ? " keeping '/'" : "");
		buf_release(&b);
	}
}

static void test_split_ref(void)
{
	static const struct { const char *ref, *repo, *tag; } v[] = {
		{ "busybox", "busybox", "latest" },
		{ "busybox:1.36", "busybox", "1.36" },
		{ "cara-local/busybox:1", "cara-local/busybox", "1" },
		{ "registry:5000/team/app", "registry:5000/team/app", "latest" },
		{ "registry:5000/team/app:v2", "registry:5000/team/app", "v2" },
		{ "app@sha256:0123abcd", "app", "sha256:0123abcd" },
		{ "r:5000/app:1@sha256:ff", "r:5000/app:1", "sha256:ff" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		char *repo, *tag;

		docker_split_ref(v[i].ref, &repo, &tag);
		is_str(repo, v[i].repo, "split '%s': repository", v[i].ref);
		is_str(tag, v[i].tag, "split '%s': tag", v[i].ref);
		free(repo);
		free(tag);
	}
}

static void test_format_error(void)
{
	static const struct { const char *what; long code; const char *body, *out; } v[] = {
		{ "create container 'web-app'", 409,
		  "{\"message\":\"Conflict. The container name \\\"/web-app\\\" is already in use\"}\n",
		  "docker: create container 'web-app': 409 Conflict: Conflict. The "
		  "container name \"/web-app\" is already in use" },
		{ "start container 'x'", 404, "{\"message\":\"No such container: x\"}",
		  "docker: start container 'x': 404 Not Found: No such container: x" },
		{ "list images", 500, "{\"message\":\"line one\\nline two\"}",
		  "docker: list images: 500 Internal Server Error: line one" },
		{ "list images", 502, "  <html>bad gateway</html>  \n<p>more</p>",
		  "docker: list images: 502 Bad Gateway: <html>bad gateway</html>" },
		{ "list images", 418, "", "docker: list images: 418" },
		{ "list images", 500, "{\"message\":\"\"}",
		  "docker: list images: 500 Internal Server Error" },
		{ "list images", 503, "{}", "docker: list images: 503 Service Unavailable: {}" },
		{ "remove volume 'v'", 409, NULL, "docker: remove volume 'v': 409 Conflict" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		struct buf b = BUF_INIT;

		docker_format_error(&b, v[i].what, v[i].code, v[i].body,
				    v[i].body ? strlen(v[i].body) : 0);
		is_str(buf_cstr(&b), v[i].out, "error text %zu (%ld)", i, v[i].code);
		buf_release(&b);
	}
	{
		/* a huge body is cut */
		struct buf b = BUF_INIT;
		char *big = xmalloc(5001);

		memset(big, 'x', 5000);
		big[5000] = '\0';
		docker_format_error(&b, "x", 500, big, 5000);
		ok(b.len < 500 && strstr(buf_cstr(&b), "..."), "long message truncated (%zu)",
		   b.len);
		free(big);
		buf_release(&b);
	}
}

static void test_unreachable(void)
{
	char *host = xasprintf("unix:///tmp/cdt%d-none.sock", (int)getpid());
	struct docker_options o = { host, 2000, NULL };
	struct docker *d = (struct docker *)1;

	is_int(docker_open(&d, &o), -1, "open on a missing socket fails");
	ok(d == NULL, "no handle on failure");
	ok(strstr(error_last(), host + 7) && strstr(error_last(), "unreachable") &&
	   strstr(error_last(), "dockerd"),
	   "message names the socket and dockerd: %s", error_last());
	free(host);

	o.host = "tcp://127.0.0.1:1";
	is_int(docker_open(&d, &o), -1, "open on a closed port fails");
	ok(strstr(error_last(), "127.0.0.1:1") && strstr(error_last(), "unreachable"),
	   "message names the address: %s", error_last());

	o.host = "ssh://me@somewhere";
	is_int(docker_open(&d, &o), -1, "open with an unsupported DOCKER_HOST fails");
	ok(strstr(error_last(), "unsupported") != NULL, "it says so: %s", error_last());
}

static void test_pull_summary(void)
{
	static const struct {
		const char *name, *body, *want;
	} v[] = {
		{ "nothing yet", "", "starting" },
		{ "the image named, no layer yet",
		  "{\"status\":\"Pulling from library/busybox\",\"id\":\"1\"}\n", "starting" },
		{ "two layers, one downloading",
		  "{\"status\":\"Pulling from library/x\",\"id\":\"1\"}\n"
		  "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"a1\"}\n"
		  "{\"status\":\"Waiting\",\"progressDetail\":{},\"id\":\"b2\"}\n"
		  "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1000000,"
		  "\"total\":4000000},\"progress\":\"[=> ]\",\"id\":\"a1\"}\n",
		  "0 of 2 layers, 1.0 of 4.0 MB" },
		{ "one pulled, the other downloading",
		  "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"a1\"}\n"
		  "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"b2\"}\n"
		  "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":10,"
		  "\"total\":4000000},\"id\":\"a1\"}\n"
		  "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":500000,"
		  "\"total\":2000000},\"id\":\"b2\"}\n"
		  "{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"a1\"}\n"
		  "{\"status\":\"Extracting\",\"progressDetail\":{\"current\":5,"
		  "\"total\":9},\"id\":\"a1\"}\n"
		  "{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"a1\"}\n",
		  "1 of 2 layers, 4.5 of 6.0 MB" },
		{ "layers already there",
		  "{\"status\":\"Already exists\",\"progressDetail\":{},\"id\":\"a1\"}\n"
		  "{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"b2\"}\n"
		  "{\"status\":\"Digest: sha256:0123\"}\n",
		  "2 of 2 layers" },
		{ "one layer, the line not yet ended",
		  "{\"status\":\"Pulling fs layer\",\"id\":\"a1\"}\n{\"status\":\"Pull comp",
		  "0 of 1 layer" },
	};
	static const size_t steps[] = { 0, 1, 5, 64 };
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		for (k = 0; k < ARRAY_SIZE(steps); k++) {
			struct docker_pull_progress p;
			struct buf b = BUF_INIT;
			size_t len = strlen(v[i].body), at = 0, n;

			docker_pull_progress_init(&p);
			while (at < len) {
				n = steps[k] && steps[k] < len - at ? steps[k] : len - at;
				docker_pull_progress_feed(&p, v[i].body + at, n, 1 << 20);
				at += n;
			}
			docker_pull_progress_summary(&p, &b);
			is_str(buf_cstr(&b), v[i].want, "pull summary, %s, chunks of %zu",
			       v[i].name, steps[k]);
			buf_release(&b);
			docker_pull_progress_release(&p);
		}
	}
}

/* Collects the elements handed over, joined by '|'; fails on "STOP". */
static int items_collect(void *arg, const char *item, size_t len)
{
	struct buf *b = arg;

	if (len == 6 && !memcmp(item, "\"STOP\"", 6))
		return error_set("stopped at STOP");
	if (b->len)
		buf_putc(b, '|');
	buf_add(b, item, len);
	return 0;
}

/* Feed body in chunks of step bytes (0: at once); the elements in *out. */
static int items_split(const char *body, size_t step, size_t max, char **out,
		       char **err)
{
	struct docker_json_items it;
	struct buf got = BUF_INIT;
	size_t len = strlen(body), at = 0, n;
	int rc = 0;

	docker_json_items_init(&it, items_collect, &got);
	while (rc == 0 && at < len) {
		n = step && step < len - at ? step : len - at;
		rc = docker_json_items_feed(&it, body + at, n, max);
		at += n;
	}
	if (rc == 0)
		rc = docker_json_items_finish(&it);
	*err = it.error ? xstrdup(it.error) : NULL;
	*out = buf_detach(&got);
	docker_json_items_release(&it);
	return rc;
}

static void test_json_items(void)
{
	static const struct {
		const char *name, *body;
		int rc;
		const char *items, *error;
	} v[] = {
		{ "an empty list", "[]", 0, "", NULL },
		{ "an empty list with space", " [ \n ] \n", 0, "", NULL },
		{ "objects", "[{\"a\":1},{\"b\":[1,2,{\"c\":{}}]}]", 0,
		  "{\"a\":1}|{\"b\":[1,2,{\"c\":{}}]}", NULL },
		{ "as the Engine writes it, with a newline",
		  "[{\"Id\":\"1\",\"Labels\":{\"cara.project\":\"p\"}}]\n", 0,
		  "{\"Id\":\"1\",\"Labels\":{\"cara.project\":\"p\"}}", NULL },
		{ "braces and brackets inside strings",
		  "[{\"s\":\"}]{[\"},{\"t\":\"a,b]\"}]", 0,
		  "{\"s\":\"}]{[\"}|{\"t\":\"a,b]\"}", NULL },
		{ "escaped quotes and backslashes",
		  "[{\"q\":\"say \\\"}\\\" \\\\\"},{\"r\":\"\\\\\\\\\"}]", 0,
		  "{\"q\":\"say \\\"}\\\" \\\\\"}|{\"r\":\"\\\\\\\\\"}", NULL },
		{ "scalars and strings", "[1, \"two\" ,true,null,[3]]", 0,
		  "1|\"two\"|true|null|[3]", NULL },
		{ "space around elements", "[ {\"a\":1} ,\n\t{\"b\":2} ]", 0,
		  "{\"a\":1}|{\"b\":2}", NULL },
		{ "not an array", "{\"message\":\"x\"}", -1, "", "not a JSON array" },
		{ "an empty answer", "", -1, "", "an empty answer where a JSON array was expected" },
		{ "a list cut short", "[{\"a\":1},{\"b\":", -1, "{\"a\":1}",
		  "the list ends before its closing ']'" },
		{ "a list without its end", "[{\"a\":1}", -1, "{\"a\":1}",
		  "the list ends before its closing ']'" },
		{ "two elements without a comma", "[{\"a\":1}{\"b\":2}]", -1,
		  "{\"a\":1}", "',' or ']' expected after an element" },
		{ "a trailing comma", "[{\"a\":1},]", -1, "{\"a\":1}",
		  "an element expected after ','" },
		{ "data after the end", "[1] x", -1, "1", "data after the end of the array" },
		{ "an unbalanced brace", "[1}", -1, "", "unbalanced '}'" },
		{ "the callback stops the list", "[1,\"STOP\",3]", -1, "1",
		  "stopped at STOP" },
	};
	static const size_t steps[] = { 0, 1, 2, 3, 7, 16 };
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		for (k = 0; k < ARRAY_SIZE(steps); k++) {
			char *got = NULL, *err = NULL;
			int rc = items_split(v[i].body, steps[k], 1 << 20, &got, &err);

			is_int(rc, v[i].rc, "list elements, %s, chunks of %zu: verdict",
			       v[i].name, steps[k]);
			is_str(got, v[i].items, "list elements, %s, chunks of %zu: elements",
			       v[i].name, steps[k]);
			is_str(err, v[i].error, "list elements, %s, chunks of %zu: error",
			       v[i].name, steps[k]);
			free(got);
			free(err);
		}
	}
	{
		/* an element may grow up to the cap, across chunks, not beyond */
		char *got = NULL, *err = NULL;

		is_int(items_split("[\"0123456789\",\"abc\"]", 3, 12, &got, &err), 0,
		       "an element of 12 bytes under a cap of 12");
		is_str(got, "\"0123456789\"|\"abc\"", "both elements");
		free(got);
		free(err);
		is_int(items_split("[\"0123456789ab\"]", 3, 12, &got, &err), -1,
		       "an element of 14 bytes over a cap of 12");
		is_str(err, "a list element is too large", "it says so");
		free(got);
		free(err);
	}
}

static void test_time_ns(void)
{
	static const struct {
		const char *s;
		int rc;
		int64_t ns;
	} v[] = {
		{ "2024-01-02T03:04:05.123456789Z", 0, 1704164645123456789LL },
		{ "2024-01-02T03:04:05Z", 0, 1704164645000000000LL },
		{ "2024-01-02T03:04:05.5Z", 0, 1704164645500000000LL },
		{ "2024-01-02T03:04:05.1234567891Z", 0, 1704164645123456789LL },
		{ "2024-01-02T04:04:05.25+01:00", 0, 1704164645250000000LL },
		{ "2024-01-02", -1, 0 },
		{ "", -1, 0 },
		{ NULL, -1, 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		int64_t ns = -7;
		int rc = docker_time_ns(v[i].s, &ns);

		is_int(rc, v[i].rc, "time '%s': rc", v[i].s ? v[i].s : "(null)");
		if (rc == 0)
			ok(ns == v[i].ns, "time '%s': %lld ns", v[i].s, (long long)ns);
	}
}

#define EV_ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define EV(type, action, attrs) "{\"status\":\"" action "\",\"id\":\"" EV_ID "\"," \
	"\"Type\":\"" type "\",\"Action\":\"" action "\",\"Actor\":{\"ID\":\"" EV_ID \
	"\",\"Attributes\":{" attrs "}},\"scope\":\"local\",\"time\":1704164645," \
	"\"timeNano\":1704164645123456789}"
#define NAME "\"image\":\"busybox\",\"cara.project\":\"p\",\"name\":\"p-db\""

static void test_event_parse(void)
{
	static const struct {
		const char *line;
		int rc;
		enum docker_event_kind kind;
		const char *health;
		int exit_code;
	} v[] = {
		{ EV("container", "create", NAME), 0, DOCKER_EVENT_CREATE, "", 0 },
		{ EV("container", "start", NAME), 0, DOCKER_EVENT_START, "", 0 },
		{ EV("container", "health_status: healthy", NAME), 0,
		  DOCKER_EVENT_HEALTH, "healthy", 0 },
		{ EV("container", "health_status: unhealthy", NAME), 0,
		  DOCKER_EVENT_HEALTH, "unhealthy", 0 },
		{ EV("container", "die", NAME ",\"exitCode\":\"137\""), 0,
		  DOCKER_EVENT_DIE, "", 137 },
		{ EV("container", "die", "\"exitCode\":\"0\"," NAME), 0,
		  DOCKER_EVENT_DIE, "", 0 },
		{ EV("container", "destroy", NAME), 0, DOCKER_EVENT_DESTROY, "", 0 },
		/* not of interest */
		{ EV("container", "exec_start: sh -c test -f /tmp/ok", NAME), 1, 0, "", 0 },
		{ EV("container", "health_status: somethinglongerthanfifteen", NAME), 1,
		  0, "", 0 },
		{ EV("network", "create", NAME), 1, 0, "", 0 },
		/* malformed */
		{ EV("container", "die", NAME), -1, 0, "", 0 },
		{ EV("container", "die", NAME ",\"exitCode\":\"x\""), -1, 0, "", 0 },
		{ EV("container", "start", "\"image\":\"busybox\""), -1, 0, "", 0 },
		{ "{\"Type\":\"container\",\"Action\":\"start\"}", -1, 0, "", 0 },
		{ "[1,2]", -1, 0, "", 0 },
		{ "{\"Type\":", -1, 0, "", 0 },
	};
	struct docker_event ev;
	struct buf b = BUF_INIT;
	const char *line;
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		rc = docker_event_parse(&ev, v[i].line, strlen(v[i].line));
		is_int(rc, v[i].rc, "event %zu: rc", i);
		if (rc != 0 || v[i].rc != 0)
			continue;
		is_int(ev.kind, v[i].kind, "event %zu: kind", i);
		is_str(ev.health, v[i].health, "event %zu: health", i);
		is_int(ev.exit_code, v[i].exit_code, "event %zu: exit code", i);
		is_str(ev.name, "p-db", "event %zu: name", i);
		is_str(ev.id, EV_ID, "event %zu: id", i);
		ok(ev.time_ns == 1704164645123456789LL, "event %zu: timeNano", i);
	}
	line = "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":"
	       "\"c1\",\"Attributes\":{\"name\":\"n\"}},\"time\":1700000000}";
	rc = docker_event_parse(&ev, line, strlen(line));
	is_int(rc, 0, "an event without timeNano");
	ok(ev.time_ns == 1700000000LL * 1000000000, "its time from time");
	buf_printf(&b, "{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":"
		   "{\"ID\":\"c1\",\"Attributes\":{\"name\":\"");
	for (i = 0; i < sizeof(ev.name); i++)
		buf_puts(&b, "n");
	buf_puts(&b, "\"}}}");
	is_int(docker_event_parse(&ev, buf_cstr(&b), b.len), 1,
	       "a name longer than cara's is none of cara's");
	buf_release(&b);
	error_clear();
}

static void apply(struct events_table *t, enum docker_event_kind kind,
		  const char *name, const char *id, const char *health, int code,
		  int64_t ns)
{
	struct docker_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	snprintf(ev.name, sizeof(ev.name), "%s", name);
	snprintf(ev.id, sizeof(ev.id), "%s", id);
	snprintf(ev.health, sizeof(ev.health), "%s", health);
	ev.exit_code = code;
	ev.time_ns = ns;
	if (events_table_apply(t, &ev) < 0)
		ok(0, "apply %s to %s", id, name);
}

static void test_events_table(void)
{
	struct events_table t = { 0 };
	const struct watch_entry *c;
	struct docker_event ev;
	size_t i;
	int rc = 0;

	ok(!events_table_find(&t, "p-db"), "an empty table knows nothing");
	apply(&t, DOCKER_EVENT_CREATE, "p-db", "A", "", 0, 10);
	apply(&t, DOCKER_EVENT_START, "p-db", "A", "", 0, 11);
	apply(&t, DOCKER_EVENT_START, "p-job", "J", "", 0, 12);
	apply(&t, DOCKER_EVENT_HEALTH, "p-db", "A", "healthy", 0, 13);
	c = events_table_find(&t, "p-db");
	ok(c && !strcmp(c->id, "A") && obs_state_is(c->state, "running") &&
	   !strcmp(obs_health_name(c->health), "healthy") && c->starts == 1 && c->seq == 3 &&
	   c->last_ns == 13, "create, start, healthy: running and healthy");
	apply(&t, DOCKER_EVENT_DIE, "p-job", "J", "", 3, 14);
	c = events_table_find(&t, "p-job");
	ok(c && obs_state_is(c->state, "exited") && c->exit_code == 3 && c->seq == 2,
	   "a job's die: exited with its code");
	apply(&t, DOCKER_EVENT_DIE, "p-db", "A", "", 137, 15);
	apply(&t, DOCKER_EVENT_START, "p-db", "A", "", 0, 16);
	c = events_table_find(&t, "p-db");
	ok(c && obs_state_is(c->state, "running") && !strcmp(obs_health_name(c->health), "") &&
	   c->starts == 2 && c->exit_code == 137, "restarted: running, health afresh");
	apply(&t, DOCKER_EVENT_HEALTH, "p-db", "A", "unhealthy", 0, 17);
	apply(&t, DOCKER_EVENT_DIE, "p-db", "A", "", 1, 18);
	apply(&t, DOCKER_EVENT_DESTROY, "p-db", "A", "", 0, 19);
	c = events_table_find(&t, "p-db");
	ok(c && obs_state_is(c->state, "removed") && c->seq == 8, "destroyed: removed");
	/* a recreate: the name now names B, which has told nothing of health */
	apply(&t, DOCKER_EVENT_CREATE, "p-db", "B", "", 0, 20);
	c = events_table_find(&t, "p-db");
	ok(c && !strcmp(c->id, "B") && obs_state_is(c->state, "created") &&
	   !strcmp(obs_health_name(c->health), "") && c->starts == 0 && c->exit_code == 0 &&
	   c->seq == 9, "another id: the entry starts afresh, its seq goes on");
	/* an event of B that came without its create (stream joined late) */
	apply(&t, DOCKER_EVENT_HEALTH, "p-job", "K", "healthy", 0, 21);
	c = events_table_find(&t, "p-job");
	ok(c && !strcmp(c->id, "K") && obs_state_is(c->state, "") &&
	   !strcmp(obs_health_name(c->health), "healthy"), "a first event of an id other than create");
	is_int(t.n, 2, "two names");
	/* the bound */
	memset(&ev, 0, sizeof(ev));
	snprintf(ev.id, sizeof(ev.id), "X");
	for (i = t.n; i < EVENTS_MAX_CONTAINERS && rc == 0; i++) {
		snprintf(ev.name, sizeof(ev.name), "n%zu", i);
		rc = events_table_apply(&t, &ev);
	}
	is_int(rc, 0, "%d names fit", EVENTS_MAX_CONTAINERS);
	snprintf(ev.name, sizeof(ev.name), "one-more");
	is_int(events_table_apply(&t, &ev), -1, "one more name does not");
	snprintf(ev.name, sizeof(ev.name), "p-db");
	is_int(events_table_apply(&t, &ev), 0, "a name already there still does");
	events_table_release(&t);
	events_table_release(&t);
}

static void test_api_negotiate(void)
{
	static const struct {
		const char *engine;        /* the Engine's ApiVersion */
		int rc;
		const char *api;           /* spoken, or words of the refusal */
		const char *why1, *why2;
	} v[] = {
		{ "1.41", 0, "1.41", NULL, NULL },
		{ "1.43", 0, "1.43", NULL, NULL },
		{ "1.30", 0, "1.30", NULL, NULL },
		{ "1.44", 0, "1.44", NULL, NULL },
		{ "1.45", 0, "1.44", NULL, NULL },
		{ "1.50", 0, "1.44", NULL, NULL },
		{ "1.100", 0, "1.44", NULL, NULL },
		{ "1.29", -1, NULL, "1.29", "1.30" },
		{ "1.25", -1, NULL, "1.25", "1.30" },
		{ "1.0", -1, NULL, "1.0", "1.30" },
		{ "2.0", -1, NULL, "'2.0'", "1.30 to 1.44" },
		{ "0.9", -1, NULL, "'0.9'", "1.30 to 1.44" },
		{ "1", -1, NULL, "'1'", "1.30 to 1.44" },
		{ "1.", -1, NULL, "'1.'", "1.30 to 1.44" },
		{ "1.x", -1, NULL, "'1.x'", "1.30 to 1.44" },
		{ "1.41.2", -1, NULL, "'1.41.2'", "1.30 to 1.44" },
		{ "v1.41", -1, NULL, "'v1.41'", "1.30 to 1.44" },
		{ " 1.41", -1, NULL, "' 1.41'", "1.30 to 1.44" },
		{ "1. 41", -1, NULL, "'1. 41'", "1.30 to 1.44" },
		{ "", -1, NULL, "''", "1.30 to 1.44" },
		{ NULL, -1, NULL, "no ApiVersion", "1.30 to 1.44" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		const char *e = v[i].engine ? v[i].engine : "(null)";
		char api[16] = "junk";
		int rc = docker_api_negotiate(api, sizeof(api), v[i].engine);

		is_int(rc, v[i].rc, "Engine API '%s': %s", e,
		       v[i].rc ? "refused" : "spoken");
		if (v[i].rc == 0) {
			is_str(api, v[i].api, "Engine API '%s': cara speaks", e);
		} else {
			is_str(api, "", "Engine API '%s': no version", e);
			ok(strstr(error_last(), v[i].why1) && strstr(error_last(), v[i].why2),
			   "Engine API '%s': the refusal names '%s' and '%s': %s", e,
			   v[i].why1, v[i].why2, error_last());
		}
	}
}

/* Healthcheck.StartInterval: sent from API 1.44 on, refused below (an
 * older Engine would drop it), and no field at all when unset. */
static void test_start_interval_json(void)
{
	static const struct {
		const char *api;
		int64_t start_interval_ms;
		const char *want;          /* in the body, or in the refusal */
		bool refused;
	} v[] = {
		{ "1.44", 1500, "\"StartInterval\":1500000000", false },
		{ "1.41", 1500, "healthcheck StartInterval needs Docker Engine API "
		  "1.44 or newer, and this Engine speaks 1.41", true },
		{ "1.43", 1, "this Engine speaks 1.43", true },
		{ NULL, 1500, "speaks an unknown version", true },
		{ "1.41", 0, "\"StartPeriod\":2000000000", false },
		{ "1.44", 0, "\"StartPeriod\":2000000000", false },
	};
	struct workload_spec s;
	struct healthcheck h;
	size_t i;

	memset(&h, 0, sizeof(h));
	h.present = true;
	strvec_push(&h.test, "CMD");
	strvec_push(&h.test, "true");
	h.start_period_ms = 2000;
	memset(&s, 0, sizeof(s));
	s.name = "p-web";
	s.image = "cara-local/busybox:1";
	s.health = &h;
	s.stop_timeout_s = -1;
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		char *body;

		h.start_interval_ms = v[i].start_interval_ms;
		error_clear();
		body = docker_container_json(&s, v[i].api);
		if (v[i].refused) {
			ok(!body && strstr(error_last(), v[i].want) &&
			   strstr(error_last(), "create container 'p-web'"),
			   "API %s, startInterval %lld ms: refused: %s",
			   v[i].api ? v[i].api : "(none)",
			   (long long)v[i].start_interval_ms, error_last());
		} else {
			ok(body && strstr(body, v[i].want) &&
			   (v[i].start_interval_ms > 0) == !!strstr(body, "StartInterval"),
			   "API %s, startInterval %lld ms: %s", v[i].api,
			   (long long)v[i].start_interval_ms, body ? body : error_last());
		}
		free(body);
	}
	ok(docker_api_has_start_interval("1.44") && docker_api_has_start_interval("1.50") &&
	   !docker_api_has_start_interval("1.43") && !docker_api_has_start_interval(NULL) &&
	   !docker_api_has_start_interval("x"), "StartInterval from API 1.44 on");
	strvec_release(&h.test);
}

/* Feed body to a pull's progress in chunks of step bytes (0: at once). */
static int pull_verdict(const char *body, size_t step, char **out_error)
{
	struct docker_pull_progress p;
	size_t len = strlen(body), off = 0, n;
	int rc = 0;

	docker_pull_progress_init(&p);
	do {
		n = step && len - off > step ? step : len - off;
		if (docker_pull_progress_feed(&p, body + off, n, 1 << 20) < 0)
			rc = -2;
		off += n;
	} while (off < len);
	if (rc == 0)
		rc = docker_pull_progress_finish(&p);
	*out_error = p.error ? xstrdup(p.error) : NULL;
	docker_pull_progress_release(&p);
	return rc;
}

static void test_pull_progress(void)
{
	static const struct {
		const char *name, *body;
		int rc;
		const char *error;
	} v[] = {
		{ "success",
		  "{\"status\":\"Pulling from library/busybox\",\"id\":\"1\"}\n"
		  "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"a1\"}\n"
		  "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1,"
		  "\"total\":2},\"progress\":\"[=>  ]\",\"id\":\"a1\"}\n"
		  "{\"status\":\"Digest: sha256:0123\"}\n"
		  "{\"status\":\"Status: Downloaded newer image for busybox:1\"}\n",
		  0, NULL },
		{ "success, the last line without newline",
		  "{\"status\":\"Pulling from library/busybox\"}\n"
		  "{\"status\":\"Status: Image is up to date for busybox:1\"}",
		  0, NULL },
		{ "an empty answer", "", 0, NULL },
		{ "blank lines and CRLF",
		  "\n\r\n{\"status\":\"Pulling\"}\r\n\n", 0, NULL },
		{ "a line that is not JSON is progress",
		  "Pulling...\n{\"status\":\"done\"}\n", 0, NULL },
		{ "an error key that is not a string is progress",
		  "{\"error\":{\"code\":1}}\n{\"error\":null}\n", 0, NULL },
		{ "in-band error after progress",
		  "{\"status\":\"Pulling from library/busybox\",\"id\":\"9.9\"}\r\n"
		  "{\"errorDetail\":{\"message\":\"manifest for busybox:9.9 not found\"},"
		  "\"error\":\"manifest for busybox:9.9 not found: manifest unknown\"}\r\n",
		  -1, "manifest for busybox:9.9 not found: manifest unknown" },
		{ "an error line without newline at the end",
		  "{\"status\":\"Pulling\"}\n{\"error\":\"unauthorized: authentication required\"}",
		  -1, "unauthorized: authentication required" },
		{ "errorDetail alone",
		  "{\"errorDetail\":{\"code\":500,\"message\":\"no space left on device\"}}\n",
		  -1, "no space left on device" },
		{ "error wins over errorDetail",
		  "{\"errorDetail\":{\"message\":\"detail\"},\"error\":\"error\"}\n",
		  -1, "error" },
		{ "the last of two errors",
		  "{\"error\":\"first\"}\n{\"status\":\"x\"}\n{\"error\":\"second\"}\n",
		  -1, "second" },
		{ "an error, then more progress: still failed",
		  "{\"error\":\"layer broken\"}\n{\"status\":\"x\"}\n",
		  -1, "layer broken" },
		{ "a message of several lines: its first line, trimmed",
		  "{\"error\":\" one \\ntwo\"}\n", -1, "one" },
		{ "an error in a line after a long one",
		  "{\"status\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}\n"
		  "{\"error\":\"  toomanyrequests: rate limit  \"}\n",
		  -1, "toomanyrequests: rate limit" },
	};
	/* 0: at once; 1 splits between every two bytes, the others in
	 * the middle of lines and of escapes */
	static const size_t steps[] = { 0, 1, 2, 3, 7, 16, 50 };
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		const char *body = v[i].body;

		for (k = 0; k < ARRAY_SIZE(steps); k++) {
			char *err = NULL;
			int rc = pull_verdict(body, steps[k], &err);

			is_int(rc, v[i].rc, "pull progress, %s, chunks of %zu: verdict",
			       v[i].name, steps[k]);
			is_str(err, v[i].error, "pull progress, %s, chunks of %zu: error",
			       v[i].name, steps[k]);
			free(err);
		}
	}
	{
		/* a line that never ends is capped; complete lines are not */
		struct docker_pull_progress p;
		char chunk[64];

		memset(chunk, 'x', sizeof(chunk));
		docker_pull_progress_init(&p);
		is_int(docker_pull_progress_feed(&p, chunk, 64, 100), 0, "64 of 100 bytes");
		is_int(docker_pull_progress_feed(&p, chunk, 64, 100), -1,
		       "an incomplete line of 128 bytes is over 100");
		is_int(docker_pull_progress_feed(&p, "\n", 1, 100), 0, "its newline");
		is_int(docker_pull_progress_feed(&p, chunk, 64, 100), 0,
		       "then 64 bytes fit again");
		is_int(docker_pull_progress_finish(&p), 0, "no error");
		docker_pull_progress_release(&p);
		docker_pull_progress_release(&p);
		ok(p.error == NULL && p.line.len == 0, "release twice is harmless");
	}
	{
		/* a huge message is cut */
		struct docker_pull_progress p;
		struct buf b = BUF_INIT;

		buf_puts(&b, "{\"error\":\"");
		for (i = 0; i < 5000; i++)
			buf_putc(&b, 'e');
		buf_puts(&b, "\"}\n");
		docker_pull_progress_init(&p);
		docker_pull_progress_feed(&p, buf_cstr(&b), b.len, 1 << 20);
		is_int(docker_pull_progress_finish(&p), -1, "a long error fails");
		ok(p.error && strlen(p.error) < 500 && strstr(p.error, "..."),
		   "long error truncated (%zu)", p.error ? strlen(p.error) : 0);
		docker_pull_progress_release(&p);
		buf_release(&b);
	}
}

/* ---- against the Engine ---- */

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static char prefix[32];
static char net[64], vol[64], web[64], job[64], bad[64], bind_dir[96];

static void cleanup(void)
{
	char *cmd = xasprintf("docker rm -f %s %s %s >/dev/null 2>&1; "
			      "docker network rm $(docker network ls -q "
			      "--filter name='^%s$') >/dev/null 2>&1; "
			      "docker volume rm %s >/dev/null 2>&1; rm -rf %s",
			      web, job, bad, net, vol, bind_dir);

	if (system(cmd) == -1)
		printf("# cleanup could not run\n");
	free(cmd);
}

/* First line of a command's output, or "" (caller frees). */
static char *sh(const char *cmd)
{
	struct buf out = BUF_INIT;
	char line[4096];
	FILE *f;

	if ((f = popen(cmd, "r"))) {
		if (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = '\0';
			buf_puts(&out, line);
		}
		pclose(f);
	}
	return buf_detach(&out);
}

/* The first line of the command fmt prints is want. */
static void is_sh(const char *want, const char *name, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
static void is_sh(const char *want, const char *name, const char *fmt, ...)
{
	struct buf cmd = BUF_INIT;
	va_list ap;
	char *got;

	va_start(ap, fmt);
	buf_vprintf(&cmd, fmt, ap);
	va_end(ap);
	got = sh(buf_cstr(&cmd));
	is_str(got, want, "%s", name);
	free(got);
	buf_release(&cmd);
}

static void *observe_thread(void *arg)
{
	struct docker *d = NULL;
	struct observed o = OBSERVED_INIT;
	int i;

	(void)arg;
	for (i = 0; i < 5; i++) {
		if (docker_open(&d, NULL) < 0 || docker_observe(d, &o) < 0) {
			docker_free(d);
			error_clear();
			return (void *)1;
		}
		observed_release(&o);
		docker_free(d);
		d = NULL;
	}
	error_clear();
	return NULL;
}

static void test_threads(void)
{
	pthread_t th[4];
	size_t i, failed = 0;
	void *r;

	for (i = 0; i < ARRAY_SIZE(th); i++)
		if (pthread_create(&th[i], NULL, observe_thread, NULL))
			failed++;
	for (i = 0; i < ARRAY_SIZE(th) - failed; i++) {
		pthread_join(th[i], &r);
		if (r)
			failed++;
	}
	is_int(failed, 0, "four threads with their own handles observe at once");
}

static const struct obs_container *find(const struct observed *o, const char *name)
{
	size_t i;

	for (i = 0; i < o->ncontainers; i++)
		if (!strcmp(o->containers[i].name, name))
			return &o->containers[i];
	return NULL;
}

/* Observe with exactly four requests; the result is o's. */
static int observe(struct docker *d, struct observed *o, const char *when)
{
	unsigned long before = docker_calls(d);
	int rc;

	observed_release(o);
	rc = docker_observe(d, o);
	is_int(rc, 0, "observe %s", when);
	is_int(docker_calls(d) - before, 4, "observe %s: four Engine calls", when);
	return rc;
}

static void test_networks_volumes(struct docker *d)
{
	is_int(docker_network_create(d, net, prefix, NULL, false), 0, "network create");
	is_int(docker_network_create(d, net, prefix, NULL, false), 0, "network create again is fine");
	is_sh(prefix, "network has the project label",
	      "docker network inspect -f '{{index .Labels \"cara.project\"}}' %s", net);
	is_sh("bridge", "network is a bridge", "docker network inspect -f '{{.Driver}}' %s",
	      net);
	/* what a create cut short by a kill can leave: a second of that name */
	is_sh("2", "a duplicate network made behind our back",
	      "sock=${DOCKER_HOST:-unix:///var/run/docker.sock}; "
	      "curl -sf --unix-socket \"${sock#unix://}\" -o /dev/null "
	      "-H 'Content-Type: application/json' -d '{\"Name\":\"%s\","
	      "\"CheckDuplicate\":false,\"Labels\":{\"cara.project\":\"%s\"}}' "
	      "http://localhost/networks/create; "
	      "docker network ls -q --filter name='^%s$' | wc -l", net, prefix, net);
	is_int(docker_network_create(d, net, prefix, NULL, false), 0, "network create with a duplicate");
	is_sh("1", "create leaves one network of the name",
	      "docker network ls -q --filter name='^%s$' | wc -l", net);
	is_int(docker_volume_create(d, vol, prefix, "Ephemeral", NULL), 0, "volume create");
	is_int(docker_volume_create(d, vol, prefix, "Ephemeral", NULL), 0,
	       "volume create again is fine");
	is_sh("Ephemeral", "volume has the type label",
	      "docker volume inspect -f '{{index .Labels \"cara.volume.type\"}}' %s", vol);
	/* the same names for another project or owner: never taken as ours */
	is_int(docker_volume_create(d, vol, "someone-else", "Ephemeral", NULL),
	       ERR_FOREIGN, "a volume of another project is refused");
	ok(strstr(error_last(), "belongs to project"), "saying whose: %s", error_last());
	is_int(docker_network_create(d, net, prefix, "0123owner", false), ERR_FOREIGN,
	       "a network without our owner label is refused");
	ok(strstr(error_last(), "another cara state"), "saying so: %s", error_last());
	{
		char *bare = xasprintf("%s-bare", vol);
		char *cmd = xasprintf("docker volume create %s >/dev/null", bare);

		ok(system(cmd) == 0, "an unlabelled volume made by hand");
		is_int(docker_volume_create(d, bare, prefix, "Ephemeral", NULL),
		       ERR_FOREIGN, "an unlabelled volume of the name is refused");
		ok(strstr(error_last(), "is not cara's"), "saying so: %s", error_last());
		free(cmd);
		cmd = xasprintf("docker volume rm %s >/dev/null", bare);
		ok(system(cmd) == 0, "removed");
		free(cmd);
		free(bare);
	}
}

static void test_images(struct docker *d)
{
	char *missing = xasprintf("cara-local/%s-missing:9.9", prefix);

	is_int(docker_image_inspect(d, "cara-local/busybox:1"), 0, "local image present");
	is_int(docker_image_inspect(d, missing), ERR_NOTFOUND, "absent image: not found");
	ok(strstr(error_last(), "404") && strstr(error_last(), missing),
	   "not-found message: %s", error_last());
	ok(docker_image_pull(d, missing, NULL, NULL, NULL) < 0,
	   "pull that cannot succeed fails (ERR_REFUSED when Hub says denied)");
	ok(strstr(error_last(), "pull") && strstr(error_last(), missing) &&
	   strlen(error_last()) > strlen(missing) + 16,
	   "pull failure says why: %s", error_last());
	free(missing);
}

/* The long-running service: labels, env, ports, mounts, healthcheck. */
static int create_web(struct docker *d, char **out_id)
{
	struct strvec cmd = STRVEC_INIT, env = STRVEC_INIT;
	char k1[] = "cara.project", k2[] = "cara.service", k3[] = "cara.spec-hash",
	     k4[] = "cara.spec-fields", k5[] = "team", svc[] = "web",
	     hash[] = "0123abcd", fields[] = "image,env", team[] = "a b";
	struct kv labels[5];
	char lo[] = "127.0.0.1", tcp[] = "tcp", udp[] = "udp";
	struct port ports[3];
	struct workload_mount mounts[2];
	struct healthcheck h;
	struct workload_spec s;
	struct workload_net wn = { NULL, NULL };
	int rc;

	strvec_push(&cmd, "sh");
	strvec_push(&cmd, "-c");
	strvec_push(&cmd, "trap 'exit 0' TERM; while :; do sleep 1; done");
	strvec_push(&env, "A=1");
	strvec_push(&env, "B=two words");
	memset(labels, 0, sizeof(labels));
	labels[0].key = k1; labels[0].value = prefix;
	labels[1].key = k2; labels[1].value = svc;
	labels[2].key = k3; labels[2].value = hash;
	labels[3].key = k4; labels[3].value = fields;
	labels[4].key = k5; labels[4].value = team;
	memset(ports, 0, sizeof(ports));
	ports[0].host_ip = lo; ports[0].host_port = 0; ports[0].container_port = 8080;
	ports[0].protocol = tcp;
	ports[1].host_ip = lo; ports[1].host_port = 0; ports[1].container_port = 8080;
	ports[1].protocol = udp;
	ports[2].host_ip = NULL; ports[2].host_port = 0; ports[2].container_port = 9090;
	ports[2].protocol = NULL;
	memset(mounts, 0, sizeof(mounts));
	mounts[0].type = "volume"; mounts[0].source = vol; mounts[0].target = "/data";
	mounts[1].type = "bind"; mounts[1].source = bind_dir; mounts[1].target = "/host";
	mounts[1].read_only = true;
	memset(&h, 0, sizeof(h));
	h.present = true;
	strvec_push(&h.test, "CMD-SHELL");
	strvec_push(&h.test, "test -d /data");
	h.interval_ms = 500;
	h.timeout_ms = 2000;
	h.start_period_ms = 0;
	h.retries = 3;
	memset(&s, 0, sizeof(s));
	s.name = web;
	s.image = "cara-local/busybox:1";
	s.cmd = &cmd;
	s.working_dir = "/tmp";
	s.user = "0:0";
	s.env = &env;
	s.labels = labels;
	s.nlabels = ARRAY_SIZE(labels);
	s.mounts = mounts;
	s.nmounts = ARRAY_SIZE(mounts);
	s.ports = ports;
	s.nports = ARRAY_SIZE(ports);
	s.health = &h;
	s.restart = "unless-stopped";
	s.stop_timeout_s = 7;
	s.memory_bytes = 64 << 20;
	s.nano_cpus = 500000000;
	s.memory_reservation_bytes = 32 << 20;
	s.memory_swap_bytes = 128 << 20;
	s.cpu_shares = 512;
	wn.name = net;
	s.nets = &wn;
	s.nnets = 1;
	s.alias = "web";
	rc = docker_container_create(d, &s, out_id);
	if (rc == 0) {
		char *again = NULL;

		is_int(docker_container_create(d, &s, &again), -1, "create a taken name fails");
		ok(strstr(error_last(), "409 Conflict") && strstr(error_last(), web),
		   "conflict message: %s", error_last());
		ok(again == NULL, "no id on failure");
	}
	s.name = bad;
	s.image = "cara-local/nonexistent-image:0";
	{
		char *none = NULL;

		is_int(docker_container_create(d, &s, &none), ERR_NOTFOUND,
		       "create from a missing image: not found");
		ok(strstr(error_last(), "404") && strstr(error_last(), bad),
		   "missing image message: %s", error_last());
		ok(none == NULL, "no id");
	}
	strvec_release(&h.test);
	strvec_release(&cmd);
	strvec_release(&env);
	return rc;
}

static void check_web_config(void)
{
	is_sh("A=1;B=two words;", "env",
	      "docker inspect -f '{{range .Config.Env}}{{.}};{{end}}' %s | grep -o 'A=.*words;'",
	      web);
	is_sh("a b", "user label",
	      "docker inspect -f '{{index .Config.Labels \"team\"}}' %s", web);
	is_sh("127.0.0.1", "port bound to 127.0.0.1",
	      "docker inspect -f '{{(index (index .HostConfig.PortBindings \"8080/tcp\") 0).HostIp}}' %s",
	      web);
	is_sh("127.0.0.1", "udp port too",
	      "docker inspect -f '{{(index (index .HostConfig.PortBindings \"8080/udp\") 0).HostIp}}' %s",
	      web);
	is_sh("{}", "9090/tcp exposed",
	      "docker inspect -f '{{json (index .Config.ExposedPorts \"9090/tcp\")}}' %s", web);
	/* RW false: the bind mount is read-only */
	is_sh("bind /host false,volume /data true", "mounts",
	      "docker inspect -f '{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}}{{\"\\n\"}}{{end}}' %s"
	      " | grep . | sort | paste -sd,", web);
	is_sh("[CMD-SHELL test -d /data] 500ms 3", "healthcheck",
	      "docker inspect -f '{{.Config.Healthcheck.Test}} {{.Config.Healthcheck.Interval}} "
	      "{{.Config.Healthcheck.Retries}}' %s", web);
	is_sh("unless-stopped 67108864 500000000 7", "restart, memory, cpus, stop timeout",
	      "docker inspect -f '{{.HostConfig.RestartPolicy.Name}} {{.HostConfig.Memory}} "
	      "{{.HostConfig.NanoCpus}} {{.Config.StopTimeout}}' %s", web);
	is_sh("33554432 512", "memory reservation, CPU shares",
	      "docker inspect -f '{{.HostConfig.MemoryReservation}} "
	      "{{.HostConfig.CpuShares}}' %s", web);
	/* the Engine keeps the swap limit only where the kernel accounts swap
	 * (else -1, with a warning): what was asked, or that */
	is_sh("ok", "swap limit",
	      "docker inspect -f '{{.HostConfig.MemorySwap}}' %s | "
	      "grep -qxE '134217728|-1' && echo ok", web);
	is_sh("/tmp 0:0", "working dir and user",
	      "docker inspect -f '{{.Config.WorkingDir}} {{.Config.User}}' %s", web);
}

static void check_web_running(const char *net_name)
{
	char *cmd = xasprintf("docker inspect -f '{{(index .NetworkSettings.Networks \"%s\").Aliases}}' %s",
			      net_name, web);
	char *got = sh(cmd);

	ok(strstr(got, "web") != NULL, "alias 'web' on the project network: %s", got);
	free(got);
	free(cmd);
	cmd = xasprintf("docker inspect -f '{{(index (index .NetworkSettings.Ports \"8080/tcp\") 0).HostPort}}' %s",
			web);
	got = sh(cmd);
	free(cmd);
	ok(strtol(got, NULL, 10) > 0, "an ephemeral host port was given: %s", got);
	free(got);
}

static void test_web(struct docker *d)
{
	struct observed o = OBSERVED_INIT;
	const struct obs_container *c;
	struct workload_state cs;
	struct timespec t0;
	char *id = NULL;
	int code = -7, i;

	if (create_web(d, &id) < 0) {
		ok(0, "create container: %s", error_last());
		return;
	}
	ok(id && strlen(id) == 64, "create returns the id: %s", id);
	check_web_config();
	is_int(docker_container_state(d, web, &cs), 0, "state of a created container");
	is_str(obs_state_name(cs.state), "created", "it is created");

	is_int(docker_container_start(d, web), 0, "start");
	is_int(docker_container_start(d, id), 0, "start again (by id) is fine");
	check_web_running(net);
	for (i = 0; i < 100; i++) {
		if (docker_container_state(d, web, &cs) < 0 || strcmp(obs_health_name(cs.health), "starting"))
			break;
		usleep(100000);
	}
	is_str(obs_state_name(cs.state), "running", "running");
	is_str(obs_health_name(cs.health), "healthy", "healthy once the check passed");

	if (observe(d, &o, "with the container running") == 0) {
		c = find(&o, web);
		ok(c != NULL, "observe sees the container");
		if (c) {
			is_str(c->id, id, "observed id");
			is_str(c->project, prefix, "observed project label");
			is_str(c->service, "web", "observed service label");
			is_str(c->spec_hash, "0123abcd", "observed spec hash");
			is_str(c->spec_fields, "image,env", "observed spec fields");
			is_str(c->image, "cara-local/busybox:1", "observed image");
			is_str(obs_state_name(c->state), "running", "observed state");
			is_str(obs_health_name(c->health), "healthy", "observed health");
			ok(c->created > 1600000000, "observed created time");
		}
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(docker_container_wait(d, web, 300, &code), 1, "wait times out on a running one");
	/* the wait's own 300 ms, not the handle's 30 s request timeout */
	ok(elapsed_ms(&t0) < 20000, "within its timeout, not the handle's (%ld ms)",
	   elapsed_ms(&t0));

	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(docker_container_stop(d, web, 1), 0, "stop with 1 s grace");
	is_int(docker_container_stop(d, web, 1), 0, "stop again is fine");
	is_int(docker_container_stop(d, web, -1), 0, "stop with its own grace when stopped");
	is_int(docker_container_wait(d, web, 5000, &code), 0, "wait on a stopped one");
	is_int(code, 0, "exit code 0");
	is_int(docker_container_state(d, web, &cs), 0, "state after stop");
	is_str(obs_state_name(cs.state), "exited", "exited");
	is_int(cs.exit_code, 0, "state exit code 0");
	ok(!cs.oom_killed, "not OOM killed");

	/* start again, and stop with the container's own period (7 s, trapped) */
	is_int(docker_container_start(d, web), 0, "restart it");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	is_int(docker_container_stop(d, web, -1), 0, "stop with its own grace period");
	/* the TERM trap ended it (0); a stop that ran out its grace period
	 * would have killed it (137): no clock needed to tell */
	is_int(docker_container_state(d, web, &cs), 0, "state after the second stop");
	is_int(cs.exit_code, 0, "ended by its TERM trap, not killed");

	if (observe(d, &o, "with the container stopped") == 0) {
		c = find(&o, web);
		ok(c && c->state == OBS_EXITED && c->exit_code == 0,
		   "observed exited with code 0");
		ok(c && c->health == HEALTH_NONE, "no health when exited");
	}
	observed_release(&o);

	is_int(docker_container_remove(d, web, true), 0, "remove");
	is_int(docker_container_remove(d, web, true), 0, "remove again is fine");
	is_int(docker_container_state(d, web, &cs), ERR_NOTFOUND, "state of a removed one");
	ok(strstr(error_last(), "404 Not Found") && strstr(error_last(), web),
	   "not-found message: %s", error_last());
	is_int(docker_container_start(d, web), ERR_NOTFOUND, "start a missing one");
	is_int(docker_container_stop(d, web, 1), ERR_NOTFOUND, "stop a missing one");
	is_int(docker_container_stop(d, web, -1), ERR_NOTFOUND,
	       "stop a missing one with its own grace");
	is_int(docker_container_wait(d, web, 1000, &code), ERR_NOTFOUND,
	       "wait for a missing one");
	free(id);
}

/* A one-shot job: exit codes through wait, state and observe. */
/* The watcher of test_live, following what test_job does. */
static struct events *live_ev;

/* What the stream tells of name by deadline_ms, once it says status. */
static bool events_say(const char *name, const char *status,
		       struct watch_entry *c)
{
	int64_t end = monotonic_ms() + 10000;
	unsigned long seq = 0;

	while (events_wait(live_ev, name, &seq, end, c) == 1)
		if (!strcmp(obs_state_name(c->state), status))
			return true;
	return false;
}

static void test_job(struct docker *d)
{
	struct watch_entry ec;
	struct strvec cmd = STRVEC_INIT, ep = STRVEC_INIT;
	struct workload_spec s;
	struct workload_net wn = { NULL, NULL };
	struct workload_state cs;
	struct observed o = OBSERVED_INIT;
	const struct obs_container *c;
	char k1[] = "cara.project", k2[] = "cara.service", svc[] = "job";
	struct kv labels[2];
	char *id = NULL;
	int code = -7;

	strvec_push(&cmd, "exit 3");
	strvec_push(&ep, "sh");
	strvec_push(&ep, "-c");
	memset(labels, 0, sizeof(labels));
	labels[0].key = k1; labels[0].value = prefix;
	labels[1].key = k2; labels[1].value = svc;
	memset(&s, 0, sizeof(s));
	s.name = job;
	s.image = "cara-local/busybox:1";
	s.cmd = &cmd;
	s.entrypoint = &ep;
	s.labels = labels;
	s.nlabels = ARRAY_SIZE(labels);
	s.restart = "no";
	s.stop_timeout_s = -1;
	wn.name = net;
	s.nets = &wn;
	s.nnets = 1;
	s.alias = "job";
	is_int(docker_container_create(d, &s, &id), 0, "create job: %s",
	       id ? "" : error_last());
	is_int(docker_container_wait(d, job, 2000, &code), 0,
	       "wait on a created job returns at once");
	is_int(docker_container_start(d, job), 0, "start job");
	is_int(docker_container_wait(d, job, 10000, &code), 0, "wait for the job");
	is_int(code, 3, "job exit code");
	is_int(docker_container_state(d, job, &cs), 0, "job state");
	is_str(obs_state_name(cs.state), "exited", "job exited");
	is_int(cs.exit_code, 3, "job state exit code");
	is_str(obs_health_name(cs.health), "", "no healthcheck, no health");
	is_str(cs.id, id ? id : "?", "the state names the container's id");
	ok(cs.started_ns > 1500000000LL * 1000000000, "and when it started");
	ok(events_say(job, "exited", &ec), "the event stream saw the job exit");
	is_int(ec.exit_code, 3, "with its exit code");
	is_str(ec.id, id ? id : "?", "of that container");
	is_int(ec.starts, 1, "started once");
	if (observe(d, &o, "after the job") == 0) {
		c = find(&o, job);
		ok(c && c->state == OBS_EXITED && c->exit_code == 3,
		   "observed exit code 3");
		ok(c && !strcmp(c->spec_hash, "") && !strcmp(c->spec_fields, ""),
		   "absent labels observed as empty");
	}
	observed_release(&o);
	is_int(docker_container_remove(d, job, false), 0, "remove the exited job unforced");
	strvec_release(&cmd);
	strvec_release(&ep);
	free(id);
}

static void test_observe_objects(struct docker *d)
{
	struct observed o = OBSERVED_INIT;
	size_t i;
	bool net_seen = false, vol_seen = false;

	if (observe(d, &o, "networks and volumes") < 0)
		return;
	for (i = 0; i < o.nnetworks; i++)
		if (!strcmp(o.networks[i].name, net))
			net_seen = !strcmp(o.networks[i].project, prefix) &&
				   *o.networks[i].id;
	for (i = 0; i < o.nvolumes; i++)
		if (!strcmp(o.volumes[i].name, vol))
			vol_seen = !strcmp(o.volumes[i].project, prefix) &&
				   !strcmp(o.volumes[i].type, "Ephemeral");
	ok(net_seen, "observe sees the network with its project");
	ok(vol_seen, "observe sees the volume with project and type");
	ok(observed_has_image(&o, "cara-local/busybox:1"), "observe lists local images");
	for (i = 0; i < o.nimages; i++)
		if (strstr(o.images[i], "<none>"))
			break;
	is_int(i, o.nimages, "no <none> image references");
	observed_release(&o);
}

static void test_live(void)
{
	struct docker *d = NULL;
	const char *v;
	long long minor = 0;
	unsigned long calls;

	snprintf(prefix, sizeof(prefix), "cdt%d", (int)getpid());
	snprintf(net, sizeof(net), "cara-%s", prefix);
	snprintf(vol, sizeof(vol), "cara-%s-data", prefix);
	snprintf(web, sizeof(web), "%s-web", prefix);
	snprintf(job, sizeof(job), "%s-job", prefix);
	snprintf(bad, sizeof(bad), "%s-bad", prefix);
	snprintf(bind_dir, sizeof(bind_dir), "/tmp/%s-bind", prefix);
	cleanup();
	atexit(cleanup);
	mkdir(bind_dir, 0755);

	if (docker_open(&d, NULL) < 0) {
		ok(0, "open the Engine: %s", error_last());
		return;
	}
	v = docker_api_version(d);
	ok(v && !strncmp(v, "1.", 2) && parse_ll(v + 2, 30, 43, &minor) == 0,
	   "API version negotiated: %s", v);
	is_int(docker_calls(d), 1, "open costs one call");

	test_networks_volumes(d);
	test_images(d);
	test_observe_objects(d);
	test_web(d);
	{
		struct docker_options eo = { NULL, 0, docker_api_version(d) };
		int64_t t0;

		is_int(events_start(&live_ev, &eo, (int64_t)time(NULL) - 1), 0,
		       "start the event watcher");
		ok(events_ready(live_ev, monotonic_ms() + 5000), "the stream is up");
		test_job(d);
		t0 = monotonic_ms();
		is_int(events_stop(live_ev), 1, "the stream is one request, no "
		       "GET /version with the version known");
		/* the stream has no timeout: a stop that did not cut it would
		 * hang here, not merely be slow */
		ok(monotonic_ms() - t0 < 20000, "the watcher stops mid-stream, the "
		   "stream cut (%lld ms)", (long long)(monotonic_ms() - t0));
		live_ev = NULL;
	}
	test_threads();

	is_int(docker_network_remove(d, net), 0, "network remove");
	is_int(docker_network_remove(d, net), 0, "network remove again is fine");
	is_int(docker_volume_remove(d, vol), 0, "volume remove");
	is_int(docker_volume_remove(d, vol), 0, "volume remove again is fine");
	calls = docker_calls(d);
	is_int(docker_image_inspect(d, "cara-local/busybox:1"), 0, "one more request");
	is_int(docker_calls(d), calls + 1, "docker_calls counts it");
	docker_free(d);
	cleanup();
}

int main(void)
{
	test_endpoint();
	test_status_text();
	test_escape();
	test_split_ref();
	test_format_error();
	test_unreachable();
	test_api_negotiate();
	test_start_interval_json();
	test_pull_progress();
	test_json_items();
	test_pull_summary();
	test_time_ns();
	test_event_parse();
	test_events_table();
	if (system("docker version >/dev/null 2>&1") == 0)
		test_live();
	else
		skip("no Docker Engine answers", "tests against the Engine");
	docker_free(NULL);
	error_clear();
	return tap_done();
}
