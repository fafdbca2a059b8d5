/*
 * builders.h - the unit tests' model builders: a desired project set, an
 * observed snapshot and a plan, built in C so that a test stands apart from
 * the YAML parser, the Engine and the planner it does not test.
 *
 * Every string a builder stores is its own copy, owned by the model:
 * project_set_release(), observed_release() and plan_release() free all
 * of it, so a test frees what it built with the model's own release and
 * nothing else.  A returned pointer is borrowed and stays valid until the
 * next builder call on the same array grows it.
 */
#ifndef CARA_TEST_BUILDERS_H
#define CARA_TEST_BUILDERS_H

#include "input/manifest.h"
#include "observed.h"
#include "plan.h"

/* Replace the string *field owns with a copy of value (NULL: none). */
void tb_set(char **field, const char *value);

/* ---- desired: struct project_set and what it holds ---- */

/* A valid project "name" from "name.yaml", with nothing in it. */
struct project *tb_project(struct project_set *set, const char *name);
/* A service with the default stopGracePeriod (-1: not set). */
struct service *tb_service(struct project *p, const char *name, const char *image);
/* A literal env entry; the n-th is at line 10 + n, column 11. */
struct env_var *tb_env(struct service *s, const char *name, const char *value);
/* An env entry from secretKeyRef secret/key. */
struct env_var *tb_secret(struct service *s, const char *name, const char *secret,
			  const char *key);
void tb_kv(struct kvlist *l, const char *key, const char *value);
/* host_path only for VOLUME_HOSTPATH (NULL otherwise). */
struct volume *tb_volume(struct project *p, const char *name, enum volume_type type,
			 const char *host_path);
struct mount *tb_mount(struct service *s, const char *volume, const char *path);
/* A declared network; external_name non-NULL: an External one. */
struct network *tb_network(struct project *p, const char *name,
			   const char *external_name, bool internal);
/* s joins network `net`, with one alias there (NULL: none). */
struct service_net *tb_join(struct service *s, const char *net, const char *alias);
/* An observed network of the project: cara-{project}_{net} ("default":
 * cara-{project}), id "net-{project}_{net}". */
struct obs_network *tb_obs_net(struct observed *o, const char *project,
			       const char *net, bool internal);
struct port *tb_port(struct service *s, int host_port, int container_port);
struct dependency *tb_dep(struct service *s, const char *on, enum dep_condition cond);

/* ---- observed: struct observed, as docker_observe() would fill it ---- */

/*
 * Container "project-service" with id "id-project-service", image "img",
 * no health, attached to the network tb_obs_network() makes for project.
 * hash and fields NULL: no cara.spec-hash / cara.spec-fields label.
 */
struct obs_container *tb_obs_container(struct observed *o, const char *project,
				       const char *service, const char *hash,
				       const char *fields, const char *state,
				       int exit_code);
/* Network "cara-project" with id "net-project". */
struct obs_network *tb_obs_network(struct observed *o, const char *project);
/* Volume "cara-project-volume" labelled with type ("" for none). */
struct obs_volume *tb_obs_volume(struct observed *o, const char *project,
				 const char *volume, const char *type);
/* The container of project/service; bails out of the test if there is none. */
struct obs_container *tb_obs_find(struct observed *o, const char *project,
				  const char *service);
void tb_obs_set_state(struct observed *o, const char *project, const char *service,
		      const char *state, int exit_code);
/* Label every object of project with owner (NULL: no label). */
void tb_obs_own(struct observed *o, const char *project, const char *owner);
/* Drop an object from the snapshot, as `docker rm` by hand; absent: no-op. */
void tb_obs_remove_container(struct observed *o, const char *project,
			     const char *service);
void tb_obs_remove_network(struct observed *o, const char *project);

/* ---- plans: struct plan, as plan_compute() would fill it ---- */

struct plan_action *tb_plan_action(struct plan *p, enum action_kind kind,
				   enum action_cause cause, const char *project,
				   const char *service, const char *object);
/* A project whose actions are those from first to the last one added. */
struct plan_project *tb_plan_project(struct plan *p, const char *name,
				     enum project_verdict verdict,
				     enum action_cause cause, size_t first);

#endif
