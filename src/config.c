/*
 * config.c - flags > CARA_* environment > config file > defaults.
 *
 * One table row per option gives its flag, environment variable, file key,
 * type and place in struct config; parsing flags, the environment and the
 * file all walk the same table, and so do `cara config`, --help and the
 * flag lists for completion (`cara help --flags CMD`).  Values marked
 * secret are never printed.  (Credentials themselves are never options:
 * only the files or variable names that hold them.)
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>


#include <arpa/inet.h>

#include "config.h"
#include "ingress.h"
#include "input/yaml.h"
#include "placement.h"
#include "util.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

enum opt_type { OPT_STR, OPT_BOOL, OPT_LONG };

/* What of a URL value `cara config` hides: credentials in it, or also
 * everything after the host (webhook URLs carry their token in the path). */
enum { MASK_NONE, MASK_USERINFO, MASK_PATH };

struct opt {
	const char *flag;          /* without "--" */
	const char *env;           /* NULL: no variable */
	const char *key;           /* file key; NULL: flag only */
	enum opt_type type;
	size_t off;
	const char *def;           /* default as text; NULL: unset */
	long min, max;             /* OPT_LONG range */
	int mask;                  /* `cara config`: MASK_USERINFO or MASK_PATH */
	const char *help;
	unsigned group;            /* OPTS_*: the commands that take the flag */
};

int config_parse_image_check(const char *s, int64_t *out_s)
{
	int64_t ms;

	if (!s || !strcmp(s, "never")) {
		*out_s = -1;
		return 0;
	}
	if (!strcmp(s, "always")) {
		*out_s = 0;
		return 0;
	}
	if (parse_duration_ms(s, &ms) < 0 || ms < 1000)
		return error_set("--image-check: '%.64s' is not never, always or a "
				 "duration of at least 1s (e.g. 30m)", s);
	*out_s = ms / 1000;
	return 0;
}

/* The ingress settings a proxy can be run with: addresses are IP
 * literals (they go into Caddy's listen addresses and the bind), the TLS
 * choice one of the four, the HTTP and HTTPS ports distinct. */
static int config_check_ingress(const struct config *cfg)
{
	unsigned char raw[16];
	enum ingress_tls tls;

	if (inet_pton(AF_INET, cfg->ingress_internal_address, raw) != 1 &&
	    inet_pton(AF_INET6, cfg->ingress_internal_address, raw) != 1)
		return error_set("--ingress-internal-address: '%.64s' is not an IP "
				 "address", cfg->ingress_internal_address);
	/* none: no Public rule is served here */
	if (cfg->ingress_public_address && *cfg->ingress_public_address &&
	    inet_pton(AF_INET, cfg->ingress_public_address, raw) != 1 &&
	    inet_pton(AF_INET6, cfg->ingress_public_address, raw) != 1)
		return error_set("--ingress-public-address: '%.64s' is not an IP "
				 "address", cfg->ingress_public_address);
	if (cfg->ingress_http_port == cfg->ingress_https_port)
		return error_set("--ingress-http-port and --ingress-https-port are "
				 "both %ld", cfg->ingress_http_port);
	if (ingress_tls_parse(cfg->ingress_tls, &tls) < 0)
		return -1;
	if (tls == INGRESS_TLS_DIR && strchr(cfg->ingress_tls, ':'))
		return error_set("--ingress-tls: '%.64s': a directory with ':' cannot "
				 "be mounted", cfg->ingress_tls);
	return 0;
}

#define S(f) OPT_STR, offsetof(struct config, f)
#define B(f) OPT_BOOL, offsetof(struct config, f)
#define L(f) OPT_LONG, offsetof(struct config, f)

