/*
 * config.h - effective configuration: flags, then CARA_* environment
 * variables, then the config file (/etc/cara/cara.yaml or --config), then
 * defaults.  Every option is one row of a table in config.c, so a flag, its
 * variable and its file key can never disagree; each value remembers where
 * it came from for `cara config`.
 */
#ifndef CARA_CONFIG_H
#define CARA_CONFIG_H

#include <stdbool.h>

#include "util.h"

enum config_origin { ORIGIN_DEFAULT, ORIGIN_FILE, ORIGIN_ENV, ORIGIN_FLAG };

struct config {
	/* source */
	char *repo, *ref, *path;
	char *ssh_key, *ssh_passphrase_file, *known_hosts, *host_key_sha256;
	bool insecure_ignore_host_key;
	char *username, *token_file, *token_env;
	bool offline_ok;
	bool verify_signatures;
	char *allowed_signers, *gpg_keyring;
	/* host */
	char *state_dir, *docker_host, *secrets_dir, *node;
	char *node_labels;              /* --node-labels: KEY=VALUE,... */
	char *environment, *base_domain, *hostpath_roots; /* roots ':'-separated */
	char *interpolate_allow;        /* ','-separated names or PREFIX* */
	bool allow_privileged;          /* manifests may ask for root power */
	char *compose_profiles;         /* ','-separated */
	char *adopt;                    /* --adopt: ','-separated projects */
	bool allow_rewind;
	char *registry_auth_file;       /* pulls' credentials, Docker CLI format */
	long docker_timeout_s;
	char *backend;                  /* "engine" or "swarm" (backend.h) */
	char *swarm_endpoint_mode;      /* a service's default: vip or dnsrr */
	char *swarm_shared_volume_drivers; /* ','-separated: volumes not pinned */
	/* behaviour */
	bool dry_run, allow_mass_prune, purge_volumes, prune;
	long mass_prune_percent;
	long wait_lock_s;
	long parallel;
	long health_timeout_s;
	char *image_check;         /* --image-check: never, always or a duration */
	/* ingress: the reverse proxy (proxy.h) */
	char *ingress;             /* "caddy" | "none" */
	char *ingress_image;
	char *ingress_internal_address, *ingress_public_address;
	long ingress_http_port, ingress_https_port;
	char *ingress_tls;         /* auto | internal | off | DIR */
	int64_t image_check_s;     /* parsed: -1 never, 0 every pass, else seconds */
	/* output */
	char *output;              /* "text" | "json" */
	char *log_format;          /* "text" | "json" */
	char *metrics_file, *notify_url;
	bool no_color, verbose, help;
	char *config_file;

	/* bookkeeping */
	enum config_origin origin[64];
	struct strvec args;        /* positional arguments after options */
};

/*
 * Parse argv (after the command name) and the environment and the file.
 * Returns 0, or -1 with error_last() (unknown flag, bad number, unreadable
 * config file with line and key).
 */
/* Option groups: each command takes the flags of its groups only. */
enum {
	OPTS_COMMON = 1 << 0,     /* config, output, log format, help */
	OPTS_SOURCE = 1 << 1,     /* where the manifests come from */
	OPTS_MANIFEST = 1 << 2,   /* what they may read: secrets, roots, variables */
	OPTS_ENGINE = 1 << 3,
	OPTS_PASS = 1 << 4,       /* what a pass does and reports */
	OPTS_STATE = 1 << 5,
	OPTS_ALL = (1 << 6) - 1,
};

/*
 * Defaults, then flags (only those of `groups`: another is refused,
 * naming `command`), CARA_* variables and the file (any setting: they are
 * shared by every command).
 */
int config_load(struct config *cfg, int argc, char **argv, unsigned groups,
		const char *command);
void config_release(struct config *cfg);
/* Print every option: key, value (secrets masked), origin. */
void config_print(const struct config *cfg, bool json, struct buf *out);
/* Usage text for flags (for --help). */
void config_usage(struct buf *out, unsigned groups);
/*
 * The flags of `groups` for completion, one a line in table order: "--FLAG"
 * for a boolean, "--FLAG=" for one that takes a value, and "--no-FLAG" after
 * a boolean whose default is true.  (`cara help --flags CMD`)
 */
void config_flags(struct buf *out, unsigned groups);
/* Split hostpath_roots into a vector. */
void config_hostpath_roots(const struct config *cfg, struct strvec *out);
/* Split interpolate_allow into a vector (empty: no allowlist). */
void config_interpolate_allow(const struct config *cfg, struct strvec *out);
void config_compose_profiles(const struct config *cfg, struct strvec *out);
/* --swarm-shared-volume-drivers as a list. */
void config_swarm_shared_drivers(const struct config *cfg, struct strvec *out);
/* Split adopt (--adopt P[,P...]) into a vector. */
void config_adopt(const struct config *cfg, struct strvec *out);

/* --image-check's value: "never" -1, "always" 0, a duration in seconds. */
int config_parse_image_check(const char *s, int64_t *out_s);

#endif
