/*
 * backend/engine/observe.c - everything labelled cara.project, plus the
 * local image list, in a handful of list calls, into struct observed.
 */
#include "backend/engine/internal.h"

/* ---- observe ---- */

/* ?filters={"label":[LABEL_PROJECT]}, escaped. */
static char *label_filter_path(const char *base, const char *more)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, base);
	buf_puts(&b, more);
	buf_puts(&b, "filters=");
	docker_url_escape(&b, "{\"label\":[\"" LABEL_PROJECT "\"]}", false);
	return buf_detach(&b);
}

/* GET path and parse the answer: 0, or engine_simple()'s error (ERR_NOTFOUND
 * for a 404), or -1 when the body is not JSON. */
int engine_get_json(struct docker *d, const char *path, const char *what,
		    json_t **out)
{
	long code;
	int rc;

	*out = NULL;
	if ((rc = engine_simple(d, "GET", path, NULL, what, &code)) < 0)
		return rc;
	*out = engine_parse_body(d, what);
	return *out ? 0 : -1;
}

struct each {
	int (*fn)(void *arg, const json_t *j);
	void *arg;
};

static int each_item(void *arg, const char *item, size_t len)
{
	struct each *e = arg;
	json_error_t je;
	json_t *j = json_loadb(item, len, 0, &je);
	int rc;

	if (!j)
		return error_set("%s", je.text);
	rc = e->fn(e->arg, j);
	json_decref(j);
	return rc;
}

/*
 * GET a list (a JSON array) and call fn on each element as it arrives;
 * memory stays that of one element whatever the length of the list.
 */
static int list_each(struct docker *d, const char *path, const char *what,
		     int (*fn)(void *arg, const json_t *j), void *arg)
{
	struct each e = { fn, arg };
	struct docker_json_items it;
	struct req r = { .method = "GET", .path = path, .items = &it };
	long code;
	int rc = -1;

	docker_json_items_init(&it, each_item, &e);
	if (engine_perform(d, &r, what, &code) < 0)
		goto out;
	if (code != 200) {
		engine_http_error(d, what, code);
		goto out;
	}
	if (docker_json_items_finish(&it) < 0) {
		error_set("docker: %s: unreadable answer from the Engine: %s", what,
			  it.error);
		goto out;
	}
	rc = 0;
out:
	d->items = NULL;
	docker_json_items_release(&it);
	return rc;
}

