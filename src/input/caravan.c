/*
 * input/caravan.c - the caravanserai/v1 reader: a Project document's
 * tree (input/yaml.h) to the model, walked against tables of fields
 * (input/schema.h), which convert and check each value where it sits, so
 * every finding carries the position and the field path of the node it
 * is about.  validate.c then checks each project as a whole.
 *
 * Invariant: a project enters the set only once its metadata.name is
 * known.  A document that is, or may be, a Project but cannot be named
 * (missing name, a near-miss apiVersion or kind) sets set->incomplete, so
 * nothing is pruned on its account.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "input/schema.h"
#include "placement.h"

/* ---- services ---- */

/* command and entrypoint are argv lists, as in Kubernetes (no shell parsing) */
static void f_command(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;

	s->has_command = get_strlist(c, v, &s->command);
}

static void f_entrypoint(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;

	s->has_entrypoint = get_strlist(c, v, &s->entrypoint);
}

/* env: [{name, value}] or [{name, valueFrom: {secretKeyRef: {name, key}}}] */

const char *input_check_secret_part(const char *s)
{
	if (!*s || *s == '.' || strchr(s, '/'))
		return "must be a plain file name (no '/', not starting with '.')";
	return NULL;
}

static const struct field secret_fields[] = {
	NAME("name", struct env_var, secret_name, input_check_secret_part, "secret name"),
	NAME("key", struct env_var, secret_key, input_check_secret_part, "secret key"),
	END
};

static const struct field value_from_fields[] = {
	MAP("secretKeyRef", secret_fields, true),
	END
};

static const struct field env_fields[] = {
	NAME("name", struct env_var, name, manifest_check_env_name,
	     "variable name"),
	STR("value", struct env_var, value, false),
	MAP("valueFrom", value_from_fields, false),
	END
};

static struct env_var *env_new(struct service *s, struct pos pos)
{
	struct env_var *e;

	GROW(s->env, s->capenv, s->nenv + 1);
	e = &s->env[s->nenv++];
	memset(e, 0, sizeof(*e));
	e->pos = pos;
	return e;
}

static void env_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct env_var *e = env_new(obj, n->pos);

	walk_map(c, n, env_fields, e);
	if (!e->name)
		e->name = xstrdup("");
	if (!ynode_is_null(ynode_map_get(n, "valueFrom"))) {
		/* a secret even when a part is missing: never fall back to "" */
		if (!e->secret_name)
			e->secret_name = xstrdup("");
		if (!e->secret_key)
			e->secret_key = xstrdup("");
		if (e->value)
			perr(c, n, "set either value or valueFrom, not both");
	} else if (!e->value) {
		e->value = xstrdup("");
	}
}

static const struct field mount_fields[] = {
	STR("name", struct mount, name, true),
	PATH("mountPath", struct mount, mount_path, true),
	BOOL("readOnly", struct mount, read_only),
	END
};

static void mount_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct service *s = obj;
	struct mount *m;

	GROW(s->mounts, s->capmounts, s->nmounts + 1);
	m = &s->mounts[s->nmounts++];
	memset(m, 0, sizeof(*m));
	m->pos = n->pos;
	walk_map(c, n, mount_fields, m);
	if (!m->name)
		m->name = xstrdup("");
	if (!m->mount_path)
		m->mount_path = xstrdup("");
}

/* ports: [{hostIP, hostPort, containerPort, protocol}] */

void read_host_ip(struct pctx *c, const struct ynode *v, void *obj)
{
	struct port *p = obj;
	unsigned char a[16];
	char out[INET6_ADDRSTRLEN];
	char *t = get_str(c, v);
	int af;

	if (!t || !*t)
		goto out;
	/* kept normalised, so that one address always compares equal */
	af = strchr(t, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(af, t, a) != 1 || !inet_ntop(af, a, out, sizeof(out)))
		perr(c, v, "'%.64s' is not an IP address", t);
	else
		p->host_ip = xstrdup(out);
out:
	free(t);
}

void read_protocol(struct pctx *c, const struct ynode *v, void *obj)
{
	static const char *const protos[] = { "tcp", "udp", "sctp" };
	struct port *p = obj;
	char *t = get_str(c, v);
	size_t i;

	for (i = 0; t && t[i]; i++)   /* TCP, as Kubernetes writes it, is tcp */
		t[i] = (char)tolower((unsigned char)t[i]);
	if (t && pick(c, v, t, protos, ARRAY_SIZE(protos), "protocol", &i))
		p->protocol = xstrdup(protos[i]);
	free(t);
}

