/*
 * spec.c - the effective spec of a service, its hash and the per-group
 * short hashes of the cara.spec-fields label.
 *
 * Every field group is serialised into its own canonical byte string:
 * each value is tagged and length-prefixed (a string "S3:abc;", a missing
 * string "N;", a number "I42;", a list "L2;" followed by its items), so two
 * different specs can never serialise the same.  Lists whose order carries
 * no meaning for Docker (env, labels, mounts, ports) are sorted first, so
 * reordering them in YAML recreates nothing; argv lists keep their order.
 * Defaults are folded into their effective value (no restart policy is
 * "unless-stopped", an image without a tag is ":latest", a port without a
 * protocol is "tcp") so spelling out a default changes nothing either.
 *
 * Secrets: only sha256(value) enters a serialisation, and only hashes of
 * serialisations reach the labels, so no label, log or state row carries
 * a secret.  Buffers that held a secret value are wiped before release.
 *
 * Invariant: the result depends only on the spec's values (never on
 * pointers, allocation or the order of map-like lists in the file).
 * Changing the serialisation changes every hash and so recreates every
 * container once; SPEC_VERSION is part of the overall hash for that reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "names.h"
#include "spec.h"

#define SPEC_VERSION "cara/spec/1"
#define SECRET_MAX_BYTES (1024 * 1024)

/* The field groups, in label order. */
enum group {
	G_IMAGE, G_COMMAND, G_ENTRYPOINT, G_WORKING_DIR, G_USER, G_ENV,
	G_MOUNTS, G_PORTS, G_HEALTHCHECK, G_RESTART, G_STOP_GRACE, G_LABELS,
	G_RESOURCES, G_NETWORK,
	/* from here on a group enters the hash and the label only when it is
	 * set, so that a cara that knows them recreates no container made
	 * before them */
	G_OPTIONAL,
	G_RESTART_RETRIES = G_OPTIONAL, G_CAPABILITIES, G_PRIVILEGED,
	G_READ_ONLY, G_TMPFS, G_HOSTNAME, G_INIT, G_STOP_SIGNAL, G_EXTRA_HOSTS,
	G_DNS, G_SHM_SIZE, G_SYSCTLS, G_ULIMITS, G_SECURITY_OPT, G_EXPOSE,
	G_ALIASES, G_FILES, G_SECRETS, G_DEVICES, G_LOGGING, G_REPLICAS, G_PLACEMENT,
	G_ENDPOINT_MODE, G_UPDATE, G_TTY, G_DOMAINNAME, G_PIDS_LIMIT,
	G_OOM_SCORE_ADJ, G_GROUP_ADD, G_DNS_SEARCH, G_DNS_OPT,
	G_MEMORY_RESERVATION, G_MEMORY_SWAP, G_CPU_SHARES, G_CPUS_RESERVATION,
	G_COUNT
};

static const char *const group_names[G_COUNT] = {
	"image", "command", "entrypoint", "workingDir", "user", "env",
	"mounts", "ports", "healthcheck", "restart", "stopGracePeriod",
	"labels", "resources", "network",
	"restartRetries", "capabilities", "privileged", "readOnly", "tmpfs",
	"hostname", "init", "stopSignal", "extraHosts", "dns", "shmSize",
	"sysctls", "ulimits", "securityOpt", "expose", "aliases", "files",
	"secrets", "devices", "logging", "replicas", "placement", "endpointMode",
	"updateConfig", "tty", "domainname", "pidsLimit", "oomScoreAdj",
	"groupAdd", "dnsSearch", "dnsOptions", "memoryReservation",
	"memorySwap", "cpuShares", "cpusReservation",
};

/* ---- secrets ---- */

/* A secret name or key is one path component that is not hidden. */
static bool secret_component_ok(const char *s)
{
	return s && *s && *s != '.' && !strchr(s, '/');
}

char *secret_path(const char *secrets_dir, const char *name, const char *key)
{
	return xasprintf("%s/%s/%s", secrets_dir, name, key);
}

/* as_env: one trailing newline stripped, a NUL refused (an environment
 * value ends at the first NUL); else the file's bytes as they are. */
