/*
 * observed.c - the observed snapshot's storage helpers.
 */
#include <stdlib.h>
#include <string.h>

#include "observed.h"
#include "util.h"

static const char *const state_names[] = {
	[OBS_UNKNOWN] = "unknown", [OBS_CREATED] = "created",
	[OBS_RUNNING] = "running", [OBS_PAUSED] = "paused",
	[OBS_RESTARTING] = "restarting", [OBS_REMOVING] = "removing",
	[OBS_EXITED] = "exited", [OBS_DEAD] = "dead", [OBS_REMOVED] = "removed",
};

static const char *const health_names[] = {
	[HEALTH_NONE] = "", [HEALTH_STARTING] = "starting",
	[HEALTH_HEALTHY] = "healthy", [HEALTH_UNHEALTHY] = "unhealthy",
};

const char *obs_state_name(enum obs_state s)
{
	return (size_t)s < ARRAY_SIZE(state_names) ? state_names[s] : "unknown";
}

enum obs_state obs_state_parse(const char *s)
{
	size_t i;

	for (i = 1; s && i < ARRAY_SIZE(state_names); i++)
		if (!strcmp(s, state_names[i]))
			return (enum obs_state)i;
	return OBS_UNKNOWN;
}

const char *obs_health_name(enum obs_health h)
{
	return (size_t)h < ARRAY_SIZE(health_names) ? health_names[h] : "";
}

enum obs_health obs_health_parse(const char *s)
{
	size_t i;

	for (i = 1; s && i < ARRAY_SIZE(health_names); i++)
		if (!strcmp(s, health_names[i]))
			return (enum obs_health)i;
	return HEALTH_NONE;
}

bool obs_state_up(enum obs_state s)
{
	return s == OBS_RUNNING || s == OBS_RESTARTING || s == OBS_PAUSED;
}

bool obs_state_stopped(enum obs_state s)
{
	return s == OBS_EXITED || s == OBS_DEAD;
}

void observed_release(struct observed *o)
{
	size_t i;

	for (i = 0; i < o->ncontainers; i++) {
		struct obs_container *c = &o->containers[i];
		free(c->id); free(c->name); free(c->project); free(c->service);
		free(c->spec_hash); free(c->spec_fields); free(c->image);
		free(c->networks); free(c->owner); free(c->image_id);
		free(c->tasks); free(c->problem);
	}
	for (i = 0; i < o->nnetworks; i++) {
		free(o->networks[i].id);
		free(o->networks[i].name);
		free(o->networks[i].project);
		free(o->networks[i].owner);
	}
	for (i = 0; i < o->nvolumes; i++) {
		free(o->volumes[i].name);
		free(o->volumes[i].project);
		free(o->volumes[i].type);
		free(o->volumes[i].owner);
	}
	for (i = 0; i < o->nimages; i++) {
		free(o->images[i]);
		free(o->image_ids[i]);
	}
	for (i = 0; i < o->nobjects; i++) {
		free(o->objects[i].id);
		free(o->objects[i].name);
		free(o->objects[i].project);
		free(o->objects[i].service);
		free(o->objects[i].owner);
	}
	free(o->objects);
	free(o->image_ids);
	free(o->containers);
	free(o->networks);
	free(o->volumes);
	free(o->images);
	memset(o, 0, sizeof(*o));
}

struct obs_container *observed_add_container(struct observed *o)
{
	GROW(o->containers, o->capcontainers, o->ncontainers + 1);
	memset(&o->containers[o->ncontainers], 0, sizeof(struct obs_container));
	return &o->containers[o->ncontainers++];
}

struct obs_network *observed_add_network(struct observed *o)
{
	GROW(o->networks, o->capnetworks, o->nnetworks + 1);
	memset(&o->networks[o->nnetworks], 0, sizeof(struct obs_network));
	o->networks[o->nnetworks].internal = -1;
	return &o->networks[o->nnetworks++];
}

struct obs_volume *observed_add_volume(struct observed *o)
{
	GROW(o->volumes, o->capvolumes, o->nvolumes + 1);
	memset(&o->volumes[o->nvolumes], 0, sizeof(struct obs_volume));
	return &o->volumes[o->nvolumes++];
}

struct obs_object *observed_add_object(struct observed *o)
{
	GROW(o->objects, o->capobjects, o->nobjects + 1);
	memset(&o->objects[o->nobjects], 0, sizeof(struct obs_object));
	return &o->objects[o->nobjects++];
}

const char *obs_object_kind_name(enum obs_object_kind k)
{
	return k == OBJECT_SECRET ? "secret" : "config";
}

