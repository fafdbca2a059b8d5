/*
 * test-convert.c - cara convert's writer (src/convert.c, src/yaml_out.c):
 * a rich manifest and a rich compose file read, written back as
 * caravanserai/v1, read again: every field of the model the same, and
 * the same spec hash for every service.  Then scalars YAML could read as
 * something else (yes, 1.0, null, ":x", "a # b", " x ", unicode,
 * newlines) through the writer and back through libyaml and the reader.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "convert.h"
#include "input/manifest.h"
#include "source/source.h"
#include "spec.h"
#include "yaml_out.h"
#include "tap.h"

static const char *t_getenv(const char *name, void *ctx)
{
	(void)ctx;
	if (!strcmp(name, "TAG"))
		return "1.25";
	if (!strcmp(name, "ODD"))
		return "yes: $HOME # not a comment";
	return NULL;
}

static const char *const roots[] = { "/srv" };

static bool t_cluster;    /* read as for --backend swarm */

static void t_opts(struct manifest_options *o)
{
	memset(o, 0, sizeof(*o));
	o->cluster = t_cluster;
	o->getenv = t_getenv;
	o->allow_privileged = true;
	o->hostpath_roots = roots;
	o->nhostpath_roots = 1;
	o->ingress_env = "prod";
	o->base_domain = "example.com";
}

static void show_diags(const struct diags *d)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < d->n; i++) {
		buf_puts(&b, "#   ");
		diag_format(&b, &d->v[i]);
		buf_putc(&b, '\n');
	}
	fputs(buf_cstr(&b), stdout);
	buf_release(&b);
}

/* Files as path, text pairs, NULL-terminated, read as one source. */
static void load(struct project_set *set, struct diags *d,
		 const char *const *files)
{
	struct manifest_options o;
	struct source_snapshot snap;
	size_t i;

	t_opts(&o);
	memset(&snap, 0, sizeof(snap));
	for (i = 0; files[i]; i += 2) {
		struct buf b = BUF_INIT;

		buf_puts(&b, files[i + 1]);
		source_snapshot_add_file(&snap, xstrdup(files[i]), &b);
		buf_release(&b);
	}
	manifest_load_snapshot(set, &snap, &o, d);
	source_snapshot_release(&snap);
}

/* ---- field-by-field comparison: the first difference, by name ---- */

static const char *why;

#define DIFF(cond, field) do { if (!why && (cond)) why = (field); } while (0)

static bool str_ne(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b));
}

static bool vec_ne(const struct strvec *a, const struct strvec *b)
{
	size_t i;

	if (a->n != b->n)
		return true;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return true;
	return false;
}

static bool kv_ne(const struct kvlist *a, const struct kvlist *b)
{
	size_t i;

	if (a->n != b->n)
		return true;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].key, b->v[i].key) ||
		    strcmp(a->v[i].value, b->v[i].value))
			return true;
	return false;
}

