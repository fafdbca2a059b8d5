/*
 * builders.c - the unit tests' model builders (see builders.h).
 *
 * Each builder appends a zeroed element to the model's own array (append())
 * before filling it, so a field a builder does not set reads as "not set"
 * to the code under test, and the model's release frees what it did set.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builders.h"
#include "names.h"
#include "util.h"

/*
 * Grow the array v (n used, cap allocated) by one zeroed element and
 * return it.  Every builder appends through here.
 */
static void *append(void **v, size_t *n, size_t *cap, size_t sz)
{
	char *e;

	grow_array(v, cap, *n + 1, sz);
	e = (char *)*v + *n * sz;
	memset(e, 0, sz);
	(*n)++;
	return e;
}
#define APPEND(v, n, cap) append((void **)&(v), &(n), &(cap), sizeof(*(v)))

void tb_set(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

/* ---- desired ---- */

struct project *tb_project(struct project_set *set, const char *name)
{
	struct project *p = APPEND(set->v, set->n, set->cap);

	p->name = xstrdup(name);
	p->file = xasprintf("%s.yaml", name);
	p->valid = true;
	return p;
}

struct service *tb_service(struct project *p, const char *name, const char *image)
{
	struct service *s = APPEND(p->services, p->nservices, p->capservices);

	s->name = xstrdup(name);
	s->image = xstrdup(image);
	s->stop_grace_ms = -1;
	return s;
}

struct env_var *tb_env(struct service *s, const char *name, const char *value)
{
	struct env_var *e = APPEND(s->env, s->nenv, s->capenv);

	e->name = xstrdup(name);
	e->value = xstrdup(value);
	e->pos.line = 10 + (int)s->nenv;
	e->pos.col = 11;
	return e;
}

struct env_var *tb_secret(struct service *s, const char *name, const char *secret,
			  const char *key)
{
	struct env_var *e = tb_env(s, name, NULL);

	e->secret_name = xstrdup(secret);
	e->secret_key = xstrdup(key);
	return e;
}

void tb_kv(struct kvlist *l, const char *key, const char *value)
{
	struct kv *e = APPEND(l->v, l->n, l->cap);

	e->key = xstrdup(key);
	e->value = xstrdup(value);
}

struct volume *tb_volume(struct project *p, const char *name, enum volume_type type,
			 const char *host_path)
{
	struct volume *v = APPEND(p->volumes, p->nvolumes, p->capvolumes);

	v->name = xstrdup(name);
	v->type = type;
	v->host_path = xstrdup(host_path);
	return v;
}

struct network *tb_network(struct project *p, const char *name,
			   const char *external_name, bool internal)
{
	struct network *n = APPEND(p->networks, p->nnetworks, p->capnetworks);

	n->name = xstrdup(name);
	n->external = external_name != NULL;
	n->external_name = xstrdup(external_name);
	n->internal = internal;
	return n;
}

struct service_net *tb_join(struct service *s, const char *net, const char *alias)
{
	struct service_net *sn = APPEND(s->nets, s->nnets, s->capnets);

	sn->name = xstrdup(net);
	if (alias)
		strvec_push(&sn->aliases, alias);
	return sn;
}

struct obs_network *tb_obs_net(struct observed *o, const char *project,
			       const char *net, bool internal)
{
	struct obs_network *n = observed_add_network(o);

	n->name = name_project_network(project, net);
	n->id = xasprintf("net-%s_%s", project, net);
	n->project = xstrdup(project);
	n->internal = internal;
	return n;
}

struct mount *tb_mount(struct service *s, const char *volume, const char *path)
{
	struct mount *m = APPEND(s->mounts, s->nmounts, s->capmounts);

	m->name = xstrdup(volume);
	m->mount_path = xstrdup(path);
	return m;
}

struct port *tb_port(struct service *s, int host_port, int container_port)
{
	struct port *pt = APPEND(s->ports, s->nports, s->capports);

	pt->host_port = host_port;
	pt->container_port = container_port;
	return pt;
}

struct dependency *tb_dep(struct service *s, const char *on, enum dep_condition cond)
{
	struct dependency *d = APPEND(s->deps, s->ndeps, s->capdeps);

	d->service = xstrdup(on);
	d->condition = cond;
	return d;
}

/* ---- observed ---- */

struct obs_container *tb_obs_container(struct observed *o, const char *project,
				       const char *service, const char *hash,
				       const char *fields, const char *state,
				       int exit_code)
{
	struct obs_container *c = observed_add_container(o);

	c->name = name_container(project, service);
	c->id = xasprintf("id-%s", c->name);
	c->project = xstrdup(project);
	c->service = xstrdup(service);
	c->spec_hash = xstrdup(hash ? hash : "");
	c->spec_fields = xstrdup(fields ? fields : "");
	c->image = xstrdup("img");
	c->state = obs_state_parse(state);
	c->health = HEALTH_NONE;
	c->exit_code = exit_code;
	c->networks = xasprintf("net-%s", project);   /* tb_obs_network's id */
	return c;
}

struct obs_network *tb_obs_network(struct observed *o, const char *project)
{
	struct obs_network *n = observed_add_network(o);

	n->name = name_network(project);
	n->id = xasprintf("net-%s", project);
	n->project = xstrdup(project);
	return n;
}

struct obs_volume *tb_obs_volume(struct observed *o, const char *project,
				 const char *volume, const char *type)
{
	struct obs_volume *v = observed_add_volume(o);

	v->name = name_volume(project, volume);
	v->project = xstrdup(project);
	v->type = xstrdup(type);
	return v;
}

static struct obs_container *find_container(struct observed *o, const char *project,
					    const char *service)
{
	size_t i;

	for (i = 0; i < o->ncontainers; i++)
		if (!strcmp(o->containers[i].project, project) &&
		    !strcmp(o->containers[i].service, service))
			return &o->containers[i];
	return NULL;
}

struct obs_container *tb_obs_find(struct observed *o, const char *project,
				  const char *service)
{
	struct obs_container *c = find_container(o, project, service);

	if (!c) {
		printf("Bail out! no container %s-%s\n", project, service);
		exit(1);
	}
	return c;
}

void tb_obs_set_state(struct observed *o, const char *project, const char *service,
		      const char *state, int exit_code)
{
	struct obs_container *c = tb_obs_find(o, project, service);

	c->state = obs_state_parse(state);
	c->exit_code = exit_code;
}

void tb_obs_own(struct observed *o, const char *project, const char *owner)
{
	size_t i;

	for (i = 0; i < o->ncontainers; i++)
		if (!strcmp(o->containers[i].project, project))
			tb_set(&o->containers[i].owner, owner);
	for (i = 0; i < o->nnetworks; i++)
		if (!strcmp(o->networks[i].project, project))
			tb_set(&o->networks[i].owner, owner);
	for (i = 0; i < o->nvolumes; i++)
		if (!strcmp(o->volumes[i].project, project))
			tb_set(&o->volumes[i].owner, owner);
}

/*
 * The removed object moves into a snapshot of its own, and
 * observed_release() frees it there: which fields an object owns is said
 * once, in observed.c.
 */
void tb_obs_remove_container(struct observed *o, const char *project,
			     const char *service)
{
	struct obs_container *c = find_container(o, project, service);
	struct observed gone = OBSERVED_INIT;
	size_t i;

	if (!c)
		return;
	i = (size_t)(c - o->containers);
	*observed_add_container(&gone) = *c;
	memmove(&o->containers[i], &o->containers[i + 1],
		(o->ncontainers - i - 1) * sizeof(*c));
	o->ncontainers--;
	observed_release(&gone);
}

void tb_obs_remove_network(struct observed *o, const char *project)
{
	struct observed gone = OBSERVED_INIT;
	size_t i;

	for (i = 0; i < o->nnetworks; i++)
		if (!strcmp(o->networks[i].project, project)) {
			*observed_add_network(&gone) = o->networks[i];
			o->networks[i] = o->networks[--o->nnetworks];
			break;
		}
	observed_release(&gone);
}

/* ---- plans ---- */

struct plan_action *tb_plan_action(struct plan *p, enum action_kind kind,
				   enum action_cause cause, const char *project,
				   const char *service, const char *object)
{
	struct plan_action *a = APPEND(p->actions, p->nactions, p->capactions);

	a->kind = kind;
	a->cause = cause;
	a->project = xstrdup(project);
	a->service = xstrdup(service);
	a->object = xstrdup(object);
	return a;
}

struct plan_project *tb_plan_project(struct plan *p, const char *name,
				     enum project_verdict verdict,
				     enum action_cause cause, size_t first)
{
	struct plan_project *pp = APPEND(p->projects, p->nprojects, p->capprojects);

	pp->name = xstrdup(name);
	pp->verdict = verdict;
	pp->cause = cause;
	pp->first = first;
	pp->count = p->nactions - first;
	return pp;
}
