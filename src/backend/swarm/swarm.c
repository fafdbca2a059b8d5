/*
 * backend/swarm/swarm.c - the Docker Swarm backend: every cara service a
 * Swarm service on a manager, the project network an attachable overlay.
 * The operations table over the Engine client's transport (the Swarm API
 * is the Engine API: the same --docker-host, socket and TLS settings).
 *
 * Invariants:
 * - observe() makes seven requests whatever the number of projects:
 *   services, tasks, nodes, networks, volumes, configs, secrets (the
 *   nodes pull images themselves: no image list);
 * - a workload's create is only remembered; its start posts it, so that a
 *   dependent service exists only once its dependencies hold (apply waits
 *   between the two);
 * - a start or an update returns once the service's tasks settled (or
 *   SWARM_CONVERGE_MS passed): what apply reads next is Swarm's verdict,
 *   not a moment of the rollout;
 * - a service whose mode is not the one cara labelled (scaled by hand)
 *   is observed with a spec hash that matches nothing, and updated;
 * - a secret mounted as a file and each file of a File volume are
 *   immutable Swarm objects (secrets, configs) named for their target and
 *   bytes: a new content is a new object the service's update swaps in;
 *   the versions it no longer refers to are removed once the update
 *   converged, all of them with the service, never another owner's;
 *   those no service refers to (a create that failed after them, a
 *   service removed by hand) are observed, and the plan removes them
 *   (plan.c, Orphaned).
 */
#include <time.h>

#include "backend/engine/internal.h"
#include "backend/swarm/swarm.h"

/*
 * Swarm's nodes pull images; a service is updated in place.  A file of a
 * File volume is a Swarm config: less than 500 KiB (Swarm's own limit in
 * the Docker releases that have the smallest, and not empty: pass.c), at
 * most 64 a service (each one an object in the managers' Raft store and a
 * mount in every task: a larger tree belongs in the image or a volume).
 */
const struct backend_caps backend_swarm_caps = {
	.name = "swarm",
	.pulls_images = true,
	.starts_stopped = true,
	.updates_in_place = true,
	.cluster = true,
	.file_object_bytes = 500 * 1024,
	.file_objects_max = 64,
};

struct swarm {
	struct backend base;       /* first: a struct backend * is a struct swarm * */
	struct docker *d;
	char *pending_name;        /* created, not yet started (posted) */
	char *pending_json;
};

static struct docker *D(struct backend *b)
{
	return ((struct swarm *)b)->d;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int s_open(struct backend **out, const struct backend_options *o)
{
	struct docker_options dopts;
	struct swarm *s = xcalloc(1, sizeof(*s));

	*out = NULL;
	memset(&dopts, 0, sizeof(dopts));
	if (o) {
		dopts.host = o->host;
		dopts.timeout_ms = o->timeout_ms;
		dopts.api = o->api;
	}
	if (docker_open(&s->d, &dopts) < 0) {
		free(s);
		return -1;
	}
	s->base.ops = &backend_swarm;
	*out = &s->base;
	return 0;
}

static void s_close(struct backend *b)
{
	struct swarm *s = (struct swarm *)b;

	if (!s)
		return;
	docker_free(s->d);
	free(s->pending_name);
	free(s->pending_json);
	free(s);
}

static unsigned long s_calls(const struct backend *b)
{
	return b ? docker_calls(((const struct swarm *)b)->d) : 0;
}

static const char *s_api_version(const struct backend *b)
{
	return b ? docker_api_version(((const struct swarm *)b)->d) : NULL;
}

/* health_start_interval stays false at any API version: the Engine does
 * not carry StartInterval into a service's tasks (API 1.44) */
static void s_caps_of(const struct backend *b, struct backend_caps *out)
{
	*out = backend_swarm_caps;
	out->api = s_api_version(b);
}

/* ---- reading services, tasks and nodes ---- */

/* "?filters=" + JSON, escaped, after base. */
static char *filter_path(const char *base, const char *json)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, base);
	buf_puts(&b, "?filters=");
	docker_url_escape(&b, json, false);
	return buf_detach(&b);
}

static const char *jpath_str(const json_t *o, const char *a, const char *b,
			     const char *c)
{
	const json_t *j = json_object_get(o, a);

	if (b)
		j = json_object_get(j, b);
	if (c)
		j = json_object_get(j, c);
	return json_string_value(j);
}

/* The node's host name and whether it is down (not ready). */
static const char *node_of(const json_t *nodes, const char *id, bool *down)
{
	size_t i;

	*down = false;
	for (i = 0; id && i < json_array_size(nodes); i++) {
		const json_t *n = json_array_get(nodes, i);
		const char *h = jpath_str(n, "Description", "Hostname", NULL);
		const char *st = jpath_str(n, "Status", "State", NULL);

		if (!jget_str(n, "ID") || strcmp(jget_str(n, "ID"), id))
			continue;
		*down = st && strcmp(st, "ready");
		return h && *h ? h : id;
	}
	return id;
}

/* The tasks of service svc (its JSON) among tasks, with their nodes. */
static struct swarm_task *tasks_of(const json_t *svc, const json_t *tasks,
				   const json_t *nodes, size_t *out_n)
{
	const char *id = jget_str(svc, "ID");
	json_t *it = json_object_get(json_object_get(json_object_get(svc, "JobStatus"),
						     "JobIteration"), "Index");
	struct swarm_task *v = NULL;
	size_t i, n = 0, cap = 0;

	for (i = 0; id && i < json_array_size(tasks); i++) {
		const json_t *t = json_array_get(tasks, i);
		const json_t *st = json_object_get(t, "Status");
		json_t *ti = json_object_get(json_object_get(t, "JobIteration"), "Index");
		struct swarm_task *k;

		if (!jget_str(t, "ServiceID") || strcmp(jget_str(t, "ServiceID"), id))
			continue;
		GROW(v, cap, n + 1);
		k = &v[n++];
		memset(k, 0, sizeof(*k));
		k->id = jget_str(t, "ID");
		k->node = node_of(nodes, jget_str(t, "NodeID"), &k->node_down);
		k->state = jget_str(st, "State");
		k->desired = jget_str(t, "DesiredState");
		k->err = jget_str(st, "Err");
		k->exit_code = (int)jget_int(json_object_get(st, "ContainerStatus"),
					     "ExitCode");
		k->slot = (int)jget_int(t, "Slot");
		k->current = !it || (ti && json_integer_value(ti) == json_integer_value(it));
	}
	*out_n = n;
	return v;
}

