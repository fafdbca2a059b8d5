/*
 * backend/engine/containers.c - containers: the create body from a
 * workload spec, start, unpause, stop, remove, state, wait.
 */
#include "backend/engine/internal.h"

/* ---- containers ---- */

json_t *engine_json_ulimits(const struct workload_spec *s, bool *bad)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < s->nulimits; i++)
		jpush(a, json_pack("{s:s, s:I, s:I}", "Name", s->ulimits[i].name,
				   "Soft", (json_int_t)s->ulimits[i].soft,
				   "Hard", (json_int_t)s->ulimits[i].hard), bad);
	return a;
}

void engine_json_health(json_t *cfg, const struct healthcheck *h,
			bool start_interval, bool *bad)
{
	json_t *o = json_object();

	jset(o, "Test", jstrvec(&h->test, bad), bad);
	/* the Engine counts durations in nanoseconds */
	if (h->interval_ms > 0)
		jset(o, "Interval", json_integer(h->interval_ms * 1000000), bad);
	if (h->timeout_ms > 0)
		jset(o, "Timeout", json_integer(h->timeout_ms * 1000000), bad);
	if (h->start_period_ms > 0)
		jset(o, "StartPeriod", json_integer(h->start_period_ms * 1000000), bad);
	if (h->start_interval_ms > 0 && start_interval)
		jset(o, "StartInterval", json_integer(h->start_interval_ms * 1000000),
		     bad);
	if (h->retries > 0)
		jset(o, "Retries", json_integer(h->retries), bad);
	jset(cfg, "Healthcheck", o, bad);
}

static void add_ports(json_t *cfg, json_t *hc, const struct workload_spec *s,
		      bool *bad)
{
	json_t *exposed = json_object(), *bindings = json_object();
	size_t i;

	for (i = 0; i < s->nports; i++) {
		const struct port *p = &s->ports[i];
		char *key = xasprintf("%d/%s", p->container_port,
				      p->protocol && *p->protocol ? p->protocol : "tcp");
		char *hport = p->host_port ? xasprintf("%d", p->host_port) : xstrdup("");
		json_t *list, *b = json_object();

		jset(exposed, key, json_object(), bad);
		if (!json_object_get(bindings, key))
			jset(bindings, key, json_array(), bad);
		jset(b, "HostIp", jstr(p->host_ip), bad);
		jset(b, "HostPort", jstr(hport), bad);
		/* a borrowed reference, NULL when the key was refused */
		if ((list = json_object_get(bindings, key)))
			jpush(list, b, bad);
		else
			json_decref(b);
		free(hport);
		free(key);
	}
	for (i = 0; s->expose && i < s->expose->n; i++)
		if (!json_object_get(exposed, s->expose->v[i]))
			jset(exposed, s->expose->v[i], json_object(), bad);
	jset(cfg, "ExposedPorts", exposed, bad);
	jset(hc, "PortBindings", bindings, bad);
}

/*
 * Named volumes as Mounts; host paths as Binds, which create a missing
 * directory the way `docker run -v` does, unless a ':' in a path would
 * make the bind string ambiguous.
 */
static void add_mounts(json_t *hc, const struct workload_spec *s, bool *bad)
{
	json_t *mounts = json_array(), *binds = json_array();
	size_t i;

	for (i = 0; i < s->nmounts; i++) {
		const struct workload_mount *m = &s->mounts[i];
		bool bind = !strcmp(m->type, "bind");
		json_t *o;

		if (bind && !strchr(m->source, ':') && !strchr(m->target, ':')) {
			char *b = xasprintf("%s:%s%s", m->source, m->target,
					    m->read_only ? ":ro" : "");
			jpush(binds, jstr(b), bad);
			free(b);
			continue;
		}
		o = json_object();
		jset(o, "Type", jstr(bind ? "bind" : "volume"), bad);
		jset(o, "Source", jstr(m->source), bad);
		jset(o, "Target", jstr(m->target), bad);
		jset(o, "ReadOnly", json_boolean(m->read_only), bad);
		jpush(mounts, o, bad);
	}
	jset(hc, "Mounts", mounts, bad);
	jset(hc, "Binds", binds, bad);
}

static bool has(const struct strvec *sv)
{
	return sv && sv->n;
}

