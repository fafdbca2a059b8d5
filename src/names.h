/*
 * names.h - the names cara gives Docker objects and the labels it puts on
 * them, in one place: the planner, the Engine client, apply and the tests
 * all speak of them through this header (cara(1), DOCKER OBJECTS).
 */
#ifndef CARA_NAMES_H
#define CARA_NAMES_H

/* Labels on every object cara creates. */
#define LABEL_PROJECT     "cara.project"     /* the project it belongs to */
#define LABEL_OWNER       "cara.owner"       /* the state directory that made it */
/* Containers only. */
#define LABEL_SERVICE     "cara.service"
#define LABEL_SPEC_HASH   "cara.spec-hash"
#define LABEL_SPEC_FIELDS "cara.spec-fields"
/* A cluster's services only (backend/swarm/): the mode cara asked for,
 * "3", "global" or "job:1", so that one scaled by hand is seen. */
#define LABEL_REPLICAS    "cara.replicas"
/* Volumes only: Ephemeral or Managed, as created (labels cannot change). */
#define LABEL_VOLUME_TYPE "cara.volume.type"

/* What starts the name of every network and volume cara makes: a volume
 * of another's so named is never mounted as an External one. */
#define NAME_PREFIX "cara-"

/* Docker object names (caller frees). */
char *name_network(const char *project);                         /* cara-{p} */
char *name_container(const char *project, const char *service);  /* {p}-{s} */
char *name_volume(const char *project, const char *volume);      /* cara-{p}-{v} */

#endif