static int cmp_object(const void *a, const void *b)
{
	const struct obs_object *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

/* "busybox" -> "busybox:latest"; "a/b@sha256:..." and "a:tag" unchanged. */
static char *normalize_ref(const char *ref)
{
	const char *slash = strrchr(ref, '/');
	const char *last = slash ? slash + 1 : ref;

	if (strchr(ref, '@') || strchr(last, ':'))
		return xstrdup(ref);
	return xasprintf("%s:latest", ref);
}

void observed_add_image_id(struct observed *o, const char *ref, const char *id)
{
	GROW(o->images, o->capimages, o->nimages + 1);
	GROW(o->image_ids, o->capimage_ids, o->nimages + 1);
	o->image_ids[o->nimages] = xstrdup(id ? id : "");
	o->images[o->nimages++] = normalize_ref(ref);
}

void observed_add_image(struct observed *o, const char *ref)
{
	observed_add_image_id(o, ref, NULL);
}

struct image_pair {
	char *ref, *id;
};

static int cmp_pair(const void *a, const void *b)
{
	return strcmp(((const struct image_pair *)a)->ref,
		      ((const struct image_pair *)b)->ref);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void observed_sort(struct observed *o)
{
	struct image_pair *v;
	size_t i;

	if (o->nobjects)
		qsort(o->objects, o->nobjects, sizeof(*o->objects), cmp_object);
	if (!o->nimages)
		return;
	v = xcalloc(o->nimages, sizeof(*v));
	for (i = 0; i < o->nimages; i++) {
		v[i].ref = o->images[i];
		v[i].id = o->image_ids[i];
	}
	qsort(v, o->nimages, sizeof(*v), cmp_pair);
	for (i = 0; i < o->nimages; i++) {
		o->images[i] = v[i].ref;
		o->image_ids[i] = v[i].id;
	}
	free(v);
}

static char **find_image(const struct observed *o, const char *ref)
{
	char *n = normalize_ref(ref);
	char **found = o->nimages ?
		bsearch(&n, o->images, o->nimages, sizeof(char *), cmp_str) : NULL;

	free(n);
	return found;
}

bool observed_has_image(const struct observed *o, const char *ref)
{
	return find_image(o, ref) != NULL;
}

const char *observed_image_id(const struct observed *o, const char *ref)
{
	char **found = find_image(o, ref);
	const char *id = found ? o->image_ids[found - o->images] : NULL;

	return id && *id ? id : NULL;
}

const char *image_ref_digest(const char *ref)
{
	const char *at = ref ? strchr(ref, '@') : NULL;

	return at ? at + 1 : NULL;
}

char *image_ref_repo(const char *ref)
{
	const char *at = strchr(ref, '@');
	const char *slash = strrchr(ref, '/');
	const char *colon = strchr(slash ? slash : ref, ':');
	const char *end = at ? at : colon ? colon : ref + strlen(ref);

	/* "repo:tag@sha256:..." names the repo before the tag */
	if (colon && colon < end)
		end = colon;
	return xstrndup(ref, (size_t)(end - ref));
}

const char *observed_image_digest(const struct observed *o, const char *id,
				  const char *repo)
{
	size_t i, n = repo ? strlen(repo) : 0;

	if (!id || !*id)
		return NULL;
	for (i = 0; i < o->nimages; i++) {
		const char *r = o->images[i];
		const char *at = strchr(r, '@');

		if (!at || strcmp(o->image_ids[i], id))
			continue;
		if (repo && ((size_t)(at - r) != n || strncmp(r, repo, n)))
			continue;
		return at + 1;
	}
	return NULL;
}

const char *observed_container_digest(const struct observed *o,
				      const struct obs_container *c)
{
	char *repo;
	const char *d;

	if (!c->image || !*c->image)
		return NULL;
	repo = image_ref_repo(c->image);
	d = observed_image_digest(o, c->image_id, repo);
	free(repo);
	return d;
}

/* Does local reference r ("repo:tag", "repo@sha256:...") belong to repo? */
static bool ref_in_repo(const char *r, const char *repo)
{
	size_t n = strlen(repo);

	return !strncmp(r, repo, n) && (r[n] == ':' || r[n] == '@');
}

char *observed_digest_mismatch(const struct observed *o, const char *ref)
{
	const char *want = image_ref_digest(ref);
	char *repo, *msg = NULL;
	struct buf b = BUF_INIT;
	size_t i, j, nfound = 0;

	if (!want)
		return NULL;
	repo = image_ref_repo(ref);
	for (i = 0; i < o->nimages; i++) {
		const char *at = strchr(o->images[i], '@');

		if (ref_in_repo(o->images[i], repo) && at && !strcmp(at + 1, want))
			goto out;
	}
	buf_printf(&b, "image %s: ", ref);
	for (i = 0; i < o->nimages; i++) {
		const char *id = o->image_ids[i], *d;

		if (!ref_in_repo(o->images[i], repo))
			continue;
		/* each local image once, by its first reference in repo */
		for (j = 0; j < i; j++)
			if (!strcmp(o->image_ids[j], id) && ref_in_repo(o->images[j], repo))
				break;
		if (j < i)
			continue;
		d = observed_image_digest(o, id, repo);
		buf_puts(&b, nfound++ ? ", " : "the local image ");
		if (d)
			buf_printf(&b, "%s has digest %s", o->images[i], d);
		else
			buf_printf(&b, "%s (%.19s) has no digest from %s", o->images[i],
				   *id ? id : "?", repo);
	}
	if (nfound) {
		buf_printf(&b, ", not %s", want);
		msg = buf_detach(&b);
	}
out:
	buf_release(&b);
	free(repo);
	return msg;
}
