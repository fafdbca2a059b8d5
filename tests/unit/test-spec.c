/*
 * test-spec.c - the effective spec hash: deterministic, sensitive to every
 * field group (and naming that group in spec_changed_fields), blind to the
 * order of env and labels, and never carrying a secret value.
 *
 * Projects are built in C (builders.h), not parsed from YAML, so these
 * tests stand apart from the manifest parser.
 */
/* Fixtures are made and removed with shell commands (see banned.h). */
#define CARA_BANNED_ALLOW_SHELL
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builders.h"
#include "plan.h"
#include "spec.h"
#include "tap.h"

/* ---- a secrets directory for the test ---- */

static char secrets_dir[64];
/* the healthcheck group of test_start_interval's service, as cara hashed
 * it before it knew startInterval */
#define HEALTH_GROUP_PINNED "f350bb24"

static void write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(data, f) < 0 || fclose(f) != 0) {
		printf("Bail out! cannot write '%s'\n", path);
		exit(1);
	}
}

static void put_secret(const char *name, const char *key, const char *value)
{
	char *dir = xasprintf("%s/%s", secrets_dir, name);
	char *path = xasprintf("%s/%s", dir, key);

	mkdir(dir, 0700);
	write_file(path, value);
	free(path);
	free(dir);
}

static void rm_secrets(void)
{
	char *cmd = xasprintf("rm -rf '%s'", secrets_dir);

	if (system(cmd) != 0)
		printf("# could not remove %s\n", secrets_dir);
	free(cmd);
}

/* ---- the base project every case varies ---- */

static struct project *base(struct project_set *set)
{
	struct project *p = tb_project(set, "shop");
	struct service *s = tb_service(p, "app", "shop/app:1");

	tb_volume(p, "data", VOLUME_MANAGED, NULL);
	tb_volume(p, "other", VOLUME_EPHEMERAL, NULL);
	tb_volume(p, "host", VOLUME_HOSTPATH, "/srv/shop");
	tb_volume(p, "host2", VOLUME_HOSTPATH, "/srv/other");
	tb_env(s, "A", "1");
	tb_env(s, "B", "2");
	tb_mount(s, "data", "/data");
	tb_port(s, 8080, 80);
	tb_kv(&s->labels, "team", "web");
	tb_kv(&s->labels, "tier", "front");
	return p;
}

static void hash_of(const struct project *p, const struct service *s,
		    char hash[65], char **fields)
{
	*fields = NULL;
	if (spec_service(hash, fields, p, s, secrets_dir) < 0) {
		printf("# spec_service: %s\n", error_last());
		hash[0] = '\0';
	}
}

static void joined(struct buf *b, const struct strvec *sv)
{
	size_t i;

	buf_reset(b);
	for (i = 0; i < sv->n; i++)
		buf_printf(b, "%s%s", i ? "," : "", sv->v[i]);
}

static void test_determinism(void)
{
	struct project_set a = PROJECT_SET_INIT, b = PROJECT_SET_INIT;
	char h1[65], h2[65];
	char *f1, *f2;
	size_t i;
	static const char *const groups[] = {
		"image", "command", "entrypoint", "workingDir", "user", "env",
		"mounts", "ports", "healthcheck", "restart", "stopGracePeriod",
		"labels", "resources", "network",
	};
	const char *p;

	base(&a);
	base(&b);
	hash_of(&a.v[0], &a.v[0].services[0], h1, &f1);
	hash_of(&b.v[0], &b.v[0].services[0], h2, &f2);
	is_int(strlen(h1), 64, "spec hash is 64 hex digits");
	is_str(h1, h2, "the same spec in different memory hashes the same");
	is_str(f1, f2, "and gets the same fields label");
	p = f1;
	for (i = 0; p && i < ARRAY_SIZE(groups); i++) {
		size_t n = strlen(groups[i]);

		if (strncmp(p, groups[i], n) || p[n] != '=' || strspn(p + n + 1,
		    "0123456789abcdef") != 8)
			break;
		p += n + 9;
		if (*p == ',')
			p++;
	}
	ok(i == ARRAY_SIZE(groups) && p && !*p,
	   "fields label lists every group in order with 8 hex digits: %s", f1);
	free(f1);
	free(f2);
	project_set_release(&a);
	project_set_release(&b);
}

