/*
 * input/cluster.c - the service fields that only a cluster backend
 * (--backend swarm) honours, both readers share: replicas, mode (one task
 * a node), endpoint mode and placement constraints; obj is a struct
 * service.
 *
 * Invariant: on a backend that runs one container a service (the Engine)
 * a field that would ask for more than that (replicas other than 1, mode
 * Global, a constraint) is an error at its own node, never silently
 * ignored (manifest_options.cluster).  An endpoint mode means nothing on
 * one host and is accepted there.
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

static const struct field placement_fields[] = {
	FN("constraints", read_constraints, false),
	END
};

void read_service_placement(struct pctx *c, const struct ynode *v, void *obj)
{
	walk_map(c, v, placement_fields, obj);
}
