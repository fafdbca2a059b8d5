/*
 * model.h - the Project model: what every reader (input/) produces and
 * every later stage (spec, plan, apply, output) reads.  caravanserai/v1
 * plus cara's extensions; other formats map onto the same structures.
 *
 * A project_set owns everything it points to.  Every node keeps the
 * position it came from (file, line, col) so any later stage can report
 * problems in the user's terms.
 *
 * Invariant the planner relies on: a project with valid == false must get
 * no action at all and must never be pruned; when a file could not be
 * read far enough to know which projects it declares,
 * project_set.incomplete is set and nothing may be pruned in that pass.
 */
#ifndef CARA_MODEL_H
#define CARA_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct pos {
	int line, col;   /* 1-based; 0 when synthesized */
};

struct kv {
	char *key;
	char *value;
	struct pos pos;
};

struct kvlist {
	struct kv *v;
	size_t n, cap;
};

struct env_var {
	char *name;
	char *value;          /* literal value (interpolated); NULL for secrets */
	char *secret_name;    /* valueFrom.secretKeyRef.name, or NULL */
	char *secret_key;     /* valueFrom.secretKeyRef.key */
	struct pos pos;
};

/*
 * A secret mounted as a file (compose's secrets): the file
 * {secrets_dir}/{secret_name}/{secret_key} of the host, bound read-only at
 * target as it is (its content, owner and mode); never read by the
 * readers, never copied.
 */
struct secret_mount {
	char *secret_name;
	char *secret_key;
	char *target;         /* absolute: "/run/secrets/NAME" by default */
	struct pos pos;
};

struct port {
	char *host_ip;        /* NULL means all addresses (0.0.0.0) */
	int host_port;        /* 0: ephemeral host port */
	int container_port;
	char *protocol;       /* "tcp" (default) or "udp" */
	struct pos pos;
};

struct mount {
	char *name;           /* a spec.volumes[].name */
	char *mount_path;
	bool read_only;
	struct pos pos;
};

struct healthcheck {
	bool present;
	struct strvec test;   /* ["CMD", ...], ["CMD-SHELL", "..."] or ["NONE"] */
	int64_t interval_ms;  /* 0: Engine default */
	int64_t timeout_ms;
	int64_t start_period_ms;
	/* the interval during start_period (compose start_interval; the
	 * Engine takes it from API 1.44 on, backend_caps); 0: Engine default */
	int64_t start_interval_ms;
	int retries;          /* 0: Engine default (3) */
	struct pos pos;
	struct pos start_interval_pos;
};

enum dep_condition { DEP_STARTED, DEP_HEALTHY, DEP_COMPLETED };

struct dependency {
	char *service;
	enum dep_condition condition;
	bool optional;        /* compose's required: false: none when absent */
	bool restart;         /* restarted after its dependency is (re)started */
	struct pos pos;
};

struct ulimit {
	char *name;           /* "nofile" */
	int64_t soft, hard;
	struct pos pos;
};

enum restart_policy {
	RESTART_DEFAULT,      /* not set: "unless-stopped" */
	RESTART_NO,
	RESTART_ON_FAILURE,
	RESTART_UNLESS_STOPPED,
	RESTART_ALWAYS,
};

/*
 * When an image is pulled (imagePullPolicy; compose's pull_policy):
 * IfNotPresent when missing (and when --image-check finds its tag moved),
 * Always also checks the tag on every pass, Never only uses a local image.
 */
enum pull_policy { PULL_IF_NOT_PRESENT, PULL_ALWAYS, PULL_NEVER };

struct volume;

/*
 * How a cluster rolls a changed service out, or back (updateConfig /
 * rollbackConfig; compose's deploy.update_config / rollback_config).
 * Unset fields are -1 (parallelism, delay, monitor) or "" (the words):
 * the backend's defaults.  The Engine has nothing to roll: it ignores it.
 */
struct update_policy {
	bool set;
	int parallelism;           /* tasks at a time; 0: all */
	int64_t delay_ms;          /* between batches */
	int64_t monitor_ms;        /* how long a new task is watched */
	char order[12];            /* "start-first", "stop-first" */
	char failure_action[12];   /* "rollback", "pause", "continue" */
};