static const struct field port_fields[] = {
	FN("hostIP", read_host_ip, false),
	INT("hostPort", struct port, host_port, 1, 65535, false),
	INT("containerPort", struct port, container_port, 1, 65535, true),
	FN("protocol", read_protocol, false),
	END
};

static void port_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct service *s = obj;
	struct port *p;

	GROW(s->ports, s->capports, s->nports + 1);
	p = &s->ports[s->nports++];
	memset(p, 0, sizeof(*p));
	p->pos = n->pos;
	walk_map(c, n, port_fields, p);
}

/* healthcheck: {test, interval, timeout, startPeriod, startInterval,
 * retries} */

void read_hc_test(struct pctx *c, const struct ynode *v, void *obj)
{
	struct healthcheck *h = obj;
	const char *first;
	char *t;

	if (v->type == Y_SCALAR) {
		if (!(t = get_str(c, v)))
			return;
		strvec_release(&h->test);
		if (strcmp(t, "NONE"))
			strvec_push(&h->test, "CMD-SHELL");
		strvec_push_nodup(&h->test, t);
		return;
	}
	if (!get_strlist(c, v, &h->test))
		return;
	first = h->test.n ? h->test.v[0] : "";
	if ((!strcmp(first, "NONE") && h->test.n == 1) ||
	    (!strcmp(first, "CMD") && h->test.n >= 2) ||
	    (!strcmp(first, "CMD-SHELL") && h->test.n == 2))
		return;
	perr(c, v, "must be [\"CMD\", program, args...], [\"CMD-SHELL\", "
	     "\"command line\"], [\"NONE\"] or a command line string");
}

void read_hc_start_interval(struct pctx *c, const struct ynode *v, void *obj)
{
	struct healthcheck *h = obj;

	if (get_duration(c, v, &h->start_interval_ms))
		h->start_interval_pos = v->pos;
}

static const struct field health_fields[] = {
	FN("test", read_hc_test, true),
	MS("interval", struct healthcheck, interval_ms),
	MS("timeout", struct healthcheck, timeout_ms),
	MS("startPeriod", struct healthcheck, start_period_ms),
	FN("startInterval", read_hc_start_interval, false),
	INT("retries", struct healthcheck, retries, 0, 1000000, false),
	END
};

static void f_health(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;

	s->health.present = true;
	s->health.pos = v->pos;
	walk_map(c, v, health_fields, &s->health);
}

/* dependsOn: [{service, condition, restart}] or [name] */

static void f_dep_condition(struct pctx *c, const struct ynode *v, void *obj)
{
	static const char *const conds[] = { "Started", "Healthy", "Completed" };
	char *t = get_str(c, v);
	size_t i;

	if (t && pick(c, v, t, conds, ARRAY_SIZE(conds), "condition", &i))
		((struct dependency *)obj)->condition = (enum dep_condition)i;
	free(t);
}

static const struct field dep_fields[] = {
	STR("service", struct dependency, service, true),
	FN("condition", f_dep_condition, false),
	BOOL("restart", struct dependency, restart),
	END
};

static void dep_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct service *s = obj;
	struct dependency *dp;

	GROW(s->deps, s->capdeps, s->ndeps + 1);
	dp = &s->deps[s->ndeps++];
	memset(dp, 0, sizeof(*dp));
	dp->pos = n->pos;
	dp->condition = DEP_STARTED;
	if (n->type == Y_SCALAR && !ynode_is_null(n))
		dp->service = get_str(c, n);
	else
		walk_map(c, n, dep_fields, dp);
	if (!dp->service)
		dp->service = xstrdup("");
}

void read_restart(struct pctx *c, const struct ynode *v, void *obj)
{
	static const char *const names[] = { "no", "on-failure", "unless-stopped",
					     "always" };
	struct service *s = obj;
	char *t = get_str(c, v);
	size_t i;

	if (!t)
		return;
	/* an unquoted `restart: false` is YAML 1.1's spelling of no */
	if (v->plain && !strcasecmp(t, "false"))
		s->restart = RESTART_NO;
	else if (pick(c, v, t, names, ARRAY_SIZE(names), "restart policy", &i))
		s->restart = (enum restart_policy)(i + RESTART_NO);
	free(t);
}