static int secret_load(const char *secrets_dir, const char *name,
		       const char *key, bool as_env, struct buf *out)
{
	char *path = NULL;
	int rc = -1;

	buf_reset(out);
	if (!secret_component_ok(name) || !secret_component_ok(key)) {
		error_set("secret '%s/%s': invalid name (a secret name and key must "
			  "not be empty, contain '/' or start with '.')",
			  name ? name : "", key ? key : "");
		goto out;
	}
	if (!secrets_dir || !*secrets_dir) {
		error_set("secret '%s/%s' not found: no secrets directory configured",
			  name, key);
		goto out;
	}
	path = secret_path(secrets_dir, name, key);
	if (read_regular_file(path, SECRET_MAX_BYTES, out) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			error_set("secret '%s/%s' not found in '%s'", name, key,
				  secrets_dir);
		else if (errno == EINVAL)
			error_set("secret '%s/%s' in '%s' is not a regular file", name,
				  key, secrets_dir);
		else if (errno == EFBIG)
			error_set("secret '%s/%s' in '%s' is larger than %d bytes",
				  name, key, secrets_dir, SECRET_MAX_BYTES);
		else
			error_set("cannot read secret '%s/%s' in '%s': %s", name, key,
				  secrets_dir, strerror(errno));
		goto out;
	}
	if (!as_env) {
		rc = 0;
		goto out;
	}
	if (out->len && out->ptr[out->len - 1] == '\n')
		out->ptr[--out->len] = '\0';
	/* an environment value ends at the first NUL: never cut it silently */
	if (memchr(out->ptr ? out->ptr : "", '\0', out->len)) {
		error_set("secret '%s/%s' in '%s' holds a NUL byte", name, key,
			  secrets_dir);
		buf_wipe(out);
		goto out;
	}
	rc = 0;
out:
	free(path);
	return rc;
}

int secret_read(const char *secrets_dir, const char *name, const char *key,
		struct buf *out)
{
	return secret_load(secrets_dir, name, key, true, out);
}

int secret_read_file(const char *secrets_dir, const char *name,
		     const char *key, struct buf *out)
{
	return secret_load(secrets_dir, name, key, false, out);
}

/* ---- canonical encoding ---- */

static void put_str(struct buf *b, const char *s)
{
	if (!s) {
		buf_puts(b, "N;");
		return;
	}
	buf_printf(b, "S%zu:", strlen(s));
	buf_puts(b, s);
	buf_putc(b, ';');
}

static void put_int(struct buf *b, long long v)
{
	buf_printf(b, "I%lld;", v);
}

static void put_argv(struct buf *b, bool present, const struct strvec *sv)
{
	size_t i;

	if (!present) {
		buf_puts(b, "N;");
		return;
	}
	buf_printf(b, "L%zu;", sv->n);
	for (i = 0; i < sv->n; i++)
		put_str(b, sv->v[i]);
}

/* "busybox" -> "busybox:latest": the reference Docker resolves anyway. */
static char *image_effective(const char *ref)
{
	const char *slash, *last;

	if (!ref)
		return NULL;
	slash = strrchr(ref, '/');
	last = slash ? slash + 1 : ref;
	if (strchr(ref, '@') || strchr(last, ':'))
		return xstrdup(ref);
	return xasprintf("%s:latest", ref);
}

static const char *restart_effective(enum restart_policy r)
{
	switch (r) {
	case RESTART_NO: return "no";
	case RESTART_ON_FAILURE: return "on-failure";
	case RESTART_ALWAYS: return "always";
	case RESTART_DEFAULT:
	case RESTART_UNLESS_STOPPED: break;
	}
	return "unless-stopped";
}

static const struct volume *find_volume(const struct project *p, const char *name)
{
	size_t i;

	for (i = 0; name && i < p->nvolumes; i++)
		if (p->volumes[i].name && !strcmp(p->volumes[i].name, name))
			return &p->volumes[i];
	return NULL;
}

/*
 * Sorting entries of a group: each entry is serialised on its own, then the
 * serialisations are sorted bytewise, which orders by the first field (name,
 * key, target) and breaks ties on the rest, so the result never depends on
 * file order.
 */
static int cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void put_sorted(struct buf *b, struct strvec *entries)
{
	size_t i;

	if (entries->n)
		qsort(entries->v, entries->n, sizeof(char *), cmp_cstr);
	buf_printf(b, "L%zu;", entries->n);
	for (i = 0; i < entries->n; i++)
		put_str(b, entries->v[i]);
}

