/*
 * input/manifest.h - reading manifests into the model (model.h): parsing and
 * validation.  Parsing and validation never stop at the first problem:
 * every finding goes to a struct diags.
 */
#ifndef CARA_MANIFEST_H
#define CARA_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#include "model.h"

/* Options for parsing: where values from outside the repository come from. */
struct manifest_options {
	/* ${VAR} lookup; NULL means getenv(). Returns a borrowed string or NULL. */
	const char *(*getenv)(const char *name, void *ctx);
	void *getenv_ctx;
	/* HostPath volumes must lie under one of these; none allowed if n == 0. */
	const char *const *hostpath_roots;
	size_t nhostpath_roots;
	const char *ingress_env;       /* e.g. "prod"; NULL: hosts without a dot stay as is */
	const char *base_domain;       /* e.g. "example.com" */
	size_t max_file_bytes;         /* 0: default 4 MiB; larger files are refused */
	/* ${VAR}: cara's own variables are always refused, and so is this one
	 * (--token-env); with n > 0 only names matching a pattern may be read. */
	const char *token_env;
	const char *const *interp_allow;   /* "NAME" or "PREFIX*" */
	size_t ninterp_allow;
	/* privileged, capabilities beyond Docker's default set and security
	 * options give a manifest root power over the host: refused unless
	 * the host allows them (--allow-privileged) */
	bool allow_privileged;
	/* compose profiles enabled on this host (--compose-profiles) */
	const char *const *compose_profiles;
	size_t ncompose_profiles;
	/* the backend spreads services over nodes (--backend swarm):
	 * replicas, mode Global and placement constraints mean something;
	 * false: they are refused rather than silently ignored */
	bool cluster;
};

/*
 * Parse one manifest file's contents.  `file` is the name used in
 * diagnostics.  Projects found are appended to `set` (invalid ones too, with
 * valid == false).  Returns 0 even when the file has errors (they are in
 * `d`); returns -1 only on a failure unrelated to the content.
 */
int manifest_parse_buffer(struct project_set *set, const char *file,
			  const char *data, size_t len,
			  const struct manifest_options *opts, struct diags *d);

/*
 * Read every *.yaml / *.yml below `dir` (recursively, sorted, symlinks that
 * leave the tree refused, hidden entries such as .git skipped) with
 * manifest_parse_buffer, then run manifest_validate_set.  File names in
 * diagnostics are relative to `dir`; `dir` may also be one file, shown as
 * given.  Returns -1 (error_last()) if `dir` cannot be read at all.
 */
int manifest_load_dir(struct project_set *set, const char *dir,
		      const struct manifest_options *opts, struct diags *d);

/*
 * The one dispatcher: every problem of a snapshot as a finding (an error
 * one makes the set incomplete), every file parsed, then the checks that
 * span files.  Both sources (git, directory) come through here.
 */
struct source_snapshot;
int manifest_load_snapshot(struct project_set *set,
			   const struct source_snapshot *snap,
			   const struct manifest_options *opts, struct diags *d);

/*
 * Checks that span files: duplicate project names, host ports bound twice
 * on one host IP.  Marks offending projects invalid.  Call once after every
 * file of a source has been parsed.
 */
void manifest_validate_set(struct project_set *set, struct diags *d);

/*
 * The rules the readers and the validator share (input/checks.c).  The
 * check functions return NULL when the value is acceptable,
 * else a short reason (static text) to put after the value in a message.
 */
const char *manifest_check_project_name(const char *s);
const char *manifest_check_object_name(const char *s);   /* service, volume, ingress */
const char *manifest_check_image(const char *ref);
const char *manifest_check_env_name(const char *s);
const char *manifest_check_hostname(const char *s);      /* ingress host */
/*
 * NULL when a manifest may read the variable `name` through ${...}, else
 * why not (static text, to follow the quoted name).  Refused whatever the
 * allowlist says: CARA_*, DOCKER_*, *_PROXY, SSH_AUTH_SOCK and the
 * --token-env variable, which hold cara's settings and credentials.
 */
const char *manifest_check_var_access(const char *name,
				      const struct manifest_options *opts);
/* NULL when a HostPath volume may use `path`, else a message the caller frees. */
char *manifest_check_host_path(const char *path,
			       const struct manifest_options *opts);
/* Case-insensitive edit distance, capped: returns at most cap + 1. */
size_t manifest_edit_distance(const char *a, const char *b, size_t cap);
/*
 * Checks within one project: duplicate names, references to undeclared
 * volumes and services, dependsOn cycles, conditions that cannot hold.
 * manifest_parse_buffer calls it at the end of each Project document.
 */
void manifest_validate_project(struct project *p, struct diags *d);

#endif