/* ---- every group: changing it changes the hash and names the group ---- */

static void m_image(struct project *p, struct service *s) { (void)p; tb_set(&s->image, "shop/app:2"); }
static void m_command(struct project *p, struct service *s) { (void)p; s->has_command = true; strvec_push(&s->command, "serve"); }
static void m_command_empty(struct project *p, struct service *s) { (void)p; s->has_command = true; }
static void m_entrypoint(struct project *p, struct service *s) { (void)p; s->has_entrypoint = true; strvec_push(&s->entrypoint, "/init"); }
static void m_workdir(struct project *p, struct service *s) { (void)p; s->working_dir = xstrdup("/srv"); }
static void m_user(struct project *p, struct service *s) { (void)p; s->user = xstrdup("1000:1000"); }
static void m_env_value(struct project *p, struct service *s) { (void)p; tb_set(&s->env[1].value, "3"); }
static void m_env_add(struct project *p, struct service *s) { (void)p; tb_env(s, "C", ""); }
static void m_env_empty(struct project *p, struct service *s) { (void)p; tb_set(&s->env[1].value, ""); }
static void m_mount_path(struct project *p, struct service *s) { (void)p; tb_set(&s->mounts[0].mount_path, "/var/data"); }
static void m_mount_ro(struct project *p, struct service *s) { (void)p; s->mounts[0].read_only = true; }
static void m_mount_volume(struct project *p, struct service *s) { (void)p; tb_set(&s->mounts[0].name, "other"); }
static void m_mount_host(struct project *p, struct service *s) { (void)p; tb_mount(s, "host", "/host"); }
static void m_host_path(struct project *p, struct service *s) { (void)p; tb_mount(s, "host", "/host"); tb_set(&p->volumes[2].host_path, "/srv/x"); }
static void m_port_host(struct project *p, struct service *s) { (void)p; s->ports[0].host_port = 8081; }
static void m_port_ip(struct project *p, struct service *s) { (void)p; s->ports[0].host_ip = xstrdup("127.0.0.1"); }
static void m_port_proto(struct project *p, struct service *s) { (void)p; s->ports[0].protocol = xstrdup("udp"); }
static void m_health(struct project *p, struct service *s) { (void)p; s->health.present = true; strvec_push(&s->health.test, "CMD"); strvec_push(&s->health.test, "true"); }
static void m_restart(struct project *p, struct service *s) { (void)p; s->restart = RESTART_ALWAYS; }
static void m_grace(struct project *p, struct service *s) { (void)p; s->stop_grace_ms = 1000; }
static void m_label(struct project *p, struct service *s) { (void)p; tb_set(&s->labels.v[0].value, "ops"); }
static void m_memory(struct project *p, struct service *s) { (void)p; s->memory_bytes = 512 << 20; }
static void m_cpus(struct project *p, struct service *s) { (void)p; s->nano_cpus = 500000000; }
static void m_alias(struct project *p, struct service *s) { (void)p; tb_set(&s->name, "web"); }