static const struct opt opts[] = {
	{ "config", "CARA_CONFIG", NULL, S(config_file), SYSCONFDIR "/cara/cara.yaml", 0, 0, MASK_NONE,
	  "configuration file", OPTS_COMMON },
	{ "repo", "CARA_REPO", "repo", S(repo), NULL, 0, 0, MASK_USERINFO,
	  "manifest repository URL (https, ssh, file:// or a local path)", OPTS_SOURCE },
	{ "ref", "CARA_REF", "ref", S(ref), NULL, 0, 0, MASK_NONE,
	  "branch, tag or commit id (default: the remote's default branch)", OPTS_SOURCE },
	{ "path", "CARA_PATH", "path", S(path), NULL, 0, 0, MASK_NONE,
	  "directory inside the repository, or a local manifest directory", OPTS_SOURCE },
	{ "ssh-key", "CARA_SSH_KEY", "sshKey", S(ssh_key), NULL, 0, 0, MASK_NONE,
	  "SSH private key file", OPTS_SOURCE },
	{ "ssh-passphrase-file", "CARA_SSH_PASSPHRASE_FILE", "sshPassphraseFile",
	  S(ssh_passphrase_file), NULL, 0, 0, MASK_NONE, "file holding the key's passphrase", OPTS_SOURCE },
	{ "known-hosts", "CARA_KNOWN_HOSTS", "knownHosts", S(known_hosts), NULL, 0, 0, MASK_NONE,
	  "known_hosts file for SSH host key checking", OPTS_SOURCE },
	{ "host-key-sha256", "CARA_HOST_KEY_SHA256", "hostKeySha256", S(host_key_sha256),
	  NULL, 0, 0, MASK_NONE, "pin the SSH host key (base64 SHA256 fingerprint)", OPTS_SOURCE },
	{ "insecure-ignore-host-key", "CARA_INSECURE_IGNORE_HOST_KEY",
	  "insecureIgnoreHostKey", B(insecure_ignore_host_key), "false", 0, 0, MASK_NONE,
	  "do not check SSH host keys", OPTS_SOURCE },
	{ "username", "CARA_USERNAME", "username", S(username), NULL, 0, 0, MASK_NONE,
	  "https user name", OPTS_SOURCE },
	{ "token-file", "CARA_TOKEN_FILE", "tokenFile", S(token_file), NULL, 0, 0, MASK_NONE,
	  "file holding an https token or password", OPTS_SOURCE },
	{ "token-env", "CARA_TOKEN_ENV", "tokenEnv", S(token_env), NULL, 0, 0, MASK_NONE,
	  "environment variable holding an https token", OPTS_SOURCE },
	{ "offline-ok", "CARA_OFFLINE_OK", "offlineOk", B(offline_ok), "false", 0, 0, MASK_NONE,
	  "when the remote is unreachable, use the last fetched commit", OPTS_SOURCE },
	{ "verify-signatures", "CARA_VERIFY_SIGNATURES", "verifySignatures",
	  B(verify_signatures), "false", 0, 0, MASK_NONE,
	  "refuse a commit not signed by an allowed SSH or GPG key", OPTS_SOURCE },
	{ "allowed-signers", "CARA_ALLOWED_SIGNERS", "allowedSigners", S(allowed_signers),
	  NULL, 0, 0, MASK_NONE, "SSH allowed_signers file (as gpg.ssh.allowedSignersFile)", OPTS_SOURCE },
	{ "allow-rewind", "CARA_ALLOW_REWIND", NULL, B(allow_rewind), "false", 0, 0,
	  MASK_NONE, "with --verify-signatures, accept a commit that does not "
	  "descend from the last applied one", OPTS_SOURCE },
	{ "gpg-keyring", "CARA_GPG_KEYRING", "gpgKeyring", S(gpg_keyring), NULL, 0, 0, MASK_NONE,
	  "keyring of trusted GPG public keys (for gpgv)", OPTS_SOURCE },
	{ "state-dir", "CARA_STATE_DIR", "stateDir", S(state_dir), LOCALSTATEDIR "/lib/cara",
	  0, 0, MASK_NONE, "state directory (state.db, repository cache, lock)", OPTS_STATE },
	{ "docker-host", "DOCKER_HOST", "dockerHost", S(docker_host),
	  "unix:///var/run/docker.sock", 0, 0, MASK_NONE, "Docker Engine address", OPTS_ENGINE },
	{ "docker-timeout", "CARA_DOCKER_TIMEOUT", "dockerTimeout", L(docker_timeout_s), "30",
	  1, 3600, MASK_NONE, "seconds to wait for one Engine request", OPTS_ENGINE },
	{ "backend", "CARA_BACKEND", "backend", S(backend), "engine", 0, 0, MASK_NONE,
	  "what the Docker host is: engine (containers on one host) or swarm "
	  "(a Swarm manager: services over its nodes)", OPTS_ENGINE },
	{ "swarm-endpoint-mode", "CARA_SWARM_ENDPOINT_MODE", "swarmEndpointMode",
	  S(swarm_endpoint_mode), "vip", 0, 0, MASK_NONE,
	  "with --backend swarm, a service's endpoint mode unless it sets "
	  "endpointMode: vip or dnsrr", OPTS_ENGINE },
	{ "swarm-shared-volume-drivers", "CARA_SWARM_SHARED_VOLUME_DRIVERS",
	  "swarmSharedVolumeDrivers", S(swarm_shared_volume_drivers), NULL, 0, 0,
	  MASK_NONE, "with --backend swarm, the volume drivers whose data every "
	  "node sees (DRIVER,...): a Managed volume of one is not pinned to a node",
	  OPTS_ENGINE },
	{ "registry-auth-file", "CARA_REGISTRY_AUTH_FILE", "registryAuthFile",
	  S(registry_auth_file), NULL, 0, 0, MASK_NONE,
	  "registry credentials for pulls, in config.json format (default: "
	  "the Docker CLI's config.json)", OPTS_ENGINE },
	{ "secrets-dir", "CARA_SECRETS_DIR", "secretsDir", S(secrets_dir),
	  SYSCONFDIR "/cara/secrets", 0, 0, MASK_NONE,
	  "directory of secrets: {dir}/{name}/{key}", OPTS_MANIFEST },
	{ "node", "CARA_NODE", "node", S(node), NULL, 0, 0, MASK_NONE,
	  "this host's node name: placement.node matches it, and each pass "
	  "records it (default: host name)", OPTS_PASS },
	{ "node-labels", "CARA_NODE_LABELS", "nodeLabels", S(node_labels), NULL, 0, 0,
	  MASK_NONE, "this host's labels for placement.nodeSelector (KEY=VALUE,...)",
	  OPTS_PASS },
	{ "environment", "CARA_ENVIRONMENT", "environment", S(environment), NULL, 0, 0, MASK_NONE,
	  "ingress environment: host -> host.ENV.BASE_DOMAIN", OPTS_MANIFEST },
	{ "base-domain", "CARA_BASE_DOMAIN", "baseDomain", S(base_domain), NULL, 0, 0, MASK_NONE,
	  "ingress base domain", OPTS_MANIFEST },
	{ "hostpath-roots", "CARA_HOSTPATH_ROOTS", "hostPathRoots", S(hostpath_roots), NULL,
	  0, 0, MASK_NONE, "':'-separated directories HostPath volumes may use", OPTS_MANIFEST },
	{ "interpolate-allow", "CARA_INTERPOLATE_ALLOW", "interpolateAllow",
	  S(interpolate_allow), NULL, 0, 0, MASK_NONE,
	  "','-separated variables (or PREFIX*) manifests may read; default: all but cara's own", OPTS_MANIFEST },
	{ "allow-privileged", "CARA_ALLOW_PRIVILEGED", "allowPrivileged", B(allow_privileged),
	  "false", 0, 0, MASK_NONE, "let manifests ask for privileged containers, "
	  "capabilities beyond Docker's default set and security options", OPTS_MANIFEST },
	{ "compose-profiles", "CARA_COMPOSE_PROFILES", "composeProfiles", S(compose_profiles),
	  NULL, 0, 0, MASK_NONE, "','-separated compose profiles enabled on this host",
	  OPTS_MANIFEST },
	{ "dry-run", "CARA_DRY_RUN", NULL, B(dry_run), "false", 0, 0, MASK_NONE,
	  "print the plan, change nothing", OPTS_PASS },
	{ "prune", "CARA_PRUNE", "prune", B(prune), "true", 0, 0, MASK_NONE,
	  "tear down projects removed from the source", OPTS_PASS },
	{ "allow-mass-prune", "CARA_ALLOW_MASS_PRUNE", NULL, B(allow_mass_prune), "false",
	  0, 0, MASK_NONE, "allow a pass to remove more than --mass-prune-percent", OPTS_PASS },
	{ "mass-prune-percent", "CARA_MASS_PRUNE_PERCENT", "massPrunePercent",
	  L(mass_prune_percent), "50", 0, 100, MASK_NONE,
	  "largest share of managed projects one pass may prune", OPTS_PASS },
	{ "adopt", NULL, NULL, S(adopt), NULL, 0, 0, MASK_NONE,
	  "take over these projects' objects from another state (','-separated)", OPTS_PASS },
	{ "purge-volumes", "CARA_PURGE_VOLUMES", NULL, B(purge_volumes), "false", 0, 0, MASK_NONE,
	  "teardown also removes Managed volumes", OPTS_PASS },
	{ "wait-lock", "CARA_WAIT_LOCK", "waitLock", L(wait_lock_s), "0", 0, 86400, MASK_NONE,
	  "seconds to wait for another pass's lock (0: exit 3 at once)", OPTS_STATE },
	{ "parallel", "CARA_PARALLEL", "parallel", L(parallel), "4", 1, 64, MASK_NONE,
	  "projects working the Engine at once (waiting ones do not count)", OPTS_PASS },
	{ "health-timeout", "CARA_HEALTH_TIMEOUT", "healthTimeout", L(health_timeout_s), "300",
	  1, 86400, MASK_NONE, "longest wait for a Healthy or Completed dependency", OPTS_PASS },
	{ "image-check", "CARA_IMAGE_CHECK", "imageCheck", S(image_check), "never",
	  0, 0, MASK_NONE, "ask registries whether tags moved: never, always, or at "
	  "most every DURATION (e.g. 30m) a tag", OPTS_PASS },
	{ "ingress", "CARA_INGRESS", "ingress", S(ingress), "caddy", 0, 0, MASK_NONE,
	  "reverse proxy for the ingress rules: caddy (run once any rule "
	  "exists) or none", OPTS_PASS },
	{ "ingress-image", "CARA_INGRESS_IMAGE", "ingressImage", S(ingress_image),
	  "caddy:2", 0, 0, MASK_NONE, "image of the ingress proxy", OPTS_PASS },
	{ "ingress-internal-address", "CARA_INGRESS_INTERNAL_ADDRESS",
	  "ingressInternalAddress", S(ingress_internal_address), "127.0.0.1", 0, 0,
	  MASK_NONE, "IP address Internal ingress rules listen on", OPTS_PASS },
	{ "ingress-public-address", "CARA_INGRESS_PUBLIC_ADDRESS",
	  "ingressPublicAddress", S(ingress_public_address), NULL, 0, 0,
	  MASK_NONE, "IP address Public ingress rules listen on (none: this "
	  "host serves no Public rule)", OPTS_PASS },
	{ "ingress-http-port", "CARA_INGRESS_HTTP_PORT", "ingressHttpPort",
	  L(ingress_http_port), "80", 1, 65535, MASK_NONE,
	  "port of the ingress proxy's HTTP listeners", OPTS_PASS },
	{ "ingress-https-port", "CARA_INGRESS_HTTPS_PORT", "ingressHttpsPort",
	  L(ingress_https_port), "443", 1, 65535, MASK_NONE,
	  "port of the ingress proxy's HTTPS listeners", OPTS_PASS },
	{ "ingress-tls", "CARA_INGRESS_TLS", "ingressTls", S(ingress_tls), "auto", 0, 0,
	  MASK_NONE, "ingress TLS: auto (ACME), internal (Caddy's own CA), off, "
	  "or a directory of HOST.crt and HOST.key files", OPTS_PASS },
	{ "output", "CARA_OUTPUT", NULL, S(output), "text", 0, 0, MASK_NONE, "text or json", OPTS_COMMON },
	{ "log-format", "CARA_LOG_FORMAT", "logFormat", S(log_format), "text", 0, 0, MASK_NONE,
	  "text or json log lines on stderr", OPTS_COMMON },
	{ "metrics-file", "CARA_METRICS_FILE", "metricsFile", S(metrics_file), NULL, 0, 0, MASK_NONE,
	  "write Prometheus text metrics here (atomically)", OPTS_PASS },
	{ "notify-url", "CARA_NOTIFY_URL", "notifyUrl", S(notify_url), NULL, 0, 0, MASK_PATH,
	  "POST a JSON summary here when a pass changes something or fails", OPTS_PASS },
	{ "no-color", "NO_COLOR", NULL, B(no_color), "false", 0, 0, MASK_NONE, "no colour", OPTS_COMMON },
	{ "verbose", "CARA_VERBOSE", NULL, B(verbose), "false", 0, 0, MASK_NONE, "more log lines", OPTS_COMMON },
	{ "help", NULL, NULL, B(help), "false", 0, 0, MASK_NONE, "this help", OPTS_COMMON },
};