void read_pull_policy(struct pctx *c, const struct ynode *v, void *obj)
{
	static const char *const names[] = { "IfNotPresent", "Always", "Never" };
	struct service *s = obj;
	char *t = get_str(c, v);
	size_t i;

	if (t && pick(c, v, t, names, ARRAY_SIZE(names), "image pull policy", &i))
		s->pull_policy = (enum pull_policy)i;
	free(t);
}

static void f_svc_labels(struct pctx *c, const struct ynode *v, void *obj)
{
	get_kvlist(c, v, &((struct service *)obj)->labels, true);
}

/* Docker's minimum for a memory limit and a reservation, in bytes. */
#define MEMORY_MIN (6 * 1024 * 1024)
#define CPU_SHARES_MIN 2          /* the kernel's (cgroup v1) bounds */
#define CPU_SHARES_MAX 262144

/* t, the text of v, as a memory size of at least Docker's minimum */
static bool memory_of(struct pctx *c, const struct ynode *v, const char *t,
		      int64_t *out)
{
	int64_t n = 0;

	if (parse_memory(t, &n) < 0) {
		perr(c, v, "invalid memory size '%.64s' (write e.g. 256Mi, 512m or "
		     "1g)", t);
		return false;
	}
	if (n < MEMORY_MIN) {
		perr(c, v, "%.64s is below Docker's minimum of 6Mi", t);
		return false;
	}
	*out = n;
	return true;
}

bool get_memory(struct pctx *c, const struct ynode *v, int64_t *out)
{
	char *t = get_str(c, v);
	bool ok = t && memory_of(c, v, t, out);

	free(t);
	return ok;
}

void read_memory(struct pctx *c, const struct ynode *v, void *obj)
{
	get_memory(c, v, &((struct service *)obj)->memory_bytes);
}

void read_memory_reservation(struct pctx *c, const struct ynode *v, void *obj)
{
	get_memory(c, v, &((struct service *)obj)->memory_reservation_bytes);
}

/* Memory and swap together: a size, or -1 for no limit on swap.  0 is
 * refused rather than read as the Engine's default (twice the memory
 * limit), which leaving it out says. */
void read_memory_swap(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	char *t = get_str(c, v);

	if (!t)
		return;
	if (!strcmp(t, "-1"))
		s->memory_swap_bytes = -1;
	else if (!strcmp(t, "0"))
		perr(c, v, "a swap limit of 0: write -1 for no limit on swap, a "
		     "size of at least the memory limit, or leave it out (the "
		     "Engine's default, twice the memory limit)");
	else
		memory_of(c, v, t, &s->memory_swap_bytes);
	free(t);
}

void read_cpu_shares(struct pctx *c, const struct ynode *v, void *obj)
{
	long long n;

	if (get_int(c, v, CPU_SHARES_MIN, CPU_SHARES_MAX, &n))
		((struct service *)obj)->cpu_shares = (int)n;
}

/*
 * The Engine's rules across a service's memory settings, which it would
 * otherwise refuse at create: a swap limit needs a memory limit and is
 * not below it, a reservation is not above the limit.  Each finding is
 * at the node of the field that breaks the rule (swap_at, rsv_at; NULL
 * when not given), its path the current one (the service's) and key.
 */
void check_memory(struct pctx *c, const struct service *s,
		  const struct ynode *swap_at, const char *swap_key,
		  const struct ynode *rsv_at, const char *rsv_key)
{
	size_t o;

	if (swap_at && s->memory_swap_bytes) {
		o = path_key(c, swap_key);
		if (!s->memory_bytes)
			perr(c, swap_at, "a swap limit needs a memory limit (the "
			     "Engine refuses one without the other): set the "
			     "memory limit too");
		else if (s->memory_swap_bytes > 0 &&
			 s->memory_swap_bytes < s->memory_bytes)
			perr(c, swap_at, "%" PRId64 " bytes is below the memory "
			     "limit of %" PRId64 " (the swap limit counts memory "
			     "and swap together): write at least the memory limit, "
			     "or -1 for no limit on swap", s->memory_swap_bytes,
			     s->memory_bytes);
		path_pop(c, o);
	}
	if (rsv_at && s->memory_bytes && s->memory_reservation_bytes > s->memory_bytes) {
		o = path_key(c, rsv_key);
		perr(c, rsv_at, "a memory reservation of %" PRId64 " bytes is "
		     "above the memory limit of %" PRId64 " (the Engine refuses "
		     "it)", s->memory_reservation_bytes, s->memory_bytes);
		path_pop(c, o);
	}
}