/* The host settings: each group enters only when set. */
static void m_retries(struct project *p, struct service *s) { (void)p; s->restart = RESTART_ON_FAILURE; s->restart_retries = 3; }
static void m_cap_add(struct project *p, struct service *s) { (void)p; strvec_push(&s->cap_add, "NET_ADMIN"); }
static void m_cap_drop(struct project *p, struct service *s) { (void)p; strvec_push(&s->cap_drop, "ALL"); }
static void m_privileged(struct project *p, struct service *s) { (void)p; s->privileged = true; }
static void m_read_only(struct project *p, struct service *s) { (void)p; s->read_only = true; }
static void m_tmpfs(struct project *p, struct service *s) { (void)p; strvec_push(&s->tmpfs, "/run"); }
static void m_hostname(struct project *p, struct service *s) { (void)p; tb_set(&s->hostname, "box"); }
static void m_init(struct project *p, struct service *s) { (void)p; s->has_init = true; s->init = true; }
static void m_init_false(struct project *p, struct service *s) { (void)p; s->has_init = true; }
static void m_stop_signal(struct project *p, struct service *s) { (void)p; tb_set(&s->stop_signal, "SIGINT"); }
static void m_extra_hosts(struct project *p, struct service *s) { (void)p; strvec_push(&s->extra_hosts, "a:10.0.0.1"); }
static void m_dns(struct project *p, struct service *s) { (void)p; strvec_push(&s->dns, "9.9.9.9"); }
static void m_shm(struct project *p, struct service *s) { (void)p; s->shm_bytes = 1 << 26; }
static void m_sysctls(struct project *p, struct service *s) { (void)p; tb_kv(&s->sysctls, "net.core.somaxconn", "1024"); }
static void m_ulimits(struct project *p, struct service *s)
{
	(void)p;
	GROW(s->ulimits, s->capulimits, 1);
	s->ulimits[0].name = xstrdup("nofile");
	s->ulimits[0].soft = 100;
	s->ulimits[0].hard = 200;
	s->nulimits = 1;
}
static void m_security_opt(struct project *p, struct service *s) { (void)p; strvec_push(&s->security_opt, "no-new-privileges"); }
static void m_expose(struct project *p, struct service *s) { (void)p; strvec_push(&s->expose, "90/tcp"); }
static void m_aliases(struct project *p, struct service *s) { (void)p; strvec_push(&s->aliases, "www"); }
static void m_constraint(struct project *p, struct service *s) { (void)p; strvec_push(&s->constraints, "node.id==abc"); }
static void m_preference(struct project *p, struct service *s) { (void)p; strvec_push(&s->preferences, "node.labels.zone"); }
static void m_tty(struct project *p, struct service *s) { (void)p; s->tty = true; }
static void m_stdin_open(struct project *p, struct service *s) { (void)p; s->stdin_open = true; }
static void m_domainname(struct project *p, struct service *s) { (void)p; tb_set(&s->domainname, "example.internal"); }
static void m_pids_limit(struct project *p, struct service *s) { (void)p; s->pids_limit = 100; }
static void m_oom(struct project *p, struct service *s) { (void)p; s->has_oom_score_adj = true; }
static void m_group_add(struct project *p, struct service *s) { (void)p; strvec_push(&s->group_add, "audio"); }
static void m_dns_search(struct project *p, struct service *s) { (void)p; strvec_push(&s->dns_search, "example.com"); }
static void m_dns_opt(struct project *p, struct service *s) { (void)p; strvec_push(&s->dns_opt, "ndots:2"); }
static void m_mem_rsv(struct project *p, struct service *s) { (void)p; s->memory_reservation_bytes = 64 << 20; }
static void m_mem_swap(struct project *p, struct service *s) { (void)p; s->memory_swap_bytes = 1 << 30; }
static void m_mem_swap_unlimited(struct project *p, struct service *s) { (void)p; s->memory_swap_bytes = -1; }
static void m_cpu_shares(struct project *p, struct service *s) { (void)p; s->cpu_shares = 512; }
static void m_cpus_rsv(struct project *p, struct service *s) { (void)p; s->nano_cpus_reservation = 250000000; }

