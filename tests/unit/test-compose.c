/*
 * test-compose.c - the compose reader (input/compose.c): each field's
 * mapping onto the model as `docker-compose config` reads it, what is
 * refused, the project name rule, .env and env_file from the snapshot,
 * compose's interpolation, merge keys, override files, extends and include
 * (each merge rule against `docker-compose config`), and hostile input
 * (merge-key bombs, include chains and extends copies past the caps,
 * cycles, paths out of the source, a huge env_file, a .env or an included
 * file that is a symbolic link).
 */
/* Fixtures are made and removed with shell commands (see banned.h). */
#define CARA_BANNED_ALLOW_SHELL
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "input/manifest.h"
#include "input/schema.h"
#include "source/source.h"
#include "tap.h"

static const char *t_getenv(const char *name, void *ctx)
{
	(void)ctx;
	if (!strcmp(name, "TAG"))
		return "1.25";
	if (!strcmp(name, "FROM_ENV"))
		return "env";
	if (!strcmp(name, "EMPTY"))
		return "";
	if (!strcmp(name, "CARA_TOKEN"))
		return "SECRET";
	if (!strcmp(name, "SWAP"))
		return "-1";
	return NULL;
}

struct t {
	struct project_set set;
	struct diags d;
	struct buf text;
};

/* Host settings the next loads use. */
static bool t_allow_privileged;
static bool t_cluster;
static const char *const *t_profiles;
static size_t t_nprofiles;

/* Files as path, text pairs (sorted by path), NULL-terminated. */
static void t_load(struct t *t, const char *const *files)
{
	struct manifest_options o;
	struct source_snapshot snap;
	size_t i;

	memset(t, 0, sizeof(*t));
	memset(&o, 0, sizeof(o));
	memset(&snap, 0, sizeof(snap));
	o.getenv = t_getenv;
	o.allow_privileged = t_allow_privileged;
	o.cluster = t_cluster;
	o.compose_profiles = t_profiles;
	o.ncompose_profiles = t_nprofiles;
	for (i = 0; files[i]; i += 2) {
		struct buf b = BUF_INIT;

		buf_puts(&b, files[i + 1]);
		source_snapshot_add_file(&snap, xstrdup(files[i]), &b);
		buf_release(&b);
	}
	manifest_load_snapshot(&t->set, &snap, &o, &t->d);
	source_snapshot_release(&snap);
	diags_sort(&t->d);
	for (i = 0; i < t->d.n; i++) {
		diag_format(&t->text, &t->d.v[i]);
		buf_putc(&t->text, '\n');
	}
}

static void t_one(struct t *t, const char *yaml)
{
	const char *files[] = { "app/compose.yaml", yaml, NULL };

	t_load(t, files);
}

static void t_free(struct t *t)
{
	project_set_release(&t->set);
	diags_release(&t->d);
	buf_release(&t->text);
}

#define expect(t, want, ...) do { \
	if (!ok(strstr(buf_cstr(&(t)->text), (want)) != NULL, __VA_ARGS__)) \
		printf("#   want: %s\n#   got:\n%s", (want), buf_cstr(&(t)->text)); \
} while (0)

#define clean(t, ...) do { \
	if (!ok((t)->d.n == 0, __VA_ARGS__)) \
		printf("#   findings:\n%s", buf_cstr(&(t)->text)); \
} while (0)

static const struct env_var *env(const struct service *s, const char *name)
{
	size_t i;

	for (i = 0; s && i < s->nenv; i++)
		if (!strcmp(s->env[i].name, name))
			return &s->env[i];
	return NULL;
}

static const char *envval(const struct service *s, const char *name)
{
	const struct env_var *e = env(s, name);

	return e ? e->value : NULL;
}

static const char *joined(const struct strvec *v)
{
	static struct buf b;
	size_t i;

	buf_reset(&b);
	for (i = 0; i < v->n; i++)
		buf_printf(&b, "%s[%s]", i ? " " : "", v->v[i]);
	return buf_cstr(&b);
}

/* ---- the mapping ---- */

static const char full_yaml[] =
	"x-common: &common\n"
	"  stop_grace_period: 1s\n"
	"  restart: unless-stopped\n"
	"services:\n"
	"  web:\n"
	"    <<: *common\n"
	"    image: nginx:${TAG}\n"
	"    command: sh -c 'echo \"hi there\" && exec httpd -f'\n"
	"    environment:\n"
	"      GREETING: ${GREETING:-hello}\n"
	"      FROM_ENV:\n"
	"      UNSET_ONE:\n"
	"    env_file: [web.env, ./conf/more.env]\n"
	"    ports: [\"127.0.0.1:8080:80\", \"9000/udp\", \"7000-7001:8000-8001\",\n"
	"            {target: 443, published: 8443, host_ip: \"::1\"}]\n"
	"    volumes: [data:/data, {type: volume, source: data, target: /ro, read_only: true}]\n"
	"    depends_on:\n"
	"      db: {condition: service_healthy}\n"
	"      init: {condition: service_completed_successfully}\n"
	"    healthcheck:\n"
	"      test: [\"CMD\", \"true\"]\n"
	"      interval: 5s\n"
	"      timeout: 2s\n"
	"      start_period: 1m\n"
	"      start_interval: 1500ms\n"
	"      retries: 3\n"
	"    labels: [team=web, tier=front]\n"
	"    user: \"1000:1000\"\n"
	"    working_dir: /srv\n"
	"    mem_limit: 256m\n"
	"    cpus: 0.5\n"
	"    networks: [default]\n"
	"  db:\n"
	"    <<: *common\n"
	"    restart: always\n"
	"    pull_policy: never\n"
	"    image: busybox\n"
	"    entrypoint: [\"sh\", \"-c\"]\n"
	"    command: \"sleep $$HOME $TAG\"\n"
	"    healthcheck: {test: \"test -f /ok\"}\n"
	"    deploy: {resources: {limits: {memory: 64m, cpus: '2'}}}\n"
	"  init:\n"
	"    image: busybox\n"
	"    depends_on: [db]\n"
	"    healthcheck: {disable: true}\n"
	"volumes:\n"
	"  data:\n"
	"networks:\n"
	"  default: {}\n";

static void test_mapping(void)
{
	const char *files[] = {
		"app/.env", "TAG=ignored-env-wins\nX_FROM_DOTENV=dot\n",
		"app/compose.yaml", full_yaml,
		"app/conf/more.env", "FOO=more\n",
		"app/web.env", "# comment\nFOO=file\nGREETING=fromfile\nQ='a #b$'\n"
			       "export E=\"x\\ny\"\nT=v # note\n",
		NULL
	};
	const struct service *web, *db, *init;
	const struct project *p;
	struct t t;

	t_load(&t, files);
	expect(&t, "app/compose.yaml:12:7: warning: services.web.environment."
	       "UNSET_ONE: not set", "a KEY without value that is unset: warned");
	ok(t.set.n == 1 && t.set.v[0].valid, "one valid project");
	p = t.set.n ? &t.set.v[0] : NULL;
	if (!p) {
		t_free(&t);
		return;
	}
	is_str(p->name, "app", "named after its directory");
	web = project_find_service(p, "web");
	db = project_find_service(p, "db");
	init = project_find_service(p, "init");
	ok(web && db && init, "three services");
	if (!web || !db || !init) {
		t_free(&t);
		return;
	}
	is_str(web->image, "nginx:1.25", "image interpolated");
	is_str(joined(&web->command), "[sh] [-c] [echo \"hi there\" && exec httpd -f]",
	       "command string split as compose does");
	is_str(joined(&db->entrypoint), "[sh] [-c]", "entrypoint list");
	is_str(joined(&db->command), "[sleep] [$HOME] [1.25]",
	       "$$ is a '$', bare $VAR interpolated");
	is_str(envval(web, "GREETING"), "hello", "environment wins over env_file");
	is_str(envval(web, "FROM_ENV"), "env", "KEY without value: from the environment");
	ok(!env(web, "UNSET_ONE"), "KEY without value, unset: not passed");
	is_str(envval(web, "FOO"), "more", "the later env_file wins");
	is_str(envval(web, "Q"), "a #b$", "single quotes: ' #' and '$' kept");
	is_str(envval(web, "E"), "x\ny", "double quotes: escapes");
	is_str(envval(web, "T"), "v", "an unquoted value ends at ' #'");
	is_int(web->nports, 5, "five ports (a range is two)");
	if (web->nports == 5) {
		is_str(web->ports[0].host_ip, "127.0.0.1", "host IP");
		ok(web->ports[0].host_port == 8080 && web->ports[0].container_port == 80,
		   "8080:80");
		ok(web->ports[1].host_port == 0 && web->ports[1].container_port == 9000 &&
		   !strcmp(web->ports[1].protocol, "udp"), "a container port alone, udp");
		ok(web->ports[3].host_port == 7001 && web->ports[3].container_port == 8001,
		   "a range, port by port");
		ok(web->ports[4].host_port == 8443 && !strcmp(web->ports[4].host_ip, "::1"),
		   "long syntax");
	}
	is_int(p->nvolumes, 1, "one project volume");
	ok(p->nvolumes && p->volumes[0].type == VOLUME_MANAGED,
	   "a named volume survives down: Managed");
	ok(web->nmounts == 2 && !web->mounts[0].read_only && web->mounts[1].read_only,
	   "mounts, read_only");
	ok(web->ndeps == 2 && web->deps[0].condition == DEP_HEALTHY &&
	   web->deps[1].condition == DEP_COMPLETED, "depends_on conditions");
	ok(init->ndeps == 1 && init->deps[0].condition == DEP_STARTED,
	   "depends_on list: started");
	ok(web->health.present && web->health.interval_ms == 5000 &&
	   web->health.timeout_ms == 2000 && web->health.start_period_ms == 60000 &&
	   web->health.retries == 3, "healthcheck durations and retries");
	is_int(web->health.start_interval_ms, 1500, "healthcheck start_interval");
	ok(web->health.start_interval_pos.line > web->health.pos.line &&
	   web->health.start_interval_pos.col > 0, "  and where it is");
	is_int(db->health.start_interval_ms, 0, "no start_interval: 0");
	is_str(joined(&db->health.test), "[CMD-SHELL] [test -f /ok]",
	       "a test string is CMD-SHELL");
	is_str(joined(&init->health.test), "[NONE]", "disable: true");
	ok(web->restart == RESTART_UNLESS_STOPPED && db->restart == RESTART_ALWAYS &&
	   init->restart == RESTART_NO, "restart, from a merge key; compose's default no");
	ok(web->stop_grace_ms == 1000, "stop_grace_period from a merge key");
	ok(db->pull_policy == PULL_NEVER && web->pull_policy == PULL_IF_NOT_PRESENT,
	   "pull_policy never; missing by default");
	ok(web->labels.n == 2 && !strcmp(web->labels.v[1].value, "front"),
	   "labels as a list");
	is_str(web->user, "1000:1000", "user");
	is_str(web->working_dir, "/srv", "working_dir");
	ok(web->memory_bytes == 256 << 20 && web->nano_cpus == 500000000,
	   "mem_limit, cpus");
	ok(db->memory_bytes == 64 << 20 && db->nano_cpus == 2000000000,
	   "deploy.resources.limits");
	t_free(&t);
}

/* ---- host settings ---- */

static const char host_yaml[] =
	"services:\n"
	"  s:\n"
	"    image: busybox\n"
	"    cap_add: [NET_BIND_SERVICE, CAP_KILL]\n"
	"    cap_drop: [ALL]\n"
	"    read_only: true\n"
	"    tmpfs: /run\n"
	"    volumes: [{type: tmpfs, target: /cache, tmpfs: {size: 1m}}]\n"
	"    hostname: box.local\n"
	"    init: false\n"
	"    stop_signal: SIGINT\n"
	"    extra_hosts: [\"db.example:10.0.0.5\"]\n"
	"    dns: 9.9.9.9\n"
	"    shm_size: 64m\n"
	"    sysctls: {net.core.somaxconn: '1024'}\n"
	"    ulimits: {nproc: 64, nofile: {soft: 100, hard: 200}}\n"
	"    security_opt: [no-new-privileges:true]\n"
	"    expose: [\"80\", \"53/udp\", \"9000-9001\"]\n"
	"    restart: on-failure:3\n"
	"    networks: {default: {aliases: [www, web2]}}\n"
	"    depends_on: {db: {condition: service_started, required: false}}\n"
	"  db:\n"
	"    image: busybox\n"
	"    privileged: true\n"
	"    cap_add: [SYS_ADMIN]\n"
	"    security_opt: [seccomp=unconfined]\n";

static void test_host_fields(void)
{
	const struct service *s, *db;
	struct t t;

	t_one(&t, host_yaml);
	expect(&t, "services.db.privileged: a privileged container",
	       "privileged refused without the host's allowance");
	expect(&t, "services.db.cap_add[0]: capability SYS_ADMIN",
	       "SYS_ADMIN refused without the host's allowance");
	expect(&t, "services.db.security_opt[0]: security option",
	       "seccomp=unconfined refused without the host's allowance");
	ok(t.set.n == 1 && !t.set.v[0].valid, "  and the project is invalid");
	t_free(&t);

	t_allow_privileged = true;
	t_one(&t, host_yaml);
	t_allow_privileged = false;
	clean(&t, "with --allow-privileged: accepted");
	s = t.set.n ? project_find_service(&t.set.v[0], "s") : NULL;
	db = t.set.n ? project_find_service(&t.set.v[0], "db") : NULL;
	ok(s && db, "both services");
	if (!s || !db) {
		t_free(&t);
		return;
	}
	is_str(joined(&s->cap_add), "[NET_BIND_SERVICE] [CAP_KILL]", "cap_add");
	is_str(joined(&s->cap_drop), "[ALL]", "cap_drop");
	ok(s->read_only && !s->privileged && db->privileged, "read_only, privileged");
	is_str(joined(&s->tmpfs), "[/run] [/cache:size=1048576]",
	       "tmpfs: a string, and a volume of type tmpfs with its size");
	is_str(s->hostname, "box.local", "hostname");
	ok(s->has_init && !s->init, "init: false is kept");
	is_str(s->stop_signal, "SIGINT", "stop_signal");
	is_str(joined(&s->extra_hosts), "[db.example:10.0.0.5]", "extra_hosts");
	is_str(joined(&s->dns), "[9.9.9.9]", "dns: a string");
	ok(s->shm_bytes == 64 << 20, "shm_size");
	ok(s->sysctls.n == 1 && !strcmp(s->sysctls.v[0].key, "net.core.somaxconn") &&
	   !strcmp(s->sysctls.v[0].value, "1024"), "sysctls");
	ok(s->nulimits == 2 && !strcmp(s->ulimits[0].name, "nproc") &&
	   s->ulimits[0].soft == 64 && s->ulimits[0].hard == 64 &&
	   s->ulimits[1].soft == 100 && s->ulimits[1].hard == 200, "ulimits");
	is_str(joined(&s->security_opt), "[no-new-privileges:true]",
	       "no-new-privileges needs no allowance");
	is_str(joined(&s->expose), "[80/tcp] [53/udp] [9000/tcp] [9001/tcp]", "expose");
	ok(s->restart == RESTART_ON_FAILURE && s->restart_retries == 3, "on-failure:3");
	is_str(joined(&s->aliases), "[www] [web2]", "aliases on the default network");
	ok(s->ndeps == 1 && s->deps[0].optional, "required: false");
	t_free(&t);
}

