/*
 * backend/engine/objects.c - networks, volumes and images: created with
 * cara's labels, checked for ownership, removed; pulls.
 */
#include "backend/engine/internal.h"

/* ---- networks and volumes ---- */

/*
 * POST a create of a named object labelled for its project; an object of
 * that name that exists already is what we wanted (409).  Takes root.
 */
int engine_create_object(struct docker *d, const char *kind, const char *name,
			 json_t *root, bool bad)
{
	char *what = xasprintf("create %s '%s'", kind, name);
	char *path = xasprintf("/%ss/create", kind);
	char *body;
	long code;
	int rc = -1;

	if ((body = jdump(root, bad, what))) {
		rc = engine_simple(d, "POST", path, body, what, &code);
		if (rc < 0 && code == 409) {
			error_clear();
			rc = 0;
		}
		free(body);
	}
	free(path);
	free(what);
	return rc;
}

/* DELETE of a named object, where a missing one is fine. */
int engine_remove_object(struct docker *d, const char *kind, const char *name,
			 const char *query)
{
	char *what = xasprintf("remove %s '%s'", kind, name);
	char *coll = xasprintf("%ss", kind);
	char *path = engine_obj_path(coll, name, query);
	long code;
	int rc = engine_simple(d, "DELETE", path, NULL, what, &code);

	if (rc == ERR_NOTFOUND) {
		error_clear();
		rc = 0;
	}
	free(path);
	free(coll);
	free(what);
	return rc;
}

/*
 * CheckDuplicate is not atomic: a create still in flight in dockerd when
 * its pass was killed and the next pass's create can both succeed, and a
 * network name that matches twice fails every container start.  After a
 * create, keep the network with the smallest id (the planner keeps the same
 * one) and remove the others.
 */
int engine_network_dedupe(struct docker *d, const char *name)
{
	json_t *filter = json_pack("{s{sb}}", "name", name, 1);
	char *fs = filter ? json_dumps(filter, JSON_COMPACT) : NULL;
	struct buf path = BUF_INIT;
	json_t *a = NULL;
	const char *keep = NULL;
	size_t i;
	int rc = -1;

	json_decref(filter);
	if (!fs) {
		error_set("docker: list networks '%s': name is not valid UTF-8", name);
		return -1;
	}
	buf_puts(&path, "/networks?filters=");
	docker_url_escape(&path, fs, false);
	free(fs);
	if (engine_get_json(d, buf_cstr(&path), "list networks", &a) < 0)
		goto out;
	for (i = 0; i < json_array_size(a); i++) {
		const char *n = jget_str(json_array_get(a, i), "Name");
		const char *id = jget_str(json_array_get(a, i), "Id");

		if (n && id && !strcmp(n, name) && (!keep || strcmp(id, keep) < 0))
			keep = id;
	}
	rc = 0;
	for (i = 0; i < json_array_size(a); i++) {
		const char *n = jget_str(json_array_get(a, i), "Name");
		const char *id = jget_str(json_array_get(a, i), "Id");

		if (n && id && keep && !strcmp(n, name) && strcmp(id, keep) &&
		    engine_remove_object(d, "network", id, NULL) < 0)
			rc = -1;
	}
out:
	json_decref(a);
	buf_release(&path);
	return rc;
}

/*
 * After a create that may have found the object there already (a network's
 * 409, a volume's silent 201): it is ours only when its labels say so.
 * ERR_FOREIGN with a message naming what the labels say otherwise.
 */
int engine_labels_owned(const json_t *labels, const char *kind, const char *name,
			const char *project, const char *owner)
{
	const char *lp = jget_str(labels, LABEL_PROJECT);
	const char *lo = jget_str(labels, LABEL_OWNER);

	if (!lp)
		error_set("%s '%s' exists and is not cara's (it has no cara.project "
			  "label): cara does not use it; remove or rename it", kind, name);
	else if (strcmp(lp, project))
		error_set("%s '%s' belongs to project '%s', not '%s': cara does not "
			  "use it", kind, name, lp, project);
	else if (owner && *owner && strcmp(lo ? lo : "", owner))
		error_set("%s '%s' is owned by another cara state (%s), not this one "
			  "(%s)", kind, name, lo && *lo ? lo : "no owner label", owner);
	else
		return 0;
	return ERR_FOREIGN;
}