/* Wipe and free entries that may have held secret-derived text. */
static void entries_release(struct strvec *sv)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		memset(sv->v[i], 0, strlen(sv->v[i]));
	strvec_release(sv);
}

static int ser_env(struct buf *b, const struct service *s,
		   const char *secrets_dir, size_t *bad_env)
{
	struct strvec entries = STRVEC_INIT;
	struct buf e = BUF_INIT, secret = BUF_INIT;
	char hex[65];
	size_t i;
	int rc = -1;

	for (i = 0; i < s->nenv; i++) {
		const struct env_var *v = &s->env[i];

		buf_reset(&e);
		put_str(&e, v->name);
		if (v->secret_name || v->secret_key) {
			if (secret_read(secrets_dir, v->secret_name, v->secret_key,
					&secret) < 0) {
				*bad_env = i;
				goto out;
			}
			sha256_hex(buf_cstr(&secret), secret.len, hex);
			buf_wipe(&secret);
			put_str(&e, "secret");
			put_str(&e, hex);
		} else {
			put_str(&e, "value");
			put_str(&e, v->value ? v->value : "");
		}
		strvec_push(&entries, buf_cstr(&e));
	}
	put_sorted(b, &entries);
	rc = 0;
out:
	buf_wipe(&secret);
	buf_release(&secret);
	buf_release(&e);
	entries_release(&entries);
	return rc;
}

static void ser_mounts(struct buf *b, const struct project *p,
		       const struct service *s)
{
	struct strvec entries = STRVEC_INIT;
	struct buf e = BUF_INIT;
	size_t i;

	for (i = 0; i < s->nmounts; i++) {
		const struct mount *m = &s->mounts[i];
		const struct volume *v = find_volume(p, m->name);

		buf_reset(&e);
		/* the target first: entries sort by where they are mounted */
		put_str(&e, m->mount_path);
		if (v && v->type == VOLUME_HOSTPATH) {
			put_str(&e, "bind");
			put_str(&e, v->host_path);
		} else if (v && v->type == VOLUME_FILE) {
			/* where the files come from; what they hold is the
			 * files group, so that a change of content alone says
			 * "files" */
			put_str(&e, "file");
			put_str(&e, v->source_path);
		} else {
			/* an External one by its real name: pointing it at
			 * another volume recreates the container */
			char *src = v ? volume_docker_name(p->name, v) :
				    name_volume(p->name, m->name ? m->name : "");

			put_str(&e, "volume");
			put_str(&e, src);
			free(src);
		}
		put_int(&e, m->read_only);
		strvec_push(&entries, buf_cstr(&e));
	}
	put_sorted(b, &entries);
	buf_release(&e);
	strvec_release(&entries);
}

/* The content of the source files s mounts: (target, digest), sorted. */
static void ser_files(struct buf *b, const struct project *p,
		      const struct service *s)
{
	struct strvec entries = STRVEC_INIT;
	struct buf e = BUF_INIT;
	size_t i;

	for (i = 0; i < s->nmounts; i++) {
		const struct volume *v = find_volume(p, s->mounts[i].name);

		if (!v || v->type != VOLUME_FILE)
			continue;
		buf_reset(&e);
		put_str(&e, s->mounts[i].mount_path);
		put_str(&e, v->digest);
		strvec_push(&entries, buf_cstr(&e));
	}
	if (entries.n)
		put_sorted(b, &entries);
	buf_release(&e);
	strvec_release(&entries);
}

/*
 * The secrets s mounts as files: (target, name, key, sha256(content)),
 * sorted; nothing when none.  On one that cannot be read, -1 with
 * error_last() and *bad its index in s->secrets.
 */
static int ser_secrets(struct buf *b, const struct service *s,
		       const char *secrets_dir, size_t *bad)
{
	struct strvec entries = STRVEC_INIT;
	struct buf e = BUF_INIT, secret = BUF_INIT;
	char hex[65];
	size_t i;
	int rc = -1;

	for (i = 0; i < s->nsecrets; i++) {
		const struct secret_mount *m = &s->secrets[i];

		if (secret_read_file(secrets_dir, m->secret_name, m->secret_key,
				     &secret) < 0) {
			*bad = i;
			goto out;
		}
		sha256_hex(secret.ptr ? secret.ptr : "", secret.len, hex);
		buf_wipe(&secret);
		buf_reset(&e);
		put_str(&e, m->target);
		put_str(&e, m->secret_name);
		put_str(&e, m->secret_key);
		put_str(&e, hex);
		strvec_push(&entries, buf_cstr(&e));
	}
	if (entries.n)
		put_sorted(b, &entries);
	rc = 0;
out:
	buf_wipe(&secret);
	buf_release(&secret);
	buf_release(&e);
	strvec_release(&entries);
	return rc;
}

