/*
 * pin.c - the node a Managed volume is pinned to on a cluster (pin.h).
 * Pure: the nodes come from the backend, the pins from the state.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pin.h"

/* The value of label key in "KEY=VALUE" list l, or "" when absent. */
static const char *label_value(const struct strvec *l, const char *key, size_t klen)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strncmp(l->v[i], key, klen) && l->v[i][klen] == '=')
			return l->v[i] + klen + 1;
	return "";
}

bool pin_node_matches(const struct backend_node *n, const char *c)
{
	const char *op = strstr(c, "==");
	const char *k, *val, *have = NULL;
	size_t klen, vlen;
	bool eq = true;

	if (!op) {
		op = strstr(c, "!=");
		eq = false;
	}
	if (!op)
		return true;
	for (k = c; *k == ' '; k++)
		;
	for (klen = (size_t)(op - k); klen && k[klen - 1] == ' '; klen--)
		;
	for (val = op + 2; *val == ' '; val++)
		;
	for (vlen = strlen(val); vlen && val[vlen - 1] == ' '; vlen--)
		;
#define IS(name) (klen == strlen(name) && !strncmp(k, name, klen))
	if (IS("node.id"))
		have = n->id;
	else if (IS("node.hostname"))
		have = n->hostname;
	else if (IS("node.role"))
		have = n->role;
	else if (IS("node.platform.os"))
		have = n->os;
	else if (IS("node.platform.arch"))
		have = n->arch;
	else if (klen > 12 && !strncmp(k, "node.labels.", 12))
		have = label_value(&n->labels, k + 12, klen - 12);
	else if (klen > 14 && !strncmp(k, "engine.labels.", 14))
		have = label_value(&n->engine_labels, k + 14, klen - 14);
#undef IS
	if (!have)
		return true;
	return (strlen(have) == vlen && !strncasecmp(have, val, vlen)) == eq;
}

static bool fits(const struct backend_node *n, const struct strvec *const *cons,
		 size_t ncons)
{
	size_t i, k;

	for (i = 0; i < ncons; i++)
		for (k = 0; cons[i] && k < cons[i]->n; k++)
			if (!pin_node_matches(n, cons[i]->v[k]))
				return false;
	return true;
}

static size_t pins_on(const struct strvec *pinned, const char *id)
{
	size_t i, c = 0;

	for (i = 0; pinned && i < pinned->n; i++)
		c += !strcmp(pinned->v[i], id);
	return c;
}

long pin_choose(const struct backend_node *nodes, size_t n,
		const struct strvec *const *cons, size_t ncons,
		const struct strvec *pinned, char **why)
{
	size_t i, best_pins = 0, up = 0;
	long best = -1;

	*why = NULL;
	for (i = 0; i < n; i++) {
		const struct backend_node *x = &nodes[i];
		size_t c;
		int by;

		if (!x->ready || !x->active)
			continue;
		up++;
		if (!fits(x, cons, ncons))
			continue;
		c = pins_on(pinned, x->id);
		if (best >= 0) {
			by = strcmp(x->hostname, nodes[best].hostname);
			if (!by)
				by = strcmp(x->id, nodes[best].id);
			if (c > best_pins || (c == best_pins && by >= 0))
				continue;
		}
		best = (long)i;
		best_pins = c;
	}
	if (best < 0)
		*why = up ? xasprintf("none of the %zu ready, active node%s satisfies the "
				      "placement constraints of the services that "
				      "mount it", up, up == 1 ? "" : "s") :
		       xstrdup("no node of the Swarm is ready and active");
	return best;
}

const char *pin_volume_driver(const struct volume *v)
{
	(void)v;
	return "local";
}

bool pin_wanted(const struct volume *v, const struct strvec *shared)
{
	return v->type == VOLUME_MANAGED &&
	       !(shared && strvec_has(shared, pin_volume_driver(v)));
}

char *pin_constraint(const char *node_id)
{
	return xasprintf("node.id==%s", node_id);
}

bool pin_row_of(const char *row, const char *project, struct pin_row *out)
{
	const char *v = strchr(row, '\t'), *id, *host;

	if (!v || (project && (strlen(project) != (size_t)(v - row) ||
			       strncmp(row, project, (size_t)(v - row)))))
		return false;
	if (!(id = strchr(++v, '\t')) || !(host = strchr(id + 1, '\t')))
		return false;
	out->volume = v;
	out->nvolume = (size_t)(id - v);
	out->id = id + 1;
	out->nid = (size_t)(host - id - 1);
	out->host = host + 1;
	return true;
}