static void add_host_settings(json_t *hc, const struct workload_spec *s,
			      bool *bad)
{
	size_t i;

	if (has(s->cap_add))
		jset(hc, "CapAdd", jstrvec(s->cap_add, bad), bad);
	if (has(s->cap_drop))
		jset(hc, "CapDrop", jstrvec(s->cap_drop, bad), bad);
	if (s->privileged)
		jset(hc, "Privileged", json_true(), bad);
	if (s->read_only)
		jset(hc, "ReadonlyRootfs", json_true(), bad);
	if (s->has_init)
		jset(hc, "Init", json_boolean(s->init), bad);
	if (has(s->tmpfs)) {
		json_t *t = json_object();

		/* "/path:options" as `docker run --tmpfs` takes it */
		for (i = 0; i < s->tmpfs->n; i++) {
			const char *e = s->tmpfs->v[i], *colon = strchr(e, ':');
			char *path = colon ? xstrndup(e, (size_t)(colon - e)) : xstrdup(e);

			jset(t, path, jstr(colon ? colon + 1 : ""), bad);
			free(path);
		}
		jset(hc, "Tmpfs", t, bad);
	}
	if (has(s->extra_hosts))
		jset(hc, "ExtraHosts", jstrvec(s->extra_hosts, bad), bad);
	if (has(s->dns))
		jset(hc, "Dns", jstrvec(s->dns, bad), bad);
	if (s->shm_bytes > 0)
		jset(hc, "ShmSize", json_integer(s->shm_bytes), bad);
	if (s->sysctls && s->sysctls->n) {
		json_t *t = json_object();

		for (i = 0; i < s->sysctls->n; i++)
			jset(t, s->sysctls->v[i].key, jstr(s->sysctls->v[i].value), bad);
		jset(hc, "Sysctls", t, bad);
	}
	if (s->nulimits)
		jset(hc, "Ulimits", engine_json_ulimits(s, bad), bad);
	if (has(s->security_opt))
		jset(hc, "SecurityOpt", jstrvec(s->security_opt, bad), bad);
	if (has(s->devices)) {
		json_t *a = json_array();

		/* "/dev/HOST[:/dev/CONTAINER[:PERMS]]", as docker run --device */
		for (i = 0; i < s->devices->n; i++) {
			char *host = xstrdup(s->devices->v[i]), *ctr, *perm;

			if ((ctr = strchr(host, ':')))
				*ctr++ = '\0';
			if (ctr && (perm = strchr(ctr, ':')))
				*perm++ = '\0';
			else
				perm = NULL;
			jpush(a, json_pack("{s:s, s:s, s:s}", "PathOnHost", host,
					   "PathInContainer", ctr ? ctr : host,
					   "CgroupPermissions", perm ? perm : "rwm"), bad);
			free(host);
		}
		jset(hc, "Devices", a, bad);
	}
	if (s->pids_limit > 0)
		jset(hc, "PidsLimit", json_integer(s->pids_limit), bad);
	if (s->has_oom_score_adj)
		jset(hc, "OomScoreAdj", json_integer(s->oom_score_adj), bad);
	if (has(s->group_add))
		jset(hc, "GroupAdd", jstrvec(s->group_add, bad), bad);
	if (has(s->dns_search))
		jset(hc, "DnsSearch", jstrvec(s->dns_search, bad), bad);
	if (has(s->dns_opt))
		jset(hc, "DnsOptions", jstrvec(s->dns_opt, bad), bad);
	if (s->log_driver) {
		json_t *lc = json_object(), *opts = json_object();

		jset(lc, "Type", jstr(s->log_driver), bad);
		for (i = 0; s->log_opts && i < s->log_opts->n; i++)
			jset(opts, s->log_opts->v[i].key, jstr(s->log_opts->v[i].value), bad);
		jset(lc, "Config", opts, bad);
		jset(hc, "LogConfig", lc, bad);
	}
}

static json_t *host_config(json_t *cfg, const struct workload_spec *s, bool *bad)
{
	json_t *hc = json_object();

	add_ports(cfg, hc, s, bad);
	add_mounts(hc, s, bad);
	if (s->restart && *s->restart) {
		json_t *rp = json_object();

		jset(rp, "Name", jstr(s->restart), bad);
		jset(rp, "MaximumRetryCount", json_integer(s->restart_retries), bad);
		jset(hc, "RestartPolicy", rp, bad);
	}
	if (s->memory_bytes > 0)
		jset(hc, "Memory", json_integer(s->memory_bytes), bad);
	if (s->nano_cpus > 0)
		jset(hc, "NanoCpus", json_integer(s->nano_cpus), bad);
	if (s->memory_reservation_bytes > 0)
		jset(hc, "MemoryReservation",
		     json_integer(s->memory_reservation_bytes), bad);
	if (s->memory_swap_bytes)
		jset(hc, "MemorySwap", json_integer(s->memory_swap_bytes), bad);
	if (s->cpu_shares > 0)
		jset(hc, "CpuShares", json_integer(s->cpu_shares), bad);
	if (s->nnets && *s->nets[0].name)
		jset(hc, "NetworkMode", jstr(s->nets[0].name), bad);
	add_host_settings(hc, s, bad);
	return hc;
}

