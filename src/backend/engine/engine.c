/*
 * backend/engine/engine.c - the Docker Engine backend: containers on one
 * host.  The operations table over the Engine client (docker.h) and the
 * pass's event watcher (events.h); what it can do itself.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/engine/docker.h"
#include "backend/engine/events.h"
#include "util.h"

/* cara pulls images (so a pull shows in the plan and fails alone), and
 * a stopped container starts again with its writable layer intact */
const struct backend_caps backend_engine_caps = {
	.name = "engine",
	.pulls_images = false,
	.starts_stopped = true,
	.start_interval_needs = "Docker Engine 25 or newer (API "
				DOCKER_API_START_INTERVAL ")",
};

struct engine {
	struct backend base;       /* first: a struct backend * is a struct engine * */
	struct docker *d;
};

static struct docker *D(struct backend *b)
{
	return ((struct engine *)b)->d;
}

static void docker_options_of(struct docker_options *d, const struct backend_options *o)
{
	memset(d, 0, sizeof(*d));
	if (!o)
		return;
	d->host = o->host;
	d->timeout_ms = o->timeout_ms;
	d->api = o->api;
}

static int e_open(struct backend **out, const struct backend_options *o)
{
	struct docker_options dopts;
	struct engine *e = xcalloc(1, sizeof(*e));

	*out = NULL;
	docker_options_of(&dopts, o);
	if (docker_open(&e->d, &dopts) < 0) {
		free(e);
		return -1;
	}
	e->base.ops = &backend_engine;
	*out = &e->base;
	return 0;
}

static void e_close(struct backend *b)
{
	if (!b)
		return;
	docker_free(D(b));
	free(b);
}

static unsigned long e_calls(const struct backend *b)
{
	return b ? docker_calls(((const struct engine *)b)->d) : 0;
}

static const char *e_api_version(const struct backend *b)
{
	return b ? docker_api_version(((const struct engine *)b)->d) : NULL;
}

static void e_caps_of(const struct backend *b, struct backend_caps *out)
{
	*out = backend_engine_caps;
	out->api = e_api_version(b);
	out->health_start_interval = docker_api_has_start_interval(out->api);
}

static int e_observe(struct backend *b, struct observed *out)
{
	return docker_observe(D(b), out);
}

static int e_network_ensure(struct backend *b, const char *name, const char *project,
			    const char *owner, bool internal)
{
	return docker_network_create(D(b), name, project, owner, internal);
}

static int e_network_remove(struct backend *b, const char *id_or_name)
{
	return docker_network_remove(D(b), id_or_name);
}

static int e_network_connect(struct backend *b, const char *network,
			     const char *workload, const char *alias,
			     const struct strvec *aliases)
{
	return docker_network_connect(D(b), network, workload, alias, aliases);
}

static int e_volume_ensure(struct backend *b, const char *name, const char *project,
			   const char *type, const char *owner)
{
	return docker_volume_create(D(b), name, project, type, owner);
}

static int e_volume_remove(struct backend *b, const char *name)
{
	return docker_volume_remove(D(b), name);
}

static int e_volume_exists(struct backend *b, const char *name)
{
	return docker_object_inspect(D(b), "volume", name);
}

static int e_network_exists(struct backend *b, const char *name)
{
	return docker_object_inspect(D(b), "network", name);
}

static int e_image_digest(struct backend *b, const char *ref,
			  const char *registry_auth, char **out_digest)
{
	return docker_image_digest(D(b), ref, registry_auth, out_digest);
}

static int e_images(struct backend *b, struct observed *out)
{
	return docker_images(D(b), out);
}

static int e_image_pull(struct backend *b, const char *ref, const char *registry_auth,
			void (*note)(void *arg, const char *summary), void *arg)
{
	return docker_image_pull(D(b), ref, registry_auth, note, arg);
}

static int e_image_build(struct backend *b, const struct image_build_spec *spec)
{
	return docker_image_build(D(b), spec);
}

static int e_create(struct backend *b, const struct workload_spec *spec, char **out_id)
{
	return docker_container_create(D(b), spec, out_id);
}

static int e_start(struct backend *b, const char *name)
{
	return docker_container_start(D(b), name);
}

static int e_resume(struct backend *b, const char *name)
{
	return docker_container_unpause(D(b), name);
}

static int e_stop(struct backend *b, const char *name, int grace_s)
{
	return docker_container_stop(D(b), name, grace_s);
}

static int e_remove(struct backend *b, const char *name, bool force)
{
	return docker_container_remove(D(b), name, force);
}

static int e_state(struct backend *b, const char *name, struct workload_state *out)
{
	return docker_container_state(D(b), name, out);
}

static int e_inspect(struct backend *b, const char *name, const char *network,
		     struct workload_info *out)
{
	return docker_container_info(D(b), name, network, out);
}

static int e_wait_exit(struct backend *b, const char *name, long timeout_ms,
		       int *out_exit)
{
	return docker_container_wait(D(b), name, timeout_ms, out_exit);
}

/* The watcher is events.h's: a struct backend_watch * is a struct events *. */
static int e_watch_start(struct backend_watch **out, const struct backend_options *o,
			 int64_t since_s)
{
	struct docker_options dopts;
	struct events *ev = NULL;
	int rc;

	docker_options_of(&dopts, o);
	rc = events_start(&ev, &dopts, since_s);
	*out = (struct backend_watch *)ev;
	return rc;
}

static unsigned long e_watch_stop(struct backend_watch *w)
{
	return events_stop((struct events *)w);
}

static bool e_watch_ready(struct backend_watch *w, int64_t deadline_ms)
{
	return events_ready((struct events *)w, deadline_ms);
}

static int e_watch_wait(struct backend_watch *w, const char *name, unsigned long *seq,
			int64_t deadline_ms, struct watch_entry *out)
{
	return events_wait((struct events *)w, name, seq, deadline_ms, out);
}

const struct backend_ops backend_engine = {
	.name = "engine",
	.caps = &backend_engine_caps,
	.open = e_open,
	.close = e_close,
	.calls = e_calls,
	.api_version = e_api_version,
	.caps_of = e_caps_of,
	.observe = e_observe,
	.network_ensure = e_network_ensure,
	.network_remove = e_network_remove,
	.network_connect = e_network_connect,
	.volume_ensure = e_volume_ensure,
	.volume_remove = e_volume_remove,
	.volume_exists = e_volume_exists,
	.network_exists = e_network_exists,
	.image_digest = e_image_digest,
	.image_pull = e_image_pull,
	.image_build = e_image_build,
	.images = e_images,
	.workload_create = e_create,
	.workload_start = e_start,
	.workload_resume = e_resume,
	.workload_stop = e_stop,
	.workload_remove = e_remove,
	.workload_state = e_state,
	.workload_inspect = e_inspect,
	.workload_wait_exit = e_wait_exit,
	.watch_start = e_watch_start,
	.watch_stop = e_watch_stop,
	.watch_ready = e_watch_ready,
	.watch_wait = e_watch_wait,
};