static void ser_ports(struct buf *b, const struct service *s)
{
	struct strvec entries = STRVEC_INIT;
	struct buf e = BUF_INIT;
	size_t i;

	for (i = 0; i < s->nports; i++) {
		const struct port *pt = &s->ports[i];

		buf_reset(&e);
		put_int(&e, pt->container_port);
		put_str(&e, pt->protocol && *pt->protocol ? pt->protocol : "tcp");
		put_str(&e, pt->host_ip && *pt->host_ip ? pt->host_ip : "0.0.0.0");
		put_int(&e, pt->host_port);
		strvec_push(&entries, buf_cstr(&e));
	}
	put_sorted(b, &entries);
	buf_release(&e);
	strvec_release(&entries);
}

static void ser_health(struct buf *b, const struct healthcheck *h)
{
	if (!h->present) {
		buf_puts(b, "N;");
		return;
	}
	put_argv(b, true, &h->test);
	put_int(b, h->interval_ms);
	put_int(b, h->timeout_ms);
	put_int(b, h->start_period_ms);
	put_int(b, h->retries);
	/* after the fields of old, and only when set: the hash of a
	 * healthcheck without it is what it was before cara knew it */
	if (h->start_interval_ms) {
		buf_puts(b, "startInterval=");
		put_int(b, h->start_interval_ms);
	}
}

static void ser_labels(struct buf *b, const struct kvlist *l)
{
	struct strvec entries = STRVEC_INIT;
	struct buf e = BUF_INIT;
	size_t i;

	for (i = 0; i < l->n; i++) {
		buf_reset(&e);
		put_str(&e, l->v[i].key);
		put_str(&e, l->v[i].value);
		strvec_push(&entries, buf_cstr(&e));
	}
	put_sorted(b, &entries);
	buf_release(&e);
	strvec_release(&entries);
}

/* An update policy that is set: which one, then each field (-1 / "":
 * the backend's default). */
static void put_policy(struct buf *b, const char *which, const struct update_policy *u)
{
	if (!u->set)
		return;
	put_str(b, which);
	put_int(b, u->parallelism);
	put_int(b, u->delay_ms);
	put_int(b, u->monitor_ms);
	put_str(b, u->order);
	put_str(b, u->failure_action);
}

/* A list whose order carries no meaning, sorted; nothing when empty. */
static void put_set(struct buf *b, const struct strvec *sv)
{
	struct strvec entries = STRVEC_INIT;
	struct buf e = BUF_INIT;
	size_t i;

	if (!sv->n)
		return;
	for (i = 0; i < sv->n; i++) {
		buf_reset(&e);
		put_str(&e, sv->v[i]);
		strvec_push(&entries, buf_cstr(&e));
	}
	put_sorted(b, &entries);
	buf_release(&e);
	strvec_release(&entries);
}

static void ser_ulimits(struct buf *b, const struct service *s)
{
	struct strvec entries = STRVEC_INIT;
	struct buf e = BUF_INIT;
	size_t i;

	for (i = 0; i < s->nulimits; i++) {
		buf_reset(&e);
		put_str(&e, s->ulimits[i].name);
		put_int(&e, s->ulimits[i].soft);
		put_int(&e, s->ulimits[i].hard);
		strvec_push(&entries, buf_cstr(&e));
	}
	if (entries.n)
		put_sorted(b, &entries);
	buf_release(&e);
	strvec_release(&entries);
}

