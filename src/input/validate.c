/*
 * input/validate.c - what makes a source of manifests valid, beyond the
 * shape of each document (the readers') and the values (checks.c): one
 * project as a whole, and the rules across a source's projects.
 *
 * Rules: names usable in Docker object names, image references, HostPath
 * roots, duplicates, references to undeclared volumes and services,
 * dependsOn cycles and conditions that cannot hold; across a source,
 * duplicate project names, Docker names that collide, ingress hosts and
 * host ports bound twice.  The parser checks each value where it sits
 * with the scalar checks of checks.c; manifest_validate_project then checks one
 * project as a whole and manifest_validate_set all the projects of a
 * source.  Every finding names the file, line, column and field path;
 * any error marks the project invalid, and an invalid project is never
 * applied nor pruned.
 *
 * Hostile sizes: every check is O(n log n) in the number of services,
 * dependencies, ports or projects (sorting, then neighbours), so a huge
 * manifest costs time in proportion to its size only.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "input/manifest.h"
#include "names.h"

/* Findings per project beyond which validation stops reporting. */
#define MAX_FINDINGS 200
/* Docker volume and container names become directory and file names. */
#define MAX_DOCKER_NAME 255

/* qsort, except that it accepts an empty (NULL) array. */
static void sort_items(void *v, size_t n, size_t size,
		       int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(v, n, size, cmp);
}

/* ---- a sorted name index: find by name in O(log n) ---- */

struct name_ix {
	const char *name;
	size_t idx;
};