/* "0.5", "2", "1.25" or "500m" (thousandths) to billionths of a CPU. */
static int parse_cpus(const char *s, int64_t *out)
{
	int64_t whole = 0, frac = 0, scale = 100000000;
	const char *p = s;

	for (; isdigit((unsigned char)*p); p++)
		if ((whole = whole * 10 + (*p - '0')) > 100000)
			return -1;
	if (*p == 'm' && !p[1] && p > s) {
		*out = whole * 1000000;
		return 0;
	}
	if (*p == '.' && isdigit((unsigned char)p[1]))
		for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
			frac += (*p - '0') * scale;
	if (*p || p == s)
		return -1;
	*out = whole * 1000000000 + frac;
	return 0;
}

bool get_cpus(struct pctx *c, const struct ynode *v, int64_t *out)
{
	char *t = get_str(c, v);
	int64_t n = 0;
	bool ok = t && !parse_cpus(t, &n) && n > 0;

	if (t && !ok)
		perr(c, v, "invalid cpus '%.64s' (write e.g. \"0.5\", \"2\" or "
		     "\"500m\")", t);
	if (ok)
		*out = n;
	free(t);
	return ok;
}

void read_cpus(struct pctx *c, const struct ynode *v, void *obj)
{
	get_cpus(c, v, &((struct service *)obj)->nano_cpus);
}

static const struct field resource_fields[] = {
	FN("memory", read_memory, false),
	FN("cpus", read_cpus, false),
	FN("memoryReservation", read_memory_reservation, false),
	FN("memorySwap", read_memory_swap, false),
	FN("cpuShares", read_cpu_shares, false),
	FN("cpusReservation", read_cpus_reservation, false),
	END
};

static const struct field service_net_fields[] = {
	FN("name", read_net_name, true),
	FN("aliases", read_net_aliases, false),
	END
};

/* networks: [back, {name: front, aliases: [www]}] */
static void service_net_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct service_net *sn = service_add_net(obj, n);

	if (n->type == Y_SCALAR)
		read_net_name(c, n, sn);
	else
		walk_map(c, n, service_net_fields, sn);
	if (!sn->name)
		sn->name = xstrdup("");
}

static const struct field service_fields[] = {
	NAME("name", struct service, name, manifest_check_object_name,
	     "service name"),
	NAME("image", struct service, image, manifest_check_image,
	     "image reference"),
	FN("imagePullPolicy", read_pull_policy, false),
	FN("command", f_command, false),
	FN("entrypoint", f_entrypoint, false),
	PATH("workingDir", struct service, working_dir, false),
	STR("user", struct service, user, false),
	LIST("env", env_item, false),
	LIST("volumeMounts", mount_item, false),
	LIST("ports", port_item, false),
	FN("healthcheck", f_health, false),
	LIST("dependsOn", dep_item, false),
	FN("restart", read_restart, false),
	MS("stopGracePeriod", struct service, stop_grace_ms),
	FN("labels", f_svc_labels, false),
	MAP("resources", resource_fields, false),
	INT("restartRetries", struct service, restart_retries, 0, 1000000, false),
	FN("capAdd", read_cap_add, false),
	FN("capDrop", read_cap_drop, false),
	FN("privileged", read_privileged, false),
	BOOL("readOnly", struct service, read_only),
	FN("tmpfs", read_tmpfs, false),
	FN("hostname", read_hostname, false),
	FN("init", read_init, false),
	FN("stopSignal", read_stop_signal, false),
	FN("extraHosts", read_extra_hosts, false),
	FN("dns", read_dns, false),
	FN("shmSize", read_shm_size, false),
	FN("sysctls", read_sysctls, false),
	FN("ulimits", read_ulimits, false),
	FN("securityOpt", read_security_opt, false),
	FN("expose", read_expose, false),
	FN("devices", read_devices, false),
	FN("logging", read_logging, false),
	FN("aliases", read_aliases, false),
	LIST("networks", service_net_item, false),
	BOOL("tty", struct service, tty),
	BOOL("stdinOpen", struct service, stdin_open),
	FN("domainname", read_domainname, false),
	FN("pidsLimit", read_pids_limit, false),
	FN("oomScoreAdj", read_oom_score_adj, false),
	FN("groupAdd", read_group_add, false),
	FN("dnsSearch", read_dns_search, false),
	FN("dnsOptions", read_dns_opt, false),
	FN("replicas", read_replicas, false),
	FN("mode", read_mode, false),
	FN("endpointMode", read_endpoint_mode, false),
	FN("placement", read_service_placement, false),
	FN("updateConfig", read_update_config, false),
	FN("rollbackConfig", read_rollback_config, false),
	END
};

