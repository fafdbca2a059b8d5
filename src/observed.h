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

struct obs_container {
	char *id;
	char *name;          /* without the leading '/' */
	char *project;       /* label cara.project */
	char *service;       /* label cara.service */
	char *spec_hash;     /* label cara.spec-hash, "" if absent */
	char *spec_fields;   /* label cara.spec-fields, "" if absent */
	char *image;         /* image reference as created */
	char *state;         /* created, running, paused, restarting, exited, dead */
	char *health;        /* "", "starting", "healthy", "unhealthy" */
	int exit_code;       /* meaningful when state is "exited" */
	int64_t created;     /* unix seconds */
	/* ids of the networks it is attached to, ' '-separated and sorted;
	 * NULL when not known (a snapshot older than this field) */
	char *networks;
	char *owner;         /* label cara.owner: the state that made it; "" if absent */
};

struct obs_network {
	char *id;
	char *name;
	char *project;
	char *owner;         /* label cara.owner, "" if absent */
};

struct obs_volume {
	char *name;
	char *project;
	char *type;          /* label cara.volume.type: Ephemeral, Managed */
	char *owner;         /* label cara.owner, "" if absent */
};

struct observed {
	struct obs_container *containers;
	size_t ncontainers, capcontainers;
	struct obs_network *networks;
	size_t nnetworks, capnetworks;
	struct obs_volume *volumes;
	size_t nvolumes, capvolumes;
	char **images;       /* local image references "repo:tag" (sorted) */
	size_t nimages, capimages;
};

#define OBSERVED_INIT { 0 }

void observed_release(struct observed *o);
/* Deep-copy helpers used by docker.c and state.c when filling a snapshot. */
struct obs_container *observed_add_container(struct observed *o);
struct obs_network *observed_add_network(struct observed *o);
struct obs_volume *observed_add_volume(struct observed *o);
void observed_add_image(struct observed *o, const char *ref);
/* Sort images so observed_has_image() can bisect. */
void observed_sort(struct observed *o);
/* true if ref (normalized: "busybox" == "busybox:latest") is local. */
bool observed_has_image(const struct observed *o, const char *ref);

#endif
