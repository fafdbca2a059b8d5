/*
 * backend/ - the targets cara deploys to, behind one operations table.
 *
 *   backend.h   what every backend provides, and what it can do itself
 *               (its capabilities, which the planner asks)
 *   engine/     a Docker Engine: containers on one host
 *   swarm/      a Docker Swarm manager: services over its nodes
 *
 * The planner sees only struct backend_caps; apply, the observation of a
 * pass and describe call a backend only through its operations, with the
 * neutral types below (state and health as enums, not a backend's words).
 */
#ifndef CARA_BACKEND_H
#define CARA_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "observed.h"

/*
 * What a backend does on its own, so the planner plans only the rest.
 * The Engine: images are pulled by cara, a stopped container is started
 * as it is.
 */
struct backend_caps {
	const char *name;          /* "engine" */
	bool pulls_images;         /* creating a workload fetches its image */
	bool starts_stopped;       /* a stopped workload can be started again */
	/* A workload whose spec changed is updated where it stands (a
	 * Swarm service's rolling update, same id), not removed and
	 * created again: the planner emits ACTION_UPDATE_CONTAINER. */
	bool updates_in_place;
	/* Workloads spread over nodes: replicas, mode Global and placement
	 * constraints mean something (manifest_options.cluster). */
	bool cluster;
	/* The files of a File volume shipped to the nodes one object each
	 * (a Swarm config): what one may hold (bytes, fewer than), and how
	 * many one workload may mount; 0: bound from the host, no limit. */
	size_t file_object_bytes;
	size_t file_objects_max;
	/* A healthcheck's startInterval reaches the workload (the Engine's
	 * API 1.44 on); false: a project with one is refused, EngineTooOld,
	 * before anything of it changes (the Engine would drop it in
	 * silence).  What a connection negotiated (backend_ops.caps_of): the
	 * tables say false. */
	bool health_start_interval;
	/* What would carry it, for the refusal's message ("Docker Engine 25
	 * or newer (API 1.44)"); NULL: nothing of this backend. */
	const char *start_interval_needs;
	/* The API version the connection speaks ("1.41"), for the messages;
	 * NULL in the tables. */
	const char *api;
};

/* ---- what crosses the interface ---- */

struct workload_mount {
	const char *type;          /* "volume" or "bind" */
	const char *source;        /* volume name or host path */
	const char *target;
	bool read_only;
	/* A secret mounted as a file (source: its file): on a cluster
	 * (caps.cluster) its bytes, which the backend ships to the nodes as
	 * a secret object of its own; NULL on the Engine, which binds it. */
	const struct buf *secret;
	/* A File volume on a cluster (caps.cluster): its files, which the
	 * backend ships to the nodes as objects of its own, each at its path
	 * below target; NULL on the Engine, which binds the copy (source). */
	const struct volume *files;
};

/* An image to build from a tar of its context (compose's build). */
struct image_build_spec {
	const char *tag;                 /* cara-build/...:HEX */
	const char *also_tag;            /* compose's image: beside build, or NULL */
	const char *dockerfile;          /* within the context */
	const char *target;              /* NULL: the last stage */
	const struct kvlist *args;
	const char *project;             /* the image's label cara.built-for */
	const char *tar;
	size_t tar_len;
};

/* A network a workload joins, with its names there besides its own. */
struct workload_net {
	const char *name;                /* the Docker network's name */
	const struct strvec *aliases;    /* NULL: none */
};