static void view_of(struct swarm_service_view *v, const json_t *svc)
{
	const json_t *spec = json_object_get(svc, "Spec");
	const json_t *mode = json_object_get(spec, "Mode");
	const json_t *hc = json_object_get(json_object_get(json_object_get(spec,
			"TaskTemplate"), "ContainerSpec"), "Healthcheck");
	const json_t *test = json_object_get(hc, "Test");
	const json_t *us = json_object_get(svc, "UpdateStatus");

	memset(v, 0, sizeof(*v));
	v->name = jpath_str(spec, "Labels", LABEL_SERVICE, NULL);
	if (!v->name)
		v->name = jget_str(spec, "Name");
	if (json_object_get(mode, "ReplicatedJob")) {
		v->job = true;
		v->want = (int)jget_int(json_object_get(mode, "ReplicatedJob"),
					"TotalCompletions");
	} else if (json_object_get(mode, "Global")) {
		v->global = true;
	} else {
		v->want = (int)jget_int(json_object_get(mode, "Replicated"), "Replicas");
	}
	v->has_health = json_array_size(test) &&
			strcmp(json_string_value(json_array_get(test, 0)) ?
			       json_string_value(json_array_get(test, 0)) : "", "NONE");
	v->update_state = jget_str(us, "State");
	v->update_message = jget_str(us, "Message");
}

/* The mode svc runs in, as LABEL_REPLICAS spells it (caller frees). */
static char *mode_now(const json_t *svc)
{
	struct swarm_service_view v;

	view_of(&v, svc);
	if (v.job)
		return xasprintf("job:%d", v.want);
	if (v.global)
		return xstrdup("global");
	return xasprintf("%d", v.want);
}

/* spec_fields with replicas marked changed (caller frees). */
static char *fields_drifted(const char *fields)
{
	struct buf b = BUF_INIT;
	const char *p = fields ? fields : "";
	bool done = false;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (b.len)
			buf_puts(&b, ",");
		if (len > 9 && !strncmp(p, "replicas=", 9)) {
			buf_puts(&b, "replicas=-");
			done = true;
		} else {
			buf_add(&b, p, len);
		}
		p += len;
		if (*p == ',')
			p++;
	}
	if (!done)
		buf_printf(&b, "%sreplicas=-", b.len ? "," : "");
	return buf_detach(&b);
}

static char *network_ids(const json_t *svc)
{
	const json_t *nets = json_object_get(json_object_get(json_object_get(svc, "Spec"),
							     "TaskTemplate"), "Networks");
	struct buf b = BUF_INIT;
	size_t i;

	/* in the spec's order: the planner looks ids up, order aside */
	for (i = 0; i < json_array_size(nets); i++) {
		const char *t = jget_str(json_array_get(nets, i), "Target");

		if (t)
			buf_printf(&b, "%s%s", b.len ? " " : "", t);
	}
	return buf_detach(&b);
}

/*
 * A service held to one node by a node.id==ID constraint (cara's pin of a
 * Managed volume, or the manifest's own) cannot run elsewhere: once its
 * tasks do not run and that node is down, drained or gone, that is the
 * problem, naming the node and the volumes the service keeps there.
 * Writes nothing when the service is not pinned or its node is fine.
 */
/* The node id of svc's node.id==ID constraint (borrowed), or NULL. */
static const char *pinned_id(const json_t *svc)
{
	const json_t *tt = json_object_get(json_object_get(svc, "Spec"), "TaskTemplate");
	const json_t *cons = json_object_get(json_object_get(tt, "Placement"), "Constraints");
	const char *id = NULL;
	size_t i;

	for (i = 0; i < json_array_size(cons) && !id; i++) {
		const char *c = json_string_value(json_array_get(cons, i));
		const char *op = c ? strstr(c, "==") : NULL;

		while (c && *c == ' ')
			c++;
		if (op && !strncmp(c, "node.id", 7) && (c[7] == ' ' || c + 7 == op))
			for (id = op + 2; *id == ' '; id++)
				;
	}
	return id && *id ? id : NULL;
}

static void pinned_problem(char *out, size_t cap, const char *service, const json_t *svc,
			   const json_t *nodes)
{
	const json_t *tt = json_object_get(json_object_get(svc, "Spec"), "TaskTemplate");
	const json_t *mounts = json_object_get(json_object_get(tt, "ContainerSpec"), "Mounts");
	const char *project = jpath_str(svc, "Spec", "Labels", LABEL_PROJECT);
	const char *id = pinned_id(svc), *host = NULL, *why = NULL;
	char *prefix = name_volume(project ? project : "", "");
	struct buf vols = BUF_INIT;
	size_t i, np = strlen(prefix);

	if (!id)
		goto out;
	why = "is no longer in the Swarm";
	for (i = 0; i < json_array_size(nodes); i++) {
		const json_t *n = json_array_get(nodes, i);
		const char *st = jpath_str(n, "Status", "State", NULL);
		const char *av = jpath_str(n, "Spec", "Availability", NULL);

		if (!jget_str(n, "ID") || strcmp(jget_str(n, "ID"), id))
			continue;
		host = jpath_str(n, "Description", "Hostname", NULL);
		why = st && strcmp(st, "ready") ? "is down" :
		      av && !strcmp(av, "drain") ? "is drained" : NULL;
	}
	if (!why)
		goto out;
	for (i = 0; i < json_array_size(mounts); i++) {
		const json_t *m = json_array_get(mounts, i);
		const char *src = jget_str(m, "Source");

		if (!src || !jget_str(m, "Type") || strcmp(jget_str(m, "Type"), "volume"))
			continue;
		if (!strncmp(src, prefix, np) && src[np])
			src += np;
		buf_printf(&vols, "%s'%s'", vols.len ? ", " : "", src);
	}
	if (vols.len)
		snprintf(out, cap, "service '%s': node %s %s, and volume%s %s of the "
			 "service %s pinned there (node.id==%s): the service waits for "
			 "it", service, host && *host ? host : id, why,
			 strchr(buf_cstr(&vols), ',') ? "s" : "", buf_cstr(&vols),
			 strchr(buf_cstr(&vols), ',') ? "are" : "is", id);
	else
		snprintf(out, cap, "service '%s': node %s %s, and the service is "
			 "pinned there (node.id==%s)", service, host && *host ? host : id,
			 why, id);
out:
	buf_release(&vols);
	free(prefix);
}