static void cmp_service(const struct service *a, const struct service *b)
{
	size_t i;

	DIFF(str_ne(a->name, b->name), "name");
	DIFF(str_ne(a->image, b->image), "image");
	DIFF(a->pull_policy != b->pull_policy, "imagePullPolicy");
	DIFF(a->has_command != b->has_command || vec_ne(&a->command, &b->command),
	     "command");
	DIFF(a->has_entrypoint != b->has_entrypoint ||
	     vec_ne(&a->entrypoint, &b->entrypoint), "entrypoint");
	DIFF(str_ne(a->working_dir, b->working_dir), "workingDir");
	DIFF(str_ne(a->user, b->user), "user");
	DIFF(a->nenv != b->nenv, "env");
	for (i = 0; !why && i < a->nenv; i++) {
		DIFF(str_ne(a->env[i].name, b->env[i].name), "env.name");
		DIFF(str_ne(a->env[i].value, b->env[i].value), "env.value");
		DIFF(str_ne(a->env[i].secret_name, b->env[i].secret_name),
		     "env.secretKeyRef.name");
		DIFF(str_ne(a->env[i].secret_key, b->env[i].secret_key),
		     "env.secretKeyRef.key");
	}
	DIFF(a->nmounts != b->nmounts, "volumeMounts");
	for (i = 0; !why && i < a->nmounts; i++) {
		DIFF(str_ne(a->mounts[i].name, b->mounts[i].name), "mount.name");
		DIFF(str_ne(a->mounts[i].mount_path, b->mounts[i].mount_path),
		     "mount.mountPath");
		DIFF(a->mounts[i].read_only != b->mounts[i].read_only,
		     "mount.readOnly");
	}
	DIFF(a->nports != b->nports, "ports");
	for (i = 0; !why && i < a->nports; i++) {
		DIFF(str_ne(a->ports[i].host_ip, b->ports[i].host_ip), "hostIP");
		DIFF(a->ports[i].host_port != b->ports[i].host_port, "hostPort");
		DIFF(a->ports[i].container_port != b->ports[i].container_port,
		     "containerPort");
		DIFF(str_ne(a->ports[i].protocol, b->ports[i].protocol), "protocol");
	}
	DIFF(a->health.present != b->health.present, "healthcheck");
	DIFF(vec_ne(&a->health.test, &b->health.test), "healthcheck.test");
	DIFF(a->health.interval_ms != b->health.interval_ms, "interval");
	DIFF(a->health.timeout_ms != b->health.timeout_ms, "timeout");
	DIFF(a->health.start_period_ms != b->health.start_period_ms,
	     "startPeriod");
	DIFF(a->health.start_interval_ms != b->health.start_interval_ms,
	     "startInterval");
	DIFF(a->health.retries != b->health.retries, "retries");
	DIFF(a->ndeps != b->ndeps, "dependsOn");
	for (i = 0; !why && i < a->ndeps; i++) {
		/* optional (compose's required: false) only decides, while
		 * reading compose, whether a dependency is kept */
		DIFF(str_ne(a->deps[i].service, b->deps[i].service),
		     "dependsOn.service");
		DIFF(a->deps[i].condition != b->deps[i].condition,
		     "dependsOn.condition");
	}
	DIFF(a->restart != b->restart, "restart");
	DIFF(a->stop_grace_ms != b->stop_grace_ms, "stopGracePeriod");
	DIFF(kv_ne(&a->labels, &b->labels), "labels");
	DIFF(a->memory_bytes != b->memory_bytes, "memory");
	DIFF(a->nano_cpus != b->nano_cpus, "cpus");
	DIFF(a->memory_reservation_bytes != b->memory_reservation_bytes,
	     "memoryReservation");
	DIFF(a->memory_swap_bytes != b->memory_swap_bytes, "memorySwap");
	DIFF(a->cpu_shares != b->cpu_shares, "cpuShares");
	DIFF(a->nano_cpus_reservation != b->nano_cpus_reservation,
	     "cpusReservation");
	DIFF(a->restart_retries != b->restart_retries, "restartRetries");
	DIFF(vec_ne(&a->cap_add, &b->cap_add), "capAdd");
	DIFF(vec_ne(&a->cap_drop, &b->cap_drop), "capDrop");
	DIFF(a->privileged != b->privileged, "privileged");
	DIFF(a->read_only != b->read_only, "readOnly");
	DIFF(a->has_init != b->has_init || a->init != b->init, "init");
	DIFF(vec_ne(&a->tmpfs, &b->tmpfs), "tmpfs");
	DIFF(str_ne(a->hostname, b->hostname), "hostname");
	DIFF(str_ne(a->stop_signal, b->stop_signal), "stopSignal");
	DIFF(vec_ne(&a->extra_hosts, &b->extra_hosts), "extraHosts");
	DIFF(vec_ne(&a->dns, &b->dns), "dns");
	DIFF(a->shm_bytes != b->shm_bytes, "shmSize");
	DIFF(kv_ne(&a->sysctls, &b->sysctls), "sysctls");
	DIFF(a->nulimits != b->nulimits, "ulimits");
	for (i = 0; !why && i < a->nulimits; i++)
		DIFF(strcmp(a->ulimits[i].name, b->ulimits[i].name) ||
		     a->ulimits[i].soft != b->ulimits[i].soft ||
		     a->ulimits[i].hard != b->ulimits[i].hard, "ulimits[]");
	DIFF(vec_ne(&a->security_opt, &b->security_opt), "securityOpt");
	DIFF(vec_ne(&a->expose, &b->expose), "expose");
	DIFF(vec_ne(&a->aliases, &b->aliases), "aliases");
	DIFF(a->tty != b->tty, "tty");
	DIFF(a->stdin_open != b->stdin_open, "stdinOpen");
	DIFF(str_ne(a->domainname, b->domainname), "domainname");
	DIFF(a->pids_limit != b->pids_limit, "pidsLimit");
	DIFF(a->has_oom_score_adj != b->has_oom_score_adj ||
	     a->oom_score_adj != b->oom_score_adj, "oomScoreAdj");
	DIFF(vec_ne(&a->group_add, &b->group_add), "groupAdd");
	DIFF(vec_ne(&a->dns_search, &b->dns_search), "dnsSearch");
	DIFF(vec_ne(&a->dns_opt, &b->dns_opt), "dnsOptions");
}

