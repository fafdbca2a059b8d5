/*
 * phase.h - a project's phase: the one name table, and the one function
 * that decides the phase of a project the plan left alone from what the
 * pass observed (cara(1), PHASES AND REASONS).
 */
#ifndef CARA_PHASE_H
#define CARA_PHASE_H

#include <stddef.h>

#include "model.h"
#include "observed.h"
#include "plan.h"

enum phase {
	PHASE_PENDING,
	PHASE_RUNNING,
	PHASE_FAILED,
	PHASE_TERMINATING,
	PHASE_TERMINATED,
	/* a cluster's: up, but not every task runs (a node down, tasks
	 * failing, an update rolled back); Swarm is on it */
	PHASE_DEGRADED,
};
#define PHASE_COUNT (PHASE_DEGRADED + 1)

const char *phase_name(enum phase p);     /* "Running" */

/*
 * Why a project is in its phase (cara(1), PHASES AND REASONS).  A
 * teardown's reason is its cause (action_cause_name: "Expired",
 * "RemovedFromSource").
 */
enum reason {
	REASON_RECONCILING,        /* Pending: changes being applied */
	REASON_CONTAINERS_RUNNING, /* Running */
	REASON_DEPENDENCY_FAILED,
	REASON_HEALTHCHECK_FAILED,
	REASON_CONTAINER_EXITED,
	REASON_CONTAINER_CRASHED,
	REASON_CONTAINER_MISSING,
	REASON_IMAGE_PULL_ERROR,
	REASON_HOSTPATH_REFUSED,
	REASON_SECRET_MISSING,
	REASON_OWNED_ELSEWHERE,
	REASON_RECONCILE_ERROR,
	REASON_VOLUME_MISSING,     /* Failed: an External volume is not there */
	REASON_NETWORK_MISSING,    /* Failed: an External network is not there */
	REASON_BUILD_FAILED,       /* Failed: an image of a build did not build */
	REASON_INGRESS_FAILED,     /* the ingress proxy: not run, or refused
				    * the new routes (it serves the old ones) */
	REASON_TASKS_NOT_RUNNING,  /* Degraded: fewer tasks run than wanted */
	REASON_ROLLED_BACK,        /* Failed: a cluster rolled an update back */
	REASON_ENGINE_TOO_OLD,     /* Failed: a field the Engine's API version
				    * would drop (backend_caps): left alone */
};
#define REASON_COUNT (REASON_ENGINE_TOO_OLD + 1)

const char *reason_name(enum reason r);   /* "ImagePullError" */
/* The reason of a project the planner refused (VERDICT_REFUSED). */
enum reason phase_refusal_reason(enum plan_refusal r);

struct phase_verdict {
	enum phase phase;
	enum reason reason;
	char *message;             /* the caller frees */
};

/*
 * The phase of project `name` (p: its manifest, or NULL) from the
 * snapshot: Failed when a container is unhealthy, restarting, or a
 * long-running service is not running; else Running.  Linear in the
 * snapshot.
 */
void phase_observed(struct phase_verdict *out, const char *name,
		    const struct project *p, const struct observed *o);
/* "3 services up to date": the message of a Running project. */
char *phase_running_message(const struct project *p);

#endif