static void add_service(struct observed *o, const json_t *svc, const json_t *tasks,
			const json_t *nodes)
{
	const json_t *spec = json_object_get(svc, "Spec");
	const json_t *labels = json_object_get(spec, "Labels");
	struct obs_container *c = observed_add_container(o);
	struct swarm_service_view v;
	struct swarm_verdict vd;
	struct swarm_task *t;
	const char *want = jget_str(labels, LABEL_REPLICAS);
	char *now = mode_now(svc);
	size_t n;

	view_of(&v, svc);
	t = tasks_of(svc, tasks, nodes, &n);
	swarm_tasks_verdict(&vd, &v, t, n);
	free(t);
	if (vd.problem[0])
		pinned_problem(vd.problem, sizeof(vd.problem), v.name, svc, nodes);
	c->id = jdup(svc, "ID");
	c->name = jdup(spec, "Name");
	c->project = jdup(labels, LABEL_PROJECT);
	c->owner = jdup(labels, LABEL_OWNER);
	c->service = jdup(labels, LABEL_SERVICE);
	c->image = xstrdup(jpath_str(spec, "TaskTemplate", "ContainerSpec", "Image") ?
			   jpath_str(spec, "TaskTemplate", "ContainerSpec", "Image") : "");
	c->image_id = xstrdup("");
	if (want && strcmp(want, now)) {
		/* scaled by hand: matches no spec, so the plan updates it */
		c->spec_hash = xasprintf("drifted:%s", jget_str(labels, LABEL_SPEC_HASH) ?
					 jget_str(labels, LABEL_SPEC_HASH) : "");
		c->spec_fields = fields_drifted(jget_str(labels, LABEL_SPEC_FIELDS));
	} else {
		c->spec_hash = jdup(labels, LABEL_SPEC_HASH);
		c->spec_fields = jdup(labels, LABEL_SPEC_FIELDS);
	}
	c->state = vd.state;
	c->health = vd.health;
	c->exit_code = vd.exit_code;
	c->networks = network_ids(svc);
	c->tasks = xstrdup(vd.tasks);
	c->problem = xstrdup(vd.problem);
	free(now);
}

static int get_list(struct docker *d, const char *base, const char *filter,
		    const char *what, json_t **out)
{
	char *path = filter ? filter_path(base, filter) : xstrdup(base);
	int rc = engine_get_json(d, path, what, out);

	free(path);
	if (rc == 0 && !json_is_array(*out)) {
		json_decref(*out);
		*out = NULL;
		return error_set("docker: %s: the answer is not a list", what);
	}
	return rc;
}

#define PROJECT_FILTER "{\"label\":[\"" LABEL_PROJECT "\"]}"

