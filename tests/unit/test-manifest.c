/*
 * test-manifest.c - the manifest parser and validator: every field of the
 * model, ${VAR} interpolation, each validation rule with the position and
 * field path it reports, hostile input, multi-document files, directory
 * loading, and Caravanserai's own examples, which must pass unchanged.
 */
/* Fixtures are made and removed with shell commands (see banned.h). */
#define CARA_BANNED_ALLOW_SHELL
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input/manifest.h"
#include "tap.h"

/* ---- helpers ---- */

static const char *const test_env[][2] = {
	{ "TAG", "1.25" },
	{ "PORT", "8081" },
	{ "EMPTY", "" },
	{ "REGISTRY", "ghcr.io/acme" },
	{ "DEFAULT_B", "bee" },
	{ "CARA_NOTIFY_URL", "https://hooks.example/SECRET-NOTIFY" },
	{ "DOCKER_HOST", "tcp://SECRET-DOCKER:2376" },
	{ "https_proxy", "http://user:SECRET-PROXY@proxy" },
	{ "GIT_TOKEN", "SECRET-TOKEN" },
	{ "APP_NAME", "blog" },
};

static const char *t_getenv(const char *name, void *ctx)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < ARRAY_SIZE(test_env); i++)
		if (!strcmp(test_env[i][0], name))
			return test_env[i][1];
	return NULL;
}

static struct manifest_options t_opts(void)
{
	struct manifest_options o;

	memset(&o, 0, sizeof(o));
	o.getenv = t_getenv;
	return o;
}

struct t {
	struct project_set set;
	struct diags d;
	struct buf text;         /* every finding, one per line */
};

static void t_render(struct t *t)
{
	size_t i;

	buf_reset(&t->text);
	diags_sort(&t->d);
	for (i = 0; i < t->d.n; i++) {
		diag_format(&t->text, &t->d.v[i]);
		buf_putc(&t->text, '\n');
	}
}

/* Parse one file "t.yaml" with opts (NULL: t_opts()), then the set checks. */
static void t_parse_opts(struct t *t, const char *yaml,
			 const struct manifest_options *opts)
{
	struct manifest_options o = t_opts();

	memset(t, 0, sizeof(*t));
	manifest_parse_buffer(&t->set, "t.yaml", yaml, strlen(yaml),
			      opts ? opts : &o, &t->d);
	manifest_validate_set(&t->set, &t->d);
	t_render(t);
}

static void t_parse(struct t *t, const char *yaml)
{
	t_parse_opts(t, yaml, NULL);
}

static void t_free(struct t *t)
{
	project_set_release(&t->set);
	diags_release(&t->d);
	buf_release(&t->text);
}

static bool has(const struct t *t, const char *want)
{
	return strstr(buf_cstr(&t->text), want) != NULL;
}

#define expect(t, want, ...) do { \
	if (!ok(has((t), (want)), __VA_ARGS__)) \
		printf("#   want: %s\n#   got:\n%s", (want), buf_cstr(&(t)->text)); \
} while (0)

#define clean(t, ...) do { \
	if (!ok((t)->d.n == 0, __VA_ARGS__)) \
		printf("#   findings:\n%s", buf_cstr(&(t)->text)); \
} while (0)

static const struct project *first(const struct t *t)
{
	return t->set.n ? &t->set.v[0] : NULL;
}

#define HEAD "apiVersion: caravanserai/v1\nkind: Project\nmetadata:\n  name: p\nspec:\n"
#define HEAD_NAMED "apiVersion: caravanserai/v1\nkind: Project\nmetadata:\n  name: p%zu\nspec:\n"

/* ---- Caravanserai's own examples, unchanged ---- */

static const char wordpress_yaml[] =
	"# Caravanserai's WordPress example, unchanged: cara accepts caravanserai/v1\n"
	"# manifests as they are.\n"
	"apiVersion: caravanserai/v1\n"
	"kind: Project\n"
	"metadata:\n"
	"  name: wordpress\n"
	"  labels:\n"
	"    app: wordpress\n"
	"spec:\n"
	"  services:\n"
	"    - name: mysql\n"
	"      image: mysql:8.0\n"
	"      env:\n"
	"        - name: MYSQL_ROOT_PASSWORD\n"
	"          value: rootpassword\n"
	"        - name: MYSQL_DATABASE\n"
	"          value: wordpress\n"
	"        - name: MYSQL_USER\n"
	"          value: wordpress\n"
	"        - name: MYSQL_PASSWORD\n"
	"          value: wordpress\n"
	"      volumeMounts:\n"
	"        - name: mysql-data\n"
	"          mountPath: /var/lib/mysql\n"
	"    - name: wordpress\n"
	"      image: wordpress:latest\n"
	"      env:\n"
	"        - name: WORDPRESS_DB_HOST\n"
	"          value: mysql\n"
	"        - name: WORDPRESS_DB_USER\n"
	"          value: wordpress\n"
	"        - name: WORDPRESS_DB_PASSWORD\n"
	"          value: wordpress\n"
	"        - name: WORDPRESS_DB_NAME\n"
	"          value: wordpress\n"
	"      volumeMounts:\n"
	"        - name: wordpress-data\n"
	"          mountPath: /var/www/html\n"
	"  volumes:\n"
	"    - name: mysql-data\n"
	"      type: Ephemeral\n"
	"    - name: wordpress-data\n"
	"      type: Ephemeral\n"
	"  ingress:\n"
	"    - name: wordpress\n"
	"      host: wordpress.example.com\n"
	"      target:\n"
	"        service: wordpress\n"
	"        port: 80\n"
	"      access:\n"
	"        scope: Public\n";

static const char nginx_yaml[] =
	"apiVersion: caravanserai/v1\n"
	"kind: Project\n"
	"metadata:\n"
	"  name: nginx\n"
	"spec:\n"
	"  services:\n"
	"    - name: nginx\n"
	"      image: nginx:latest\n";

static void test_caravanserai_examples(void)
{
	struct t t;
	const struct project *p;
	const struct service *s;

	t_parse(&t, wordpress_yaml);
	clean(&t, "WordPress example: no finding at all");
	is_int(t.set.n, 1, "WordPress example: one project");
	p = first(&t);
	if (p) {
		is_str(p->name, "wordpress", "project name");
		is_str(p->file, "t.yaml", "project file");
		ok(p->valid, "project valid");
		is_int(p->pos.line, 3, "project position is the document's");
		is_int(p->labels.n, 1, "metadata.labels");
		is_int(p->nservices, 2, "two services");
		is_int(p->nvolumes, 2, "two volumes");
		is_int(p->ningress, 1, "one ingress");
		s = project_find_service(p, "mysql");
		ok(s && s->nenv == 4 && !strcmp(s->env[0].name, "MYSQL_ROOT_PASSWORD") &&
		   !strcmp(s->env[0].value, "rootpassword") && !s->env[0].secret_name,
		   "mysql env");
		ok(s && s->nmounts == 1 && !strcmp(s->mounts[0].name, "mysql-data") &&
		   !strcmp(s->mounts[0].mount_path, "/var/lib/mysql"), "mysql mount");
		ok(s && s->restart == RESTART_DEFAULT && s->stop_grace_ms == -1 &&
		   !s->health.present && !s->has_command, "defaults");
		ok(p->volumes[0].type == VOLUME_EPHEMERAL, "volume type Ephemeral");
		is_str(p->ingress[0].host, "wordpress.example.com", "ingress host");
		is_str(p->ingress[0].fqdn, "wordpress.example.com", "a host with a dot is the fqdn");
		is_str(p->ingress[0].target_service, "wordpress", "ingress target service");
		is_int(p->ingress[0].target_port, 80, "ingress target port");
		is_str(p->ingress[0].scope, "Public", "ingress scope");
	}
	t_free(&t);

	t_parse(&t, nginx_yaml);
	clean(&t, "nginx example: no finding");
	ok(t.set.n == 1 && t.set.v[0].valid && t.set.v[0].nservices == 1,
	   "nginx example: one valid project, one service");
	t_free(&t);
}

/* ---- every field ---- */

static const char design_yaml[] =
	"apiVersion: caravanserai/v1\n"
	"kind: Project\n"
	"metadata:\n"
	"  name: wordpress\n"
	"  labels: {team: web}\n"
	"  annotations: {owner: \"ops@example.com\"}\n"
	"spec:\n"
	"  expireAt: 2026-12-01T00:00:00Z\n"
	"  services:\n"
	"    - name: db\n"
	"      image: mysql:8\n"
	"      env:\n"
	"        - {name: MYSQL_ROOT_PASSWORD, valueFrom: {secretKeyRef: {name: wp, key: root}}}\n"
	"      volumeMounts: [{name: mysql-data, mountPath: /var/lib/mysql}]\n"
	"      healthcheck: {test: [\"CMD\", \"mysqladmin\", \"ping\"], interval: 5s, timeout: 3s, retries: 20}\n"
	"    - name: migrate\n"
	"      image: wordpress:6\n"
	"      command: [\"wp\", \"core\", \"update-db\"]\n"
	"      restart: \"no\"\n"
	"      dependsOn: [{service: db, condition: Healthy}]\n"
	"    - name: app\n"
	"      image: wordpress:6\n"
	"      env: [{name: WORDPRESS_DB_HOST, value: db}]\n"
	"      ports: [{hostIP: 127.0.0.1, hostPort: 8088, containerPort: 80}]\n"
	"      dependsOn: [{service: migrate, condition: Completed}]\n"
	"  volumes:\n"
	"    - {name: mysql-data, type: Managed}\n"
	"  ingress:\n"
	"    - name: web\n"
	"      host: blog\n"
	"      target: {service: app, port: 80}\n"
	"      access: {scope: Internal}\n";

static void test_design_example(void)
{
	struct manifest_options o = t_opts();
	const struct project *p;
	const struct service *db, *mig, *app;
	struct t t;

	o.ingress_env = "prod";
	o.base_domain = "example.com";
	t_parse_opts(&t, design_yaml, &o);
	clean(&t, "DESIGN.md example: no finding");
	p = first(&t);
	if (!ok(p != NULL, "DESIGN.md example parsed"))
		goto out;
	ok(p->has_expire && p->expire_at == 1796083200, "expireAt 2026-12-01T00:00:00Z");
	is_str(p->annotations.v[0].value, "ops@example.com", "annotations");
	db = project_find_service(p, "db");
	mig = project_find_service(p, "migrate");
	app = project_find_service(p, "app");
	ok(db && mig && app, "services found by name");
	if (!db || !mig || !app)
		goto out;
	ok(db->env[0].value == NULL && !strcmp(db->env[0].secret_name, "wp") &&
	   !strcmp(db->env[0].secret_key, "root"), "env valueFrom secretKeyRef");
	ok(db->health.present && db->health.test.n == 3 &&
	   !strcmp(db->health.test.v[0], "CMD") && db->health.interval_ms == 5000 &&
	   db->health.timeout_ms == 3000 && db->health.retries == 20,
	   "healthcheck list, interval, timeout, retries");
	ok(mig->has_command && mig->command.n == 3 &&
	   !strcmp(mig->command.v[2], "update-db"), "command list");
	ok(mig->restart == RESTART_NO, "restart \"no\"");
	ok(mig->ndeps == 1 && !strcmp(mig->deps[0].service, "db") &&
	   mig->deps[0].condition == DEP_HEALTHY, "dependsOn Healthy");
	ok(app->ndeps == 1 && app->deps[0].condition == DEP_COMPLETED,
	   "dependsOn Completed");
	ok(app->nports == 1 && !strcmp(app->ports[0].host_ip, "127.0.0.1") &&
	   app->ports[0].host_port == 8088 && app->ports[0].container_port == 80 &&
	   app->ports[0].protocol == NULL, "ports");
	ok(p->volumes[0].type == VOLUME_MANAGED, "volume Managed");
	is_str(p->ingress[0].fqdn, "blog.prod.example.com",
	       "a short host becomes host.environment.baseDomain");
	is_str(p->ingress[0].scope, "Internal", "scope Internal");
out:
	t_free(&t);
}

