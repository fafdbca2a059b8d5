/*
 * docker.h - a small Docker Engine API client (libcurl + jansson).
 *
 * Talks HTTP to unix:///var/run/docker.sock, or DOCKER_HOST (unix://PATH,
 * tcp://HOST:PORT, with TLS client certificates from DOCKER_CERT_PATH when
 * DOCKER_TLS_VERIFY is set or the port is 2376).  The API version is
 * negotiated once with GET /version.  Every request has a bounded timeout.
 *
 * A struct docker is not thread-safe: each worker thread opens its own.
 * json_t never leaves docker.c.
 *
 * Errors: -1 with error_last() set, e.g. "docker: create container
 * 'web-app': 409 Conflict: ..." ; DOCKER_ENOTFOUND for 404.
 */
#ifndef CARA_DOCKER_H
#define CARA_DOCKER_H

#include <stdbool.h>
#include <stdint.h>

#include "manifest.h"
#include "observed.h"

#define DOCKER_ENOTFOUND (-2)

struct docker;

struct docker_options {
	const char *host;          /* NULL: $DOCKER_HOST, else the default socket */
	long timeout_ms;           /* per request; 0: 30 s */
};

int docker_open(struct docker **out, const struct docker_options *opts);
void docker_free(struct docker *d);
/* Engine API requests made through this handle (for tests and bench). */
unsigned long docker_calls(const struct docker *d);
const char *docker_api_version(const struct docker *d);

/* Everything labelled cara.project, plus the local image list: 4 requests. */
int docker_observe(struct docker *d, struct observed *out);

int docker_network_create(struct docker *d, const char *name,
			  const char *project);
int docker_network_remove(struct docker *d, const char *name);
int docker_volume_create(struct docker *d, const char *name,
			 const char *project, const char *type);
int docker_volume_remove(struct docker *d, const char *name);

/* 0 present, DOCKER_ENOTFOUND missing, -1 error. */
int docker_image_inspect(struct docker *d, const char *ref);
/* Pull; -1 with a message saying why the pull failed. */
int docker_image_pull(struct docker *d, const char *ref);

struct container_mount {
	const char *type;          /* "volume" or "bind" */
	const char *source;        /* volume name or host path */
	const char *target;
	bool read_only;
};

struct container_spec {
	const char *name;
	const char *image;
	const struct strvec *cmd;        /* NULL: image default */
	const struct strvec *entrypoint; /* NULL: image default */
	const char *working_dir;
	const char *user;
	const struct strvec *env;        /* "KEY=value" */
	const struct kv *labels;
	size_t nlabels;
	const struct container_mount *mounts;
	size_t nmounts;
	const struct port *ports;
	size_t nports;
	const struct healthcheck *health;/* NULL or !present: image default */
	const char *restart;             /* "no", "on-failure", ... */
	int stop_timeout_s;              /* -1: Engine default */
	int64_t memory_bytes;
	int64_t nano_cpus;
	const char *network;             /* joined with `alias` */
	const char *alias;
};

/* Create; *out_id (caller frees) receives the id. */
int docker_container_create(struct docker *d, const struct container_spec *spec,
			    char **out_id);
int docker_container_start(struct docker *d, const char *id_or_name);
/* Stop with timeout_s grace (-1: container's own); a stopped one is fine. */
int docker_container_stop(struct docker *d, const char *id_or_name,
			  int timeout_s);
/* Remove (force kills a running one); a missing one is fine. */
int docker_container_remove(struct docker *d, const char *id_or_name,
			    bool force);

struct container_state {
	char status[16];           /* created, running, exited, ... */
	char health[16];           /* "", starting, healthy, unhealthy */
	int exit_code;
	bool oom_killed;
	int restart_count;
	char error[256];           /* State.Error, truncated */
};

int docker_container_state(struct docker *d, const char *id_or_name,
			   struct container_state *out);

/*
 * Block until the container is not running, or timeout_ms passes
 * (POST /containers/{id}/wait with condition=not-running).  *out_exit gets
 * the exit code.  Returns 1 on timeout, 0 on exit, -1 on error.
 */
int docker_container_wait(struct docker *d, const char *id_or_name,
			  long timeout_ms, int *out_exit);

#endif
