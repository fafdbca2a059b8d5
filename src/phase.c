/*
 * phase.c - phase names and the phase of a converged project (phase.h).
 */
#include <stdlib.h>
#include <string.h>

#include "phase.h"
#include "plan.h"
#include "util.h"

static const char *const names[PHASE_COUNT] = {
	"Pending", "Running", "Failed", "Terminating", "Terminated", "Degraded",
};

const char *phase_name(enum phase p)
{
	return (size_t)p < PHASE_COUNT ? names[p] : "Unknown";
}

static const char *const reasons[REASON_COUNT] = {
	[REASON_RECONCILING] = "Reconciling",
	[REASON_CONTAINERS_RUNNING] = "ContainersRunning",
	[REASON_DEPENDENCY_FAILED] = "DependencyFailed",
	[REASON_HEALTHCHECK_FAILED] = "HealthcheckFailed",
	[REASON_CONTAINER_EXITED] = "ContainerExited",
	[REASON_CONTAINER_CRASHED] = "ContainerCrashed",
	[REASON_CONTAINER_MISSING] = "ContainerMissing",
	[REASON_IMAGE_PULL_ERROR] = "ImagePullError",
	[REASON_HOSTPATH_REFUSED] = "HostPathRefused",
	[REASON_SECRET_MISSING] = "SecretMissing",
	[REASON_OWNED_ELSEWHERE] = "OwnedElsewhere",
	[REASON_RECONCILE_ERROR] = "ReconcileError",
	[REASON_VOLUME_MISSING] = "VolumeMissing",
	[REASON_NETWORK_MISSING] = "NetworkMissing",
	[REASON_BUILD_FAILED] = "BuildFailed",
	[REASON_INGRESS_FAILED] = "IngressFailed",
	[REASON_TASKS_NOT_RUNNING] = "TasksNotRunning",
	[REASON_ROLLED_BACK] = "RolledBack",
	[REASON_ENGINE_TOO_OLD] = "EngineTooOld",
};

const char *reason_name(enum reason r)
{
	return (size_t)r < REASON_COUNT && reasons[r] ? reasons[r] : "Unknown";
}

enum reason phase_refusal_reason(enum plan_refusal r)
{
	return r == REFUSAL_ENGINE_TOO_OLD ? REASON_ENGINE_TOO_OLD :
	       REASON_OWNED_ELSEWHERE;
}

char *phase_running_message(const struct project *p)
{
	size_t n = p ? p->nservices : 0;

	return xasprintf("%zu service%s up to date", n, n == 1 ? "" : "s");
}

void phase_observed(struct phase_verdict *out, const char *name,
		    const struct project *p, const struct observed *o)
{
	const struct service **by_name = p ? project_services_by_name(p) : NULL;
	size_t i;

	out->phase = PHASE_RUNNING;
	out->reason = REASON_CONTAINERS_RUNNING;
	out->message = NULL;
	for (i = 0; i < o->ncontainers && !out->message; i++) {
		const struct obs_container *c = &o->containers[i];
		const struct service *s;

		if (!c->project || strcmp(c->project, name))
			continue;
		s = by_name ? project_lookup_service(by_name, p->nservices, c->service)
			    : NULL;
		out->phase = PHASE_FAILED;
		if (c->problem && *c->problem &&
		    !(s && s->restart == RESTART_NO)) {
			/* a cluster's service: what its tasks say, naming a node */
			out->phase = PHASE_DEGRADED;
			out->reason = REASON_TASKS_NOT_RUNNING;
			out->message = xstrdup(c->problem);
		} else if (c->health == HEALTH_UNHEALTHY) {
			out->reason = REASON_HEALTHCHECK_FAILED;
			out->message = xasprintf("'%s' is unhealthy", c->service);
		} else if (c->state == OBS_RESTARTING) {
			out->reason = REASON_CONTAINER_CRASHED;
			out->message = xasprintf("'%s' is restarting", c->service);
		} else if (s && !plan_service_finished(s, c) && s->restart != RESTART_NO &&
			   c->state != OBS_RUNNING) {
			out->reason = REASON_CONTAINER_EXITED;
			out->message = xasprintf("'%s' is %s", c->service,
						 obs_state_name(c->state));
		} else {
			out->phase = PHASE_RUNNING;
		}
	}
	free(by_name);
	if (!out->message)
		out->message = phase_running_message(p);
}
