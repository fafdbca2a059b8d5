/*
 * plan.h - the planner: a pure function of (desired, observed, now) to an
 * ordered list of actions.  No I/O, no clock, no globals: the caller reads
 * the clock and passes `now`; spec hashes are computed beforehand
 * (spec_compute).
 *
 * Ordering: projects by name; inside a project network, volumes, images,
 * then containers in dependsOn order; a teardown removes containers in
 * reverse dependency order, then the network, then Ephemeral volumes
 * (Managed ones only with purge).  A project that is invalid in the source
 * gets no action at all and is never torn down; nothing is torn down for
 * RemovedFromSource when the source was incomplete.  A project placed on
 * another host (placement.h) is torn down here as PlacedElsewhere, like a
 * prune.
 */
#ifndef CARA_PLAN_H
#define CARA_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"
#include "model.h"
#include "names.h"
#include "observed.h"
#include "placement.h"
#include "util.h"

enum action_kind {
	ACTION_CREATE_NETWORK,
	ACTION_CREATE_VOLUME,
	ACTION_PULL_IMAGE,
	ACTION_BUILD_IMAGE,         /* a build's image is not on the host */
	ACTION_CREATE_CONTAINER,    /* create, then start (a job: run once) */
	ACTION_START_CONTAINER,     /* exists with the right spec, not running */
	ACTION_RECREATE_CONTAINER,  /* spec hash differs: stop, remove, create, start */
	ACTION_CONNECT_CONTAINER,   /* running, but not on one of its networks */
	ACTION_RETYPE_VOLUME,       /* declared type changed: recorded, not relabelled */
	ACTION_REMOVE_CONTAINER,
	ACTION_REMOVE_NETWORK,
	ACTION_REMOVE_VOLUME,
	ACTION_REMOVE_OBJECT,      /* a cluster's config or secret (obs_object) */
	/* the backend updates it in place (caps.updates_in_place): where the
	 * Engine would recreate, a rolling update of the same workload */
	ACTION_UPDATE_CONTAINER,
	/* running with the right spec: stopped and started again, after a
	 * dependency it names with restart: true is (re)started */
	ACTION_RESTART_CONTAINER,
};

enum action_cause {
	CAUSE_MISSING,             /* object does not exist */
	CAUSE_STOPPED,             /* container exists but is not running */
	CAUSE_JOB_FAILED,          /* one-shot job exited non-zero: run again */
	CAUSE_SPEC_CHANGED,        /* spec hash differs */
	CAUSE_SERVICE_REMOVED,     /* service no longer in the project */
	CAUSE_EXPIRED,             /* project past expireAt */
	CAUSE_REMOVED_FROM_SOURCE, /* project no longer in the repository */
	CAUSE_DUPLICATE,           /* a second network of one of the project's names */
	CAUSE_PAUSED,              /* container paused: unpaused, not restarted */
	CAUSE_DISCONNECTED,        /* not attached to one of its networks */
	CAUSE_ADOPTED,             /* another state's container, taken over */
	CAUSE_TYPE_CHANGED,        /* a volume's declared type is not its recorded one */
	CAUSE_IMAGE_UPDATED,       /* the registry's digest for the tag moved */
	CAUSE_PLACED_ELSEWHERE,    /* the project's placement names another host */
	CAUSE_NETWORK_UNUSED,      /* a project network no service joins now */
	CAUSE_DEPENDENCY_RESTARTED,/* a dependency with restart: true is (re)started */
	CAUSE_ORPHANED,            /* a config or secret of a service gone */
};

struct plan_action {
	enum action_kind kind;
	enum action_cause cause;
	char *project;
	char *service;             /* containers only */
	char *object;              /* Docker object name (or image reference) */
	char *object_id;           /* observed id, for existing objects */
	struct strvec changed;     /* field groups, for a recreate */
	char *network;             /* a connect's network (Docker name) */
	/* Borrowed from the desired set (NULL for teardown actions): */
	const struct project *proj;
	const struct service *svc;
	const struct network *net; /* a create's, when declared */
	enum obs_object_kind object_kind; /* ACTION_REMOVE_OBJECT's */
};

enum project_verdict {
	VERDICT_CONVERGED,         /* nothing to do */
	VERDICT_APPLY,             /* actions bring it in line */
	VERDICT_TEARDOWN,          /* expired or removed from source */
	VERDICT_INVALID,           /* invalid manifest: left alone */
	VERDICT_GONE,              /* torn down already, nothing left */
	VERDICT_REFUSED,           /* left alone, Failed (plan_project.reason):
	                              its objects are not this state's, or the
	                              backend cannot carry a field of it */
	VERDICT_ELSEWHERE,         /* placed on another host: nothing here to do */
};

/* Why a project is VERDICT_REFUSED. */
enum plan_refusal {
	REFUSAL_OWNED_ELSEWHERE,   /* its objects are another state's */
	REFUSAL_ENGINE_TOO_OLD,    /* the backend cannot carry a field (caps) */
};