/* The container's own name: the one of Names without a link path. */
static const char *container_name(const json_t *names)
{
	const char *first = NULL;
	size_t i;

	for (i = 0; i < json_array_size(names); i++) {
		const char *n = json_string_value(json_array_get(names, i));

		if (!n)
			continue;
		if (*n == '/')
			n++;
		if (!first)
			first = n;
		if (!strchr(n, '/'))
			return n;
	}
	return first ? first : "";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The NetworkID of each entry of a container's NetworkSettings.Networks,
 * sorted and ' '-separated ("" for none). */
static char *network_ids(const json_t *nets)
{
	struct strvec v = STRVEC_INIT;
	struct buf b = BUF_INIT;
	const char *key;
	json_t *ep;
	size_t i;

	json_object_foreach((json_t *)nets, key, ep) {
		const char *id = jget_str(ep, "NetworkID");

		(void)key;
		if (id && *id)
			strvec_push(&v, id);
	}
	if (v.n)
		qsort(v.v, v.n, sizeof(*v.v), cmp_str);
	for (i = 0; i < v.n; i++)
		buf_printf(&b, "%s%s", i ? " " : "", v.v[i]);
	strvec_release(&v);
	return buf_detach(&b);
}

static int add_container(void *arg, const json_t *j)
{
	const json_t *labels = json_object_get(j, "Labels");
	const char *status = jget_str(j, "Status");
	struct obs_container *c = observed_add_container(arg);

	c->id = jdup(j, "Id");
	c->name = xstrdup(container_name(json_object_get(j, "Names")));
	c->project = jdup(labels, LABEL_PROJECT);
	c->owner = jdup(labels, LABEL_OWNER);
	c->service = jdup(labels, LABEL_SERVICE);
	c->spec_hash = jdup(labels, LABEL_SPEC_HASH);
	c->spec_fields = jdup(labels, LABEL_SPEC_FIELDS);
	c->image = jdup(j, "Image");
	c->image_id = jdup(j, "ImageID");
	c->state = obs_state_parse(jget_str(j, "State"));
	c->health = obs_health_parse(docker_status_health(status));
	c->exit_code = docker_status_exit_code(status);
	c->created = (int64_t)jget_int(j, "Created");
	c->networks = network_ids(json_object_get(json_object_get(j, "NetworkSettings"),
						  "Networks"));
	return 0;
}

static int observe_containers(struct docker *d, struct observed *o)
{
	char *path = label_filter_path("/containers/json", "?all=1&");
	int rc = list_each(d, path, "list containers", add_container, o);

	free(path);
	return rc;
}

static int add_network(void *arg, const json_t *j)
{
	struct obs_network *n = observed_add_network(arg);

	n->id = jdup(j, "Id");
	n->name = jdup(j, "Name");
	n->project = jdup(json_object_get(j, "Labels"), LABEL_PROJECT);
	n->owner = jdup(json_object_get(j, "Labels"), LABEL_OWNER);
	n->internal = json_is_true(json_object_get(j, "Internal"));
	return 0;
}

static int observe_networks(struct docker *d, struct observed *o)
{
	char *path = label_filter_path("/networks", "?");
	int rc = list_each(d, path, "list networks", add_network, o);

	free(path);
	return rc;
}

static int observe_volumes(struct docker *d, struct observed *o)
{
	char *path = label_filter_path("/volumes", "?");
	json_t *j = NULL, *a;
	size_t i;
	int rc = -1;

	if (engine_get_json(d, path, "list volumes", &j) < 0)
		goto out;
	a = json_object_get(j, "Volumes");
	for (i = 0; i < json_array_size(a); i++) {
		json_t *v = json_array_get(a, i);
		json_t *labels = json_object_get(v, "Labels");
		struct obs_volume *ov = observed_add_volume(o);

		ov->name = jdup(v, "Name");
		ov->project = jdup(labels, LABEL_PROJECT);
		ov->type = jdup(labels, LABEL_VOLUME_TYPE);
		ov->owner = jdup(labels, LABEL_OWNER);
	}
	rc = 0;
out:
	json_decref(j);
	free(path);
	return rc;
}

/* Every tag and repo digest of one image, each with the image's id. */
static int add_image(void *arg, const json_t *j)
{
	static const char *const lists[] = { "RepoTags", "RepoDigests" };
	const char *id = jget_str(j, "Id");
	size_t k, l;

	for (l = 0; l < ARRAY_SIZE(lists); l++) {
		const json_t *refs = json_object_get(j, lists[l]);

		for (k = 0; k < json_array_size(refs); k++) {
			const char *t = json_string_value(json_array_get(refs, k));

			if (t && strcmp(t, "<none>:<none>") && strcmp(t, "<none>@<none>"))
				observed_add_image_id(arg, t, id);
		}
	}
	return 0;
}

static int observe_images(struct docker *d, struct observed *o)
{
	return list_each(d, "/images/json", "list images", add_image, o);
}

int docker_images(struct docker *d, struct observed *out)
{
	struct observed o = OBSERVED_INIT;

	if (observe_images(d, &o) < 0) {
		observed_release(&o);
		return -1;
	}
	observed_sort(&o);
	*out = o;
	return 0;
}

int docker_observe(struct docker *d, struct observed *out)
{
	struct observed o = OBSERVED_INIT;

	if (observe_containers(d, &o) < 0 || observe_networks(d, &o) < 0 ||
	    observe_volumes(d, &o) < 0 || observe_images(d, &o) < 0) {
		observed_release(&o);
		return -1;
	}
	observed_sort(&o);
	*out = o;
	return 0;
}