static void cmp_project(const struct project *a, const struct project *b)
{
	size_t i;

	DIFF(str_ne(a->name, b->name), "metadata.name");
	DIFF(kv_ne(&a->labels, &b->labels), "metadata.labels");
	DIFF(kv_ne(&a->annotations, &b->annotations), "metadata.annotations");
	DIFF(a->has_expire != b->has_expire || a->expire_at != b->expire_at,
	     "expireAt");
	DIFF(a->placement.present != b->placement.present ||
	     str_ne(a->placement.node, b->placement.node) ||
	     kv_ne(&a->placement.selector, &b->placement.selector), "placement");
	DIFF(a->valid != b->valid, "valid");
	DIFF(a->nservices != b->nservices, "services");
	for (i = 0; !why && i < a->nservices; i++)
		cmp_service(&a->services[i], &b->services[i]);
	DIFF(a->nvolumes != b->nvolumes, "volumes");
	for (i = 0; !why && i < a->nvolumes; i++) {
		DIFF(str_ne(a->volumes[i].name, b->volumes[i].name), "volume.name");
		DIFF(a->volumes[i].type != b->volumes[i].type, "volume.type");
		DIFF(str_ne(a->volumes[i].host_path, b->volumes[i].host_path),
		     "volume.hostPath");
	}
	DIFF(a->ningress != b->ningress, "ingress");
	for (i = 0; !why && i < a->ningress; i++) {
		const struct ingress *x = &a->ingress[i], *y = &b->ingress[i];

		DIFF(str_ne(x->name, y->name), "ingress.name");
		DIFF(str_ne(x->host, y->host), "ingress.host");
		DIFF(str_ne(x->fqdn, y->fqdn), "ingress.fqdn");
		DIFF(str_ne(x->target_service, y->target_service),
		     "ingress.target.service");
		DIFF(x->target_port != y->target_port, "ingress.target.port");
		DIFF(str_ne(x->scope, y->scope), "ingress.access.scope");
	}
}

static char secrets_dir[] = "/tmp/cara-test-convert-XXXXXX";

static void write_secret(const char *name, const char *key)
{
	char *d = xasprintf("%s/%s", secrets_dir, name);
	char *f = xasprintf("%s/%s", d, key);
	FILE *fp;

	mkdir(d, 0700);
	if ((fp = fopen(f, "w"))) {
		fputs("s3cret\n", fp);
		fclose(fp);
	}
	free(f);
	free(d);
}