static void test_every_group(void)
{
	static const struct {
		const char *what;
		void (*mutate)(struct project *, struct service *);
		const char *changed;
	} cases[] = {
		{ "image", m_image, "image" },
		{ "command set", m_command, "command" },
		{ "empty command differs from none", m_command_empty, "command" },
		{ "entrypoint", m_entrypoint, "entrypoint" },
		{ "workingDir", m_workdir, "workingDir" },
		{ "user", m_user, "user" },
		{ "env value", m_env_value, "env" },
		{ "env added", m_env_add, "env" },
		{ "env value emptied", m_env_empty, "env" },
		{ "mount path", m_mount_path, "mounts" },
		{ "mount read-only", m_mount_ro, "mounts" },
		{ "mount of another volume", m_mount_volume, "mounts" },
		{ "host path mount added", m_mount_host, "mounts" },
		{ "host path moved", m_host_path, "mounts" },
		{ "host port", m_port_host, "ports" },
		{ "host IP", m_port_ip, "ports" },
		{ "protocol", m_port_proto, "ports" },
		{ "healthcheck", m_health, "healthcheck" },
		{ "restart", m_restart, "restart" },
		{ "stopGracePeriod", m_grace, "stopGracePeriod" },
		{ "label value", m_label, "labels" },
		{ "memory", m_memory, "resources" },
		{ "cpus", m_cpus, "resources" },
		{ "service name (network alias)", m_alias, "network" },
		{ "on-failure:3", m_retries, "restart,restartRetries" },
		{ "cap_add", m_cap_add, "capabilities" },
		{ "cap_drop", m_cap_drop, "capabilities" },
		{ "privileged", m_privileged, "privileged" },
		{ "read_only", m_read_only, "readOnly" },
		{ "tmpfs", m_tmpfs, "tmpfs" },
		{ "hostname", m_hostname, "hostname" },
		{ "init", m_init, "init" },
		{ "init: false differs from unset", m_init_false, "init" },
		{ "stop_signal", m_stop_signal, "stopSignal" },
		{ "extra_hosts", m_extra_hosts, "extraHosts" },
		{ "dns", m_dns, "dns" },
		{ "shm_size", m_shm, "shmSize" },
		{ "sysctls", m_sysctls, "sysctls" },
		{ "ulimits", m_ulimits, "ulimits" },
		{ "security_opt", m_security_opt, "securityOpt" },
		{ "expose", m_expose, "expose" },
		{ "aliases", m_aliases, "aliases" },
		{ "a constraint (a volume's pin)", m_constraint, "placement" },
		{ "a spread preference", m_preference, "placement" },
		{ "tty", m_tty, "tty" },
		{ "stdin_open", m_stdin_open, "tty" },
		{ "domainname", m_domainname, "domainname" },
		{ "pids_limit", m_pids_limit, "pidsLimit" },
		{ "oom_score_adj: 0 differs from unset", m_oom, "oomScoreAdj" },
		{ "group_add", m_group_add, "groupAdd" },
		{ "dns_search", m_dns_search, "dnsSearch" },
		{ "dns_opt", m_dns_opt, "dnsOptions" },
		{ "memory reservation", m_mem_rsv, "memoryReservation" },
		{ "swap limit", m_mem_swap, "memorySwap" },
		{ "swap limit -1", m_mem_swap_unlimited, "memorySwap" },
		{ "CPU shares", m_cpu_shares, "cpuShares" },
		{ "CPU reservation", m_cpus_rsv, "cpusReservation" },
	};
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct project_set set = PROJECT_SET_INIT;
		struct project *p = base(&set);
		struct strvec changed = STRVEC_INIT;
		char h0[65], h1[65];
		char *f0, *f1;

		hash_of(p, &p->services[0], h0, &f0);
		cases[i].mutate(p, &p->services[0]);
		hash_of(p, &p->services[0], h1, &f1);
		ok(h0[0] && h1[0] && strcmp(h0, h1), "%s changes the spec hash", cases[i].what);
		spec_changed_fields(&changed, f0, f1);
		joined(&b, &changed);
		is_str(buf_cstr(&b), cases[i].changed, "%s: changed fields", cases[i].what);
		strvec_release(&changed);
		free(f0);
		free(f1);
		project_set_release(&set);
	}
	buf_release(&b);
}

/* Spelling things differently that mean the same to Docker changes nothing. */
static void m_env_swap(struct project *p, struct service *s)
{
	struct env_var t = s->env[0];

	(void)p;
	s->env[0] = s->env[1];
	s->env[1] = t;
}
static void m_label_swap(struct project *p, struct service *s)
{
	struct kv t = s->labels.v[0];

	(void)p;
	s->labels.v[0] = s->labels.v[1];
	s->labels.v[1] = t;
}
static void m_restart_default(struct project *p, struct service *s) { (void)p; s->restart = RESTART_UNLESS_STOPPED; }
static void m_image_latest(struct project *p, struct service *s) { (void)p; tb_set(&s->image, "busybox:latest"); }
static void m_port_defaults(struct project *p, struct service *s) { (void)p; s->ports[0].protocol = xstrdup("tcp"); s->ports[0].host_ip = xstrdup("0.0.0.0"); }
static void m_positions(struct project *p, struct service *s) { (void)p; s->pos.line = 99; s->env[0].pos.line = 77; }
static void m_deps(struct project *p, struct service *s) { (void)p; tb_dep(s, "db", DEP_STARTED); }