static int cmp_id(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The ids of the configs or secrets the services of svcs mount, sorted
 * (borrowed from svcs). */
static const char **ids_in_use(const json_t *svcs, enum obs_object_kind kind, size_t *n)
{
	const char *list = kind == OBJECT_SECRET ? "Secrets" : "Configs";
	const char *key = kind == OBJECT_SECRET ? "SecretID" : "ConfigID";
	const char **v = NULL;
	size_t i, k, cap = 0;

	*n = 0;
	for (i = 0; i < json_array_size(svcs); i++) {
		const json_t *cs = json_object_get(json_object_get(json_object_get(
			json_object_get(json_array_get(svcs, i), "Spec"), "TaskTemplate"),
			"ContainerSpec"), list);

		for (k = 0; k < json_array_size(cs); k++) {
			const char *id = jget_str(json_array_get(cs, k), key);

			if (!id)
				continue;
			GROW(v, cap, *n + 1);
			v[(*n)++] = id;
		}
	}
	if (*n > 1)
		qsort(v, *n, sizeof(*v), cmp_id);
	return v;
}

/* The configs or secrets in list a that carry cara's labels, into o,
 * each marked in use when a service of svcs mounts it. */
static void add_objects(struct observed *o, enum obs_object_kind kind, const json_t *a,
			const json_t *svcs)
{
	size_t i, nused;
	const char **used = ids_in_use(svcs, kind, &nused);

	for (i = 0; i < json_array_size(a); i++) {
		const json_t *j = json_array_get(a, i);
		const json_t *spec = json_object_get(j, "Spec");
		const json_t *labels = json_object_get(spec, "Labels");
		struct obs_object *ob;

		if (!jget_str(j, "ID") || !jget_str(labels, LABEL_PROJECT) ||
		    !jget_str(labels, LABEL_SERVICE))
			continue;
		ob = observed_add_object(o);
		ob->kind = kind;
		ob->id = jdup(j, "ID");
		ob->name = jdup(spec, "Name");
		ob->project = jdup(labels, LABEL_PROJECT);
		ob->service = jdup(labels, LABEL_SERVICE);
		ob->owner = jdup(labels, LABEL_OWNER);
		ob->in_use = nused && bsearch(&ob->id, used, nused, sizeof(*used), cmp_id);
	}
	free(used);
}

static int s_observe(struct backend *b, struct observed *out)
{
	struct observed o = OBSERVED_INIT;
	json_t *svcs = NULL, *tasks = NULL, *nodes = NULL, *nets = NULL, *vols = NULL;
	json_t *cfgs = NULL, *secs = NULL;
	json_t *a;
	size_t i;
	int rc = -1;

	if (get_list(D(b), "/services", PROJECT_FILTER, "list services", &svcs) < 0 ||
	    get_list(D(b), "/tasks", NULL, "list tasks", &tasks) < 0 ||
	    get_list(D(b), "/nodes", NULL, "list nodes", &nodes) < 0 ||
	    get_list(D(b), "/networks", PROJECT_FILTER, "list networks", &nets) < 0 ||
	    engine_get_json(D(b), "/volumes?filters=%7B%22label%22%3A%5B%22"
			    LABEL_PROJECT "%22%5D%7D", "list volumes", &vols) < 0 ||
	    get_list(D(b), "/configs", PROJECT_FILTER, "list configs", &cfgs) < 0 ||
	    get_list(D(b), "/secrets", PROJECT_FILTER, "list secrets", &secs) < 0)
		goto out;
	add_objects(&o, OBJECT_CONFIG, cfgs, svcs);
	add_objects(&o, OBJECT_SECRET, secs, svcs);
	for (i = 0; i < json_array_size(svcs); i++)
		add_service(&o, json_array_get(svcs, i), tasks, nodes);
	for (i = 0; i < json_array_size(nets); i++) {
		const json_t *j = json_array_get(nets, i);
		struct obs_network *n;

		/* the manager also lists a node's local networks of the name */
		if (!jget_str(j, "Scope") || strcmp(jget_str(j, "Scope"), "swarm"))
			continue;
		n = observed_add_network(&o);
		n->id = jdup(j, "Id");
		n->name = jdup(j, "Name");
		n->project = jdup(json_object_get(j, "Labels"), LABEL_PROJECT);
		n->owner = jdup(json_object_get(j, "Labels"), LABEL_OWNER);
		n->internal = json_is_true(json_object_get(j, "Internal"));
	}
	a = json_object_get(vols, "Volumes");
	for (i = 0; i < json_array_size(a); i++) {
		const json_t *v = json_array_get(a, i);
		const json_t *labels = json_object_get(v, "Labels");
		struct obs_volume *ov;

		/* a node made it for a task: the type label is cara's own */
		if (!jget_str(labels, LABEL_VOLUME_TYPE))
			continue;
		ov = observed_add_volume(&o);
		ov->name = jdup(v, "Name");
		ov->project = jdup(labels, LABEL_PROJECT);
		ov->type = jdup(labels, LABEL_VOLUME_TYPE);
		ov->owner = jdup(labels, LABEL_OWNER);
	}
	observed_sort(&o);
	*out = o;
	memset(&o, 0, sizeof(o));
	rc = 0;
out:
	observed_release(&o);
	json_decref(svcs);
	json_decref(tasks);
	json_decref(nodes);
	json_decref(nets);
	json_decref(vols);
	json_decref(cfgs);
	json_decref(secs);
	return rc;
}

/* ---- networks and volumes ---- */

static int s_network_ensure(struct backend *b, const char *name, const char *project,
			    const char *owner, bool internal)
{
	json_t *root = json_object();
	bool bad = false;

	jset(root, "Name", jstr(name), &bad);
	jset(root, "Driver", jstr("overlay"), &bad);
	jset(root, "Attachable", json_true(), &bad);
	if (internal)
		jset(root, "Internal", json_true(), &bad);
	jset(root, "CheckDuplicate", json_true(), &bad);
	jset(root, "Labels", jlabels(project, owner, NULL, NULL, &bad), &bad);
	if (engine_create_object(D(b), "network", name, root, bad) < 0 ||
	    engine_network_dedupe(D(b), name) < 0)
		return -1;
	return engine_check_owner(D(b), "network", name, project, owner);
}

/*
 * A removed service's tasks go away a little later (each its stop grace
 * period): the network stays "in use" until then.  Bounded.
 */
static int s_network_remove(struct backend *b, const char *id_or_name)
{
	int64_t end = monotonic_ms() + SWARM_CONVERGE_MS;
	int rc;

	char *path = engine_obj_path("networks", id_or_name, NULL);
	json_t *j = NULL;

	for (;;) {
		rc = engine_remove_object(D(b), "network", id_or_name, NULL);
		if (rc == 0 || monotonic_ms() >= end ||
		    (!strstr(error_last(), "in use") &&
		     !strstr(error_last(), "active endpoints")))
			break;
		nap_ms(SWARM_POLL_MS * 2);
	}
	/* the manager answers before the network is gone: until it is */
	while (rc == 0 && monotonic_ms() < end &&
	       engine_get_json(D(b), path, "inspect network", &j) == 0) {
		json_decref(j);
		j = NULL;
		nap_ms(SWARM_POLL_MS);
	}
	if (rc == 0)
		error_clear();
	free(path);
	return rc;
}

static int s_network_connect(struct backend *b, const char *network,
			     const char *workload, const char *alias,
			     const struct strvec *aliases)
{
	(void)b; (void)alias; (void)aliases;
	return error_set("swarm: service '%s' is not on network '%s': a service "
			 "is attached by an update, not a connect", workload, network);
}

static int s_volume_ensure(struct backend *b, const char *name, const char *project,
			   const char *type, const char *owner)
{
	return docker_volume_create(D(b), name, project, type, owner);
}

static int s_volume_remove(struct backend *b, const char *name)
{
	return docker_volume_remove(D(b), name);
}

static int s_volume_exists(struct backend *b, const char *name)
{
	return docker_object_inspect(D(b), "volume", name);
}

static int s_object_remove(struct backend *b, enum obs_object_kind kind, const char *id)
{
	return engine_remove_object(D(b), obs_object_kind_name(kind), id, NULL);
}

static int s_network_exists(struct backend *b, const char *name)
{
	return docker_object_inspect(D(b), "network", name);
}

static int s_image_pull(struct backend *b, const char *ref, const char *registry_auth,
			void (*note)(void *arg, const char *summary), void *arg)
{
	(void)b; (void)registry_auth; (void)note; (void)arg;
	return error_set("swarm: image %s: the nodes pull their images", ref);
}

/* ---- services ---- */

static int service_get(struct backend *b, const char *name, json_t **out)
{
	char *what = xasprintf("inspect service '%s'", name);
	char *path = engine_obj_path("services", name, NULL);
	int rc = engine_get_json(D(b), path, what, out);

	free(path);
	free(what);
	return rc;
}

/* The verdict of service name now: three requests. */
static int service_verdict(struct backend *b, const char *name, struct swarm_verdict *out,
			   json_t **out_svc)
{
	json_t *svc = NULL, *tasks = NULL, *nodes = NULL, *f = NULL;
	struct swarm_service_view v;
	struct swarm_task *t;
	char *fs = NULL;
	size_t n;
	int rc;

	if ((rc = service_get(b, name, &svc)) < 0)
		goto out;
	rc = -1;
	f = json_pack("{s[s]}", "service", jget_str(svc, "ID") ? jget_str(svc, "ID") : "");
	if (!f || !(fs = json_dumps(f, JSON_COMPACT))) {
		error_set("swarm: service '%s': cannot build a task filter", name);
		goto out;
	}
	if (get_list(D(b), "/tasks", fs, "list tasks", &tasks) < 0 ||
	    get_list(D(b), "/nodes", NULL, "list nodes", &nodes) < 0)
		goto out;
	view_of(&v, svc);
	t = tasks_of(svc, tasks, nodes, &n);
	swarm_tasks_verdict(out, &v, t, n);
	free(t);
	rc = 0;
out:
	if (out_svc && rc == 0)
		*out_svc = svc;
	else
		json_decref(svc);
	json_decref(tasks);
	json_decref(nodes);
	json_decref(f);
	free(fs);
	return rc;
}

/*
 * Until the service's tasks settled (or the bound): an update is seen
 * as started once UpdateStatus.StartedAt is not `was` (or after a short
 * while: an update that replaces no task reports no status).  0, or an
 * error; ERR_ROLLED_BACK with Swarm's message when the update rolled back.
 */
static int converge(struct backend *b, const char *name, const char *was, bool update)
{
	int64_t start = monotonic_ms(), end = start + SWARM_CONVERGE_MS;
	struct swarm_verdict vd;
	json_t *svc = NULL;
	int rc;

	for (;;) {
		const char *at, *st;
		bool begun;

		json_decref(svc);
		svc = NULL;
		if ((rc = service_verdict(b, name, &vd, &svc)) < 0)
			break;
		at = jpath_str(svc, "UpdateStatus", "StartedAt", NULL);
		st = jpath_str(svc, "UpdateStatus", "State", NULL);
		begun = !update || (at && (!was || strcmp(at, was))) ||
			monotonic_ms() - start >= 2000;
		if (begun && vd.settled) {
			if (update && at && (!was || strcmp(at, was)) && st &&
			    !strncmp(st, "rollback", 8)) {
				error_set("swarm: the update of service '%s' rolled "
					  "back: %s", name,
					  jpath_str(svc, "UpdateStatus", "Message", NULL) ?
					  jpath_str(svc, "UpdateStatus", "Message", NULL) :
					  "no message");
				rc = ERR_ROLLED_BACK;
			}
			break;
		}
		if (monotonic_ms() >= end)
			break;
		nap_ms(SWARM_POLL_MS);
	}
	json_decref(svc);
	return rc;
}

/* A path of this host is not there on the node a task lands on. */
static int no_binds(const struct workload_spec *spec)
{
	size_t i;

	for (i = 0; i < spec->nmounts; i++)
		if (!strcmp(spec->mounts[i].type, "bind") && !spec->mounts[i].secret &&
		    !spec->mounts[i].files)
			return error_set("swarm: service '%s': %s is a file of the host "
					 "cara runs on (a HostPath volume): not supported "
					 "with --backend swarm", spec->name,
					 spec->mounts[i].target);
	return 0;
}

static const char *label_of(const struct workload_spec *spec, const char *key)
{
	size_t i;

	for (i = 0; i < spec->nlabels; i++)
		if (!strcmp(spec->labels[i].key, key))
			return spec->labels[i].value;
	return NULL;
}

static void ids_free(char **ids, size_t n)
{
	size_t i;

	for (i = 0; ids && i < n; i++)
		free(ids[i]);
	free(ids);
}

/*
 * The immutable Swarm object of kind ("secret", "config") named name,
 * holding data[0..len) for service spec->name and labelled as it
 * (cara.project, cara.owner, cara.service), made when missing: one of
 * that name is the same bytes (its name holds their hash), used when it is
 * the project's and owner's, else ERR_FOREIGN.  *out_id its id (caller
 * frees).  The request body is wiped once sent (a secret's bytes).
 */
static int object_ensure(struct backend *b, const char *kind,
			 const struct workload_spec *spec, const char *name,
			 const char *data, size_t len, char **out_id)
{
	const char *project = label_of(spec, LABEL_PROJECT);
	const char *owner = label_of(spec, LABEL_OWNER);
	char *what = xasprintf("create %s '%s'", kind, name);
	char *path = xasprintf("/%ss/create", kind);
	struct buf body = BUF_INIT;
	json_t *j = NULL;
	long code;
	int rc;

	*out_id = NULL;
	/* room first, so that no regrowth leaves the bytes behind (a secret
	 * is at most 1 MiB: spec.c; a config less than 500 KiB: pass.c) */
	buf_printf(&body, "%*s", (int)((len + 2) / 3 * 4 + 1024 + 2 * strlen(spec->name) +
				       (project ? strlen(project) : 0) +
				       (owner ? strlen(owner) : 0)), "");
	buf_reset(&body);
	buf_puts(&body, "{\"Name\":");
	buf_json_str(&body, name);
	buf_puts(&body, ",\"Labels\":{\"" LABEL_PROJECT "\":");
	buf_json_str(&body, project ? project : "");
	if (owner && *owner) {
		buf_puts(&body, ",\"" LABEL_OWNER "\":");
		buf_json_str(&body, owner);
	}
	buf_puts(&body, ",\"" LABEL_SERVICE "\":");
	buf_json_str(&body, spec->name);
	buf_puts(&body, "},\"Data\":\"");
	base64_encode(&body, data ? data : "", len, 0);
	buf_puts(&body, "\"}");
	rc = engine_simple(D(b), "POST", path, buf_cstr(&body), what, &code);
	buf_wipe(&body);
	buf_release(&body);
	free(path);
	if (rc == 0) {
		j = engine_parse_body(D(b), what);
		*out_id = jdup(j, "ID");
	} else if (code == 409) {
		char *coll = xasprintf("%ss", kind);

		error_clear();
		free(what);
		what = xasprintf("inspect %s '%s'", kind, name);
		path = engine_obj_path(coll, name, NULL);
		free(coll);
		if ((rc = engine_get_json(D(b), path, what, &j)) == 0 &&
		    (rc = engine_labels_owned(json_object_get(json_object_get(j, "Spec"),
							      "Labels"),
					      kind, name, project ? project : "",
					      owner)) == 0)
			*out_id = jdup(j, "ID");
		free(path);
	}
	if (rc == 0 && !*out_id)
		rc = error_set("docker: %s: no ID in the answer", what);
	json_decref(j);
	free(what);
	return rc;
}

/*
 * The Swarm secret of each secret mount of spec, made when missing;
 * *out_ids[i] the id of mount i's, NULL for other mounts.
 */
static int ensure_secrets(struct backend *b, const struct workload_spec *spec,
			  char ***out_ids)
{
	char **ids = xcalloc(spec->nmounts + 1, sizeof(*ids));
	size_t i;
	int rc = 0;

	*out_ids = ids;
	for (i = 0; i < spec->nmounts && rc == 0; i++) {
		const struct workload_mount *m = &spec->mounts[i];
		char *name;

		if (!m->secret)
			continue;
		name = swarm_secret_name(spec->name, m);
		rc = object_ensure(b, "secret", spec, name, m->secret->ptr, m->secret->len,
				   &ids[i]);
		free(name);
	}
	return rc;
}

/* The Swarm config of each file of spec's File mounts, made when missing. */
static int ensure_configs(struct backend *b, const struct workload_spec *spec,
			  struct swarm_configs *out)
{
	size_t i;
	int rc = 0;

	swarm_configs_of(out, spec);
	for (i = 0; i < out->n && rc == 0; i++)
		rc = object_ensure(b, "config", spec, out->v[i].name, out->v[i].data,
				   out->v[i].len, &out->v[i].id);
	return rc;
}

/*
 * Remove the objects of kind ("secret", "config") made for service `name`
 * of project and owner that keep[0..n) does not hold (the versions it no
 * longer uses; keep NULL: all); another owner's are never touched.  One in
 * use still is left for a later update or teardown; with wait, tried again
 * for a while (a teardown's tasks are stopping).
 */
static void prune_objects(struct backend *b, const char *kind, const char *name,
			  const char *project, const char *owner,
			  char *const *keep, size_t n, bool wait)
{
	int64_t end = monotonic_ms() + (wait ? SWARM_CONVERGE_MS : 0);
	json_t *f = json_pack("{s[s+]}", "label", LABEL_SERVICE "=", name);
	json_t *a = NULL;
	char *fs = f ? json_dumps(f, JSON_COMPACT) : NULL;
	char *base = xasprintf("/%ss", kind), *what = xasprintf("list %ss", kind);
	size_t i, k;

	json_decref(f);
	if (!fs || get_list(D(b), base, fs, what, &a) < 0)
		goto out;
	for (i = 0; i < json_array_size(a); i++) {
		const json_t *o = json_array_get(a, i);
		const char *id = jget_str(o, "ID");
		bool kept = false;

		for (k = 0; keep && k < n && !kept; k++)
			kept = keep[k] && id && !strcmp(keep[k], id);
		if (!id || kept ||
		    engine_labels_owned(json_object_get(json_object_get(o, "Spec"), "Labels"),
					kind, id, project ? project : "", owner) < 0)
			continue;
		while (engine_remove_object(D(b), kind, id, NULL) < 0 &&
		       strstr(error_last(), "in use") && monotonic_ms() < end)
			nap_ms(SWARM_POLL_MS * 2);
	}
out:
	error_clear();
	json_decref(a);
	free(fs);
	free(base);
	free(what);
}

/* The secrets and configs of service `name` that keep does not hold
 * (NULL: all of them, a teardown's). */
static void prune_shipped(struct backend *b, const char *name, const char *project,
			  const char *owner, char *const *secret_ids, size_t nsecrets,
			  const struct swarm_configs *keep, bool wait)
{
	char **cids = xcalloc(keep ? keep->n + 1 : 1, sizeof(*cids));
	size_t i;

	for (i = 0; keep && i < keep->n; i++)
		cids[i] = keep->v[i].id;
	prune_objects(b, "secret", name, project, owner, secret_ids, nsecrets, wait);
	prune_objects(b, "config", name, project, owner, keep ? cids : NULL,
		      keep ? keep->n : 0, wait);
	free(cids);
}

static int s_create(struct backend *b, const struct workload_spec *spec, char **out_id)
{
	struct swarm *s = (struct swarm *)b;
	struct swarm_configs cfgs = { 0 };
	char *json = NULL;
	char **ids = NULL;

	*out_id = NULL;
	if (no_binds(spec) == 0 && ensure_secrets(b, spec, &ids) == 0 &&
	    ensure_configs(b, spec, &cfgs) == 0)
		json = swarm_service_json_configs(spec, (const char *const *)ids, &cfgs);
	ids_free(ids, spec->nmounts);
	swarm_configs_release(&cfgs);
	if (!json)
		return -1;
	free(s->pending_name);
	free(s->pending_json);
	s->pending_name = xstrdup(spec->name);
	s->pending_json = json;
	*out_id = xstrdup("");
	return 0;
}

/* Restart an existing service's tasks where they run (ForceUpdate). */
static int force_update(struct backend *b, const char *name)
{
	json_t *svc = NULL, *spec, *tt;
	char *what = xasprintf("update service '%s'", name), *body = NULL, *path = NULL;
	long code;
	int rc;

	if ((rc = service_get(b, name, &svc)) < 0)
		goto out;
	spec = json_object_get(svc, "Spec");
	tt = json_object_get(spec, "TaskTemplate");
	rc = -1;
	if (!tt || json_object_set_new(tt, "ForceUpdate",
			json_integer(jget_int(tt, "ForceUpdate") + 1)) < 0 ||
	    !(body = json_dumps(spec, JSON_COMPACT))) {
		error_set("docker: %s: cannot build the update", what);
		goto out;
	}
	path = xasprintf("/services/%s/update?version=%lld", jget_str(svc, "ID"),
			 jget_int(json_object_get(svc, "Version"), "Index"));
	rc = engine_simple(D(b), "POST", path, body, what, &code);
out:
	json_decref(svc);
	free(body);
	free(path);
	free(what);
	return rc;
}

static bool is_job(const char *json)
{
	return strstr(json, "\"ReplicatedJob\"") != NULL;
}

static int s_start(struct backend *b, const char *name)
{
	struct swarm *s = (struct swarm *)b;
	char *what = xasprintf("create service '%s'", name);
	bool job = false;
	long code;
	int rc;

	if (s->pending_name && !strcmp(s->pending_name, name)) {
		job = is_job(s->pending_json);
		rc = engine_simple(D(b), "POST", "/services/create", s->pending_json,
				   what, &code);
		if (rc < 0 && code == 409)
			rc = error_set("swarm: a service named '%s' exists and is not "
				       "this project's: cara does not use it", name);
		free(s->pending_name);
		free(s->pending_json);
		s->pending_name = s->pending_json = NULL;
	} else {
		rc = force_update(b, name);
	}
	free(what);
	if (rc < 0)
		return rc;
	/* a job is waited for by what depends on it, if anything does */
	return job ? 0 : converge(b, name, NULL, false);
}

static int s_update(struct backend *b, const struct workload_spec *spec)
{
	json_t *svc = NULL;
	char *what = xasprintf("update service '%s'", spec->name);
	char **ids = NULL;
	struct swarm_configs cfgs = { 0 };
	char *body = no_binds(spec) < 0 || ensure_secrets(b, spec, &ids) < 0 ||
		     ensure_configs(b, spec, &cfgs) < 0 ? NULL :
		     swarm_service_json_configs(spec, (const char *const *)ids, &cfgs);
	char *path = NULL, *was = NULL;
	long code;
	int rc = -1;

	if (!body || (rc = service_get(b, spec->name, &svc)) < 0)
		goto out;
	if (jpath_str(svc, "UpdateStatus", "StartedAt", NULL))
		was = xstrdup(jpath_str(svc, "UpdateStatus", "StartedAt", NULL));
	path = xasprintf("/services/%s/update?version=%lld", jget_str(svc, "ID"),
			 jget_int(json_object_get(svc, "Version"), "Index"));
	if ((rc = engine_simple(D(b), "POST", path, body, what, &code)) < 0)
		goto out;
	rc = spec->job ? 0 : converge(b, spec->name, was, true);
	if (rc == 0)
		/* the versions the update swapped out */
		prune_shipped(b, spec->name, label_of(spec, LABEL_PROJECT),
			      label_of(spec, LABEL_OWNER), ids, spec->nmounts, &cfgs, false);
out:
	ids_free(ids, spec->nmounts);
	swarm_configs_release(&cfgs);
	json_decref(svc);
	free(body);
	free(path);
	free(was);
	free(what);
	return rc;
}

static int s_resume(struct backend *b, const char *name)
{
	return force_update(b, name);
}

/* Swarm stops a service's tasks as it removes it. */
static int s_stop(struct backend *b, const char *name, int grace_s)
{
	(void)b; (void)name; (void)grace_s;
	return 0;
}

/* The service's secrets and configs go with it: those of its project and
 * owner (read from it first: a service already gone leaves them, for the
 * plan's Orphaned rule). */
static int s_remove(struct backend *b, const char *name, bool force)
{
	json_t *svc = NULL, *labels;
	int rc;

	(void)force;
	if (service_get(b, name, &svc) < 0)
		error_clear();
	labels = json_object_get(json_object_get(svc, "Spec"), "Labels");
	if ((rc = engine_remove_object(D(b), "service", name, NULL)) == 0 &&
	    jget_str(labels, LABEL_PROJECT))
		prune_shipped(b, name, jget_str(labels, LABEL_PROJECT),
			      jget_str(labels, LABEL_OWNER), NULL, 0, NULL, true);
	json_decref(svc);
	return rc;
}

static int s_state(struct backend *b, const char *name, struct workload_state *out)
{
	struct swarm_verdict vd;
	json_t *svc = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = service_verdict(b, name, &vd, &svc)) < 0)
		return rc;
	out->state = vd.state;
	out->health = vd.health;
	out->exit_code = vd.exit_code;
	out->restart_count = vd.state == OBS_RESTARTING ? vd.failed : 0;
	snprintf(out->error, sizeof(out->error), "%.255s", vd.problem);
	snprintf(out->id, sizeof(out->id), "%s", jget_str(svc, "ID") ?
		 jget_str(svc, "ID") : "");
	json_decref(svc);
	return 0;
}