/*
 * An image built from files of the source (compose's build): the context
 * directory's files as the snapshot has them, less what .dockerignore
 * excludes, and the build's settings.  The service's image is then
 * cara-build/{project}-{service}:{16 hex of digest}, so an unchanged
 * context is not built again and a changed one is a new image, which
 * recreates the service.
 */
struct build {
	struct volume *context;    /* a File volume's files (no mount) */
	char *dockerfile;          /* within the context; "Dockerfile" */
	struct kvlist args;        /* build args, "name" -> value */
	char *target;              /* stage of a multi-stage Dockerfile, or NULL */
	char *tag;                 /* compose's image: beside build: also tagged */
	struct strvec from;        /* the Dockerfile's FROM images, as the pull
				    * wants them (not stages, ${ARG}s, scratch) */
	char digest[72];           /* "sha256-HEX" of context and settings */
};

/* One project network a service joins, and its names there besides the
 * service's own. */
struct service_net {
	char *name;                /* a key of the project's networks */
	struct strvec aliases;
	struct pos pos;
};

struct service {
	char *name;
	char *image;
	enum pull_policy pull_policy;
	bool has_command, has_entrypoint;
	struct strvec command;
	struct strvec entrypoint;
	char *working_dir;
	char *user;
	struct env_var *env;
	size_t nenv, capenv;
	struct mount *mounts;
	size_t nmounts, capmounts;
	struct secret_mount *secrets;
	size_t nsecrets, capsecrets;
	struct port *ports;
	size_t nports, capports;
	struct healthcheck health;
	struct dependency *deps;
	size_t ndeps, capdeps;
	enum restart_policy restart;
	int64_t stop_grace_ms;     /* -1: not set (Engine default 10 s) */
	struct kvlist labels;
	int64_t memory_bytes;      /* 0: unlimited */
	int64_t nano_cpus;         /* 0: unlimited; cpus "0.5" -> 500000000 */
	/* 0: not set.  The reservation is the soft limit the kernel reclaims
	 * down to under pressure (at most memory_bytes); swap counts memory
	 * and swap together (at least memory_bytes, -1 unlimited, needs
	 * memory_bytes); the shares weigh CPU time under contention (2 to
	 * 262144, the Engine's default 1024).  A CPU reservation is a
	 * cluster's only (manifest_options.cluster). */
	int64_t memory_reservation_bytes;
	int64_t memory_swap_bytes;
	int cpu_shares;
	int64_t nano_cpus_reservation;
	int restart_retries;       /* on-failure:N; 0: no limit */
	/* The container's host settings; empty / false / 0: the Engine's
	 * default.  privileged, capabilities beyond Docker's default set and
	 * security options need the host's allowPrivileged. */
	struct strvec cap_add, cap_drop;
	bool privileged, read_only;
	bool has_init, init;       /* init: false is not the same as unset */
	struct strvec tmpfs;       /* "/path" or "/path:options" */
	char *hostname;
	char *stop_signal;
	struct strvec extra_hosts; /* "name:address" */
	struct strvec dns;
	int64_t shm_bytes;
	struct kvlist sysctls;
	struct ulimit *ulimits;
	size_t nulimits, capulimits;
	struct strvec security_opt;
	struct strvec expose;      /* "80/tcp": exposed, not published */
	struct strvec aliases;     /* on the default network, besides the name */
	/* the project networks it joins; none: the default one, with aliases
	 * (network_joins() walks both cases) */
	struct service_net *nets;
	size_t nnets, capnets;
	struct strvec devices;     /* "/dev/host[:/dev/ctr[:rwm]]" (privileged) */
	char *log_driver;          /* NULL: the Engine's default */
	struct kvlist log_opts;    /* the log driver's options */
	bool tty, stdin_open;      /* a terminal; stdin kept open */
	char *domainname;          /* NULL: none */
	int64_t pids_limit;        /* 0: the host's default */
	bool has_oom_score_adj;
	int oom_score_adj;         /* -1000..1000; below 0 is privileged */
	struct strvec group_add;   /* supplementary groups, names or GIDs */
	struct strvec dns_search;  /* resolv.conf search domains, in order */
	struct strvec dns_opt;     /* resolv.conf options ("ndots:2") */
	struct build *build;       /* NULL: the image is pulled, not built */
	/* On a cluster backend (--backend swarm); the Engine refuses all
	 * but one replica and no constraint (manifest_options.cluster). */
	bool has_replicas;
	int replicas;              /* tasks wanted; has_replicas false: 1 */
	bool global;               /* mode: Global, one task a node */
	char *endpoint_mode;       /* "vip", "dnsrr"; NULL: the host's default */
	struct strvec constraints; /* placement.constraints: "node.role==worker" */
	struct strvec preferences; /* placement.preferences spread descriptors, in
				    * order: "node.labels.zone" */
	struct update_policy update, rollback;
	struct pos pos;
	/* Filled by spec_compute() (spec.h), NULL before: */
	char *spec_hash;           /* label cara.spec-hash */
	char *spec_fields;         /* label cara.spec-fields */
};