/* Fields of files found in the wild, mapped to the engine's settings. */
static void test_wild_fields(void)
{
	const struct service *s, *db, *w;
	struct t t;

	t_one(&t, "version: \"2.4\"\n"
		  "services:\n  s:\n    image: busybox\n"
		  "    tty: true\n    stdin_open: true\n"
		  "    domainname: example.internal\n"
		  "    pids_limit: 200\n    oom_score_adj: 500\n"
		  "    group_add: [\"109\", audio]\n"
		  "    dns_search: [b.example, a.example]\n"
		  "    dns_opt: use-vc\n"
		  "    scale: 1\n"
		  "    links: [db, \"db:mysql\", \"cache:db-cache\"]\n"
		  "    depends_on: {db: {condition: service_healthy}}\n"
		  "  db:\n    image: busybox\n    group_add: \"0\"\n"
		  "    healthcheck: {test: [CMD, \"true\"]}\n"
		  "    networks: {default: {aliases: [mysql]}}\n"
		  "  cache:\n    image: busybox\n"
		  "  w:\n    image: busybox\n    links: [\"db:mysql\"]\n"
		  "    deploy: {replicas: 1}\n    scale: 1\n");
	clean(&t, "tty, stdin_open, domainname, pids_limit, oom_score_adj, "
	      "group_add, scale, links: accepted");
	s = t.set.n ? project_find_service(&t.set.v[0], "s") : NULL;
	db = t.set.n ? project_find_service(&t.set.v[0], "db") : NULL;
	w = t.set.n ? project_find_service(&t.set.v[0], "w") : NULL;
	ok(s && db && w, "the services");
	if (!s || !db || !w) {
		t_free(&t);
		return;
	}
	ok(s->tty && s->stdin_open && !db->tty && !db->stdin_open, "tty, stdin_open");
	is_str(s->domainname, "example.internal", "domainname");
	ok(s->pids_limit == 200 && !db->pids_limit, "pids_limit");
	ok(s->has_oom_score_adj && s->oom_score_adj == 500 &&
	   !db->has_oom_score_adj, "oom_score_adj");
	is_str(joined(&s->group_add), "[109] [audio]", "group_add: a list");
	is_str(joined(&db->group_add), "[0]", "group_add: a string");
	is_str(joined(&s->dns_search), "[b.example] [a.example]", "dns_search, in order");
	is_str(joined(&s->dns_opt), "[use-vc]", "dns_opt: a string");
	ok(s->has_replicas && s->replicas == 1, "scale: 1 is one replica");
	ok(s->ndeps == 2 && !strcmp(s->deps[0].service, "db") &&
	   s->deps[0].condition == DEP_HEALTHY && !strcmp(s->deps[1].service, "cache") &&
	   s->deps[1].condition == DEP_STARTED,
	   "links: a dependency on each target, depends_on's condition kept");
	is_str(joined(&db->aliases), "[mysql]", "an alias a link and networks both give, once");
	is_str(joined(&project_find_service(&t.set.v[0], "cache")->aliases),
	       "[db-cache]", "a link's alias is a name of its target");
	ok(w->ndeps == 1, "a link from another service to the same alias");
	t_free(&t);

	t_one(&t, "services:\n  s:\n    image: busybox\n    volumes:\n"
		  "      - \"/srv/a:/a:cached\"\n      - \"/srv/b:/b:ro,delegated\"\n"
		  "      - \"/srv/c:/c:consistent,rw\"\n");
	s = t.set.n ? project_find_service(&t.set.v[0], "s") : NULL;
	ok(s && s->nmounts == 3 && !s->mounts[0].read_only && s->mounts[1].read_only &&
	   !s->mounts[2].read_only, "cached, delegated, consistent: no effect on "
	   "Linux, ro and rw kept beside them");
	t_free(&t);

	t_one(&t, "services:\n  s:\n    image: busybox\n"
		  "    healthcheck: {disable: false}\n");
	clean(&t, "healthcheck: {disable: false} alone");
	s = t.set.n ? project_find_service(&t.set.v[0], "s") : NULL;
	ok(s && !s->health.present, "  is the image's own healthcheck, as in compose");
	t_free(&t);

	t_one(&t, "services:\n  s:\n    image: busybox\n    links: [\"a:x\", \"b:x\"]\n"
		  "  a: {image: busybox}\n  b: {image: busybox}\n");
	expect(&t, "app/compose.yaml:4:20: services.s.links[1]: alias 'x' already "
	       "names service 'a' on the project network",
	       "one alias for two services refused");
	t_free(&t);

	t_one(&t, "services:\n  s:\n    image: busybox\n    links: [\"db:database\", cache]\n"
		  "  db:\n    image: busybox\n    networks: [back]\n"
		  "  cache:\n    image: busybox\n    networks: [back]\n"
		  "networks:\n  back:\n");
	expect(&t, "services.s.links[0]: not supported by cara: a link's alias for "
	       "services on networks other than the default one (write 'database' "
	       "under the networks of service 'db', as aliases)",
	       "a link's alias where the target is on a named network refused");
	ok(t.d.nerrors == 1, "  a link without alias there is only a dependency");
	t_free(&t);

	t_one(&t, "services:\n  s:\n    image: busybox\n    links: [db]\n"
		  "  db:\n    image: busybox\n    profiles: [debug]\n");
	expect(&t, "services.s.links[0]: service 'db' is in a profile not enabled",
	       "a link onto a disabled profile refused");
	t_free(&t);

	t_cluster = true;
	t_one(&t, "services:\n  s:\n    image: busybox\n    scale: 3\n"
		  "    deploy: {replicas: 2}\n");
	t_cluster = false;
	expect(&t, "services.s.scale: scale and deploy.replicas differ",
	       "scale and deploy.replicas must agree");
	t_free(&t);

	t_allow_privileged = true;
	t_one(&t, "services:\n  s:\n    image: busybox\n    oom_score_adj: -900\n");
	t_allow_privileged = false;
	clean(&t, "a negative oom_score_adj with --allow-privileged");
	s = t.set.n ? project_find_service(&t.set.v[0], "s") : NULL;
	ok(s && s->has_oom_score_adj && s->oom_score_adj == -900, "  and kept");
	t_free(&t);
}

static void test_profiles(void)
{
	static const char *const dbg[] = { "debug" };
	static const char y[] =
		"services:\n"
		"  web: {image: busybox, depends_on: [db]}\n"
		"  db: {image: busybox}\n"
		"  tools: {image: busybox, profiles: [debug, ops]}\n"
		"  side: {image: busybox, profiles: [debug],\n"
		"         depends_on: {gone: {required: false}}}\n";
	static const char needs[] =
		"services:\n"
		"  web: {image: busybox, depends_on: [tools]}\n"
		"  tools: {image: busybox, profiles: [debug]}\n";
	static const char opt[] =
		"services:\n"
		"  web: {image: busybox, depends_on: {tools: {required: false}}}\n"
		"  tools: {image: busybox, profiles: [debug]}\n";
	struct t t;

	t_one(&t, y);
	clean(&t, "profiles: no finding");
	ok(t.set.n == 1 && t.set.v[0].valid && t.set.v[0].nservices == 2 &&
	   !project_find_service(&t.set.v[0], "tools"),
	   "no profile enabled: only the services without profiles");
	t_free(&t);
	t_profiles = dbg;
	t_nprofiles = 1;
	t_one(&t, y);
	clean(&t, "profile debug: no finding");
	ok(t.set.n == 1 && t.set.v[0].nservices == 4, "profile debug: all four");
	ok(t.set.n == 1 && project_find_service(&t.set.v[0], "side") &&
	   project_find_service(&t.set.v[0], "side")->ndeps == 0,
	   "required: false onto a missing service: dropped");
	t_free(&t);
	t_profiles = NULL;
	t_nprofiles = 0;
	t_one(&t, needs);
	expect(&t, "app/compose.yaml:2:38: services.web.depends_on.tools: "
	       "service 'tools' is in a profile not enabled",
	       "depends_on a disabled service: an error");
	ok(t.set.n == 1 && !t.set.v[0].valid, "  and the project is invalid");
	t_free(&t);
	t_one(&t, opt);
	clean(&t, "required: false onto a disabled service: fine");
	ok(t.set.n == 1 && t.set.v[0].nservices == 1 &&
	   t.set.v[0].services[0].ndeps == 0, "  and the dependency is dropped");
	t_free(&t);
}

/* ---- what is refused ---- */

struct refusal {
	const char *yaml;      /* services.s's fields */
	const char *want;
};

static const struct refusal refusals[] = {
	{ "    cap_add: [NET_ADMIN]\n", "app/compose.yaml:4:15: services.s.cap_add[0]: "
	  "capability NET_ADMIN is outside Docker's default set and gives the container "
	  "power over the host: needs --allow-privileged on this host" },
	{ "    cap_add: [ALL]\n", "capability ALL is outside" },
	{ "    cap_add: [net_admin]\n", "invalid capability 'net_admin'" },
	{ "    privileged: true\n", "app/compose.yaml:4:17: services.s.privileged: "
	  "a privileged container has root power over the host: needs --allow-privileged" },
	{ "    security_opt: [seccomp=unconfined]\n", "security option 'seccomp=unconfined' "
	  "can lift the container's confinement: needs --allow-privileged" },
	{ "    devices: [/dev/kvm]\n", "services.s.devices[0]: device '/dev/kvm' gives the container a device of the host" },
	{ "    pid: host\n", "services.s.pid: not supported by cara" },
	{ "    network_mode: host\n", "services.s.network_mode: not supported by cara" },
	{ "    ipc: host\n", "services.s.ipc: not supported by cara" },
	{ "    restart: on-failure:x\n", "invalid retry count in 'on-failure:x'" },
	{ "    healthcheck: {test: [CMD, 'true'], start_interval: soon}\n",
	  "services.s.healthcheck.start_interval: invalid duration 'soon'" },
	{ "    tmpfs: [run]\n", "a tmpfs must be an absolute path" },
	{ "    volumes: [{type: tmpfs, target: /t, source: x}]\n", "a tmpfs has no source" },
	{ "    volumes: [{type: npipe, target: /t}]\n", "volume type 'npipe'" },
	{ "    hostname: -bad\n", "invalid hostname '-bad'" },
	{ "    stop_signal: TERM\n", "invalid stop signal 'TERM'" },
	{ "    extra_hosts: [nohost]\n", "must be \"name:address\"" },
	{ "    shm_size: lots\n", "invalid size 'lots'" },
	{ "    sysctls: [nokey]\n", "must be \"key=value\"" },
	{ "    ulimits: {nofile: {soft: 20}}\n", "ulimits.nofile.hard: required" },
	{ "    ulimits: {nofile: {soft: 30, hard: 20}}\n", "soft limit 30 is above the hard limit 20" },
	{ "    expose: [\"80/xyz\"]\n", "invalid port to expose" },
	{ "    networks: {default: {aliases: [Bad_Alias!]}}\n", "invalid alias" },
	{ "    networks: {default: {ipv4_address: 10.0.0.2}}\n",
	  "networks.default.ipv4_address: not supported by cara" },
	{ "    profiles: [\"-x\"]\n", "invalid profile name '-x'" },
	{ "    build: .\n", "services.s.build: no Dockerfile in the build context 'app'" },
	{ "    container_name: Big\n", "services.s.container_name: invalid container_name 'Big': must be lowercase" },
	{ "    pull_policy: build\n", "pull_policy build" },
	{ "    pull_policy: sometimes\n", "invalid pull policy 'sometimes'" },
	{ "    volumes: [./conf:/etc/x]\n", "'./conf' is not in the source" },
	{ "    volumes: [../../x:/etc/x]\n", "'../../x' leaves the source" },
	{ "    volumes: [~/x:/etc/x]\n", "a bind of the home directory" },
	{ "    configs: [nope]\n", "config 'nope' is not declared" },
	{ "    volumes: [/data]\n", "anonymous volumes" },
	{ "    volumes: [nope:/data]\n", "named volume 'nope' is not declared" },
	{ "    volumes: [/srv/x:/x:z]\n", "services.s.volumes[0]: not supported by "
	  "cara: SELinux relabelling ('z')" },
	{ "    volumes: [\"/srv/x:/x:ro,Z\"]\n", "SELinux relabelling ('ro,Z')" },
	{ "    volumes: [/srv/x:/x:nocopy]\n", "services.s.volumes[0]: not supported by "
	  "cara: nocopy (a new volume gets the image's files" },
	{ "    volumes: [\"/srv/x:/x:ro,rslave\"]\n", "services.s.volumes[0]: not "
	  "supported by cara: mount propagation ('rslave'): mounts would pass "
	  "between the host and the container" },
	{ "    volumes: [\"/srv/x:/x:ro,rw\"]\n", "a volume is ro or rw, not both ('ro,rw')" },
	{ "    volumes: [\"/srv/x:/x:ro,fast\"]\n", "volume mode 'ro,fast' (ro or rw)" },
	{ "    network_mode: \"service:db\"\n", "services.s.network_mode: not "
	  "supported by cara: network_mode: service:db (a container in another "
	  "one's namespace" },
	{ "    mac_address: 02:42:ac:11:00:02\n", "services.s.mac_address: not "
	  "supported by cara: mac_address (a fixed MAC address" },
	{ "    cgroup_parent: x\n", "cgroup_parent (it would put the container" },
	{ "    userns_mode: host\n", "userns_mode (it would take the container" },
	{ "    volumes_from: [db]\n", "services.s.volumes_from: not supported by "
	  "cara: volumes_from (declare the volumes" },
	{ "    external_links: [redis_1]\n", "external_links (a container outside" },
	{ "    platform: linux/arm64\n", "services.s.platform: not supported by cara: "
	  "platform (cara pulls and runs the image of the host's own platform" },
	{ "    deploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}\n",
	  "services.s.deploy.resources.reservations.devices: not supported by "
	  "cara: devices (cara makes no device requests: a GPU needs its "
	  "vendor's container runtime" },
	{ "    deploy: {resources: {reservations: {generic_resources: []}}}\n",
	  "services.s.deploy.resources.reservations.generic_resources: not "
	  "supported by cara: generic_resources (a Swarm's user-defined node "
	  "resources" },
	{ "    deploy: {resources: {reservations: {pids: 10}}}\n",
	  "services.s.deploy.resources.reservations.pids: not supported by cara" },
	{ "    deploy: {resources: {reservations: {cpus: \"0.25\"}}}\n",
	  "app/compose.yaml:4:47: services.s.deploy.resources.reservations.cpus: "
	  "a CPU reservation is a Swarm option: it needs --backend swarm (the "
	  "Engine reserves no CPU for a container" },
	{ "    deploy: {resources: {reservations: {cpus: \"x\"}}}\n",
	  "services.s.deploy.resources.reservations.cpus: invalid cpus 'x'" },
	{ "    mem_reservation: 1m\n", "services.s.mem_reservation: 1m is below "
	  "Docker's minimum of 6Mi" },
	{ "    deploy: {resources: {reservations: {memory: lots}}}\n",
	  "services.s.deploy.resources.reservations.memory: invalid memory size 'lots'" },
	{ "    mem_limit: 64m\n    mem_reservation: 128m\n",
	  "app/compose.yaml:5:22: services.s.mem_reservation: a memory "
	  "reservation of 134217728 bytes is above the memory limit of 67108864" },
	{ "    mem_limit: 64m\n    mem_reservation: 32m\n"
	  "    deploy: {resources: {reservations: {memory: 128m}}}\n",
	  "app/compose.yaml:6:49: services.s.deploy.resources.reservations.memory: "
	  "a memory reservation of 134217728 bytes is above the memory limit" },
	{ "    memswap_limit: 1g\n", "app/compose.yaml:4:20: "
	  "services.s.memswap_limit: a swap limit needs a memory limit (the "
	  "Engine refuses one without the other)" },
	{ "    memswap_limit: -1\n", "services.s.memswap_limit: a swap limit "
	  "needs a memory limit" },
	{ "    mem_limit: 512m\n    memswap_limit: 256m\n",
	  "services.s.memswap_limit: 268435456 bytes is below the memory limit "
	  "of 536870912 (the swap limit counts memory and swap together)" },
	{ "    mem_limit: 512m\n    memswap_limit: 0\n",
	  "services.s.memswap_limit: a swap limit of 0: write -1 for no limit" },
	{ "    mem_limit: 512m\n    memswap_limit: -2\n",
	  "services.s.memswap_limit: invalid memory size '-2'" },
	{ "    cpu_shares: 1\n", "services.s.cpu_shares: 1 is out of range (2 to 262144)" },
	{ "    cpu_shares: 262145\n", "262145 is out of range (2 to 262144)" },
	{ "    cpu_shares: half\n", "services.s.cpu_shares: must be an integer" },
	{ "    deploy: {restart_policy: {condition: on-failure}}\n",
	  "services.s.deploy.restart_policy: not supported by cara: restart_policy "
	  "(the service's restart says it" },
	{ "    oom_score_adj: -500\n", "services.s.oom_score_adj: an OOM score adjustment of -500 "
	  "makes the kernel kill the host's other processes before this "
	  "container's: needs --allow-privileged on this host" },
	{ "    oom_score_adj: 1001\n", "1001 is out of range (-1000 to 1000)" },
	{ "    pids_limit: -1\n", "services.s.pids_limit: not supported by cara: -1 "
	  "(no limit, which would lift the host's default one)" },
	{ "    pids_limit: 0\n", "not supported by cara: 0 (no limit" },
	{ "    group_add: [\"a b\"]\n", "services.s.group_add[0]: invalid group 'a b'" },
	{ "    domainname: -x\n", "invalid domain name '-x'" },
	{ "    dns_search: [\"a b\"]\n", "services.s.dns_search[0]: invalid search domain 'a b'" },
	{ "    dns_opt: [\"ndots 2\"]\n", "services.s.dns_opt[0]: invalid resolver option 'ndots 2'" },
	{ "    tty: maybe\n", "services.s.tty: must be true or false" },
	{ "    scale: 2\n", "services.s.scale: replicas: 2 needs --backend swarm" },
	{ "    links: [nope]\n", "services.s.links[0]: service 'nope' is not a "
	  "service of this project" },
	{ "    links: [s]\n", "services.s.links[0]: a service cannot link to itself" },
	{ "    links: [\"db:s\"]\n", "services.s.links[0]: alias 's' is the name of "
	  "another service" },
	{ "    links: [\"db:Bad!\"]\n", "services.s.links[0]: invalid link 'db:Bad!'" },
	{ "    networks: [back]\n", "network 'back' is not declared under the "
	  "top-level networks" },
	{ "    ports: [\"1000-1002:80\"]\n", "host and container port ranges differ" },
	{ "    ports: [\"80:80:80:80\"]\n", "'80:80' is not an IP address" },
	{ "    labels: {cara.project: x}\n", "reserved for cara" },
	{ "    depends_on: {db: {condition: service_healthy, restart: maybe}}\n",
	  "depends_on.db.restart: must be true or false" },
	{ "    env_file: /etc/passwd\n", "is not in the source" },
	{ "    env_file: ../../x.env\n", "leaves the source" },
	{ "    env_file: missing.env\n", "'app/missing.env' is not in the source" },
	{ "    command: \"echo 'open\"\n", "no closing quotation" },
	{ "    environment: [\"A=${CARA_TOKEN}\"]\n", "variable 'CARA_TOKEN'" },
	{ "    environment: [\"A=${NOPE:?say why}\"]\n", "required variable 'NOPE' is not set: say why" },
	{ "    healthcheck: {interval: 1s}\n", "a healthcheck without test" },
	{ "    deploy: {replicas: 2}\n", "deploy.replicas: replicas: 2 needs --backend swarm" },
	{ "    deploy: {mode: global}\n", "deploy.mode: mode: global needs --backend swarm" },
	{ "    deploy: {placement: {constraints: [node.role==worker]}}\n",
	  "placement constraints needs --backend swarm" },
	{ "    mem_limit: 128m\n    deploy: {resources: {limits: {memory: 64m}}}\n",
	  "mem_limit and deploy.resources.limits.memory differ" },
	{ "    pids_limit: 10\n    deploy: {resources: {limits: {pids: 20}}}\n",
	  "services.s.deploy.resources.limits.pids: pids_limit and "
	  "deploy.resources.limits.pids differ (10 at line 4)" },
	{ "    deploy: {resources: {limits: {pids: -1}}}\n",
	  "services.s.deploy.resources.limits.pids: not supported by cara: -1" },
	{ "    command: \"a $ b\"\n", "invalid interpolation" },
};

