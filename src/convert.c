/*
 * convert.c - the model (model.h) back to caravanserai/v1 YAML.
 *
 * The field names are input/caravan.c's and input/hostcfg.c's: a field
 * added to the model is added here too, or `cara convert` silently drops
 * it (tests/unit/test-convert.c compares every field after a round
 * trip).  Mapping keys are written as they are (the readers do not
 * interpolate keys); every value has its '$' doubled, since the readers
 * interpolate values and "$$" is a literal '$'.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "yaml_out.h"

/* Indentation is two spaces a level; lists are written at the level of
 * their key ("key:\n  - item"). */
static void indent(struct buf *out, int level)
{
	int i;

	for (i = 0; i < level; i++)
		buf_puts(out, "  ");
}

static void value(struct buf *out, const char *s)
{
	struct buf t = BUF_INIT;
	const char *p;

	if (!strchr(s, '$')) {
		yaml_out_scalar(out, s);
		return;
	}
	for (p = s; *p; p++) {
		if (*p == '$')
			buf_putc(&t, '$');
		buf_putc(&t, *p);
	}
	yaml_out_scalar(out, buf_cstr(&t));
	buf_release(&t);
}

/* "key:" on its own line, for a nested mapping or list to follow. */
static void key(struct buf *out, int level, const char *k)
{
	indent(out, level);
	yaml_out_scalar(out, k);
	buf_putc(out, ':');
}

static void kv_str(struct buf *out, int level, const char *k, const char *v)
{
	if (!v)
		return;
	key(out, level, k);
	buf_putc(out, ' ');
	value(out, v);
	buf_putc(out, '\n');
}

static void kv_int(struct buf *out, int level, const char *k, int64_t v)
{
	key(out, level, k);
	buf_printf(out, " %" PRId64 "\n", v);
}

static void kv_true(struct buf *out, int level, const char *k, bool v)
{
	if (v) {
		key(out, level, k);
		buf_puts(out, " true\n");
	}
}

/* The start of a list item: "- " at level, its fields at level + 1. */
static void item(struct buf *out, int level)
{
	indent(out, level);
	buf_puts(out, "- ");
}

static void list(struct buf *out, int level, const char *k,
		 const struct strvec *v, bool even_empty)
{
	size_t i;

	if (!v->n && !even_empty)
		return;
	key(out, level, k);
	if (!v->n) {
		buf_puts(out, " []\n");
		return;
	}
	buf_putc(out, '\n');
	for (i = 0; i < v->n; i++) {
		item(out, level);
		value(out, v->v[i]);
		buf_putc(out, '\n');
	}
}

static void map(struct buf *out, int level, const char *k,
		const struct kvlist *l)
{
	size_t i;

	if (!l->n)
		return;
	key(out, level, k);
	buf_putc(out, '\n');
	for (i = 0; i < l->n; i++) {
		key(out, level + 1, l->v[i].key);
		buf_putc(out, ' ');
		value(out, l->v[i].value);
		buf_putc(out, '\n');
	}
}