_Static_assert(ARRAY_SIZE(opts) <= ARRAY_SIZE(((struct config *)0)->origin),
	       "struct config.origin too small");

static const char *origin_name[] = { "default", "file", "env", "flag" };

static int opt_set(struct config *cfg, const struct opt *o, const char *val,
		   enum config_origin origin, const char *where)
{
	char *base = (char *)cfg;
	size_t idx = (size_t)(o - opts);

	switch (o->type) {
	case OPT_STR: {
		char **p = (char **)(base + o->off);
		free(*p);
		*p = xstrdup(val);
		break;
	}
	case OPT_BOOL: {
		bool *p = (bool *)(base + o->off);
		if (!strcmp(val, "true") || !strcmp(val, "1") || !strcmp(val, "yes") ||
		    (origin == ORIGIN_ENV && !strcmp(o->flag, "no-color") && *val))
			*p = true;
		else if (!strcmp(val, "false") || !strcmp(val, "0") || !strcmp(val, "no") ||
			 !*val)
			*p = false;
		else
			return error_set("%s: '%s' is not a boolean (true or false)",
					 where, val);
		break;
	}
	case OPT_LONG: {
		long *p = (long *)(base + o->off);
		long long v;
		if (parse_ll(val, o->min, o->max, &v) < 0)
			return error_set("%s: '%s' is not a number from %ld to %ld",
					 where, val, o->min, o->max);
		*p = (long)v;
		break;
	}
	}
	cfg->origin[idx] = origin;
	return 0;
}

