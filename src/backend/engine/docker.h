/*
 * docker.h - a small Docker Engine API client (libcurl + jansson).
 *
 * Talks HTTP to unix:///var/run/docker.sock, or DOCKER_HOST (unix://PATH,
 * tcp://HOST:PORT, with TLS client certificates from DOCKER_CERT_PATH when
 * DOCKER_TLS_VERIFY is set or the port is 2376).  The API version is
 * negotiated once with GET /version.  Every request has a bounded timeout.
 *
 * A struct docker is not thread-safe: each worker thread opens its own.
 * json_t never leaves backend/engine/.
 *
 * Errors: -1 with error_last() set, e.g. "docker: create container
 * 'web-app': 409 Conflict: ..." ; ERR_NOTFOUND for 404.
 */
#ifndef CARA_DOCKER_H
#define CARA_DOCKER_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"
#include "model.h"
#include "observed.h"
#include "util.h"

struct docker;

struct docker_options {
	const char *host;          /* NULL: $DOCKER_HOST, else the default socket */
	long timeout_ms;           /* per request; 0: 30 s */
	const char *api;           /* "1.41" negotiated by another handle, so
				    * this one asks no GET /version; NULL: ask */
};

int docker_open(struct docker **out, const struct docker_options *opts);
void docker_free(struct docker *d);
/* Engine API requests made through this handle (for tests and bench). */
unsigned long docker_calls(const struct docker *d);
const char *docker_api_version(const struct docker *d);

/* Everything labelled cara.project, plus the local image list: 4 requests. */
int docker_observe(struct docker *d, struct observed *out);
/* The local images alone (tags and repo digests with their ids). */
int docker_images(struct docker *d, struct observed *out);

/* Create (an existing one is fine), then leave exactly one of that name. */
/*
 * Create the network or volume of project, labelled cara.project and
 * cara.owner (owner may be NULL: no owner label).  One that exists already
 * is fine only when its labels name the same project and owner: else
 * ERR_FOREIGN, error_last() saying whose it is.
 */
int docker_network_create(struct docker *d, const char *name,
			  const char *project, const char *owner, bool internal);
int docker_network_remove(struct docker *d, const char *id_or_name);
int docker_volume_create(struct docker *d, const char *name,
			 const char *project, const char *type, const char *owner);
int docker_volume_remove(struct docker *d, const char *name);
/* 0 present (whoever made it), ERR_NOTFOUND missing, -1 error. */
/* 0 when the volume or network (kind) of that name is there, ERR_NOTFOUND
 * when not. */
int docker_object_inspect(struct docker *d, const char *kind, const char *name);

/* For tests only. */
/* 0 present, ERR_NOTFOUND missing, -1 error. */
int docker_image_inspect(struct docker *d, const char *ref);
/*
 * Pull; -1 with a message saying why the pull failed, ERR_REFUSED when
 * the registry refused it for want of (valid) credentials.  registry_auth:
 * the X-Registry-Auth value (auth.h), or NULL for an anonymous pull.
 * note, when not NULL, is called every few seconds while the pull goes
 * on, with a summary (docker_pull_progress_summary) of how far it got.
 */
/*
 * The digest ("sha256:...", *out_digest the caller's) a registry has for
 * ref now, without pulling (GET /distribution/{ref}/json): at most
 * IMAGE_DIGEST_TIMEOUT_MS (or the handle's timeout, when shorter).
 * ERR_REFUSED: the registry refused the credentials.
 */
#define IMAGE_DIGEST_TIMEOUT_MS 15000L
int docker_image_digest(struct docker *d, const char *ref, const char *registry_auth,
			char **out_digest);
/* POST /build of spec->tar, streamed like a pull; an in-band error (a
 * step that failed) is the error. */
int docker_image_build(struct docker *d, const struct image_build_spec *spec);
int docker_image_pull(struct docker *d, const char *ref, const char *registry_auth,
		      void (*note)(void *arg, const char *summary), void *arg);

/*
 * The body of POST /containers/create for spec in API version api (caller
 * frees), or NULL with error_last(): a healthcheck's startInterval below
 * DOCKER_API_START_INTERVAL (refused, never dropped), a value not UTF-8.
 */
char *docker_container_json(const struct workload_spec *spec, const char *api);
/* Create; *out_id (caller frees) receives the id. */
int docker_container_create(struct docker *d, const struct workload_spec *spec,
			    char **out_id);
