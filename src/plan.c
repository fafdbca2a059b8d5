/*
 * plan.c - the planner: desired projects + observed snapshot + now ->
 * an ordered list of actions, one slice per project.
 *
 * Pure: no I/O, no clock, no globals, no environment.  Everything it
 * decides follows from its arguments, which is what makes `cara diff`
 * trustworthy and the planner testable without Docker.
 *
 * Safety invariants (the reasons this module exists):
 *   - a project that is invalid in the source gets no action at all, and
 *     objects labelled with its name are never torn down;
 *   - nothing is torn down as RemovedFromSource unless the caller asked to
 *     prune, the source was read completely with no invalid project, and
 *     the project is one the state database knows it applied;
 *   - a project using what the backend cannot carry (caps) gets no action
 *     at all either: it is refused, not applied without it;
 *   - Managed volumes survive every teardown unless purge_volumes is set;
 *     volumes whose type label is unknown are treated like Managed ones.
 *
 * A project is "live" when a default teardown would remove something
 * (a container, a network, or a volume it may remove).  Only live projects
 * are torn down or counted in nmanaged (and of those only the ones in the
 * source or known to the state: what this state manages); a project that
 * left only kept Managed volumes behind is GONE, so a torn-down project
 * does not show up as "teardown" on every later pass and does not weaken
 * the mass-prune guard (which compares nremoved against nmanaged).
 */
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "spec.h"

const char *action_kind_name(enum action_kind k)
{
	switch (k) {
	case ACTION_CREATE_NETWORK: return "create-network";
	case ACTION_CREATE_VOLUME: return "create-volume";
	case ACTION_PULL_IMAGE: return "pull-image";
	case ACTION_BUILD_IMAGE: return "build-image";
	case ACTION_CREATE_CONTAINER: return "create-container";
	case ACTION_START_CONTAINER: return "start-container";
	case ACTION_RECREATE_CONTAINER: return "recreate-container";
	case ACTION_CONNECT_CONTAINER: return "connect-container";
	case ACTION_RETYPE_VOLUME: return "retype-volume";
	case ACTION_REMOVE_CONTAINER: return "remove-container";
	case ACTION_REMOVE_NETWORK: return "remove-network";
	case ACTION_REMOVE_VOLUME: return "remove-volume";
	case ACTION_REMOVE_OBJECT: return "remove-object";
	case ACTION_UPDATE_CONTAINER: return "update-container";
	case ACTION_RESTART_CONTAINER: return "restart-container";
	}
	return "unknown";
}

const char *action_cause_name(enum action_cause c)
{
	switch (c) {
	case CAUSE_MISSING: return "Missing";
	case CAUSE_STOPPED: return "Stopped";
	case CAUSE_JOB_FAILED: return "JobFailed";
	case CAUSE_SPEC_CHANGED: return "SpecChanged";
	case CAUSE_SERVICE_REMOVED: return "ServiceRemoved";
	case CAUSE_EXPIRED: return "Expired";
	case CAUSE_REMOVED_FROM_SOURCE: return "RemovedFromSource";
	case CAUSE_DUPLICATE: return "Duplicate";
	case CAUSE_PAUSED: return "Paused";
	case CAUSE_DISCONNECTED: return "NetworkDisconnected";
	case CAUSE_ADOPTED: return "Adopted";
	case CAUSE_TYPE_CHANGED: return "TypeChanged";
	case CAUSE_IMAGE_UPDATED: return "ImageUpdated";
	case CAUSE_PLACED_ELSEWHERE: return "PlacedElsewhere";
	case CAUSE_NETWORK_UNUSED: return "NetworkUnused";
	case CAUSE_DEPENDENCY_RESTARTED: return "DependencyRestarted";
	case CAUSE_ORPHANED: return "Orphaned";
	}
	return "Unknown";
}

bool action_starts(const struct plan_action *a)
{
	return a->kind == ACTION_CREATE_CONTAINER || a->kind == ACTION_START_CONTAINER ||
	       a->kind == ACTION_RECREATE_CONTAINER || a->kind == ACTION_UPDATE_CONTAINER ||
	       a->kind == ACTION_RESTART_CONTAINER;
}

bool plan_is_empty(const struct plan *p)
{
	return p->nactions == 0;
}

void plan_release(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->nactions; i++) {
		struct plan_action *a = &p->actions[i];

		free(a->project);
		free(a->service);
		free(a->object);
		free(a->object_id);
		free(a->network);
		strvec_release(&a->changed);
	}
	for (i = 0; i < p->nprojects; i++) {
		free(p->projects[i].name);
		free(p->projects[i].message);
		strvec_release(&p->projects[i].adopted);
	}
	free(p->actions);
	free(p->projects);
	memset(p, 0, sizeof(*p));
}

/* ---- helpers over the snapshot ---- */

static bool same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/*
 * The state's lists of pairs are "key\tvalue" strings: the value of the
 * next entry for key from *i on (NULL when none), *i moved past it.
 */
static const char *pair_next(const struct strvec *v, size_t *i, const char *key)
{
	size_t n = strlen(key);

	for (; v && *i < v->n; (*i)++)
		if (!strncmp(v->v[*i], key, n) && v->v[*i][n] == '\t')
			return v->v[(*i)++] + n + 1;
	return NULL;
}

/* The type teardown obeys: the source's, then the one last recorded,
 * then the Docker label. */
static const char *volume_type_now(const struct obs_volume *v, const struct project *p,
				   const struct strvec *recorded)
{
	size_t i, n = v->name ? strlen(v->name) : 0;
	const char *t;

	for (i = 0; p && i < p->nvolumes; i++) {
		char *dn = name_volume(p->name, p->volumes[i].name);
		bool hit = same(dn, v->name);

		free(dn);
		if (hit && volume_is_docker(&p->volumes[i]))
			return volume_type_name(p->volumes[i].type);
	}
	i = 0;
	if (n && (t = pair_next(recorded, &i, v->name)))
		return t;
	return v->type ? v->type : "";
}

static bool volume_removable(const struct obs_volume *v, const struct project *p,
			     const struct plan_options *opts)
{
	return opts->purge_volumes ||
	       !strcmp(volume_type_now(v, p, opts->volume_types), "Ephemeral");
}

/*
 * A config or secret cara shipped for a service of project `name`
 * (obs_object) that no service refers to any more: the service's create
 * failed after its objects were made, or the service was removed by hand
 * (a removal by cara takes them with it).  Only this state's: its
 * cara.owner label is this state's identity, or one the state adopted
 * from; never one without an owner, nor any when there is no owner to
 * compare (no state).
 */