/* Read, convert, read again: every project and service the same. */
static void round_trip(const char *what, const char *const *files,
		       size_t want_projects)
{
	struct project_set a = PROJECT_SET_INIT, b = PROJECT_SET_INIT;
	struct diags da = DIAGS_INIT, db = DIAGS_INIT;
	struct manifest_options o;
	struct buf yaml = BUF_INIT;
	size_t i, j, yaml11;

	load(&a, &da, files);
	if (!ok(da.nerrors == 0 && a.n == want_projects,
		"%s: read with no error, %zu projects", what, want_projects))
		show_diags(&da);
	for (i = 0; i < a.n; i++) {
		if (i)
			buf_puts(&yaml, "---\n");
		convert_write_project(&yaml, &a.v[i]);
	}
	t_opts(&o);
	manifest_parse_buffer(&b, "out.yaml", yaml.ptr, yaml.len, &o, &db);
	manifest_validate_set(&b, &db);
	/* the warnings of the format itself (a compose value YAML 1.1 reads
	 * otherwise) have nothing to say of the converted manifest */
	for (j = 0, yaml11 = 0; j < da.n; j++)
		yaml11 += da.v[j].severity == DIAG_WARNING &&
			  strstr(da.v[j].message, "(YAML 1.1)") != NULL;
	if (!ok(db.nerrors == 0 && db.nwarnings == da.nwarnings - yaml11, "%s: the "
		"converted manifest reads with no error, the same warnings", what)) {
		show_diags(&db);
		printf("%s", buf_cstr(&yaml));
	}
	why = a.n != b.n ? "number of projects" : NULL;
	for (i = 0; !why && i < a.n; i++)
		cmp_project(&a.v[i], &b.v[i]);
	if (!ok(!why, "%s: every field the same after the round trip", what)) {
		printf("#   first difference: %s\n", why);
		printf("%s", buf_cstr(&yaml));
	}
	for (i = 0; i < a.n && i < b.n; i++)
		for (j = 0; j < a.v[i].nservices && j < b.v[i].nservices; j++) {
			char ha[65], hb[65];
			char *fa = NULL, *fb = NULL;
			int ra = spec_service(ha, &fa, &a.v[i], &a.v[i].services[j],
					      secrets_dir);
			int rb = spec_service(hb, &fb, &b.v[i], &b.v[i].services[j],
					      secrets_dir);

			ok(ra == 0 && rb == 0 && !strcmp(ha, hb) && !strcmp(fa, fb),
			   "%s: %s/%s: same spec hash", what, a.v[i].name,
			   a.v[i].services[j].name);
			free(fa);
			free(fb);
		}
	buf_release(&yaml);
	project_set_release(&a);
	project_set_release(&b);
	diags_release(&da);
	diags_release(&db);
}

static const char rich_manifest[] =
	"apiVersion: caravanserai/v1\n"
	"kind: Project\n"
	"metadata:\n"
	"  name: rich\n"
	"  labels: {team: platform, tier: \"1\", 'yes': 'no'}\n"
	"  annotations: {note: \"a # b\", empty: \"\", colon: \":x\"}\n"
	"spec:\n"
	"  expireAt: 2030-06-30T18:00:00+02:00\n"
	"  placement: {node: node-1, nodeSelector: {zone: a, example.com/disk: ssd}}\n"
	"  services:\n"
	"    - name: web\n"
	"      image: nginx:${TAG}\n"
	"      imagePullPolicy: Always\n"
	"      command: [nginx, -g, 'daemon off;', '$$HOME', '1.0', null-ish]\n"
	"      entrypoint: []\n"
	"      workingDir: /srv/www\n"
	"      user: \"101:101\"\n"
	"      env:\n"
	"        - {name: A, value: \"yes\"}\n"
	"        - {name: B, value: \"line one\\nline two\\t\\\"q\\\" \\\\\"}\n"
	"        - {name: C, value: \" padded \"}\n"
	"        - {name: D, value: \"caf\\u00e9 \\u2028 \\u0085 \\U0001F600\"}\n"
	"        - {name: E, value: \"${ODD}\"}\n"
	"        - {name: F, value: \"\"}\n"
	"        - {name: G, value: \"~\"}\n"
	"        - name: TOKEN\n"
	"          valueFrom: {secretKeyRef: {name: web, key: token}}\n"
	"      volumeMounts:\n"
	"        - {name: data, mountPath: /data, readOnly: true}\n"
	"        - {name: host, mountPath: /host}\n"
	"        - {name: tmp, mountPath: /scratch}\n"
	"      ports:\n"
	"        - {containerPort: 80, hostPort: 18080, hostIP: 127.0.0.1}\n"
	"        - {containerPort: 53, protocol: UDP}\n"
	"        - {containerPort: 443, hostPort: 18443, hostIP: '::1', protocol: tcp}\n"
	"      healthcheck:\n"
	"        test: curl -f http://localhost/ || exit 1\n"
	"        interval: 1m30s\n"
	"        timeout: 1500ms\n"
	"        startPeriod: 2h\n"
	"        startInterval: 250ms\n"
	"        retries: 5\n"
	"      dependsOn: [db, {service: init, condition: Completed}]\n"
	"      restart: on-failure\n"
	"      restartRetries: 4\n"
	"      stopGracePeriod: 0s\n"
	"      labels: {com.example/role: front, \"on\": \"off\"}\n"
	"      resources: {memory: 1536m, cpus: \"0.125\", memoryReservation: 1000000k,\n"
	"                  memorySwap: 2Gi, cpuShares: 100}\n"
	"      capAdd: [NET_ADMIN, CAP_SYS_TIME]\n"
	"      capDrop: [ALL]\n"
	"      privileged: true\n"
	"      readOnly: true\n"
	"      tmpfs: [/run, \"/tmp:size=64m\"]\n"
	"      hostname: web.local\n"
	"      init: false\n"
	"      stopSignal: SIGQUIT\n"
	"      extraHosts: {db.local: 10.0.0.2}\n"
	"      dns: 1.1.1.1\n"
	"      shmSize: 100000\n"
	"      sysctls: [net.core.somaxconn=1024]\n"
	"      ulimits: {nofile: {soft: 1024, hard: 4096}, nproc: -1}\n"
	"      securityOpt: [no-new-privileges]\n"
	"      expose: [\"9000-9002/udp\", 7000]\n"
	"      aliases: [www]\n"
	"      tty: true\n"
	"      stdinOpen: true\n"
	"      domainname: example.internal\n"
	"      pidsLimit: 100\n"
	"      oomScoreAdj: 0\n"
	"      groupAdd: [\"109\", audio]\n"
	"      dnsSearch: [b.example, a.example]\n"
	"      dnsOptions: [\"ndots:2\", use-vc]\n"
	"    - name: db\n"
	"      image: postgres:16\n"
	"      healthcheck: {test: [CMD, pg_isready], interval: 5s}\n"
	"      restart: \"no\"\n"
	"    - name: init\n"
	"      image: busybox\n"
	"      healthcheck: {test: NONE}\n"
	"      restart: on-failure\n"
	"      init: true\n"
	"      stopGracePeriod: 1h1m1s1ms\n"
	"  volumes:\n"
	"    - {name: data}\n"
	"    - {name: host, hostPath: /srv/host}\n"
	"    - {name: tmp, type: Ephemeral}\n"
	"  ingress:\n"
	"    - {name: www, host: www, target: {service: web, port: 80}, access: {scope: Public}}\n"
	"    - {name: full, host: a.example.org, target: {service: web, port: 443}}\n"
	"---\n"
	"apiVersion: caravanserai/v1\n"
	"kind: Project\n"
	"metadata: {name: another}\n"
	"spec:\n"
	"  services: [{name: s, image: busybox, command: []}]\n";