static void service_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct project *p = obj;
	const struct ynode *res = n->type == Y_MAP ? ynode_map_get(n, "resources") : NULL;
	struct service *s;

	GROW(p->services, p->capservices, p->nservices + 1);
	s = &p->services[p->nservices++];
	memset(s, 0, sizeof(*s));
	s->pos = n->pos;
	s->stop_grace_ms = -1;
	if (walk_map(c, n, service_fields, s) && s->restart_retries &&
	    s->restart != RESTART_ON_FAILURE) {
		size_t o = path_key(c, "restartRetries");

		perr(c, ynode_map_get(n, "restartRetries"), "only with restart: "
		     "on-failure");
		path_pop(c, o);
	}
	if (res && res->type == Y_MAP)
		check_memory(c, s, ynode_map_get(res, "memorySwap"),
			     "resources.memorySwap",
			     ynode_map_get(res, "memoryReservation"),
			     "resources.memoryReservation");
	if (s->nnets && s->aliases.n) {
		size_t o = path_key(c, "aliases");

		perr(c, ynode_map_get(n, "aliases"), "with networks, give each "
		     "network its aliases there (aliases alone are the default "
		     "network's)");
		path_pop(c, o);
	}
	if (!s->name)
		s->name = xstrdup("");
	if (!s->image)
		s->image = xstrdup("");
}

/* ---- volumes and ingress ---- */

static const struct field volume_fields[] = {
	NAME("name", struct volume, name, manifest_check_object_name,
	     "volume name"),
	SKIP("type", false),
	STR("hostPath", struct volume, host_path, false),
	SKIP("path", false),
	STR("externalName", struct volume, external_name, false),
	END
};

static void volume_type(struct pctx *c, const struct ynode *type,
			const struct ynode *hp, struct volume *v)
{
	static const char *const names[] = { "Ephemeral", "Managed", "HostPath", "File",
					     "External" };
	char *t;
	size_t i, o;

	/* no type: HostPath when a hostPath is given, else Managed (kept) */
	v->type = !ynode_is_null(hp) ? VOLUME_HOSTPATH : VOLUME_MANAGED;
	if (ynode_is_null(type))
		return;
	o = path_key(c, "type");
	if ((t = get_str(c, type)) &&
	    pick(c, type, t, names, ARRAY_SIZE(names), "volume type", &i))
		v->type = (enum volume_type)i;
	path_pop(c, o);
	free(t);
}

/*
 * A File volume: `path`, relative to the manifest, names a file or a
 * directory of the same source (commit or directory), mounted read-only
 * from cara's content-addressed copy (input/repofile.c).
 */
static void file_volume(struct pctx *c, const struct ynode *n, struct volume *v)
{
	const struct ynode *pn = ynode_map_get(n, "path");
	char *rel;
	size_t o = path_key(c, "path");

	if (v->type != VOLUME_FILE) {
		if (!ynode_is_null(pn))
			perr(c, pn, "only a File volume has a path (this one is %s)",
			     volume_type_name(v->type));
	} else if (ynode_is_null(pn)) {
		perr(c, n, "required for a File volume");
	} else if ((rel = get_str(c, pn))) {
		input_file_volume(c, pn, v, rel);
		free(rel);
	}
	path_pop(c, o);
}

/*
 * An External volume: a Docker volume made outside cara, mounted by its
 * own name (externalName, else name) and never created or removed.
 */