static bool object_orphaned(const struct obs_object *ob, const char *name,
			    const struct plan_options *opts)
{
	const char *val;
	size_t i = 0;

	if (!same(ob->project, name) || ob->in_use || !opts->owner ||
	    !*opts->owner || !ob->owner || !*ob->owner || !ob->id)
		return false;
	if (!strcmp(ob->owner, opts->owner))
		return true;
	while (opts->adoptions && (val = pair_next(opts->adoptions, &i, name)))
		if (!strcmp(val, ob->owner))
			return true;
	return false;
}

/* Would a teardown of `name` remove anything? */
static bool project_live(const struct observed *o, const char *name,
			 const struct project *p, const struct plan_options *opts)
{
	size_t i;

	for (i = 0; i < o->ncontainers; i++)
		if (same(o->containers[i].project, name))
			return true;
	for (i = 0; i < o->nnetworks; i++)
		if (same(o->networks[i].project, name))
			return true;
	for (i = 0; i < o->nvolumes; i++)
		if (same(o->volumes[i].project, name) &&
		    volume_removable(&o->volumes[i], p, opts))
			return true;
	for (i = 0; i < o->nobjects; i++)
		if (object_orphaned(&o->objects[i], name, opts))
			return true;
	return false;
}

static const struct obs_network *find_network(const struct observed *o,
					      const char *name)
{
	size_t i;

	for (i = 0; i < o->nnetworks; i++)
		if (same(o->networks[i].name, name))
			return &o->networks[i];
	return NULL;
}

static const struct obs_volume *find_volume(const struct observed *o,
					    const char *name)
{
	size_t i;

	for (i = 0; i < o->nvolumes; i++)
		if (same(o->volumes[i].name, name))
			return &o->volumes[i];
	return NULL;
}

/*
 * One project's containers, sorted by a key (name or service), so that a
 * project of thousands of services is planned in n log n, not n * n.
 */
struct cindex {
	const struct obs_container **v;
	size_t n;
	bool by_service;
};

static const char *ckey(const struct obs_container *c, bool by_service)
{
	const char *k = by_service ? c->service : c->name;

	return k ? k : "";
}

static int cmp_ckey(const void *a, const void *b, bool by_service)
{
	const struct obs_container *ca = *(const struct obs_container *const *)a;
	const struct obs_container *cb = *(const struct obs_container *const *)b;
	int r = strcmp(ckey(ca, by_service), ckey(cb, by_service));

	/* snapshot order among equals: the planner stays deterministic */
	return r ? r : (ca < cb ? -1 : ca > cb);
}

static int cmp_by_name(const void *a, const void *b)
{
	return cmp_ckey(a, b, false);
}

static int cmp_by_service(const void *a, const void *b)
{
	return cmp_ckey(a, b, true);
}

static void cindex_build(struct cindex *x, const struct observed *o,
			 const char *project, bool by_service)
{
	size_t i;

	x->v = xcalloc(o->ncontainers ? o->ncontainers : 1, sizeof(*x->v));
	x->n = 0;
	x->by_service = by_service;
	for (i = 0; i < o->ncontainers; i++)
		if (same(o->containers[i].project, project))
			x->v[x->n++] = &o->containers[i];
	qsort(x->v, x->n, sizeof(*x->v), by_service ? cmp_by_service : cmp_by_name);
}

/* Index of the first entry whose key is key (x->n when none). */
static size_t cindex_first(const struct cindex *x, const char *key)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ckey(x->v[mid], x->by_service), key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < x->n && !strcmp(ckey(x->v[lo], x->by_service), key) ? lo : x->n;
}

static void cindex_release(struct cindex *x)
{
	free(x->v);
	memset(x, 0, sizeof(*x));
}

/* The container named `name` of the project x indexes (by name). */
static const struct obs_container *find_container(const struct cindex *x,
						  const char *name)
{
	size_t i = cindex_first(x, name);

	return i < x->n ? x->v[i] : NULL;
}

static const struct service *find_service(const struct project *p,
					  const char *name)
{
	size_t i;

	for (i = 0; name && i < p->nservices; i++)
		if (same(p->services[i].name, name))
			return &p->services[i];
	return NULL;
}