static const char rich_compose[] =
	"x-common: &common\n"
	"  stop_grace_period: 1s\n"
	"  restart: unless-stopped\n"
	"  labels: &labels {team: web}\n"
	"services:\n"
	"  web:\n"
	"    <<: *common\n"
	"    image: nginx:${TAG}\n"
	"    command: sh -c 'echo \"hi there\" && exec httpd -f'\n"
	"    environment:\n"
	"      GREETING: ${GREETING:-hello}\n"
	"      DOLLAR: \"$$5\"\n"
	"      NUM: 1.0\n"
	"    env_file: [web.env]\n"
	"    ports: [\"127.0.0.1:8080:80\", \"9000/udp\", \"7000-7001:8000-8001\",\n"
	"            {target: 443, published: 8443, host_ip: \"::1\"}]\n"
	"    volumes: [data:/data, {type: volume, source: data, target: /ro, read_only: true},\n"
	"              /srv/site:/site:ro]\n"
	"    depends_on:\n"
	"      db: {condition: service_healthy}\n"
	"      init: {condition: service_completed_successfully}\n"
	"      gone: {condition: service_started, required: false}\n"
	"    healthcheck:\n"
	"      test: [\"CMD-SHELL\", \"curl -f http://localhost/\"]\n"
	"      interval: 5s\n"
	"      timeout: 2s\n"
	"      start_period: 1m\n"
	"      start_interval: 2s\n"
	"      retries: 3\n"
	"    labels: [tier=front]\n"
	"    user: \"1000:1000\"\n"
	"    working_dir: /srv\n"
	"    mem_limit: 256m\n"
	"    cpus: 0.5\n"
	"    mem_reservation: 100000000\n"
	"    memswap_limit: 512m\n"
	"    tmpfs: /run\n"
	"    ulimits: {nofile: 65536}\n"
	"    extra_hosts: [\"host.docker.internal:host-gateway\"]\n"
	"  db:\n"
	"    <<: *common\n"
	"    restart: always\n"
	"    pull_policy: never\n"
	"    image: postgres:16\n"
	"    entrypoint: [\"docker-entrypoint.sh\"]\n"
	"    command: \"postgres -c max_connections=$$N\"\n"
	"    healthcheck: {test: \"pg_isready\"}\n"
	"    deploy: {resources: {limits: {memory: 64m, cpus: '2'},\n"
	"                         reservations: {memory: 32m}}}\n"
	"    memswap_limit: -1\n"
	"    cpu_shares: 2048\n"
	"  init:\n"
	"    image: busybox\n"
	"    depends_on: [db]\n"
	"    healthcheck: {disable: true}\n"
	"    restart: \"no\"\n"
	"volumes:\n"
	"  data:\n";