/* One workload (a container on the Engine) as apply wants it. */
struct workload_spec {
	const char *name;
	const char *image;
	const struct strvec *cmd;        /* NULL: image default */
	const struct strvec *entrypoint; /* NULL: image default */
	const char *working_dir;
	const char *user;
	const struct strvec *env;        /* "KEY=value" */
	const struct kv *labels;
	size_t nlabels;
	const struct workload_mount *mounts;
	size_t nmounts;
	const struct port *ports;
	size_t nports;
	const struct healthcheck *health;/* NULL or !present: image default */
	const char *restart;             /* "no", "on-failure", ... */
	int stop_timeout_s;              /* -1: the backend's default */
	int64_t memory_bytes;
	int64_t nano_cpus;
	int64_t memory_reservation_bytes;  /* 0: none */
	int64_t memory_swap_bytes;       /* 0: the backend's default; -1: unlimited */
	int cpu_shares;                  /* 0: the backend's default */
	int64_t nano_cpus_reservation;   /* a cluster's; 0: none */
	/* the networks it joins, each with `alias` and its own aliases (the
	 * Engine creates on the first and connects the others before any
	 * start) */
	const struct workload_net *nets;
	size_t nnets;
	const char *alias;
	/* host settings (model.h); NULL or empty: the backend's default */
	int restart_retries;             /* on-failure's limit; 0: none */
	const struct strvec *cap_add, *cap_drop, *tmpfs, *extra_hosts, *dns;
	const struct strvec *security_opt, *expose, *devices;
	const char *log_driver;          /* NULL: the Engine's default */
	const struct kvlist *log_opts;
	bool privileged, read_only, has_init, init;
	const char *hostname, *stop_signal;
	int64_t shm_bytes;
	const struct kvlist *sysctls;
	const struct ulimit *ulimits;
	size_t nulimits;
	bool tty, stdin_open;
	const char *domainname;
	int64_t pids_limit;              /* 0: the host's default */
	bool has_oom_score_adj;
	int oom_score_adj;
	const struct strvec *group_add;
	const struct strvec *dns_search, *dns_opt;
	/* a cluster's (caps.cluster); the Engine ignores them */
	int replicas;                    /* -1: not set (1) */
	bool global;
	bool job;                        /* runs to completion once a spec */
	const char *endpoint_mode;       /* "vip", "dnsrr"; NULL: vip */
	const struct strvec *constraints;
	const struct strvec *preferences;  /* spread descriptors, in order */
	const struct update_policy *update, *rollback;   /* NULL: defaults */
};

/* A workload's state now, normalised. */
struct workload_state {
	enum obs_state state;
	enum obs_health health;
	int exit_code;
	bool oom_killed;
	int restart_count;
	char error[256];           /* the backend's own words, truncated */
	char id[72];               /* the workload's full id */
	int64_t started_ns;        /* when it last started, backend clock, unix ns */
};

/* One workload's state with what the ingress proxy asks of it: a few of
 * its labels and its address on one network (all owned; release). */
struct workload_info {
	struct workload_state st;
	char *owner;               /* label cara.owner, "" if absent */
	char *spec_hash;           /* label cara.spec-hash, "" if absent */
	char *role;                /* label cara.ingress, "" if absent */
	char *project, *service;   /* labels cara.project, cara.service */
	char *address;             /* IP on the network asked; NULL: none */
};

void workload_info_release(struct workload_info *w);

/* What the pass's watcher heard last of one workload name. */
struct watch_entry {
	char name[256];
	char id[72];               /* of the latest event for the name */
	enum obs_state state;      /* OBS_UNKNOWN: nothing said of it yet */
	enum obs_health health;
	int exit_code;             /* of the latest exit */
	unsigned long starts;      /* start events of this id */
	int64_t last_ns;           /* backend time of the latest event */
	unsigned long seq;         /* events applied to the entry; 0: none yet */
};

/* One node of a cluster (caps.cluster), as placing a volume needs it
 * (all owned; backend_nodes_free). */
struct backend_node {
	char *id;
	char *hostname;
	char *role;                /* "manager", "worker" */
	char *os, *arch;           /* Description.Platform */
	bool ready;                /* Status.State ready */
	bool active;               /* Spec.Availability active (not drain, pause) */
	struct strvec labels;      /* node labels, "KEY=VALUE" */
	struct strvec engine_labels;
};

void backend_nodes_free(struct backend_node *v, size_t n);

struct backend_options {
	const char *host;          /* where the backend listens; NULL: its default */
	long timeout_ms;           /* per request; 0: the backend's default */
	const char *api;           /* API version negotiated already; NULL: ask */
};

/* ---- the operations ---- */

/*
 * An open connection to one target; not shareable between threads (each
 * worker opens its own).  Every backend's handle starts with this.
 */
struct backend {
	const struct backend_ops *ops;
};

struct backend_watch;          /* one per pass, shared by the workers */

/*
 * Every function returns 0, or a negative util.h code with error_last()
 * set: ERR_NOTFOUND for a missing object, ERR_FOREIGN for an object of
 * cara's name that is not this project's, ERR_REFUSED for credentials a
 * registry refused.
 */
struct backend_ops {
	const char *name;                      /* "engine" */
	const struct backend_caps *caps;

	int (*open)(struct backend **out, const struct backend_options *o);
	void (*close)(struct backend *b);      /* NULL is fine */
	unsigned long (*calls)(const struct backend *b);   /* requests made */
	const char *(*api_version)(const struct backend *b);
	/* The capabilities of connection b: the table's, with those that
	 * depend on the API version it negotiated (out->api borrows from b);
	 * b NULL: the table's. */
	void (*caps_of)(const struct backend *b, struct backend_caps *out);

	/* Everything labelled cara.project, in a constant number of calls. */
	int (*observe)(struct backend *b, struct observed *out);