/*
 * Does a command taking `groups` take option o?  The one rule behind what
 * config_load accepts, what --help shows and what completion offers.
 */
static bool opt_taken(const struct opt *o, unsigned groups)
{
	return (o->group & groups) != 0;
}

static const struct opt *opt_by_flag(const char *flag, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(opts); i++)
		if (strlen(opts[i].flag) == len && !strncmp(opts[i].flag, flag, len))
			return &opts[i];
	return NULL;
}

/* A flat mapping of keys to scalars; every problem names file:line. */
#define MAX_CONFIG_BYTES ((size_t)1 << 20)

struct file_ctx {
	struct config *cfg;
	const char *file;
	bool seen[ARRAY_SIZE(opts)];
	bool failed;              /* the first problem is the one reported */
};

static void file_fail(struct file_ctx *c, struct pos pos, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
static void file_fail(struct file_ctx *c, struct pos pos, const char *fmt, ...)
{
	struct buf m = BUF_INIT;
	va_list ap;

	if (c->failed)
		return;
	c->failed = true;
	va_start(ap, fmt);
	buf_vprintf(&m, fmt, ap);
	va_end(ap);
	error_set("%s:%d:%d: %s", c->file, pos.line, pos.col, buf_cstr(&m));
	buf_release(&m);
}

static void file_text_error(void *ctx, int line, int col, const char *message)
{
	struct pos pos = { line, col };

	file_fail(ctx, pos, "%s", message);
}

/* One document: a mapping of settings to scalars. */
static void file_document(void *ctx, const struct ynode *root)
{
	struct file_ctx *c = ctx;
	size_t k, i;

	if (c->failed || ynode_is_null(root))
		return;
	if (root->type != Y_MAP) {
		file_fail(c, root->pos, "expected a mapping of settings");
		return;
	}
	for (k = 0; k + 1 < root->n && !c->failed; k += 2) {
		const struct ynode *key = root->kid[k], *val = root->kid[k + 1];
		char *where;

		if (key->type != Y_SCALAR) {
			file_fail(c, key->pos, "expected a mapping of settings");
			return;
		}
		if (val->type != Y_SCALAR) {
			file_fail(c, val->pos, "%s: expected a scalar value", key->str);
			return;
		}
		for (i = 0; i < ARRAY_SIZE(opts); i++)
			if (opts[i].key && !strcmp(opts[i].key, key->str))
				break;
		if (i == ARRAY_SIZE(opts)) {
			file_fail(c, val->pos, "%s: unknown setting", key->str);
			return;
		}
		if (c->seen[i]) {
			file_fail(c, val->pos, "%s: set twice in one file", key->str);
			return;
		}
		c->seen[i] = true;
		/* flags and environment win over the file */
		if (c->cfg->origin[i] > ORIGIN_FILE)
			continue;
		where = xasprintf("%s:%d: %s", c->file, val->pos.line, key->str);
		if (opt_set(c->cfg, &opts[i], val->str, ORIGIN_FILE, where) < 0)
			c->failed = true;   /* opt_set said why */
		free(where);
	}
}

/* The config file, read as YAML by input/yaml.c, with its caps. */
static int load_file(struct config *cfg, const char *file, bool must_exist)
{
	struct file_ctx c = { .cfg = cfg, .file = file };
	struct yaml_reader r = {
		.document = file_document, .error = file_text_error, .ctx = &c,
	};
	struct buf text = BUF_INIT;

	if (read_regular_file(file, MAX_CONFIG_BYTES, &text) < 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return error_set("cannot open config file '%s': %s", file,
				 errno == EFBIG ? "larger than 1 MiB" :
				 errno == EINVAL ? "not a regular file" : strerror(errno));
	}
	yaml_read(&r, text.ptr ? text.ptr : "", text.len);
	buf_release(&text);
	return c.failed ? -1 : 0;
}

int config_load(struct config *cfg, int argc, char **argv, unsigned groups,
		const char *command)
{
	size_t i;
	int a;
	bool options_done = false, neg;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < ARRAY_SIZE(opts); i++)
		if (opts[i].def && opt_set(cfg, &opts[i], opts[i].def, ORIGIN_DEFAULT,
					   "default") < 0)
			return -1;
	/* flags first: they decide the config file and win over the rest */
	for (a = 1; a < argc; a++) {
		const char *arg = argv[a], *eq, *val;
		const struct opt *o;

		if (options_done || arg[0] != '-' || !strcmp(arg, "-")) {
			strvec_push(&cfg->args, arg);
			continue;
		}
		if (!strcmp(arg, "--")) {
			options_done = true;
			continue;
		}
		if (!strcmp(arg, "-h")) {
			cfg->help = true;
			continue;
		}
		if (arg[1] != '-')
			return error_set("unknown option '%s'", arg);
		arg += 2;
		eq = strchr(arg, '=');
		o = opt_by_flag(arg, eq ? (size_t)(eq - arg) : strlen(arg));
		neg = false;
		if (!o && !eq && !strncmp(arg, "no-", 3)) {
			/* --no-BOOL; --no-VALUE is no option at all */
			const struct opt *b = opt_by_flag(arg + 3, strlen(arg + 3));

			if (b && b->type == OPT_BOOL) {
				o = b;
				neg = true;
			}
		}
		if (!o)
			return error_set("unknown option '%s'", argv[a]);
		if (!opt_taken(o, groups))
			return error_set("option '%s' is not one of cara %s's (see "
					 "cara %s --help)", argv[a], command, command);
		if (neg) {
			if (opt_set(cfg, o, "false", ORIGIN_FLAG, argv[a]) < 0)
				return -1;
			continue;
		}
		if (eq) {
			val = eq + 1;
		} else if (o->type == OPT_BOOL) {
			val = "true";
		} else {
			if (a + 1 >= argc)
				return error_set("option '--%s' needs a value", o->flag);
			val = argv[++a];
		}
		if (opt_set(cfg, o, val, ORIGIN_FLAG, argv[a]) < 0)
			return -1;
	}
	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		const char *v;

		if (!opts[i].env || cfg->origin[i] == ORIGIN_FLAG)
			continue;
		v = getenv(opts[i].env);
		if (!v || (!*v && opts[i].type != OPT_BOOL))
			continue;
		if (opt_set(cfg, &opts[i], v, ORIGIN_ENV, opts[i].env) < 0)
			return -1;
	}
	if (load_file(cfg, cfg->config_file, cfg->origin[0] != ORIGIN_DEFAULT) < 0)
		return -1;
	if (strcmp(cfg->output, "text") && strcmp(cfg->output, "json"))
		return error_set("--output: '%s' is not 'text' or 'json'", cfg->output);
	if (config_parse_image_check(cfg->image_check, &cfg->image_check_s) < 0)
		return -1;
	if (strcmp(cfg->backend, "engine") && strcmp(cfg->backend, "swarm"))
		return error_set("--backend: '%.64s' is not 'engine' or 'swarm'",
				 cfg->backend);
	if (strcmp(cfg->swarm_endpoint_mode, "vip") &&
	    strcmp(cfg->swarm_endpoint_mode, "dnsrr"))
		return error_set("--swarm-endpoint-mode: '%.64s' is not 'vip' or "
				 "'dnsrr'", cfg->swarm_endpoint_mode);
	if (strcmp(cfg->ingress, "caddy") && strcmp(cfg->ingress, "none"))
		return error_set("--ingress: '%.64s' is not 'caddy' or 'none'", cfg->ingress);
	if (config_check_ingress(cfg) < 0)
		return -1;
	if (strcmp(cfg->log_format, "text") && strcmp(cfg->log_format, "json"))
		return error_set("--log-format: '%s' is not 'text' or 'json'",
				 cfg->log_format);
	if (cfg->notify_url && strncasecmp(cfg->notify_url, "http://", 7) &&
	    strncasecmp(cfg->notify_url, "https://", 8))
		return error_set("--notify-url: only http:// and https:// URLs are "
				 "allowed");
	if (cfg->interpolate_allow) {
		struct strvec v = { 0 };
		const char *why = NULL;

		config_interpolate_allow(cfg, &v);
		for (i = 0; i < v.n && !why; i++)
			if ((why = env_pattern_check(v.v[i])))
				error_set("--interpolate-allow: '%s' %s", v.v[i], why);
		strvec_release(&v);
		if (why)
			return -1;
	}
	if (cfg->verify_signatures && !cfg->allowed_signers && !cfg->gpg_keyring)
		return error_set("--verify-signatures needs the keys to trust: "
				 "--allowed-signers FILE (SSH signatures), "
				 "--gpg-keyring FILE (GPG signatures), or both");
	if (cfg->node_labels) {
		struct kvlist l = { 0 };
		const struct opt *o = opt_by_flag("node-labels", strlen("node-labels"));
		int r = placement_parse_labels(&l, cfg->node_labels);

		kvlist_release(&l);
		if (r < 0 && o && cfg->origin[o - opts] != ORIGIN_FLAG) {
			/* say where the list came from: the variable or the file */
			char *why = xstrdup(error_last() + strlen("--node-labels: "));

			if (cfg->origin[o - opts] == ORIGIN_ENV)
				error_set("%s: %s", o->env, why);
			else
				error_set("%s: %s: %s", cfg->config_file, o->key, why);
			free(why);
		}
		if (r < 0)
			return -1;
	}
	if (!cfg->node) {
		char host[256];
		if (gethostname(host, sizeof(host)) == 0) {
			host[sizeof(host) - 1] = '\0';
			cfg->node = xstrdup(host);
		} else {
			cfg->node = xstrdup("unknown");
		}
	}
	return 0;
}