/* The validator's findings on a compose project name the compose file's
 * fields, not the model's. */
static void test_finding_paths(void)
{
	const char *files[] = {
		"a/compose.yaml", "services:\n  web:\n    image: busybox\n"
		"    ports: [\"8080:80\"]\n",
		"b/compose.yaml", "services:\n  api:\n    image: busybox\n"
		"    ports: [\"8080:80\"]\n"
		"    depends_on:\n      db: {condition: service_healthy}\n"
		"      nope: {condition: service_started}\n"
		"    volumes: [\"data:/d\", \"data2:/d\"]\n"
		"  db:\n    image: busybox\n    depends_on: [api]\n"
		"volumes:\n  data: {}\n  data2: {}\n",
		NULL };
	struct t t;

	t_load(&t, files);
	expect(&t, "b/compose.yaml:4:13: services.api.ports: host port "
	       "0.0.0.0:8080/tcp is already bound by project 'a' service 'web' "
	       "(a/compose.yaml:4:13)", "a port bound twice across projects: "
	       "the compose path");
	expect(&t, "b/compose.yaml:6:7: warning: services.api.depends_on.db.condition: ",
	       "a condition: the dependency by name");
	expect(&t, "b/compose.yaml:7:7: services.api.depends_on.nope: unknown service 'nope'",
	       "an unknown dependency");
	expect(&t, "b/compose.yaml:8:26: services.api.volumes: '/d' is mounted twice",
	       "a path mounted twice: the volumes list");
	expect(&t, "services.db.depends_on.api: dependency cycle: api -> db -> api",
	       "a cycle");
	ok(!strstr(buf_cstr(&t.text), "spec."), "  no model path at all");
	t_free(&t);
}

/* container_name: the container keeps PROJECT-SERVICE; the name is an
 * alias of the service on each of its networks. */
static void test_container_name(void)
{
	const struct service *s, *w, *a;
	struct t t;

	t_one(&t, "services:\n  s:\n    image: busybox\n    container_name: legacy-db\n"
		  "  w:\n    image: busybox\n    container_name: w\n"
		  "  a:\n    image: busybox\n    container_name: api_v1\n"
		  "    networks: {back: {aliases: [api]}, default: {}}\n"
		  "    links: [\"s:legacy-db\"]\n"
		  "networks:\n  back:\n");
	ok(t.d.nerrors == 0 && t.d.n == 3, "container_name: accepted, a warning each");
	expect(&t, "app/compose.yaml:4:21: warning: services.s.container_name: the "
	       "container is named app-s, as cara names every container; "
	       "'legacy-db' is an alias of the service on its networks",
	       "  the warning names the container's name and the alias");
	expect(&t, "services.w.container_name: the container is named app-w, as "
	       "cara names every container; other containers reach it as 'w', "
	       "the service's name", "  a container_name that is the service's name");
	s = t.set.n ? project_find_service(&t.set.v[0], "s") : NULL;
	w = t.set.n ? project_find_service(&t.set.v[0], "w") : NULL;
	a = t.set.n ? project_find_service(&t.set.v[0], "a") : NULL;
	ok(s && w && a, "the services");
	if (s && w && a) {
		is_str(joined(&s->aliases), "[legacy-db]",
		       "an alias on the default network, once (the link gives it too)");
		ok(!w->aliases.n, "  none for the service's own name");
		ok(a->nnets == 2 && !strcmp(a->nets[0].name, "back") &&
		   !strcmp(joined(&a->nets[0].aliases), "[api] [api_v1]") &&
		   !strcmp(joined(&a->nets[1].aliases), "[api_v1]"),
		   "  an alias on each network the service joins");
	}
	t_free(&t);

	t_one(&t, "services:\n  s:\n    image: busybox\n    container_name: db\n"
		  "  db:\n    image: busybox\n"
		  "  x:\n    image: busybox\n    container_name: one\n"
		  "  y:\n    image: busybox\n    container_name: one\n"
		  "  z:\n    image: busybox\n    container_name: api\n"
		  "  q:\n    image: busybox\n    networks: {default: {aliases: [api]}}\n");
	expect(&t, "app/compose.yaml:4:21: services.s.container_name: container_name "
	       "'db' is a name of service 'db' on the project's networks",
	       "a container_name that is another service's name refused");
	expect(&t, "services.y.container_name: container_name 'one' is also that "
	       "of service 'x'", "one container_name for two services refused");
	expect(&t, "services.z.container_name: container_name 'api' is a name of "
	       "service 'q'", "a container_name that is another's alias refused");
	ok(!t.set.n || !t.set.v[0].valid, "  the project is not valid");
	t_free(&t);

	{
		const char *files[] = {
			"app/compose.override.yaml", "services:\n  w:\n"
			"    container_name: db\n    links: [nope]\n",
			"app/compose.yaml", "services:\n  db:\n    image: busybox\n"
			"  w:\n    image: busybox\n", NULL };

		t_load(&t, files);
		expect(&t, "app/compose.override.yaml:3:21: services.w.container_name: "
		       "container_name 'db' is a name of service 'db'",
		       "a container_name of the override: its file, line and field");
		expect(&t, "app/compose.override.yaml:4:13: services.w.links[0]: "
		       "service 'nope' is not a service of this project",
		       "a link of the override: its file, line and field");
		t_free(&t);
	}

	{
		/* on a network other projects share, another project's name */
		const char *files[] = {
			"shop/compose.yaml", "services:\n  db:\n    image: busybox\n"
			"networks:\n  default: {external: true, name: proxy}\n",
			"tool/compose.yaml", "services:\n  w:\n    image: busybox\n"
			"    container_name: db\n"
			"networks:\n  default: {external: true, name: proxy}\n", NULL };

		t_load(&t, files);
		expect(&t, "tool/compose.yaml:2:3: services.w.networks: 'db' on "
		       "external network 'proxy' is the name of project 'shop' service "
		       "'db' there (shop/compose.yaml:2:3)",
		       "a container_name on a shared network that another project's "
		       "service answers to: refused, at the compose field");
		ok(t.set.n == 2 && t.set.v[0].valid != t.set.v[1].valid,
		   "  one project refused, the other kept");
		t_free(&t);
	}

	t_cluster = true;
	t_one(&t, "services:\n  s:\n    image: busybox\n    container_name: c\n"
		  "    deploy: {replicas: 2}\n"
		  "  g:\n    image: busybox\n    container_name: g1\n"
		  "    deploy: {mode: global}\n");
	t_cluster = false;
	expect(&t, "services.s.container_name: container_name names one container, "
	       "and service 's' runs several (replicas)", "container_name with replicas refused");
	expect(&t, "services.g.container_name: container_name names one container, "
	       "and service 'g' runs one on every node (mode: global)",
	       "container_name with mode: global refused");
	t_free(&t);
}

/* Memory reservation, swap limit and CPU shares: the Engine's, as
 * compose sets them; a CPU reservation on a cluster only. */