static void test_extensions(void)
{
	struct manifest_options o = t_opts();
	const char *roots[] = { "/srv/cara" };
	const struct service *s;
	const struct project *p;
	struct t t;

	o.hostpath_roots = roots;
	o.nhostpath_roots = 1;
	o.base_domain = "example.com";   /* no environment: short hosts stay */
	t_parse_opts(&t, HEAD
		"  services:\n"
		"    - name: web\n"
		"      image: registry.example.com:5000/team/web@sha256:"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
		"      entrypoint: [\"/bin/sh\", \"-c\"]\n"
		"      command: [\"exec httpd -f\"]\n"
		"      workingDir: /srv\n"
		"      user: 1000\n"
		"      stopGracePeriod: 1m30s\n"
		"      restart: on-failure\n"
		"      imagePullPolicy: Always\n"
		"      labels: {tier: front, \"example.com/x\": \"1\"}\n"
		"      resources: {memory: 256Mi, cpus: \"0.5\"}\n"
		"      healthcheck:\n"
		"        test: curl -fsS http://localhost/\n"
		"        startPeriod: 500ms\n"
		"        startInterval: 2s\n"
		"      ports:\n"
		"        - {containerPort: 53, protocol: udp}\n"
		"        - {hostIP: \"::1\", hostPort: 8053, containerPort: 53, protocol: TCP}\n"
		"      volumeMounts:\n"
		"        - {name: cfg, mountPath: /etc/web, readOnly: true}\n"
		"        - {name: data, mountPath: /data}\n"
		"      dependsOn: [db]\n"
		"      networks: [default, {name: back, aliases: [api]}, proxy]\n"
		"    - name: db\n"
		"      image: postgres\n"
		"      resources: {memory: 1g, cpus: 250m}\n"
		"      restart: always\n"
		"      healthcheck: {test: [\"NONE\"]}\n"
		"  volumes:\n"
		"    - {name: cfg, type: HostPath, hostPath: /srv/cara/web}\n"
		"    - {name: data, type: Ephemeral}\n"
		"    - {name: shared, type: External, externalName: shared-data}\n"
		"    - {name: logs, type: External}\n"
		"  networks:\n"
		"    - {name: back, internal: true}\n"
		"    - {name: proxy, external: true, externalName: traefik-public}\n"
		"  ingress:\n"
		"    - {name: web, host: web, target: {service: web, port: 53}}\n", &o);
	clean(&t, "every extension field: no finding");
	p = first(&t);
	s = p ? project_find_service(p, "web") : NULL;
	if (!ok(s != NULL, "extensions parsed"))
		goto out;
	ok(s->has_entrypoint && s->entrypoint.n == 2 && !strcmp(s->entrypoint.v[1], "-c"),
	   "entrypoint");
	is_str(s->working_dir, "/srv", "workingDir");
	is_str(s->user, "1000", "user (a number is kept as text)");
	is_int(s->stop_grace_ms, 90000, "stopGracePeriod 1m30s");
	ok(s->restart == RESTART_ON_FAILURE, "restart on-failure");
	ok(s->pull_policy == PULL_ALWAYS, "imagePullPolicy Always");
	ok(s->labels.n == 2 && !strcmp(s->labels.v[1].key, "example.com/x"), "labels");
	is_int(s->memory_bytes, 268435456, "memory 256Mi");
	is_int(s->nano_cpus, 500000000, "cpus 0.5");
	ok(s->health.test.n == 2 && !strcmp(s->health.test.v[0], "CMD-SHELL") &&
	   !strcmp(s->health.test.v[1], "curl -fsS http://localhost/"),
	   "healthcheck test as a string is CMD-SHELL");
	is_int(s->health.start_period_ms, 500, "startPeriod 500ms");
	is_int(s->health.start_interval_ms, 2000, "startInterval 2s");
	ok(s->health.start_interval_pos.line == s->health.pos.line + 2,
	   "  and where it is (%d)", s->health.start_interval_pos.line);
	ok(s->ports[0].host_ip == NULL && s->ports[0].host_port == 0 &&
	   !strcmp(s->ports[0].protocol, "udp"), "port without host side, udp");
	ok(!strcmp(s->ports[1].host_ip, "::1") && !strcmp(s->ports[1].protocol, "tcp"),
	   "IPv6 host IP; protocol lowercased");
	ok(s->mounts[0].read_only && !s->mounts[1].read_only, "readOnly");
	ok(s->ndeps == 1 && !strcmp(s->deps[0].service, "db") &&
	   s->deps[0].condition == DEP_STARTED, "dependsOn as a bare name means Started");
	s = project_find_service(p, "db");
	ok(s && s->memory_bytes == 1073741824 && s->nano_cpus == 250000000,
	   "memory 1g, cpus 250m");
	ok(s && s->restart == RESTART_ALWAYS && s->health.test.n == 1,
	   "restart always, healthcheck NONE");
	ok(s && s->pull_policy == PULL_IF_NOT_PRESENT, "imagePullPolicy defaults to IfNotPresent");
	ok(p->volumes[0].type == VOLUME_HOSTPATH &&
	   !strcmp(p->volumes[0].host_path, "/srv/cara/web"), "HostPath volume");
	ok(p->volumes[2].type == VOLUME_EXTERNAL &&
	   !strcmp(p->volumes[2].external_name, "shared-data"),
	   "External volume: externalName is its real name");
	ok(p->volumes[3].type == VOLUME_EXTERNAL &&
	   !strcmp(p->volumes[3].external_name, "logs"),
	   "External volume without externalName: its name");
	is_str(p->ingress[0].fqdn, "web", "without an environment a short host stays");
	ok(p->nnetworks == 2 && p->networks[0].internal && !p->networks[0].external &&
	   p->networks[1].external &&
	   !strcmp(p->networks[1].external_name, "traefik-public"),
	   "networks: back internal, proxy External by its name");
	s = project_find_service(p, "web");
	ok(s && s->nnets == 3 && !strcmp(s->nets[0].name, "default") &&
	   !strcmp(s->nets[1].name, "back") && s->nets[1].aliases.n == 1 &&
	   !strcmp(s->nets[1].aliases.v[0], "api") && !strcmp(s->nets[2].name, "proxy"),
	   "a service's networks: names, or name and aliases");
out:
	t_free(&t);
}

/* ---- host settings ---- */

static void test_host_settings(void)
{
	struct manifest_options o = t_opts();
	const struct service *s;
	const struct project *p;
	struct t t;
	static const char y[] = HEAD
		"  services:\n"
		"    - name: web\n"
		"      image: busybox\n"
		"      restart: on-failure\n"
		"      restartRetries: 2\n"
		"      capAdd: [NET_ADMIN]\n"
		"      capDrop: [MKNOD]\n"
		"      privileged: true\n"
		"      readOnly: true\n"
		"      tmpfs: [/run, \"/tmp:size=1m\"]\n"
		"      hostname: web1\n"
		"      init: true\n"
		"      stopSignal: SIGQUIT\n"
		"      extraHosts: [\"db:10.1.1.1\"]\n"
		"      dns: [1.1.1.1, 9.9.9.9]\n"
		"      shmSize: 128m\n"
		"      sysctls: {net.ipv4.ip_forward: \"1\"}\n"
		"      ulimits: {nofile: {soft: 10, hard: 20}}\n"
		"      securityOpt: [apparmor=unconfined]\n"
		"      expose: [\"8080\"]\n"
		"      aliases: [www]\n"
		"      tty: true\n"
		"      stdinOpen: true\n"
		"      domainname: example.internal\n"
		"      pidsLimit: 64\n"
		"      oomScoreAdj: -10\n"
		"      groupAdd: [audio]\n"
		"      dnsSearch: example.com\n"
		"      dnsOptions: [\"ndots:2\"]\n";

	t_parse_opts(&t, y, &o);
	expect(&t, "t.yaml:11:16: spec.services[0].capAdd[0]: capability NET_ADMIN",
	       "capAdd beyond the default set: refused");
	expect(&t, "spec.services[0].privileged: a privileged container has root "
	       "power over the host: needs --allow-privileged on this host",
	       "privileged: refused");
	expect(&t, "spec.services[0].securityOpt[0]: security option",
	       "securityOpt: refused");
	expect(&t, "spec.services[0].oomScoreAdj: an OOM score adjustment of -10 makes the "
	       "kernel kill the host's other processes", "oomScoreAdj below 0: refused");
	ok(t.set.n == 1 && !t.set.v[0].valid, "  and the project is invalid");
	t_free(&t);
	o.allow_privileged = true;
	t_parse_opts(&t, y, &o);
	clean(&t, "with allowPrivileged: no finding");
	p = first(&t);
	s = p ? project_find_service(p, "web") : NULL;
	if (!ok(s != NULL, "parsed"))
		goto out;
	ok(s->restart_retries == 2 && s->cap_add.n == 1 && s->cap_drop.n == 1 &&
	   s->privileged && s->read_only && s->tmpfs.n == 2 && s->has_init &&
	   s->init && s->extra_hosts.n == 1 && s->dns.n == 2 &&
	   s->shm_bytes == 128 << 20 && s->sysctls.n == 1 && s->nulimits == 1 &&
	   s->ulimits[0].hard == 20 && s->security_opt.n == 1 &&
	   s->expose.n == 1 && !strcmp(s->expose.v[0], "8080/tcp") &&
	   s->aliases.n == 1, "every host setting read");
	is_str(s->hostname, "web1", "hostname");
	is_str(s->stop_signal, "SIGQUIT", "stopSignal");
	ok(s->tty && s->stdin_open && s->pids_limit == 64 && s->has_oom_score_adj &&
	   s->oom_score_adj == -10 && s->group_add.n == 1 && s->dns_search.n == 1 &&
	   s->dns_opt.n == 1, "tty, stdinOpen, pidsLimit, oomScoreAdj, groupAdd, "
	   "dnsSearch, dnsOptions");
	is_str(s->domainname, "example.internal", "domainname");
out:
	t_free(&t);
	t_parse(&t, HEAD "  services:\n    - name: a\n      image: x\n"
		"      restart: always\n      restartRetries: 2\n");
	expect(&t, "restartRetries: only with restart: on-failure",
	       "restartRetries needs on-failure");
	t_free(&t);
}

/* resources beyond memory and cpus: reservation, swap limit, shares,
 * and a CPU reservation on a cluster only */