/* The groups cara learnt later are absent at their default: a container
 * made before them keeps its hash. */
static void test_optional_groups(void)
{
	struct project_set set = PROJECT_SET_INIT;
	struct project *p = base(&set);
	char h[65], *f;

	hash_of(p, &p->services[0], h, &f);
	ok(f && !strstr(f, "capabilities") && !strstr(f, "aliases") &&
	   !strstr(f, "restartRetries"), "no host setting: no group of one");
	ok(f && !strstr(f, "memoryReservation") && !strstr(f, "memorySwap") &&
	   !strstr(f, "cpuShares") && !strstr(f, "cpusReservation"),
	   "no reservation, swap limit or shares: no group of one (a container "
	   "made before them keeps its hash)");
	ok(f && strstr(f, ",network=") && !strchr(strstr(f, ",network=") + 1, ','),
	   "network is the last group, as before");
	free(f);
	m_privileged(p, &p->services[0]);
	hash_of(p, &p->services[0], h, &f);
	ok(f && strstr(f, ",privileged="), "privileged: its group is there");
	free(f);
	project_set_release(&set);
}

/*
 * A healthcheck's startInterval enters its group only when set: the group
 * hash of a healthcheck without one is pinned to what it was before cara
 * knew startInterval (an upgrade recreates nothing).
 */
static void test_start_interval(void)
{
	struct project_set set = PROJECT_SET_INIT;
	struct project *p = base(&set);
	struct service *s = &p->services[0];
	struct strvec changed = STRVEC_INIT;
	struct buf b = BUF_INIT;
	char h0[65], h1[65];
	char *f0, *f1;
	const char *g;

	m_health(p, s);
	s->health.interval_ms = 5000;
	s->health.start_period_ms = 60000;
	hash_of(p, s, h0, &f0);
	g = f0 ? strstr(f0, "healthcheck=") : NULL;
	ok(g && !strncmp(g, "healthcheck=" HEALTH_GROUP_PINNED ",", 21),
	   "a healthcheck without startInterval hashes as before: %s", f0);
	s->health.start_interval_ms = 1000;
	hash_of(p, s, h1, &f1);
	ok(h0[0] && h1[0] && strcmp(h0, h1), "startInterval changes the spec hash");
	spec_changed_fields(&changed, f0, f1);
	joined(&b, &changed);
	is_str(buf_cstr(&b), "healthcheck", "startInterval: changed fields");
	strvec_release(&changed);
	buf_release(&b);
	free(f0);
	free(f1);
	project_set_release(&set);
}

/* Constraints are a set; spread preferences apply in order. */
static void test_placement_order(void)
{
	struct project_set set = PROJECT_SET_INIT;
	struct project *p = base(&set);
	struct service *s = &p->services[0];
	char h0[65], h1[65], *f0, *f1;

	strvec_push(&s->constraints, "node.role==worker");
	strvec_push(&s->constraints, "node.labels.a==1");
	strvec_push(&s->preferences, "node.labels.zone");
	strvec_push(&s->preferences, "node.labels.rack");
	hash_of(p, s, h0, &f0);
	strvec_release(&s->constraints);
	strvec_push(&s->constraints, "node.labels.a==1");
	strvec_push(&s->constraints, "node.role==worker");
	hash_of(p, s, h1, &f1);
	ok(h0[0] && !strcmp(h0, h1), "constraints in another order: the same spec");
	free(f1);
	strvec_release(&s->preferences);
	strvec_push(&s->preferences, "node.labels.rack");
	strvec_push(&s->preferences, "node.labels.zone");
	hash_of(p, s, h1, &f1);
	ok(h1[0] && strcmp(h0, h1), "preferences in another order: another spread");
	free(f0);
	free(f1);
	project_set_release(&set);
}