void config_release(struct config *cfg)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(opts); i++)
		if (opts[i].type == OPT_STR)
			free(*(char **)((char *)cfg + opts[i].off));
	strvec_release(&cfg->args);
	memset(cfg, 0, sizeof(*cfg));
}

static void value_text(const struct config *cfg, const struct opt *o,
		       struct buf *out)
{
	const char *base = (const char *)cfg;

	switch (o->type) {
	case OPT_STR: {
		const char *s = *(char *const *)(base + o->off);
		if (!s)
			break;
		if (o->mask != MASK_NONE) {
			const char *sl = strstr(s, "://");
			const char *host = sl ? sl + 3 : s;
			const char *end = host + strcspn(host, "/");
			const char *at = memchr(host, '@', (size_t)(end - host));

			/* scheme, credentials masked, host, then path or a mask */
			buf_add(out, s, (size_t)(host - s));
			if (at) {
				buf_puts(out, "***@");
				host = at + 1;
			}
			buf_add(out, host, (size_t)(end - host));
			if (*end)
				buf_puts(out, o->mask == MASK_PATH ? "/***" : end);
		} else {
			buf_puts(out, s);
		}
		break;
	}
	case OPT_BOOL:
		buf_puts(out, *(const bool *)(base + o->off) ? "true" : "false");
		break;
	case OPT_LONG:
		buf_printf(out, "%ld", *(const long *)(base + o->off));
		break;
	}
}