/* The groups after G_OPTIONAL: each writes nothing at its default. */
static void ser_host(struct buf g[G_COUNT], const struct service *s)
{
	if (s->restart_retries)
		put_int(&g[G_RESTART_RETRIES], s->restart_retries);
	if (s->cap_add.n || s->cap_drop.n) {
		struct buf *b = &g[G_CAPABILITIES];

		put_str(b, "add");
		put_set(b, &s->cap_add);
		put_str(b, "drop");
		put_set(b, &s->cap_drop);
	}
	if (s->privileged)
		put_int(&g[G_PRIVILEGED], 1);
	if (s->read_only)
		put_int(&g[G_READ_ONLY], 1);
	put_set(&g[G_TMPFS], &s->tmpfs);
	if (s->hostname)
		put_str(&g[G_HOSTNAME], s->hostname);
	if (s->has_init)
		put_int(&g[G_INIT], s->init);
	if (s->stop_signal)
		put_str(&g[G_STOP_SIGNAL], s->stop_signal);
	put_set(&g[G_EXTRA_HOSTS], &s->extra_hosts);
	/* the resolver asks the servers in order */
	if (s->dns.n)
		put_argv(&g[G_DNS], true, &s->dns);
	if (s->shm_bytes)
		put_int(&g[G_SHM_SIZE], s->shm_bytes);
	if (s->sysctls.n)
		ser_labels(&g[G_SYSCTLS], &s->sysctls);
	ser_ulimits(&g[G_ULIMITS], s);
	if (s->security_opt.n)
		put_argv(&g[G_SECURITY_OPT], true, &s->security_opt);
	put_set(&g[G_EXPOSE], &s->expose);
	put_set(&g[G_DEVICES], &s->devices);
	if (s->log_driver) {
		put_str(&g[G_LOGGING], s->log_driver);
		if (s->log_opts.n)
			ser_labels(&g[G_LOGGING], &s->log_opts);
	}
	/* a cluster's (backend/swarm/) */
	if (s->has_replicas)
		put_int(&g[G_REPLICAS], s->replicas);
	if (s->global)
		put_str(&g[G_REPLICAS], "global");
	put_set(&g[G_PLACEMENT], &s->constraints);
	if (s->preferences.n) {
		/* in order: Swarm spreads by the first, then within by the next */
		put_str(&g[G_PLACEMENT], "spread");
		put_argv(&g[G_PLACEMENT], true, &s->preferences);
	}
	if (s->endpoint_mode)
		put_str(&g[G_ENDPOINT_MODE], s->endpoint_mode);
	put_policy(&g[G_UPDATE], "update", &s->update);
	put_policy(&g[G_UPDATE], "rollback", &s->rollback);
	if (s->tty || s->stdin_open) {
		put_int(&g[G_TTY], s->tty);
		put_int(&g[G_TTY], s->stdin_open);
	}
	if (s->domainname)
		put_str(&g[G_DOMAINNAME], s->domainname);
	if (s->pids_limit)
		put_int(&g[G_PIDS_LIMIT], s->pids_limit);
	if (s->has_oom_score_adj)
		put_int(&g[G_OOM_SCORE_ADJ], s->oom_score_adj);
	put_set(&g[G_GROUP_ADD], &s->group_add);
	/* the resolver tries the domains in order */
	if (s->dns_search.n)
		put_argv(&g[G_DNS_SEARCH], true, &s->dns_search);
	put_set(&g[G_DNS_OPT], &s->dns_opt);
	if (s->memory_reservation_bytes)
		put_int(&g[G_MEMORY_RESERVATION], s->memory_reservation_bytes);
	if (s->memory_swap_bytes)
		put_int(&g[G_MEMORY_SWAP], s->memory_swap_bytes);
	if (s->cpu_shares)
		put_int(&g[G_CPU_SHARES], s->cpu_shares);
	if (s->nano_cpus_reservation)
		put_int(&g[G_CPUS_RESERVATION], s->nano_cpus_reservation);
}

/*
 * The networks s joins and its names there.  On the default network alone
 * (most services) the form is the one it had before a service could join
 * more; else each network, sorted, with the service's aliases on it.
 */