static void test_resources(void)
{
	const struct service *s, *d, *w, *u;
	struct t t;

	t_one(&t, "services:\n"
		  "  s:\n    image: busybox\n    mem_limit: 512m\n"
		  "    mem_reservation: 128m\n    memswap_limit: 1g\n"
		  "    cpu_shares: 512\n"
		  "  d:\n    image: busybox\n"
		  "    deploy: {resources: {limits: {memory: 256M}, "
		  "reservations: {memory: 64M}}}\n    memswap_limit: 256M\n"
		  "  w:\n    image: busybox\n    mem_reservation: 100000000\n"
		  "    memswap_limit: -1\n    mem_limit: 1g\n    cpu_shares: \"2\"\n"
		  "  u:\n    image: busybox\n");
	clean(&t, "mem_reservation, memswap_limit, cpu_shares, "
	      "deploy.resources.reservations.memory: accepted");
	s = t.set.n ? project_find_service(&t.set.v[0], "s") : NULL;
	d = t.set.n ? project_find_service(&t.set.v[0], "d") : NULL;
	w = t.set.n ? project_find_service(&t.set.v[0], "w") : NULL;
	u = t.set.n ? project_find_service(&t.set.v[0], "u") : NULL;
	ok(s && d && w && u, "the services");
	if (!s || !d || !w || !u) {
		t_free(&t);
		return;
	}
	ok(s->memory_reservation_bytes == 128 << 20 &&
	   s->memory_swap_bytes == 1 << 30 && s->cpu_shares == 512,
	   "mem_reservation, memswap_limit, cpu_shares");
	ok(d->memory_bytes == 256 << 20 && d->memory_reservation_bytes == 64 << 20 &&
	   d->memory_swap_bytes == 256 << 20, "deploy's reservation; a swap "
	   "limit equal to the memory limit (no swap)");
	ok(w->memory_reservation_bytes == 100000000 && w->memory_swap_bytes == -1 &&
	   w->cpu_shares == 2, "bytes, -1 (no limit on swap), shares as a string, "
	   "in any order");
	ok(!u->memory_reservation_bytes && !u->memory_swap_bytes && !u->cpu_shares &&
	   !u->nano_cpus_reservation, "none set: none");
	t_free(&t);

	t_one(&t, "services:\n  s:\n    image: busybox\n    mem_limit: 1g\n"
		  "    memswap_limit: ${SWAP}\n");
	clean(&t, "memswap_limit: -1 from a variable");
	s = t.set.n ? project_find_service(&t.set.v[0], "s") : NULL;
	ok(s && s->memory_swap_bytes == -1, "  read as no limit on swap");
	t_free(&t);

	/* a reservation above the limit is refused only where there is one */
	t_one(&t, "services:\n  s:\n    image: busybox\n"
		  "    mem_reservation: 2g\n");
	clean(&t, "a reservation without a limit");
	t_free(&t);

	/* both given: the deploy one, as docker compose does, with a warning
	 * at the other */
	t_one(&t, "services:\n  s:\n    image: busybox\n"
		  "    mem_reservation: 128m\n"
		  "    deploy: {resources: {reservations: {memory: 64m}}}\n");
	expect(&t, "app/compose.yaml:4:22: warning: services.s.mem_reservation: "
	       "differs from deploy.resources.reservations.memory, which is used "
	       "(67108864 bytes), as docker compose does",
	       "mem_reservation and deploy's differ: a warning at mem_reservation");
	ok(t.d.nerrors == 0 && t.d.nwarnings == 1, "  a warning only");
	s = t.set.n ? project_find_service(&t.set.v[0], "s") : NULL;
	ok(s && s->memory_reservation_bytes == 64 << 20, "  deploy's wins");
	t_free(&t);

	t_one(&t, "services:\n  s:\n    image: busybox\n"
		  "    mem_reservation: 64m\n"
		  "    deploy: {resources: {reservations: {memory: 64M}}}\n");
	clean(&t, "both forms agreeing: nothing to say");
	t_free(&t);

	t_cluster = true;
	t_one(&t, "services:\n  s:\n    image: busybox\n"
		  "    deploy: {resources: {reservations: {cpus: \"0.25\", "
		  "memory: 32m}}}\n");
	t_cluster = false;
	clean(&t, "reservations.cpus on a cluster");
	s = t.set.n ? project_find_service(&t.set.v[0], "s") : NULL;
	ok(s && s->nano_cpus_reservation == 250000000 &&
	   s->memory_reservation_bytes == 32 << 20, "  read as billionths of a CPU");
	t_free(&t);
}

static void test_refusals(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(refusals); i++) {
		struct buf y = BUF_INIT;
		struct t t;

		buf_printf(&y, "services:\n  s:\n    image: busybox\n%s  db:\n"
			   "    image: busybox\n", refusals[i].yaml);
		t_one(&t, buf_cstr(&y));
		expect(&t, refusals[i].want, "refused: %s", refusals[i].want);
		ok(t.set.n == 1 && !t.set.v[0].valid, "  and the project is invalid");
		t_free(&t);
		buf_release(&y);
	}
}

static const struct volume *t_volume(const struct t *t, const char *name)
{
	return t->set.n ? project_find_volume(&t->set.v[0], name) : NULL;
}

struct bad_case { const char *yaml, *want; };

/* Each top-level `section` entry of bad is refused, saying want, and its
 * project is invalid. */
static void refused_each(const char *section, const struct bad_case *bad, size_t n)
{
	struct t t;
	size_t i;

	for (i = 0; i < n; i++) {
		struct buf y = BUF_INIT;

		buf_printf(&y, "services:\n  s: {image: busybox}\n%s:\n%s", section,
			   bad[i].yaml);
		t_one(&t, buf_cstr(&y));
		expect(&t, bad[i].want, "refused: %s", bad[i].want);
		ok(t.set.n == 1 && !t.set.v[0].valid, "  and the project is invalid");
		t_free(&t);
		buf_release(&y);
	}
}

/* external: true mounts a volume made outside cara by its real name. */
static void test_external_volumes(void)
{
	static const struct bad_case bad[] = {
		{ "  v: {external: true, name: cara-other-data}\n",
		  "volumes.v.name: external volume 'cara-other-data': names starting "
		  "with 'cara-' are the volumes cara makes" },
		{ "  cara-x-v: {external: true}\n", "external volume 'cara-x-v'" },
		{ "  v: {external: true, name: 'a/b'}\n", "not a Docker volume name" },
		{ "  v: {external: true, driver: local}\n",
		  "volumes.v.driver: an external volume has no driver" },
		{ "  v: {external: {name: x}}\n", "external as a mapping" },
		{ "  v: {external: maybe}\n", "must be true or false" },
		{ "  v: {name: x}\n", "volumes.v.name: not supported by cara: the name "
		  "of a volume cara makes" },
		{ "  v: {driver_opts: {type: none, o: bind, device: /etc}}\n",
		  "volumes.v.driver_opts: not supported by cara: driver_opts (a local "
		  "volume's options mount a device, a network share or a host path" },
	};
	const struct volume *v;
	const struct service *s;
	struct t t;

	t_one(&t, "services:\n  s: {image: busybox, volumes: [\"v:/v\", \"wv:/w:ro\"]}\n"
		  "volumes:\n  v: {external: true, name: shared-data}\n"
		  "  wv: {external: true}\n  m: {external: false}\n");
	clean(&t, "external volumes accepted");
	v = t_volume(&t, "v");
	ok(v && v->type == VOLUME_EXTERNAL && v->external_name &&
	   !strcmp(v->external_name, "shared-data"), "name: is the real name");
	v = t_volume(&t, "wv");
	ok(v && v->type == VOLUME_EXTERNAL && v->external_name &&
	   !strcmp(v->external_name, "wv"), "without name: the key, as compose");
	v = t_volume(&t, "m");
	ok(v && v->type == VOLUME_MANAGED, "external: false is cara's own");
	s = t.set.n ? project_find_service(&t.set.v[0], "s") : NULL;
	ok(s && s->nmounts == 2 && !strcmp(s->mounts[0].name, "v") &&
	   s->mounts[1].read_only, "services mount them by key");
	v = t_volume(&t, "v");
	ok(v && !volume_is_docker(v), "not a volume cara makes");
	t_free(&t);
	refused_each("volumes", bad, ARRAY_SIZE(bad));
}

/* Networks: the default one, the project's own, External ones. */
static void test_networks(void)
{
	static const struct bad_case bad[] = {
		{ "  n: {name: shared}\n", "networks.n.name: not supported by cara: "
		  "the name of a network cara makes" },
		{ "  n: {driver: host}\n", "networks.n.driver: not supported by "
		  "cara: network driver 'host'" },
		{ "  n: {driver_opts: {com.docker.network.bridge.name: eth0}}\n",
		  "networks.n.driver_opts: not supported by cara" },
		{ "  n: {enable_ipv6: true}\n", "networks.n.enable_ipv6: not supported" },
		{ "  n: {external: true, name: host}\n", "external network 'host'" },
		{ "  n: {external: true, name: none}\n", "external network 'none'" },
		{ "  n: {external: true, name: bridge}\n", "default bridge resolves no names" },
		{ "  n: {external: true, name: cara-other}\n", "names starting with 'cara-'" },
		{ "  cara-x: {external: true}\n", "external network 'cara-x'" },
		{ "  n: {external: true, internal: true}\n",
		  "networks.n.internal: an external network's settings are its own" },
		{ "  n: {external: {name: x, labels: {a: b}}}\n", "external settings "
		  "besides name" },
		{ "  N: {}\n", "invalid network name 'N'" },
	};
	const struct service *s;
	const struct network *n;
	const struct project *p;
	struct t t;

	t_one(&t, "services:\n"
		  "  web:\n    image: busybox\n"
		  "    networks:\n      front: {aliases: [www]}\n      back:\n"
		  "      shared: {aliases: [shop]}\n"
		  "  db: {image: busybox, networks: [back]}\n"
		  "  solo: {image: busybox, networks: {default: {aliases: [one]}}}\n"
		  "  plain: {image: busybox}\n"
		  "networks:\n  front:\n  back: {internal: true, driver: bridge,"
		  " attachable: true}\n"
		  "  shared: {external: true, name: traefik-public}\n"
		  "  legacy: {external: {name: old-net}}\n  edge: {external: true}\n");
	clean(&t, "networks accepted");
	p = t.set.n ? &t.set.v[0] : NULL;
	ok(p && p->nnetworks == 5, "five declared");
	n = p ? project_find_network(p, "back") : NULL;
	ok(n && n->internal && !n->external, "back: internal, cara's");
	n = p ? project_find_network(p, "shared") : NULL;
	ok(n && n->external && !strcmp(n->external_name, "traefik-public"),
	   "shared: External, by its name");
	n = p ? project_find_network(p, "legacy") : NULL;
	ok(n && n->external && !strcmp(n->external_name, "old-net"),
	   "the old external: {name:} form");
	n = p ? project_find_network(p, "edge") : NULL;
	ok(n && n->external && !strcmp(n->external_name, "edge"),
	   "without name: the key, as compose");
	s = p ? project_find_service(p, "web") : NULL;
	ok(s && s->nnets == 3 && !strcmp(s->nets[0].name, "front") &&
	   !strcmp(joined(&s->nets[0].aliases), "[www]") &&
	   !strcmp(s->nets[1].name, "back") && !s->nets[1].aliases.n &&
	   !strcmp(joined(&s->nets[2].aliases), "[shop]"),
	   "web joins front (www), back, shared (shop)");
	s = p ? project_find_service(p, "db") : NULL;
	ok(s && s->nnets == 1 && !strcmp(s->nets[0].name, "back"), "db: back only");
	s = p ? project_find_service(p, "solo") : NULL;
	ok(s && !s->nnets && !strcmp(joined(&s->aliases), "[one]"),
	   "the default network alone is a Project's aliases");
	s = p ? project_find_service(p, "plain") : NULL;
	ok(s && !s->nnets && network_joins(s) == 1, "no networks: the default one");
	if (p) {
		struct strvec made = STRVEC_INIT;
		char *dn = network_docker_name(p, "front");

		project_made_networks(p, &made);
		is_str(joined(&made), "[default] [front] [back]",
		       "made: the ones joined that are not External");
		is_str(dn, "cara-app_front", "named cara-PROJECT_NETWORK");
		free(dn);
		dn = network_docker_name(p, "shared");
		is_str(dn, "traefik-public", "an External one by its own name");
		free(dn);
		strvec_release(&made);
	}
	t_free(&t);

	t_one(&t, "services:\n  s: {image: busybox, networks: [front, front]}\n"
		  "networks:\n  front:\n");
	expect(&t, "network 'front' is joined twice", "joined twice: refused");
	t_free(&t);
	t_one(&t, "services:\n  s:\n    image: busybox\n    networks:\n"
		  "      front: {ipv4_address: 10.1.0.5, priority: 3}\n"
		  "networks:\n  front:\n");
	expect(&t, "networks.front.ipv4_address: not supported by cara",
	       "a fixed address: refused");
	t_free(&t);
	refused_each("networks", bad, ARRAY_SIZE(bad));
}

/* What YAML 1.1 (docker-compose 1.29) reads otherwise is warned about,
 * and kept as written. */
static void test_yaml11(void)
{
	static const struct { const char *value, *how; } warned[] = {
		{ "010", "in base 8, 16 or 2" }, { "0x1F", "in base 8, 16 or 2" },
		{ "0b101", "in base 8, 16 or 2" }, { "1_000", "without its underscores" },
		{ "1:30", "in base 60" }, { "+5", "without its sign" },
		{ "1.50", "without its trailing zeros" }, { "yes", "as a boolean" },
		{ "off", "as a boolean" },
	};
	static const char *const kept[] = {
		"'010'", "12", "1.5", "8080:80", "1:75", "0", "abc", "\"yes\"", "0.5",
	};
	const struct service *s;
	struct t t;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(warned); i++) {
		struct buf y = BUF_INIT;
		const char *v;

		buf_printf(&y, "services:\n  s:\n    image: busybox\n    environment:\n"
			   "      V: %s\n", warned[i].value);
		t_one(&t, buf_cstr(&y));
		expect(&t, warned[i].how, "%s: warned", warned[i].value);
		expect(&t, "docker-compose 1.29 (YAML 1.1) reads unquoted", "  naming the peer");
		s = t.set.n ? project_find_service(&t.set.v[0], "s") : NULL;
		v = s ? envval(s, "V") : NULL;
		ok(t.set.n == 1 && t.set.v[0].valid && v && !strcmp(v, warned[i].value),
		   "  a warning: the project is valid, the text kept (%s)", v ? v : "none");
		t_free(&t);
		buf_release(&y);
	}
	for (i = 0; i < ARRAY_SIZE(kept); i++) {
		struct buf y = BUF_INIT;

		buf_printf(&y, "services:\n  s:\n    image: busybox\n    environment:\n"
			   "      V: %s\n", kept[i]);
		t_one(&t, buf_cstr(&y));
		clean(&t, "%s: read the same by both", kept[i]);
		t_free(&t);
		buf_release(&y);
	}
	t_one(&t, "services:\n  s:\n    image: busybox\n    ports: [22:22, \"2222:22\", 8080:80]\n");
	expect(&t, "services.s.ports[0]: docker-compose 1.29 (YAML 1.1) reads unquoted "
	       "'22:22' as a number in base 60", "a port 22:22 unquoted: warned");
	ok(t.d.n == 1, "  and only it");
	t_free(&t);
}

static void test_top_level(void)
{
	struct t t;

	t_one(&t, "services:\n  s: {image: busybox}\nnetworks:\n  back:\n"
	      "    labels: {a: b}\n");
	expect(&t, "networks.back.labels: not supported by cara", "network labels refused");
	t_free(&t);
	t_one(&t, "version: '3.8'\nx-a: 1\nservices:\n  s: {image: busybox}\n");
	clean(&t, "version and x-* keys accepted");
	t_free(&t);
	t_one(&t, "services:\n  s: {command: [x]}\n");
	expect(&t, "services.s.image: required", "image required");
	t_free(&t);
	t_one(&t, "services: {}\n");
	expect(&t, "a project needs at least one service", "no services");
	t_free(&t);
	t_one(&t, "services:\n  s: {image: busybox}\n---\nservices: {}\n");
	expect(&t, "one YAML document", "one document");
	ok(t.set.incomplete, "  and nothing is pruned");
	t_free(&t);
}

/* ---- secrets: files of the host's secrets directory ---- */