struct plan_project {
	char *name;
	enum project_verdict verdict;
	enum action_cause cause;   /* for VERDICT_TEARDOWN */
	const struct project *proj;/* NULL when not in the source */
	size_t first, count;       /* its slice of plan.actions */
	char *message;             /* VERDICT_REFUSED: whose the objects are,
	                              or what the backend cannot carry;
	                              PlacedElsewhere: which placement */
	enum plan_refusal refusal; /* VERDICT_REFUSED: why (its reason:
	                              phase_refusal_reason) */
	bool held;                 /* VERDICT_ELSEWHERE: its objects here are
	                              kept (no prune, or the mass-prune guard) */
	struct strvec adopted;     /* owners --adopt takes it over from */
	bool purges_pins;          /* a purge (VERDICT_TEARDOWN or _GONE with
	                              purge_volumes): once it is done, the pins
	                              of its Managed volumes go (pin.h) */
};

struct plan {
	struct plan_action *actions;
	size_t nactions, capactions;
	struct plan_project *projects;
	size_t nprojects, capprojects;
	size_t nmanaged;           /* projects with objects on the host that
	                              are in the source or known to the state */
	size_t nremoved;           /* of those, torn down as RemovedFromSource
	                              or PlacedElsewhere */
	size_t nheld;              /* gone from the source but not pruned */
	/* the mass-prune guard refused: the plan prunes nothing, and these
	 * are what it would have pruned of how many managed */
	bool mass_refused;
	size_t mass_removed, mass_managed;
};

#define PLAN_INIT { 0 }

struct plan_options {
	bool prune;                /* tear down projects missing from source */
	bool gc_only;              /* only expireAt and prune actions */
	bool purge_volumes;        /* also remove Managed volumes on teardown */
	/* Projects known from state: the only ones prune may remove; also
	 * those that may have no objects left.  NULL: no state, every
	 * observed project may be pruned. */
	const struct strvec *known;
	/*
	 * Ownership (NULL owner: not checked).  An object of a project is this
	 * state's when its cara.owner label is `owner`; when "project\towner"
	 * is in `adoptions` ("" owner: objects made before the label existed,
	 * adopted by the state that had applied them); or when the project is
	 * in `adopt` (--adopt).  A project with any other object is
	 * VERDICT_REFUSED: no action, no teardown.
	 */
	const char *owner;
	const struct strvec *adoptions;
	/*
	 * "docker-volume-name\tType" as the source last declared it (state):
	 * Docker labels cannot change, so a volume that became Managed keeps
	 * its Ephemeral label; teardown obeys the declared type (the project's
	 * own, when it is in the source), and the label only without one.
	 */
	const struct strvec *volume_types;
	const struct strvec *adopt;
	/*
	 * The mass-prune guard: with mass_guard, a plan that would tear down
	 * more than mass_prune_percent of the managed projects for leaving the
	 * source prunes none of them (mass_refused) and does the rest.
	 */
	bool mass_guard;
	long mass_prune_percent;
	/*
	 * "ref\tdigest" for tags whose registry digest is not the local
	 * image's (the pass asked before planning): the image is pulled
	 * (ACTION_PULL_IMAGE, CAUSE_IMAGE_UPDATED, changed = old and new
	 * digest) and the containers running the local image of the tag are
	 * recreated (CAUSE_IMAGE_UPDATED).  NULL: none.
	 */
	const struct strvec *image_updates;
	/* What the backend does itself (NULL: the Engine's table).  A
	 * project using what it cannot carry (a healthcheck's startInterval
	 * without caps.health_start_interval) is VERDICT_REFUSED,
	 * EngineTooOld: no action, its containers left as they are. */
	const struct backend_caps *caps;
	/*
	 * This host for placement (NULL: not checked, every project is
	 * here).  A valid project placed elsewhere (placement_decide) gets no
	 * apply action; when it has objects here that this state may prune,
	 * and prune is set, it is torn down (CAUSE_PLACED_ELSEWHERE) and
	 * counted in nremoved, so the mass-prune guard weighs a mass move
	 * like a mass removal; else it is VERDICT_ELSEWHERE.
	 */
	const struct placement_host *host;
	/*
	 * Restarts an earlier pass planned for depends_on restart: true and
	 * did not see done (it was killed, or the project failed): sorted
	 * "project\tservice\tafter".  Such a service is restarted
	 * (CAUSE_DEPENDENCY_RESTARTED, changed = after) unless the plan
	 * starts it anyway.  NULL: none.
	 */
	const struct strvec *owed_restarts;
};

int plan_compute(struct plan *out, const struct project_set *desired,
		 const struct observed *obs, int64_t now,
		 const struct plan_options *opts);
void plan_release(struct plan *p);

const char *action_kind_name(enum action_kind k);   /* "create-container" */
const char *action_cause_name(enum action_cause c); /* "SpecChanged" */
bool plan_is_empty(const struct plan *p);
/* Does a bring a workload up: a create, start (an unpause too),
 * recreate, update or restart? */
bool action_starts(const struct plan_action *a);
/*
 * Has container c of service s run to completion, so that it is neither
 * started again nor a failure?  A restart "no" job or an on-failure
 * service that exited 0.
 */
bool plan_service_finished(const struct service *s, const struct obs_container *c);


#endif