static void test_same_meaning(void)
{
	static const struct {
		const char *what;
		void (*mutate)(struct project *, struct service *);
	} cases[] = {
		{ "env order", m_env_swap },
		{ "label order", m_label_swap },
		{ "restart unless-stopped spelled out", m_restart_default },
		{ "image tag latest spelled out", m_image_latest },
		{ "port protocol and host IP defaults spelled out", m_port_defaults },
		{ "positions in the file", m_positions },
		{ "dependsOn (not part of the container)", m_deps },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct project_set set = PROJECT_SET_INIT;
		struct project *p = base(&set);
		char h0[65], h1[65];
		char *f0, *f1;

		if (cases[i].mutate == m_image_latest) {
			tb_set(&p->services[0].image, "busybox");
		}
		hash_of(p, &p->services[0], h0, &f0);
		cases[i].mutate(p, &p->services[0]);
		hash_of(p, &p->services[0], h1, &f1);
		is_str(h1, h0, "%s does not change the hash", cases[i].what);
		is_str(f1, f0, "%s does not change the fields label", cases[i].what);
		free(f0);
		free(f1);
		project_set_release(&set);
	}
}

/* Length-prefixed encoding: values that concatenate alike still differ. */
static void test_no_ambiguity(void)
{
	struct project_set set = PROJECT_SET_INIT;
	struct project *p = tb_project(&set, "x");
	struct service *a = tb_service(p, "s", "img:1");
	struct service *b = tb_service(p, "s", "img:1");
	struct service *c = tb_service(p, "s", "img:1");
	char ha[65], hb[65], hc[65];
	char *fa, *fb, *fc;

	a->has_command = b->has_command = c->has_command = true;
	strvec_push(&a->command, "ab");
	strvec_push(&b->command, "a");
	strvec_push(&b->command, "b");
	strvec_push(&c->command, "a;b");
	tb_env(a, "K", "v;S1:x");
	tb_env(b, "K", "v");
	tb_env(b, "S1:x", "");
	hash_of(p, a, ha, &fa);
	hash_of(p, b, hb, &fb);
	hash_of(p, c, hc, &fc);
	ok(strcmp(ha, hb) && strcmp(ha, hc) && strcmp(hb, hc),
	   "[\"ab\"], [\"a\",\"b\"] and [\"a;b\"] hash differently");
	free(fa); free(fb); free(fc);
	project_set_release(&set);
}

static void test_secret_read(void)
{
	struct buf b = BUF_INIT;
	static const struct { const char *name, *key; } bad[] = {
		{ "..", "root" }, { "wp", ".." }, { "../etc", "passwd" },
		{ "wp", "a/b" }, { ".hidden", "k" }, { "wp", ".k" }, { "", "k" },
		{ "wp", "" },
	};
	size_t i;

	put_secret("wp", "root", "s3cret\n");
	put_secret("wp", "two", "line\n\n");
	put_secret("wp", "raw", "raw");
	ok(secret_read(secrets_dir, "wp", "root", &b) == 0, "secret read");
	is_str(buf_cstr(&b), "s3cret", "one trailing newline stripped");
	ok(secret_read(secrets_dir, "wp", "two", &b) == 0 &&
	   !strcmp(buf_cstr(&b), "line\n"), "only one newline stripped");
	ok(secret_read(secrets_dir, "wp", "raw", &b) == 0 &&
	   !strcmp(buf_cstr(&b), "raw"), "no newline: value as is");

	{
		char *want = xasprintf("secret 'wp/nope' not found in '%s'", secrets_dir);

		ok(secret_read(secrets_dir, "wp", "nope", &b) < 0, "missing secret fails");
		is_str(error_last(), want, "missing secret message names it and the directory");
		free(want);
	}
	ok(secret_read(secrets_dir, "nope", "root", &b) < 0, "missing secret name fails");
	ok(secret_read(NULL, "wp", "root", &b) < 0, "no secrets directory fails");

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ok(secret_read(secrets_dir, bad[i].name, bad[i].key, &b) < 0 &&
		   strstr(error_last(), "invalid name") != NULL,
		   "secret '%s/%s' refused", bad[i].name, bad[i].key);
	}
	{
		char *dir = xasprintf("%s/wp/sub", secrets_dir);

		mkdir(dir, 0700);
		ok(secret_read(secrets_dir, "wp", "sub", &b) < 0 &&
		   strstr(error_last(), "not a regular file"), "a directory is not a secret");
		free(dir);
	}
	{
		/* a FIFO with no writer would block open() and the pass with it */
		char *fifo = xasprintf("%s/wp/fifo", secrets_dir);
		int64_t t0 = monotonic_ms();

		ok(mkfifo(fifo, 0600) == 0, "fifo made");
		ok(secret_read(secrets_dir, "wp", "fifo", &b) < 0 &&
		   strstr(error_last(), "not a regular file") &&
		   monotonic_ms() - t0 < 5000, "a FIFO is refused at once, not waited on");
		free(fifo);
	}
	{
		char *path = xasprintf("%s/wp/nul", secrets_dir);
		FILE *f = fopen(path, "wb");

		fwrite("ab\0cd-NULSECRET\n", 1, 16, f);
		fclose(f);
		ok(secret_read(secrets_dir, "wp", "nul", &b) < 0 &&
		   strstr(error_last(), "'wp/nul'") && strstr(error_last(), "NUL byte") &&
		   !strstr(error_last(), "NULSECRET") && b.len == 0,
		   "a NUL byte is an error naming the secret, not a cut value");
		free(path);
	}
	buf_release(&b);
}