static json_t *create_body(const struct workload_spec *s, bool start_interval,
			   bool *bad)
{
	json_t *cfg = json_object();
	size_t i;

	jset(cfg, "Image", jstr(s->image), bad);
	if (s->cmd)
		jset(cfg, "Cmd", jstrvec(s->cmd, bad), bad);
	if (s->entrypoint) {
		/* an empty list would mean "the image's"; [""] means none */
		if (s->entrypoint->n)
			jset(cfg, "Entrypoint", jstrvec(s->entrypoint, bad), bad);
		else
			jset(cfg, "Entrypoint", json_pack("[s]", ""), bad);
	}
	if (s->working_dir && *s->working_dir)
		jset(cfg, "WorkingDir", jstr(s->working_dir), bad);
	if (s->user && *s->user)
		jset(cfg, "User", jstr(s->user), bad);
	if (s->env)
		jset(cfg, "Env", jstrvec(s->env, bad), bad);
	{
		json_t *labels = json_object();

		for (i = 0; i < s->nlabels; i++)
			jset(labels, s->labels[i].key, jstr(s->labels[i].value), bad);
		jset(cfg, "Labels", labels, bad);
	}
	if (s->health && s->health->present && s->health->test.n)
		engine_json_health(cfg, s->health, start_interval, bad);
	if (s->stop_timeout_s >= 0)
		jset(cfg, "StopTimeout", json_integer(s->stop_timeout_s), bad);
	if (s->hostname && *s->hostname)
		jset(cfg, "Hostname", jstr(s->hostname), bad);
	if (s->stop_signal && *s->stop_signal)
		jset(cfg, "StopSignal", jstr(s->stop_signal), bad);
	if (s->domainname && *s->domainname)
		jset(cfg, "Domainname", jstr(s->domainname), bad);
	if (s->tty)
		jset(cfg, "Tty", json_true(), bad);
	if (s->stdin_open) {
		/* as docker run -i: stdin open, never attached by cara */
		jset(cfg, "OpenStdin", json_true(), bad);
		jset(cfg, "StdinOnce", json_false(), bad);
	}
	jset(cfg, "HostConfig", host_config(cfg, s, bad), bad);
	/* API 1.41 takes one endpoint at create: the others are connected
	 * after it (docker_container_create) */
	if (s->nnets && s->alias && *s->alias) {
		json_t *ep = json_object(), *eps = json_object(), *nc = json_object();
		json_t *aliases = json_array();

		jpush(aliases, jstr(s->alias), bad);
		for (i = 0; s->nets[0].aliases && i < s->nets[0].aliases->n; i++)
			jpush(aliases, jstr(s->nets[0].aliases->v[i]), bad);
		jset(ep, "Aliases", aliases, bad);
		jset(eps, s->nets[0].name, ep, bad);
		jset(nc, "EndpointsConfig", eps, bad);
		jset(cfg, "NetworkingConfig", nc, bad);
	}
	return cfg;
}

char *docker_container_json(const struct workload_spec *spec, const char *api)
{
	char *what = xasprintf("create container '%s'", spec->name);
	bool start_interval = docker_api_has_start_interval(api);
	bool bad = false;
	char *body = NULL;

	/* the planner refused it already (backend_caps): the last guard */
	if (spec->health && spec->health->present &&
	    spec->health->start_interval_ms > 0 && !start_interval)
		error_set("docker: %s: healthcheck StartInterval needs Docker "
			  "Engine API %s or newer, and this Engine speaks %s (it "
			  "would drop it)", what, DOCKER_API_START_INTERVAL,
			  api ? api : "an unknown version");
	else
		body = jdump(create_body(spec, start_interval, &bad), bad, what);
	free(what);
	return body;
}

