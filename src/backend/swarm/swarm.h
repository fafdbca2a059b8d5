/*
 * backend/swarm/swarm.h - what the files of the Swarm backend share, and
 * the pure parts the unit tests call: the service spec a workload spec
 * becomes (service.c) and the verdict a service's tasks give (tasks.c).
 *
 * A cara service is one Swarm service, named as its container would be
 * (names.h) and labelled as it (cara.project, cara.owner, cara.service,
 * cara.spec-hash, cara.spec-fields, plus cara.replicas: the mode cara
 * asked for, so that a service scaled by hand is seen and repaired).
 * json_t stays inside backend/.
 */
#ifndef CARA_SWARM_H
#define CARA_SWARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"

/* How long a create or update waits for its tasks to settle, at most. */
#define SWARM_CONVERGE_MS 120000L
#define SWARM_POLL_MS 250L

/*
 * The body of POST /services/create (or /update) for spec (caller frees),
 * or NULL with error_last() when a value cannot be put in JSON.
 */
char *swarm_service_json(const struct workload_spec *spec,
			 const char *const *secret_ids);
/*
 * The Swarm secret a secret mount m of service `service` is shipped as
 * (caller frees): immutable, so its name carries a hash of the target and
 * the bytes, "SERVICE-HASH12" (at most 64 characters); a new value is a
 * new secret, swapped in by the service's update.
 */
char *swarm_secret_name(const char *service, const struct workload_mount *m);
/*
 * The name of an immutable Swarm object (a secret, a config) of service
 * `service` holding data[0..len) at target (caller frees): "SERVICE-HASH12",
 * HASH12 of the target and the bytes, at most 64 characters (SERVICE cut
 * to 51, and then in the hash too).
 */
char *swarm_versioned_name(const char *service, const char *target,
			   const char *data, size_t len);

/*
 * A file of a File volume as the Swarm config a service mounts (configs.c):
 * one per file, at its path below the mount's target, uid and gid 0.
 */
struct swarm_config {
	char *name;                /* swarm_versioned_name */
	char *target;              /* where a task reads it */
	int mode;                  /* files_mode: 0444, 0555, the volume's */
	const char *data;          /* borrowed from the spec's volume */
	size_t len;
	size_t depth;              /* its mount's target length */
	char *id;                  /* once made (swarm.c), else NULL */
};

struct swarm_configs {
	struct swarm_config *v;
	size_t n, cap;
};

/*
 * The configs of the File mounts (m->files) of spec, in mount then path
 * order; two of one target: the deeper mount's (as nested binds).  Pure.
 */
void swarm_configs_of(struct swarm_configs *out, const struct workload_spec *spec);
void swarm_configs_release(struct swarm_configs *c);

/* swarm_service_json, the configs c (made, with their ids) mounted too. */
char *swarm_service_json_configs(const struct workload_spec *spec,
				 const char *const *secret_ids,
				 const struct swarm_configs *c);

/* LABEL_REPLICAS's value for spec (caller frees). */
char *swarm_mode_label(const struct workload_spec *spec);

/* One task as the verdict needs it (borrowed strings). */
struct swarm_task {
	const char *id;
	const char *node;          /* its node's host name, or id */
	const char *state;         /* Status.State: "running", "failed", ... */
	const char *desired;       /* DesiredState */
	const char *err;           /* Status.Err, or NULL */
	int exit_code;             /* Status.ContainerStatus.ExitCode */
	int slot;
	bool node_down;            /* its node is not ready */
	bool current;              /* of this job iteration (not a job: true) */
};

struct swarm_service_view {
	const char *name;          /* the cara service's name */
	bool global, job;
	int want;                  /* replicas, completions; global: tasks meant to run */
	bool has_health;
	const char *update_state;  /* UpdateStatus.State, or NULL */
	const char *update_message;
};

struct swarm_verdict {
	enum obs_state state;
	enum obs_health health;
	int exit_code;
	int running, failed;
	char tasks[256];           /* "2/3 running on node1, node2" */
	char problem[400];         /* "" when nothing is wrong */
	bool settled;              /* no task on its way and no update under way */
};

/* The verdict of tasks t[0..n) of service v: pure. */
void swarm_tasks_verdict(struct swarm_verdict *out, const struct swarm_service_view *v,
			 const struct swarm_task *t, size_t n);

#endif