void config_print(const struct config *cfg, bool json, struct buf *out)
{
	struct buf v = BUF_INIT;
	size_t i;
	bool first = true;

	if (json)
		buf_puts(out, "[");
	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		const struct opt *o = &opts[i];
		if (!strcmp(o->flag, "help"))
			continue;
		buf_reset(&v);
		value_text(cfg, o, &v);
		if (json) {
			buf_puts(out, first ? "\n  {\"key\": " : ",\n  {\"key\": ");
			buf_json_str(out, o->flag);
			buf_puts(out, ", \"value\": ");
			if (o->type == OPT_STR && !*(char *const *)((const char *)cfg + o->off))
				buf_puts(out, "null");
			else
				buf_json_str(out, buf_cstr(&v));
			buf_puts(out, ", \"origin\": ");
			buf_json_str(out, origin_name[cfg->origin[i]]);
			buf_puts(out, "}");
		} else {
			buf_printf(out, "%-26s %-40s %s\n", o->flag,
				   v.len ? buf_cstr(&v) : "-", origin_name[cfg->origin[i]]);
		}
		first = false;
	}
	if (json)
		buf_puts(out, "\n]\n");
	buf_release(&v);
}

void config_usage(struct buf *out, unsigned groups)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		const struct opt *o = &opts[i];
		char *f;

		if (!opt_taken(o, groups))
			continue;
		f = xasprintf("--%s%s", o->flag,
				    o->type == OPT_BOOL ? "" :
				    o->type == OPT_LONG ? " N" : " VALUE");
		buf_printf(out, "  %-30s %s", f, o->help);
		if (o->env && o->type != OPT_BOOL && strcmp(o->flag, "help"))
			buf_printf(out, " [%s]", o->env);
		buf_putc(out, '\n');
		free(f);
	}
}