int docker_container_start(struct docker *d, const char *id_or_name);
/* Attach a container to a network, known there as alias (may be NULL). */
/* aliases NULL: alias only */
int docker_network_connect(struct docker *d, const char *network,
			   const char *container, const char *alias,
			   const struct strvec *aliases);
/* Resume a paused container (the processes and writable layer it has). */
int docker_container_unpause(struct docker *d, const char *id_or_name);
/* Stop with timeout_s grace (-1: container's own); a stopped one is fine. */
int docker_container_stop(struct docker *d, const char *id_or_name,
			  int timeout_s);
/* Remove (force kills a running one); a missing one is fine. */
int docker_container_remove(struct docker *d, const char *id_or_name,
			    bool force);

int docker_container_state(struct docker *d, const char *id_or_name,
			   struct workload_state *out);
/* The state, some labels and the address on network (NULL: none asked). */
int docker_container_info(struct docker *d, const char *id_or_name,
			  const char *network, struct workload_info *out);

/*
 * Block until the container is not running, or timeout_ms passes
 * (POST /containers/{id}/wait with condition=not-running).  *out_exit gets
 * the exit code.  Returns 1 on timeout, 0 on exit, -1 on error.
 * timeout_ms <= 0 means the handle's request timeout.
 */
int docker_container_wait(struct docker *d, const char *id_or_name,
			  long timeout_ms, int *out_exit);

/*
 * The Engine's event stream (GET /events), limited to the containers
 * labelled cara.project and to the actions below, from since_s (unix
 * seconds, Engine clock) on: fn is called for each event as its line
 * arrives, up once when the Engine has answered 200 (it has subscribed
 * then: no later event is missed).  No timeout: the stream runs until
 * docker_cancel, then returns 0; -1 (error set) when it could not be
 * opened, failed or ended.  fn and up run on the calling thread.
 */
enum docker_event_kind {
	DOCKER_EVENT_CREATE,
	DOCKER_EVENT_START,
	DOCKER_EVENT_DIE,          /* exit_code set */
	DOCKER_EVENT_HEALTH,       /* health set: "healthy", "unhealthy", ... */
	DOCKER_EVENT_DESTROY,
};

struct docker_event {
	enum docker_event_kind kind;
	char id[72];
	char name[256];            /* the name attribute */
	char health[16];
	int exit_code;
	int64_t time_ns;           /* timeNano, Engine clock */
};

int docker_events_stream(struct docker *d, int64_t since_s,
			 void (*fn)(void *arg, const struct docker_event *ev),
			 void (*up)(void *arg), void *arg);
/*
 * From any thread: end the stream d is reading (at once: its socket is
 * shut down) and refuse any later one.  The only call on a struct docker
 * that another thread may make.
 */
void docker_cancel(struct docker *d);

/*
 * Pure helpers behind the client, exposed for tests/unit/test-docker.c.
 */

/*
 * One line of GET /events into out: 0, 1 for an event that is none of the
 * kinds above (or not a container's, or a name too long), -1 (error set)
 * for a line that is not an event message.
 */
int docker_event_parse(struct docker_event *out, const char *line, size_t len);
/* "2024-01-02T03:04:05.123456789Z" -> unix ns; -1 when not RFC 3339. */
int docker_time_ns(const char *s, int64_t *out_ns);

/* Where the Engine listens, from a DOCKER_HOST value. */
struct docker_endpoint {
	char *socket_path;         /* unix socket; NULL for tcp */
	char *url;                 /* "http://localhost", "https://HOST:2376" */
	bool tls;                  /* https with the DOCKER_CERT_PATH certificates */
};

/*
 * host: NULL or "" for the default socket, unix://PATH, tcp://HOST[:PORT]
 * (port 2375, or 2376 with TLS); tls_verify: $DOCKER_TLS_VERIFY, where
 * NULL or "" means unset.  0 ok, -1 (error set) unsupported or malformed.
 */
int docker_endpoint_parse(struct docker_endpoint *out, const char *host,
			  const char *tls_verify);
void docker_endpoint_release(struct docker_endpoint *e);

/* From a container list's Status text: "Up 2 minutes (healthy)" ->
 * "healthy"; one of "", "starting", "healthy", "unhealthy" (static). */
const char *docker_status_health(const char *status);
/* "Exited (137) 3 seconds ago" -> 137; 0 when the text has no code. */
int docker_status_exit_code(const char *status);
/* Append s percent-encoded for a URL path or query value; '/' is kept
 * as is when keep_slash (image references in paths). */