static void test_resources(void)
{
	struct manifest_options o = t_opts();
	const struct project *p;
	const struct service *s;
	struct t t;

	t_parse(&t, HEAD "  services:\n    - name: a\n      image: x\n"
		"      resources: {memory: 512Mi, memoryReservation: 128Mi, "
		"memorySwap: 1Gi, cpuShares: 512}\n"
		"    - name: b\n      image: x\n"
		"      resources: {memory: 64m, memorySwap: -1, memoryReservation: 64m}\n"
		"    - name: c\n      image: x\n      resources: {cpus: 1}\n");
	clean(&t, "memoryReservation, memorySwap, cpuShares: read");
	p = first(&t);
	s = p ? project_find_service(p, "a") : NULL;
	ok(s && s->memory_reservation_bytes == 128 << 20 &&
	   s->memory_swap_bytes == 1 << 30 && s->cpu_shares == 512,
	   "memoryReservation 128Mi, memorySwap 1Gi, cpuShares 512");
	s = p ? project_find_service(p, "b") : NULL;
	ok(s && s->memory_swap_bytes == -1 && s->memory_reservation_bytes == 64 << 20,
	   "memorySwap -1: no limit on swap; a reservation equal to the limit");
	s = p ? project_find_service(p, "c") : NULL;
	ok(s && !s->memory_reservation_bytes && !s->memory_swap_bytes &&
	   !s->cpu_shares && !s->nano_cpus_reservation, "none set: none");
	t_free(&t);

	t_parse(&t, HEAD "  services:\n    - name: a\n      image: x\n"
		"      resources: {memorySwap: 1Gi}\n");
	expect(&t, "t.yaml:9:31: spec.services[0].resources.memorySwap: a swap "
	       "limit needs a memory limit", "memorySwap without memory: refused");
	ok(t.set.n == 1 && !t.set.v[0].valid, "  and the project is invalid");
	t_free(&t);

	t_parse(&t, HEAD "  services:\n    - name: a\n      image: x\n"
		"      resources: {memory: 1Gi, memorySwap: 512Mi, "
		"memoryReservation: 2Gi, cpuShares: 0}\n");
	expect(&t, "spec.services[0].resources.memorySwap: 536870912 bytes is "
	       "below the memory limit of 1073741824", "memorySwap below memory: refused");
	expect(&t, "spec.services[0].resources.memoryReservation: a memory "
	       "reservation of 2147483648 bytes is above the memory limit",
	       "memoryReservation above memory: refused");
	expect(&t, "spec.services[0].resources.cpuShares: 0 is out of range "
	       "(2 to 262144)", "cpuShares 0: refused");
	t_free(&t);

	t_parse(&t, HEAD "  services:\n    - name: a\n      image: x\n"
		"      resources: {cpusReservation: \"0.5\"}\n");
	expect(&t, "spec.services[0].resources.cpusReservation: a CPU reservation "
	       "is a Swarm option: it needs --backend swarm",
	       "cpusReservation on the engine backend: refused");
	t_free(&t);
	o.cluster = true;
	t_parse_opts(&t, HEAD "  services:\n    - name: a\n      image: x\n"
		     "      resources: {cpusReservation: 500m, memoryReservation: 1Gi}\n",
		     &o);
	clean(&t, "cpusReservation on a cluster");
	p = first(&t);
	s = p ? project_find_service(p, "a") : NULL;
	ok(s && s->nano_cpus_reservation == 500000000 &&
	   s->memory_reservation_bytes == 1 << 30, "  read");
	t_free(&t);
}

/* ---- interpolation ---- */

static void test_interpolation(void)
{
	struct t t;
	const struct service *s;
	const char *want[] = {
		"1.25", "def", "def", "", "a$b", "$HOME", "bee-x", "pre-8081-post",
		"${literal}",
	};
	size_t i;

	t_parse(&t, HEAD
		"  services:\n"
		"    - name: app\n"
		"      image: ${REGISTRY}/app:${TAG}\n"
		"      ports: [{hostPort: \"${PORT}\", containerPort: 80}]\n"
		"      env:\n"
		"        - {name: A, value: \"${TAG}\"}\n"
		"        - {name: B, value: \"${UNSET:-def}\"}\n"
		"        - {name: C, value: \"${EMPTY:-def}\"}\n"
		"        - {name: D, value: \"${EMPTY-def}\"}\n"
		"        - {name: E, value: \"a$$b\"}\n"
		"        - {name: F, value: \"$HOME\"}\n"
		"        - {name: G, value: \"${UNSET:-${DEFAULT_B}-x}\"}\n"
		"        - {name: H, value: \"pre-${PORT:?needed}-post\"}\n"
		"        - {name: I, value: \"$${literal}\"}\n");
	clean(&t, "interpolation: no finding");
	s = first(&t) ? &first(&t)->services[0] : NULL;
	if (ok(s != NULL, "interpolated project parsed")) {
		is_str(s->image, "ghcr.io/acme/app:1.25", "${VAR} in an image");
		is_int(s->ports[0].host_port, 8081, "${VAR} in an integer field");
		for (i = 0; i < ARRAY_SIZE(want) && i < s->nenv; i++)
			is_str(s->env[i].value, want[i], "env %s", s->env[i].name);
	}
	t_free(&t);

	t_parse(&t, HEAD
		"  services:\n"
		"    - name: app\n"
		"      image: app:${NOPE}\n"
		"      env:\n"
		"        - {name: A, value: \"${NOPE_TOO:?set it in CI}\"}\n"
		"        - {name: B, value: \"${EMPTY:?must not be empty}\"}\n"
		"        - {name: C, value: \"${unterminated\"}\n"
		"        - {name: D, value: \"${9bad}\"}\n"
		"        - {name: E, value: \"${A:+x}\"}\n");
	expect(&t, "t.yaml:8:14: spec.services[0].image: variable 'NOPE' is not set",
	       "an unset ${VAR} is an error naming it");
	expect(&t, "spec.services[0].env[0].value: required variable 'NOPE_TOO' is not "
	       "set: set it in CI", "${VAR:?message} carries the message");
	expect(&t, "env[1].value: required variable 'EMPTY' is empty: must not be empty",
	       "${VAR:?} refuses an empty value");
	expect(&t, "env[2].value: unterminated '${'", "unterminated ${");
	expect(&t, "env[3].value: invalid variable reference '${9bad}'", "bad name");
	expect(&t, "env[4].value: invalid variable reference '${A...}'", "unknown operator");
	ok(first(&t) && !first(&t)->valid, "interpolation errors make the project invalid");
	t_free(&t);

	/* cara's own variables are refused, with or without a default, and
	 * their values appear nowhere */
	{
		struct manifest_options o = t_opts();
		const char *allow[] = { "APP_*", "TAG" };

		o.token_env = "GIT_TOKEN";
		t_parse_opts(&t, HEAD
			"  services:\n"
			"    - name: app\n"
			"      image: app:1\n"
			"      env:\n"
			"        - {name: A, value: \"${CARA_NOTIFY_URL}\"}\n"
			"        - {name: B, value: \"x${DOCKER_HOST:-d}\"}\n"
			"        - {name: C, value: \"${https_proxy}\"}\n"
			"        - {name: D, value: \"${GIT_TOKEN:?}\"}\n"
			"        - {name: E, value: \"${UNSET:-${CARA_NOTIFY_URL}}\"}\n"
			"        - {name: F, value: \"${TAG}\"}\n", &o);
		expect(&t, "env[0].value: variable 'CARA_NOTIFY_URL' belongs to cara",
		       "a CARA_* variable is refused");
		expect(&t, "env[1].value: variable 'DOCKER_HOST' belongs to cara",
		       "a DOCKER_* variable is refused, default or not");
		expect(&t, "env[2].value: variable 'https_proxy' belongs to cara",
		       "a proxy variable (it may hold a password) is refused");
		expect(&t, "env[3].value: variable 'GIT_TOKEN' holds cara's git token",
		       "the --token-env variable is refused");
		expect(&t, "env[4].value: variable 'CARA_NOTIFY_URL'",
		       "a refused variable inside a default is refused too");
		ok(!strstr(buf_cstr(&t.text), "SECRET"), "no refused value in any finding");
		ok(first(&t) && !first(&t)->valid, "a refused variable makes the project invalid");
		t_free(&t);

		o.interp_allow = allow;
		o.ninterp_allow = ARRAY_SIZE(allow);
		t_parse_opts(&t, HEAD
			"  services:\n"
			"    - name: app\n"
			"      image: app:${TAG}\n"
			"      env:\n"
			"        - {name: A, value: \"${APP_NAME}\"}\n"
			"        - {name: B, value: \"${PORT}\"}\n"
			"        - {name: C, value: \"${APP}\"}\n", &o);
		expect(&t, "env[1].value: variable 'PORT' is not in --interpolate-allow",
		       "a name outside the allowlist is refused");
		expect(&t, "env[2].value: variable 'APP' is not in --interpolate-allow",
		       "PREFIX* matches by prefix only");
		ok(t.d.n == 2, "allowed names (exact and by prefix) are read");
		t_free(&t);
	}
	ok(manifest_check_var_access("cara_x", NULL) != NULL &&
	   manifest_check_var_access("ALL_PROXY", NULL) != NULL &&
	   manifest_check_var_access("SSH_AUTH_SOCK", NULL) != NULL &&
	   manifest_check_var_access("HOME", NULL) == NULL &&
	   manifest_check_var_access("PROXY", NULL) == NULL,
	   "manifest_check_var_access: the refused families");

	/* without opts->getenv the process environment is used */
	{
		struct manifest_options o;

		memset(&o, 0, sizeof(o));
		setenv("MANIFEST_TEST_VAR", "from-env", 1);
		t_parse_opts(&t, HEAD "  services:\n    - name: a\n      image: x\n"
			     "      env: [{name: V, value: \"${MANIFEST_TEST_VAR}\"}]\n", &o);
		ok(first(&t) && !strcmp(first(&t)->services[0].env[0].value, "from-env"),
		   "getenv() when opts->getenv is NULL");
		t_free(&t);
		unsetenv("MANIFEST_TEST_VAR");
	}
}

/* ---- alias expansion in bytes ---- */

/* 60 aliases of a 64 KiB scalar: 3.75 MiB per file, under the file budget;
 * nine such files pass the 32 MiB budget of a whole source. */
static void test_alias_bytes(void)
{
	struct project_set set = PROJECT_SET_INIT;
	struct manifest_options o = t_opts();
	struct diags d = DIAGS_INIT;
	struct buf y = BUF_INIT, big = BUF_INIT;
	size_t i, k, nerr_before = 0;
	bool per_file_ok = true;

	for (i = 0; i < (64 << 10); i++)
		buf_putc(&big, 'x');
	for (k = 0; k < 9; k++) {
		char file[32];

		buf_reset(&y);
		buf_printf(&y, HEAD_NAMED "  services: [{name: a, image: x}]\n"
			   "  x-big: &big \"%s\"\n  x-many:\n", k, buf_cstr(&big));
		for (i = 0; i < 60; i++)
			buf_puts(&y, "    - *big\n");
		snprintf(file, sizeof(file), "f%zu.yaml", k);
		nerr_before = d.nerrors;
		manifest_parse_buffer(&set, file, y.ptr, y.len, &o, &d);
		if (k < 8 && d.nerrors != nerr_before)
			per_file_ok = false;
	}
	ok(per_file_ok, "eight files each under the per-file budget are read");
	ok(d.nerrors == 1 && d.n && strstr(d.v[d.n - 1].message,
					    "aliases of the whole source expand to more than"),
	   "the ninth passes the budget of the whole source: %s",
	   d.n ? d.v[d.n - 1].message : "");
	ok(set.incomplete, "which makes the source incomplete: nothing is pruned");
	buf_release(&y);
	buf_release(&big);
	diags_release(&d);
	project_set_release(&set);
}

/* ---- names ---- */