static void test_round_trips(void)
{
	const char *manifest[] = { "apps/rich.yaml", rich_manifest, NULL };
	const char *compose[] = {
		"app/compose.yaml", rich_compose,
		"app/web.env", "FOO=file\nQ='a #b$'\nexport E=\"x\\ny\"\nT=v # note\n",
		NULL
	};

	const char *swarm[] = {
		"app/compose.yaml",
		"services:\n  s:\n    image: busybox\n"
		"    deploy: {resources: {reservations: {cpus: '0.25', memory: 1g}}}\n",
		NULL
	};

	round_trip("manifest", manifest, 2);
	round_trip("compose", compose, 1);
	t_cluster = true;
	round_trip("compose for a cluster (a CPU reservation)", swarm, 1);
	t_cluster = false;
}

/* A compose project's binds of source files (File volumes) converted:
 * each File volume's path, relative to the directory of the compose file
 * (up to another directory for an extends), so that the Project, in place
 * of the compose file, mounts the same files. */
static void test_file_volumes(void)
{
	const char *compose[] = {
		"app/compose.yaml",
		"services:\n"
		"  web:\n"
		"    extends: {file: ../shared/base.yml, service: base}\n"
		"    volumes: [./conf:/etc/conf, ./conf/a.ini:/etc/a.ini:ro]\n"
		"  all:\n"
		"    image: busybox\n"
		"    volumes: [.:/src]\n",
		"app/conf/a.ini", "[a]\n",
		"shared/base.yml",
		"services:\n  base:\n    image: busybox\n"
		"    volumes: [./site:/site]\n",
		"shared/site/index.html", "<p>\n",
		NULL
	};
	const char *project[] = {
		"app/conf/a.ini", "[a]\n",
		"app/project.yaml", NULL,
		"shared/site/index.html", "<p>\n",
		NULL
	};
	struct project_set a = PROJECT_SET_INIT, b = PROJECT_SET_INIT;
	struct diags da = DIAGS_INIT, db = DIAGS_INIT;
	struct buf yaml = BUF_INIT;
	size_t i, same = 0;

	load(&a, &da, compose);
	if (!ok(da.nerrors == 0 && a.n == 1, "file volumes: the compose project reads"))
		show_diags(&da);
	if (a.n)
		convert_write_project(&yaml, &a.v[0]);
	if (!ok(strstr(buf_cstr(&yaml), "path: conf\n") &&
	   strstr(buf_cstr(&yaml), "path: conf/a.ini\n") &&
	   strstr(buf_cstr(&yaml), "path: ../shared/site\n") &&
	   strstr(buf_cstr(&yaml), "path: \".\"\n"),
	   "file volumes: each path relative to the compose file's directory"))
		printf("%s", buf_cstr(&yaml));
	project[3] = buf_cstr(&yaml);
	load(&b, &db, project);
	if (!ok(db.nerrors == 0 && b.n == 1, "file volumes: the converted "
		"Project reads with no error in the same source")) {
		show_diags(&db);
		printf("%s", buf_cstr(&yaml));
	}
	for (i = 0; a.n && b.n && i < a.v[0].nvolumes; i++) {
		const struct volume *va = &a.v[0].volumes[i];
		const struct volume *vb = project_find_volume(&b.v[0], va->name);

		/* "." holds the manifest itself, which is not the same file */
		same += vb && vb->type == VOLUME_FILE &&
			!strcmp(vb->source_path, va->source_path) &&
			(!strcmp(va->name, "file-app") ||
			 !strcmp(vb->digest, va->digest));
	}
	ok(a.n && same == a.v[0].nvolumes && same == 4,
	   "file volumes: the same files, the same digests");
	buf_release(&yaml);
	project_set_release(&a);
	project_set_release(&b);
	diags_release(&da);
	diags_release(&db);
}