static void test_secrets(void)
{
	const struct service *s;
	struct t t;

	t_one(&t, "name: app\nservices:\n  s:\n    image: busybox\n"
	      "    secrets:\n      - db_pass\n"
	      "      - {source: tok, target: token}\n"
	      "      - {source: db_pass, target: /etc/pass}\n"
	      "secrets:\n  db_pass: {external: true}\n"
	      "  tok:\n    x-cara-secret: {name: shared, key: api-token}\n");
	clean(&t, "external and x-cara-secret secrets read");
	s = t.set.n ? project_find_service(&t.set.v[0], "s") : NULL;
	if (ok(s && s->nsecrets == 3, "three secret files")) {
		ok(!strcmp(s->secrets[0].secret_name, "app") &&
		   !strcmp(s->secrets[0].secret_key, "db_pass") &&
		   !strcmp(s->secrets[0].target, "/run/secrets/db_pass"),
		   "external: {project}/{NAME} at /run/secrets/NAME");
		ok(!strcmp(s->secrets[1].secret_name, "shared") &&
		   !strcmp(s->secrets[1].secret_key, "api-token") &&
		   !strcmp(s->secrets[1].target, "/run/secrets/token"),
		   "x-cara-secret names the file; a relative target is below "
		   "/run/secrets");
		ok(!strcmp(s->secrets[2].target, "/etc/pass"), "an absolute target");
	}
	t_free(&t);
	t_one(&t, "name: app\nservices:\n  s: {image: busybox, secrets: [p]}\n"
	      "secrets:\n  p: {external: true, name: other}\n");
	s = t.set.n ? project_find_service(&t.set.v[0], "s") : NULL;
	ok(s && s->nsecrets == 1 && !strcmp(s->secrets[0].secret_key, "other"),
	   "external with name: that key of the project");
	t_free(&t);

	t_one(&t, "name: app\nservices:\n  s: {image: busybox, secrets: [p]}\n"
	      "secrets:\n  p: {file: ./p.txt}\n");
	expect(&t, "secrets.p.file: a secret's value never lives in git in clear: "
	       "'./p.txt' is a file of the repository", "a file of the repository refused");
	expect(&t, "--secrets-dir", "  and the message names the secrets directory");
	ok(t.set.n == 1 && !t.set.v[0].valid, "  and the project is invalid");
	t_free(&t);
	t_one(&t, "name: app\nservices:\n  s: {image: busybox}\n"
	      "secrets:\n  p: {file: /etc/p}\n");
	expect(&t, "secrets.p.file: not supported by cara: a secret file outside",
	       "a host file outside the secrets directory refused");
	t_free(&t);
	t_one(&t, "name: app\nservices:\n  s: {image: busybox}\n"
	      "secrets:\n  p: {environment: TOKEN}\n");
	expect(&t, "secrets.p.environment: not supported by cara: a secret from an "
	       "environment variable", "environment: refused");
	t_free(&t);
	t_one(&t, "name: app\nservices:\n  s: {image: busybox}\nsecrets:\n  p: {}\n");
	expect(&t, "a secret is 'external: true'", "a secret without a source");
	t_free(&t);
	t_one(&t, "name: app\nservices:\n  s: {image: busybox}\n"
	      "secrets:\n  p: {x-cara-secret: {name: ../x, key: k}}\n");
	expect(&t, "invalid secret name '../x'", "a secret name with '/' refused");
	t_free(&t);
	t_one(&t, "name: app\nservices:\n  s: {image: busybox}\n"
	      "secrets:\n  p: {external: true, name: .hidden}\n");
	expect(&t, "invalid secret key '.hidden'", "a hidden key refused");
	t_free(&t);
	t_one(&t, "name: app\nservices:\n  s: {image: busybox, secrets: [nope]}\n");
	expect(&t, "secret 'nope' is not declared under the top-level secrets",
	       "an undeclared secret");
	t_free(&t);
	t_one(&t, "name: app\nservices:\n  s:\n    image: busybox\n"
	      "    secrets: [{source: p, mode: 0400}]\nsecrets:\n  p: {external: true}\n");
	expect(&t, "secrets[0].mode: not supported by cara: uid, gid and mode",
	       "mode refused: the file is bound as it is");
	t_free(&t);
	t_one(&t, "name: app\nservices:\n  s:\n    image: busybox\n"
	      "    secrets: [p, {source: p}]\nsecrets:\n  p: {external: true}\n");
	expect(&t, "'/run/secrets/p' is mounted twice", "one target twice");
	t_free(&t);
}

/* ---- x-cara: the Project's own fields ---- */

static void test_x_cara(void)
{
	struct t t;
	const struct project *p;

	t_one(&t, "services:\n  web: {image: nginx}\n"
	      "x-cara:\n  expireAt: 2026-12-01T00:00:00Z\n"
	      "  labels: {team: web}\n  annotations: {owner: ops}\n"
	      "  ingress:\n    - name: www\n      host: www.example.com\n"
	      "      target: {service: web, port: 80}\n"
	      "      access: {scope: Public}\n");
	clean(&t, "x-cara read");
	p = t.set.n ? &t.set.v[0] : NULL;
	ok(p && p->has_expire && p->expire_at == 1796083200,
	   "  expireAt into has_expire/expire_at");
	ok(p && p->ningress == 1 && !strcmp(p->ingress[0].name, "www") &&
	   !strcmp(p->ingress[0].fqdn, "www.example.com") &&
	   !strcmp(p->ingress[0].target_service, "web") &&
	   p->ingress[0].target_port == 80 &&
	   p->ingress[0].scope && !strcmp(p->ingress[0].scope, "Public"),
	   "  an ingress entry");
	ok(p && p->labels.n == 1 && !strcmp(p->labels.v[0].key, "team") &&
	   p->annotations.n == 1 && !strcmp(p->annotations.v[0].value, "ops"),
	   "  labels and annotations");
	t_free(&t);
	t_one(&t, "services:\n  s: {image: busybox}\nx-cara:\n"
	      "  expireAt: tomorrow\n");
	expect(&t, "app/compose.yaml:4:13: x-cara.expireAt: 'tomorrow' is not "
	       "an RFC 3339 time", "a bad expireAt: an error at its place");
	ok(t.set.n == 1 && !t.set.v[0].valid && !t.set.v[0].has_expire,
	   "  and the project is invalid");
	t_free(&t);
	t_one(&t, "services:\n  s: {image: busybox}\nx-cara:\n"
	      "  expireAT: 2026-12-01T00:00:00Z\n");
	expect(&t, "app/compose.yaml:4:3: warning: x-cara.expireAT: unknown "
	       "field 'expireAT' (ignored); did you mean 'expireAt'?",
	       "an unknown x-cara field: warned with a suggestion");
	ok(t.set.n == 1 && t.set.v[0].valid && !t.set.v[0].has_expire,
	   "  and the project stays valid");
	t_free(&t);
	t_one(&t, "services:\n  s: {image: busybox}\nx-cara:\n"
	      "  ingress:\n    - {name: a, host: a.example.com, "
	      "target: {service: nope, port: 80}}\n");
	expect(&t, "nope", "an ingress target checked as a Project's");
	t_free(&t);
	t_one(&t, "services:\n  s: {image: busybox}\nx-cara:\n"
	      "  placement: {node: node2, nodeSelector: {zone: b}}\n");
	clean(&t, "x-cara.placement read");
	p = t.set.n ? &t.set.v[0] : NULL;
	ok(p && p->placement.present && p->placement.node &&
	   !strcmp(p->placement.node, "node2") && p->placement.selector.n == 1 &&
	   !strcmp(p->placement.selector.v[0].key, "zone") &&
	   !strcmp(p->placement.selector.v[0].value, "b"),
	   "  node and nodeSelector, as a Project's");
	t_free(&t);
	t_one(&t, "services:\n  s: {image: busybox}\nx-cara:\n"
	      "  placement: {node: -bad}\n");
	expect(&t, "app/compose.yaml:4:21: x-cara.placement.node: invalid node name "
	       "'-bad'", "a bad node name: file, line, field");
	ok(t.set.n == 1 && !t.set.v[0].valid, "  and the project is invalid");
	t_free(&t);
	t_one(&t, "services:\n  s: {image: busybox}\nx-cara:\n  placement: {}\n");
	expect(&t, "x-cara.placement: names no node and no nodeSelector",
	       "an empty x-cara.placement is an error");
	t_free(&t);
	t_one(&t, "services:\n  s: {image: busybox}\n");
	ok(t.set.n == 1 && !t.set.v[0].placement.present,
	   "no x-cara.placement: every host");
	t_free(&t);
	t_one(&t, "services:\n  s: {image: busybox}\nx-cara: [1]\n");
	expect(&t, "x-cara: must be a mapping, not a list", "x-cara a mapping");
	t_free(&t);
	t_one(&t, "services:\n  s: {image: busybox, cap_addd: [X]}\n"
	      "x-cara: {}\nx-other: {expireAt: never}\n");
	expect(&t, "not supported by cara: cap_addd",
	       "outside x-cara unknown fields are still refused");
	ok(!strstr(buf_cstr(&t.text), "x-other"), "  and other x-* ignored");
	t_free(&t);
}

/* ---- names ---- */

static void test_names(void)
{
	const char *two[] = {
		"a/compose.yaml", "services:\n  s: {image: busybox}\n",
		"a/docker-compose.yml", "services:\n  s: {image: busybox}\n",
		NULL
	};
	const char *top[] = { "compose.yml", "services:\n  s: {image: busybox}\n",
			      NULL };
	const char *bad[] = { "My.App/compose.yml", "services:\n  s: {image: busybox}\n",
			      NULL };
	const char *under[] = { "my_app/compose.yml", "services:\n  s: {image: busybox}\n",
				NULL };
	const char *named[] = { "x/compose.yml", "name: ${TAG:+shop}\n"
				"services:\n  s: {image: busybox}\n", NULL };
	struct t t;

	t_load(&t, two);
	expect(&t, "a/docker-compose.yml:1:1: 'a/compose.yaml' and "
	       "'a/docker-compose.yml' are both compose files",
	       "a second compose file is an error naming both");
	ok(t.set.incomplete && t.set.n == 1 && !t.set.v[0].valid,
	   "  the first is the project, invalid; nothing pruned");
	t_free(&t);
	t_load(&t, top);
	expect(&t, "compose.yml:1:1: name: a compose file at the top of the source "
	       "needs a top-level name", "at the top a name is required");
	ok(t.set.incomplete && !t.set.n, "  and the set is incomplete");
	t_free(&t);
	t_load(&t, bad);
	ok(t.set.n == 1 && !strcmp(t.set.v[0].name, "myapp"),
	   "the directory name normalised as compose does");
	t_free(&t);
	t_load(&t, under);
	expect(&t, "invalid project name 'my_app' for 'my_app/compose.yml'",
	       "a name cara cannot use is an error naming the file");
	t_free(&t);
	t_load(&t, named);
	ok(t.set.n == 1 && !strcmp(t.set.v[0].name, "shop"), "top-level name, "
	   "interpolated with ${VAR:+alt}");
	t_free(&t);
}

/* ---- interpolation ---- */

static void test_interpolation(void)
{
	const char *files[] = {
		"app/.env", "DOT=dot\nFROM_ENV=shadowed\n",
		"app/compose.yaml",
		"services:\n  s:\n    image: busybox\n    environment:\n"
		"      A: ${DOT}-${FROM_ENV}\n"
		"      B: ${EMPTY:-d1}/${EMPTY-d2}/${NOPE-d3}\n"
		"      C: ${TAG:+yes}/${EMPTY:+no}/${EMPTY+set}/${NOPE+no}\n"
		"      D: $$literal ${NOPE}x\n",
		NULL
	};
	const struct service *s;
	struct t t;

	t_load(&t, files);
	s = t.set.n ? project_find_service(&t.set.v[0], "s") : NULL;
	is_str(envval(s, "A"), "dot-env", ".env, and the environment wins over it");
	is_str(envval(s, "B"), "d1//d3", ":- and -");
	is_str(envval(s, "C"), "yes//set/", ":+ and +");
	is_str(envval(s, "D"), "$literal x", "$$ and an unset variable");
	expect(&t, "warning: services.s.environment.D: variable 'NOPE' is not set",
	       "  which is warned about");
	t_free(&t);
}

/* .env and env_file values are interpolated as compose (python-dotenv)
 * does: from the keys above in the same file, then the environment. */
static void test_env_files(void)
{
	const char *files[] = {
		"app/.env", "X=1\nDOTREF=${X}-y\nLIT='${X}'\nDEF=${NOPE:-d}\n",
		"app/a.env", "A=${X}z\nB=\"${TAG}\"\nNOEQ\nFROM_ENV\n",
		"app/compose.yaml",
		"services:\n  s:\n    image: busybox\n    env_file: a.env\n"
		"    environment: {REF: $DOTREF, LIT: $LIT, DEF: $DEF}\n",
		NULL
	};
	const char *bad[] = {
		"app/a.env", "A=${CARA_TOKEN}\n",
		"app/compose.yaml",
		"services:\n  s:\n    image: busybox\n    env_file: a.env\n",
		NULL
	};
	const struct service *s;
	struct t t;

	t_load(&t, files);
	s = t.set.n ? project_find_service(&t.set.v[0], "s") : NULL;
	is_str(envval(s, "REF"), "1-y", ".env: a key above in the same file");
	is_str(envval(s, "LIT"), "1", ".env: single quotes interpolated too, "
	       "as by docker-compose 1.29");
	is_str(envval(s, "DEF"), "d", ".env: ${VAR:-default}");
	is_str(envval(s, "A"), "z", "env_file: not from .env");
	is_str(envval(s, "B"), "1.25", "env_file: from the environment");
	is_str(envval(s, "FROM_ENV"), "env", "env_file: KEY alone from the environment");
	ok(!env(s, "NOEQ"), "env_file: KEY alone, unset: not passed");
	expect(&t, "app/a.env:3: 'NOEQ' is not set", "  with a warning naming the line");
	t_free(&t);
	t_load(&t, bad);
	expect(&t, "app/a.env:1:1: variable 'CARA_TOKEN'", "env_file: cara's "
	       "variables refused");
	ok(t.set.n == 1 && !t.set.v[0].valid, "  and the project is invalid");
	t_free(&t);
}

/* env_file in long syntax: {path, required}; a missing file that is not
 * required is skipped, a missing required one is an error. */
static void test_env_file_long(void)
{
	const char *files[] = {
		"app/a.env", "A=a\nB=a\n",
		"app/b.env", "B=b\n",
		"app/compose.yaml",
		"services:\n  s:\n    image: busybox\n    env_file:\n"
		"      - path: a.env\n"
		"      - {path: missing.env, required: false}\n"
		"      - {path: ./b.env, required: true}\n",
		NULL
	};
	const char *bad[] = {
		"app/compose.yaml",
		"services:\n  s:\n    image: busybox\n    env_file:\n"
		"      - {path: missing.env}\n"
		"      - {path: ../../x.env, required: false}\n"
		"      - {required: false}\n"
		"      - {path: a.env, format: raw}\n",
		NULL
	};
	const struct service *s;
	struct t t;

	t_load(&t, files);
	clean(&t, "env_file long syntax: no finding");
	s = t.set.n ? project_find_service(&t.set.v[0], "s") : NULL;
	is_str(envval(s, "A"), "a", "env_file {path}: read");
	is_str(envval(s, "B"), "b", "env_file {path, required: true}: the later wins");
	t_free(&t);
	t_load(&t, bad);
	expect(&t, "app/compose.yaml:5:16: services.s.env_file[0]: "
	       "'app/missing.env' is not in the source",
	       "env_file {path}: required by default");
	expect(&t, "services.s.env_file[1]: '../../x.env' leaves the source",
	       "env_file {required: false}: still refused out of the source");
	expect(&t, "services.s.env_file[2].path: required",
	       "env_file {}: path is required");
	expect(&t, "services.s.env_file[3].format: not supported by cara",
	       "env_file {format}: refused");
	ok(t.set.n == 1 && !t.set.v[0].valid, "  and the project is invalid");
	t_free(&t);
}