static void ser_networks(struct buf g[G_COUNT], const struct project *p,
			 const struct service *s)
{
	struct strvec entries = STRVEC_INIT;
	const struct strvec *al;
	struct buf e = BUF_INIT;
	size_t k;

	if (network_joins(s) == 1 &&
	    !strcmp(network_join(s, 0, &al), NETWORK_DEFAULT)) {
		char *dn = network_docker_name(p, NETWORK_DEFAULT);

		put_str(&g[G_NETWORK], dn);
		put_str(&g[G_NETWORK], s->name);
		put_set(&g[G_ALIASES], al);
		free(dn);
		return;
	}
	for (k = 0; k < network_joins(s); k++) {
		char *dn = network_docker_name(p, network_join(s, k, &al));

		buf_reset(&e);
		put_str(&e, dn);
		put_str(&e, s->name);
		put_set(&e, al);
		strvec_push(&entries, buf_cstr(&e));
		free(dn);
	}
	put_sorted(&g[G_NETWORK], &entries);
	buf_release(&e);
	strvec_release(&entries);
}

/*
 * Serialise every group of s into g[].  On a secret that cannot be read,
 * returns -1 with error_last() set and *bad_env its index in s->env, or
 * s->nenv + its index in s->secrets.
 */
static int ser_service(struct buf g[G_COUNT], const struct project *p,
		       const struct service *s, const char *secrets_dir,
		       size_t *bad_env)
{
	char *image = image_effective(s->image);
	int rc = -1;

	put_str(&g[G_IMAGE], image);
	put_argv(&g[G_COMMAND], s->has_command, &s->command);
	put_argv(&g[G_ENTRYPOINT], s->has_entrypoint, &s->entrypoint);
	put_str(&g[G_WORKING_DIR], s->working_dir);
	put_str(&g[G_USER], s->user);
	if (ser_env(&g[G_ENV], s, secrets_dir, bad_env) < 0)
		goto out;
	if (ser_secrets(&g[G_SECRETS], s, secrets_dir, bad_env) < 0) {
		*bad_env += s->nenv;
		goto out;
	}
	ser_mounts(&g[G_MOUNTS], p, s);
	ser_files(&g[G_FILES], p, s);
	ser_ports(&g[G_PORTS], s);
	ser_health(&g[G_HEALTHCHECK], &s->health);
	put_str(&g[G_RESTART], restart_effective(s->restart));
	put_int(&g[G_STOP_GRACE], s->stop_grace_ms < 0 ? -1 : s->stop_grace_ms);
	ser_labels(&g[G_LABELS], &s->labels);
	put_int(&g[G_RESOURCES], s->memory_bytes);
	put_int(&g[G_RESOURCES], s->nano_cpus);
	ser_networks(g, p, s);
	ser_host(g, s);
	rc = 0;
out:
	free(image);
	return rc;
}

static int spec_service_at(char out_hash[65], char **out_fields,
			   const struct project *p, const struct service *s,
			   const char *secrets_dir, size_t *bad_env)
{
	struct buf g[G_COUNT];
	struct buf all = BUF_INIT, fields = BUF_INIT;
	char hex[65];
	size_t i;
	int rc = -1;

	for (i = 0; i < G_COUNT; i++)
		buf_init(&g[i]);
	if (ser_service(g, p, s, secrets_dir, bad_env) < 0)
		goto out;
	put_str(&all, SPEC_VERSION);
	for (i = 0; i < G_COUNT; i++) {
		if (i >= G_OPTIONAL && !g[i].len)
			continue;
		sha256_hex(buf_cstr(&g[i]), g[i].len, hex);
		buf_printf(&fields, "%s%s=%.8s", i ? "," : "", group_names[i], hex);
		put_str(&all, group_names[i]);
		put_str(&all, buf_cstr(&g[i]));
	}
	sha256_hex(buf_cstr(&all), all.len, out_hash);
	*out_fields = buf_detach(&fields);
	rc = 0;
out:
	/* the env group holds only hashes of secrets, but wipe it anyway */
	for (i = 0; i < G_COUNT; i++) {
		buf_wipe(&g[i]);
		buf_release(&g[i]);
	}
	buf_wipe(&all);
	buf_release(&all);
	buf_release(&fields);
	return rc;
}

int spec_service(char out_hash[65], char **out_fields,
		 const struct project *p, const struct service *s,
		 const char *secrets_dir)
{
	size_t bad_env = 0;

	*out_fields = NULL;
	return spec_service_at(out_hash, out_fields, p, s, secrets_dir, &bad_env);
}

void spec_compute(struct project_set *set, const char *secrets_dir,
		  struct diags *d)
{
	spec_compute_where(set, secrets_dir, d, NULL, NULL);
}

