/*
 * backend/backend.c - the table of backends, looked up by name.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "util.h"

static const struct backend_ops *const backends[] = { &backend_engine, &backend_swarm };

const struct backend_ops *backend_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < ARRAY_SIZE(backends); i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}

void workload_info_release(struct workload_info *w)
{
	if (!w)
		return;
	free(w->owner);
	free(w->spec_hash);
	free(w->role);
	free(w->project);
	free(w->service);
	free(w->address);
	memset(w, 0, sizeof(*w));
}

void backend_nodes_free(struct backend_node *v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++) {
		free(v[i].id);
		free(v[i].hostname);
		free(v[i].role);
		free(v[i].os);
		free(v[i].arch);
		strvec_release(&v[i].labels);
		strvec_release(&v[i].engine_labels);
	}
	free(v);
}