int docker_container_create(struct docker *d, const struct workload_spec *spec,
			    char **out_id)
{
	char *what = xasprintf("create container '%s'", spec->name);
	struct buf path = BUF_INIT;
	char *body = NULL;
	json_t *j = NULL;
	const char *id;
	long code;
	size_t i;
	int rc = -1;

	*out_id = NULL;
	if (!(body = docker_container_json(spec, d->api)))
		goto out;
	buf_puts(&path, "/containers/create?name=");
	docker_url_escape(&path, spec->name, false);
	if ((rc = engine_simple(d, "POST", buf_cstr(&path), body, what, &code)) < 0)
		goto out;
	rc = -1;
	if (!(j = engine_parse_body(d, what)))
		goto out;
	if (!(id = jget_str(j, "Id")) || !*id) {
		error_set("docker: %s: the Engine returned no container id", what);
		goto out;
	}
	*out_id = xstrdup(id);
	/* the other networks before any start: a start must find them all */
	for (i = 1; i < spec->nnets; i++)
		if (docker_network_connect(d, spec->nets[i].name, *out_id, spec->alias,
					   spec->nets[i].aliases) < 0)
			goto out;
	rc = 0;
out:
	json_decref(j);
	free(body);
	buf_release(&path);
	free(what);
	return rc;
}

/* POST /containers/{id}/VERB, no body; 304 (already so) is success. */
static int container_post(struct docker *d, const char *id_or_name,
			  const char *verb)
{
	char *what = xasprintf("%s container '%s'", verb, id_or_name);
	char *suffix = xasprintf("/%s", verb);
	char *path = engine_obj_path("containers", id_or_name, suffix);
	struct req r = { .method = "POST", .path = path };
	long code;
	int rc = -1;

	if (engine_perform(d, &r, what, &code) < 0)
		goto out;
	if ((code >= 200 && code < 300) || code == 304)
		rc = 0;
	else
		rc = engine_http_error(d, what, code);
out:
	free(path);
	free(suffix);
	free(what);
	return rc;
}

int docker_container_start(struct docker *d, const char *id_or_name)
{
	return container_post(d, id_or_name, "start");
}

int docker_container_unpause(struct docker *d, const char *id_or_name)
{
	return container_post(d, id_or_name, "unpause");
}

static char *label_of(const json_t *j, const char *key)
{
	const char *v = jget_str(json_object_get(json_object_get(j, "Config"), "Labels"),
				 key);

	return xstrdup(v ? v : "");
}

/*
 * GET /containers/{id}/json into out; *out_stop_timeout (may be NULL) gets
 * Config.StopTimeout, the Engine's 10 s when unset; info (may be NULL)
 * the labels and address of struct workload_info.
 */
static int inspect_container(struct docker *d, const char *id_or_name,
			     const char *what, struct workload_state *out,
			     int *out_stop_timeout, const char *network,
			     struct workload_info *info)
{
	char *path = engine_obj_path("containers", id_or_name, "/json");
	json_t *j = NULL, *st, *v;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = engine_get_json(d, path, what, &j)) < 0)
		goto out;
	if (info) {
		const char *ip = NULL;

		info->owner = label_of(j, LABEL_OWNER);
		info->spec_hash = label_of(j, LABEL_SPEC_HASH);
		info->role = label_of(j, LABEL_INGRESS);
		info->project = label_of(j, LABEL_PROJECT);
		info->service = label_of(j, LABEL_SERVICE);
		if (network)
			ip = jget_str(json_object_get(json_object_get(json_object_get(
				j, "NetworkSettings"), "Networks"), network), "IPAddress");
		info->address = ip && *ip ? xstrdup(ip) : NULL;
	}
	st = json_object_get(j, "State");
	out->state = obs_state_parse(jget_str(st, "Status"));
	out->health = obs_health_parse(jget_str(json_object_get(st, "Health"), "Status"));
	out->exit_code = (int)jget_int(st, "ExitCode");
	out->oom_killed = json_is_true(json_object_get(st, "OOMKilled"));
	out->restart_count = (int)jget_int(j, "RestartCount");
	snprintf(out->error, sizeof(out->error), "%s",
		 jget_str(st, "Error") ? jget_str(st, "Error") : "");
	snprintf(out->id, sizeof(out->id), "%s",
		 jget_str(j, "Id") ? jget_str(j, "Id") : "");
	if (docker_time_ns(jget_str(st, "StartedAt"), &out->started_ns) < 0)
		out->started_ns = 0;
	if (out_stop_timeout) {
		v = json_object_get(json_object_get(j, "Config"), "StopTimeout");
		*out_stop_timeout = json_is_integer(v) && json_integer_value(v) >= 0 &&
				    json_integer_value(v) < 86400 ?
				    (int)json_integer_value(v) : 10;
	}
	rc = 0;
out:
	json_decref(j);
	free(path);
	return rc;
}

int docker_container_state(struct docker *d, const char *id_or_name,
			   struct workload_state *out)
{
	char *what = xasprintf("inspect container '%s'", id_or_name);
	int rc = inspect_container(d, id_or_name, what, out, NULL, NULL, NULL);

	free(what);
	return rc;
}

