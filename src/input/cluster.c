/*
 * input/cluster.c - the service fields that only a cluster backend
 * (--backend swarm) honours, both readers share: replicas, mode (one task
 * a node), endpoint mode, placement constraints and preferences, and
 * the update and rollback policies; obj is a struct service.
 *
 * Invariant: on a backend that runs one container a service (the Engine)
 * a field that would ask for more than that (replicas other than 1, mode
 * Global, a constraint) is an error at its own node, never silently
 * ignored (manifest_options.cluster).  An endpoint mode and an update
 * policy mean nothing on one host and are accepted there.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "input/schema.h"

#define CLUSTER_HINT "needs --backend swarm (the engine backend runs one " \
		     "container a service)"
#define MAX_REPLICAS 1000
#define MAX_CONSTRAINTS 32

static bool cluster(const struct pctx *c)
{
	return c->opts && c->opts->cluster;
}

void read_replicas(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	long long n;

	if (!get_int(c, v, 0, MAX_REPLICAS, &n))
		return;
	if (n != 1 && !cluster(c)) {
		perr(c, v, "replicas: %lld %s", n, CLUSTER_HINT);
		return;
	}
	s->has_replicas = true;
	s->replicas = (int)n;
}

/* The Engine has no CPU reservation for a container (compose ignores
 * one there): on it a reservation would be a promise nobody keeps. */
void read_cpus_reservation(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	int64_t n;

	if (!get_cpus(c, v, &n))
		return;
	if (!cluster(c)) {
		perr(c, v, "a CPU reservation is a Swarm option: it needs "
		     "--backend swarm (the Engine reserves no CPU for a "
		     "container; to weigh CPU time under contention, give CPU "
		     "shares)");
		return;
	}
	s->nano_cpus_reservation = n;
}

static void read_mode_of(struct pctx *c, const struct ynode *v, void *obj,
			 const char *const *names)
{
	struct service *s = obj;
	char *t = get_str(c, v);
	size_t i;

	if (t && pick(c, v, t, names, 2, "mode", &i)) {
		if (i == 1 && !cluster(c))
			perr(c, v, "mode: %s %s", names[1], CLUSTER_HINT);
		else
			s->global = i == 1;
	}
	free(t);
}

void read_mode(struct pctx *c, const struct ynode *v, void *obj)
{
	static const char *const names[] = { "Replicated", "Global" };

	read_mode_of(c, v, obj, names);
}

/* compose's deploy.mode */
void read_compose_mode(struct pctx *c, const struct ynode *v, void *obj)
{
	static const char *const names[] = { "replicated", "global" };

	read_mode_of(c, v, obj, names);
}

void read_endpoint_mode(struct pctx *c, const struct ynode *v, void *obj)
{
	static const char *const names[] = { "vip", "dnsrr" };
	struct service *s = obj;
	char *t = get_str(c, v);
	size_t i;

	if (t && pick(c, v, t, names, 2, "endpoint mode", &i)) {
		free(s->endpoint_mode);
		s->endpoint_mode = xstrdup(names[i]);
	}
	free(t);
}

/*
 * "node.role==manager", "node.labels.zone != a": an attribute Swarm knows,
 * == or !=, a value.  NULL when c is one, else why not (static).
 */
const char *manifest_check_constraint(const char *c)
{
	static const char *const attrs[] = {
		"node.id", "node.hostname", "node.role", "node.platform.os",
		"node.platform.arch",
	};
	const char *op = strstr(c, "==");
	size_t klen, i;
	const char *k, *val;
	bool known = false;

	if (!op)
		op = strstr(c, "!=");
	if (!op)
		return "write ATTRIBUTE==VALUE or ATTRIBUTE!=VALUE";
	for (k = c; *k == ' '; k++)
		;
	for (klen = (size_t)(op - k); klen && k[klen - 1] == ' '; klen--)
		;
	for (val = op + 2; *val == ' '; val++)
		;
	if (!*val)
		return "no value after the operator";
	for (i = 0; val[i]; i++)
		if (iscntrl((unsigned char)val[i]) || val[i] == '=' || val[i] == '!')
			return "the value has a control character, '=' or '!'";
	for (i = 0; i < ARRAY_SIZE(attrs) && !known; i++)
		known = strlen(attrs[i]) == klen && !strncmp(k, attrs[i], klen);
	if (!known && ((klen > 12 && !strncmp(k, "node.labels.", 12)) ||
		       (klen > 14 && !strncmp(k, "engine.labels.", 14))))
		known = true;
	if (!known)
		return "the attribute must be node.id, node.hostname, node.role, "
		       "node.platform.os, node.platform.arch, node.labels.NAME or "
		       "engine.labels.NAME";
	return NULL;
}

