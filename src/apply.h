/*
 * apply.h - executes a plan against the Docker Engine.
 *
 * Projects are independent and are applied concurrently by a bounded pool
 * of worker threads, each with its own Engine connection; one failing
 * project never stops the others.  Inside a project, actions run in plan
 * order and a container is started only when its dependsOn conditions
 * hold (Started, Healthy: the Engine's health status, with a timeout
 * derived from the healthcheck; Completed: a one-shot job exited 0).
 * Those waits follow the Engine's event stream, read by one watcher for
 * the pass (events.h), and poll the Engine when the stream is not there.
 * Secret values are read here, at the edge, and go only to the Engine.
 */
#ifndef CARA_APPLY_H
#define CARA_APPLY_H

#include <signal.h>
#include <stdbool.h>

#include "plan.h"

struct apply_options {
	const struct backend_ops *backend;  /* NULL: the Engine */
	const char *docker_host;
	long docker_timeout_ms;
	const char *docker_api;         /* negotiated already ("1.41"); NULL: ask */
	const char *secrets_dir;
	const char *files_dir;          /* {state_dir}/files: File volumes' copies */
	const char *registry_auth_file; /* pulls' credentials; NULL: Docker CLI's config */
	const char *owner;              /* cara.owner of what is created; NULL: none */
	const char *const *hostpath_roots;  /* HostPath sources are resolved under these */
	size_t nhostpath_roots;
	int parallel;                   /* projects working the Engine at once, >= 1 */
	long health_timeout_s;          /* cap on waiting for Healthy/Completed */
	volatile sig_atomic_t *stop;    /* set by SIGTERM/SIGINT: finish the step, stop */
	struct backend_watch *watch;    /* apply_plan's own: leave NULL */
	struct slots *slots;            /* apply_plan's own: leave NULL */
	struct pulls *pulls;            /* apply_plan's own: leave NULL */
};

/* Outcome of one project in the plan. */
struct apply_result {
	const char *project;            /* borrowed from the plan */
	bool failed;
	bool interrupted;
	const char *phase;              /* "Running", "Failed", "Terminated" */
	const char *reason;             /* CamelCase, e.g. "ImagePullError" */
	char *message;
	unsigned created, started, recreated, removed;
	unsigned long engine_calls;
};

struct apply_report {
	struct apply_result *results;   /* one per plan project, same order */
	size_t n;
	unsigned long engine_calls;
};

int apply_plan(struct apply_report *out, const struct plan *plan,
	       const struct apply_options *opts);
void apply_report_release(struct apply_report *r);

#endif