static char *label_dup(const json_t *labels, const char *key)
{
	const char *v = jget_str(labels, key);

	return xstrdup(v ? v : "");
}

/* A service's labels and state; no address (a service has one a task). */
static int s_inspect(struct backend *b, const char *name, const char *network,
		     struct workload_info *out)
{
	json_t *svc = NULL, *labels;
	int rc;

	(void)network;
	memset(out, 0, sizeof(*out));
	if ((rc = service_get(b, name, &svc)) < 0)
		return rc;
	labels = json_object_get(json_object_get(svc, "Spec"), "Labels");
	out->owner = label_dup(labels, LABEL_OWNER);
	out->spec_hash = label_dup(labels, LABEL_SPEC_HASH);
	out->role = label_dup(labels, LABEL_INGRESS);
	out->project = label_dup(labels, LABEL_PROJECT);
	out->service = label_dup(labels, LABEL_SERVICE);
	json_decref(svc);
	if ((rc = s_state(b, name, &out->st)) < 0)
		workload_info_release(out);
	return rc;
}

static int s_wait_exit(struct backend *b, const char *name, long timeout_ms,
		       int *out_exit)
{
	int64_t end = monotonic_ms() + timeout_ms;
	struct workload_state st;
	int rc;

	for (;;) {
		if ((rc = s_state(b, name, &st)) < 0)
			return rc;
		if (st.state == OBS_EXITED) {
			*out_exit = st.exit_code;
			return 0;
		}
		if (monotonic_ms() >= end)
			return 1;
		nap_ms(SWARM_POLL_MS);
	}
}