static void test_names(void)
{
	static const char *const good[] = { "b", "project.example.com", "a-b", "0", "x1.y2" };
	static const char *const bad[] = {
		"MyProject", ".invalid-start", "invalid-end.", "with space", "a&!", "",
		"-a", "a_b",
	};
	char big[1001], yaml[2048];
	struct t t;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++)
		ok(!manifest_check_project_name(good[i]), "project name '%s' passes", good[i]);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ok(manifest_check_project_name(bad[i]) != NULL, "project name '%s' fails",
		   bad[i]);
	memset(big, 'x', 1000);
	big[1000] = '\0';
	ok(manifest_check_project_name(big) != NULL, "1000 x's fail");
	big[253] = '\0';
	ok(!manifest_check_project_name(big), "253 x's pass");

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		snprintf(yaml, sizeof(yaml), "apiVersion: caravanserai/v1\nkind: Project\n"
			 "metadata: {name: \"%s\"}\nspec: {services: [{name: a, image: x}]}\n",
			 good[i]);
		t_parse(&t, yaml);
		clean(&t, "metadata.name '%s' validates", good[i]);
		t_free(&t);
	}
	for (i = 0; i < 5; i++) {
		snprintf(yaml, sizeof(yaml), "apiVersion: caravanserai/v1\nkind: Project\n"
			 "metadata: {name: \"%s\"}\nspec: {services: [{name: a, image: x}]}\n",
			 bad[i]);
		t_parse(&t, yaml);
		ok(t.set.n == 1 && !t.set.v[0].valid && has(&t, "3:18: metadata.name: "
		   "invalid project name"), "metadata.name '%s' is an error at 3:18", bad[i]);
		t_free(&t);
	}
	snprintf(yaml, sizeof(yaml), "apiVersion: caravanserai/v1\nkind: Project\n"
		 "metadata: {name: %s}\nspec: {services: [{name: a, image: x}]}\n",
		 (memset(big, 'x', 1000), big[1000] = '\0', big));
	t_parse(&t, yaml);
	expect(&t, "must be at most 253 characters", "1000 x's through the parser");
	t_free(&t);

	ok(!manifest_check_object_name("db") && !manifest_check_object_name("my_db.1-a"),
	   "service names with _ . -");
	ok(manifest_check_object_name("Db") && manifest_check_object_name("-db") &&
	   manifest_check_object_name("d b") && manifest_check_object_name(""),
	   "service names: uppercase, leading '-', space, empty");
	memset(big, 'a', 64);
	big[64] = '\0';
	ok(manifest_check_object_name(big) != NULL, "64-character service name fails");
	big[63] = '\0';
	ok(!manifest_check_object_name(big), "63-character service name passes");
	ok(!manifest_check_env_name("A_B") && !manifest_check_env_name("a.b-c") &&
	   manifest_check_env_name("1A") && manifest_check_env_name("A=B") &&
	   manifest_check_env_name(""), "env names");
	ok(!manifest_check_hostname("blog") && !manifest_check_hostname("a-1.example.com") &&
	   manifest_check_hostname("Blog") && manifest_check_hostname("-a") &&
	   manifest_check_hostname("a..b") && manifest_check_hostname("a_b"),
	   "ingress host names");
}