/* File: files of the source (a file or a directory tree), mounted
 * read-only from a copy cara keeps under {state_dir}/files (files.h).
 * External: a Docker volume someone else made, mounted by its own name
 * (external_name); cara never creates, labels or removes it. */
enum volume_type {
	VOLUME_EPHEMERAL, VOLUME_MANAGED, VOLUME_HOSTPATH, VOLUME_FILE,
	VOLUME_EXTERNAL,
};

struct file_entry {
	char *path;                /* below the volume's root; "" for a file */
	char *data;
	size_t len;
	bool exec;
};

struct volume {
	char *name;
	enum volume_type type;
	char *host_path;           /* HostPath; File: its copy (files_resolve) */
	char *external_name;       /* External: the Docker volume's own name */
	struct pos pos;
	/* File only: where in the source, its files (read from the snapshot
	 * by the reader), their mode (0: 0444, 0555 for executables) and
	 * "sha256-HEX" of all of it (files_digest), which enters the spec
	 * hash of every service that mounts it */
	char *source_path;
	bool is_dir;
	int file_mode;
	struct file_entry *files;
	size_t nfiles, capfiles;
	char digest[72];
};

/* Is v a Docker volume cara makes and owns (not a bind of a host path or
 * of source files, not an External one)? */
bool volume_is_docker(const struct volume *v);
/* The Docker name a mount of v in project p uses (caller frees): cara's
 * name for its own volumes, the real name for an External one. */
char *volume_docker_name(const char *project, const struct volume *v);
/* NULL when name may be an External volume's, else why not (static). */
const char *volume_check_external_name(const char *name);

/*
 * A project network (spec.networks; a compose file's top-level networks):
 * a bridge (an overlay on a cluster) cara makes and owns, named
 * cara-{project} for the default one and cara-{project}_{name} for the
 * others (names.h), or an External one, some Docker network of the host
 * joined by its own name and never created, labelled or removed.  A
 * project that declares none has the default network, undeclared.
 */
#define NETWORK_DEFAULT "default"

struct network {
	char *name;                /* the project's key: "default", "back" */
	bool external;
	char *external_name;       /* External: the Docker network's name */
	bool internal;             /* no route off the host */
	struct pos pos;
};

struct ingress {
	char *name;
	char *host;                /* as written */
	char *fqdn;                /* resolved: host or host.env.baseDomain */
	char *target_service;
	int target_port;
	char *scope;               /* "Internal", "Public"; NULL if unset */
	struct pos pos;
};

/*
 * Where a project runs (spec.placement; a compose file's x-cara.placement):
 * on the host whose --node is `node` (compared without regard to case),
 * and / or on hosts whose --node-labels hold every pair of `selector`.
 * Absent: on every host.  The decision is placement_decide() (placement.h).
 */
struct project_placement {
	bool present;
	char *node;                /* NULL: any node */
	struct kvlist selector;    /* every pair must be one of the host's labels */
	struct pos pos;
};