static void labels_into(struct strvec *out, const json_t *labels)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)labels, k, v)
		if (json_is_string(v))
			strvec_push_nodup(out, xasprintf("%s=%s", k, json_string_value(v)));
}

static char *str_or_empty(const char *s)
{
	return xstrdup(s ? s : "");
}

/* The Swarm's nodes: one request. */
static int s_nodes(struct backend *b, struct backend_node **out, size_t *out_n)
{
	struct backend_node *v;
	json_t *a = NULL;
	size_t i, n = 0;

	*out = NULL;
	*out_n = 0;
	if (get_list(D(b), "/nodes", NULL, "list nodes", &a) < 0)
		return -1;
	v = xcalloc(json_array_size(a) + 1, sizeof(*v));
	for (i = 0; i < json_array_size(a); i++) {
		const json_t *j = json_array_get(a, i);
		const json_t *spec = json_object_get(j, "Spec");
		const json_t *desc = json_object_get(j, "Description");
		const char *st = jpath_str(j, "Status", "State", NULL);
		const char *av = jget_str(spec, "Availability");
		struct backend_node *x;

		if (!jget_str(j, "ID"))
			continue;
		x = &v[n++];
		x->id = jdup(j, "ID");
		x->hostname = str_or_empty(jpath_str(desc, "Hostname", NULL, NULL));
		x->role = str_or_empty(jget_str(spec, "Role"));
		x->os = str_or_empty(jpath_str(desc, "Platform", "OS", NULL));
		x->arch = str_or_empty(jpath_str(desc, "Platform", "Architecture", NULL));
		x->ready = st && !strcmp(st, "ready");
		x->active = av && !strcmp(av, "active");
		labels_into(&x->labels, json_object_get(spec, "Labels"));
		labels_into(&x->engine_labels,
			    json_object_get(json_object_get(desc, "Engine"), "Labels"));
	}
	json_decref(a);
	*out = v;
	*out_n = n;
	return 0;
}

