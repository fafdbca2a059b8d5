/*
 * backend/swarm/service.c - the Swarm service spec of a workload spec
 * (pure: unit-tested), the body of both a create and an update, so that
 * an update sets every field a create would and nothing lingers.
 *
 * Mapping: the container's entrypoint is ContainerSpec.Command, its
 * command Args (as `docker service create`); restart unless-stopped and
 * always are Condition any, no a replicated job that runs once a spec;
 * the project network is the service's one network, with the service's
 * name and aliases; published ports are host-mode with endpoint mode
 * dnsrr (which has no routing mesh) and ingress with vip; a secret
 * mounted as a file is a Swarm secret (secret_ids, made beforehand by
 * swarm.c) at its target, 0444; each file of a File volume a Swarm config
 * (configs.c) at its path below the mount's target.  Updates go one
 * task at a time, start-first unless a host port is published (two tasks
 * of one node cannot hold it), monitored 5 s, and roll back on failure.
 */
#include <stdlib.h>
#include <string.h>

#include "backend/engine/internal.h"
#include "backend/swarm/swarm.h"

#define MONITOR_NS (5LL * 1000000000)

static int replicas_of(const struct workload_spec *s)
{
	return s->replicas < 0 ? 1 : s->replicas;
}

char *swarm_mode_label(const struct workload_spec *s)
{
	if (s->job)
		return xasprintf("job:%d", replicas_of(s));
	if (s->global)
		return xstrdup("global");
	return xasprintf("%d", replicas_of(s));
}

static json_t *labels_of(const struct workload_spec *s, bool *bad)
{
	json_t *o = json_object();
	char *mode = swarm_mode_label(s);
	size_t i;

	for (i = 0; i < s->nlabels; i++)
		jset(o, s->labels[i].key, jstr(s->labels[i].value), bad);
	jset(o, LABEL_REPLICAS, jstr(mode), bad);
	free(mode);
	return o;
}

char *swarm_versioned_name(const char *service, const char *target,
			   const char *data, size_t len)
{
	struct sha256 c;
	unsigned char d[32];
	char hex[13];
	size_t i, keep = strlen(service);

	sha256_init(&c);
	/* a name cut short: two services of one prefix differ by the hash
	 * (the others keep the names they always had) */
	if (keep > 64 - 13) {
		keep = 64 - 13;
		sha256_update(&c, service, strlen(service) + 1);
	}
	sha256_update(&c, target, strlen(target) + 1);
	sha256_update(&c, data ? data : "", len);
	sha256_final(&c, d);
	for (i = 0; i < 6; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return xasprintf("%.*s-%s", (int)keep, service, hex);
}

char *swarm_secret_name(const char *service, const struct workload_mount *m)
{
	return swarm_versioned_name(service, m->target, m->secret->ptr, m->secret->len);
}

/* A secret's or config's reference (kind "Secret", "Config"): a file at
 * target, owned by root. */
static json_t *file_ref(const char *kind, const char *target, int mode,
			const char *id, const char *name, bool *bad)
{
	json_t *o = json_object(), *f = json_object();
	char *k_id = xasprintf("%sID", kind), *k_name = xasprintf("%sName", kind);

	jset(f, "Name", jstr(target), bad);
	jset(f, "UID", jstr("0"), bad);
	jset(f, "GID", jstr("0"), bad);
	jset(f, "Mode", json_integer(mode), bad);
	jset(o, "File", f, bad);
	jset(o, k_id, jstr(id), bad);
	jset(o, k_name, jstr(name), bad);
	free(k_id);
	free(k_name);
	return o;
}

static json_t *secrets_of(const struct workload_spec *s, const char *const *ids,
			  bool *bad)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; ids && i < s->nmounts; i++) {
		const struct workload_mount *m = &s->mounts[i];
		char *name;

		if (!m->secret || !ids[i])
			continue;
		name = swarm_secret_name(s->name, m);
		jpush(a, file_ref("Secret", m->target, 0444, ids[i], name, bad), bad);
		free(name);
	}
	return a;
}

static json_t *configs_of(const struct swarm_configs *c, bool *bad)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; c && i < c->n; i++)
		if (c->v[i].id)
			jpush(a, file_ref("Config", c->v[i].target, c->v[i].mode, c->v[i].id,
					  c->v[i].name, bad), bad);
	return a;
}