static void external_volume(struct pctx *c, const struct ynode *n, struct volume *v)
{
	const struct ynode *en = ynode_map_get(n, "externalName");
	const char *why;
	size_t o = path_key(c, "externalName");

	if (v->type != VOLUME_EXTERNAL) {
		if (!ynode_is_null(en))
			perr(c, en, "only an External volume has an externalName "
			     "(this one is %s)", volume_type_name(v->type));
	} else {
		if (!v->external_name && v->name)
			v->external_name = xstrdup(v->name);
		if (v->external_name &&
		    (why = volume_check_external_name(v->external_name)))
			perr(c, ynode_is_null(en) ? n : en, "external volume "
			     "'%.64s': %s", v->external_name, why);
	}
	path_pop(c, o);
}

static void volume_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct project *p = obj;
	const struct ynode *hp = ynode_map_get(n, "hostPath");
	struct volume *v;
	char *why = NULL;
	size_t o;

	GROW(p->volumes, p->capvolumes, p->nvolumes + 1);
	v = &p->volumes[p->nvolumes++];
	memset(v, 0, sizeof(*v));
	v->pos = n->pos;
	if (walk_map(c, n, volume_fields, v))
		volume_type(c, ynode_map_get(n, "type"), hp, v);
	if (!v->name)
		v->name = xstrdup("");
	o = path_key(c, "hostPath");
	if (v->type == VOLUME_HOSTPATH && ynode_is_null(hp))
		perr(c, n, "required for a HostPath volume");
	else if (v->type != VOLUME_HOSTPATH && !ynode_is_null(hp))
		perr(c, hp, "only a HostPath volume has a hostPath (this one is "
		     "%s)", volume_type_name(v->type));
	else if (v->type == VOLUME_HOSTPATH && v->host_path &&
		 (why = manifest_check_host_path(v->host_path, c->opts)))
		perr(c, hp, "%s", why);
	path_pop(c, o);
	free(why);
	file_volume(c, n, v);
	external_volume(c, n, v);
}

static const struct field network_fields[] = {
	NAME("name", struct network, name, manifest_check_object_name,
	     "network name"),
	BOOL("external", struct network, external),
	STR("externalName", struct network, external_name, false),
	BOOL("internal", struct network, internal),
	END
};

/*
 * spec.networks: the default one (with settings) and others, each a
 * network cara makes, or External: a Docker network made outside cara,
 * joined by its own name (externalName, else name), never made or removed.
 */
static void network_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct project *p = obj;
	const struct ynode *en = ynode_map_get(n, "externalName");
	struct network *nw;
	const char *why;
	size_t o;

	GROW(p->networks, p->capnetworks, p->nnetworks + 1);
	nw = &p->networks[p->nnetworks++];
	memset(nw, 0, sizeof(*nw));
	nw->pos = n->pos;
	walk_map(c, n, network_fields, nw);
	if (!nw->name)
		nw->name = xstrdup("");
	o = path_key(c, "externalName");
	if (!nw->external && !ynode_is_null(en))
		perr(c, en, "only an external network has an externalName");
	if (nw->external && !nw->external_name)
		nw->external_name = xstrdup(nw->name);
	if (nw->external && (why = network_check_external_name(nw->external_name)))
		perr(c, ynode_is_null(en) ? n : en, "external network '%.64s': %s",
		     nw->external_name, why);
	path_pop(c, o);
	if (nw->external && nw->internal) {
		o = path_key(c, "internal");
		perr(c, ynode_map_get(n, "internal"), "an external network's "
		     "settings are its own: internal is for the networks cara makes");
		path_pop(c, o);
	}
}

static void f_scope(struct pctx *c, const struct ynode *v, void *obj)
{
	struct ingress *in = obj;

	if ((in->scope = get_str(c, v)) && strcmp(in->scope, "Internal") &&
	    strcmp(in->scope, "Public"))
		pwarn(c, v, "unknown scope '%.64s' (known: Internal, Public)",
		      in->scope);
}

static const struct field target_fields[] = {
	STR("service", struct ingress, target_service, true),
	INT("port", struct ingress, target_port, 1, 65535, true),
	END
};

static const struct field access_fields[] = {
	FN("scope", f_scope, false),
	END
};