void spec_compute_where(struct project_set *set, const char *secrets_dir,
			struct diags *d,
			bool (*want)(const struct project *p, void *arg), void *arg)
{
	size_t i, j, k;

	for (i = 0; i < set->n; i++) {
		struct project *p = &set->v[i];

		if (!p->valid || (want && !want(p, arg)))
			continue;
		for (j = 0; j < p->nservices; j++) {
			struct service *s = &p->services[j];
			char hash[65], *fields = NULL;
			size_t bad_env = 0;

			free(s->spec_hash);
			free(s->spec_fields);
			s->spec_hash = s->spec_fields = NULL;
			if (spec_service_at(hash, &fields, p, s, secrets_dir,
					    &bad_env) == 0) {
				s->spec_hash = xstrdup(hash);
				s->spec_fields = fields;
				continue;
			}
			/*
			 * Report every secret of this service that cannot be
			 * read, not only the first, so one run shows them all.
			 */
			p->valid = false;
			for (k = bad_env; k < s->nenv + s->nsecrets; k++) {
				struct buf tmp = BUF_INIT;
				struct pos pos;
				char *path;
				int rd;

				if (k < s->nenv) {
					const struct env_var *e = &s->env[k];

					if (!e->secret_name && !e->secret_key)
						continue;
					rd = k == bad_env ? -1 :
					     secret_read(secrets_dir, e->secret_name,
							 e->secret_key, &tmp);
					pos = e->pos;
					path = project_path_printf(p, "spec.services[%zu]"
								   ".env[%zu].valueFrom"
								   ".secretKeyRef", j, k);
				} else {
					const struct secret_mount *m =
						&s->secrets[k - s->nenv];

					rd = k == bad_env ? -1 :
					     secret_read_file(secrets_dir, m->secret_name,
							      m->secret_key, &tmp);
					pos = m->pos;
					path = xasprintf("services.%s.secrets[%zu]",
							 s->name, k - s->nenv);
				}
				buf_wipe(&tmp);
				buf_release(&tmp);
				if (rd == 0) {
					free(path);
					continue;
				}
				diags_add(d, DIAG_ERROR, p->file, pos.line,
					  pos.col, path, "%s", error_last());
				if (!p->secret_missing)
					p->secret_missing = xasprintf("service '%s': %s",
								      s->name,
								      error_last());
				free(path);
			}
		}
	}
}

/* ---- the fields label ---- */

/*
 * Find group `name` in a "g=hash,g=hash" label; returns its short hash
 * (length in *len) or NULL.
 */
static const char *fields_find(const char *fields, const char *name,
			       size_t *len)
{
	size_t nl = strlen(name);
	const char *p = fields;

	while (p && *p) {
		const char *end = strchr(p, ',');
		const char *eq = strchr(p, '=');
		size_t elen = end ? (size_t)(end - p) : strlen(p);

		if (eq && eq < p + elen && (size_t)(eq - p) == nl &&
		    !memcmp(p, name, nl)) {
			*len = elen - nl - 1;
			return eq + 1;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

/*
 * Push the group names of `fields` that differ from `other` (or, with
 * only_missing, that `other` lacks), once each.
 */
static void fields_each(struct strvec *out, const char *fields,
			const char *other, bool only_missing)
{
	const char *p = fields;

	while (p && *p) {
		const char *end = strchr(p, ',');
		const char *eq = strchr(p, '=');
		size_t elen = end ? (size_t)(end - p) : strlen(p);

		if (eq && eq < p + elen && eq > p) {
			char *name = xstrndup(p, (size_t)(eq - p));
			size_t vlen = elen - (size_t)(eq - p) - 1, olen = 0;
			const char *ov = fields_find(other, name, &olen);
			bool differs = !ov || olen != vlen || memcmp(ov, eq + 1, vlen);

			if ((only_missing ? !ov : differs) && !strvec_has(out, name))
				strvec_push_nodup(out, name);
			else
				free(name);
		}
		p = end ? end + 1 : NULL;
	}
}

void spec_changed_fields(struct strvec *out, const char *old_fields,
			 const char *new_fields)
{
	const char *o = old_fields ? old_fields : "";
	const char *n = new_fields ? new_fields : "";

	/* new order first (that is label order), then groups that went away */
	fields_each(out, n, o, false);
	fields_each(out, o, n, true);
}