/* Named volumes carry cara's labels to the node that creates them. */
static json_t *mounts_of(const struct workload_spec *s, json_t *labels, bool *bad)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < s->nmounts; i++) {
		const struct workload_mount *m = &s->mounts[i];
		json_t *o = json_object();

		if (m->secret || m->files) {
			/* shipped as Swarm secrets and configs (secrets_of,
			 * configs_of) */
			json_decref(o);
			continue;
		}

		jset(o, "Type", jstr(m->type), bad);
		jset(o, "Source", jstr(m->source), bad);
		jset(o, "Target", jstr(m->target), bad);
		if (m->read_only)
			jset(o, "ReadOnly", json_true(), bad);
		if (!strcmp(m->type, "volume")) {
			json_t *vo = json_object();
			const char *k;
			json_t *v;
			json_t *vl = json_object();

			json_object_foreach(labels, k, v)
				if (!strcmp(k, LABEL_PROJECT) || !strcmp(k, LABEL_OWNER))
					jset(vl, k, json_incref(v), bad);
			jset(vo, "Labels", vl, bad);
			jset(o, "VolumeOptions", vo, bad);
		}
		jpush(a, o, bad);
	}
	return a;
}

/* extra hosts as the Engine takes them ("name:address") to a service's
 * /etc/hosts lines ("address name"); a name holds no ':' */
static json_t *hosts_of(const struct strvec *h, bool *bad)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < h->n; i++) {
		const char *colon = strchr(h->v[i], ':');
		char *line = colon ? xasprintf("%s %.*s", colon + 1,
					       (int)(colon - h->v[i]), h->v[i]) :
				     xstrdup(h->v[i]);

		jpush(a, jstr(line), bad);
		free(line);
	}
	return a;
}

static json_t *container_of(const struct workload_spec *s, json_t *labels,
			    const char *const *ids, bool *bad)
{
	json_t *c = json_object(), *cl = json_object();
	size_t i;

	jset(c, "Image", jstr(s->image), bad);
	if (s->entrypoint)
		jset(c, "Command", jstrvec(s->entrypoint, bad), bad);
	if (s->cmd)
		jset(c, "Args", jstrvec(s->cmd, bad), bad);
	if (s->env)
		jset(c, "Env", jstrvec(s->env, bad), bad);
	if (s->working_dir)
		jset(c, "Dir", jstr(s->working_dir), bad);
	if (s->user)
		jset(c, "User", jstr(s->user), bad);
	if (s->hostname)
		jset(c, "Hostname", jstr(s->hostname), bad);
	if (s->stop_signal)
		jset(c, "StopSignal", jstr(s->stop_signal), bad);
	if (s->stop_timeout_s >= 0)
		jset(c, "StopGracePeriod",
		     json_integer((json_int_t)s->stop_timeout_s * 1000000000), bad);
	if (s->has_init)
		jset(c, "Init", json_boolean(s->init), bad);
	if (s->read_only)
		jset(c, "ReadOnly", json_true(), bad);
	if (s->cap_add && s->cap_add->n)
		jset(c, "CapabilityAdd", jstrvec(s->cap_add, bad), bad);
	if (s->cap_drop && s->cap_drop->n)
		jset(c, "CapabilityDrop", jstrvec(s->cap_drop, bad), bad);
	if (s->tty)
		jset(c, "TTY", json_true(), bad);
	if (s->stdin_open)
		jset(c, "OpenStdin", json_true(), bad);
	if (s->group_add && s->group_add->n)
		jset(c, "Groups", jstrvec(s->group_add, bad), bad);
	if (s->extra_hosts && s->extra_hosts->n)
		jset(c, "Hosts", hosts_of(s->extra_hosts, bad), bad);
	if ((s->dns && s->dns->n) || (s->dns_search && s->dns_search->n) ||
	    (s->dns_opt && s->dns_opt->n)) {
		json_t *d = json_object();

		if (s->dns && s->dns->n)
			jset(d, "Nameservers", jstrvec(s->dns, bad), bad);
		if (s->dns_search && s->dns_search->n)
			jset(d, "Search", jstrvec(s->dns_search, bad), bad);
		if (s->dns_opt && s->dns_opt->n)
			jset(d, "Options", jstrvec(s->dns_opt, bad), bad);
		jset(c, "DNSConfig", d, bad);
	}
	if (s->nulimits)   /* API 1.41 on, as the Engine's HostConfig.Ulimits */
		jset(c, "Ulimits", engine_json_ulimits(s, bad), bad);
	if (s->sysctls && s->sysctls->n) {
		json_t *o = json_object();

		for (i = 0; i < s->sysctls->n; i++)
			jset(o, s->sysctls->v[i].key, jstr(s->sysctls->v[i].value), bad);
		jset(c, "Sysctls", o, bad);
	}
	/* the Engine does not carry StartInterval into a service's tasks
	 * (API 1.44): refused before (pass.c), never sent */
	if (s->health)
		engine_json_health(c, s->health, false, bad);
	/* the task's containers say whose they are too */
	jset(cl, LABEL_PROJECT, json_incref(json_object_get(labels, LABEL_PROJECT)), bad);
	jset(cl, LABEL_SERVICE, json_incref(json_object_get(labels, LABEL_SERVICE)), bad);
	jset(c, "Labels", cl, bad);
	jset(c, "Mounts", mounts_of(s, labels, bad), bad);
	jset(c, "Secrets", secrets_of(s, ids, bad), bad);
	return c;
}