static struct plan_action *add_action(struct plan *pl, enum action_kind kind,
				      enum action_cause cause, const char *project,
				      const char *service, char *object,
				      const char *object_id)
{
	struct plan_action *a;

	GROW(pl->actions, pl->capactions, pl->nactions + 1);
	a = &pl->actions[pl->nactions++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->cause = cause;
	a->project = xstrdup(project);
	a->service = xstrdup(service);
	a->object = object;           /* taken */
	a->object_id = xstrdup(object_id);
	return a;
}

/*
 * Two networks of one name make every container start on it fail
 * ("ambiguous"); a create cut short by a kill can leave them.  Keep the one
 * with the smallest id, as docker_network_create does, remove the others.
 */
/* Is c on the network whose id is net_id (NULL: that network is to be
 * created)?  Unknown membership counts as attached. */
static bool on_network(const struct obs_container *c, const char *net_id)
{
	const char *p;
	size_t n;

	if (!c->networks)
		return true;
	if (!net_id)
		return false;
	n = strlen(net_id);
	for (p = c->networks; (p = strstr(p, net_id)); p += n)
		if ((p == c->networks || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

static size_t attached_count(const struct observed *o, const char *project,
			     const char *net_id)
{
	size_t i, n = 0;

	for (i = 0; i < o->ncontainers; i++)
		if (same(o->containers[i].project, project) &&
		    o->containers[i].networks && on_network(&o->containers[i], net_id))
			n++;
	return n;
}

/*
 * Of the networks named name, the one kept (NULL: none): the one most of
 * the project's containers are on (removing it would fail while they
 * are), then the smallest id.
 */
static const char *kept_network_id(const struct observed *o, const char *project,
				   const char *name)
{
	const char *keep = NULL;
	size_t i, n = 0, best = 0, c;

	for (i = 0; i < o->nnetworks; i++)
		if (same(o->networks[i].name, name) && o->networks[i].id)
			n++;
	for (i = 0; i < o->nnetworks; i++) {
		const char *id = o->networks[i].id;

		if (!same(o->networks[i].name, name) || !id)
			continue;
		c = n > 1 ? attached_count(o, project, id) : 0;
		if (!keep || c > best || (c == best && strcmp(id, keep) < 0)) {
			keep = id;
			best = c;
		}
	}
	return keep;
}

static void remove_duplicate_networks(struct plan *pl, const struct observed *o,
				      const char *project, const char *name)
{
	const char *keep = kept_network_id(o, project, name);
	size_t i;

	for (i = 0; i < o->nnetworks; i++) {
		const struct obs_network *n = &o->networks[i];

		if (same(n->name, name) && n->id && strcmp(n->id, keep))
			add_action(pl, ACTION_REMOVE_NETWORK, CAUSE_DUPLICATE, project,
				   NULL, xstrdup(n->name), n->id);
	}
}

static struct plan_project *add_project(struct plan *pl, const char *name,
					const struct project *proj)
{
	struct plan_project *pp;

	GROW(pl->projects, pl->capprojects, pl->nprojects + 1);
	pp = &pl->projects[pl->nprojects++];
	memset(pp, 0, sizeof(*pp));
	pp->name = xstrdup(name);
	pp->proj = proj;
	pp->verdict = VERDICT_CONVERGED;
	pp->cause = CAUSE_MISSING;
	pp->first = pl->nactions;
	return pp;
}

/* ---- teardown ---- */

static void remove_container(struct plan *pl, const struct obs_container *c,
			     enum action_cause cause)
{
	add_action(pl, ACTION_REMOVE_CONTAINER, cause, c->project, c->service,
		   xstrdup(c->name), c->id);
}

/*
 * The orphaned configs and secrets of project `name` (object_orphaned),
 * after its other actions (pl->actions[first..]): not those of a workload
 * these make, replace or update (a create uses again the objects of its
 * bytes; an update removes itself the versions it swaps out).
 */
static void remove_orphaned_objects(struct plan *pl, const struct observed *o,
				    const char *name, size_t first,
				    const struct plan_options *opts)
{
	size_t i, k, n = pl->nactions;

	for (i = 0; i < o->nobjects; i++) {
		const struct obs_object *ob = &o->objects[i];
		bool made = false;
		struct plan_action *a;

		if (!object_orphaned(ob, name, opts))
			continue;
		for (k = first; k < n && !made; k++)
			made = (pl->actions[k].kind == ACTION_CREATE_CONTAINER ||
				pl->actions[k].kind == ACTION_RECREATE_CONTAINER ||
				pl->actions[k].kind == ACTION_UPDATE_CONTAINER) &&
			       same(pl->actions[k].object, ob->service);
		if (made)
			continue;
		a = add_action(pl, ACTION_REMOVE_OBJECT, CAUSE_ORPHANED, name, NULL,
			       xstrdup(ob->name ? ob->name : ob->id), ob->id);
		a->object_kind = ob->kind;
	}
}

/*
 * Remove everything of `name`: containers in reverse dependency order
 * (when the source still describes the project) or in reverse observed
 * order, then its networks, then the volumes it may remove, then its
 * orphaned configs and secrets.
 */
static void plan_teardown(struct plan *pl, const char *name,
			  const struct project *proj, const struct observed *o,
			  enum action_cause cause, const struct plan_options *opts)
{
	size_t i, j, first = pl->nactions;

	if (proj) {
		size_t *order = xcalloc(proj->nservices ? proj->nservices : 1,
					sizeof(*order));
		const struct service **snames = project_services_by_name(proj);
		struct cindex bysvc;

		/* strays first: nothing in the source depends on them */
		for (i = o->ncontainers; i-- > 0;) {
			const struct obs_container *c = &o->containers[i];

			if (same(c->project, name) &&
			    !project_lookup_service(snames, proj->nservices, c->service))
				remove_container(pl, c, cause);
		}
		project_service_order(proj, order);
		cindex_build(&bysvc, o, name, true);
		for (j = proj->nservices; j-- > 0;) {
			const struct service *s = &proj->services[order[j]];
			size_t k = cindex_first(&bysvc, s->name ? s->name : "");

			/* (snapshot order among a service's containers, last first) */
			for (i = k; i < bysvc.n && same(bysvc.v[i]->service, s->name); i++)
				;
			while (i-- > k)
				remove_container(pl, bysvc.v[i], cause);
		}
		cindex_release(&bysvc);
		free(snames);
		free(order);
	} else {
		for (i = o->ncontainers; i-- > 0;)
			if (same(o->containers[i].project, name))
				remove_container(pl, &o->containers[i], cause);
	}
	for (i = 0; i < o->nnetworks; i++) {
		const struct obs_network *n = &o->networks[i];

		if (same(n->project, name))
			add_action(pl, ACTION_REMOVE_NETWORK, cause, name, NULL,
				   xstrdup(n->name), n->id);
	}
	for (i = 0; i < o->nvolumes; i++) {
		const struct obs_volume *v = &o->volumes[i];

		if (same(v->project, name) && volume_removable(v, proj, opts))
			add_action(pl, ACTION_REMOVE_VOLUME, cause, name, NULL,
				   xstrdup(v->name), NULL);
	}
	remove_orphaned_objects(pl, o, name, first, opts);
}

/* ---- apply ---- */

bool plan_service_finished(const struct service *s, const struct obs_container *c)
{
	if (c->exit_code != 0)
		return false;
	/* a one-shot job runs once per spec hash: success is final */
	if (s->restart == RESTART_NO)
		return obs_state_stopped(c->state);
	/* on-failure that exited 0 is done, as the Engine itself decides:
	 * starting it again every pass would be a loop */
	return s->restart == RESTART_ON_FAILURE && c->state == OBS_EXITED;
}

/* What to do with the existing container c of service s (same hash). */
static bool container_needs_start(const struct service *s,
				  const struct obs_container *c,
				  enum action_cause *cause)
{
	if (c->state == OBS_PAUSED) {
		/* its processes and writable layer are intact: unpause */
		*cause = CAUSE_PAUSED;
		return true;
	}
	if (c->state == OBS_CREATED) {
		*cause = CAUSE_STOPPED;
		return true;
	}
	if (obs_state_stopped(c->state)) {
		if (plan_service_finished(s, c))
			return false;
		*cause = s->restart != RESTART_NO ? CAUSE_STOPPED : CAUSE_JOB_FAILED;
		return true;
	}
	/* running, restarting (the Engine is on it), removing */
	return false;
}

/*
 * Start the existing workload c again, or, on a backend that cannot start
 * a stopped one, replace it (the cause says why either way).
 */
static struct plan_action *add_start(struct plan *pl, const struct backend_caps *caps,
				     enum action_cause cause, const struct project *p,
				     const struct service *s, char *cname,
				     const struct obs_container *c)
{
	return add_action(pl, caps->starts_stopped ? ACTION_START_CONTAINER :
			  ACTION_RECREATE_CONTAINER, cause, p->name, s->name,
			  cname, c->id);
}

/* The new digest of s's image, when its tag moved (opts->image_updates). */
static const char *image_update(const struct plan_options *opts,
				const struct service *s)
{
	size_t i = 0;

	if (!s->image || opts->caps->pulls_images)
		return NULL;
	return pair_next(opts->image_updates, &i, s->image);
}

/* Does c run the local image of s's tag, which is to be replaced? */
static bool runs_moved_image(const struct observed *o, const struct plan_options *opts,
			     const struct service *s, const struct obs_container *c)
{
	const char *id;

	/* a job that ran to completion is not run again for a new image */
	if (!image_update(opts, s) || !c->image_id || !*c->image_id ||
	    plan_service_finished(s, c))
		return false;
	id = observed_image_id(o, s->image);
	return id && !strcmp(id, c->image_id);
}

/*
 * The Docker names of the networks of s that c is not on, pushed to out.
 * External networks are not observed: they count as joined (a container
 * created on one is on it).
 */
static void missing_networks(const struct project *p, const struct service *s,
			     const struct obs_container *c, const struct observed *o,
			     struct strvec *out)
{
	const struct strvec *al;
	size_t k;

	for (k = 0; k < network_joins(s); k++) {
		const char *key = network_join(s, k, &al);
		char *dn;

		if (network_is_external(p, key))
			continue;
		dn = name_project_network(p->name, key);
		if (!on_network(c, kept_network_id(o, p->name, dn)))
			strvec_push_nodup(out, dn);
		else
			free(dn);
	}
}

static void plan_service(struct plan *pl, const struct project *p,
			 const struct service *s, const struct cindex *byname,
			 const struct plan_options *opts, bool adopting,
			 const struct observed *o)
{
	const char *owner = opts->owner;
	char *cname = name_container(p->name, s->name);
	const struct obs_container *c = find_container(byname, cname);
	struct strvec missing = STRVEC_INIT;
	struct plan_action *a;
	enum action_cause cause;
	bool start;
	size_t k;

	if (c)
		missing_networks(p, s, c, o, &missing);
	if (missing.n &&
	    !(s->spec_hash && strcmp(s->spec_hash, c->spec_hash ? c->spec_hash : ""))) {
		/*
		 * A project network was removed by hand (or the container
		 * disconnected): a running container is connected again, as
		 * it is; one that must start is recreated, since its start
		 * would fail on the network it still names.
		 */
		start = container_needs_start(s, c, &cause);
		if (obs_state_up(c->state)) {
			for (k = 0; k < missing.n; k++) {
				a = add_action(pl, ACTION_CONNECT_CONTAINER,
					       CAUSE_DISCONNECTED, p->name, s->name,
					       xstrdup(cname), c->id);
				a->network = xstrdup(missing.v[k]);
				a->proj = p;
				a->svc = s;
			}
			if (!start)
				goto none;
			a = add_start(pl, opts->caps, cause, p, s, cname, c);
		} else if (start) {
			a = add_action(pl, ACTION_RECREATE_CONTAINER, CAUSE_DISCONNECTED,
				       p->name, s->name, cname, c->id);
			strvec_push(&a->changed, "network");
		} else {
			goto none;   /* a finished job: nothing to run on it */
		}
	} else if (!c) {
		a = add_action(pl, ACTION_CREATE_CONTAINER, CAUSE_MISSING, p->name,
			       s->name, cname, NULL);
	} else if (s->spec_hash && strcmp(s->spec_hash, c->spec_hash ? c->spec_hash : "")) {
		/* a NULL spec_hash means spec_compute did not run: no basis
		 * to recreate anything, so only drift is repaired */
		a = add_action(pl, ACTION_RECREATE_CONTAINER, CAUSE_SPEC_CHANGED,
			       p->name, s->name, cname, c->id);
		spec_changed_fields(&a->changed, c->spec_fields ? c->spec_fields : "",
				    s->spec_fields ? s->spec_fields : "");
	} else if (owner && strcmp(c->owner ? c->owner : "", owner) &&
		   ((c->owner && *c->owner) || adopting)) {
		/* taken over from another state (an unlabelled one only by an
		 * explicit --adopt, not by the upgrade's adoption): relabelled,
		 * so that the old state sees it is no longer its own */
		a = add_action(pl, ACTION_RECREATE_CONTAINER, CAUSE_ADOPTED,
			       p->name, s->name, cname, c->id);
		strvec_push(&a->changed, "owner");
	} else if (runs_moved_image(o, opts, s, c)) {
		a = add_action(pl, ACTION_RECREATE_CONTAINER, CAUSE_IMAGE_UPDATED,
			       p->name, s->name, cname, c->id);
		strvec_push(&a->changed, "image");
	} else if (container_needs_start(s, c, &cause)) {
		a = add_start(pl, opts->caps, cause, p, s, cname, c);
	} else {
		goto none;
	}
	/* one rule for every cause a replacement has */
	if (a->kind == ACTION_RECREATE_CONTAINER && opts->caps->updates_in_place)
		a->kind = ACTION_UPDATE_CONTAINER;
	a->proj = p;
	a->svc = s;
	strvec_release(&missing);
	return;
none:
	free(cname);
	strvec_release(&missing);
}

/*
 * Do the actions from first on start a workload anew: create, start (an
 * unpause keeps its processes), recreate, update or restart it?
 */
static bool actions_start(const struct plan *pl, size_t first)
{
	size_t i;

	for (i = first; i < pl->nactions; i++)
		if (action_starts(&pl->actions[i]) &&
		    !(pl->actions[i].kind == ACTION_START_CONTAINER &&
		      pl->actions[i].cause == CAUSE_PAUSED))
			return true;
	return false;
}

/*
 * The dependency after which an earlier pass owed service `service` of
 * project `project` a restart (opts->owed_restarts, sorted), or NULL.
 */
static const char *owed_after(const struct strvec *owed, const char *project,
			      const char *service)
{
	char *key = xasprintf("%s\t%s\t", project, service);
	const char *e = strvec_sorted_prefix(owed, key);
	size_t n = strlen(key);

	free(key);
	return e ? e + n : NULL;
}

/*
 * compose's depends_on restart: true.  A service whose container is left
 * as it is (the plan does not start it: starts[] by service index, known
 * for every service before it in dependency order), but a dependency of
 * which the plan (re)starts, is restarted after it (a job runs again);
 * transitively, since a restart counts as a start.  Its own create,
 * start or recreate starts it after its dependencies anyway.  A restart
 * an earlier pass owed it (opts->owed_restarts: that pass was killed or
 * failed after the dependency restarted) is planned the same way.
 */
static void restart_dependent(struct plan *pl, const struct project *p,
			      const struct service *s, const struct cindex *byname,
			      const struct service **snames, const bool *starts,
			      const struct plan_options *opts)
{
	const struct service *d = NULL;
	const struct obs_container *c;
	const char *after = NULL;
	struct plan_action *a;
	char *cname;
	size_t k;

	if (starts[s - p->services])
		return;
	for (k = 0; k < s->ndeps; k++)
		if (s->deps[k].restart &&
		    (d = project_lookup_service(snames, p->nservices, s->deps[k].service)) &&
		    starts[d - p->services])
			break;
	if (k < s->ndeps)
		after = d->name;
	else if (!(after = owed_after(opts->owed_restarts, p->name, s->name)))
		return;
	cname = name_container(p->name, s->name);
	if (!(c = find_container(byname, cname)) || c->state == OBS_PAUSED) {
		free(cname);   /* none: no restart; paused: left paused */
		return;
	}
	a = add_action(pl, ACTION_RESTART_CONTAINER, CAUSE_DEPENDENCY_RESTARTED,
		       p->name, s->name, cname, c->id);
	strvec_push(&a->changed, after);
	a->proj = p;
	a->svc = s;
}

/* Drop c from x (it is to be made anew). */
static void cindex_drop(struct cindex *x, const struct obs_container *c)
{
	size_t i, k = 0;

	for (i = 0; i < x->n; i++)
		if (x->v[i] != c)
			x->v[k++] = x->v[i];
	x->n = k;
}

/*
 * The network named n (all of that name) has a setting the Engine cannot
 * change on it (internal): the project's containers on it go, then the
 * network; the caller makes it again, and plan_service the containers
 * (they are dropped from byname).
 */
static void rebuild_network(struct plan *pl, const struct observed *o,
			    const struct project *p, const size_t *order,
			    struct cindex *byname, const char *n)
{
	size_t i;

	for (i = 0; i < o->nnetworks; i++) {
		const struct obs_network *on = &o->networks[i];
		size_t k;

		if (!same(on->name, n) || !on->id)
			continue;
		/* dependents first, then what no service of p names */
		for (k = p->nservices; k-- > 0;) {
			char *cn = name_container(p->name, p->services[order[k]].name);
			const struct obs_container *c = find_container(byname, cn);

			free(cn);
			if (c && c->networks && on_network(c, on->id)) {
				remove_container(pl, c, CAUSE_SPEC_CHANGED);
				cindex_drop(byname, c);
			}
		}
		for (k = byname->n; k-- > 0;) {
			const struct obs_container *c = byname->v[k];

			if (c->networks && on_network(c, on->id)) {
				remove_container(pl, c, CAUSE_SPEC_CHANGED);
				cindex_drop(byname, c);
			}
		}
		add_action(pl, ACTION_REMOVE_NETWORK, CAUSE_SPEC_CHANGED, p->name,
			   NULL, xstrdup(on->name), on->id);
	}
}

/* Is `dname` the Docker name of one of the networks (keys) made? */
static bool made_network(const struct project *p, const struct strvec *made,
			 const char *dname)
{
	bool found = false;
	size_t i;

	for (i = 0; i < made->n && !found; i++) {
		char *n = name_project_network(p->name, made->v[i]);

		found = !strcmp(n, dname);
		free(n);
	}
	return found;
}

/* Is `vname` the Docker name of one of p's Docker-backed volumes? */
static bool volume_declared(const struct project *p, const char *vname)
{
	size_t i;
	bool found = false;

	for (i = 0; i < p->nvolumes && !found; i++) {
		char *n;

		if (!volume_is_docker(&p->volumes[i]))
			continue;
		n = name_volume(p->name, p->volumes[i].name);
		found = same(n, vname);
		free(n);
	}
	return found;
}

/*
 * The service a pull of s's image is done for: one that may pull it
 * (apply refuses a pull for a service whose policy is Never), else s.
 */
static const struct service *image_puller(const struct project *p,
					  const struct service *s)
{
	size_t i;

	for (i = 0; i < p->nservices; i++)
		if (same(p->services[i].image, s->image) &&
		    p->services[i].pull_policy != PULL_NEVER)
			return &p->services[i];
	return s;
}

static void plan_apply(struct plan *pl, const struct project *p,
		       const struct observed *o, const struct plan_options *opts)
{
	struct cindex byname;
	const struct service **snames;
	struct strvec images = STRVEC_INIT;
	const char *moved;
	size_t *order = xcalloc(p->nservices ? p->nservices : 1, sizeof(*order));
	struct strvec made = STRVEC_INIT;
	bool *starts = xcalloc(p->nservices ? p->nservices : 1, sizeof(*starts));
	struct plan_action *a;
	char *n;
	size_t i;

	project_service_order(p, order);
	cindex_build(&byname, o, p->name, false);
	snames = project_services_by_name(p);

	project_made_networks(p, &made);
	for (i = 0; i < made.n; i++) {
		const struct network *nw = project_find_network(p, made.v[i]);
		const struct obs_network *on;

		n = name_project_network(p->name, made.v[i]);
		if ((on = find_network(o, n)) && on->internal >= 0 &&
		    on->internal != (nw && nw->internal)) {
			rebuild_network(pl, o, p, order, &byname, n);
			on = NULL;
		}
		if (!on) {
			a = add_action(pl, ACTION_CREATE_NETWORK, CAUSE_MISSING, p->name,
				       NULL, n, NULL);
			a->proj = p;
			a->net = project_find_network(p, made.v[i]);
		} else {
			remove_duplicate_networks(pl, o, p->name, n);
			free(n);
		}
	}

	for (i = 0; i < p->nvolumes; i++) {
		const struct volume *v = &p->volumes[i];
		const struct obs_volume *ov;

		if (!volume_is_docker(v))
			continue;
		n = name_volume(p->name, v->name);
		if ((ov = find_volume(o, n))) {
			/* the type teardown will obey changes: say so */
			const char *was = volume_type_now(ov, NULL, opts->volume_types);

			if (strcmp(was, volume_type_name(v->type))) {
				a = add_action(pl, ACTION_RETYPE_VOLUME, CAUSE_TYPE_CHANGED,
					       p->name, NULL, n, NULL);
				strvec_push(&a->changed, was);
				strvec_push(&a->changed, volume_type_name(v->type));
				a->proj = p;
			} else {
				free(n);
			}
			continue;
		}
		a = add_action(pl, ACTION_CREATE_VOLUME, CAUSE_MISSING, p->name,
			       NULL, n, NULL);
		a->proj = p;
	}

	for (i = 0; i < p->nservices; i++) {
		const struct service *s = &p->services[order[i]];

		if (!s->image || strvec_has(&images, s->image))
			continue;
		strvec_push(&images, s->image);
		if (s->build) {
			/* its tag names its context: there is nothing to update */
			if (!observed_has_image(o, s->image)) {
				a = add_action(pl, ACTION_BUILD_IMAGE, CAUSE_MISSING,
					       p->name, s->name, xstrdup(s->image), NULL);
				a->proj = p;
				a->svc = s;
			}
			continue;
		}
		if ((moved = image_update(opts, s)) && observed_has_image(o, s->image)) {
			char *repo = image_ref_repo(s->image);
			const char *was = observed_image_digest(o,
					observed_image_id(o, s->image), repo);

			free(repo);
			a = add_action(pl, ACTION_PULL_IMAGE, CAUSE_IMAGE_UPDATED, p->name,
				       NULL, xstrdup(s->image), NULL);
			strvec_push(&a->changed, was ? was : "");
			strvec_push(&a->changed, moved);
			a->proj = p;
			a->svc = image_puller(p, s);
			continue;
		}
		if (opts->caps->pulls_images || observed_has_image(o, s->image))
			continue;
		a = add_action(pl, ACTION_PULL_IMAGE, CAUSE_MISSING, p->name, NULL,
			       xstrdup(s->image), NULL);
		a->proj = p;
		a->svc = image_puller(p, s);
	}

	/*
	 * Containers of services that left the project go before any create:
	 * a renamed service usually wants the host port its old container
	 * still holds.
	 */
	for (i = 0; i < byname.n; i++) {
		const struct obs_container *c = byname.v[i];

		if (!project_lookup_service(snames, p->nservices, c->service)) {
			remove_container(pl, c, CAUSE_SERVICE_REMOVED);
		} else {
			/* renamed by hand: a second container of one service */
			char *want = name_container(p->name, c->service);

			if (!same(c->name, want))
				remove_container(pl, c, CAUSE_DUPLICATE);
			free(want);
		}
	}

	for (i = 0; i < p->nservices; i++) {
		size_t before = pl->nactions;

		plan_service(pl, p, &p->services[order[i]], &byname, opts,
			     opts->adopt && strvec_has(opts->adopt, p->name), o);
		starts[order[i]] = actions_start(pl, before);
		restart_dependent(pl, p, &p->services[order[i]], &byname, snames, starts,
				  opts);
		starts[order[i]] = actions_start(pl, before);   /* its restart too */
	}

	/* Networks no service joins now: once the containers that were on
	 * them are gone or recreated (apply keeps one still in use). */
	for (i = 0; i < o->nnetworks; i++) {
		const struct obs_network *on = &o->networks[i];

		if (same(on->project, p->name) && on->name &&
		    !made_network(p, &made, on->name))
			add_action(pl, ACTION_REMOVE_NETWORK, CAUSE_NETWORK_UNUSED,
				   p->name, NULL, xstrdup(on->name), on->id);
	}

	/* Ephemeral volumes no longer declared, once nothing uses them. */
	for (i = 0; i < o->nvolumes; i++) {
		const struct obs_volume *v = &o->volumes[i];

		/* the type last declared, not the label: a volume made Managed
		 * and then dropped from the manifest keeps its data */
		if (same(v->project, p->name) &&
		    !strcmp(volume_type_now(v, NULL, opts->volume_types), "Ephemeral") &&
		    !volume_declared(p, v->name))
			add_action(pl, ACTION_REMOVE_VOLUME, CAUSE_REMOVED_FROM_SOURCE,
				   p->name, NULL, xstrdup(v->name), NULL);
	}

	strvec_release(&made);
	strvec_release(&images);
	cindex_release(&byname);
	free(snames);
	free(starts);
	free(order);
}

/* ---- the plan ---- */

static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void push_name(struct strvec *names, const char *name)
{
	if (name && *name)
		strvec_push(names, name);
}

/* Every project name the pass knows of, sorted, each once. */
static void collect_names(struct strvec *names, const struct project_set *desired,
			  const struct observed *o, const struct strvec *known)
{
	size_t i, w;

	for (i = 0; desired && i < desired->n; i++)
		push_name(names, desired->v[i].name);
	for (i = 0; i < o->ncontainers; i++)
		push_name(names, o->containers[i].project);
	for (i = 0; i < o->nnetworks; i++)
		push_name(names, o->networks[i].project);
	for (i = 0; i < o->nvolumes; i++)
		push_name(names, o->volumes[i].project);
	for (i = 0; known && i < known->n; i++)
		push_name(names, known->v[i]);
	if (!names->n)
		return;
	qsort(names->v, names->n, sizeof(char *), cmp_cstr);
	for (i = 1, w = 1; i < names->n; i++) {
		if (!strcmp(names->v[i], names->v[w - 1]))
			free(names->v[i]);
		else
			names->v[w++] = names->v[i];
	}
	names->n = w;
}

/*
 * The desired project called `name`: NULL if none.  When any project of
 * that name is invalid (a duplicate is marked invalid too), that one is
 * returned, so the name is left alone.
 */
static const struct project *find_desired(const struct project_set *set,
					  const char *name)
{
	const struct project *found = NULL;
	size_t i;

	for (i = 0; set && i < set->n; i++) {
		const struct project *p = &set->v[i];

		if (!same(p->name, name))
			continue;
		if (!p->valid)
			return p;
		if (!found)
			found = p;
	}
	return found;
}

/*
 * Pruning needs a source read in full with no invalid project: a project
 * that fails validation may be the one that "disappeared", and one typo
 * must never take down what a file still declares.
 */
static bool source_has_invalid(const struct project_set *desired)
{
	size_t i;

	if (!desired)
		return false;
	if (desired->incomplete)
		return true;
	for (i = 0; i < desired->n; i++)
		if (!desired->v[i].valid)
			return true;
	return false;
}

/*
 * Only projects this state database has applied are pruned.  Objects that
 * carry cara's labels but were made by another cara (another state
 * directory on the same Engine) or by hand are left alone.  known == NULL
 * means the caller has no state: every observed project counts.
 */
static bool prunable(const char *name, const struct strvec *known)
{
	size_t i;

	if (!known)
		return true;
	for (i = 0; i < known->n; i++)
		if (!strcmp(known->v[i], name))
			return true;
	return false;
}

static bool strvec_has_pair(const struct strvec *v, const char *a, const char *b)
{
	const char *val;
	size_t i = 0;

	while ((val = pair_next(v, &i, a)))
		if (!strcmp(val, b))
			return true;
	return false;
}

/*
 * Is an object of project `name` whose cara.owner label is `owner` this
 * state's?  *adopt is set when only --adopt makes it so.
 */
static bool owned(const char *name, const char *owner,
		  const struct plan_options *opts, bool *adopt)
{
	owner = owner ? owner : "";
	*adopt = false;
	if (!opts->owner || !strcmp(owner, opts->owner) ||
	    strvec_has_pair(opts->adoptions, name, owner))
		return true;
	*adopt = opts->adopt && strvec_has(opts->adopt, name);
	return *adopt;
}

/* What an ownership check finds for one project. */
struct verdict_owner {
	const char *name;
	char *message;             /* why it is left alone, or NULL */
	struct strvec adopted;     /* owners --adopt takes it over from */
};

/* Note in v why it is refused, the first time; or the owner to adopt. */
static void judge_owner(struct verdict_owner *pp, const char *kind,
			const char *object, const char *owner,
			const struct plan_options *opts)
{
	bool adopt;

	owner = owner ? owner : "";
	if (owned(pp->name, owner, opts, &adopt)) {
		if (adopt && !strvec_has(&pp->adopted, owner))
			strvec_push(&pp->adopted, owner);
		return;
	}
	if (pp->message)
		return;
	if (*owner)
		pp->message = xasprintf("%s '%s' is owned by another cara state (%s; "
					"this one is %s): left alone; --adopt %s "
					"takes the project over", kind, object, owner,
					opts->owner, pp->name);
	else
		pp->message = xasprintf("%s '%s' carries cara's labels but no owner, "
					"and this state never applied '%s' (made by "
					"hand, or by a cara with another state "
					"directory): left alone; --adopt %s takes it "
					"over", kind, object, pp->name, pp->name);
}

/*
 * Whose are the objects labelled with pp's project, and are the names pp
 * needs taken by another project's objects?  Sets pp->message when pp
 * must be left alone.
 */
static void check_ownership(struct verdict_owner *pp, const struct project *p,
			    const struct observed *o, const struct plan_options *opts)
{
	struct strvec made = STRVEC_INIT;
	char *n;
	size_t i, k;

	for (i = 0; i < o->ncontainers; i++)
		if (same(o->containers[i].project, pp->name))
			judge_owner(pp, "container", o->containers[i].name,
				    o->containers[i].owner, opts);
	for (i = 0; i < o->nnetworks; i++)
		if (same(o->networks[i].project, pp->name))
			judge_owner(pp, "network", o->networks[i].name,
				    o->networks[i].owner, opts);
	for (i = 0; i < o->nvolumes; i++)
		if (same(o->volumes[i].project, pp->name))
			judge_owner(pp, "volume", o->volumes[i].name,
				    o->volumes[i].owner, opts);
	if (pp->message || !p)
		return;
	/* names collide across projects: project a's volume b-c and project
	 * a-b's volume c are both cara-a-b-c; never use another's.  A name
	 * of p's starts with "cara-P-" (volumes) or "P-" (containers). */
	n = name_volume(p->name, "");
	for (i = 0; i < o->nvolumes && !pp->message; i++) {
		const struct obs_volume *v = &o->volumes[i];

		if (!same(v->project, p->name) && v->name &&
		    !strncmp(v->name, n, strlen(n)) &&
		    project_find_volume(p, v->name + strlen(n)) &&
		    volume_is_docker(project_find_volume(p, v->name + strlen(n))))
			pp->message = xasprintf("volume '%s' belongs to project '%s': "
						"it is not used", v->name, v->project);
	}
	free(n);
	n = name_container(p->name, "");
	for (i = 0; i < o->ncontainers && !pp->message; i++) {
		const struct obs_container *c = &o->containers[i];

		if (!same(c->project, p->name) && c->name &&
		    !strncmp(c->name, n, strlen(n)) && find_service(p, c->name + strlen(n)))
			pp->message = xasprintf("container '%s' belongs to project '%s': "
						"it is not replaced", c->name, c->project);
	}
	free(n);
	project_made_networks(p, &made);
	for (k = 0; k < made.n && !pp->message; k++) {
		n = name_project_network(p->name, made.v[k]);
		for (i = 0; i < o->nnetworks && !pp->message; i++)
			if (same(o->networks[i].name, n) &&
			    !same(o->networks[i].project, p->name))
				pp->message = xasprintf("network '%s' belongs to project "
							"'%s': it is not used", n,
							o->networks[i].project);
		free(n);
	}
	strvec_release(&made);
}

/*
 * What of project p the backend cannot carry (caps), as the message of
 * its refusal (the caller's), or NULL: a healthcheck's startInterval on
 * an Engine older than API 1.44, which would drop it in silence.  Every
 * service with one is named, with where its healthcheck is.
 */
static char *caps_refusal(const struct project *p, const struct backend_caps *caps)
{
	struct buf b = BUF_INIT;
	size_t k, n = 0;

	if (caps->health_start_interval)
		return NULL;
	for (k = 0; k < p->nservices; k++) {
		const struct service *s = &p->services[k];

		if (!s->health.present || s->health.start_interval_ms <= 0)
			continue;
		buf_printf(&b, "%s'%s'", n++ ? ", " : "", s->name);
		if (p->file && s->health.start_interval_pos.line)
			buf_printf(&b, " (%s:%d:%d)", p->file,
				   s->health.start_interval_pos.line,
				   s->health.start_interval_pos.col);
	}
	if (!n)
		return NULL;
	{
		char *msg = caps->start_interval_needs ?
			xasprintf("healthcheck startInterval (compose: "
				  "start_interval) of service%s %s needs %s; this "
				  "Engine speaks API %s and would ignore it: "
				  "nothing of the project is changed",
				  n > 1 ? "s" : "", buf_cstr(&b),
				  caps->start_interval_needs,
				  caps->api ? caps->api : "(not known)") :
			xasprintf("healthcheck startInterval (compose: "
				  "start_interval) of service%s %s: not carried "
				  "by backend %s: nothing of the project is "
				  "changed", n > 1 ? "s" : "", buf_cstr(&b),
				  caps->name);

		buf_release(&b);
		return msg;
	}
}

static int plan_once(struct plan *out, const struct project_set *desired,
		     const struct observed *obs, int64_t now,
		     const struct plan_options *opts)
{
	static const struct observed empty;
	struct strvec names = STRVEC_INIT;
	struct verdict_owner vo = { NULL, NULL, STRVEC_INIT };
	char *where = NULL, *refusal;
	bool may_prune, elsewhere;
	size_t i;

	if (!obs)
		obs = &empty;
	memset(out, 0, sizeof(*out));
	may_prune = opts->prune && !source_has_invalid(desired);
	collect_names(&names, desired, obs, opts->known);

	for (i = 0; i < names.n; i++) {
		const char *name = names.v[i];
		const struct project *p = find_desired(desired, name);
		bool live = project_live(obs, name, p, opts);
		struct plan_project *pp;

		/* the guard's base: what this state manages, not every
		 * project with cara's labels on the host (another state's,
		 * or objects made by hand, would weaken it) */
		if (live && (p || prunable(name, opts->known)))
			out->nmanaged++;
		/* a valid project placed on another host is not this one's to
		 * apply, nor to refuse: only what it left here matters */
		free(where);
		where = NULL;
		elsewhere = p && p->valid && opts->host &&
			    placement_decide(&p->placement, opts->host, &where) ==
			    PLACEMENT_ELSEWHERE;
		/* before anything is expired, pruned or applied */
		vo.name = name;
		if (!p || p->valid)
			check_ownership(&vo, p, obs, opts);
		if (vo.message && elsewhere) {
			/* another state's objects: not ours to tear down */
			pp = add_project(out, name, p);
			pp->verdict = VERDICT_ELSEWHERE;
			pp->cause = CAUSE_PLACED_ELSEWHERE;
			pp->message = where;
			pp->held = live;
			where = NULL;
			free(vo.message);
			vo.message = NULL;
			strvec_release(&vo.adopted);
			continue;
		}
		if (vo.message && p) {
			pp = add_project(out, name, p);
			pp->verdict = VERDICT_REFUSED;
			pp->refusal = REFUSAL_OWNED_ELSEWHERE;
			pp->message = vo.message;
			vo.message = NULL;
			strvec_release(&vo.adopted);
			continue;
		}
		if (vo.message) {
			/* not in this source and another state's: not ours to
			 * prune, nothing to report (adopted away, or never ours) */
			free(vo.message);
			vo.message = NULL;
			strvec_release(&vo.adopted);
			continue;
		}
		if (p && !p->valid) {
			pp = add_project(out, name, p);
			pp->verdict = VERDICT_INVALID;
		} else if (p && project_expired(p, now)) {
			pp = add_project(out, name, p);
			pp->cause = CAUSE_EXPIRED;
			if (live) {
				pp->verdict = VERDICT_TEARDOWN;
				plan_teardown(out, name, p, obs, CAUSE_EXPIRED, opts);
			} else {
				pp->verdict = VERDICT_GONE;
			}
		} else if (elsewhere) {
			pp = add_project(out, name, p);
			pp->cause = CAUSE_PLACED_ELSEWHERE;
			pp->message = where;
			where = NULL;
			if (live && opts->prune && prunable(name, opts->known)) {
				/* moved away: torn down as a prune is, and
				 * counted by the guard as one */
				pp->verdict = VERDICT_TEARDOWN;
				plan_teardown(out, name, p, obs,
					      CAUSE_PLACED_ELSEWHERE, opts);
				out->nremoved++;
			} else {
				pp->verdict = VERDICT_ELSEWHERE;
				pp->held = live;
			}
		} else if (p && !opts->gc_only &&
			   (refusal = caps_refusal(p, opts->caps))) {
			/* before any action: its running containers stay */
			pp = add_project(out, name, p);
			pp->verdict = VERDICT_REFUSED;
			pp->refusal = REFUSAL_ENGINE_TOO_OLD;
			pp->message = refusal;
			strvec_release(&vo.adopted);
			continue;
		} else if (p) {
			pp = add_project(out, name, p);
			if (!opts->gc_only) {
				plan_apply(out, p, obs, opts);
				remove_orphaned_objects(out, obs, name, pp->first, opts);
			}
			if (out->nactions > pp->first)
				pp->verdict = VERDICT_APPLY;
		} else if (may_prune && prunable(name, opts->known)) {
			pp = add_project(out, name, NULL);
			pp->cause = CAUSE_REMOVED_FROM_SOURCE;
			if (live) {
				pp->verdict = VERDICT_TEARDOWN;
				plan_teardown(out, name, NULL, obs,
					      CAUSE_REMOVED_FROM_SOURCE, opts);
				out->nremoved++;
			} else {
				pp->verdict = VERDICT_GONE;
			}
		} else {
			/* not in the source, but we may not prune: leave it */
			if (live && opts->prune && prunable(name, opts->known))
				out->nheld++;
			strvec_release(&vo.adopted);
			continue;
		}
		pp->count = out->nactions - pp->first;
		/* the data goes (or went): a later project of the name is
		 * placed afresh, not held to the node it was on */
		pp->purges_pins = opts->purge_volumes &&
				  (pp->verdict == VERDICT_TEARDOWN ||
				   pp->verdict == VERDICT_GONE);
		pp->adopted = vo.adopted;
		memset(&vo.adopted, 0, sizeof(vo.adopted));
	}
	free(where);
	strvec_release(&names);
	return 0;
}

int plan_compute(struct plan *out, const struct project_set *desired,
		 const struct observed *obs, int64_t now,
		 const struct plan_options *given)
{
	struct plan_options opt, held;
	const struct plan_options *opts = &opt;
	size_t removed, managed;

	if (given)
		opt = *given;
	else
		memset(&opt, 0, sizeof(opt));
	if (!opt.caps)
		opt.caps = &backend_engine_caps;
	if (plan_once(out, desired, obs, now, opts) < 0)
		return -1;
	if (!opts->mass_guard || !out->nremoved ||
	    out->nremoved * 100 <= (size_t)opts->mass_prune_percent * out->nmanaged)
		return 0;
	/* one typo, an emptied branch: never take down most of the host */
	removed = out->nremoved;
	managed = out->nmanaged;
	held = *opts;
	held.prune = false;
	plan_release(out);
	if (plan_once(out, desired, obs, now, &held) < 0)
		return -1;
	out->mass_refused = true;
	out->mass_removed = removed;
	out->mass_managed = managed;
	return 0;
}