int engine_check_owner(struct docker *d, const char *kind, const char *name,
		       const char *project, const char *owner)
{
	char *what = xasprintf("inspect %s '%s'", kind, name);
	char *coll = xasprintf("%ss", kind);
	char *path = engine_obj_path(coll, name, NULL);
	json_t *j = NULL;
	int rc;

	if ((rc = engine_get_json(d, path, what, &j)) == 0)
		rc = engine_labels_owned(json_object_get(j, "Labels"), kind, name,
					 project, owner);
	json_decref(j);
	free(path);
	free(coll);
	free(what);
	return rc;
}

int docker_network_create(struct docker *d, const char *name,
			  const char *project, const char *owner, bool internal)
{
	json_t *root = json_object();
	bool bad = false;

	jset(root, "Name", jstr(name), &bad);
	jset(root, "Driver", jstr("bridge"), &bad);
	if (internal)
		jset(root, "Internal", json_true(), &bad);
	jset(root, "CheckDuplicate", json_true(), &bad);
	jset(root, "Labels", jlabels(project, owner, NULL, NULL, &bad), &bad);
	if (engine_create_object(d, "network", name, root, bad) < 0 ||
	    engine_network_dedupe(d, name) < 0)
		return -1;
	return engine_check_owner(d, "network", name, project, owner);
}

int docker_network_connect(struct docker *d, const char *network,
			   const char *container, const char *alias,
			   const struct strvec *more)
{
	json_t *root = json_object(), *ep = json_object(), *aliases = json_array();
	char *what = xasprintf("connect container '%s' to network '%s'", container,
			       network);
	char *path = engine_obj_path("networks", network, "/connect");
	char *body;
	bool bad = false;
	long code;
	int rc = -1;

	jset(root, "Container", jstr(container), &bad);
	size_t i;

	if (alias && *alias)
		jpush(aliases, jstr(alias), &bad);
	for (i = 0; more && i < more->n; i++)
		jpush(aliases, jstr(more->v[i]), &bad);
	jset(ep, "Aliases", aliases, &bad);
	jset(root, "EndpointConfig", ep, &bad);
	if ((body = jdump(root, bad, what))) {
		rc = engine_simple(d, "POST", path, body, what, &code);
		free(body);
	}
	free(path);
	free(what);
	return rc;
}

int docker_network_remove(struct docker *d, const char *id_or_name)
{
	return engine_remove_object(d, "network", id_or_name, NULL);
}

int docker_volume_create(struct docker *d, const char *name,
			 const char *project, const char *type, const char *owner)
{
	json_t *root = json_object();
	bool bad = false;

	jset(root, "Name", jstr(name), &bad);
	jset(root, "Labels", jlabels(project, owner, LABEL_VOLUME_TYPE, type, &bad),
	     &bad);
	if (engine_create_object(d, "volume", name, root, bad) < 0)
		return -1;
	return engine_check_owner(d, "volume", name, project, owner);
}

int docker_volume_remove(struct docker *d, const char *name)
{
	return engine_remove_object(d, "volume", name, NULL);
}

int docker_object_inspect(struct docker *d, const char *kind, const char *name)
{
	char *what = xasprintf("inspect %s '%s'", kind, name);
	char *coll = xasprintf("%ss", kind);
	char *path = engine_obj_path(coll, name, NULL);
	long code;
	int rc;

	rc = engine_simple(d, "GET", path, NULL, what, &code);
	free(path);
	free(coll);
	free(what);
	return rc;
}

/* ---- images ---- */

int docker_image_inspect(struct docker *d, const char *ref)
{
	char *what = xasprintf("inspect image '%s'", ref);
	struct buf path = BUF_INIT;
	long code;
	int rc;

	buf_puts(&path, "/images/");
	docker_url_escape(&path, ref, true);
	buf_puts(&path, "/json");
	rc = engine_simple(d, "GET", buf_cstr(&path), NULL, what, &code);
	buf_release(&path);
	free(what);
	return rc;
}