static void test_images(void)
{
	static const char *const good[] = {
		"nginx", "nginx:1.25", "library/nginx:latest", "ghcr.io/a/b:1.0",
		"localhost:5000/x", "localhost/x", "a_b", "a__b", "a-b--c", "a.b/c",
		"minio/minio:RELEASE.2024-06-13T22-53-53Z", "cara-local/busybox:1",
		"registry.example.com:5000/team/app@sha256:"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"nginx:1.25@sha256:"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	};
	static const char *const bad[] = {
		"Nginx", "nginx:", ":tag", "nginx@sha256:abc", "a//b", "a/", "-a",
		"nginx:-tag", "ng inx", "", "nginx@md5:0123",
		"nginx@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		"a___b", "registry-.com/x", "host:port/x",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++)
		ok(!manifest_check_image(good[i]), "image '%s' passes", good[i]);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		ok(manifest_check_image(bad[i]) != NULL, "image '%s' fails", bad[i]);
}

/* ---- one rule each: the finding, its position and its field path ---- */

struct rule_case {
	const char *title;
	const char *yaml;          /* after HEAD */
	const char *want;          /* substring of the rendered findings */
	bool error;                /* false: a warning; the project stays valid */
};

static const struct rule_case rules[] = {
	{ "unknown field is a warning with a hint",
	  "  services:\n    - name: a\n      image: x\n      imagee: y\n",
	  "t.yaml:9:7: warning: spec.services[0].imagee: unknown field 'imagee' "
	  "(ignored); did you mean 'image'?", false },
	{ "unknown field far from any is a plain warning",
	  "  services:\n    - name: a\n      image: x\n      zzz: y\n",
	  "t.yaml:9:7: warning: spec.services[0].zzz: unknown field 'zzz' (ignored)", false },
	{ "x- keys are extension fields",
	  "  x-common: 1\n  services:\n    - name: a\n      image: x\n", NULL, false },
	{ "missing image",
	  "  services:\n    - name: a\n",
	  "t.yaml:7:7: spec.services[0].image: required", true },
	{ "missing service name",
	  "  services:\n    - image: x\n",
	  "t.yaml:7:7: spec.services[0].name: required", true },
	{ "null image is missing",
	  "  services:\n    - name: a\n      image:\n",
	  "t.yaml:8:7: spec.services[0].image: required", true },
	{ "services must be a list",
	  "  services: {name: a}\n",
	  "t.yaml:6:13: spec.services: must be a list, not a mapping", true },
	{ "no services",
	  "  services: []\n",
	  "t.yaml:6:13: spec.services: a project needs at least one service", true },
	{ "image must be a string",
	  "  services:\n    - name: a\n      image: [x]\n",
	  "t.yaml:8:14: spec.services[0].image: must be a string, not a list", true },
	{ "duplicate key",
	  "  services:\n    - name: a\n      image: x\n      image: y\n",
	  "t.yaml:9:7: spec.services[0].image: duplicate key 'image' (first at line 8)", true },
	{ "bad service name",
	  "  services:\n    - name: Web\n      image: x\n",
	  "t.yaml:7:13: spec.services[0].name: invalid service name 'Web': must be lowercase", true },
	{ "duplicate service",
	  "  services:\n    - {name: a, image: x}\n    - {name: a, image: y}\n",
	  "t.yaml:8:7: spec.services[1].name: duplicate service name 'a' (first declared at line 7)", true },
	{ "bad image",
	  "  services:\n    - name: a\n      image: Nginx\n",
	  "t.yaml:8:14: spec.services[0].image: invalid image reference 'Nginx': "
	  "repository name must be lowercase", true },
	{ "undeclared volume",
	  "  services:\n    - name: a\n      image: x\n      volumeMounts: [{name: dta, mountPath: /d}]\n"
	  "  volumes: [{name: data, type: Managed}]\n",
	  "t.yaml:9:22: spec.services[0].volumeMounts[0].name: volume 'dta' is not declared "
	  "in spec.volumes; did you mean 'data'?", true },
	{ "mountPath relative",
	  "  services:\n    - name: a\n      image: x\n      volumeMounts: [{name: d, mountPath: d}]\n"
	  "  volumes: [{name: d}]\n",
	  "spec.services[0].volumeMounts[0].mountPath: must be an absolute path, not 'd'", true },
	{ "mountPath twice",
	  "  services:\n    - name: a\n      image: x\n      volumeMounts: [{name: d, mountPath: /d}, "
	  "{name: d, mountPath: /d}]\n  volumes: [{name: d}]\n",
	  "spec.services[0].volumeMounts[1].mountPath: '/d' is mounted twice", true },
	{ "duplicate volume",
	  "  services: [{name: a, image: x}]\n  volumes:\n    - {name: v}\n    - {name: v}\n",
	  "t.yaml:9:7: spec.volumes[1].name: duplicate volume name 'v' (first declared at line 8)", true },
	{ "volume type",
	  "  services: [{name: a, image: x}]\n  volumes: [{name: v, type: managed}]\n",
	  "t.yaml:7:29: spec.volumes[0].type: invalid volume type 'managed'; did you mean 'Managed'?", true },
	{ "hostPath on a Managed volume",
	  "  services: [{name: a, image: x}]\n  volumes: [{name: v, type: Managed, hostPath: /x}]\n",
	  "spec.volumes[0].hostPath: only a HostPath volume has a hostPath", true },
	{ "undeclared network",
	  "  services:\n    - {name: a, image: x, networks: [frnt]}\n"
	  "  networks: [{name: front}]\n",
	  "spec.services[0].networks[0]: network 'frnt' is not declared in "
	  "spec.networks; did you mean 'front'?", true },
	{ "duplicate network",
	  "  services: [{name: a, image: x}]\n  networks:\n    - {name: n}\n    - {name: n}\n",
	  "spec.networks[1].name: duplicate network name 'n' (first declared at line 8)", true },
	{ "aliases beside networks",
	  "  services:\n    - {name: a, image: x, aliases: [w], networks: [default]}\n",
	  "spec.services[0].aliases: with networks, give each network its aliases there", true },
	{ "externalName on a network cara makes",
	  "  services: [{name: a, image: x}]\n  networks: [{name: n, externalName: y}]\n",
	  "spec.networks[0].externalName: only an external network has an externalName", true },
	{ "External network of the host's",
	  "  services: [{name: a, image: x}]\n  networks: [{name: n, external: true, "
	  "externalName: host}]\n",
	  "spec.networks[0].externalName: external network 'host': the host's network", true },
	{ "externalName on a Managed volume",
	  "  services: [{name: a, image: x}]\n  volumes: [{name: v, externalName: x1}]\n",
	  "spec.volumes[0].externalName: only an External volume has an externalName "
	  "(this one is Managed)", true },
	{ "External volume of cara's",
	  "  services: [{name: a, image: x}]\n  volumes: [{name: v, type: External, "
	  "externalName: cara-b-data}]\n",
	  "spec.volumes[0].externalName: external volume 'cara-b-data': names starting "
	  "with 'cara-' are the volumes cara makes", true },
	{ "HostPath without hostPath",
	  "  services: [{name: a, image: x}]\n  volumes: [{name: v, type: HostPath}]\n",
	  "t.yaml:7:13: spec.volumes[0].hostPath: required for a HostPath volume", true },
	{ "HostPath with no roots configured",
	  "  services: [{name: a, image: x}]\n  volumes: [{name: v, type: HostPath, hostPath: /srv/x}]\n",
	  "t.yaml:7:49: spec.volumes[0].hostPath: hostPath '/srv/x' is not allowed: this host "
	  "allows no HostPath volumes (set --hostpath-roots", true },
	{ "duplicate ingress",
	  "  services: [{name: a, image: x}]\n  ingress:\n"
	  "    - {name: i, host: a.example.com, target: {service: a, port: 80}}\n"
	  "    - {name: i, host: b.example.com, target: {service: a, port: 80}}\n",
	  "spec.ingress[1].name: duplicate ingress name 'i' (first declared at line 8)", true },
	{ "ingress to a port its service does not declare",
	  "  services: [{name: a, image: x, ports: [{containerPort: 8080}]}]\n  ingress:\n"
	  "    - {name: i, host: a.example.com, target: {service: a, port: 80}}\n",
	  "t.yaml:8:7: warning: spec.ingress[0].target.port: service 'a' does not listen on port 80 "
	  "(it declares 8080): the route will answer 502", false },
	{ "ingress to an unknown service",
	  "  services: [{name: app, image: x}]\n  ingress:\n"
	  "    - {name: i, host: a.example.com, target: {service: ap, port: 80}}\n",
	  "t.yaml:8:7: spec.ingress[0].target.service: unknown service 'ap'; did you mean 'app'?", true },
	{ "ingress port 0",
	  "  services: [{name: a, image: x}]\n  ingress:\n"
	  "    - {name: i, host: a.example.com, target: {service: a, port: 0}}\n",
	  "t.yaml:8:65: spec.ingress[0].target.port: 0 is out of range (1 to 65535)", true },
	{ "ingress port missing",
	  "  services: [{name: a, image: x}]\n  ingress:\n"
	  "    - {name: i, host: a.example.com, target: {service: a}}\n",
	  "spec.ingress[0].target.port: required", true },
	{ "ingress port too large",
	  "  services: [{name: a, image: x}]\n  ingress:\n"
	  "    - {name: i, host: a.example.com, target: {service: a, port: 65536}}\n",
	  "65536 is out of range (1 to 65535)", true },
	{ "ingress scope unknown is a warning",
	  "  services: [{name: a, image: x}]\n  ingress:\n"
	  "    - {name: i, host: a.example.com, target: {service: a, port: 1}, access: {scope: Private}}\n",
	  "warning: spec.ingress[0].access.scope: unknown scope 'Private'", false },
	{ "dependsOn an unknown service",
	  "  services:\n    - {name: db, image: x}\n    - {name: a, image: x, dependsOn: [{service: dbb}]}\n",
	  "t.yaml:8:39: spec.services[1].dependsOn[0].service: unknown service 'dbb'; "
	  "did you mean 'db'?", true },
	{ "dependsOn itself",
	  "  services:\n    - {name: a, image: x, dependsOn: [a]}\n",
	  "spec.services[0].dependsOn[0].service: service 'a' depends on itself", true },
	{ "dependsOn cycle of two",
	  "  services:\n    - {name: a, image: x, dependsOn: [b]}\n"
	  "    - {name: b, image: x, dependsOn: [a]}\n",
	  "t.yaml:8:39: spec.services[1].dependsOn[0].service: dependency cycle: a -> b -> a", true },
	{ "dependsOn cycle of three",
	  "  services:\n    - {name: a, image: x, dependsOn: [c]}\n"
	  "    - {name: b, image: x, dependsOn: [a]}\n"
	  "    - {name: c, image: x, dependsOn: [b]}\n",
	  "dependency cycle: a -> c -> b -> a", true },
	{ "dependsOn condition typo",
	  "  services:\n    - {name: db, image: x}\n"
	  "    - {name: a, image: x, dependsOn: [{service: db, condition: healthy}]}\n",
	  "spec.services[1].dependsOn[0].condition: invalid condition 'healthy'; did you "
	  "mean 'Healthy'?", true },
	{ "Completed on a restarting service warns",
	  "  services:\n    - {name: job, image: x}\n"
	  "    - {name: a, image: x, dependsOn: [{service: job, condition: Completed}]}\n",
	  "warning: spec.services[1].dependsOn[0].condition: Completed waits for 'job' to "
	  "exit, but its restart policy 'unless-stopped' restarts it", false },
	{ "Healthy without a healthcheck warns",
	  "  services:\n    - {name: db, image: x}\n"
	  "    - {name: a, image: x, dependsOn: [{service: db, condition: Healthy}]}\n",
	  "warning: spec.services[1].dependsOn[0].condition: Healthy waits for 'db', which "
	  "has no healthcheck here", false },
	{ "Healthy on a disabled healthcheck",
	  "  services:\n    - {name: db, image: x, healthcheck: {test: NONE}}\n"
	  "    - {name: a, image: x, dependsOn: [{service: db, condition: Healthy}]}\n",
	  "whose healthcheck is disabled (NONE)", true },
	{ "dependsOn listed twice warns",
	  "  services:\n    - {name: db, image: x}\n    - {name: a, image: x, dependsOn: [db, db]}\n",
	  "warning: spec.services[1].dependsOn[1].service: 'db' is listed twice", false },
	{ "hostPort out of range",
	  "  services:\n    - name: a\n      image: x\n      ports: [{hostPort: 0, containerPort: 80}]\n",
	  "t.yaml:9:26: spec.services[0].ports[0].hostPort: 0 is out of range (1 to 65535)", true },
	{ "containerPort out of range",
	  "  services:\n    - name: a\n      image: x\n      ports: [{containerPort: 70000}]\n",
	  "spec.services[0].ports[0].containerPort: 70000 is out of range (1 to 65535)", true },
	{ "containerPort missing",
	  "  services:\n    - name: a\n      image: x\n      ports: [{hostPort: 80}]\n",
	  "t.yaml:9:15: spec.services[0].ports[0].containerPort: required", true },
	{ "port not an integer",
	  "  services:\n    - name: a\n      image: x\n      ports: [{containerPort: http}]\n",
	  "containerPort: must be an integer, not 'http'", true },
	{ "hostIP not an address",
	  "  services:\n    - name: a\n      image: x\n      ports: [{hostIP: localhost, containerPort: 1}]\n",
	  "spec.services[0].ports[0].hostIP: 'localhost' is not an IP address", true },
	{ "protocol",
	  "  services:\n    - name: a\n      image: x\n      ports: [{containerPort: 1, protocol: icmp}]\n",
	  "spec.services[0].ports[0].protocol: invalid protocol 'icmp'", true },
	{ "same host port twice in a project",
	  "  services:\n    - {name: a, image: x, ports: [{hostPort: 80, containerPort: 80}]}\n"
	  "    - {name: b, image: x, ports: [{hostIP: 127.0.0.1, hostPort: 80, containerPort: 80}]}\n",
	  "t.yaml:8:35: spec.services[1].ports[0].hostPort: host port 127.0.0.1:80/tcp is already "
	  "bound by project 'p' service 'a' (t.yaml:7:35)", true },
	{ "bad duration",
	  "  services:\n    - name: a\n      image: x\n      stopGracePeriod: 10 s\n",
	  "t.yaml:9:24: spec.services[0].stopGracePeriod: invalid duration '10 s'", true },
	{ "bad healthcheck interval",
	  "  services:\n    - name: a\n      image: x\n      healthcheck: {test: [CMD, x], interval: soon}\n",
	  "spec.services[0].healthcheck.interval: invalid duration 'soon'", true },
	{ "bad healthcheck startInterval",
	  "  services:\n    - name: a\n      image: x\n      healthcheck: {test: [CMD, x], startInterval: 1 s}\n",
	  "spec.services[0].healthcheck.startInterval: invalid duration '1 s'", true },
	{ "healthcheck retries negative",
	  "  services:\n    - name: a\n      image: x\n      healthcheck: {test: [CMD, x], retries: -1}\n",
	  "spec.services[0].healthcheck.retries: -1 is out of range (0 to 1000000)", true },
	{ "healthcheck test form",
	  "  services:\n    - name: a\n      image: x\n      healthcheck: {test: [curl, x]}\n",
	  "spec.services[0].healthcheck.test: must be [\"CMD\", program, args...]", true },
	{ "healthcheck test missing",
	  "  services:\n    - name: a\n      image: x\n      healthcheck: {interval: 5s}\n",
	  "spec.services[0].healthcheck.test: required", true },
	{ "expireAt not RFC 3339",
	  "  expireAt: 2026-12-01\n  services: [{name: a, image: x}]\n",
	  "t.yaml:6:13: spec.expireAt: '2026-12-01' is not an RFC 3339 time", true },
	{ "restart value",
	  "  services:\n    - name: a\n      image: x\n      restart: never\n",
	  "spec.services[0].restart: invalid restart policy 'never': must be no, on-failure, "
	  "unless-stopped or always", true },
	{ "imagePullPolicy value",
	  "  services:\n    - name: a\n      image: x\n      imagePullPolicy: always\n",
	  "spec.services[0].imagePullPolicy: invalid image pull policy 'always'; did you "
	  "mean 'Always'?", true },
	{ "restart unquoted no",
	  "  services:\n    - name: a\n      image: x\n      restart: no\n", NULL, false },
	{ "env name invalid",
	  "  services:\n    - name: a\n      image: x\n      env: [{name: \"1A\", value: x}]\n",
	  "spec.services[0].env[0].name: invalid variable name '1A': must not start with a digit", true },
	{ "env name twice",
	  "  services:\n    - name: a\n      image: x\n      env: [{name: A, value: x}, {name: A, value: y}]\n",
	  "t.yaml:9:34: spec.services[0].env[1].name: duplicate environment variable 'A' "
	  "(first set at line 9)", true },
	{ "env value and valueFrom",
	  "  services:\n    - name: a\n      image: x\n      env: [{name: A, value: x, valueFrom: "
	  "{secretKeyRef: {name: s, key: k}}}]\n",
	  "spec.services[0].env[0]: set either value or valueFrom, not both", true },
	{ "secretKeyRef key missing",
	  "  services:\n    - name: a\n      image: x\n      env: [{name: A, valueFrom: "
	  "{secretKeyRef: {name: s}}}]\n",
	  "spec.services[0].env[0].valueFrom.secretKeyRef.key: required", true },
	{ "secret name with a slash",
	  "  services:\n    - name: a\n      image: x\n      env: [{name: A, valueFrom: "
	  "{secretKeyRef: {name: ../s, key: k}}}]\n",
	  "secretKeyRef.name: invalid secret name '../s'", true },
	{ "memory below Docker's minimum",
	  "  services:\n    - name: a\n      image: x\n      resources: {memory: 1k}\n",
	  "spec.services[0].resources.memory: 1k is below Docker's minimum of 6Mi", true },
	{ "memory unit",
	  "  services:\n    - name: a\n      image: x\n      resources: {memory: 2 gigs}\n",
	  "resources.memory: invalid memory size '2 gigs'", true },
	{ "cpus zero",
	  "  services:\n    - name: a\n      image: x\n      resources: {cpus: 0}\n",
	  "spec.services[0].resources.cpus: invalid cpus '0'", true },
	{ "workingDir relative",
	  "  services:\n    - name: a\n      image: x\n      workingDir: app\n",
	  "spec.services[0].workingDir: must be an absolute path, not 'app'", true },
	{ "command as a string",
	  "  services:\n    - name: a\n      image: x\n      command: echo hi\n",
	  "spec.services[0].command: must be a list of strings, not a scalar", true },
	{ "reserved label",
	  "  services:\n    - name: a\n      image: x\n      labels: {cara.project: x}\n",
	  "spec.services[0].labels.cara.project: labels starting with 'cara.' are reserved", true },
	{ "duplicate label key",
	  "  services:\n    - name: a\n      image: x\n      labels:\n        k: 1\n        k: 2\n",
	  "t.yaml:11:9: spec.services[0].labels.k: duplicate key 'k'", true },
	{ "readOnly not a boolean",
	  "  services:\n    - name: a\n      image: x\n      volumeMounts: [{name: d, mountPath: /d, "
	  "readOnly: maybe}]\n  volumes: [{name: d}]\n",
	  "readOnly: must be true or false, not 'maybe'", true },
	{ "merge keys are refused",
	  "  services:\n    - name: a\n      image: x\n      <<: {user: root}\n",
	  "spec.services[0].<<: merge keys ('<<') are not supported", true },
	{ "metadata must be a mapping",
	  "  services: [{name: a, image: x}]\nextra: 1\n",
	  "warning: extra: unknown field 'extra'", false },
};

static void test_rules(void)
{
	struct buf yaml = BUF_INIT;
	struct t t;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rules); i++) {
		const struct rule_case *r = &rules[i];

		buf_reset(&yaml);
		buf_puts(&yaml, HEAD);
		buf_puts(&yaml, r->yaml);
		t_parse(&t, buf_cstr(&yaml));
		if (r->want)
			expect(&t, r->want, "%s", r->title);
		else
			clean(&t, "%s: no finding", r->title);
		ok(t.set.n == 1 && t.set.v[0].valid == !r->error,
		   "%s: project %s", r->title, r->error ? "invalid" : "valid");
		t_free(&t);
	}
	buf_release(&yaml);
}

static void test_every_problem(void)
{
	struct t t;

	/* several problems in one file are all reported, in file order */
	t_parse(&t, HEAD
		"  services:\n"
		"    - name: Web\n"
		"      image: Nginx\n"
		"      ports: [{hostPort: 0, containerPort: 0}]\n"
		"      stopGracePeriod: forever\n"
		"      restart: sometimes\n"
		"      imagee: y\n");
	is_int(t.d.nerrors, 6, "six errors in one service, all reported");
	is_int(t.d.nwarnings, 1, "and the warning");
	ok(t.d.n == 7 && t.d.v[0].line == 7 && t.d.v[6].line == 12,
	   "findings sorted by position");
	t_free(&t);
}

static void test_hostpath_roots(void)
{
	static const char *const roots[] = { "/srv/cara/", "/data" };
	static const struct { const char *path; const char *want; } cases[] = {
		{ "/srv/cara", NULL },
		{ "/srv/cara/web/conf", NULL },
		{ "/data", NULL },
		{ "/srv/carax", "outside the allowed roots (/srv/cara/, /data)" },
		{ "/srv/cara/../etc", "must not contain '..'" },
		{ "srv/cara/x", "must be an absolute path" },
		{ "/etc", "outside the allowed roots" },
	};
	struct manifest_options o = t_opts();
	struct buf yaml = BUF_INIT;
	struct t t;
	size_t i;

	o.hostpath_roots = roots;
	o.nhostpath_roots = 2;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		buf_reset(&yaml);
		buf_printf(&yaml, HEAD "  services: [{name: a, image: x}]\n"
			   "  volumes: [{name: v, hostPath: \"%s\"}]\n", cases[i].path);
		t_parse_opts(&t, buf_cstr(&yaml), &o);
		if (cases[i].want)
			expect(&t, cases[i].want, "HostPath %s refused", cases[i].path);
		else
			clean(&t, "HostPath %s allowed (type inferred)", cases[i].path);
		t_free(&t);
	}
	buf_release(&yaml);
}