static const char *condition_of(const struct workload_spec *s)
{
	if (s->job || (s->restart && !strcmp(s->restart, "no")))
		return "none";
	if (s->restart && !strcmp(s->restart, "on-failure"))
		return "on-failure";
	return "any";
}

/* [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}, ...], in order */
static json_t *preferences_of(const struct strvec *p, bool *bad)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < p->n; i++) {
		json_t *o = json_object(), *sp = json_object();

		jset(sp, "SpreadDescriptor", jstr(p->v[i]), bad);
		jset(o, "Spread", sp, bad);
		jpush(a, o, bad);
	}
	return a;
}

static json_t *task_of(const struct workload_spec *s, json_t *labels,
		       const char *const *ids, bool *bad)
{
	json_t *t = json_object(), *rp = json_object(), *res = json_object();
	json_t *lim = json_object(), *nets = json_array();
	size_t k;

	jset(t, "ContainerSpec", container_of(s, labels, ids, bad), bad);
	jset(rp, "Condition", jstr(condition_of(s)), bad);
	if (s->restart_retries > 0)
		jset(rp, "MaxAttempts", json_integer(s->restart_retries), bad);
	jset(t, "RestartPolicy", rp, bad);
	if (s->memory_bytes > 0)
		jset(lim, "MemoryBytes", json_integer(s->memory_bytes), bad);
	if (s->nano_cpus > 0)
		jset(lim, "NanoCPUs", json_integer(s->nano_cpus), bad);
	if (s->pids_limit > 0)   /* API 1.41 on */
		jset(lim, "Pids", json_integer(s->pids_limit), bad);
	jset(res, "Limits", lim, bad);
	if (s->memory_reservation_bytes > 0 || s->nano_cpus_reservation > 0) {
		json_t *rsv = json_object();

		if (s->memory_reservation_bytes > 0)
			jset(rsv, "MemoryBytes",
			     json_integer(s->memory_reservation_bytes), bad);
		if (s->nano_cpus_reservation > 0)
			jset(rsv, "NanoCPUs",
			     json_integer(s->nano_cpus_reservation), bad);
		jset(res, "Reservations", rsv, bad);
	}
	jset(t, "Resources", res, bad);
	{
		/* always there, empty or not: the Swarm of Docker 20.10 crashes
		 * on an update that takes a placement away (nil Placement) */
		json_t *pl = json_object();

		if (s->constraints && s->constraints->n)
			jset(pl, "Constraints", jstrvec(s->constraints, bad), bad);
		if (s->preferences && s->preferences->n)
			jset(pl, "Preferences", preferences_of(s->preferences, bad), bad);
		jset(t, "Placement", pl, bad);
	}
	for (k = 0; k < s->nnets; k++) {
		const struct strvec *more = s->nets[k].aliases;
		json_t *n = json_object(), *al = json_array();
		size_t i;

		jset(n, "Target", jstr(s->nets[k].name), bad);
		if (s->alias && *s->alias)
			jpush(al, jstr(s->alias), bad);
		for (i = 0; more && i < more->n; i++)
			jpush(al, jstr(more->v[i]), bad);
		jset(n, "Aliases", al, bad);
		jpush(nets, n, bad);
	}
	jset(t, "Networks", nets, bad);
	if (s->log_driver) {
		json_t *ld = json_object(), *o = json_object();
		size_t i;

		jset(ld, "Name", jstr(s->log_driver), bad);
		for (i = 0; s->log_opts && i < s->log_opts->n; i++)
			jset(o, s->log_opts->v[i].key, jstr(s->log_opts->v[i].value), bad);
		jset(ld, "Options", o, bad);
		jset(t, "LogDriver", ld, bad);
	}
	return t;
}