int docker_container_info(struct docker *d, const char *id_or_name,
			  const char *network, struct workload_info *out)
{
	char *what = xasprintf("inspect container '%s'", id_or_name);
	int rc;

	memset(out, 0, sizeof(*out));
	rc = inspect_container(d, id_or_name, what, &out->st, NULL, network, out);
	if (rc < 0)
		workload_info_release(out);
	free(what);
	return rc;
}

int docker_container_stop(struct docker *d, const char *id_or_name,
			  int timeout_s)
{
	char *what = xasprintf("stop container '%s'", id_or_name);
	struct buf path = BUF_INIT;
	struct req r = { .method = "POST" };
	struct workload_state cs;
	int grace = timeout_s;
	long code;
	int rc;

	/*
	 * The Engine waits up to the grace period before it answers, so the
	 * request's timeout must cover it: with the container's own period,
	 * read it first (a stopped container needs no stop at all).
	 */
	if (timeout_s < 0) {
		if ((rc = inspect_container(d, id_or_name, what, &cs, &grace, NULL, NULL)) < 0)
			goto out;
		if (!obs_state_up(cs.state))
			goto out;
	}
	buf_puts(&path, "/containers/");
	docker_url_escape(&path, id_or_name, false);
	buf_puts(&path, "/stop");
	if (timeout_s >= 0)
		buf_printf(&path, "?t=%d", timeout_s);
	r.path = buf_cstr(&path);
	r.timeout_ms = d->timeout_ms + (long)grace * 1000;
	if ((rc = engine_perform(d, &r, what, &code)) < 0)
		goto out;
	/* 304: stopped already */
	if ((code >= 200 && code < 300) || code == 304)
		rc = 0;
	else
		rc = engine_http_error(d, what, code);
out:
	buf_release(&path);
	free(what);
	return rc;
}

/*
 * A removal another client started (a pass killed while dockerd removed
 * the container) goes on without it, and dockerd answers a second one
 * 409 "already in progress": wait, within the handle's timeout, for the
 * container to be gone.
 */
static int wait_removed(struct docker *d, const char *id_or_name)
{
	char *what = xasprintf("inspect container '%s'", id_or_name);
	char *path = engine_obj_path("containers", id_or_name, "/json");
	int64_t end = monotonic_ms() + d->timeout_ms;
	long code;
	int rc;

	for (;;) {
		rc = engine_simple(d, "GET", path, NULL, what, &code);
		if (rc == ERR_NOTFOUND) {       /* gone: what was asked */
			error_clear();
			rc = 0;
			break;
		}
		if (rc < 0)
			break;
		if (monotonic_ms() >= end) {
			rc = error_set("docker: remove container '%s': a removal already "
				       "in progress did not end within %ld s", id_or_name,
				       d->timeout_ms / 1000);
			break;
		}
		usleep(200 * 1000);
	}
	free(path);
	free(what);
	return rc;
}

int docker_container_remove(struct docker *d, const char *id_or_name,
			    bool force)
{
	int rc = engine_remove_object(d, "container", id_or_name,
				      force ? "?force=1&v=0" : "?force=0&v=0");

	if (rc < 0 && d->last_code == 409 &&
	    strstr(buf_cstr(&d->body), "already in progress"))
		return wait_removed(d, id_or_name);
	return rc;
}

int docker_container_wait(struct docker *d, const char *id_or_name,
			  long timeout_ms, int *out_exit)
{
	char *what = xasprintf("wait for container '%s'", id_or_name);
	char *path = engine_obj_path("containers", id_or_name,
			      "/wait?condition=not-running");
	struct req r = { .method = "POST", .path = path, .timeout_ms = timeout_ms };
	json_t *j = NULL;
	const char *msg;
	long code;
	int rc = -1;

	*out_exit = 0;
	if (engine_perform(d, &r, what, &code) < 0) {
		/* the Engine answers 200 at once, then the body when it exits */
		if (d->last_cc == CURLE_OPERATION_TIMEDOUT && d->last_code == 200) {
			error_set("docker: %s: still running after %ld ms", what,
				  timeout_ms > 0 ? timeout_ms : d->timeout_ms);
			rc = 1;
		}
		goto out;
	}
	if (code != 200) {
		rc = engine_http_error(d, what, code);
		goto out;
	}
	if (!(j = engine_parse_body(d, what)))
		goto out;
	msg = jget_str(json_object_get(j, "Error"), "Message");
	if (msg && *msg) {
		error_set("docker: %s: %s", what, msg);
		goto out;
	}
	*out_exit = (int)jget_int(j, "StatusCode");
	rc = 0;
out:
	json_decref(j);
	free(path);
	free(what);
	return rc;
}