/* The Engine's socket, or a directory above it, under an allowed root:
 * root power over the host, refused without the host's allowance. */
static void test_hostpath_engine_socket(void)
{
	static const char *const roots[] = { "/" };
	static const struct { const char *path; const char *want; } cases[] = {
		{ "/var/run/docker.sock", "hostPath '/var/run/docker.sock' is the Docker "
		  "Engine's socket (/var/run/docker.sock), which gives root power over "
		  "the host and every container on it: needs --allow-privileged on this host" },
		{ "/run/docker.sock", "is the Docker Engine's socket (/run/docker.sock)" },
		{ "/run/./docker.sock", "is the Docker Engine's socket (/run/docker.sock)" },
		{ "/run", "hostPath '/run' holds the Docker Engine's socket (/run/docker.sock)" },
		{ "//var/run/", "holds the Docker Engine's socket (/var/run/docker.sock)" },
		{ "/", "hostPath '/' holds the Docker Engine's socket" },
		{ "/run/dbus", NULL },
		{ "/run/docker.sockets", NULL },
		{ "/srv/data", NULL },
	};
	struct manifest_options o = t_opts();
	struct buf yaml = BUF_INIT;
	struct t t;
	size_t i;

	o.hostpath_roots = roots;
	o.nhostpath_roots = 1;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		buf_reset(&yaml);
		buf_printf(&yaml, HEAD "  services: [{name: a, image: x}]\n"
			   "  volumes: [{name: v, hostPath: \"%s\"}]\n", cases[i].path);
		o.allow_privileged = false;
		t_parse_opts(&t, buf_cstr(&yaml), &o);
		if (cases[i].want)
			expect(&t, cases[i].want, "HostPath %s refused", cases[i].path);
		else
			clean(&t, "HostPath %s allowed", cases[i].path);
		t_free(&t);
		o.allow_privileged = true;
		t_parse_opts(&t, buf_cstr(&yaml), &o);
		clean(&t, "HostPath %s allowed with --allow-privileged", cases[i].path);
		t_free(&t);
	}
	buf_release(&yaml);
}

/* ---- documents and files ---- */

static void test_documents(void)
{
	struct t t;

	t_parse(&t,
		"# two projects, a ConfigMap and an empty document\n"
		"apiVersion: caravanserai/v1\nkind: Project\nmetadata: {name: one}\n"
		"spec: {services: [{name: a, image: x}]}\n"
		"---\n"
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"
		"---\n"
		"---\n"
		"apiVersion: caravanserai/v1\nkind: Project\nmetadata: {name: two}\n"
		"spec: {services: [{name: a, image: x}]}\n");
	is_int(t.set.n, 2, "multi-document: two projects");
	ok(t.set.n == 2 && !strcmp(t.set.v[1].name, "two") && t.set.v[1].pos.line == 12,
	   "the second project and its position");
	expect(&t, "t.yaml:7:1: warning: document skipped: apiVersion 'v1', kind 'ConfigMap' "
	       "is not a caravanserai/v1 Project", "other kinds are skipped with a warning");
	ok(!t.set.incomplete && t.d.nerrors == 0, "nothing incomplete");
	is_int(t.set.nfiles, 1, "one file counted");
	t_free(&t);

	t_parse(&t, "apiVersion: caravanserai/v1\nkind: Projet\nmetadata: {name: x}\n"
		"spec: {services: [{name: a, image: x}]}\n");
	expect(&t, "t.yaml:2:7: kind: kind 'Projet' is not known in caravanserai/v1",
	       "a kind typo is an error");
	ok(t.set.incomplete && t.set.n == 0, "and stops pruning");
	t_free(&t);

	t_parse(&t, "apiVersion: caravanserai/v2\nkind: Project\nmetadata: {name: x}\n");
	expect(&t, "apiVersion: apiVersion 'caravanserai/v2' is not supported",
	       "another caravanserai version is an error");
	ok(t.set.incomplete, "and stops pruning");
	t_free(&t);

	t_parse(&t, "metadata: {name: x}\nspec: {services: [{name: a, image: x}]}\n");
	expect(&t, "t.yaml:1:1: apiVersion: required: a Project starts with apiVersion: "
	       "caravanserai/v1", "a project without its header is an error");
	ok(t.set.incomplete, "and stops pruning");
	t_free(&t);

	t_parse(&t, "apiVersion: caravanserai/v1\nkind: Project\nmetadata: {labels: {a: b}}\n"
		"spec: {services: [{name: a, image: x}]}\n");
	expect(&t, "t.yaml:3:11: metadata.name: required", "metadata.name missing");
	ok(t.set.incomplete && t.set.n == 0, "an unnamed project: incomplete, not in the set");
	t_free(&t);

	t_parse(&t, "just a scalar\n");
	expect(&t, "t.yaml:1:1: a manifest document must be a mapping, not a scalar",
	       "a scalar document");
	ok(t.set.incomplete, "a scalar document makes the set incomplete");
	t_free(&t);

	t_parse(&t, "");
	expect(&t, "t.yaml:1:1: warning: empty file: no YAML document", "an empty file warns");
	ok(!t.set.incomplete && t.d.nerrors == 0, "an empty file is no error");
	t_free(&t);

	t_parse(&t, "# only a comment\n");
	ok(t.d.nwarnings == 1 && t.d.nerrors == 0, "a file of comments warns");
	t_free(&t);

	t_parse(&t, "apiVersion: caravanserai/v1\nkind: Project\nmetadata: {name: one}\n"
		"spec: {services: [{name: a, image: x}]}\n---\n"
		"apiVersion: caravanserai/v1\nkind: Project\nmetadata:\n  name: [two\n");
	ok(t.set.n == 1 && !strcmp(t.set.v[0].name, "one") && t.set.v[0].valid,
	   "a syntax error keeps the projects before it");
	expect(&t, "t.yaml:10:1: YAML syntax error: did not find expected ',' or ']'",
	       "syntax error with libyaml's position");
	ok(t.set.incomplete, "a syntax error makes the set incomplete");
	t_free(&t);

	t_parse(&t, "apiVersion: caravanserai/v1\nkind: Project\nmetadata:\n\tname: x\n");
	expect(&t, "t.yaml:4:1: YAML syntax error:", "a tab");
	expect(&t, "(tabs cannot indent YAML: use spaces)", "a tab gets a hint");
	t_free(&t);
}

static void test_positions(void)
{
	struct t t;
	const struct project *p;

	t_parse(&t, "\n\n# comment\napiVersion: caravanserai/v1\nkind: Project\n"
		"metadata:\n  name: pos\nspec:\n  services:\n"
		"    - name: web\n      image: x\n      env:\n        - name: A\n"
		"          value: b\n      ports:\n        - containerPort: 80\n"
		"          hostPort: 8080\n");
	p = first(&t);
	if (ok(p != NULL, "positions: parsed")) {
		ok(p->pos.line == 4 && p->pos.col == 1, "project at 4:1");
		ok(p->services[0].pos.line == 10 && p->services[0].pos.col == 7,
		   "service at its first key, 10:7");
		ok(p->services[0].env[0].pos.line == 13 && p->services[0].env[0].pos.col == 11,
		   "env item at 13:11");
		ok(p->services[0].ports[0].pos.line == 16, "port item at line 16");
	}
	t_free(&t);
}

/* ---- hostile input ---- */