/* Milliseconds the way parse_duration_ms reads them: "1h2m3s4ms", "0s". */
static void kv_duration(struct buf *out, int level, const char *k, int64_t ms)
{
	static const struct { const char *unit; int64_t ms; } units[] = {
		{ "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 },
	};
	size_t i;

	key(out, level, k);
	buf_putc(out, ' ');
	if (!ms)
		buf_puts(out, "0s");
	for (i = 0; i < ARRAY_SIZE(units); i++)
		if (ms >= units[i].ms) {
			buf_printf(out, "%" PRId64 "%s", ms / units[i].ms,
				   units[i].unit);
			ms %= units[i].ms;
		}
	buf_putc(out, '\n');
}

/* Bytes as parse_memory reads them: "256Mi", "1Gi", or a plain count. */
static void kv_size(struct buf *out, int level, const char *k, int64_t bytes)
{
	char *t;

	if (bytes && bytes % (1 << 30) == 0)
		t = xasprintf("%" PRId64 "Gi", bytes >> 30);
	else if (bytes && bytes % (1 << 20) == 0)
		t = xasprintf("%" PRId64 "Mi", bytes >> 20);
	else if (bytes && bytes % 1024 == 0)
		t = xasprintf("%" PRId64 "Ki", bytes >> 10);
	else
		t = xasprintf("%" PRId64, bytes);
	kv_str(out, level, k, t);
	free(t);
}

/* Billionths of a CPU as a decimal: "0.5", "2", "1.25". */
static void kv_cpus(struct buf *out, int level, const char *k, int64_t nano)
{
	char *t;
	size_t n;

	if (nano % 1000000000 == 0) {
		t = xasprintf("%" PRId64, nano / 1000000000);
	} else {
		t = xasprintf("%" PRId64 ".%09" PRId64, nano / 1000000000,
			      nano % 1000000000);
		for (n = strlen(t); t[n - 1] == '0'; n--)
			t[n - 1] = '\0';
	}
	kv_str(out, level, k, t);
	free(t);
}

static void write_env(struct buf *out, int level, const struct service *s)
{
	size_t i;

	if (!s->nenv)
		return;
	key(out, level, "env");
	buf_putc(out, '\n');
	for (i = 0; i < s->nenv; i++) {
		const struct env_var *e = &s->env[i];

		item(out, level);
		buf_puts(out, "name: ");
		value(out, e->name);
		buf_putc(out, '\n');
		if (e->secret_name) {
			key(out, level + 1, "valueFrom");
			buf_putc(out, '\n');
			key(out, level + 2, "secretKeyRef");
			buf_putc(out, '\n');
			kv_str(out, level + 3, "name", e->secret_name);
			kv_str(out, level + 3, "key", e->secret_key);
		} else {
			kv_str(out, level + 1, "value", e->value ? e->value : "");
		}
	}
}

static void write_ports(struct buf *out, int level, const struct service *s)
{
	size_t i;

	if (!s->nports)
		return;
	key(out, level, "ports");
	buf_putc(out, '\n');
	for (i = 0; i < s->nports; i++) {
		const struct port *pt = &s->ports[i];

		item(out, level);
		buf_printf(out, "containerPort: %d\n", pt->container_port);
		if (pt->host_port)
			kv_int(out, level + 1, "hostPort", pt->host_port);
		kv_str(out, level + 1, "hostIP", pt->host_ip);
		kv_str(out, level + 1, "protocol", pt->protocol);
	}
}

static void write_mounts(struct buf *out, int level, const struct service *s)
{
	size_t i;

	if (!s->nmounts)
		return;
	key(out, level, "volumeMounts");
	buf_putc(out, '\n');
	for (i = 0; i < s->nmounts; i++) {
		item(out, level);
		buf_puts(out, "name: ");
		value(out, s->mounts[i].name);
		buf_putc(out, '\n');
		kv_str(out, level + 1, "mountPath", s->mounts[i].mount_path);
		kv_true(out, level + 1, "readOnly", s->mounts[i].read_only);
	}
}

static void write_health(struct buf *out, int level, const struct healthcheck *h)
{
	if (!h->present)
		return;
	key(out, level, "healthcheck");
	buf_putc(out, '\n');
	list(out, level + 1, "test", &h->test, true);
	if (h->interval_ms)
		kv_duration(out, level + 1, "interval", h->interval_ms);
	if (h->timeout_ms)
		kv_duration(out, level + 1, "timeout", h->timeout_ms);
	if (h->start_period_ms)
		kv_duration(out, level + 1, "startPeriod", h->start_period_ms);
	if (h->start_interval_ms)
		kv_duration(out, level + 1, "startInterval", h->start_interval_ms);
	if (h->retries)
		kv_int(out, level + 1, "retries", h->retries);
}

static void write_resources(struct buf *out, int level, const struct service *s)
{
	if (!s->memory_bytes && !s->nano_cpus && !s->memory_reservation_bytes &&
	    !s->memory_swap_bytes && !s->cpu_shares && !s->nano_cpus_reservation)
		return;
	key(out, level, "resources");
	buf_putc(out, '\n');
	if (s->memory_bytes)
		kv_size(out, level + 1, "memory", s->memory_bytes);
	if (s->nano_cpus)
		kv_cpus(out, level + 1, "cpus", s->nano_cpus);
	if (s->memory_reservation_bytes)
		kv_size(out, level + 1, "memoryReservation",
			s->memory_reservation_bytes);
	if (s->memory_swap_bytes)
		kv_size(out, level + 1, "memorySwap", s->memory_swap_bytes);
	if (s->cpu_shares)
		kv_int(out, level + 1, "cpuShares", s->cpu_shares);
	if (s->nano_cpus_reservation)
		kv_cpus(out, level + 1, "cpusReservation", s->nano_cpus_reservation);
}

static void write_deps(struct buf *out, int level, const struct service *s)
{
	static const char *const conds[] = { "Started", "Healthy", "Completed" };
	size_t i;

	if (!s->ndeps)
		return;
	key(out, level, "dependsOn");
	buf_putc(out, '\n');
	for (i = 0; i < s->ndeps; i++) {
		const struct dependency *d = &s->deps[i];

		item(out, level);
		if (d->condition == DEP_STARTED && !d->restart) {
			value(out, d->service);
			buf_putc(out, '\n');
			continue;
		}
		buf_puts(out, "service: ");
		value(out, d->service);
		buf_putc(out, '\n');
		if (d->condition != DEP_STARTED)
			kv_str(out, level + 1, "condition", conds[d->condition]);
		kv_true(out, level + 1, "restart", d->restart);
	}
}

static void write_ulimits(struct buf *out, int level, const struct service *s)
{
	size_t i;

	if (!s->nulimits)
		return;
	key(out, level, "ulimits");
	buf_putc(out, '\n');
	for (i = 0; i < s->nulimits; i++) {
		const struct ulimit *u = &s->ulimits[i];

		if (u->soft == u->hard) {
			kv_int(out, level + 1, u->name, u->soft);
			continue;
		}
		key(out, level + 1, u->name);
		buf_putc(out, '\n');
		kv_int(out, level + 2, "soft", u->soft);
		kv_int(out, level + 2, "hard", u->hard);
	}
}

static void write_policy(struct buf *out, int level, const char *k,
			 const struct update_policy *u)
{
	bool any = u->parallelism >= 0 || u->delay_ms >= 0 || u->monitor_ms >= 0 ||
		   *u->order || *u->failure_action;

	if (!u->set)
		return;
	key(out, level, k);
	buf_puts(out, any ? "\n" : " {}\n");
	if (u->parallelism >= 0)
		kv_int(out, level + 1, "parallelism", u->parallelism);
	if (u->delay_ms >= 0)
		kv_duration(out, level + 1, "delay", u->delay_ms);
	if (u->monitor_ms >= 0)
		kv_duration(out, level + 1, "monitor", u->monitor_ms);
	if (*u->order)
		kv_str(out, level + 1, "order", u->order);
	if (*u->failure_action)
		kv_str(out, level + 1, "failureAction", u->failure_action);
}

/* placement.preferences: "- spread: node.labels.zone", in order */
static void write_preferences(struct buf *out, int level, const struct strvec *p)
{
	size_t i;

	key(out, level, "preferences");
	buf_putc(out, '\n');
	for (i = 0; i < p->n; i++) {
		item(out, level);
		yaml_out_scalar(out, "spread");
		buf_puts(out, ": ");
		value(out, p->v[i]);
		buf_putc(out, '\n');
	}
}

/* What only a cluster backend honours (input/cluster.c). */
static void write_cluster(struct buf *out, int level, const struct service *s)
{
	if (s->has_replicas)
		kv_int(out, level, "replicas", s->replicas);
	if (s->global)
		kv_str(out, level, "mode", "Global");
	kv_str(out, level, "endpointMode", s->endpoint_mode);
	if (s->constraints.n || s->preferences.n) {
		key(out, level, "placement");
		buf_putc(out, '\n');
		if (s->constraints.n)
			list(out, level + 1, "constraints", &s->constraints, false);
		if (s->preferences.n)
			write_preferences(out, level + 1, &s->preferences);
	}
	write_policy(out, level, "updateConfig", &s->update);
	write_policy(out, level, "rollbackConfig", &s->rollback);
}

static void write_service_nets(struct buf *out, int level, const struct service *s)
{
	size_t i;

	if (!s->nnets)
		return;
	key(out, level, "networks");
	buf_putc(out, '\n');
	for (i = 0; i < s->nnets; i++) {
		item(out, level);
		buf_puts(out, "name: ");
		value(out, s->nets[i].name);
		buf_putc(out, '\n');
		list(out, level + 1, "aliases", &s->nets[i].aliases, false);
	}
}

static void write_service(struct buf *out, int level, const struct service *s)
{
	static const char *const pulls[] = { "IfNotPresent", "Always", "Never" };

	item(out, level);
	buf_puts(out, "name: ");
	value(out, s->name);
	buf_putc(out, '\n');
	level++;
	if (s->build) {
		/* a Project has no build: the image cara builds, named */
		const char *c = s->build->context->source_path;

		indent(out, level);
		buf_puts(out, "# built by cara from the compose build context '");
		for (c = *c ? c : "."; *c; c++)   /* a path may hold a newline */
			buf_putc(out, (unsigned char)*c < 0x20 || *c == 0x7f ? '?' : *c);
		buf_puts(out, "': push it to a registry and name it here\n");
	}
	kv_str(out, level, "image", s->image);
	if (s->pull_policy != PULL_IF_NOT_PRESENT)
		kv_str(out, level, "imagePullPolicy", pulls[s->pull_policy]);
	if (s->has_command)
		list(out, level, "command", &s->command, true);
	if (s->has_entrypoint)
		list(out, level, "entrypoint", &s->entrypoint, true);
	kv_str(out, level, "workingDir", s->working_dir);
	kv_str(out, level, "user", s->user);
	write_env(out, level, s);
	write_mounts(out, level, s);
	write_ports(out, level, s);
	write_health(out, level, &s->health);
	write_deps(out, level, s);
	if (s->restart != RESTART_DEFAULT)
		kv_str(out, level, "restart", restart_policy_name(s->restart));
	if (s->restart_retries)
		kv_int(out, level, "restartRetries", s->restart_retries);
	if (s->stop_grace_ms >= 0)
		kv_duration(out, level, "stopGracePeriod", s->stop_grace_ms);
	map(out, level, "labels", &s->labels);
	write_resources(out, level, s);
	list(out, level, "capAdd", &s->cap_add, false);
	list(out, level, "capDrop", &s->cap_drop, false);
	kv_true(out, level, "privileged", s->privileged);
	kv_true(out, level, "readOnly", s->read_only);
	list(out, level, "tmpfs", &s->tmpfs, false);
	kv_str(out, level, "hostname", s->hostname);
	if (s->has_init) {
		key(out, level, "init");
		buf_puts(out, s->init ? " true\n" : " false\n");
	}
	kv_str(out, level, "stopSignal", s->stop_signal);
	list(out, level, "extraHosts", &s->extra_hosts, false);
	list(out, level, "dns", &s->dns, false);
	if (s->shm_bytes)
		kv_size(out, level, "shmSize", s->shm_bytes);
	map(out, level, "sysctls", &s->sysctls);
	write_ulimits(out, level, s);
	list(out, level, "securityOpt", &s->security_opt, false);
	list(out, level, "expose", &s->expose, false);
	list(out, level, "aliases", &s->aliases, false);
	write_service_nets(out, level, s);
	list(out, level, "devices", &s->devices, false);
	write_cluster(out, level, s);
	if (s->log_driver) {
		key(out, level, "logging");
		buf_putc(out, '\n');
		kv_str(out, level + 1, "driver", s->log_driver);
		map(out, level + 1, "options", &s->log_opts);
	}
	kv_true(out, level, "tty", s->tty);
	kv_true(out, level, "stdinOpen", s->stdin_open);
	kv_str(out, level, "domainname", s->domainname);
	if (s->pids_limit)
		kv_int(out, level, "pidsLimit", s->pids_limit);
	if (s->has_oom_score_adj)
		kv_int(out, level, "oomScoreAdj", s->oom_score_adj);
	list(out, level, "groupAdd", &s->group_add, false);
	list(out, level, "dnsSearch", &s->dns_search, false);
	list(out, level, "dnsOptions", &s->dns_opt, false);
}

/* path (of the source) relative to the directory of file (of the source
 * too), as a File volume's path is read: "conf", "../shared/x", "."
 * (caller frees). */
static char *path_from(const char *file, const char *path)
{
	const char *slash = strrchr(file, '/');
	size_t n = slash ? (size_t)(slash - file) : 0;
	struct buf b = BUF_INIT;

	/* up from the file's directory until it holds path */
	while (n && !(strncmp(path, file, n) == 0 &&
		      (path[n] == '/' || path[n] == '\0'))) {
		buf_puts(&b, "../");
		while (n && file[n - 1] != '/')
			n--;
		if (n)
			n--;          /* the '/' before the component */
	}
	path += n;
	if (*path == '/')
		path++;
	if (*path)
		buf_puts(&b, path);
	else if (!b.len)
		buf_putc(&b, '.');
	else
		b.ptr[--b.len] = '\0';   /* "../" to ".." */
	return buf_detach(&b);
}

static void write_volume(struct buf *out, int level, const struct project *p,
			 const struct volume *v)
{
	enum volume_type implied = v->host_path ? VOLUME_HOSTPATH : VOLUME_MANAGED;

	item(out, level);
	buf_puts(out, "name: ");
	value(out, v->name);
	buf_putc(out, '\n');
	if (v->type != implied)
		kv_str(out, level + 1, "type", volume_type_name(v->type));
	if (v->type == VOLUME_FILE && v->source_path && p->file) {
		char *rel = path_from(p->file, v->source_path);

		kv_str(out, level + 1, "path", rel);
		free(rel);
	} else {
		kv_str(out, level + 1, "hostPath", v->host_path);
	}
	if (v->type == VOLUME_EXTERNAL && v->external_name &&
	    strcmp(v->external_name, v->name))
		kv_str(out, level + 1, "externalName", v->external_name);
}

static void write_network(struct buf *out, int level, const struct network *n)
{
	item(out, level);
	buf_puts(out, "name: ");
	value(out, n->name);
	buf_putc(out, '\n');
	kv_true(out, level + 1, "external", n->external);
	if (n->external && n->external_name && strcmp(n->external_name, n->name))
		kv_str(out, level + 1, "externalName", n->external_name);
	kv_true(out, level + 1, "internal", n->internal);
}

static void write_ingress(struct buf *out, int level, const struct ingress *in)
{
	item(out, level);
	buf_puts(out, "name: ");
	value(out, in->name);
	buf_putc(out, '\n');
	kv_str(out, level + 1, "host", in->host);
	key(out, level + 1, "target");
	buf_putc(out, '\n');
	kv_str(out, level + 2, "service", in->target_service);
	kv_int(out, level + 2, "port", in->target_port);
	if (in->scope) {
		key(out, level + 1, "access");
		buf_putc(out, '\n');
		kv_str(out, level + 2, "scope", in->scope);
	}
}

void convert_write_project(struct buf *out, const struct project *p)
{
	size_t i;

	buf_puts(out, "apiVersion: caravanserai/v1\nkind: Project\nmetadata:\n");
	kv_str(out, 1, "name", p->name);
	map(out, 1, "labels", &p->labels);
	map(out, 1, "annotations", &p->annotations);
	buf_puts(out, "spec:\n");
	key(out, 1, "services");
	buf_putc(out, '\n');
	for (i = 0; i < p->nservices; i++)
		write_service(out, 1, &p->services[i]);
	if (p->nvolumes) {
		key(out, 1, "volumes");
		buf_putc(out, '\n');
		for (i = 0; i < p->nvolumes; i++)
			write_volume(out, 1, p, &p->volumes[i]);
	}
	if (p->nnetworks) {
		key(out, 1, "networks");
		buf_putc(out, '\n');
		for (i = 0; i < p->nnetworks; i++)
			write_network(out, 1, &p->networks[i]);
	}
	if (p->ningress) {
		key(out, 1, "ingress");
		buf_putc(out, '\n');
		for (i = 0; i < p->ningress; i++)
			write_ingress(out, 1, &p->ingress[i]);
	}
	if (p->has_expire) {
		char t[21];

		format_rfc3339(p->expire_at, t);
		kv_str(out, 1, "expireAt", t);
	}
	if (p->placement.present) {
		key(out, 1, "placement");
		buf_putc(out, '\n');
		kv_str(out, 2, "node", p->placement.node);
		map(out, 2, "nodeSelector", &p->placement.selector);
	}
}