/* ---- scalars ---- */

/* The one scalar of "v: TEXT" as libyaml reads it, or NULL; *plain set. */
static char *libyaml_value(const char *doc, bool *plain)
{
	yaml_parser_t p;
	yaml_event_t ev;
	char *out = NULL;
	int n = 0;

	if (!yaml_parser_initialize(&p))
		return NULL;
	yaml_parser_set_input_string(&p, (const unsigned char *)doc, strlen(doc));
	for (;;) {
		if (!yaml_parser_parse(&p, &ev))
			break;
		if (ev.type == YAML_SCALAR_EVENT && ++n == 2) {
			out = xstrndup((const char *)ev.data.scalar.value,
				       ev.data.scalar.length);
			*plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return out;
}

static void test_scalars(void)
{
	static const struct { const char *s; bool plain; } cases[] = {
		{ "web", true }, { "nginx:1.25", true }, { "/usr/share/nginx", true },
		{ "256Mi", true }, { "1m30s", true }, { "ghcr.io/a/b@sha256:00", true },
		{ "a b", true }, { "--verbose", true }, { "key=value", true },
		{ "http://x/y", true }, { "1.25-alpine", true },
		{ "yes", false }, { "No", false }, { "ON", false }, { "off", false },
		{ "y", false }, { "n", false }, { "true", false }, { "False", false },
		{ "null", false }, { "Null", false }, { "~", false }, { "", false },
		{ "1.0", false }, { "1", false }, { "-1", false }, { "+1", false },
		{ "0x1F", false }, { "0o17", false }, { "1e3", false }, { "1_000", false },
		{ ".5", false }, { ".inf", false }, { "-.INF", false }, { ".NaN", false },
		{ "1:30", false }, { "2026-01-01", false },
		{ "2026-01-01T00:00:00Z", false }, { "-", false }, { "- x", false },
		{ ":x", false }, { "x:", false }, { "a: b", false }, { "a # b", false },
		{ "#x", false }, { "a#b", false }, { " x ", false }, { " x", false },
		{ "x ", false }, { "a  b", false }, { "&a", false }, { "*a", false },
		{ "!t", false }, { "|", false }, { ">", false }, { "'q'", false },
		{ "\"q\"", false }, { "%x", false }, { "@x", false }, { "`x", false },
		{ "[a]", false }, { "{a}", false }, { "a,b", false }, { "?x", false },
		{ "=", false }, { "<<", false }, { "a\nb", false }, { "a\tb", false },
		{ "\r", false }, { "back\\slash", false }, { "caf\xc3\xa9", false },
		{ "\xe2\x80\xa8", false }, { "\xc2\x85", false },
		{ "\xef\xbb\xbfx", false }, { "\xc2\x80", false },
		{ "\xf0\x9f\x98\x80", false }, { "\x01", false }, { "\x7f", false },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct buf doc = BUF_INIT, shown = BUF_INIT;
		bool plain = false;
		char *got;

		buf_puts(&doc, "v: ");
		yaml_out_scalar(&doc, cases[i].s);
		buf_putc(&doc, '\n');
		got = libyaml_value(buf_cstr(&doc), &plain);
		buf_text_safe(&shown, cases[i].s);
		if (!ok(got && !strcmp(got, cases[i].s) && plain == cases[i].plain,
			"scalar '%s': %s, reads back the same", buf_cstr(&shown),
			cases[i].plain ? "plain" : "quoted"))
			printf("#   wrote: %s", buf_cstr(&doc));
		free(got);
		buf_release(&doc);
		buf_release(&shown);
	}
}

int main(void)
{
	if (!mkdtemp(secrets_dir)) {
		perror("mkdtemp");
		return 1;
	}
	write_secret("web", "token");
	test_round_trips();
	test_file_volumes();
	test_scalars();
	{
		char *cmd = xasprintf("%s/web", secrets_dir), *f;

		f = xasprintf("%s/token", cmd);
		unlink(f);
		rmdir(cmd);
		rmdir(secrets_dir);
		free(f);
		free(cmd);
	}
	error_clear();
	return tap_done();
}