/* ---- hostile input ---- */

static void test_merge_keys(void)
{
	struct buf y = BUF_INIT;
	struct t t;
	size_t i;

	t_one(&t, "x-a: &a {image: busybox, user: a}\nx-b: &b {user: b, working_dir: /b}\n"
	      "services:\n  s:\n    <<: [*a, *b]\n    working_dir: /local\n");
	ok(t.set.n == 1 && !strcmp(t.set.v[0].services[0].user, "a") &&
	   !strcmp(t.set.v[0].services[0].working_dir, "/local"),
	   "merge list: the first mapping wins, local keys win");
	clean(&t, "  without findings");
	t_free(&t);
	t_one(&t, "services:\n  s:\n    <<: 3\n    image: busybox\n");
	expect(&t, "a merge key ('<<') takes a mapping", "merge of a scalar");
	t_free(&t);
	/* a bomb: each level merges the one before twice */
	buf_puts(&y, "x-0: &l0 {image: busybox, a0: 1}\n");
	for (i = 1; i < 30; i++)
		buf_printf(&y, "x-%zu: &l%zu {<<: [*l%zu, *l%zu], a%zu: 1}\n", i, i,
			   i - 1, i - 1, i);
	buf_puts(&y, "services:\n  s: {<<: *l29}\n");
	t_one(&t, buf_cstr(&y));
	ok(t.set.incomplete && strstr(buf_cstr(&t.text), "alias"),
	   "a merge-key bomb stops at the alias budget");
	t_free(&t);
	buf_release(&y);
}

/* ---- several files: override, extends, include ---- */

static const char *kvlist_get(const struct kvlist *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key, key))
			return l->v[i].value;
	return "";
}

static bool kvlist_has(const struct kvlist *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key, key))
			return true;
	return false;
}

static const struct service *svc(const struct t *t, const char *name)
{
	return t->set.n ? project_find_service(&t->set.v[0], name) : NULL;
}

static bool has_mount(const struct service *s, const char *name,
		      const char *path)
{
	size_t i;

	for (i = 0; s && i < s->nmounts; i++)
		if (!strcmp(s->mounts[i].mount_path, path))
			return !strcmp(s->mounts[i].name, name);
	return false;
}

static bool has_port(const struct service *s, int host, int ctr)
{
	size_t i;

	for (i = 0; s && i < s->nports; i++)
		if (s->ports[i].host_port == host && s->ports[i].container_port == ctr)
			return true;
	return false;
}

static const struct dependency *dep(const struct service *s, const char *name)
{
	size_t i;

	for (i = 0; s && i < s->ndeps; i++)
		if (!strcmp(s->deps[i].service, name))
			return &s->deps[i];
	return NULL;
}

static const char main_yaml[] =
	"services:\n"
	"  web:\n"
	"    image: nginx:1\n"
	"    command: [\"a\", \"b\"]\n"
	"    entrypoint: /bin/sh\n"
	"    environment:\n"
	"      A: \"1\"\n"
	"      B: \"2\"\n"
	"    labels: [x=1, y=2]\n"
	"    ports: [\"8080:80\", \"9090:90\"]\n"
	"    expose: [\"80\", \"81\"]\n"
	"    dns: [1.1.1.1]\n"
	"    extra_hosts: [\"a:1.2.3.4\"]\n"
	"    cap_add: [CHOWN]\n"
	"    sysctls: {net.core.somaxconn: \"1024\"}\n"
	"    volumes: [\"data:/data\", \"logs:/b:ro\"]\n"
	"    tmpfs: [/run]\n"
	"    healthcheck: {test: [CMD, a], interval: 10s}\n"
	"    depends_on: [db]\n"
	"    networks: {default: {aliases: [w1]}}\n"
	"  db:\n"
	"    image: postgres\n"
	"    healthcheck: {test: [CMD, pg_isready]}\n"
	"volumes: {data: {}, logs: {}, other: {}}\n";

static const char override_yaml[] =
	"services:\n"
	"  web:\n"
	"    command: c\n"
	"    environment: [B=3, C=4]\n"
	"    labels: {y: \"3\", z: \"4\"}\n"
	"    ports: [\"8080:80\", \"7070:70\"]\n"
	"    expose: [\"81\", \"82\"]\n"
	"    dns: [8.8.8.8, 1.1.1.1]\n"
	"    extra_hosts: [\"b:5.6.7.8\", \"a:1.2.3.4\"]\n"
	"    cap_add: [KILL, CHOWN]\n"
	"    sysctls: [net.ipv4.ip_forward=1]\n"
	"    volumes: [\"other:/b\"]\n"
	"    tmpfs: /tmp\n"
	"    healthcheck: {test: [CMD, b]}\n"
	"    depends_on: {db: {condition: service_healthy}, cache: {condition: service_started}}\n"
	"    networks: {default: {aliases: [w2]}}\n"
	"  cache:\n"
	"    image: redis\n";

/* What `docker-compose -f docker-compose.yml -f docker-compose.override.yml
 * config` (1.29.2) prints for these files, field by field. */
static void test_override(void)
{
	const char *files[] = { "app/compose.override.yaml", override_yaml,
				"app/compose.yaml", main_yaml, NULL };
	const char *files2[] = { "app/docker-compose.override.yml", override_yaml,
				 "app/docker-compose.yml", main_yaml, NULL };
	const struct service *w;
	const struct dependency *d;
	struct t t;

	t_load(&t, files);
	clean(&t, "override: merged without findings");
	w = svc(&t, "web");
	ok(t.set.n == 1 && t.set.v[0].nservices == 3 && svc(&t, "cache"),
	   "override: a service it adds joins the project");
	ok(w && !strcmp(joined(&w->command), "[c]"), "command replaced: %s",
	   w ? joined(&w->command) : "");
	ok(w && !strcmp(joined(&w->entrypoint), "[/bin/sh]"), "entrypoint kept");
	ok(w && !strcmp(envval(w, "A"), "1") && !strcmp(envval(w, "B"), "3") &&
	   !strcmp(envval(w, "C"), "4"), "environment by key, map then list");
	ok(w && w->labels.n == 3 && !strcmp(kvlist_get(&w->labels, "x"), "1") &&
	   !strcmp(kvlist_get(&w->labels, "y"), "3") &&
	   !strcmp(kvlist_get(&w->labels, "z"), "4"), "labels by key, list then map");
	ok(w && w->nports == 3 && has_port(w, 8080, 80) && has_port(w, 9090, 90) &&
	   has_port(w, 7070, 70), "ports appended, the same one once");
	ok(w && w->expose.n == 3, "expose appended, unique: %s",
	   w ? joined(&w->expose) : "");
	ok(w && !strcmp(joined(&w->dns), "[1.1.1.1] [8.8.8.8]"),
	   "dns appended, unique: %s", w ? joined(&w->dns) : "");
	ok(w && w->extra_hosts.n == 2 && strvec_has(&w->extra_hosts, "a:1.2.3.4") &&
	   strvec_has(&w->extra_hosts, "b:5.6.7.8"), "extra_hosts by host: %s",
	   w ? joined(&w->extra_hosts) : "");
	ok(w && !strcmp(joined(&w->cap_add), "[CHOWN] [KILL]"),
	   "cap_add unique: %s", w ? joined(&w->cap_add) : "");
	ok(w && w->sysctls.n == 2 &&
	   !strcmp(kvlist_get(&w->sysctls, "net.ipv4.ip_forward"), "1"),
	   "sysctls by key, map then list");
	ok(w && w->nmounts == 2 && has_mount(w, "data", "/data") &&
	   has_mount(w, "other", "/b"), "volumes by target");
	ok(w && !strcmp(joined(&w->tmpfs), "[/run] [/tmp]"),
	   "tmpfs list and string: %s", w ? joined(&w->tmpfs) : "");
	ok(w && !strcmp(joined(&w->health.test), "[CMD] [b]") &&
	   w->health.interval_ms == 10000, "healthcheck.test replaced, interval kept");
	d = dep(w, "db");
	ok(d && d->condition == DEP_HEALTHY && dep(w, "cache") && w->ndeps == 2,
	   "depends_on by service, list then map");
	ok(w && !strcmp(joined(&w->aliases), "[w1] [w2]"), "aliases appended");
	t_free(&t);

	t_load(&t, files2);
	clean(&t, "docker-compose.override.yml with docker-compose.yml");
	ok(svc(&t, "cache") != NULL, "  merged");
	t_free(&t);
}

/* More rules, each against `docker-compose -f a -f b config` (1.29.2),
 * but volumes by target across short and long syntax: the spec's rule
 * (1.29 calls those "duplicate mount points"). */
static void test_override_rules(void)
{
	const char *files[] = {
		"app/compose.override.yaml",
		"services:\n"
		"  s:\n"
		"    ulimits: {nofile: 30}\n"
		"    volumes: [{type: volume, source: b, target: /a}]\n"
		"    depends_on: [c, d]\n"
		"    environment: {E: }\n"
		"    labels: [k]\n"
		"    image: busybox:2\n"
		"  t:\n"
		"    extends: c\n"
		"    user: t\n"
		"  c: {image: c2}\n",
		"app/compose.yaml",
		"services:\n"
		"  s:\n"
		"    image: busybox\n"
		"    ulimits: {nofile: {soft: 10, hard: 20}, nproc: 5}\n"
		"    volumes: [\"a:/a\", \"a:/z\"]\n"
		"    depends_on: [c]\n"
		"    environment: {E: x, F: y}\n"
		"  c: {image: c}\n"
		"  d: {image: d}\n"
		"volumes: {a: {}, b: {}}\n", NULL };
	const struct service *s, *t2;
	struct t t;
	size_t i;
	bool nofile = false, nproc = false;

	t_load(&t, files);
	expect(&t, "app/compose.yaml:7:19: warning: services.s.environment.E: not "
	       "set in cara's environment", "more rules: E from the environment");
	ok(t.d.n == 1, "  and no other finding");
	s = svc(&t, "s");
	for (i = 0; s && i < s->nulimits; i++) {
		nofile |= !strcmp(s->ulimits[i].name, "nofile") &&
			  s->ulimits[i].soft == 30 && s->ulimits[i].hard == 30;
		nproc |= !strcmp(s->ulimits[i].name, "nproc") &&
			 s->ulimits[i].soft == 5;
	}
	ok(nofile && nproc, "ulimits by name, each replaced whole (nofile: 30)");
	ok(s && s->nmounts == 2 && has_mount(s, "b", "/a") && has_mount(s, "a", "/z"),
	   "volumes by target, short and long syntax");
	ok(s && s->ndeps == 2 && dep(s, "c") && dep(s, "d"), "depends_on lists: union");
	ok(s && !env(s, "E") && !strcmp(envval(s, "F"), "y"),
	   "environment: E: (null) in the override takes E from the environment");
	ok(s && !strcmp(s->image, "busybox:2"), "a scalar replaced");
	t2 = svc(&t, "t");
	ok(t2 && !strcmp(t2->image, "c2") && !strcmp(t2->user, "t"),
	   "extends in the override, of a service the override changes");
	ok(s && kvlist_has(&s->labels, "k"), "labels: [k] is an empty label");
	t_free(&t);
}

/* Many services extending one: linear, not quadratic. */
static void test_extends_many(void)
{
	struct buf y = BUF_INIT;
	struct t t;
	size_t i;
	clock_t t0 = clock();

	buf_puts(&y, "services:\n  b: {image: x}\n");
	for (i = 0; i < 20000; i++)
		buf_printf(&y, "  s%zu: {extends: b}\n", i);
	t_one(&t, buf_cstr(&y));
	ok(t.set.n == 1, "20000 services extending one are read");
	ok((double)(clock() - t0) / CLOCKS_PER_SEC < 20, "  in reasonable time");
	t_free(&t);
	buf_release(&y);
}

static void test_override_errors(void)
{
	const char *bad[] = {
		"app/compose.override.yaml", "services:\n  web:\n    restart: sometimes\n",
		"app/compose.yaml", "services:\n  web:\n    image: nginx\n", NULL };
	const char *orphan[] = {
		"app/compose.override.yaml", "services:\n  web:\n    image: nginx\n",
		NULL };
	const char *family[] = {
		"app/compose.yaml", "services:\n  web:\n    image: nginx\n",
		"app/docker-compose.override.yml", "services:\n  web:\n    user: x\n",
		NULL };
	const char *other[] = {
		"app/compose.yaml", "services:\n  web:\n    image: nginx\n",
		"app/docker-compose.prod.yml", "services:\n  web:\n    user: x\n",
		NULL };
	struct t t;

	t_load(&t, bad);
	expect(&t, "app/compose.override.yaml:3:14: services.web.restart",
	       "an error in the override names its file and line");
	ok(t.set.n == 1 && !t.set.v[0].valid, "  the project is invalid");
	t_free(&t);
	t_load(&t, orphan);
	expect(&t, "app/compose.override.yaml:1:1: 'app/compose.override.yaml' is "
	       "a compose override file without its compose file",
	       "an override without its compose file is an error");
	ok(t.set.incomplete && t.set.n == 0, "  not read, set incomplete");
	t_free(&t);
	t_load(&t, family);
	expect(&t, "docker-compose.override.yml' is a compose override file "
	       "without", "an override of the other family is not merged");
	t_free(&t);
	t_load(&t, other);
	ok(t.set.n == 1 && !svc(&t, "web")->user, "a -f style file is not merged");
	t_free(&t);
}