	/* Create with cara's labels; an existing one is fine when its labels
	 * are the same project's and owner's, else ERR_FOREIGN. */
	int (*network_ensure)(struct backend *b, const char *name,
			      const char *project, const char *owner, bool internal);
	int (*network_remove)(struct backend *b, const char *id_or_name);
	/* aliases NULL: alias only */
	int (*network_connect)(struct backend *b, const char *network,
			       const char *workload, const char *alias,
			       const struct strvec *aliases);
	int (*volume_ensure)(struct backend *b, const char *name, const char *project,
			     const char *type, const char *owner);
	int (*volume_remove)(struct backend *b, const char *name);
	/* 0 when a volume of that name is there (anyone's), ERR_NOTFOUND
	 * when not: for External volumes, which observe() does not list. */
	int (*volume_exists)(struct backend *b, const char *name);
	/* the same for External networks */
	int (*network_exists)(struct backend *b, const char *name);
	/* Remove the config or secret (observed.h) whose id is id; one gone
	 * already is fine.  NULL: the backend ships none. */
	int (*object_remove)(struct backend *b, enum obs_object_kind kind,
			     const char *id);
	/* registry_auth: the credentials header value, or NULL. */
	/* The digest the registry has for ref now ("sha256:...", the
	 * caller's), without pulling; a bounded wait. */
	int (*image_digest)(struct backend *b, const char *ref, const char *registry_auth,
			    char **out_digest);
	int (*image_pull)(struct backend *b, const char *ref, const char *registry_auth,
			  void (*note)(void *arg, const char *summary), void *arg);
	/* Build spec->tar into spec->tag; NULL: this backend builds nothing. */
	int (*image_build)(struct backend *b, const struct image_build_spec *spec);
	/* The local images, as observe() has them, in one call. */
	int (*images)(struct backend *b, struct observed *out);

	int (*workload_create)(struct backend *b, const struct workload_spec *spec,
			       char **out_id);
	/* With caps.updates_in_place: the existing workload of spec->name
	 * takes spec as it runs (a rolling update); NULL otherwise.
	 * ERR_ROLLED_BACK when the backend undid it (the old spec runs). */
	int (*workload_update)(struct backend *b, const struct workload_spec *spec);
	int (*workload_start)(struct backend *b, const char *name);
	int (*workload_resume)(struct backend *b, const char *name);   /* unpause */
	/* grace -1: the workload's own; a stopped one is fine */
	int (*workload_stop)(struct backend *b, const char *name, int grace_s);
	/* force ends a running one; a missing one is fine */
	int (*workload_remove)(struct backend *b, const char *name, bool force);
	int (*workload_state)(struct backend *b, const char *name,
			      struct workload_state *out);
	/* network NULL: no address asked */
	int (*workload_inspect)(struct backend *b, const char *name,
				const char *network, struct workload_info *out);
	/* Until it is not running: 0 (*out_exit set), 1 still running after
	 * timeout_ms, or an error. */
	int (*workload_wait_exit)(struct backend *b, const char *name,
				  long timeout_ms, int *out_exit);
	/* A cluster's nodes, in one call (*out the caller's:
	 * backend_nodes_free); NULL: no nodes to choose between. */
	int (*nodes)(struct backend *b, struct backend_node **out, size_t *n);
	/* The node id the existing workload `name` is held to (a
	 * node.id==ID constraint; *out the caller's), ERR_NOTFOUND when
	 * there is no such workload or constraint; NULL with nodes. */
	int (*workload_node)(struct backend *b, const char *name, char **out);

	/*
	 * The pass's watcher of what happens to cara's workloads (events.h
	 * says how the Engine's works): started from since_s (unix seconds)
	 * on; stopping it returns the requests it made.  watch_wait blocks
	 * until the entry of name has a seq other than *seq (1), deadline_ms
	 * passes (0) or the watcher is down (-1: poll instead).
	 */
	int (*watch_start)(struct backend_watch **out, const struct backend_options *o,
			   int64_t since_s);
	unsigned long (*watch_stop)(struct backend_watch *w);
	bool (*watch_ready)(struct backend_watch *w, int64_t deadline_ms);
	int (*watch_wait)(struct backend_watch *w, const char *name, unsigned long *seq,
			  int64_t deadline_ms, struct watch_entry *out);
};

extern const struct backend_caps backend_engine_caps;
extern const struct backend_ops backend_engine;
extern const struct backend_caps backend_swarm_caps;
extern const struct backend_ops backend_swarm;

/* The backend named `name` ("engine"), or NULL. */
const struct backend_ops *backend_find(const char *name);

#endif