void read_constraints(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	struct strvec tmp = STRVEC_INIT;
	const char *why;
	size_t i, o;

	if (!get_strlist(c, v, &tmp))
		goto out;
	if (tmp.n && !cluster(c)) {
		perr(c, v, "placement constraints %s", CLUSTER_HINT);
		goto out;
	}
	if (tmp.n + s->constraints.n > MAX_CONSTRAINTS) {
		perr(c, v, "more than %d placement constraints", MAX_CONSTRAINTS);
		goto out;
	}
	for (i = 0; i < tmp.n; i++) {
		o = path_index(c, i);
		if ((why = manifest_check_constraint(tmp.v[i])))
			perr(c, v->type == Y_SEQ && i < v->n ? v->kid[i] : v,
			     "invalid placement constraint '%.64s': %s", tmp.v[i], why);
		else
			strvec_push(&s->constraints, tmp.v[i]);
		path_pop(c, o);
	}
out:
	strvec_release(&tmp);
}

/*
 * What Swarm may spread a service's tasks by: a node label, an engine
 * label or a node attribute.  NULL when d is one, else why not (static).
 */
static const char *check_spread(const char *d)
{
	static const char *const attrs[] = {
		"node.id", "node.hostname", "node.role", "node.platform.os",
		"node.platform.arch",
	};
	const char *name = NULL;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(attrs); i++)
		if (!strcmp(d, attrs[i]))
			return NULL;
	if (!strncmp(d, "node.labels.", 12))
		name = d + 12;
	else if (!strncmp(d, "engine.labels.", 14))
		name = d + 14;
	if (name && *name) {
		for (i = 0; name[i]; i++)
			if (iscntrl((unsigned char)name[i]) || name[i] == ' ' ||
			    name[i] == '=')
				return "the label name has a space, '=' or a control "
				       "character";
		return NULL;
	}
	return "spread by node.labels.NAME, engine.labels.NAME, node.id, "
	       "node.hostname, node.role, node.platform.os or node.platform.arch";
}

static void f_spread(struct pctx *c, const struct ynode *v, void *obj)
{
	struct strvec *out = obj;
	char *t = get_str(c, v);
	const char *why;

	if (!t)
		return;
	if ((why = check_spread(t)))
		perr(c, v, "invalid spread descriptor '%.64s': %s", t, why);
	else
		strvec_push(out, t);
	free(t);
}

/* a preference is a spread: Swarm has no other kind */
static const struct field preference_fields[] = {
	FN("spread", f_spread, true),
	END
};

/* placement.preferences: [{spread: node.labels.zone}, ...], in order */
static void read_preferences(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	struct strvec tmp = STRVEC_INIT;
	size_t i, o;

	if (v->type != Y_SEQ) {
		perr(c, v, "must be a list, not %s", ynode_type_name(v));
		return;
	}
	if (v->n && !cluster(c)) {
		perr(c, v, "placement preferences %s", CLUSTER_HINT);
		return;
	}
	if (v->n + s->preferences.n > MAX_CONSTRAINTS) {
		perr(c, v, "more than %d placement preferences", MAX_CONSTRAINTS);
		return;
	}
	for (i = 0; i < v->n; i++) {
		o = path_index(c, i);
		walk_map(c, v->kid[i], preference_fields, &tmp);
		path_pop(c, o);
	}
	for (i = 0; i < tmp.n; i++)
		strvec_push(&s->preferences, tmp.v[i]);
	strvec_release(&tmp);
}