/* The Engine's words for a pull the registry refused for want of (good)
 * credentials: a 401, "no basic auth credentials", Hub's "pull access
 * denied". */
static bool pull_refused(const char *msg)
{
	static const char *const words[] = {
		"unauthorized", "authentication required", "no basic auth credentials",
		"denied",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(words); i++)
		if (strcasestr(msg, words[i]))
			return true;
	return false;
}

/* Free a header list after zeroing its lines (one holds credentials). */
static void headers_wipe_free(struct curl_slist *h)
{
	struct curl_slist *p;

	for (p = h; p; p = p->next)
		explicit_bzero(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

/*
 * The next request's headers: the handle's and the credentials, made
 * d->headers (*out: the caller frees it with headers_wipe_free and puts
 * the handle's back: perform() resets the handle before any later
 * request).  No credentials: nothing changes.
 */
static int auth_headers(struct docker *d, const char *registry_auth,
			struct curl_slist **out)
{
	struct curl_slist *auth = NULL, *h, *p;
	struct buf line = BUF_INIT;

	*out = NULL;
	if (!registry_auth)
		return 0;
	for (p = d->headers; p; p = p->next) {
		if (!(h = curl_slist_append(auth, p->data)))
			goto fail;
		auth = h;
	}
	buf_printf(&line, "X-Registry-Auth: %s", registry_auth);
	h = curl_slist_append(auth, buf_cstr(&line));
	buf_wipe(&line);
	buf_release(&line);
	if (!h)
		goto fail;
	d->headers = *out = h;
	return 0;
fail:
	headers_wipe_free(auth);
	return -1;
}

int docker_image_digest(struct docker *d, const char *ref, const char *registry_auth,
			char **out_digest)
{
	struct req r = { .method = "GET", .timeout_ms = IMAGE_DIGEST_TIMEOUT_MS };
	char *what = xasprintf("ask the registry for %s", ref);
	struct curl_slist *saved = d->headers, *auth = NULL;
	struct buf path = BUF_INIT;
	json_t *j = NULL;
	const char *digest;
	long code;
	int rc = -1;

	*out_digest = NULL;
	buf_puts(&path, "/distribution/");
	docker_url_escape(&path, ref, true);
	buf_puts(&path, "/json");
	r.path = buf_cstr(&path);
	if (d->timeout_ms && d->timeout_ms < r.timeout_ms)
		r.timeout_ms = d->timeout_ms;
	if (auth_headers(d, registry_auth, &auth) < 0) {
		error_set("docker: %s: out of memory for request headers", what);
		goto out;
	}
	rc = engine_perform(d, &r, what, &code);
	d->headers = saved;
	if (rc < 0)
		goto out;
	rc = -1;
	if (code != 200) {
		engine_http_error(d, what, code);
		if (code == 401 || code == 403 || pull_refused(buf_cstr(&d->body)))
			rc = ERR_REFUSED;
		goto out;
	}
	if (!(j = engine_parse_body(d, what)))
		goto out;
	digest = jget_str(json_object_get(j, "Descriptor"), "digest");
	if (!digest || strncmp(digest, "sha256:", 7)) {
		error_set("docker: %s: the answer has no digest", what);
		goto out;
	}
	*out_digest = xstrdup(digest);
	rc = 0;
out:
	json_decref(j);
	headers_wipe_free(auth);
	buf_release(&path);
	free(what);
	return rc;
}

int docker_image_build(struct docker *d, const struct image_build_spec *spec)
{
	struct req r = { .method = "POST", .stream = true, .idle_s = BUILD_IDLE_S,
			 .body = spec->tar, .body_len = spec->tar_len };
	char *what = xasprintf("build %s", spec->tag);
	struct curl_slist *saved = d->headers, *h;
	struct buf path = BUF_INIT;
	json_t *args, *labels;
	bool bad = false;
	char *s;
	size_t i;
	long code;
	int rc = -1;

	args = json_object();
	for (i = 0; spec->args && i < spec->args->n; i++)
		jset(args, spec->args->v[i].key, jstr(spec->args->v[i].value), &bad);
	/* not cara.project: a container made from the image by hand would
	 * inherit it and pass for one of cara's */
	labels = json_object();
	jset(labels, LABEL_BUILT_FOR, jstr(spec->project), &bad);
	buf_puts(&path, "/build?rm=1&forcerm=1&t=");
	docker_url_escape(&path, spec->tag, false);
	if (spec->also_tag) {
		buf_puts(&path, "&t=");
		docker_url_escape(&path, spec->also_tag, false);
	}
	buf_puts(&path, "&dockerfile=");
	docker_url_escape(&path, spec->dockerfile, false);
	if (spec->target) {
		buf_puts(&path, "&target=");
		docker_url_escape(&path, spec->target, false);
	}
	if (!(s = jdump(args, bad, what))) {
		json_decref(labels);
		goto out;
	}
	buf_puts(&path, "&buildargs=");
	docker_url_escape(&path, s, false);
	free(s);
	if ((s = jdump(labels, bad, what))) {
		buf_puts(&path, "&labels=");
		docker_url_escape(&path, s, false);
		free(s);
	} else {
		goto out;
	}
	r.path = buf_cstr(&path);
	r.timeout_ms = d->timeout_ms > PULL_TIMEOUT_MS ? d->timeout_ms : PULL_TIMEOUT_MS;
	h = curl_slist_append(NULL, "Content-Type: application/x-tar");
	if (h && !curl_slist_append(h, "Expect:")) {
		curl_slist_free_all(h);
		h = NULL;
	}
	if (!h) {
		error_set("docker: %s: out of memory for request headers", what);
		goto out;
	}
	d->headers = h;
	rc = engine_perform(d, &r, what, &code);
	d->headers = saved;
	curl_slist_free_all(h);
	if (rc < 0)
		goto out;
	rc = -1;
	if (code != 200)
		engine_http_error(d, what, code);
	else if (docker_pull_progress_finish(&d->progress) < 0)
		error_set("docker: %s: %s", what, d->progress.error);
	else
		rc = 0;
out:
	docker_pull_progress_release(&d->progress);
	buf_release(&path);
	free(what);
	return rc;
}

int docker_image_pull(struct docker *d, const char *ref, const char *registry_auth,
		      void (*note)(void *arg, const char *summary), void *arg)
{
	struct req r = { .method = "POST", .stream = true, .idle_s = PULL_IDLE_S };
	char *what = xasprintf("pull %s", ref);
	struct curl_slist *saved = d->headers, *auth = NULL;
	struct buf path = BUF_INIT;
	const char *engine = NULL;   /* the Engine's words for a failure */
	char *repo, *tag;
	long code;
	int rc = -1;

	docker_split_ref(ref, &repo, &tag);
	buf_puts(&path, "/images/create?fromImage=");
	docker_url_escape(&path, repo, false);
	buf_puts(&path, "&tag=");
	docker_url_escape(&path, tag, false);
	r.path = buf_cstr(&path);
	r.timeout_ms = d->timeout_ms > PULL_TIMEOUT_MS ? d->timeout_ms : PULL_TIMEOUT_MS;
	if (auth_headers(d, registry_auth, &auth) < 0)
		goto nomem;
	d->pull_note = note;
	d->pull_arg = arg;
	d->pull_noted_ms = monotonic_ms();
	rc = engine_perform(d, &r, what, &code);
	d->pull_note = NULL;
	d->headers = saved;
	if (rc < 0)
		goto out;
	rc = -1;
	if (code != 200) {
		engine_http_error(d, what, code);
		engine = buf_cstr(&d->body);
	/* the status is sent before the pull starts: failures come in-band */
	} else if (docker_pull_progress_finish(&d->progress) < 0) {
		error_set("docker: %s: %s", what, d->progress.error);
		engine = d->progress.error;
	} else {
		rc = 0;
	}
	/* ERR_REFUSED: the caller knows whose credentials they were */
	if (rc < 0 && engine && pull_refused(engine))
		rc = ERR_REFUSED;
	goto out;
nomem:
	error_set("docker: %s: out of memory for request headers", what);
out:
	docker_pull_progress_release(&d->progress);
	headers_wipe_free(auth);
	buf_release(&path);
	free(repo);
	free(tag);
	free(what);
	return rc;
}
