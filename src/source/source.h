/*
 * source/ - where the manifest files come from.  Every source returns the
 * same snapshot (struct source_snapshot): its files, read in full and
 * sorted, and the problems met on the way, under one file-name rule
 * (source_manifest_name) and one set of caps (SOURCE_MAX_*).
 *
 *   git.c        the manifest repository (libgit2): clone, fetch, auth,
 *                known_hosts, the commit's tree read as blobs
 *   signature.c  commit signatures (ssh-keygen -Y, gpgv)
 *   dir.c        a local directory
 *   snapshot.c   the snapshot, the name rule and the caps
 *
 * git: the first pass clones into {cache_dir}; later passes fetch only
 * what is new, with no working-tree checkout.  A cache that cannot be
 * used (corrupt objects, truncated index, history rewritten) is removed
 * and cloned again.  Credentials come from files or the environment,
 * never from the command line; every URL shown to the user is redacted.
 * git_* types never leave git.c.
 */
#ifndef CARA_SOURCE_H
#define CARA_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/*
 * What a snapshot holds, the same for both sources (a git commit, a local
 * directory): files named *.yaml or *.yml, and .env or *.env for compose
 * files (source_manifest_name), each of at most
 * SOURCE_MAX_FILE_BYTES, at most SOURCE_MAX_FILES of them.  Past a cap the
 * file is an error of its own and the snapshot is incomplete.
 */
#define SOURCE_MAX_FILE_BYTES ((size_t)4 << 20)
#define SOURCE_MAX_FILES 10000
#define SOURCE_MAX_TOTAL_BYTES ((size_t)256 << 20)   /* all files together */
bool source_manifest_name(const char *name);   /* also .env, *.env */
/*
 * The other regular files (nginx.conf, conf/site.d/...), which compose
 * binds and configs and File volumes mount: kept apart (source_snapshot.
 * extra) under caps of their own, so that they never take the manifests'
 * room.  Past a cap, or a link, such a file is only noted as refused
 * (source_snapshot_refused): it is an error only where it is mounted,
 * and never makes the snapshot incomplete.
 */
#define SOURCE_MAX_EXTRA_FILES 2000
#define SOURCE_MAX_EXTRA_BYTES ((size_t)64 << 20)
bool source_yaml_name(const char *name);       /* the YAML ones among them */
/* Is a file or directory of that name read at all?  Not .git, .github or
 * other dotfiles, but .env and a build context's .dockerignore. */
bool source_kept_name(const char *name);
/* compose's file names, in its order of precedence within a directory;
 * the rank of a base name among them, or -1 */
#define SOURCE_COMPOSE_NAMES 4
extern const char *const source_compose_names[SOURCE_COMPOSE_NAMES];
int source_compose_rank(const char *name);

struct source_options {
	const char *url;           /* https, ssh, scp-like, file:// or a local path */
	const char *ref;           /* branch, tag or full commit id; NULL: remote HEAD */
	const char *path;          /* directory inside the repository; NULL: root */
	const char *cache_dir;     /* e.g. {state_dir}/repo */
	const char *ssh_key;       /* private key file */
	const char *ssh_passphrase_file;
	const char *known_hosts;   /* NULL: ~/.ssh/known_hosts */
	const char *host_key_sha256; /* pin: base64 SHA256 of the host key */
	bool insecure_ignore_host_key;
	const char *username;      /* https */
	const char *token_file;    /* https token or password, read from a file */
	const char *token_env;     /* name of an environment variable holding it */
	bool offline_ok;           /* fetch failure: use the cached commit */
	/* refuse a commit that is not signed by one of these (signature.h) */
	bool verify_signatures;
	const char *allowed_signers; /* ssh-keygen allowed_signers file */
	const char *gpg_keyring;   /* keyring of trusted keys for gpgv */
	/* with verify_signatures: the commit must be this one or descend from
	 * it (the last one applied), unless allow_rewind; NULL: no check */
	const char *last_applied;
	bool allow_rewind;
};

struct source_file {
	char *path;                /* relative to options.path */
	char *data;
	size_t len;
	bool exec;                 /* executable (git 100755, a dir's x bits) */
};