static int s_workload_node(struct backend *b, const char *name, char **out)
{
	json_t *svc = NULL;
	int rc;

	*out = NULL;
	if ((rc = service_get(b, name, &svc)) < 0)
		return rc;
	if (pinned_id(svc))
		*out = xstrdup(pinned_id(svc));
	json_decref(svc);
	return *out ? 0 : ERR_NOTFOUND;
}

/* No watcher: apply polls (workload_state) instead. */
static int s_watch_start(struct backend_watch **out, const struct backend_options *o,
			 int64_t since_s)
{
	(void)o; (void)since_s;
	*out = NULL;
	return error_set("swarm: no event watcher");
}

static unsigned long s_watch_stop(struct backend_watch *w)
{
	(void)w;
	return 0;
}

static bool s_watch_ready(struct backend_watch *w, int64_t deadline_ms)
{
	(void)w; (void)deadline_ms;
	return false;
}

static int s_watch_wait(struct backend_watch *w, const char *name, unsigned long *seq,
			int64_t deadline_ms, struct watch_entry *out)
{
	(void)w; (void)name; (void)seq; (void)deadline_ms; (void)out;
	return -1;
}

const struct backend_ops backend_swarm = {
	.name = "swarm",
	.caps = &backend_swarm_caps,
	.open = s_open,
	.close = s_close,
	.calls = s_calls,
	.api_version = s_api_version,
	.caps_of = s_caps_of,
	.observe = s_observe,
	.network_ensure = s_network_ensure,
	.network_remove = s_network_remove,
	.network_connect = s_network_connect,
	.volume_ensure = s_volume_ensure,
	.volume_remove = s_volume_remove,
	.object_remove = s_object_remove,
	.volume_exists = s_volume_exists,
	.network_exists = s_network_exists,
	.image_digest = NULL,
	.image_pull = s_image_pull,
	.images = NULL,
	.workload_create = s_create,
	.workload_update = s_update,
	.workload_start = s_start,
	.workload_resume = s_resume,
	.workload_stop = s_stop,
	.workload_remove = s_remove,
	.workload_state = s_state,
	.workload_inspect = s_inspect,
	.workload_wait_exit = s_wait_exit,
	.nodes = s_nodes,
	.workload_node = s_workload_node,
	.watch_start = s_watch_start,
	.watch_stop = s_watch_stop,
	.watch_ready = s_watch_ready,
	.watch_wait = s_watch_wait,
};