void docker_url_escape(struct buf *out, const char *s, bool keep_slash);
/* "busybox" -> "busybox" "latest"; "reg:5000/a:1" -> "reg:5000/a" "1";
 * "a@sha256:..." -> "a" "sha256:...".  Both results are the caller's. */
void docker_split_ref(const char *ref, char **out_repo, char **out_tag);
/* "docker: WHAT: 409 Conflict: MESSAGE", MESSAGE being the body's JSON
 * "message", else its first line; nothing after the status when empty. */
void docker_format_error(struct buf *out, const char *what, long http_code,
			 const char *body, size_t len);

/*
 * The API version to speak to an Engine whose GET /version says
 * ApiVersion engine_api: its own from 1.30 up to 1.44, 1.44 for a newer
 * one (its answers then keep the 1.44 dialect).  0 with "1.N" in out
 * (size bytes), or -1 (error set, naming both versions) for one older than
 * 1.30, another major version, a malformed or a missing one (NULL).
 */
int docker_api_negotiate(char *out, size_t size, const char *engine_api);

/* The API version from which the Engine takes a container's
 * Healthcheck.StartInterval (Docker Engine 25); older ones drop it. */
#define DOCKER_API_START_INTERVAL "1.44"
/* Does an Engine spoken to in API version api ("1.41") take a container's
 * Healthcheck.StartInterval?  false for NULL or a malformed version. */
bool docker_api_has_start_interval(const char *api);

/*
 * A pull's answer after its 200 status: JSON progress lines, and a line
 * with "error" (or "errorDetail": {"message"}) when the pull failed after
 * all.  Fed the body as it arrives, in chunks split anywhere; a line is
 * read once its newline arrived, the last one at the end.
 */
struct docker_pull_layer {
	char *id;
	int64_t current, total;    /* bytes downloaded of the layer */
	bool done;                 /* pulled, or there already */
};

struct docker_pull_progress {
	struct buf line;           /* the incomplete last line */
	char *error;               /* the last in-band error, NULL: none */
	struct docker_pull_layer *layers;   /* as the lines name them */
	size_t nlayers, alloc;
};

/* For tests only. */
/* (cara's own is zeroed by docker_open's calloc, and
 * docker_pull_progress_release leaves it zeroed) */
void docker_pull_progress_init(struct docker_pull_progress *p);
/* Consume a chunk; -1 (nothing consumed) when the incomplete line would
 * grow beyond max bytes. */
int docker_pull_progress_feed(struct docker_pull_progress *p, const char *data,
			      size_t len, size_t max);
/* The end of the answer: 0 the pull succeeded, -1 it failed, p->error
 * then saying why (one line, trimmed and capped). */
int docker_pull_progress_finish(struct docker_pull_progress *p);
void docker_pull_progress_release(struct docker_pull_progress *p);
/* What the pull has done so far, for a person watching: "2 of 5 layers,
 * 12.5 of 40.1 MB" ("starting" before any layer is named). */
void docker_pull_progress_summary(const struct docker_pull_progress *p,
				  struct buf *out);

/*
 * The elements of a JSON array answer (the container, network and image
 * lists), fed the body in chunks split anywhere and handing each element
 * to fn as soon as it is whole, so that a pass holds one element at a
 * time, not the whole list, however many objects the Engine has.  Only
 * the structure is followed here (strings, escapes, nesting); fn parses
 * the element (len bytes, not NUL-terminated) and returns 0, or -1 with
 * the error set to stop.
 */
struct docker_json_items {
	int (*fn)(void *arg, const char *item, size_t len);
	void *arg;
	struct buf item;           /* the part of an element read so far */
	int state;                 /* where in the array we are */
	size_t depth;              /* nesting inside the element */
	bool in_string, escape;
	size_t count;              /* elements handed to fn */
	char *error;               /* why feeding failed, NULL: it did not */
};

void docker_json_items_init(struct docker_json_items *it,
			    int (*fn)(void *arg, const char *item, size_t len),
			    void *arg);
/* Consume a chunk: 0, or -1 with it->error for an answer that is not a
 * JSON array, an element longer than max bytes, or fn failing. */
int docker_json_items_feed(struct docker_json_items *it, const char *data,
			   size_t len, size_t max);
/* The end of the answer: 0 when the array was complete, else -1 with
 * it->error. */
int docker_json_items_finish(struct docker_json_items *it);
void docker_json_items_release(struct docker_json_items *it);

#endif