struct source_problem {
	char *path;                /* relative to options.path */
	char *message;             /* e.g. "a submodule: ..." */
	bool warning;              /* noted only; an error makes it incomplete */
};

struct source_snapshot {
	char commit[41];
	int64_t commit_time;       /* author time, unix seconds */
	char *subject;
	bool offline;              /* fetch failed and the cached commit was used */
	bool recloned;             /* the cache was unusable and was cloned again */
	unsigned long received_objects; /* transferred by this pass's fetch */
	char *signer;              /* who signed it, with verify_signatures */
	bool rewound;              /* not a descendant of last_applied (allowed) */
	/* *.yaml / *.yml / .env / *.env under path, sorted by path (strcmp);
	 * other names starting with '.' are skipped */
	struct source_file *files;
	size_t nfiles, capfiles;
	/* what could not be read: a manifest name that is a symbolic link, a
	 * submodule, a file over the size cap, the files past the count cap.
	 * The snapshot is then incomplete: the caller must not prune. */
	struct source_problem *problems;
	size_t nproblems, capproblems;
	size_t total_bytes;        /* of files, under SOURCE_MAX_TOTAL_BYTES */
	/* the other regular files, sorted by path, under the
	 * SOURCE_MAX_EXTRA_* caps; those refused, with why (sorted too) */
	struct source_file *extra;
	size_t nextra, capextra;
	size_t extra_bytes;
	struct source_problem *refused;
	size_t nrefused, caprefused;
};

/* The file at path (exact), or NULL; log time. */
const struct source_file *source_snapshot_find(const struct source_snapshot *s,
					       const char *path);

/* A file of either kind at path (exact), or NULL. */
const struct source_file *source_snapshot_find_any(const struct source_snapshot *s,
						   const char *path);
/* Why the file at path was not kept (borrowed), or NULL. */
const char *source_snapshot_refused(const struct source_snapshot *s,
				    const char *path);

/* Fetch and read.  -1 with error_last() (URL redacted) on failure.  With
 * verify_signatures, the commit (also a cached one under offline_ok) is
 * refused, before any file of it is read, unless its signature verifies
 * against allowed_signers or gpg_keyring: "refusing commit ID: why". */
int source_fetch(struct source_snapshot *out, const struct source_options *opts);
void source_snapshot_release(struct source_snapshot *s);

/*
 * Copy of url with any user:password@ / token@ replaced by "***@" (NULL
 * for NULL).  A userinfo with a password is always replaced; a bare user
 * name is kept for ssh ("ssh://git@host/r", "git@host:org/r": an account,
 * not a secret) and replaced for every other scheme, where it is typically
 * a token ("https://TOKEN@host/r").  Local paths are returned unchanged.
 */
char *source_redact_url(const char *url);

/*
 * The local directory source: the snapshot of `dir` (or of the one file
 * `dir` names, shown as given; a compose file with the .env and *.env
 * files beside it),
 * with paths relative to it.  -1 with
 * error_last() when dir cannot be read at all.  max_file_bytes 0: the cap.
 */
int source_read_dir(struct source_snapshot *out, const char *dir,
		    size_t max_file_bytes);

/* For the sources: take path, message and data (data is emptied). */
void source_snapshot_add_problem(struct source_snapshot *s, char *path,
				 char *message, bool warning);
void source_snapshot_add_file(struct source_snapshot *s, char *path,
			      struct buf *data);
/* For the sources: an other file (data is emptied) or one refused; in
 * any order (source_snapshot_sort_extra sorts them at the end).  With no
 * room left under the SOURCE_MAX_EXTRA_* caps, add_extra refuses it. */
void source_snapshot_add_extra(struct source_snapshot *s, char *path,
			       struct buf *data, bool exec);
void source_snapshot_refuse(struct source_snapshot *s, char *path, char *why);
bool source_extra_room(const struct source_snapshot *s, size_t len);
void source_snapshot_sort_extra(struct source_snapshot *s);
/* Is there room for len more bytes under SOURCE_MAX_TOTAL_BYTES? */
bool source_snapshot_room(const struct source_snapshot *s, size_t len);
char *source_total_message(void);     /* the problem when there is not */

/* Remove a scratch directory tree (a throw-away cache), links not followed. */
int source_remove_scratch(const char *dir);

#endif