static void test_hostile(void)
{
	struct manifest_options o = t_opts();
	struct buf b = BUF_INIT;
	struct t t;
	size_t i;
	char *big;

	/* billion laughs */
	buf_puts(&b, HEAD "  services: [{name: a, image: x}]\n"
		 "x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
	for (i = 0; i < 8; i++) {
		buf_printf(&b, "x-%c: &%c [", 'b' + (int)i, 'b' + (int)i);
		buf_printf(&b, "*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n",
			   'a' + (int)i, 'a' + (int)i, 'a' + (int)i, 'a' + (int)i,
			   'a' + (int)i, 'a' + (int)i, 'a' + (int)i, 'a' + (int)i,
			   'a' + (int)i);
	}
	t_parse(&t, buf_cstr(&b));
	expect(&t, "aliases expand to more than 10000 nodes: refused", "alias bomb refused");
	ok(t.set.incomplete && t.set.n == 0, "alias bomb: incomplete, no project");
	t_free(&t);

	/* a modest alias is fine, and copies what it names */
	t_parse(&t, "x-env: &env [{name: A, value: b}]\n" HEAD
		"  services:\n    - {name: a, image: x, env: *env}\n"
		"    - {name: b, image: x, env: *env}\n");
	clean(&t, "aliases within budget: no finding");
	ok(first(&t) && first(&t)->services[1].nenv == 1 &&
	   !strcmp(first(&t)->services[1].env[0].value, "b"), "an alias copies its anchor");
	t_free(&t);

	t_parse(&t, HEAD "  services:\n    - {name: a, image: *nowhere}\n");
	expect(&t, "alias '*nowhere' refers to no anchor", "undefined alias");
	t_free(&t);

	/* nesting */
	buf_reset(&b);
	buf_puts(&b, "a: ");
	for (i = 0; i < 100000; i++)
		buf_putc(&b, '[');
	for (i = 0; i < 100000; i++)
		buf_putc(&b, ']');
	t_parse(&t, buf_cstr(&b));
	expect(&t, "t.yaml:1:67: nested deeper than 64 levels: refused", "deep nesting refused");
	ok(t.set.incomplete, "deep nesting: incomplete");
	t_free(&t);
	buf_reset(&b);
	buf_puts(&b, HEAD "  services: [{name: a, image: x}]\nx-deep: ");
	for (i = 0; i < 62; i++)
		buf_putc(&b, '[');
	for (i = 0; i < 62; i++)
		buf_putc(&b, ']');
	buf_putc(&b, '\n');
	t_parse(&t, buf_cstr(&b));
	clean(&t, "64 levels are fine");
	t_free(&t);

	/* size */
	o.max_file_bytes = 1000;
	buf_reset(&b);
	buf_puts(&b, HEAD "  services: [{name: a, image: x}]\n");
	while (b.len <= 1000)
		buf_puts(&b, "# padding padding padding padding padding\n");
	t_parse_opts(&t, buf_cstr(&b), &o);
	expect(&t, "t.yaml:1:1: file is larger than 1000 bytes: refused", "max_file_bytes");
	ok(t.set.incomplete && t.set.n == 0, "a refused file: incomplete");
	t_free(&t);
	big = xmalloc(5 << 20);
	memset(big, '#', 5 << 20);
	memset(&t, 0, sizeof(t));
	manifest_parse_buffer(&t.set, "big.yaml", big, 5 << 20, NULL, &t.d);
	t_render(&t);
	expect(&t, "big.yaml:1:1: file is larger than 4194304 bytes", "default cap 4 MiB");
	t_free(&t);
	free(big);

	/* bytes */
	memset(&t, 0, sizeof(t));
	manifest_parse_buffer(&t.set, "t.yaml", "a: b\nc: d\0e\n", 11, NULL, &t.d);
	t_render(&t);
	expect(&t, "t.yaml:2:5: NUL byte: not a YAML text file", "NUL byte");
	ok(t.set.incomplete, "NUL byte: incomplete");
	t_free(&t);
	t_parse(&t, "a: b\nc: \xc3\x28\n");
	expect(&t, "t.yaml:2:4: invalid UTF-8 (byte 0xc3)", "invalid UTF-8");
	t_free(&t);
	t_parse(&t, "a: \xed\xa0\x80\n");
	expect(&t, "invalid UTF-8 (byte 0xed)", "a UTF-16 surrogate in UTF-8");
	t_free(&t);
	t_parse(&t, "a: \xc0\xaf\n");
	expect(&t, "invalid UTF-8 (byte 0xc0)", "an overlong encoding");
	t_free(&t);
	t_parse(&t, HEAD "  services: [{name: a, image: x}]\n  x-note: \"caf\xc3\xa9 \xe2\x9c\x93\"\n");
	clean(&t, "valid UTF-8 passes");
	t_free(&t);
	t_parse(&t, HEAD "  services: [{name: \"a\\0b\", image: x}]\n");
	expect(&t, "a value holds a NUL character", "an escaped NUL in a value");
	t_free(&t);
	t_parse(&t, "\x01\x02\x03garbage\x7f: [}\n");
	ok(t.d.nerrors >= 1 && t.set.incomplete, "binary garbage: an error, incomplete");
	t_free(&t);

	/* too many findings in one file: the rest summed up */
	buf_reset(&b);
	buf_puts(&b, HEAD "  services:\n    - name: a\n      image: x\n");
	for (i = 0; i < 500; i++)
		buf_printf(&b, "      unknown%zu: x\n", i);
	t_parse(&t, buf_cstr(&b));
	ok(t.d.n == 201, "findings per file are capped (%zu)", t.d.n);
	expect(&t, "300 more problems in this file not shown (0 errors)", "and summed up");
	t_free(&t);

	/* long scalars and keys */
	buf_reset(&b);
	buf_puts(&b, HEAD "  services: [{name: a, image: x}]\n  x-long: \"");
	for (i = 0; i < 300000; i++)
		buf_putc(&b, 'x');
	buf_puts(&b, "\"\n");
	t_parse(&t, buf_cstr(&b));
	expect(&t, "a value longer than 262144 bytes: refused", "long scalar refused");
	t_free(&t);
	buf_release(&b);
}

/* ---- across files ---- */

static void parse_into(struct t *t, const char *file, const char *yaml)
{
	struct manifest_options o = t_opts();

	manifest_parse_buffer(&t->set, file, yaml, strlen(yaml), &o, &t->d);
}

static void test_set_rules(void)
{
	struct t t;

	memset(&t, 0, sizeof(t));
	parse_into(&t, "a.yaml", "apiVersion: caravanserai/v1\nkind: Project\n"
		   "metadata: {name: shop}\nspec:\n  services:\n"
		   "    - {name: web, image: x, ports: [{hostPort: 8080, containerPort: 80}]}\n");
	parse_into(&t, "b.yaml", "apiVersion: caravanserai/v1\nkind: Project\n"
		   "metadata: {name: shop}\nspec: {services: [{name: web, image: y}]}\n");
	parse_into(&t, "c.yaml", "apiVersion: caravanserai/v1\nkind: Project\n"
		   "metadata: {name: blog}\nspec:\n  services:\n"
		   "    - {name: web, image: x, ports: [{hostIP: 127.0.0.1, hostPort: 8080, containerPort: 80}]}\n"
		   "    - {name: api, image: x, ports: [{hostIP: 127.0.0.2, hostPort: 9000, containerPort: 80},\n"
		   "                                 {hostPort: 8080, containerPort: 80, protocol: udp}]}\n");
	parse_into(&t, "d.yaml", "apiVersion: caravanserai/v1\nkind: Project\n"
		   "metadata: {name: wiki}\nspec:\n  services:\n"
		   "    - {name: web, image: x, ports: [{hostIP: 127.0.0.1, hostPort: 9000, containerPort: 80}]}\n");
	manifest_validate_set(&t.set, &t.d);
	t_render(&t);
	expect(&t, "b.yaml:1:1: metadata.name: project 'shop' is already defined at a.yaml:1:1",
	       "duplicate project names across files");
	ok(t.set.n == 4 && !t.set.v[0].valid && !t.set.v[1].valid,
	   "both definitions of a duplicated project are invalid");
	expect(&t, "c.yaml:6:37: spec.services[0].ports[0].hostPort: host port 127.0.0.1:8080/tcp "
	       "is already bound by project 'shop' service 'web' (a.yaml:6:37)",
	       "0.0.0.0 conflicts with a specific address, across files");
	ok(!has(&t, "d.yaml"), "127.0.0.1 and 127.0.0.2 do not conflict, nor tcp and udp");
	ok(t.set.v[3].valid, "an unrelated project stays valid");
	is_int(t.set.nfiles, 4, "four files");
	t_free(&t);

	memset(&t, 0, sizeof(t));
	parse_into(&t, "a.yaml", "apiVersion: caravanserai/v1\nkind: Project\n"
		   "metadata: {name: a-b}\nspec:\n  services: [{name: c, image: x}]\n"
		   "  volumes: [{name: v-w}]\n"
		   "  ingress: [{name: i, host: www.example.com, target: {service: c, port: 1}}]\n");
	parse_into(&t, "b.yaml", "apiVersion: caravanserai/v1\nkind: Project\n"
		   "metadata: {name: a}\nspec:\n  services: [{name: b-c, image: x}]\n"
		   "  volumes: [{name: b-v-w}]\n"
		   "  ingress: [{name: i, host: www.example.com, target: {service: b-c, port: 1}}]\n");
	manifest_validate_set(&t.set, &t.d);
	t_render(&t);
	expect(&t, "b.yaml:5:14: spec.services[0].name: container name 'a-b-c' is also the name "
	       "of project 'a-b' service 'c' (a.yaml:5:14)", "container names that collide");
	expect(&t, "b.yaml:6:13: spec.volumes[0].name: volume name 'cara-a-b-v-w' is also",
	       "volume names that collide");
	expect(&t, "b.yaml:7:13: spec.ingress[0].host: host 'www.example.com' is already routed "
	       "by project 'a-b' ingress 'i' (a.yaml:7:13)", "an ingress host used twice");
	t_free(&t);
}

/* Names on an External network, which other projects share. */
static void test_external_aliases(void)
{
	struct t t;
	size_t i;

#define EXT_HEAD "apiVersion: caravanserai/v1\nkind: Project\nmetadata: {name: %s}\n" \
	"spec:\n  networks: [{name: edge, external: true, externalName: proxy}, {name: own}]\n" \
	"  services:\n"
	static const struct { const char *file, *name, *services; } f[] = {
		{ "a.yaml", "shop", "    - {name: api, image: x, networks: [edge]}\n"
				    "    - {name: web, image: x, networks: [edge]}\n" },
		/* takes shop's api there: refused, even though its file comes later */
		{ "b.yaml", "evil", "    - {name: w, image: x, networks: [{name: edge, aliases: [api]}]}\n" },
		/* its own name meets shop's web: as compose has it, allowed */
		{ "c.yaml", "blog", "    - {name: web, image: x, networks: [edge]}\n"
		/* an alias on its own network meets nothing of another project */
				    "    - {name: db, image: x, networks: [{name: own, aliases: [api]}]}\n" },
		/* an alias taken before by a service name that comes later */
		{ "0.yaml", "early", "    - {name: s, image: x, networks: [{name: edge, aliases: [wiki]}]}\n" },
		{ "d.yaml", "wiki", "    - {name: wiki, image: x, networks: [edge]}\n" },
		/* two chosen names: the later is refused */
		{ "e.yaml", "one", "    - {name: s, image: x, networks: [{name: edge, aliases: [cache]}]}\n" },
		{ "f.yaml", "two", "    - {name: s, image: x, networks: [{name: edge, aliases: [cache]}]}\n" },
		/* Docker resolves container names too: an alias or a service
		 * named as another project's container */
		{ "g.yaml", "sly", "    - {name: shop-web, image: x, networks: [edge]}\n"
				   "    - {name: t, image: x, networks: [{name: edge, aliases: [wiki-wiki]}]}\n" },
		/* defined twice: that error alone, no clash with itself */
		{ "h.yaml", "twice", "    - {name: s, image: x, networks: [{name: edge, aliases: [z]}]}\n" },
		{ "i.yaml", "twice", "    - {name: s, image: x, networks: [{name: edge, aliases: [z]}]}\n" },
	};

	memset(&t, 0, sizeof(t));
	for (i = 0; i < ARRAY_SIZE(f); i++) {
		char *y = xasprintf(EXT_HEAD "%s", f[i].name, f[i].services);

		parse_into(&t, f[i].file, y);
		free(y);
	}
	manifest_validate_set(&t.set, &t.d);
	t_render(&t);
	expect(&t, "b.yaml:7:38: spec.services[0].networks[0].aliases: 'api' on external network "
	       "'proxy' is the name of project 'shop' service 'api' there (a.yaml:7:7)",
	       "an alias another project's service answers to on a shared network is refused");
	ok(!t.set.v[1].valid && t.set.v[0].valid, "the alias's project is refused, not the service's");
	ok(t.set.v[2].valid && !has(&t, "c.yaml"),
	   "two service names meet on a shared network; an alias on a project's own network");
	expect(&t, "0.yaml:7:38: spec.services[0].networks[0].aliases: 'wiki' on external "
	       "network 'proxy' is the name of project 'wiki' service 'wiki'",
	       "the alias is refused even when its file comes first");
	ok(!t.set.v[3].valid && t.set.v[4].valid, "and the service keeps its name");
	expect(&t, "f.yaml:7:38: spec.services[0].networks[0].aliases: 'cache' on external "
	       "network 'proxy' is an alias of project 'one' service 's' there",
	       "of two aliases, the later one is refused");
	ok(t.set.v[5].valid && !t.set.v[6].valid, "and the earlier kept");
	expect(&t, "g.yaml:7:7: spec.services[0].name: 'shop-web' on external network "
	       "'proxy' is the container name of project 'shop' service 'web' there (a.yaml:8:7)",
	       "a service named as another project's container there is refused");
	expect(&t, "g.yaml:8:38: spec.services[1].networks[0].aliases: 'wiki-wiki' on external "
	       "network 'proxy' is the container name of project 'wiki' service 'wiki'",
	       "an alias that is another project's container name is refused");
	expect(&t, "i.yaml:1:1: metadata.name: project 'twice' is already defined",
	       "a project defined twice");
	is_int((long)t.d.n, 6, "six findings, no more (none of a project with itself)");
	t_free(&t);
#undef EXT_HEAD
}

/* ---- queries on the model ---- */

static void test_model(void)
{
	struct t t;
	const struct project *p;
	size_t order[5];

	t_parse(&t, HEAD "  services:\n"
		"    - {name: web, image: x, dependsOn: [api, cache]}\n"
		"    - {name: api, image: x, dependsOn: [db]}\n"
		"    - {name: cache, image: x}\n"
		"    - {name: db, image: x}\n"
		"    - {name: tool, image: x}\n"
		"  volumes: [{name: v1}, {name: v2, type: Ephemeral}]\n");
	p = first(&t);
	if (!ok(p != NULL, "model: parsed"))
		goto out;
	ok(project_set_find(&t.set, "p") == p && !project_set_find(&t.set, "q") &&
	   !project_set_find(&t.set, NULL), "project_set_find");
	ok(project_find_service(p, "db") == &p->services[3] &&
	   !project_find_service(p, "nope"), "project_find_service");
	ok(project_find_volume(p, "v2") == &p->volumes[1] && !project_find_volume(p, "v3"),
	   "project_find_volume");
	is_int(project_service_order(p, order), 0, "service order: no cycle");
	ok(order[0] == 2 && order[1] == 3 && order[2] == 1 && order[3] == 0 &&
	   order[4] == 4, "dependencies first, file order otherwise (cache db api web tool)");
	is_str(restart_policy_name(RESTART_DEFAULT), "unless-stopped", "default restart");
	is_str(restart_policy_name(RESTART_NO), "no", "restart no");
	is_str(restart_policy_name(RESTART_ON_FAILURE), "on-failure", "restart on-failure");
	is_str(restart_policy_name(RESTART_ALWAYS), "always", "restart always");
	is_str(volume_type_name(VOLUME_HOSTPATH), "HostPath", "volume_type_name");
	is_str(volume_type_name(VOLUME_MANAGED), "Managed", "volume_type_name Managed");
	is_str(volume_type_name(VOLUME_EPHEMERAL), "Ephemeral", "volume_type_name Ephemeral");
	/* what spec_compute() adds is released with the set (ASan checks) */
	t.set.v[0].services[0].spec_hash = xstrdup("hash");
	t.set.v[0].services[0].spec_fields = xstrdup("image=abc");
out:
	t_free(&t);

	t_parse(&t, HEAD "  services:\n"
		"    - {name: a, image: x, dependsOn: [b]}\n"
		"    - {name: b, image: x, dependsOn: [a]}\n"
		"    - {name: c, image: x}\n");
	p = first(&t);
	if (p) {
		is_int(project_service_order(p, order), -1, "service order: a cycle is -1");
		ok(order[0] == 2 && order[1] == 0 && order[2] == 1,
		   "and still orders every service");
	}
	t_free(&t);
	ok(manifest_edit_distance("imagee", "image", 2) == 1 &&
	   manifest_edit_distance("imgae", "image", 2) == 1 &&
	   manifest_edit_distance("VolumeMounts", "volumeMounts", 2) == 0 &&
	   manifest_edit_distance("abc", "xyz12", 2) == 3, "edit distance");
}

/* ---- directories ---- */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		printf("# cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static void test_load_dir(void)
{
	char tmpl[] = "/tmp/cara-test-manifest.XXXXXX";
	char *dir = mkdtemp(tmpl), *path, *out;
	struct manifest_options o = t_opts();
	struct t t;

	if (!ok(dir != NULL, "temporary directory"))
		return;
	path = xasprintf("%s/m", dir);
	out = xasprintf("%s/outside.yaml", dir);
	mkdir(path, 0755);
	free(path);
	path = xasprintf("%s/m/apps", dir);
	mkdir(path, 0755);
	free(path);
	path = xasprintf("%s/m/.git", dir);
	mkdir(path, 0755);
	free(path);
#define W(rel, text) do { char *p_ = xasprintf("%s/m/%s", dir, rel); \
	write_file(p_, text); free(p_); } while (0)
	W("b.yaml", "apiVersion: caravanserai/v1\nkind: Project\nmetadata: {name: b}\n"
	  "spec: {services: [{name: a, image: x}]}\n");
	W("apps/a.yml", "apiVersion: caravanserai/v1\nkind: Project\nmetadata: {name: a}\n"
	  "spec: {services: [{name: a, image: x, imagee: y}]}\n");
	W("apps/readme.txt", "not yaml: [\n");
	W(".git/config.yaml", "not: [yaml\n");
	W(".hidden.yaml", "not: [yaml\n");
	write_file(out, "apiVersion: caravanserai/v1\nkind: Project\n"
		   "metadata: {name: out}\nspec: {services: [{name: a, image: x}]}\n");
	path = xasprintf("%s/m/inside.yaml", dir);
	if (symlink("b.yaml", path) < 0)
		printf("# symlink: %s\n", strerror(errno));
	free(path);

	memset(&t, 0, sizeof(t));
	path = xasprintf("%s/m", dir);
	is_int(manifest_load_dir(&t.set, path, &o, &t.d), 0, "load_dir");
	t_render(&t);
	ok(t.set.n == 3 && !strcmp(t.set.v[0].name, "a") && !strcmp(t.set.v[0].file, "apps/a.yml") &&
	   !strcmp(t.set.v[1].file, "b.yaml") && !strcmp(t.set.v[2].file, "inside.yaml"),
	   "recursive, sorted, names relative to the directory, .yml too");
	expect(&t, "apps/a.yml:4:39: warning: spec.services[0].imagee: unknown field",
	       "findings name the relative path");
	expect(&t, "inside.yaml:1:1: metadata.name: project 'b' is already defined at "
	       "b.yaml:1:1", "a symlink inside the tree is read (here: a duplicate)");
	ok(!has(&t, ".git") && !has(&t, "hidden") && !has(&t, "readme"),
	   "hidden entries and other files are skipped");
	is_int(t.set.nfiles, 3, "three files");
	ok(!t.set.incomplete, "complete");
	t_free(&t);

	/* a symlink that leaves the tree */
	{
		char *link = xasprintf("%s/m/escape.yaml", dir);

		if (symlink(out, link) < 0)
			printf("# symlink: %s\n", strerror(errno));
		free(link);
	}
	memset(&t, 0, sizeof(t));
	manifest_load_dir(&t.set, path, &o, &t.d);
	t_render(&t);
	expect(&t, "escape.yaml:1:1: symbolic link leaves the manifest directory",
	       "a symlink leaving the tree is refused");
	ok(t.set.incomplete && !project_set_find(&t.set, "out"),
	   "and not read; the set is incomplete");
	is_int(t.set.nfiles, 4, "the refused file counts");
	t_free(&t);

	/* a FIFO named like a manifest does not block */
	{
		char *fifo = xasprintf("%s/m/fifo.yaml", dir);

		if (mkfifo(fifo, 0644) == 0) {
			memset(&t, 0, sizeof(t));
			manifest_load_dir(&t.set, path, &o, &t.d);
			t_render(&t);
			expect(&t, "fifo.yaml:1:1: cannot read: not a regular file", "a FIFO");
			t_free(&t);
			unlink(fifo);
		} else {
			skip("mkfifo failed", "a FIFO");
		}
		free(fifo);
	}

	/* a single file */
	memset(&t, 0, sizeof(t));
	free(path);
	path = xasprintf("%s/m/b.yaml", dir);
	is_int(manifest_load_dir(&t.set, path, &o, &t.d), 0, "load_dir on a file");
	ok(t.set.n == 1 && !strcmp(t.set.v[0].file, path), "a file is shown as given");
	t_free(&t);

	memset(&t, 0, sizeof(t));
	free(path);
	path = xasprintf("%s/missing", dir);
	is_int(manifest_load_dir(&t.set, path, &o, &t.d), -1, "a missing directory is -1");
	ok(strstr(error_last(), "cannot read") != NULL, "with error_last()");
	t_free(&t);
	free(path);

	path = xasprintf("rm -rf '%s'", dir);
	if (system(path) != 0)
		printf("# cleanup failed\n");
	free(path);
	free(out);
#undef W
}

/* ---- spec.placement ---- */

static void test_placement(void)
{
	struct t t;
	const struct project *p;

	t_parse(&t, HEAD "  placement:\n    node: node1\n"
		"    nodeSelector: {zone: a, example.com/disk: ssd}\n"
		"  services: [{name: a, image: x}]\n");
	clean(&t, "placement read");
	p = first(&t);
	ok(p && p->placement.present && p->placement.node &&
	   !strcmp(p->placement.node, "node1") && p->placement.selector.n == 2 &&
	   !strcmp(p->placement.selector.v[0].key, "zone") &&
	   !strcmp(p->placement.selector.v[0].value, "a") &&
	   !strcmp(p->placement.selector.v[1].key, "example.com/disk") &&
	   p->placement.pos.line == 7, "  node and nodeSelector into the model");
	t_free(&t);
	t_parse(&t, HEAD "  services: [{name: a, image: x}]\n");
	p = first(&t);
	ok(p && !p->placement.present, "no placement: not present (every host)");
	t_free(&t);
	t_parse(&t, HEAD "  placement: {node: \"web 1\"}\n  services: [{name: a, image: x}]\n");
	expect(&t, "t.yaml:6:21: spec.placement.node: invalid node name 'web 1': only "
	       "letters, digits", "a bad node name: file, line, field");
	ok(t.set.n == 1 && !t.set.v[0].valid, "  and the project is invalid");
	t_free(&t);
	t_parse(&t, HEAD "  placement: {}\n  services: [{name: a, image: x}]\n");
	expect(&t, "t.yaml:6:14: spec.placement: names no node and no nodeSelector",
	       "an empty placement is an error, not 'everywhere'");
	ok(t.set.n == 1 && !t.set.v[0].valid, "  and the project is invalid");
	t_free(&t);
	t_parse(&t, HEAD "  placement: {nodee: n1}\n  services: [{name: a, image: x}]\n");
	expect(&t, "spec.placement.nodee: unknown field 'nodee' (ignored); did you "
	       "mean 'node'?", "a misspelt key: a suggestion");
	expect(&t, "spec.placement: names no node and no nodeSelector",
	       "  and no silent 'every host'");
	t_free(&t);
	t_parse(&t, HEAD "  placement:\n    nodeSelector: {zone: \"a b\"}\n"
		"  services: [{name: a, image: x}]\n");
	expect(&t, "t.yaml:7:20: spec.placement.nodeSelector.zone: invalid label value "
	       "'a b'", "a bad selector value: its line and key");
	ok(!strstr(buf_cstr(&t.text), "names no node"), "  and no second error");
	t_free(&t);
	t_parse(&t, HEAD "  placement:\n    nodeSelector: {zone: a, zone: b}\n"
		"  services: [{name: a, image: x}]\n");
	expect(&t, "duplicate key 'zone'", "a selector key twice");
	t_free(&t);
	t_parse(&t, HEAD "  placement:\n    nodeSelector: [zone=a]\n"
		"  services: [{name: a, image: x}]\n");
	expect(&t, "spec.placement.nodeSelector: must be a mapping of strings",
	       "a selector that is not a mapping");
	t_free(&t);
	t_parse(&t, HEAD "  placement: node1\n  services: [{name: a, image: x}]\n");
	expect(&t, "spec.placement: must be a mapping", "placement: NAME is not the form");
	ok(t.set.n == 1 && !t.set.v[0].valid, "  and the project is invalid");
	t_free(&t);

	/* host ports: only projects that may share a host conflict */
#define PORT80(name, placement) \
	"---\napiVersion: caravanserai/v1\nkind: Project\nmetadata: {name: " name "}\n" \
	"spec:\n" placement "  services: [{name: a, image: x, ports: " \
	"[{hostPort: 80, containerPort: 80}]}]\n"
	t_parse(&t, PORT80("a", "  placement: {node: n1}\n")
		PORT80("b", "  placement: {node: n2}\n")
		PORT80("c", "  placement: {node: N3}\n")
		PORT80("d", "  placement: {node: n3, nodeSelector: {zone: a}}\n"));
	expect(&t, "t.yaml:28:42: spec.services[0].ports[0].hostPort: host port "
	       "0.0.0.0:80/tcp is already bound by project 'c'",
	       "one host port on N3 and n3: the same node, a conflict");
	ok(t.set.n == 4 && t.set.v[0].valid && t.set.v[1].valid && t.set.v[2].valid &&
	   !t.set.v[3].valid, "  on n1 and n2 none: both valid");
	t_free(&t);
	t_parse(&t, PORT80("a", "  placement: {node: n1}\n") PORT80("b", "")
		PORT80("c", "  placement: {nodeSelector: {zone: a}}\n"));
	ok(t.set.n == 3 && !t.set.v[1].valid && !t.set.v[2].valid,
	   "an unplaced project and one placed by selector run anywhere: conflicts");
	expect(&t, "already bound by project 'a'", "  named against the placed one");
	expect(&t, "already bound by project 'b'", "  and against each other");
	t_free(&t);
#undef PORT80
}

int main(void)
{
	test_caravanserai_examples();
	test_placement();
	test_design_example();
	test_extensions();
	test_host_settings();
	test_resources();
	test_interpolation();
	test_alias_bytes();
	test_names();
	test_images();
	test_rules();
	test_every_problem();
	test_hostpath_roots();
	test_hostpath_engine_socket();
	test_documents();
	test_positions();
	test_hostile();
	test_set_rules();
	test_external_aliases();
	test_model();
	test_load_dir();
	error_clear();
	return tap_done();
}