static const struct field ingress_fields[] = {
	NAME("name", struct ingress, name, manifest_check_object_name,
	     "ingress name"),
	NAME("host", struct ingress, host, manifest_check_hostname, "host"),
	MAP("target", target_fields, true),
	MAP("access", access_fields, false),
	END
};

void read_ingress_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct project *p = obj;
	const char *env = c->opts ? c->opts->ingress_env : NULL;
	const char *dom = c->opts ? c->opts->base_domain : NULL;
	struct ingress *in;

	GROW(p->ingress, p->capingress, p->ningress + 1);
	in = &p->ingress[p->ningress++];
	memset(in, 0, sizeof(*in));
	in->pos = n->pos;
	walk_map(c, n, ingress_fields, in);
	if (!in->name)
		in->name = xstrdup("");
	if (!in->host)
		in->host = xstrdup("");
	if (!in->target_service)
		in->target_service = xstrdup("");
	/* a host without a dot is short: {host}.{environment}.{baseDomain} */
	if (!strchr(in->host, '.') && in->host[0] && env && *env && dom && *dom)
		in->fqdn = xasprintf("%s.%s.%s", in->host, env, dom);
	else
		in->fqdn = xstrdup(in->host);
}

/* ---- the project document ---- */

static void f_services(struct pctx *c, const struct ynode *v, void *obj)
{
	walk_list(c, v, service_item, obj);
	if (v->type == Y_SEQ && !v->n)
		perr(c, v, "a project needs at least one service");
}

void read_expire_at(struct pctx *c, const struct ynode *v, void *obj)
{
	struct project *p = obj;
	char *t = get_str(c, v);

	if (t && parse_rfc3339(t, &p->expire_at) < 0)
		perr(c, v, "'%.64s' is not an RFC 3339 time (write e.g. "
		     "2026-12-01T00:00:00Z)", t);
	else if (t)
		p->has_expire = true;
	free(t);
}

/* spec.placement (a compose file's x-cara.placement): placement.h */
static void f_placement_node(struct pctx *c, const struct ynode *v, void *obj)
{
	struct project_placement *pl = obj;
	const char *why;
	char *t = get_str(c, v);

	if (!t)
		return;
	if ((why = placement_check_node(t))) {
		perr(c, v, "invalid node name '%.64s%s': %s", t,
		     strlen(t) > 64 ? "..." : "", why);
		free(t);
		return;
	}
	free(pl->node);
	pl->node = t;
}

static void f_placement_selector(struct pctx *c, const struct ynode *v, void *obj)
{
	struct project_placement *pl = obj;
	const char *why;
	size_t i, o;

	get_kvlist(c, v, &pl->selector, false);
	for (i = 0; i < pl->selector.n; i++) {
		const struct kv *kv = &pl->selector.v[i];
		struct ynode at = { .pos = kv->pos };

		o = path_key(c, kv->key);
		if ((why = placement_check_label_key(kv->key)))
			perr(c, &at, "invalid label key '%.64s': %s", kv->key, why);
		else if ((why = placement_check_label_value(kv->value)))
			perr(c, &at, "invalid label value '%.64s': %s", kv->value, why);
		path_pop(c, o);
	}
}

static const struct field placement_fields[] = {
	FN("node", f_placement_node, false),
	FN("nodeSelector", f_placement_selector, false),
	END
};

void read_placement(struct pctx *c, const struct ynode *v, void *obj)
{
	struct project_placement *pl = &((struct project *)obj)->placement;
	size_t errors = c->d->nerrors + c->hidden_errors;

	pl->present = true;
	pl->pos = v->pos;
	if (!walk_map(c, v, placement_fields, pl))
		return;
	/* an empty placement would run everywhere: say so rather than guess */
	if (!pl->node && !pl->selector.n && c->d->nerrors + c->hidden_errors == errors)
		perr(c, v, "names no node and no nodeSelector (leave placement "
		     "out to run the project on every host)");
}

static void f_project_name(struct pctx *c, const struct ynode *v, void *obj)
{
	struct project *p = obj;
	const char *why;
	char *t = get_str(c, v);

	if (!t)
		return;
	if ((why = manifest_check_project_name(t)))
		perr(c, v, "invalid project name '%.64s%s': %s", t,
		     strlen(t) > 64 ? "..." : "", why);
	if (*t)
		p->name = t;
	else
		free(t);
}