static int name_ix_cmp(const void *a, const void *b)
{
	const struct name_ix *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Index of the first element named `name`, or SIZE_MAX. */
static size_t name_ix_find(const struct name_ix *v, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	if (!name)
		return SIZE_MAX;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && !strcmp(v[lo].name, name) ? v[lo].idx : SIZE_MAX;
}

static struct name_ix *service_index(const struct project *p)
{
	struct name_ix *v = xcalloc(p->nservices + 1, sizeof(*v));
	size_t i;

	for (i = 0; i < p->nservices; i++) {
		v[i].name = p->services[i].name ? p->services[i].name : "";
		v[i].idx = i;
	}
	sort_items(v, p->nservices, sizeof(*v), name_ix_cmp);
	return v;
}

/* ---- findings ---- */

struct vctx {
	struct project *p;
	struct diags *d;
	size_t n;
};

static void finding(struct vctx *v, enum diag_severity sev, struct pos pos,
		    const char *fmt, ...) PRINTF_LIKE(4, 5);

/* The field path is the first vararg-free argument of fmt: "path\0msg". */
static void finding(struct vctx *v, enum diag_severity sev, struct pos pos,
		    const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	const char *sep;

	if (sev == DIAG_ERROR)
		v->p->valid = false;
	if (++v->n > MAX_FINDINGS)
		return;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	/* "path|message": the path never contains '|' */
	sep = strchr(buf_cstr(&b), '|');
	if (sep) {
		char *model = xstrndup(b.ptr, (size_t)(sep - b.ptr));
		char *path = project_field_path(v->p, model);

		diags_add(v->d, sev, v->p->file, pos.line, pos.col, path, "%s", sep + 1);
		free(path);
		free(model);
	} else {
		diags_add(v->d, sev, v->p->file, pos.line, pos.col, "", "%s", buf_cstr(&b));
	}
	buf_release(&b);
}

#define verr(v, pos, ...) finding((v), DIAG_ERROR, (pos), __VA_ARGS__)
#define vwarn(v, pos, ...) finding((v), DIAG_WARNING, (pos), __VA_ARGS__)

/* " (did you mean 'x'?)" for the closest declared name, or "". */
static const char *hint(struct buf *b, const char *name, const char *const *cand,
			size_t n)
{
	size_t i, best = SIZE_MAX, bd = 3;

	buf_reset(b);
	for (i = 0; i < n; i++) {
		size_t dist = manifest_edit_distance(name, cand[i], 2);

		if (cand[i][0] && dist < bd) {
			bd = dist;
			best = i;
		}
	}
	if (best != SIZE_MAX)
		buf_printf(b, "; did you mean '%s'?", cand[best]);
	return buf_cstr(b);
}

/*
 * Report names that occur twice among n items; names[i] "" is skipped
 * (already reported as missing).  what: "service", ...
 */
static void check_duplicates(struct vctx *v, const char *const *names,
			     const struct pos *pos, size_t n, const char *field,
			     const char *what)
{
	struct name_ix *ix = xcalloc(n + 1, sizeof(*ix));
	size_t i;

	for (i = 0; i < n; i++) {
		ix[i].name = names[i] ? names[i] : "";
		ix[i].idx = i;
	}
	sort_items(ix, n, sizeof(*ix), name_ix_cmp);
	for (i = 1; i < n; i++) {
		size_t first = i - 1;

		if (!ix[i].name[0] || strcmp(ix[i].name, ix[i - 1].name))
			continue;
		while (first > 0 && !strcmp(ix[first - 1].name, ix[i].name))
			first--;
		verr(v, pos[ix[i].idx], "%s[%zu].name|duplicate %s name '%s' "
		     "(first declared at line %d)", field, ix[i].idx, what,
		     ix[i].name, pos[ix[first].idx].line);
	}
	free(ix);
}

static void check_names(struct vctx *v)
{
	struct project *p = v->p;
	size_t n = p->nservices, i;
	size_t m = n > p->nvolumes ? n : p->nvolumes;
	const char **names;
	struct pos *pos;

	if (p->ningress > m)
		m = p->ningress;
	names = xcalloc(m + 1, sizeof(*names));
	pos = xcalloc(m + 1, sizeof(*pos));
	for (i = 0; i < p->nservices; i++) {
		names[i] = p->services[i].name;
		pos[i] = p->services[i].pos;
	}
	check_duplicates(v, names, pos, p->nservices, "spec.services", "service");
	for (i = 0; i < p->nvolumes; i++) {
		names[i] = p->volumes[i].name;
		pos[i] = p->volumes[i].pos;
	}
	check_duplicates(v, names, pos, p->nvolumes, "spec.volumes", "volume");
	for (i = 0; i < p->ningress; i++) {
		names[i] = p->ingress[i].name;
		pos[i] = p->ingress[i].pos;
	}
	check_duplicates(v, names, pos, p->ningress, "spec.ingress", "ingress");
	free(names);
	free(pos);

	/* Docker names built from these must stay usable */
	for (i = 0; p->name && i < p->nservices; i++) {
		const struct service *s = &p->services[i];

		if (s->name && strlen(p->name) + 1 + strlen(s->name) > MAX_DOCKER_NAME)
			verr(v, s->pos, "spec.services[%zu].name|container name "
			     "'%.32s...-%s' would be longer than %d characters", i,
			     p->name, s->name, MAX_DOCKER_NAME);
	}
	for (i = 0; p->name && i < p->nvolumes; i++) {
		const struct volume *vol = &p->volumes[i];

		if (vol->name && volume_is_docker(vol) &&
		    5 + strlen(p->name) + 1 + strlen(vol->name) > MAX_DOCKER_NAME)
			verr(v, vol->pos, "spec.volumes[%zu].name|volume name "
			     "'cara-%.32s...-%s' would be longer than %d characters",
			     i, p->name, vol->name, MAX_DOCKER_NAME);
	}
}

/* Networks declared once, joined only when declared (or the default one),
 * each once a service. */
static void check_networks(struct vctx *v)
{
	const struct project *p = v->p;
	const char **names = xcalloc(p->nnetworks + 1, sizeof(*names));
	struct pos *pos = xcalloc(p->nnetworks + 1, sizeof(*pos));
	struct buf h = BUF_INIT;
	size_t i, k, j;

	for (i = 0; i < p->nnetworks; i++) {
		names[i] = p->networks[i].name;
		pos[i] = p->networks[i].pos;
	}
	check_duplicates(v, names, pos, p->nnetworks, "spec.networks", "network");
	for (i = 0; i < p->nservices; i++) {
		const struct service *s = &p->services[i];

		for (k = 0; k < s->nnets; k++) {
			const char *n = s->nets[k].name;

			if (!n || !n[0])
				continue;
			if (strcmp(n, NETWORK_DEFAULT) && !project_find_network(p, n))
				verr(v, s->nets[k].pos, "spec.services[%zu].networks[%zu]|"
				     "network '%s' is not declared in spec.networks%s",
				     i, k, n, hint(&h, n, names, p->nnetworks));
			for (j = 0; j < k; j++)
				if (s->nets[j].name && !strcmp(s->nets[j].name, n)) {
					verr(v, s->nets[k].pos, "spec.services[%zu]."
					     "networks[%zu]|network '%s' is joined twice "
					     "(also at line %d)", i, k, n,
					     s->nets[j].pos.line);
					break;
				}
		}
	}
	buf_release(&h);
	free(pos);
	free(names);
}

static void check_env(struct vctx *v, size_t si)
{
	const struct service *s = &v->p->services[si];
	struct name_ix *ix = xcalloc(s->nenv + 1, sizeof(*ix));
	size_t i;

	for (i = 0; i < s->nenv; i++) {
		ix[i].name = s->env[i].name ? s->env[i].name : "";
		ix[i].idx = i;
	}
	sort_items(ix, s->nenv, sizeof(*ix), name_ix_cmp);
	for (i = 1; i < s->nenv; i++) {
		size_t first = i - 1;

		if (!ix[i].name[0] || strcmp(ix[i].name, ix[i - 1].name))
			continue;
		while (first > 0 && !strcmp(ix[first - 1].name, ix[i].name))
			first--;
		verr(v, s->env[ix[i].idx].pos, "spec.services[%zu].env[%zu].name|"
		     "duplicate environment variable '%s' (first set at line %d)",
		     si, ix[i].idx, ix[i].name, s->env[ix[first].idx].pos.line);
	}
	free(ix);
}

static void check_mounts(struct vctx *v, size_t si, const char *const *volnames)
{
	const struct project *p = v->p;
	const struct service *s = &p->services[si];
	struct name_ix *ix = xcalloc(s->nmounts + 1, sizeof(*ix));
	char **clean = xcalloc(s->nmounts + 1, sizeof(*clean));
	struct buf h = BUF_INIT;
	size_t i;

	for (i = 0; i < s->nmounts; i++) {
		const struct mount *m = &s->mounts[i];

		if (m->name && m->name[0] && !project_find_volume(p, m->name))
			verr(v, m->pos, "spec.services[%zu].volumeMounts[%zu].name|"
			     "volume '%s' is not declared in spec.volumes%s", si, i,
			     m->name, hint(&h, m->name, volnames, p->nvolumes));
		/* compared as the Engine will see them: "/d/" is "/d" */
		clean[i] = m->mount_path && m->mount_path[0] == '/' ?
			   path_clean(m->mount_path) : xstrdup("");
		if (!strcmp(clean[i], "/"))
			verr(v, m->pos, "spec.services[%zu].volumeMounts[%zu].mountPath|"
			     "'%s' is the container's root: a volume cannot be "
			     "mounted there", si, i, m->mount_path);
		ix[i].name = clean[i];
		ix[i].idx = i;
	}
	sort_items(ix, s->nmounts, sizeof(*ix), name_ix_cmp);
	for (i = 1; i < s->nmounts; i++)
		if (ix[i].name[0] && strcmp(ix[i].name, "/") &&
		    !strcmp(ix[i].name, ix[i - 1].name))
			verr(v, s->mounts[ix[i].idx].pos, "spec.services[%zu]."
			     "volumeMounts[%zu].mountPath|'%s' is mounted twice "
			     "(also as '%s' at line %d)", si, ix[i].idx,
			     s->mounts[ix[i].idx].mount_path,
			     s->mounts[ix[i - 1].idx].mount_path,
			     s->mounts[ix[i - 1].idx].pos.line);
	for (i = 0; i < s->nmounts; i++)
		free(clean[i]);
	free(clean);
	buf_release(&h);
	free(ix);
}

static void check_deps(struct vctx *v, size_t si, const struct name_ix *six,
		       const char *const *svcnames)
{
	const struct project *p = v->p;
	const struct service *s = &p->services[si];
	struct buf h = BUF_INIT;
	size_t k, j;

	for (k = 0; k < s->ndeps; k++) {
		const struct dependency *dp = &s->deps[k];
		size_t ti;
		const struct service *t;

		if (!dp->service || !dp->service[0])
			continue;
		ti = name_ix_find(six, p->nservices, dp->service);
		if (ti == SIZE_MAX) {
			verr(v, dp->pos, "spec.services[%zu].dependsOn[%zu].service|"
			     "unknown service '%s'%s", si, k, dp->service,
			     hint(&h, dp->service, svcnames, p->nservices));
			continue;
		}
		if (ti == si) {
			verr(v, dp->pos, "spec.services[%zu].dependsOn[%zu].service|"
			     "service '%s' depends on itself", si, k, dp->service);
			continue;
		}
		for (j = 0; j < k; j++)
			if (s->deps[j].service && !strcmp(s->deps[j].service, dp->service))
				break;
		if (j < k)
			vwarn(v, dp->pos, "spec.services[%zu].dependsOn[%zu].service|"
			      "'%s' is listed twice (first at line %d)", si, k,
			      dp->service, s->deps[j].pos.line);
		t = &p->services[ti];
		if (dp->condition == DEP_COMPLETED && t->restart != RESTART_NO &&
		    t->restart != RESTART_ON_FAILURE)
			vwarn(v, dp->pos, "spec.services[%zu].dependsOn[%zu].condition|"
			      "Completed waits for '%s' to exit, but its restart "
			      "policy '%s' restarts it: set restart: \"no\" or "
			      "on-failure on '%s'", si, k, t->name,
			      restart_policy_name(t->restart), t->name);
		if (dp->condition == DEP_HEALTHY && t->health.present &&
		    t->health.test.n && !strcmp(t->health.test.v[0], "NONE"))
			verr(v, dp->pos, "spec.services[%zu].dependsOn[%zu].condition|"
			     "Healthy waits for '%s', whose healthcheck is disabled "
			     "(NONE)", si, k, t->name);
		else if (dp->condition == DEP_HEALTHY && !t->health.present)
			vwarn(v, dp->pos, "spec.services[%zu].dependsOn[%zu].condition|"
			      "Healthy waits for '%s', which has no healthcheck here: "
			      "its image must define one", si, k, t->name);
	}
	buf_release(&h);
}

/*
 * dependsOn cycles: an iterative depth-first search in file order; each
 * edge to a service still on the stack closes a cycle, reported once at
 * the dependsOn entry that closes it.
 */
static void check_cycles(struct vctx *v, const struct name_ix *six)
{
	const struct project *p = v->p;
	size_t n = p->nservices, root, i;
	unsigned char *color = xcalloc(n + 1, 1);   /* 0 new, 1 on stack, 2 done */
	size_t *stack = xcalloc(n + 1, sizeof(*stack));
	size_t *edge = xcalloc(n + 1, sizeof(*edge));
	size_t *depth = xcalloc(n + 1, sizeof(*depth));
	struct buf b = BUF_INIT;

	for (root = 0; root < n; root++) {
		size_t sp = 0;

		if (color[root])
			continue;
		stack[sp] = root;
		edge[sp] = 0;
		depth[root] = sp;
		color[root] = 1;
		sp++;
		while (sp) {
			size_t u = stack[sp - 1], k = edge[sp - 1]++, w;
			const struct service *s = &p->services[u];

			if (k >= s->ndeps) {
				color[u] = 2;
				sp--;
				continue;
			}
			w = name_ix_find(six, n, s->deps[k].service);
			if (w == SIZE_MAX || w == u)
				continue;
			if (color[w] == 0) {
				color[w] = 1;
				depth[w] = sp;
				stack[sp] = w;
				edge[sp] = 0;
				sp++;
			} else if (color[w] == 1) {
				/* long cycles: the first few services and the last */
				buf_reset(&b);
				for (i = depth[w]; i < sp; i++) {
					if (i - depth[w] == 6 && sp - i > 2) {
						buf_printf(&b, "... (%zu services) -> ",
							   sp - depth[w]);
						i = sp - 2;
						continue;
					}
					buf_printf(&b, "%s -> ", p->services[stack[i]].name);
				}
				buf_puts(&b, p->services[w].name);
				verr(v, s->deps[k].pos, "spec.services[%zu].dependsOn[%zu]."
				     "service|dependency cycle: %s", u, k, buf_cstr(&b));
			}
		}
	}
	buf_release(&b);
	free(depth);
	free(edge);
	free(stack);
	free(color);
}

/*
 * A rule's port that its service is known not to listen on: known when
 * the service declares the ports it serves (ports' containerPort,
 * compose's expose); a service that declares none may listen anywhere.
 */
static void check_ingress_port(struct vctx *v, const struct ingress *in, size_t i)
{
	const struct service *s = project_find_service(v->p, in->target_service);
	struct buf known = BUF_INIT;
	size_t k;

	if (!s || (!s->nports && !s->expose.n) || in->target_port <= 0)
		return;
	for (k = 0; k < s->nports; k++) {
		if (s->ports[k].container_port == in->target_port)
			goto out;
		buf_printf(&known, "%s%d", known.len ? ", " : "", s->ports[k].container_port);
	}
	for (k = 0; k < s->expose.n; k++) {
		long long port;
		const char *e = s->expose.v[k], *slash = strchr(e, '/');
		char *num = slash ? xstrndup(e, (size_t)(slash - e)) : xstrdup(e);
		int r = parse_ll(num, 1, 65535, &port);

		free(num);
		if (r == 0 && port == in->target_port)
			goto out;
		buf_printf(&known, "%s%s", known.len ? ", " : "", e);
	}
	vwarn(v, in->pos, "spec.ingress[%zu].target.port|service '%s' does not "
	      "listen on port %d (it declares %s): the route will answer 502", i,
	      s->name, in->target_port, buf_cstr(&known));
out:
	buf_release(&known);
}

static void check_ingress(struct vctx *v, const struct name_ix *six,
			  const char *const *svcnames)
{
	const struct project *p = v->p;
	struct buf h = BUF_INIT;
	size_t i;

	for (i = 0; i < p->ningress; i++) {
		const struct ingress *in = &p->ingress[i];

		if (!in->target_service || !in->target_service[0])
			continue;
		if (name_ix_find(six, p->nservices, in->target_service) == SIZE_MAX)
			verr(v, in->pos, "spec.ingress[%zu].target.service|unknown "
			     "service '%s'%s", i, in->target_service,
			     hint(&h, in->target_service, svcnames, p->nservices));
		else
			check_ingress_port(v, in, i);
	}
	buf_release(&h);
}

void manifest_validate_project(struct project *p, struct diags *d)
{
	struct vctx v = { p, d, 0 };
	struct name_ix *six = service_index(p);
	const char **svcnames = xcalloc(p->nservices + 1, sizeof(*svcnames));
	const char **volnames = xcalloc(p->nvolumes + 1, sizeof(*volnames));
	size_t i;

	for (i = 0; i < p->nservices; i++)
		svcnames[i] = p->services[i].name ? p->services[i].name : "";
	for (i = 0; i < p->nvolumes; i++)
		volnames[i] = p->volumes[i].name ? p->volumes[i].name : "";
	check_names(&v);
	check_networks(&v);
	for (i = 0; i < p->nservices; i++) {
		check_env(&v, i);
		check_mounts(&v, i, volnames);
		check_deps(&v, i, six, svcnames);
	}
	check_cycles(&v, six);
	check_ingress(&v, six, svcnames);
	if (v.n > MAX_FINDINGS)
		diags_add(d, DIAG_ERROR, p->file, p->pos.line, p->pos.col, "",
			  "%zu more problems in project '%s' not shown",
			  v.n - MAX_FINDINGS, p->name ? p->name : "");
	free(volnames);
	free(svcnames);
	free(six);
}

/* ---- across the projects of a source ---- */

struct named {
	const char *name;        /* compared */
	size_t proj, item, sub;  /* order: file order */
	struct pos pos;
};

static int named_cmp(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	if (x->proj != y->proj)
		return x->proj < y->proj ? -1 : 1;
	if (x->item != y->item)
		return x->item < y->item ? -1 : 1;
	return x->sub < y->sub ? -1 : x->sub > y->sub;
}

/* Findings across projects, capped like those of one project. */
struct sctx {
	struct project_set *set;
	struct diags *d;
	size_t n;
	const char *hidden_file;   /* of the first finding not shown */
};

static void set_error(struct sctx *s, struct project *p, struct pos pos,
		      const char *path, const char *fmt, ...) PRINTF_LIKE(5, 6);

static void set_error(struct sctx *s, struct project *p, struct pos pos,
		      const char *path, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	char *fpath;
	va_list ap;

	p->valid = false;
	if (++s->n > MAX_FINDINGS * 5) {
		if (!s->hidden_file)
			s->hidden_file = p->file;
		return;
	}
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	fpath = project_field_path(p, path);
	diags_add(s->d, DIAG_ERROR, p->file, pos.line, pos.col, fpath, "%s",
		  buf_cstr(&b));
	free(fpath);
	buf_release(&b);
}

static void set_duplicate_projects(struct sctx *s)
{
	struct project_set *set = s->set;
	struct named *v = xcalloc(set->n + 1, sizeof(*v));
	size_t i, n = 0, first = 0;

	for (i = 0; i < set->n; i++) {
		if (!set->v[i].name)
			continue;
		v[n].name = set->v[i].name;
		v[n].proj = i;
		v[n].pos = set->v[i].pos;
		n++;
	}
	sort_items(v, n, sizeof(*v), named_cmp);
	for (i = 1; i < n; i++) {
		struct project *a, *b;

		if (strcmp(v[i].name, v[i - 1].name)) {
			first = i;
			continue;
		}
		a = &set->v[v[first].proj];
		b = &set->v[v[i].proj];
		a->valid = false;
		set_error(s, b, b->pos, "metadata.name", "project '%s' is already "
			  "defined at %s:%d:%d; neither is applied until one is "
			  "renamed or removed", b->name, a->file, a->pos.line,
			  a->pos.col);
	}
	free(v);
}

/* Docker names built from two parts ("a-b" + "c" and "a" + "b-c") can meet. */
static void set_docker_names(struct sctx *s)
{
	struct project_set *set = s->set;
	struct named *v = NULL;
	size_t n = 0, cap = 0, i, j, pass;

	for (pass = 0; pass < 2; pass++) {
		n = 0;
		for (i = 0; i < set->n; i++) {
			const struct project *p = &set->v[i];
			size_t cnt = pass ? p->nvolumes : p->nservices;

			for (j = 0; p->name && j < cnt; j++) {
				const char *item = pass ? p->volumes[j].name :
						   p->services[j].name;

				if (!item || !item[0] ||
				    (pass && !volume_is_docker(&p->volumes[j])))
					continue;
				GROW(v, cap, n + 1);
				v[n].name = xasprintf("%s-%s", p->name, item);
				v[n].proj = i;
				v[n].item = j;
				v[n].pos = pass ? p->volumes[j].pos : p->services[j].pos;
				n++;
			}
		}
		sort_items(v, n, sizeof(*v), named_cmp);
		for (i = 1; i < n; i++) {
			struct project *a = &set->v[v[i - 1].proj];
			struct project *b = &set->v[v[i].proj];
			char *path;

			if (strcmp(v[i].name, v[i - 1].name) ||
			    !strcmp(a->name, b->name))
				continue;
			path = xasprintf("spec.%s[%zu].name", pass ? "volumes" :
					 "services", v[i].item);
			set_error(s, b, v[i].pos, path, "%s name '%s%s' is also the "
				  "name of project '%s' %s '%s' (%s:%d:%d)",
				  pass ? "volume" : "container", pass ? "cara-" : "",
				  v[i].name, a->name, pass ? "volume" : "service",
				  pass ? a->volumes[v[i - 1].item].name :
				  a->services[v[i - 1].item].name, a->file,
				  v[i - 1].pos.line, v[i - 1].pos.col);
			free(path);
		}
		for (i = 0; i < n; i++)
			free((char *)v[i].name);
	}
	free(v);
}

static void set_ingress_hosts(struct sctx *s)
{
	struct project_set *set = s->set;
	struct named *v = NULL;
	size_t n = 0, cap = 0, i, j;

	for (i = 0; i < set->n; i++)
		for (j = 0; j < set->v[i].ningress; j++) {
			const struct ingress *in = &set->v[i].ingress[j];

			if (!in->fqdn || !in->fqdn[0])
				continue;
			GROW(v, cap, n + 1);
			v[n].name = in->fqdn;
			v[n].proj = i;
			v[n].item = j;
			v[n].pos = in->pos;
			n++;
		}
	sort_items(v, n, sizeof(*v), named_cmp);
	for (i = 1; i < n; i++) {
		struct project *a = &set->v[v[i - 1].proj];
		struct project *b = &set->v[v[i].proj];
		char *path;

		if (strcmp(v[i].name, v[i - 1].name))
			continue;
		path = xasprintf("spec.ingress[%zu].host", v[i].item);
		set_error(s, b, v[i].pos, path, "host '%s' is already routed by "
			  "project '%s' ingress '%s' (%s:%d:%d)", v[i].name, a->name,
			  a->ingress[v[i - 1].item].name, a->file, v[i - 1].pos.line,
			  v[i - 1].pos.col);
		free(path);
	}
	free(v);
}

/*
 * The names services answer to on External networks.  Containers of many
 * projects (and of other tools) share such a network, and Docker answers a
 * name with every container that has it there (its container name, its
 * service's name, its aliases), so a second project holding a name splits
 * the lookups of the first: a pushed file could take traffic meant for
 * another project's service.  Two services' own names may meet (compose
 * does the same, and a proxy network that many projects join by service
 * name is common); any other meeting of two projects' names is refused:
 * of the weaker claim (an alias or container_name is weaker than a
 * service's name, which is weaker than a container's name), or of two
 * alike, the later.
 */
enum claim_kind { CLAIM_ALIAS, CLAIM_SERVICE, CLAIM_CONTAINER };

struct claim {
	struct named n;          /* name: "NETWORK/NAME"; first, for named_cmp */
	enum claim_kind kind;
	int netlen;              /* of the network's Docker name in n.name */
};

static void claim_push(struct claim **v, size_t *n, size_t *cap, size_t proj,
		       size_t svc, size_t join, struct pos pos, const char *net,
		       const char *as, enum claim_kind kind)
{
	struct claim *c;

	GROW(*v, *cap, *n + 1);
	c = &(*v)[(*n)++];
	c->n.name = xasprintf("%s/%s", net, as);
	c->n.proj = proj;
	c->n.item = svc;
	c->n.sub = join;
	c->n.pos = pos;
	c->kind = kind;
	c->netlen = (int)strlen(net);
}

static void report_claim(struct sctx *s, const struct claim *c,
			 const struct claim *owner)
{
	static const char *const what[] = { "an alias", "the name",
					    "the container name" };
	struct project *a = &s->set->v[owner->n.proj];
	struct project *b = &s->set->v[c->n.proj];
	const struct service *sv = &b->services[c->n.item];
	char *path = c->kind != CLAIM_ALIAS ?
		     xasprintf("spec.services[%zu].name", c->n.item) : sv->nnets ?
		     xasprintf("spec.services[%zu].networks[%zu].aliases",
			       c->n.item, c->n.sub) :
		     xasprintf("spec.services[%zu].aliases", c->n.item);

	set_error(s, b, c->n.pos, path, "'%s' on external network '%.*s' is "
		  "%s of project '%s' service '%s' there (%s:%d:%d): Docker "
		  "would split its lookups between the two; choose another name",
		  c->n.name + c->netlen + 1, c->netlen, c->n.name,
		  what[owner->kind], a->name, a->services[owner->n.item].name,
		  a->file, owner->n.pos.line, owner->n.pos.col);
	free(path);
}

static void set_external_aliases(struct sctx *s)
{
	struct project_set *set = s->set;
	struct claim *v = NULL;
	size_t n = 0, cap = 0, i, j, k, a, start;

	for (i = 0; i < set->n; i++) {
		const struct project *p = &set->v[i];

		for (j = 0; p->name && j < p->nservices; j++) {
			const struct service *sv = &p->services[j];

			for (k = 0; sv->name && k < network_joins(sv); k++) {
				const struct strvec *al;
				const char *key = network_join(sv, k, &al);
				struct pos pos = sv->nnets ? sv->nets[k].pos : sv->pos;
				char *net, *cname;

				if (!network_is_external(p, key))
					continue;
				net = network_docker_name(p, key);
				cname = name_container(p->name, sv->name);
				claim_push(&v, &n, &cap, i, j, k, sv->pos, net, cname,
					   CLAIM_CONTAINER);
				claim_push(&v, &n, &cap, i, j, k, sv->pos, net, sv->name,
					   CLAIM_SERVICE);
				for (a = 0; a < al->n; a++)
					claim_push(&v, &n, &cap, i, j, k, pos, net,
						   al->v[a], CLAIM_ALIAS);
				free(cname);
				free(net);
			}
		}
	}
	/* named_cmp sees the struct named each claim begins with: a name's
	 * claims together, in file order */
	sort_items(v, n, sizeof(*v), named_cmp);
	for (start = 0; start < n; start = i) {
		size_t owner = start;

		for (i = start; i < n && !strcmp(v[i].n.name, v[start].n.name); i++)
			if (v[i].kind > v[owner].kind)
				owner = i;   /* the strongest, the first of those */
		for (j = start; j < i; j++) {
			const struct project *po = &set->v[v[owner].n.proj];
			const struct project *pj = &set->v[v[j].n.proj];

			/* one project (defined twice: an error of its own);
			 * two service names; two container names, which
			 * set_docker_names reports */
			if (!strcmp(po->name, pj->name) ||
			    (v[j].kind == v[owner].kind && v[j].kind != CLAIM_ALIAS))
				continue;
			report_claim(s, &v[j], &v[owner]);
		}
	}
	for (i = 0; i < n; i++)
		free((char *)v[i].n.name);
	free(v);
}

/* ---- host ports bound twice ---- */

struct binding {
	int port;
	const char *proto;
	const char *ip;          /* normalised by the parser; "" = any address */
	const char *node;        /* its project's placement.node, or NULL */
	size_t proj, svc, idx;   /* file order */
	size_t order;
};

/* Is p placed on the node called `node` by name (placement.node)? */
static bool placed_on(const struct project *p, const char *node)
{
	return p->placement.node && !strcasecmp(p->placement.node, node);
}

static bool wildcard(const char *ip)
{
	return !*ip || !strcmp(ip, "0.0.0.0") || !strcmp(ip, "::");
}

static int binding_cmp(const void *a, const void *b)
{
	const struct binding *x = a, *y = b;
	int c;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if ((c = strcmp(x->proto, y->proto)))
		return c;
	if ((c = strcmp(x->ip, y->ip)))
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void report_binding(struct sctx *s, const struct binding *b,
			   const struct binding *first)
{
	struct project_set *set = s->set;
	struct project *pb = &set->v[b->proj], *pa = &set->v[first->proj];
	const struct port *pt = &pb->services[b->svc].ports[b->idx];
	const struct port *pf = &pa->services[first->svc].ports[first->idx];
	char *path = xasprintf("spec.services[%zu].ports[%zu].hostPort", b->svc,
			       b->idx);

	set_error(s, pb, pt->pos, path, "host port %s:%d/%s is already bound by "
		  "project '%s' service '%s' (%s:%d:%d)",
		  wildcard(b->ip) ? "0.0.0.0" : b->ip, b->port, b->proto, pa->name,
		  pa->services[first->svc].name, pa->file, pf->pos.line,
		  pf->pos.col);
	free(path);
}

/*
 * Within one (port, protocol) group, sorted by address then file order:
 * a binding conflicts with the earliest earlier binding on the same
 * address, on any address (wildcard), or, being a wildcard itself, with
 * the earliest earlier binding of the group.
 */
static void check_port_group(struct sctx *s, struct binding *g, size_t n,
			     const char *focus)
{
	const struct binding *first_any = NULL, *first_wild = NULL;
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		if (!first_any || g[i].order < first_any->order)
			first_any = &g[i];
		if (wildcard(g[i].ip) && (!first_wild || g[i].order < first_wild->order))
			first_wild = &g[i];
	}
	for (i = 0; i < n; i++) {
		const struct binding *partner = NULL;

		if (i && strcmp(g[i].ip, g[i - 1].ip))
			run = i;
		if (run < i)
			partner = &g[run];
		if (first_wild && first_wild->order < g[i].order &&
		    (!partner || first_wild->order < partner->order))
			partner = first_wild;
		if (wildcard(g[i].ip) && first_any->order < g[i].order &&
		    (!partner || first_any->order < partner->order))
			partner = first_any;
		if (partner && (!focus || placed_on(&s->set->v[g[i].proj], focus) ||
				placed_on(&s->set->v[partner->proj], focus)))
			report_binding(s, &g[i], partner);
	}
}

/*
 * Host ports bound twice on one host.  Projects placed on different nodes
 * by name (placement.node) never share a host; a project that names no
 * node (unplaced: every host; nodeSelector only: any host) may share one
 * with any other.  So within one (port, protocol) group the bindings
 * that name no node are checked against each other, then those of each
 * node against themselves and the ones that name no node, reporting only
 * conflicts that involve that node (none twice).  Linear in the bindings
 * after sorting, unless many bindings that name no node share a port
 * with many nodes.
 */
struct port_run {
	struct binding *v;
	size_t n, cap;
};

static void run_add(struct port_run *r, const struct binding *b)
{
	GROW(r->v, r->cap, r->n + 1);
	r->v[r->n++] = *b;
}

static int binding_node_cmp(const void *a, const void *b)
{
	const struct binding *x = a, *y = b;
	int c = strcasecmp(x->node, y->node);

	return c ? c : binding_cmp(a, b);
}

static void check_port_nodes(struct sctx *s, struct binding *g, size_t n)
{
	struct port_run any = { 0 }, placed = { 0 }, run = { 0 };
	size_t i, j, k;

	for (i = 0; i < n; i++)
		run_add(g[i].node ? &placed : &any, &g[i]);
	if (any.n > 1)
		check_port_group(s, any.v, any.n, NULL);
	sort_items(placed.v, placed.n, sizeof(*placed.v), binding_node_cmp);
	for (i = 0; i < placed.n; i = j) {
		for (j = i + 1; j < placed.n &&
		     !strcasecmp(placed.v[j].node, placed.v[i].node); j++)
			;
		run.n = 0;
		for (k = i; k < j; k++)
			run_add(&run, &placed.v[k]);
		for (k = 0; k < any.n; k++)
			run_add(&run, &any.v[k]);
		if (run.n > 1) {
			sort_items(run.v, run.n, sizeof(*run.v), binding_cmp);
			check_port_group(s, run.v, run.n, placed.v[i].node);
		}
	}
	free(any.v);
	free(placed.v);
	free(run.v);
}

static void set_ports(struct sctx *s)
{
	struct project_set *set = s->set;
	struct binding *v = NULL;
	size_t n = 0, cap = 0, i, j, k, start;
	bool nodes;

	for (i = 0; i < set->n; i++) {
		const struct project *p = &set->v[i];

		for (j = 0; j < p->nservices; j++)
			for (k = 0; k < p->services[j].nports; k++) {
				const struct port *pt = &p->services[j].ports[k];

				if (pt->host_port <= 0)
					continue;
				GROW(v, cap, n + 1);
				v[n].port = pt->host_port;
				v[n].proto = pt->protocol && *pt->protocol ?
					     pt->protocol : "tcp";
				v[n].ip = pt->host_ip ? pt->host_ip : "";
				if (wildcard(v[n].ip))
					v[n].ip = "";
				v[n].node = p->placement.node;
				v[n].proj = i;
				v[n].svc = j;
				v[n].idx = k;
				v[n].order = n;
				n++;
			}
	}
	sort_items(v, n, sizeof(*v), binding_cmp);
	for (start = 0; start < n; start = i) {
		nodes = v[start].node != NULL;
		for (i = start + 1; i < n && v[i].port == v[start].port &&
		     !strcmp(v[i].proto, v[start].proto); i++)
			nodes = nodes || v[i].node;
		if (i - start > 1 && nodes)
			check_port_nodes(s, v + start, i - start);
		else if (i - start > 1)
			check_port_group(s, v + start, i - start, NULL);
	}
	free(v);
}

void manifest_validate_set(struct project_set *set, struct diags *d)
{
	struct sctx s = { set, d, 0, NULL };

	set_duplicate_projects(&s);
	set_docker_names(&s);
	set_ingress_hosts(&s);
	set_external_aliases(&s);
	set_ports(&s);
	if (s.n > MAX_FINDINGS * 5)
		diags_add(d, DIAG_ERROR, s.hidden_file, 1, 1, "", "%zu more "
			  "conflicts between projects not shown",
			  s.n - MAX_FINDINGS * 5);
}