struct project {
	char *name;
	char *file;                /* path shown to the user */
	struct pos pos;            /* of the document */
	struct kvlist labels;
	struct kvlist annotations;
	bool has_expire;
	int64_t expire_at;         /* unix seconds */
	struct service *services;
	size_t nservices, capservices;
	struct volume *volumes;
	size_t nvolumes, capvolumes;
	struct network *networks;  /* declared; the default one may be absent */
	size_t nnetworks, capnetworks;
	struct ingress *ingress;
	size_t ningress, capingress;
	struct project_placement placement;
	bool valid;                /* false once any error names this project */
	bool compose;              /* read from a compose file: findings name
	                              its fields, not the model's */
	/* set by spec_compute when a secret cannot be read: the project is
	 * invalid (never applied, never pruned) and Failed, SecretMissing */
	char *secret_missing;
};

struct project_set {
	struct project *v;
	size_t n, cap;
	bool incomplete;           /* some file declared projects we could not name */
	size_t expanded_bytes;     /* alias expansion so far, over every file */
	size_t nfiles;             /* manifest files read */
	/* compose files another compose file includes: part of that
	 * project, not projects of their own (input.c drops those) */
	struct strvec included;
};

#define PROJECT_SET_INIT { NULL, 0, 0, false, 0, 0, STRVEC_INIT }

void project_set_release(struct project_set *set);
/* Remove and free set->v[i], keeping the order of the others. */
void project_set_remove(struct project_set *set, size_t i);
/* Frees what l holds (not l itself); l is empty after. */
void kvlist_release(struct kvlist *l);
/* Frees what s holds (not s itself). */
void service_release(struct service *s);
/* Free what v and b hold (b itself too; NULL is fine). */
void volume_release(struct volume *v);
void build_free(struct build *b);
const struct project *project_set_find(const struct project_set *set,
				       const char *name);
const struct service *project_find_service(const struct project *p,
					   const char *name);
const struct volume *project_find_volume(const struct project *p,
					 const char *name);
/* NULL when name is not declared (the default network may not be). */
const struct network *project_find_network(const struct project *p,
					   const char *name);
/* Has p's spec.expireAt passed at now (a teardown, nothing to run)? */
bool project_expired(const struct project *p, int64_t now);

/*
 * The networks service s joins: its nets, or when it names none the
 * default network with its aliases.  network_joins() is how many;
 * network_join() the i-th one's key and aliases.
 */
size_t network_joins(const struct service *s);
const char *network_join(const struct service *s, size_t i,
			 const struct strvec **aliases);
/* The Docker name of p's network `name` (caller frees): cara's name for
 * the ones it makes, the real one for an External one. */
char *network_docker_name(const struct project *p, const char *name);
bool network_is_external(const struct project *p, const char *name);
/* The networks cara makes for p: the ones some service joins that are
 * not External, the default one first, then in declaration order; keys
 * pushed to out. */
void project_made_networks(const struct project *p, struct strvec *out);
/* NULL when name may be an External network's, else why not (static). */
const char *network_check_external_name(const char *name);
/* For many lookups: p's services sorted by name (caller frees the array),
 * then project_lookup_service() in log time. */
const struct service **project_services_by_name(const struct project *p);
const struct service *project_lookup_service(const struct service **by_name,
					     size_t n, const char *name);

const char *restart_policy_name(enum restart_policy r); /* "unless-stopped" */
const char *volume_type_name(enum volume_type t);       /* "Managed" */

/*
 * Order a project's services so that every service comes after the ones it
 * depends on (stable: file order otherwise).  Writes nservices indexes to
 * out.  Returns -1 on a cycle (validation reports cycles; this is a guard).
 */
int project_service_order(const struct project *p, size_t *out);

/*
 * A finding's field path in the terms of the file p was read from: for a
 * compose project, the model's "spec.services[2].dependsOn[0].condition"
 * is "services.web.depends_on.db.condition", as its reader names fields;
 * a Project's path as it is.  The caller frees it.
 */
char *project_field_path(const struct project *p, const char *path);
/* The same of a path printed from fmt. */
char *project_path_printf(const struct project *p, const char *fmt, ...)
	PRINTF_LIKE(2, 3);

#endif