void config_flags(struct buf *out, unsigned groups)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		const struct opt *o = &opts[i];

		if (!opt_taken(o, groups))
			continue;
		buf_printf(out, "--%s%s\n", o->flag, o->type == OPT_BOOL ? "" : "=");
		/* --no-BOOL (config_load) changes something only where the
		 * default is true */
		if (o->type == OPT_BOOL && o->def && !strcmp(o->def, "true"))
			buf_printf(out, "--no-%s\n", o->flag);
	}
}

/* Split s at any of seps; empty items are dropped. */
static void split_list(const char *s, const char *seps, struct strvec *out)
{
	size_t n;

	while (s && *s) {
		n = strcspn(s, seps);
		if (n)
			strvec_push_nodup(out, xstrndup(s, n));
		s += n;
		if (*s)
			s++;
	}
}

void config_hostpath_roots(const struct config *cfg, struct strvec *out)
{
	split_list(cfg->hostpath_roots, ":", out);
}

void config_interpolate_allow(const struct config *cfg, struct strvec *out)
{
	split_list(cfg->interpolate_allow, ", \t", out);
}

void config_compose_profiles(const struct config *cfg, struct strvec *out)
{
	split_list(cfg->compose_profiles, ", \t", out);
}

void config_swarm_shared_drivers(const struct config *cfg, struct strvec *out)
{
	split_list(cfg->swarm_shared_volume_drivers, ", \t", out);
}

void config_adopt(const struct config *cfg, struct strvec *out)
{
	split_list(cfg->adopt, ", \t", out);
}
