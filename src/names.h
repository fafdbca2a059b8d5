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
/* The ingress proxy's container (it has no cara.project: it is no
 * project's, and no prune or mass-prune guard counts it). */
#define LABEL_INGRESS     "cara.ingress"
/* Volumes only: Ephemeral or Managed, as created (labels cannot change). */
#define LABEL_VOLUME_TYPE "cara.volume.type"
/* on images cara builds: the project (not cara.project, which containers
 * made from the image would inherit) */
#define LABEL_BUILT_FOR   "cara.built-for"

/* What starts the name of every network and volume cara makes: a volume
 * of another's so named is never mounted as an External one. */
#define NAME_PREFIX "cara-"
/* the repository of images cara builds: cara-build/{project}-{service}:HEX */
#define NAME_BUILD_REPO "cara-build/"

/* Docker object names (caller frees). */
char *name_network(const char *project);                         /* cara-{p} */
/* A project network other than the default one: cara-{p}_{n} (a project
 * name has no '_', so no other project's network is so named); n NULL or
 * "default": name_network(). */
char *name_project_network(const char *project, const char *n);
char *name_container(const char *project, const char *service);  /* {p}-{s} */
char *name_volume(const char *project, const char *volume);      /* cara-{p}-{v} */
/* The ingress proxy of the state whose identity is owner:
 * cara-ingress-{first 12 of owner} (one a state, so two states of one
 * host never fight over it). */
char *name_ingress_proxy(const char *owner);

#endif
