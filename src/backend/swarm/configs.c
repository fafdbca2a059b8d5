/*
 * backend/swarm/configs.c - the Swarm configs a service's File volumes
 * become (pure: unit-tested).  A bind of a copy on the host cara runs on
 * cannot follow a task to another node, so each file of a File volume
 * travels as a config of its own: immutable, named for its target and its
 * bytes (swarm_versioned_name), so that a new content is a new config
 * that the service's update swaps in, and the old one is removed once no
 * service refers to it (swarm.c).
 *
 * What a config may hold and how many one service mounts are the backend's
 * capabilities (backend_swarm_caps), checked with the project before
 * anything is applied (pass.c): here every file fits.
 */
#include <stdlib.h>
#include <string.h>

#include "files.h"
#include "backend/swarm/swarm.h"

/* target/rel, without a doubled '/' (caller frees). */
static char *below(const char *target, const char *rel)
{
	size_t n = strlen(target);

	while (n > 1 && target[n - 1] == '/')
		n--;
	if (!*rel)
		return xstrndup(target, n);
	return xasprintf("%.*s%s%s", (int)n, target, n == 1 && *target == '/' ? "" : "/",
			 rel);
}

static struct swarm_config *by_target(struct swarm_configs *c, const char *target)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].target, target))
			return &c->v[i];
	return NULL;
}

void swarm_configs_of(struct swarm_configs *out, const struct workload_spec *spec)
{
	size_t i, k;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < spec->nmounts; i++) {
		const struct workload_mount *m = &spec->mounts[i];
		const struct volume *v = m->files;

		for (k = 0; v && k < v->nfiles; k++) {
			const struct file_entry *e = &v->files[k];
			char *target = below(m->target, v->is_dir ? e->path : "");
			struct swarm_config *c = by_target(out, target);

			if (c && c->depth >= strlen(m->target)) {
				free(target);   /* a deeper (or earlier) mount has it */
				continue;
			}
			if (c) {
				free(c->name);
				free(c->target);
			} else {
				GROW(out->v, out->cap, out->n + 1);
				c = &out->v[out->n++];
			}
			memset(c, 0, sizeof(*c));
			c->target = target;
			c->name = swarm_versioned_name(spec->name, target, e->data, e->len);
			c->mode = files_mode(v, e);
			c->data = e->data;
			c->len = e->len;
			c->depth = strlen(m->target);
		}
	}
}

void swarm_configs_release(struct swarm_configs *c)
{
	size_t i;

	for (i = 0; c && i < c->n; i++) {
		free(c->v[i].name);
		free(c->v[i].target);
		free(c->v[i].id);
	}
	if (c) {
		free(c->v);
		memset(c, 0, sizeof(*c));
	}
}