static void test_secret_hash(void)
{
	struct project_set set = PROJECT_SET_INIT;
	struct project *p = base(&set);
	struct service *s = &p->services[0];
	struct strvec changed = STRVEC_INIT;
	char h0[65], h1[65], h2[65];
	char *f0, *f1, *f2;

	tb_secret(s, "PASSWORD", "db", "pw");
	put_secret("db", "pw", "hunter2-first\n");
	hash_of(p, s, h0, &f0);
	put_secret("db", "pw", "hunter2-second\n");
	hash_of(p, s, h1, &f1);
	ok(h0[0] && h1[0] && strcmp(h0, h1), "a changed secret value changes the hash");
	spec_changed_fields(&changed, f0, f1);
	ok(changed.n == 1 && !strcmp(changed.v[0], "env"), "and shows as env");
	ok(!strstr(f0, "hunter2") && !strstr(f1, "hunter2") &&
	   !strstr(h0, "hunter2"), "the value never appears in the labels");
	{
		/* the label must not be the hash of the bare value either */
		char vh[65];

		sha256_hex("hunter2-second", 14, vh);
		ok(!strstr(f1, vh) && strncmp(h1, vh, 8), "nor the value's plain hash");
	}
	put_secret("db", "pw", "hunter2-second");
	hash_of(p, s, h2, &f2);
	is_str(h2, h1, "a trailing newline in the secret file changes nothing");
	/* a literal value equal to the secret's text is a different spec */
	tb_set(&s->env[2].secret_name, NULL);
	tb_set(&s->env[2].secret_key, NULL);
	tb_set(&s->env[2].value, "hunter2-second");
	free(f2);
	hash_of(p, s, h2, &f2);
	ok(strcmp(h2, h1), "literal and secret of the same text differ");
	strvec_release(&changed);
	free(f0); free(f1); free(f2);
	project_set_release(&set);
}

