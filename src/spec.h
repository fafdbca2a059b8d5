/*
 * spec.h - the effective spec of a service and its hash.
 *
 * A container is recreated exactly when the hash of its effective spec
 * differs from its cara.spec-hash label.  Besides the overall hash, every
 * field group gets a short hash in the cara.spec-fields label
 * ("image=1a2b3c4d,env=...") so a plan can say *what* changed without
 * storing the spec itself (and without ever storing secret values: only
 * their hashes enter the labels).
 *
 * Field groups: image, command, entrypoint, workingDir, user, env, mounts,
 * ports, healthcheck, restart, stopGracePeriod, labels, resources, network,
 * then the optional ones, set only when used (..., files: the content of
 * the source files a service mounts; replicas, placement, endpointMode:
 * a cluster's, backend/swarm/).
 */
#ifndef CARA_SPEC_H
#define CARA_SPEC_H

#include "model.h"
#include "util.h"

/*
 * Read secret `name`/`key` from the secrets directory: the file
 * {secrets_dir}/{name}/{key}, one trailing newline stripped.  0 ok, -1 with
 * error_last() naming the secret (never its value).
 */
int secret_read(const char *secrets_dir, const char *name, const char *key,
		struct buf *out);
/* The same file's bytes as they are (a secret mounted as a file). */
int secret_read_file(const char *secrets_dir, const char *name,
		     const char *key, struct buf *out);
/* {secrets_dir}/{name}/{key}, where a secret lives (caller frees). */
char *secret_path(const char *secrets_dir, const char *name, const char *key);

/*
 * Fill spec_hash and spec_fields of every service of every valid project.
 * A project whose secrets cannot be read gets an error diagnostic (file and
 * line of the env entry) and valid = false.
 */
void spec_compute(struct project_set *set, const char *secrets_dir,
		  struct diags *d);
/* The same for the valid projects `want` accepts (want NULL: all); the
 * others keep NULL hashes and their secrets are not read (a project placed
 * on another host needs none of this host's secrets). */
void spec_compute_where(struct project_set *set, const char *secrets_dir,
			struct diags *d,
			bool (*want)(const struct project *p, void *arg), void *arg);

/* For tests only. */
/* Compute one service's hash and fields label (caller frees *out_fields);
 * spec_compute runs the same code for every service. */
int spec_service(char out_hash[65], char **out_fields,
		 const struct project *p, const struct service *s,
		 const char *secrets_dir);

/*
 * Names of the field groups whose hashes differ between two
 * cara.spec-fields labels (either may be "" for an old container).
 */
void spec_changed_fields(struct strvec *out, const char *old_fields,
			 const char *new_fields);

#endif