static const struct field placement_fields[] = {
	FN("constraints", read_constraints, false),
	FN("preferences", read_preferences, false),
	END
};

void read_service_placement(struct pctx *c, const struct ynode *v, void *obj)
{
	walk_map(c, v, placement_fields, obj);
}

/* ---- update and rollback policies ---- */

static void policy_words(struct pctx *c, const struct ynode *v, char *out,
			 size_t cap, const char *const *names, size_t n,
			 const char *what)
{
	char *t = get_str(c, v);
	size_t i;

	if (t && pick(c, v, t, names, n, what, &i))
		snprintf(out, cap, "%s", names[i]);
	free(t);
}

static void f_parallelism(struct pctx *c, const struct ynode *v, void *obj)
{
	struct update_policy *u = obj;
	long long n;

	if (get_int(c, v, 0, MAX_REPLICAS, &n))
		u->parallelism = (int)n;
}

static void f_delay(struct pctx *c, const struct ynode *v, void *obj)
{
	get_duration(c, v, &((struct update_policy *)obj)->delay_ms);
}

static void f_monitor(struct pctx *c, const struct ynode *v, void *obj)
{
	get_duration(c, v, &((struct update_policy *)obj)->monitor_ms);
}

static void f_order(struct pctx *c, const struct ynode *v, void *obj)
{
	static const char *const names[] = { "start-first", "stop-first" };
	struct update_policy *u = obj;

	policy_words(c, v, u->order, sizeof(u->order), names, 2, "order");
}

static void f_failure_action(struct pctx *c, const struct ynode *v, void *obj)
{
	static const char *const names[] = { "rollback", "pause", "continue" };
	struct update_policy *u = obj;

	policy_words(c, v, u->failure_action, sizeof(u->failure_action), names, 3,
		     "failure action");
}

/* the Project's spelling, then compose's */
static const struct field policy_fields[] = {
	FN("parallelism", f_parallelism, false),
	FN("delay", f_delay, false),
	FN("monitor", f_monitor, false),
	FN("order", f_order, false),
	FN("failureAction", f_failure_action, false),
	END
};

static const struct field compose_policy_fields[] = {
	FN("parallelism", f_parallelism, false),
	FN("delay", f_delay, false),
	FN("monitor", f_monitor, false),
	FN("order", f_order, false),
	FN("failure_action", f_failure_action, false),
	END
};

static void read_policy(struct pctx *c, const struct ynode *v,
			struct update_policy *u, const struct field *fields)
{
	if (v->type != Y_MAP) {
		perr(c, v, "must be a mapping, not %s", ynode_type_name(v));
		return;
	}
	u->set = true;
	u->parallelism = -1;
	u->delay_ms = u->monitor_ms = -1;
	u->order[0] = u->failure_action[0] = '\0';
	walk_map(c, v, fields, u);
}

void read_update_config(struct pctx *c, const struct ynode *v, void *obj)
{
	read_policy(c, v, &((struct service *)obj)->update, policy_fields);
}

/* a rollback that fails can pause or go on; it cannot roll back */
static void rollback_action(struct pctx *c, const struct ynode *v,
			    const struct update_policy *u)
{
	if (!strcmp(u->failure_action, "rollback"))
		perr(c, v, "a rollback's failure action is pause or continue, not "
		     "rollback");
}

void read_rollback_config(struct pctx *c, const struct ynode *v, void *obj)
{
	struct update_policy *u = &((struct service *)obj)->rollback;

	read_policy(c, v, u, policy_fields);
	rollback_action(c, v, u);
}

void read_compose_update_config(struct pctx *c, const struct ynode *v, void *obj)
{
	read_policy(c, v, &((struct service *)obj)->update, compose_policy_fields);
}

void read_compose_rollback_config(struct pctx *c, const struct ynode *v, void *obj)
{
	struct update_policy *u = &((struct service *)obj)->rollback;

	read_policy(c, v, u, compose_policy_fields);
	rollback_action(c, v, u);
}