static void test_spec_compute(void)
{
	struct project_set set = PROJECT_SET_INIT;
	struct diags d = DIAGS_INIT;
	struct project *p, *q, *bad;
	struct service *s;
	char want[65], *wf;
	char *msg;

	p = base(&set);
	tb_secret(&p->services[0], "PW", "db", "pw");
	put_secret("db", "pw", "fine");
	s = tb_service(p, "worker", "shop/app:1");
	tb_secret(s, "X", "db", "missing1");
	tb_env(s, "Y", "y");
	tb_secret(s, "Z", "db", "missing2");
	tb_secret(s, "OK", "db", "pw");
	q = tb_project(&set, "other");
	tb_service(q, "web", "nginx:1");
	bad = tb_project(&set, "broken");
	tb_service(bad, "web", "nginx:1");
	bad->valid = false;

	spec_compute(&set, secrets_dir, &d);
	p = &set.v[0];
	q = &set.v[1];
	bad = &set.v[2];
	ok(!p->valid, "a project with a missing secret becomes invalid");
	is_int(d.nerrors, 2, "one error per missing secret");
	if (d.n >= 2) {
		is_str(d.v[0].file, "shop.yaml", "diag names the file");
		is_int(d.v[0].line, 11, "diag at the env entry's line");
		is_int(d.v[0].col, 11, "and column");
		is_str(d.v[0].path, "spec.services[1].env[0].valueFrom.secretKeyRef",
		       "diag path names the secretKeyRef");
		msg = xasprintf("secret 'db/missing1' not found in '%s'", secrets_dir);
		is_str(d.v[0].message, msg, "diag message from secret_read");
		free(msg);
		is_str(d.v[1].path, "spec.services[1].env[2].valueFrom.secretKeyRef",
		       "the second missing secret is reported too");
	}
	ok(q->valid && q->services[0].spec_hash && q->services[0].spec_fields,
	   "another project still gets its hashes");
	hash_of(q, &q->services[0], want, &wf);
	is_str(q->services[0].spec_hash, want, "spec_compute stores spec_service's hash");
	is_str(q->services[0].spec_fields, wf, "and its fields label");
	free(wf);
	ok(!bad->services[0].spec_hash, "an invalid project is left alone");

	/* computing twice replaces, never leaks or duplicates */
	spec_compute(&set, secrets_dir, &d);
	is_str(q->services[0].spec_hash, want, "recomputing gives the same hash");

	diags_release(&d);
	project_set_release(&set);
}

static bool not_shop(const struct project *p, void *arg)
{
	(void)arg;
	return strcmp(p->name, "shop") != 0;
}

/* A project placed on another host: its secrets are not this host's. */
static void test_spec_compute_where(void)
{
	struct project_set set = PROJECT_SET_INIT;
	struct diags d = DIAGS_INIT;
	struct project *p, *q;

	p = base(&set);
	tb_secret(&p->services[0], "X", "db", "missing1");
	q = tb_project(&set, "other");
	tb_service(q, "web", "nginx:1");
	spec_compute_where(&set, secrets_dir, &d, not_shop, NULL);
	p = &set.v[0];
	q = &set.v[1];
	ok(p->valid && !d.nerrors && !p->secret_missing && !p->services[0].spec_hash,
	   "a project left out: its missing secret is not read, no error, no hash");
	ok(q->valid && q->services[0].spec_hash, "the others get their hashes");
	diags_release(&d);
	project_set_release(&set);
}

static void test_changed_fields(void)
{
	static const struct { const char *old, *new_, *want; } cases[] = {
		{ "image=11111111,env=22222222", "image=11111111,env=22222222", "" },
		{ "image=11111111,env=22222222", "image=11111112,env=22222222", "image" },
		{ "image=11111111,env=22222222", "image=11111112,env=22222223", "image,env" },
		{ "", "image=11111111,env=22222222", "image,env" },
		{ "image=11111111,env=22222222", "", "image,env" },
		{ "image=11111111", "image=11111111,env=22222222", "env" },
		{ "image=11111111,gone=33333333", "image=11111111", "gone" },
		{ "env=22222222,image=11111111", "image=11111111,env=22222222", "" },
		{ "image=1111", "image=11111111", "image" },
	};
	struct strvec sv = STRVEC_INIT;
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		spec_changed_fields(&sv, cases[i].old, cases[i].new_);
		joined(&b, &sv);
		is_str(buf_cstr(&b), cases[i].want, "changed '%s' -> '%s'",
		       cases[i].old, cases[i].new_);
		strvec_release(&sv);
	}
	spec_changed_fields(&sv, NULL, NULL);
	is_int(sv.n, 0, "NULL labels: nothing changed");
	strvec_release(&sv);
	buf_release(&b);
}

int main(void)
{
	test_spec_compute_where();
	snprintf(secrets_dir, sizeof(secrets_dir), "/tmp/cara-test-spec-XXXXXX");
	if (!mkdtemp(secrets_dir)) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	test_determinism();
	test_every_group();
	test_optional_groups();
	test_start_interval();
	test_placement_order();
	test_same_meaning();
	test_no_ambiguity();
	test_secret_read();
	test_secret_hash();
	test_spec_compute();
	test_changed_fields();
	rm_secrets();
	return tap_done();
}
