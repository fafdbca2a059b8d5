/*
 * observed.h - what a pass saw of the Docker objects cara manages.
 *
 * Filled by docker_observe() (from a handful of list calls, never one call
 * per object), stored per pass by state_record_observed() and read back by
 * state_load_observed(); the planner works only from this snapshot.
 * Every string is owned by the struct; observed_release() frees it all.
 */
#ifndef CARA_OBSERVED_H
#define CARA_OBSERVED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A workload's state and health, normalised where a backend reports them
 * (backend/engine/observe.c, state.c): the planner and the phases never read a backend's
 * own words.
 */
enum obs_state {
	OBS_UNKNOWN,         /* a word this cara does not know */
	OBS_CREATED,
	OBS_RUNNING,
	OBS_PAUSED,
	OBS_RESTARTING,
	OBS_REMOVING,
	OBS_EXITED,
	OBS_DEAD,
	OBS_REMOVED,         /* destroyed (what an event stream tells) */
};

enum obs_health { HEALTH_NONE, HEALTH_STARTING, HEALTH_HEALTHY, HEALTH_UNHEALTHY };

/* "running"; the Engine's words, also those state.c stores. */
const char *obs_state_name(enum obs_state s);
enum obs_state obs_state_parse(const char *s);      /* NULL, unknown: OBS_UNKNOWN */
/* "" for none, "starting", "healthy", "unhealthy". */
const char *obs_health_name(enum obs_health h);
enum obs_health obs_health_parse(const char *s);
/* Up as far as a dependent is concerned: running, restarting or paused. */
bool obs_state_up(enum obs_state s);
/* Stopped for good until started: exited or dead. */
bool obs_state_stopped(enum obs_state s);

struct obs_container {
	char *id;
	char *name;          /* without the leading '/' */
	char *project;       /* label cara.project */
	char *service;       /* label cara.service */
	char *spec_hash;     /* label cara.spec-hash, "" if absent */
	char *spec_fields;   /* label cara.spec-fields, "" if absent */
	char *image;         /* image reference as created */
	enum obs_state state;
	enum obs_health health;
	int exit_code;       /* meaningful when state is "exited" */
	int64_t created;     /* unix seconds */
	/* ids of the networks it is attached to, ' '-separated and sorted;
	 * NULL when not known (a snapshot older than this field) */
	char *networks;
	char *owner;         /* label cara.owner: the state that made it; "" if absent */
	char *image_id;      /* the image it runs ("sha256:..."); "" if not known */
	/* A cluster's service (backend/swarm/): its tasks ("2/3 running on
	 * node1, node2") and what is wrong with them, naming the task's node
	 * ("" when nothing is); NULL on the Engine. */
	char *tasks;
	char *problem;
};

struct obs_network {
	char *id;
	char *name;
	char *project;
	char *owner;         /* label cara.owner, "" if absent */
	int internal;        /* 1, 0; -1: not known (a snapshot does not say) */
};

struct obs_volume {
	char *name;
	char *project;
	char *type;          /* label cara.volume.type: Ephemeral, Managed */
	char *owner;         /* label cara.owner, "" if absent */
};

/*
 * An immutable object a cluster backend ships to a service's tasks (on a
 * Swarm: a config for a file, a secret for a secret file), labelled as the
 * service (backend/swarm/).  Not part of the recorded snapshot: the pass
 * carries the ones its observation saw (pass.c), for the planner's rule
 * on orphans (plan.c).
 */
enum obs_object_kind { OBJECT_CONFIG, OBJECT_SECRET };

struct obs_object {
	enum obs_object_kind kind;
	char *id;
	char *name;
	char *project;       /* label cara.project */
	char *service;       /* label cara.service: the workload (container) name */
	char *owner;         /* label cara.owner, "" if absent */
	bool in_use;         /* a service observed refers to it */
};

const char *obs_object_kind_name(enum obs_object_kind k);   /* "config" */

struct observed {
	struct obs_container *containers;
	size_t ncontainers, capcontainers;
	struct obs_network *networks;
	size_t nnetworks, capnetworks;
	struct obs_volume *volumes;
	size_t nvolumes, capvolumes;
	/* local image references: "repo:tag" and, from RepoDigests,
	 * "repo@sha256:..." (sorted); image_ids[i] is the id of images[i]
	 * ("" if not known: a snapshot older than the field) */
	char **images;
	size_t nimages, capimages;
	char **image_ids;
	size_t capimage_ids;
	struct obs_object *objects;   /* sorted by kind, then name */
	size_t nobjects, capobjects;
};

#define OBSERVED_INIT { 0 }

void observed_release(struct observed *o);
/* Deep-copy helpers used by the backends and state.c when filling a snapshot. */
struct obs_container *observed_add_container(struct observed *o);
struct obs_network *observed_add_network(struct observed *o);
struct obs_volume *observed_add_volume(struct observed *o);
struct obs_object *observed_add_object(struct observed *o);
void observed_add_image(struct observed *o, const char *ref);
/* A local reference (tag or repo digest) of the image whose id is id. */
void observed_add_image_id(struct observed *o, const char *ref, const char *id);
/* Sort images so observed_has_image() can bisect. */
void observed_sort(struct observed *o);
/* true if ref (normalized: "busybox" == "busybox:latest") is local. */
bool observed_has_image(const struct observed *o, const char *ref);
/* The id of the local image ref names, or NULL (borrowed). */
const char *observed_image_id(const struct observed *o, const char *ref);
/*
 * The registry digest ("sha256:...") the local image `id` has in
 * repository `repo` (NULL: in any), from its RepoDigests; NULL if none
 * (an image never pulled from or pushed to a registry has none).
 */
const char *observed_image_digest(const struct observed *o, const char *id,
				  const char *repo);
/*
 * The registry digest of the image container c runs, for the repository
 * of its reference ("web@sha256:..." of "web:1"), or NULL when the image
 * has none there (built locally, or a snapshot without image ids).
 */
const char *observed_container_digest(const struct observed *o,
				      const struct obs_container *c);
/*
 * A digest reference "repo@sha256:X" holds only if a local image has X
 * among its RepoDigests.  NULL when it does, when ref names no digest or
 * when no local image is of repo (it is missing, not mismatched); else
 * why not, naming what the local images of repo have instead (their
 * digests there, or their ids when they have none); caller frees.
 */
char *observed_digest_mismatch(const struct observed *o, const char *ref);
/* "host:5000/a/b:tag" and "a/b@sha256:..." -> "host:5000/a/b" (caller frees). */
char *image_ref_repo(const char *ref);
/* The "sha256:..." of a digest reference "repo@sha256:...", or NULL. */
const char *image_ref_digest(const char *ref);

#endif