static json_t *mode_of(const struct workload_spec *s, bool *bad)
{
	json_t *m = json_object(), *o = json_object();

	if (s->job) {
		jset(o, "MaxConcurrent", json_integer(replicas_of(s)), bad);
		jset(o, "TotalCompletions", json_integer(replicas_of(s)), bad);
		jset(m, "ReplicatedJob", o, bad);
	} else if (s->global) {
		jset(m, "Global", o, bad);
	} else {
		jset(o, "Replicas", json_integer(replicas_of(s)), bad);
		jset(m, "Replicated", o, bad);
	}
	return m;
}

static bool dnsrr(const struct workload_spec *s)
{
	return s->endpoint_mode && !strcmp(s->endpoint_mode, "dnsrr");
}

static json_t *endpoint_of(const struct workload_spec *s, bool *bad)
{
	json_t *e = json_object(), *ports = json_array();
	size_t i;

	jset(e, "Mode", jstr(dnsrr(s) ? "dnsrr" : "vip"), bad);
	for (i = 0; i < s->nports; i++) {
		const struct port *p = &s->ports[i];
		json_t *o = json_object();

		jset(o, "Protocol", jstr(p->protocol && *p->protocol ? p->protocol : "tcp"),
		     bad);
		jset(o, "TargetPort", json_integer(p->container_port), bad);
		if (p->host_port)
			jset(o, "PublishedPort", json_integer(p->host_port), bad);
		jset(o, "PublishMode", jstr(dnsrr(s) ? "host" : "ingress"), bad);
		jpush(ports, o, bad);
	}
	jset(e, "Ports", ports, bad);
	return e;
}

/*
 * UpdateConfig / RollbackConfig: the manifest's policy where it sets a
 * field, else cara's defaults: one task at a time, no delay, a new task
 * watched 5 s, a failed update rolled back (a failed rollback paused),
 * the new task started before the old one stops unless a host port is
 * published (two tasks of one node cannot hold it).
 */
static json_t *update_of(const struct workload_spec *s, bool rollback, bool *bad)
{
	const struct update_policy *p = rollback ? s->rollback : s->update;
	json_t *u = json_object();
	bool host_ports = false;
	size_t i;

	for (i = 0; i < s->nports; i++)
		host_ports |= s->ports[i].host_port != 0 && dnsrr(s);
	jset(u, "Parallelism", json_integer(p && p->parallelism >= 0 ?
					    p->parallelism : 1), bad);
	jset(u, "Delay", json_integer(p && p->delay_ms >= 0 ?
				      (json_int_t)p->delay_ms * 1000000 : 0), bad);
	jset(u, "FailureAction", jstr(p && *p->failure_action ? p->failure_action :
				      rollback ? "pause" : "rollback"), bad);
	jset(u, "Monitor", json_integer(p && p->monitor_ms >= 0 ?
					(json_int_t)p->monitor_ms * 1000000 : MONITOR_NS), bad);
	jset(u, "MaxFailureRatio", json_real(0), bad);
	jset(u, "Order", jstr(p && *p->order ? p->order :
			      host_ports ? "stop-first" : "start-first"), bad);
	return u;
}

char *swarm_service_json(const struct workload_spec *s, const char *const *ids)
{
	return swarm_service_json_configs(s, ids, NULL);
}

char *swarm_service_json_configs(const struct workload_spec *s, const char *const *ids,
				 const struct swarm_configs *c)
{
	json_t *root = json_object();
	json_t *labels;
	bool bad = false;
	char *what = xasprintf("service '%s'", s->name);
	char *out;

	if (s->health && s->health->present && s->health->start_interval_ms > 0) {
		/* the last guard: pass.c refuses the project before */
		error_set("docker: %s: a Swarm service does not carry a "
			  "healthcheck's StartInterval", what);
		json_decref(root);
		free(what);
		return NULL;
	}
	labels = labels_of(s, &bad);
	jset(root, "Name", jstr(s->name), &bad);
	jset(root, "TaskTemplate", task_of(s, labels, ids, &bad), &bad);
	jset(json_object_get(json_object_get(root, "TaskTemplate"), "ContainerSpec"),
	     "Configs", configs_of(c, &bad), &bad);
	jset(root, "Mode", mode_of(s, &bad), &bad);
	if (!s->job) {
		jset(root, "UpdateConfig", update_of(s, false, &bad), &bad);
		jset(root, "RollbackConfig", update_of(s, true, &bad), &bad);
	}
	jset(root, "EndpointSpec", endpoint_of(s, &bad), &bad);
	jset(root, "Labels", labels, &bad);
	out = jdump(root, bad, what);
	free(what);
	return out;
}