void read_project_labels(struct pctx *c, const struct ynode *v, void *obj)
{
	get_kvlist(c, v, &((struct project *)obj)->labels, false);
}

void read_project_annotations(struct pctx *c, const struct ynode *v,
			      void *obj)
{
	get_kvlist(c, v, &((struct project *)obj)->annotations, false);
}

static const struct field metadata_fields[] = {
	FN("name", f_project_name, true),
	FN("labels", read_project_labels, false),
	FN("annotations", read_project_annotations, false),
	END
};

static const struct field spec_fields[] = {
	FN("services", f_services, true),
	LIST("volumes", volume_item, false),
	LIST("networks", network_item, false),
	LIST("ingress", read_ingress_item, false),
	FN("expireAt", read_expire_at, false),
	FN("placement", read_placement, false),
	END
};

static const struct field top_fields[] = {
	SKIP("apiVersion", true),
	SKIP("kind", true),
	MAP("metadata", metadata_fields, true),
	MAP("spec", spec_fields, true),
	END
};

static void convert_project(struct pctx *c, const struct ynode *root)
{
	struct project p;

	memset(&p, 0, sizeof(p));
	p.file = xstrdup(c->file);
	p.pos = root->pos;
	p.valid = true;
	c->bad = false;
	buf_reset(&c->path);
	walk_map(c, root, top_fields, &p);
	reader_add_project(c, &p);
}

static const char *scalar_or_null(const struct ynode *n)
{
	return n && n->type == Y_SCALAR && !ynode_is_null(n) ? n->str : NULL;
}

/*
 * Which documents are projects.  Other kinds are skipped with a warning;
 * a document that claims caravanserai but is not a v1 Project, or that
 * looks like a Project without saying so, is an error that also stops
 * pruning: a typo in `kind` must not make a project look deleted.
 */
void caravan_read_document(struct pctx *c, const struct ynode *root)
{
	const struct ynode *avn = ynode_map_get(root, "apiVersion"), *kn = ynode_map_get(root, "kind");
	const char *av = scalar_or_null(avn), *kind = scalar_or_null(kn);
	bool near_project = kind && manifest_edit_distance(kind, "Project", 2) <= 2;

	buf_reset(&c->path);
	if (ynode_is_null(root))
		return;
	if (root->type != Y_MAP) {
		file_error(c, root->pos.line, root->pos.col, "a manifest document "
			   "must be a mapping, not %s", ynode_type_name(root));
		return;
	}
	if (av && !strcmp(av, "caravanserai/v1") && kind && !strcmp(kind, "Project")) {
		convert_project(c, root);
		return;
	}
	if (av && !strcmp(av, "caravanserai/v1")) {
		path_key(c, "kind");
		if (kind)
			perr(c, kn, "kind '%.64s' is not known in caravanserai/v1: "
			     "the only kind is 'Project'", kind);
		else
			perr(c, kn ? kn : root, "required");
	} else if (av && !strncmp(av, "caravanserai/", 13)) {
		path_key(c, "apiVersion");
		perr(c, avn, "apiVersion '%.64s' is not supported: cara reads "
		     "caravanserai/v1", av);
	} else if (av && near_project &&
		   (strcasestr(av, "caravan") || !strcasecmp(av, "v1") ||
		    manifest_edit_distance(av, "caravanserai/v1", 3) <= 3)) {
		/* a typo must not make the project look deleted and pruned */
		path_key(c, "apiVersion");
		perr(c, avn, "apiVersion '%.64s' is not 'caravanserai/v1' (the "
		     "spelling is exact, in lower case)", av);
	} else if (!av && (near_project || (!kind && ynode_map_get(root, "metadata") &&
					    ynode_map_get(root, "spec")))) {
		path_key(c, "apiVersion");
		perr(c, root, "required: a Project starts with apiVersion: "
		     "caravanserai/v1 and kind: Project");
	} else {
		pwarn(c, root, "document skipped: apiVersion '%.64s', kind '%.64s' "
		      "is not a caravanserai/v1 Project", av ? av : "",
		      kind ? kind : "");
		return;
	}
	c->set->incomplete = true;
	buf_reset(&c->path);
}

