/*
 * backend/engine/internal.h - what the files of the Engine client share
 * and nothing outside backend/engine/ sees but the Swarm backend, which
 * speaks the same API over the same transport: the handle, a request,
 * the transport and the JSON helpers.
 */
#ifndef CARA_ENGINE_INTERNAL_H
#define CARA_ENGINE_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <curl/curl.h>
#include <jansson.h>

#include "backend/engine/docker.h"
#include "names.h"
#include "util.h"

#define DEFAULT_SOCKET "/var/run/docker.sock"
/* Newest API this file knows (checked against the Engine's API history
 * for every endpoint and field cara uses); the oldest it needs: wait with
 * condition=not-running is 1.30 (Healthcheck.StartPeriod is 1.29). */
#define API_MAX_MINOR 44
#define API_MIN_MINOR 30
#define DEFAULT_TIMEOUT_MS 30000L
#define CONNECT_TIMEOUT_MS 5000L
#define PULL_TIMEOUT_MS (30L * 60 * 1000)
#define PULL_IDLE_S 120L
#define BUILD_IDLE_S 600L        /* a RUN step may print nothing for long */
#define PULL_NOTE_MS 5000
#define MAX_RESPONSE ((size_t)64 << 20)
#define MAX_EVENT_LINE ((size_t)1 << 20)
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
	/* the event stream, read line by line as it comes */
	void (*ev_fn)(void *arg, const struct docker_event *ev);
	void (*ev_up)(void *arg);
	void *ev_arg;
	struct buf ev_line;      /* the incomplete last line */
	bool ev_upped, ev_bad;
	/* docker_cancel, from another thread: under cancel_mu */
	pthread_mutex_t cancel_mu;
	bool cancelled;
	curl_socket_t sock;      /* of the cancellable request, else BAD */
	CURLcode last_cc;
	long last_code;
	bool answered;           /* a request of this handle got a status */
	char errbuf[CURL_ERROR_SIZE];
};

struct req {
	const char *method;      /* "GET", "POST", "DELETE" */
	const char *path;        /* escaped, without the version prefix */
	const char *json;        /* request body, or NULL */
	const char *body;        /* else a body of body_len bytes (a tar) */
	size_t body_len;
	long timeout_ms;         /* 0: the handle's */
	long idle_s;             /* abort when nothing arrives for this long */
	bool unversioned;
	bool stream;
	struct docker_json_items *items;   /* a list, read as it comes */
	bool endless;            /* no timeout (the event stream) */
	bool cancellable;        /* docker_cancel ends it: its own connection */
};

/* ---- transport (http.c) ---- */

int engine_http_error(struct docker *d, const char *what, long code);
char *engine_obj_path(const char *kind, const char *name, const char *suffix);
json_t *engine_parse_body(struct docker *d, const char *what);
int engine_perform(struct docker *d, const struct req *r, const char *what,
		   long *out_code);
int engine_simple(struct docker *d, const char *method, const char *path,
		  const char *json, const char *what, long *out_code);
void engine_put_message(struct buf *out, const char *s, size_t len);

/* ---- JSON (json.c) ---- */

char *jdump(json_t *root, bool bad, const char *what);
char *jdup(const json_t *o, const char *k);
long long jget_int(const json_t *o, const char *k);
const char *jget_str(const json_t *o, const char *k);
json_t *jlabels(const char *project, const char *owner, const char *k2,
		const char *v2, bool *bad);
void jpush(json_t *a, json_t *v, bool *bad);
void jset(json_t *o, const char *k, json_t *v, bool *bad);
json_t *jstr(const char *s);
json_t *jstrvec(const struct strvec *sv, bool *bad);

/* ---- lists (observe.c), objects (objects.c) ---- */

int engine_get_json(struct docker *d, const char *path, const char *what,
		    json_t **out);
int engine_remove_object(struct docker *d, const char *kind, const char *name,
			 const char *query);
/* What the Swarm backend (backend/swarm/) shares with the Engine's: the
 * Swarm API is the Engine API.  A create where an existing object of the
 * name is fine (takes root); one network of a name; ERR_FOREIGN unless
 * its labels are project's and owner's; a container's Healthcheck. */
int engine_create_object(struct docker *d, const char *kind, const char *name,
			 json_t *root, bool bad);
int engine_network_dedupe(struct docker *d, const char *name);
/* 0 when labels (an object's) are project's and owner's, else ERR_FOREIGN
 * with error_last() naming kind and name. */
int engine_labels_owned(const json_t *labels, const char *kind, const char *name,
			const char *project, const char *owner);
int engine_check_owner(struct docker *d, const char *kind, const char *name,
		       const char *project, const char *owner);
/* [{Name, Soft, Hard}] of s's ulimits, as a container and a service take them. */
json_t *engine_json_ulimits(const struct workload_spec *s, bool *bad);
/* cfg's Healthcheck from h; StartInterval only with start_interval (the
 * caller refuses an h with one it cannot send). */
void engine_json_health(json_t *cfg, const struct healthcheck *h,
			bool start_interval, bool *bad);

#endif