static void test_extends(void)
{
	const char *files[] = {
		"app/common.yml",
		"services:\n  c:\n    image: alpine\n    environment: [X=1]\n"
		"    command: x\n",
		"app/compose.yaml",
		"services:\n"
		"  base:\n    image: nginx:1\n    environment: {A: \"1\"}\n"
		"    ports: [\"80\"]\n    command: x\n"
		"  web:\n    extends: base\n    environment: {B: \"2\"}\n"
		"    ports: [\"81\"]\n"
		"  web2:\n    extends: {file: common.yml, service: c}\n    command: y\n"
		"  web3:\n    extends: {service: web}\n    user: u\n",
		NULL };
	const char *cycle[] = {
		"app/compose.yaml",
		"services:\n  a:\n    extends: b\n    image: x\n"
		"  b:\n    extends: {service: a}\n", NULL };
	const char *xcycle[] = {
		"app/compose.yaml",
		"services:\n  a:\n    extends: {file: o.yml, service: b}\n",
		"app/o.yml",
		"services:\n  b:\n    extends: {file: compose.yaml, service: a}\n", NULL };
	const char *deps[] = {
		"app/compose.yaml",
		"services:\n  a:\n    image: x\n    depends_on: [b]\n"
		"  b:\n    image: x\n  c:\n    extends: a\n", NULL };
	const char *escape[] = {
		"app/compose.yaml",
		"services:\n  a:\n    extends: {file: ../../etc/x.yml, service: b}\n",
		NULL };
	const char *missing[] = {
		"app/compose.yaml",
		"services:\n  a:\n    extends: {file: nothere.yml, service: b}\n"
		"  b:\n    extends: zz\n", NULL };
	const struct service *w;
	struct t t;

	t_load(&t, files);
	w = svc(&t, "web");
	ok(w && !strcmp(w->image, "nginx:1") && !strcmp(envval(w, "A"), "1") &&
	   !strcmp(envval(w, "B"), "2") && !strcmp(joined(&w->command), "[x]") &&
	   w->nports == 2, "extends in the file: merged as an override");
	w = svc(&t, "web2");
	ok(w && !strcmp(w->image, "alpine") && !strcmp(envval(w, "X"), "1") &&
	   !strcmp(joined(&w->command), "[y]"), "extends from another file");
	w = svc(&t, "web3");
	ok(w && !strcmp(w->image, "nginx:1") && !strcmp(envval(w, "B"), "2") &&
	   !strcmp(w->user, "u"), "extends of a service that extends");
	ok(!strstr(buf_cstr(&t.text), "error"), "  no errors");
	t_free(&t);
	t_load(&t, cycle);
	expect(&t, "extends cycle", "an extends cycle is refused");
	t_free(&t);
	t_load(&t, xcycle);
	expect(&t, "extends cycle", "an extends cycle across files is refused");
	t_free(&t);
	t_load(&t, deps);
	expect(&t, "app/compose.yaml:8:14: service 'a' cannot be "
	       "extended: it has depends_on", "a base with depends_on is refused");
	t_free(&t);
	t_load(&t, escape);
	expect(&t, "app/compose.yaml:3:21: '../../etc/x.yml' leaves "
	       "the source", "an extends file outside the source");
	t_free(&t);
	t_load(&t, missing);
	expect(&t, "'app/nothere.yml' is not in the source", "a missing file");
	expect(&t, "no service 'zz'", "a missing service");
	t_free(&t);
}

static void test_include(void)
{
	const char *files[] = {
		"app/compose.yaml",
		"include:\n  - db/db.yml\n  - path: cache.yml\n"
		"services:\n  web:\n    image: nginx\n    depends_on: [db, cache]\n",
		"app/cache.yml", "services:\n  cache:\n    image: redis\n",
		"app/db/db.yml", "include: [../cache.yml]\nservices:\n  db:\n"
		"    image: postgres\n    restart: bad\n", NULL };
	const char *twice[] = {
		"app/compose.yaml",
		"include: [a.yml]\nservices:\n  web:\n    image: nginx\n",
		"app/a.yml", "services:\n  web:\n    image: redis\n", NULL };
	const char *cycle[] = {
		"app/a.yml", "include: [b.yml]\nservices: {}\n",
		"app/b.yml", "include: [a.yml]\nservices: {}\n",
		"app/compose.yaml",
		"include: [a.yml]\nservices:\n  web:\n    image: nginx\n", NULL };
	const char *opts[] = {
		"app/a.yml", "services: {}\n",
		"app/compose.yaml", "include:\n  - path: a.yml\n    env_file: x.env\n"
		"services:\n  web:\n    image: nginx\n", NULL };
	const char *escape[] = {
		"app/compose.yaml", "include: [../../x.yml, /etc/x.yml]\n"
		"services:\n  web:\n    image: nginx\n", NULL };
	struct t t;

	t_load(&t, files);
	ok(t.set.n && t.set.v[0].nservices == 3 && svc(&t, "db") && svc(&t, "cache"),
	   "included services join the project (a diamond read once)");
	expect(&t, "app/db/db.yml:5:14: services.db.restart",
	       "an error in an included file names it");
	t_free(&t);
	t_load(&t, twice);
	expect(&t, "app/a.yml:2:3: service 'web' is defined twice",
	       "a service defined twice is an error");
	t_free(&t);
	t_load(&t, cycle);
	expect(&t, "include cycle", "an include cycle is refused");
	t_free(&t);
	t_load(&t, opts);
	expect(&t, "not supported by cara: include.env_file",
	       "include's env_file is refused");
	t_free(&t);
	t_load(&t, escape);
	expect(&t, "'../../x.yml' leaves the source", "include outside the source");
	expect(&t, "'/etc/x.yml' is not in the source", "an absolute include");
	t_free(&t);
}

/* A file volume's path is relative to the file it is written in, so an
 * included file in a subdirectory mounts the files beside it. */
static const struct volume *file_vol(const struct t *t, const char *path)
{
	const struct project *p = t->set.n ? &t->set.v[0] : NULL;
	size_t i;

	for (i = 0; p && i < p->nvolumes; i++)
		if (p->volumes[i].type == VOLUME_FILE &&
		    !strcmp(p->volumes[i].source_path, path))
			return &p->volumes[i];
	return NULL;
}

static void test_include_file_volume(void)
{
	const char *files[] = {
		"app/compose.yaml",
		"include: [sub/inc.yml]\nservices:\n  web:\n    image: nginx\n",
		"app/sub/c.txt", "c\n",
		"app/sub/conf.txt", "a\n",
		"app/sub/inc.yml", "services:\n  db:\n    image: postgres\n"
		"    volumes: [./conf.txt:/etc/conf.txt, ../../top.txt:/top.txt]\n"
		"    configs: [c]\nconfigs:\n  c:\n    file: c.txt\n",
		"top.txt", "b\n", NULL };
	const char *escape[] = {
		"app/compose.yaml",
		"include: [sub/inc.yml]\nservices:\n  web:\n    image: nginx\n",
		"app/sub/inc.yml", "services:\n  db:\n    image: postgres\n"
		"    volumes: [../../../x.txt:/x.txt]\n", NULL };
	struct t t;

	t_load(&t, files);
	if (!ok(t.set.n && t.set.v[0].valid, "an included file's relative "
		"mounts load"))
		printf("#   findings:\n%s", buf_cstr(&t.text));
	ok(file_vol(&t, "app/sub/conf.txt") != NULL,
	   "./conf.txt in app/sub/inc.yml mounts app/sub/conf.txt");
	ok(file_vol(&t, "app/sub/c.txt") != NULL,
	   "configs: file: c.txt in app/sub/inc.yml is app/sub/c.txt");
	ok(file_vol(&t, "top.txt") != NULL,
	   "../../top.txt from app/sub stays in the source");
	t_free(&t);
	t_load(&t, escape);
	expect(&t, "app/sub/inc.yml:4:15: services.db.volumes[0]: "
	       "'../../../x.txt' leaves the source",
	       "a path that leaves the source from app/sub is refused");
	t_free(&t);
}

/* A relative bind is read-only: said so, or warned about (compose's is
 * read-write), short and long syntax alike. */
static void test_relative_bind_ro(void)
{
	const char *files[] = {
		"app/compose.yaml", "services:\n  web:\n    image: nginx\n"
		"    volumes:\n      - ./conf:/etc/a\n      - ./conf:/etc/b:ro\n"
		"      - {type: bind, source: ./conf, target: /etc/c}\n"
		"      - {type: bind, source: ./conf, target: /etc/d, read_only: true}\n",
		"app/conf", "x\n", NULL };
	const struct service *s;
	struct t t;
	size_t i;

	t_load(&t, files);
	expect(&t, "app/compose.yaml:5:9: warning: services.web.volumes[0]: './conf' "
	       "is mounted read-only (files of the source are cara's copy, which no "
	       "container may change, where compose would mount them read-write)",
	       "a relative bind without :ro: a warning");
	expect(&t, "app/compose.yaml:7:9: warning: services.web.volumes[2]: './conf' "
	       "is mounted read-only", "and in the long syntax without read_only");
	ok(t.d.nwarnings == 2 && t.d.nerrors == 0, "  only those two");
	s = t.set.n ? project_find_service(&t.set.v[0], "web") : NULL;
	for (i = 0; s && i < s->nmounts && s->mounts[i].read_only; i++)
		;
	ok(s && s->nmounts == 4 && i == 4, "all four mounted read-only");
	t_free(&t);
}

/* Hostile input: chains of files and copies stop at the caps. */
static void test_compose_bombs(void)
{
	struct strvec paths = STRVEC_INIT, texts = STRVEC_INIT;
	const char **files;
	struct buf y = BUF_INIT;
	struct t t;
	size_t i;

	/* a chain of 100 files, each including the next twice */
	for (i = 0; i < 100; i++) {
		strvec_push_nodup(&paths, xasprintf("app/f%03zu.yml", i));
		strvec_push_nodup(&texts, xasprintf("include: [f%03zu.yml, ./f%03zu.yml]\n"
						    "services: {}\n", i + 1, i + 1));
	}
	strvec_push(&paths, "app/compose.yaml");
	strvec_push(&texts, "include: [f000.yml]\nservices:\n  s:\n    image: x\n");
	files = xcalloc(2 * paths.n + 1, sizeof(*files));
	for (i = 0; i < paths.n; i++) {
		files[2 * i] = paths.v[i];
		files[2 * i + 1] = texts.v[i];
	}
	t_load(&t, files);
	expect(&t, "more than 64 files read for one compose project",
	       "an include chain stops at the file cap");
	t_free(&t);
	free(files);
	strvec_release(&paths);
	strvec_release(&texts);
	/* 400 services extending one of 3000 nodes: 1.2M copied */
	buf_puts(&y, "services:\n  base:\n    image: x\n    environment:\n");
	for (i = 0; i < 3000; i++)
		buf_printf(&y, "      - K%zu=v\n", i);
	for (i = 0; i < 400; i++)
		buf_printf(&y, "  s%zu: {extends: base}\n", i);
	t_one(&t, buf_cstr(&y));
	expect(&t, "YAML nodes read or copied for one compose project",
	       "copies for extends stop at the node cap");
	t_free(&t);
	buf_release(&y);
}

static void test_huge_env_file(void)
{
	struct buf e = BUF_INIT;
	const char *files[] = { "app/big.env", NULL,
				"app/compose.yaml",
				"services:\n  s: {image: busybox, env_file: big.env}\n",
				NULL };
	clock_t t0 = clock();
	struct t t;
	size_t i;

	for (i = 0; e.len < ((size_t)3 << 20); i++)
		buf_printf(&e, "VAR_%zu=%zu\nVAR_0=last\n", i % 50000, i);
	files[1] = buf_cstr(&e);
	t_load(&t, files);
	ok(t.set.n == 1 && t.set.v[0].services[0].nenv == 50000 &&
	   !strcmp(envval(&t.set.v[0].services[0], "VAR_0"), "last"),
	   "a 3 MiB env_file: every name once, the last value wins");
	ok((double)(clock() - t0) / CLOCKS_PER_SEC < 10, "  in n log n");
	t_free(&t);
	buf_release(&e);
}

static void test_dir_source(void)
{
	char dir[] = "/tmp/cara-test-compose-XXXXXX";
	struct project_set set = PROJECT_SET_INIT;
	struct diags d = { 0 };
	struct buf cmd = BUF_INIT;
	int rc;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	buf_printf(&cmd, "mkdir %s/app %s/link && cd %s/app && "
		   "printf 'services:\\n  s: {image: \"busybox:${TAG}\", env_file: [a.env]}\\n' "
		   "> compose.yaml && printf 'TAG=1\\n' > ../link/.env && "
		   "printf 'A=1\\n' > a.env && ln -s /etc/passwd .env && "
		   "printf 'B=2\\n' > README", dir, dir, dir);
	rc = system(buf_cstr(&cmd));
	ok(rc == 0, "fixture");
	rc = manifest_load_dir(&set, dir, NULL, &d);
	ok(rc == 0 && set.incomplete, "a .env that is a link out of the tree: "
	   "refused, nothing pruned");
	ok(d.n && strstr(d.v[0].file, "app/.env"), "  the finding names it");
	ok(set.n == 1 && set.v[0].services[0].nenv == 1, "  env_file read from "
	   "the snapshot");
	project_set_release(&set);
	diags_release(&d);
	buf_reset(&cmd);
	buf_printf(&cmd, "rm -rf %s", dir);
	rc = system(buf_cstr(&cmd));
	(void)rc;
	buf_release(&cmd);
}

/* include and extends of a file that is a link out of the tree: the
 * snapshot refuses the link, the reader finds no such file. */
static void test_dir_links(void)
{
	char dir[] = "/tmp/cara-test-compose-XXXXXX";
	struct project_set set = PROJECT_SET_INIT;
	struct diags d = { 0 };
	struct buf cmd = BUF_INIT, text = BUF_INIT;
	size_t i;
	int rc;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	buf_printf(&cmd, "mkdir %s/app && cd %s/app && "
		   "ln -s /etc/hostname evil.yml && "
		   "printf 'include: [evil.yml]\\nservices:\\n  s: {extends: "
		   "{file: evil.yml, service: x}}\\n' > compose.yaml", dir, dir);
	rc = system(buf_cstr(&cmd));
	ok(rc == 0, "fixture");
	rc = manifest_load_dir(&set, dir, NULL, &d);
	for (i = 0; i < d.n; i++) {
		diag_format(&text, &d.v[i]);
		buf_putc(&text, '\n');
	}
	ok(rc == 0 && set.incomplete && set.n == 1 && !set.v[0].valid,
	   "include and extends through a link out of the tree: refused");
	ok(strstr(buf_cstr(&text), "app/compose.yaml:1:11: 'app/evil.yml' is not "
		  "in the source") != NULL, "  the include names it");
	ok(strstr(buf_cstr(&text), "app/compose.yaml:3:23: 'app/evil.yml' is not "
		  "in the source") != NULL, "  the extends names it");
	project_set_release(&set);
	diags_release(&d);
	buf_reset(&cmd);
	buf_printf(&cmd, "rm -rf %s", dir);
	rc = system(buf_cstr(&cmd));
	(void)rc;
	buf_release(&cmd);
	buf_release(&text);
}

/* A compose file given alone brings the .env beside it; an emptied one
 * is an error, not a removal. */
static void test_single_file(void)
{
	char dir[] = "/tmp/cara-test-compose-XXXXXX";
	struct project_set set = PROJECT_SET_INIT;
	struct diags d = { 0 };
	struct buf cmd = BUF_INIT, file = BUF_INIT;
	struct t t;
	int rc;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	buf_printf(&cmd, "mkdir %s/shop && cd %s/shop && "
		   "printf 'services:\n  s: {image: \"busybox:${V}\"}\n' > compose.yaml && "
		   "printf 'V=7\n' > .env", dir, dir);
	rc = system(buf_cstr(&cmd));
	ok(rc == 0, "fixture");
	buf_printf(&file, "%s/shop/compose.yaml", dir);
	rc = manifest_load_dir(&set, buf_cstr(&file), NULL, &d);
	ok(rc == 0 && set.n == 1 && !strcmp(set.v[0].services[0].image, "busybox:7") &&
	   !strcmp(set.v[0].name, "shop"), "one compose file: its .env is read");
	project_set_release(&set);
	diags_release(&d);
	buf_reset(&cmd);
	buf_printf(&cmd, "rm -rf %s", dir);
	rc = system(buf_cstr(&cmd));
	(void)rc;
	buf_release(&cmd);
	buf_release(&file);
	t_one(&t, "");
	expect(&t, "app/compose.yaml:1:1: empty compose file", "an empty compose "
	       "file is an error");
	ok(t.set.incomplete, "  and nothing is pruned");
	t_free(&t);
	t_one(&t, "# nothing but a comment\n");
	ok(t.set.incomplete, "a compose file of comments: nothing is pruned");
	t_free(&t);
}


static const char *build_image_of(struct t *t)
{
	const struct service *s = t->set.n ? project_find_service(&t->set.v[0], "web") : NULL;

	return s ? s->image : "";
}

static void test_build(void)
{
	static const char *const base[] = {
		"app/compose.yaml", "services:\n  web:\n    build: {context: ./ctx, "
		"args: {A: one}, target: run}\n    image: shop/web:dev\n",
		"app/ctx/.dockerignore", "# comment\n*.log\n/cache\n!keep.log\n",
		"app/ctx/Dockerfile", "FROM busybox\nCOPY . /app\n",
		"app/ctx/cache/blob", "big",
		"app/ctx/keep.log", "kept",
		"app/ctx/main.txt", "one",
		"app/ctx/x.log", "ignored",
		NULL };
	const char *files[ARRAY_SIZE(base)];
	const struct service *s;
	char *img;
	struct t t;
	size_t i;

	memcpy(files, base, sizeof(base));
	t_load(&t, files);
	clean(&t, "a build with context, args and target is read");
	s = svc(&t, "web");
	ok(s && s->build && !strncmp(s->image, "cara-build/app-web:", 19) &&
	   strlen(s->image) == 19 + 16, "the image is cara-build/PROJECT-SERVICE:HEX16");
	ok(s && s->pull_policy == PULL_NEVER, "  and never pulled");
	ok(s && s->build && s->build->tag && !strcmp(s->build->tag, "shop/web:dev"),
	   "  image: beside build is a tag of it");
	ok(s && s->build && s->build->target && !strcmp(s->build->target, "run") &&
	   s->build->args.n == 1 && !strcmp(s->build->args.v[0].value, "one"),
	   "  target and args");
	if (s && s->build) {
		const struct volume *v = s->build->context;
		bool cache = false, xlog = false, keep = false, df = false, ign = false;

		for (i = 0; i < v->nfiles; i++) {
			cache |= !strcmp(v->files[i].path, "cache/blob");
			xlog |= !strcmp(v->files[i].path, "x.log");
			keep |= !strcmp(v->files[i].path, "keep.log");
			df |= !strcmp(v->files[i].path, "Dockerfile");
			ign |= !strcmp(v->files[i].path, ".dockerignore");
		}
		ok(!cache && !xlog, ".dockerignore: a directory and a glob stay out");
		ok(keep, "  an exception (!) comes back");
		ok(df && ign, "  the Dockerfile and .dockerignore are always sent");
	}
	img = xstrdup(build_image_of(&t));
	t_free(&t);

	files[13] = "ignored, changed";
	t_load(&t, files);
	is_str(build_image_of(&t), img, "a change to an ignored file: the same image");
	t_free(&t);
	files[13] = base[13];
	files[11] = "two";
	t_load(&t, files);
	ok(strcmp(build_image_of(&t), img), "a change to a file of the context: a new image");
	t_free(&t);
	files[11] = base[11];
	files[1] = "services:\n  web:\n    build: {context: ./ctx, args: {A: two}, "
		   "target: run}\n    image: shop/web:dev\n";
	t_load(&t, files);
	ok(strcmp(build_image_of(&t), img), "another build arg: a new image");
	t_free(&t);
	files[1] = "services:\n  web:\n    build: {context: ./ctx, args: [A=1, B=x, A=2]}\n";
	t_load(&t, files);
	s = svc(&t, "web");
	ok(s && s->build && s->build->args.n == 2 && !strcmp(s->build->args.v[0].key, "A") &&
	   !strcmp(s->build->args.v[0].value, "2"), "an arg given twice: the last one, once");
	t_free(&t);
	files[1] = "services:\n  web:\n    build: ctx\n";
	t_load(&t, files);
	clean(&t, "build: DIR, no image");
	s = svc(&t, "web");
	ok(s && s->build && !s->build->tag && !s->build->target, "  no tag, no target");
	t_free(&t);
	free(img);

	static const struct { const char *yaml, *want; } bad[] = {
		{ "    build: ../..\n", "services.web.build: '../..' leaves the source" },
		{ "    build: {context: ./ctx, dockerfile: Nope}\n",
		  "services.web.build.context: no Nope in the build context 'app/ctx'" },
		{ "    build: {context: ./ctx, dockerfile: ../Dockerfile}\n",
		  "is not a file within the context" },
		{ "    build: {context: 'https://example.com/r.git'}\n",
		  "not supported by cara: a remote build context" },
		{ "    build: {context: ./ctx, args: {A: }}\n",
		  "services.web.build.args.A: not supported by cara: a build arg without a value" },
		{ "    build: {context: ./ctx, args: [A]}\n", "a build arg without a value" },
		{ "    build: {context: ./ctx, ssh: [default]}\n",
		  "services.web.build.ssh: not supported by cara: ssh" },
		{ "    build: {dockerfile: Dockerfile}\n", "build needs a context" },
		{ "    build: ./ctx/main.txt\n", "is a file: a build context is a directory" },
		{ "    image: busybox\n    pull_policy: build\n",
		  "pull_policy build needs a build section" },
		{ "    command: [true]\n", "services.web.image: required (or build)" },
	};
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		char *y = xasprintf("services:\n  web:\n%s", bad[i].yaml);

		files[1] = y;
		t_load(&t, files);
		expect(&t, bad[i].want, "refused: %s", bad[i].want);
		ok(!t.set.n || !t.set.v[0].valid, "  the project is invalid");
		t_free(&t);
		free(y);
	}
}


static void test_dockerfile_from(void)
{
	static const char df[] =
		"# syntax=docker/dockerfile:1\n"
		"ARG BASE=alpine\n"
		"FROM --platform=linux/amd64 golang:1.22 AS Build\n"
		"RUN go build\n"
		"from registry.example.com:5000/team/base AS runtime\n"
		"FROM ${BASE}\n"
		"FROM build AS again\n"
		"FROM scratch\n"
		"FROM \\\n    busybox@sha256:0123\n"
		"FROM golang:1.22\n"
		"RUN echo FROM not-an-image\n";
	struct strvec v = STRVEC_INIT;

	dockerfile_from_images(df, strlen(df), &v);
	ok(v.n == 3, "three images to pull (got %zu)", v.n);
	is_str(v.n > 0 ? v.v[0] : "", "golang:1.22", "  a tag as written, --platform skipped");
	is_str(v.n > 1 ? v.v[1] : "", "registry.example.com:5000/team/base:latest",
	       "  no tag: latest (a port is not a tag), lower-case from");
	is_str(v.n > 2 ? v.v[2] : "", "busybox@sha256:0123", "  a digest, on a continued line");
	ok(!strvec_has(&v, "build:latest") && !strvec_has(&v, "scratch:latest"),
	   "  not a stage (any case), not scratch, not an ${ARG}, once each");
	strvec_release(&v);
}


static void test_devices_logging(void)
{
	static const struct { const char *yaml, *want; } bad[] = {
		{ "    devices: [/dev/fuse]\n",
		  "services.s.devices[0]: device '/dev/fuse' gives the container a device "
		  "of the host: needs --allow-privileged" },
		{ "    logging: {driver: syslog, options: {syslog-address: 'tcp://127.0.0.1:2375'}}\n",
		  "services.s.logging.driver: log driver 'syslog' makes dockerd send the logs "
		  "out from the host's network" },
		{ "    logging: {options: {max-size: 1m}}\n", "logging options need a driver" },
		{ "    logging: {driver: json-file, tag: x}\n",
		  "services.s.logging.tag: not supported by cara" },
		{ "    logging: json-file\n", "services.s.logging: must be a mapping" },
	};
	const struct service *s;
	struct t t;
	size_t i;

	t_one(&t, "services:\n  s:\n    image: busybox\n"
		  "    logging: {driver: local, options: {max-size: 10m, max-file: '3'}}\n");
	clean(&t, "logging with a local driver needs nothing of the host");
	s = svc(&t, "s");
	ok(s && s->log_driver && !strcmp(s->log_driver, "local") && s->log_opts.n == 2,
	   "  driver and options read");
	t_free(&t);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		char *y = xasprintf("services:\n  s:\n    image: busybox\n%s", bad[i].yaml);

		t_one(&t, y);
		expect(&t, bad[i].want, "refused: %s", bad[i].want);
		ok(t.set.n == 1 && !t.set.v[0].valid, "  the project is invalid");
		t_free(&t);
		free(y);
	}
	t_allow_privileged = true;
	t_one(&t, "services:\n  s:\n    image: busybox\n    devices: [/dev/fuse, "
		  "'/dev/sda:/dev/xvda:r']\n    logging: {driver: syslog}\n");
	clean(&t, "with --allow-privileged: devices and any log driver");
	s = svc(&t, "s");
	ok(s && s->devices.n == 2 && !strcmp(s->devices.v[1], "/dev/sda:/dev/xvda:r"),
	   "  devices as written");
	t_free(&t);
	t_one(&t, "services:\n  s:\n    image: busybox\n    devices: ['/dev/sda:rwm', "
		  "'dev/x', '/dev/a:/dev/b:rwx']\n");
	expect(&t, "device '/dev/sda:rwm' must be /dev/HOST[:/dev/CONTAINER[:rwm]]",
	       "a malformed device is refused");
	expect(&t, "device 'dev/x' must be", "  a relative one");
	expect(&t, "device '/dev/a:/dev/b:rwx' must be", "  bad permissions");
	t_free(&t);
	t_allow_privileged = false;
}


static void test_update_policy(void)
{
	const struct service *s;
	struct t t;

	t_one(&t, "services:\n  s:\n    image: busybox\n    deploy:\n"
		  "      update_config: {parallelism: 2, delay: 1m30s, order: stop-first,"
		  " failure_action: pause}\n      rollback_config: {monitor: 10s}\n");
	clean(&t, "update_config and rollback_config are read on the engine backend too");
	s = svc(&t, "s");
	ok(s && s->update.set && s->update.parallelism == 2 && s->update.delay_ms == 90000 &&
	   !strcmp(s->update.order, "stop-first") &&
	   !strcmp(s->update.failure_action, "pause") && s->update.monitor_ms == -1,
	   "  the update policy, unset fields -1 or empty");
	ok(s && s->rollback.set && s->rollback.monitor_ms == 10000 &&
	   s->rollback.parallelism == -1, "  the rollback policy");
	t_free(&t);
	t_one(&t, "services:\n  s:\n    image: busybox\n    deploy:\n"
		  "      update_config: {order: sideways, max_failure_ratio: 0.5}\n"
		  "      rollback_config: {failure_action: rollback}\n");
	expect(&t, "services.s.deploy.update_config.order", "a bad order is refused");
	expect(&t, "update_config.max_failure_ratio: not supported by cara",
	       "  a field cara does not map, too");
	expect(&t, "a rollback's failure action is pause or continue",
	       "  a rollback cannot roll back");
	t_free(&t);
}


static void test_included_not_own(void)
{
	static const char *const files[] = {
		"app/compose.yaml", "include: [../db/compose.yaml]\nservices:\n  web: {image: busybox}\n",
		"db/compose.yaml", "services:\n  pg: {image: postgres}\n",
		"solo/compose.yaml", "services:\n  s: {image: busybox}\n",
		NULL };
	struct t t;

	t_load(&t, files);
	ok(t.set.n == 2 && !strcmp(t.set.v[0].name, "app") &&
	   !strcmp(t.set.v[1].name, "solo"),
	   "an included compose file is not a project of its own (got %zu)", t.set.n);
	ok(t.set.n && project_find_service(&t.set.v[0], "pg") != NULL,
	   "  its services are the includer's");
	expect(&t, "db/compose.yaml:1:1: warning: 'db/compose.yaml' is included by "
	       "another compose file", "  said once, as a warning");
	ok(t.d.nerrors == 0, "  no error");
	t_free(&t);
}

static void test_dockerignore(void)
{
	static const struct { const char *pats, *path; bool out; } cases[] = {
		{ "*.log", "a.log", true },
		{ "*.log", "sub/a.log", false },       /* * stays in one directory */
		{ "**/*.log", "sub/deep/a.log", true },
		{ "**/*.log", "a.log", true },         /* ** is also no directory */
		{ "cache", "cache/x/y", true },        /* a directory: all below it */
		{ "/cache/", "cache/x", true },        /* cleaned */
		{ "./cache", "cache", true },
		{ "cache", "sub/cache", false },
		{ "*\n!keep", "keep", false },          /* the last match decides */
		{ "!keep\n*", "keep", true },
		{ "docs\n!docs/README", "docs/README", false },
		{ "docs\n!docs/README", "docs/other", true },
		{ "# a comment\n\n   ", "# a comment", false },
		{ "a?c", "abc", true },
		{ "a?c", "a/c", false },
		{ "[ab]x", "bx", true },
		{ "src/**/test", "src/test", true },
		{ "src/**/test", "src/a/b/test/f", true },
		{ "../up", "up", false },               /* leaves: dropped */
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct strvec p = STRVEC_INIT;

		dockerignore_parse(cases[i].pats, strlen(cases[i].pats), &p);
		ok(dockerignore_excludes(&p, cases[i].path) == cases[i].out,
		   ".dockerignore case %zu: %s %s", i, cases[i].path,
		   cases[i].out ? "out" : "in");
		strvec_release(&p);
	}
}

int main(void)
{
	test_container_name();
	test_finding_paths();
	test_mapping();
	test_refusals();
	test_resources();
	test_secrets();
	test_host_fields();
	test_wild_fields();
	test_profiles();
	test_top_level();
	test_networks();
	test_yaml11();
	test_external_volumes();
	test_x_cara();
	test_names();
	test_interpolation();
	test_env_files();
	test_env_file_long();
	test_merge_keys();
	test_override();
	test_override_rules();
	test_override_errors();
	test_extends();
	test_include();
	test_include_file_volume();
	test_relative_bind_ro();
	test_compose_bombs();
	test_extends_many();
	test_huge_env_file();
	test_dir_source();
	test_dir_links();
	test_single_file();
	test_build();
	test_dockerignore();
	test_dockerfile_from();
	test_devices_logging();
	test_update_policy();
	test_included_not_own();
	error_clear();
	return tap_done();
}
