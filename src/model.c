/*
 * model.c - the Project model's lifecycle, lookups and the one order of a
 * project's services.  Pure: no I/O, no Docker, no YAML.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "names.h"

/* ---- service order ---- */

/* A binary min-heap of indexes: the ready service that comes first in the file. */
static void heap_push(size_t *h, size_t *n, size_t x)
{
	size_t i = (*n)++;

	while (i && h[(i - 1) / 2] > x) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = x;
}

static size_t heap_pop(size_t *h, size_t *n)
{
	size_t top = h[0], x = h[--(*n)], i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1] < h[c])
			c++;
		if (h[c] >= x)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = x;
	return top;
}

/* Index in p->services of the service `name`, or SIZE_MAX. */
static size_t service_index(const struct project *p,
			    const struct service **by_name, const char *name)
{
	const struct service *s = project_lookup_service(by_name, p->nservices, name);

	return s ? (size_t)(s - p->services) : SIZE_MAX;
}

int project_service_order(const struct project *p, size_t *out)
{
	size_t n = p->nservices, i, k, m = 0, nh = 0, ne = 0;
	const struct service **six = project_services_by_name(p);
	size_t *indeg = xcalloc(n + 1, sizeof(*indeg));
	size_t *start = xcalloc(n + 2, sizeof(*start));
	size_t *succ, *fill, *heap = xcalloc(n + 1, sizeof(*heap));
	bool *placed = xcalloc(n + 1, sizeof(*placed));
	int rc = 0;

	/* edges dependency -> dependent, in compressed rows */
	for (i = 0; i < n; i++)
		for (k = 0; k < p->services[i].ndeps; k++) {
			size_t t = service_index(p, six, p->services[i].deps[k].service);

			if (t != SIZE_MAX && t != i) {
				start[t + 1]++;
				ne++;
			}
		}
	for (i = 0; i < n; i++)
		start[i + 1] += start[i];
	succ = xcalloc(ne + 1, sizeof(*succ));
	fill = xcalloc(n + 1, sizeof(*fill));
	for (i = 0; i < n; i++)
		for (k = 0; k < p->services[i].ndeps; k++) {
			size_t t = service_index(p, six, p->services[i].deps[k].service);

			if (t != SIZE_MAX && t != i) {
				succ[start[t] + fill[t]++] = i;
				indeg[i]++;
			}
		}
	for (i = 0; i < n; i++)
		if (!indeg[i])
			heap_push(heap, &nh, i);
	while (nh) {
		size_t u = heap_pop(heap, &nh);

		out[m++] = u;
		placed[u] = true;
		for (k = start[u]; k < start[u + 1]; k++)
			if (--indeg[succ[k]] == 0)
				heap_push(heap, &nh, succ[k]);
	}
	if (m < n) {
		/* a cycle: the rest in file order, so out is still complete */
		for (i = 0; i < n; i++)
			if (!placed[i])
				out[m++] = i;
		rc = -1;
	}
	free(placed);
	free(heap);
	free(fill);
	free(succ);
	free(start);
	free(indeg);
	free(six);
	return rc;
}

/* ---- the model ---- */

void kvlist_release(struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void volume_release(struct volume *v)
{
	size_t k;

	free(v->name);
	free(v->host_path);
	free(v->external_name);
	free(v->source_path);
	for (k = 0; k < v->nfiles; k++) {
		free(v->files[k].path);
		free(v->files[k].data);
	}
	free(v->files);
}

void build_free(struct build *b)
{
	if (!b)
		return;
	if (b->context) {
		volume_release(b->context);
		free(b->context);
	}
	free(b->dockerfile);
	kvlist_release(&b->args);
	free(b->target);
	free(b->tag);
	strvec_release(&b->from);
	free(b);
}

void service_release(struct service *s)
{
	size_t i;

	free(s->name);
	free(s->image);
	strvec_release(&s->command);
	strvec_release(&s->entrypoint);
	free(s->working_dir);
	free(s->user);
	for (i = 0; i < s->nenv; i++) {
		free(s->env[i].name);
		if (s->env[i].value)   /* may have come from the environment */
			memset(s->env[i].value, 0, strlen(s->env[i].value));
		free(s->env[i].value);
		free(s->env[i].secret_name);
		free(s->env[i].secret_key);
	}
	free(s->env);
	for (i = 0; i < s->nmounts; i++) {
		free(s->mounts[i].name);
		free(s->mounts[i].mount_path);
	}
	free(s->mounts);
	for (i = 0; i < s->nsecrets; i++) {
		free(s->secrets[i].secret_name);
		free(s->secrets[i].secret_key);
		free(s->secrets[i].target);
	}
	free(s->secrets);
	for (i = 0; i < s->nports; i++) {
		free(s->ports[i].host_ip);
		free(s->ports[i].protocol);
	}
	free(s->ports);
	strvec_release(&s->health.test);
	for (i = 0; i < s->ndeps; i++)
		free(s->deps[i].service);
	free(s->deps);
	kvlist_release(&s->labels);
	strvec_release(&s->cap_add);
	strvec_release(&s->cap_drop);
	strvec_release(&s->tmpfs);
	free(s->hostname);
	free(s->stop_signal);
	strvec_release(&s->extra_hosts);
	strvec_release(&s->dns);
	kvlist_release(&s->sysctls);
	for (i = 0; i < s->nulimits; i++)
		free(s->ulimits[i].name);
	free(s->ulimits);
	strvec_release(&s->security_opt);
	strvec_release(&s->expose);
	strvec_release(&s->aliases);
	for (i = 0; i < s->nnets; i++) {
		free(s->nets[i].name);
		strvec_release(&s->nets[i].aliases);
	}
	free(s->nets);
	strvec_release(&s->devices);
	free(s->log_driver);
	kvlist_release(&s->log_opts);
	free(s->domainname);
	strvec_release(&s->group_add);
	strvec_release(&s->dns_search);
	strvec_release(&s->dns_opt);
	free(s->endpoint_mode);
	strvec_release(&s->constraints);
	strvec_release(&s->preferences);
	build_free(s->build);
	free(s->spec_hash);
	free(s->spec_fields);
}

static void project_release(struct project *p)
{
	size_t i;

	free(p->name);
	free(p->file);
	free(p->secret_missing);
	kvlist_release(&p->labels);
	kvlist_release(&p->annotations);
	for (i = 0; i < p->nservices; i++)
		service_release(&p->services[i]);
	free(p->services);
	for (i = 0; i < p->nvolumes; i++)
		volume_release(&p->volumes[i]);
	free(p->volumes);
	for (i = 0; i < p->nnetworks; i++) {
		free(p->networks[i].name);
		free(p->networks[i].external_name);
	}
	free(p->networks);
	for (i = 0; i < p->ningress; i++) {
		free(p->ingress[i].name);
		free(p->ingress[i].host);
		free(p->ingress[i].fqdn);
		free(p->ingress[i].target_service);
		free(p->ingress[i].scope);
	}
	free(p->ingress);
	free(p->placement.node);
	kvlist_release(&p->placement.selector);
	memset(p, 0, sizeof(*p));
}

void project_set_release(struct project_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		project_release(&set->v[i]);
	free(set->v);
	strvec_release(&set->included);
	memset(set, 0, sizeof(*set));
}

void project_set_remove(struct project_set *set, size_t i)
{
	project_release(&set->v[i]);
	memmove(&set->v[i], &set->v[i + 1], (set->n - i - 1) * sizeof(*set->v));
	set->n--;
}

const struct project *project_set_find(const struct project_set *set,
				       const char *name)
{
	size_t i;

	for (i = 0; name && i < set->n; i++)
		if (set->v[i].name && !strcmp(set->v[i].name, name))
			return &set->v[i];
	return NULL;
}

const struct service *project_find_service(const struct project *p,
					   const char *name)
{
	size_t i;

	for (i = 0; name && i < p->nservices; i++)
		if (p->services[i].name && !strcmp(p->services[i].name, name))
			return &p->services[i];
	return NULL;
}

static int cmp_service_ptr(const void *a, const void *b)
{
	const struct service *sa = *(const struct service *const *)a;
	const struct service *sb = *(const struct service *const *)b;

	return strcmp(sa->name ? sa->name : "", sb->name ? sb->name : "");
}

const struct service **project_services_by_name(const struct project *p)
{
	const struct service **v = xcalloc(p->nservices ? p->nservices : 1, sizeof(*v));
	size_t i;

	for (i = 0; i < p->nservices; i++)
		v[i] = &p->services[i];
	qsort(v, p->nservices, sizeof(*v), cmp_service_ptr);
	return v;
}

const struct service *project_lookup_service(const struct service **by_name,
					     size_t n, const char *name)
{
	struct service key;
	const struct service *k = &key, *const *hit;

	if (!name)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.name = (char *)name;
	hit = bsearch(&k, by_name, n, sizeof(*by_name), cmp_service_ptr);
	return hit ? *hit : NULL;
}

const struct volume *project_find_volume(const struct project *p,
					 const char *name)
{
	size_t i;

	for (i = 0; name && i < p->nvolumes; i++)
		if (p->volumes[i].name && !strcmp(p->volumes[i].name, name))
			return &p->volumes[i];
	return NULL;
}

bool project_expired(const struct project *p, int64_t now)
{
	return p->has_expire && p->expire_at <= now;
}

const struct network *project_find_network(const struct project *p,
					   const char *name)
{
	size_t i;

	for (i = 0; name && i < p->nnetworks; i++)
		if (p->networks[i].name && !strcmp(p->networks[i].name, name))
			return &p->networks[i];
	return NULL;
}

size_t network_joins(const struct service *s)
{
	return s->nnets ? s->nnets : 1;
}

const char *network_join(const struct service *s, size_t i,
			 const struct strvec **aliases)
{
	if (!s->nnets) {
		*aliases = &s->aliases;
		return NETWORK_DEFAULT;
	}
	*aliases = &s->nets[i].aliases;
	return s->nets[i].name ? s->nets[i].name : "";
}

bool network_is_external(const struct project *p, const char *name)
{
	const struct network *n = project_find_network(p, name);

	return n && n->external;
}

char *network_docker_name(const struct project *p, const char *name)
{
	const struct network *n = project_find_network(p, name);

	if (n && n->external)
		return xstrdup(n->external_name ? n->external_name : n->name);
	return name_project_network(p->name, name);
}

static bool network_joined(const struct project *p, const char *name)
{
	const struct strvec *al;
	size_t i, k;

	for (i = 0; i < p->nservices; i++)
		for (k = 0; k < network_joins(&p->services[i]); k++)
			if (!strcmp(network_join(&p->services[i], k, &al), name))
				return true;
	return false;
}

void project_made_networks(const struct project *p, struct strvec *out)
{
	size_t i;

	if (!network_is_external(p, NETWORK_DEFAULT) &&
	    network_joined(p, NETWORK_DEFAULT))
		strvec_push(out, NETWORK_DEFAULT);
	for (i = 0; i < p->nnetworks; i++) {
		const struct network *n = &p->networks[i];

		if (n->name && strcmp(n->name, NETWORK_DEFAULT) && !n->external &&
		    network_joined(p, n->name) && !strvec_has(out, n->name))
			strvec_push(out, n->name);
	}
}

/* min to 255 of [a-zA-Z0-9_.-], the first a letter or digit: the names
 * Docker gives its volumes and networks */
static bool docker_name_ok(const char *name, size_t min)
{
	size_t n = strlen(name);

	return n >= min && n <= 255 && isalnum((unsigned char)name[0]) &&
	       strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789_.-") == n;
}

/*
 * An External network may be any Docker network of the host but three
 * kinds: `host` and `none` are not networks but a container's lack of its
 * own namespace (the host's: everything cara isolates); Docker's default
 * `bridge` knows no names, so a service could not be found on it; and a
 * cara-* network is some project's.
 */
const char *network_check_external_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (!n)
		return "an External network needs the name of a Docker network";
	if (!docker_name_ok(name, 1))
		return "not a Docker network name (up to 255 of letters, digits, "
		       "'_', '.', '-', first a letter or digit)";
	if (!strcmp(name, "host") || !strcmp(name, "none"))
		return "the host's network and none are not networks a project "
		       "joins (cara gives every container its own namespace)";
	if (!strcmp(name, "bridge"))
		return "Docker's default bridge resolves no names (a service "
		       "could not be found on it): make a network "
		       "(docker network create NAME) and join that";
	if (!strncmp(name, NAME_PREFIX, strlen(NAME_PREFIX)))
		return "names starting with '" NAME_PREFIX "' are the networks cara "
		       "makes for its projects: cara never joins one as External";
	return NULL;
}

const char *restart_policy_name(enum restart_policy r)
{
	switch (r) {
	case RESTART_DEFAULT: return "unless-stopped";
	case RESTART_NO: return "no";
	case RESTART_ON_FAILURE: return "on-failure";
	case RESTART_UNLESS_STOPPED: return "unless-stopped";
	case RESTART_ALWAYS: return "always";
	}
	return "?";
}

const char *volume_type_name(enum volume_type t)
{
	switch (t) {
	case VOLUME_EPHEMERAL: return "Ephemeral";
	case VOLUME_MANAGED: return "Managed";
	case VOLUME_HOSTPATH: return "HostPath";
	case VOLUME_FILE: return "File";
	case VOLUME_EXTERNAL: return "External";
	}
	return "?";
}

bool volume_is_docker(const struct volume *v)
{
	return v->type != VOLUME_HOSTPATH && v->type != VOLUME_FILE &&
	       v->type != VOLUME_EXTERNAL;
}

char *volume_docker_name(const char *project, const struct volume *v)
{
	if (v->type == VOLUME_EXTERNAL)
		return xstrdup(v->external_name ? v->external_name : v->name);
	return name_volume(project, v->name);
}

/*
 * An External volume may be any Docker volume of the host but cara's own:
 * a cara-* volume is some project's data (its own project's included,
 * which a teardown with --purge-volumes would then remove under it).
 */
const char *volume_check_external_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (!n)
		return "an External volume needs the name of a Docker volume";
	/* Docker's own rule for volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
	if (!docker_name_ok(name, 2))
		return "not a Docker volume name (2 to 255 of letters, digits, "
		       "'_', '.', '-', first a letter or digit)";
	if (!strncmp(name, NAME_PREFIX, strlen(NAME_PREFIX)))
		return "names starting with '" NAME_PREFIX "' are the volumes cara "
		       "makes for its projects: cara never mounts one as External";
	return NULL;
}

/* ---- field paths ---- */

/* Index i of "[i]" at *s, past it; SIZE_MAX when *s holds none. */
static size_t path_index_at(const char **s)
{
	char *end;
	unsigned long long n;

	if (**s != '[' || !isdigit((unsigned char)(*s)[1]))
		return SIZE_MAX;
	n = strtoull(*s + 1, &end, 10);
	if (*end != ']')
		return SIZE_MAX;
	*s = end + 1;
	return (size_t)n;
}

/* Model field names a compose file spells otherwise (the others are the
 * same in snake_case: stopGracePeriod, stop_grace_period). */
static const struct { const char *model, *compose; } compose_names[] = {
	{ "env", "environment" }, { "volumeMounts", "volumes" },
	{ "dependsOn", "depends_on" }, { "imagePullPolicy", "pull_policy" },
	{ "memory", "mem_limit" }, { "readOnly", "read_only" },
	{ "stdinOpen", "stdin_open" }, { "dnsOptions", "dns_opt" },
	/* the default network's names: its aliases, container_name, links */
	{ "aliases", "networks" },
};

/* camelCase segment seg (up to '.' or '['), in compose's spelling */
static void compose_segment(struct buf *b, const char *seg, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(compose_names); i++)
		if (strlen(compose_names[i].model) == len &&
		    !strncmp(compose_names[i].model, seg, len)) {
			buf_puts(b, compose_names[i].compose);
			return;
		}
	for (i = 0; i < len; i++) {
		if (isupper((unsigned char)seg[i]))
			buf_putc(b, '_');
		buf_putc(b, (char)tolower((unsigned char)seg[i]));
	}
}

/* A list whose items compose reads in another order or number (env from
 * env_file too, ports from ranges, volumes with tmpfs) is named whole. */
char *project_field_path(const struct project *p, const char *path)
{
	struct buf b = BUF_INIT;
	const struct service *s;
	const char *r = path, *seg;
	size_t i, k, len;

	if (!p->compose)
		return xstrdup(path);
	if (!strcmp(path, "metadata.name"))
		return xstrdup("name");
	if (!strncmp(path, "spec.ingress", 12) || !strncmp(path, "spec.placement", 14))
		return xasprintf("x-cara.%s", path + 5);
	if (!strncmp(path, "spec.volumes", 12) || !strncmp(path, "spec.networks", 13)) {
		bool vol = path[5] == 'v';

		r = path + (vol ? 12 : 13);
		i = path_index_at(&r);
		if (i == SIZE_MAX || i >= (vol ? p->nvolumes : p->nnetworks))
			return xstrdup(path + 5);
		return xasprintf("%s.%s", vol ? "volumes" : "networks",
				 vol ? p->volumes[i].name : p->networks[i].name);
	}
	if (strncmp(path, "spec.services", 13))
		return xstrdup(path);
	r = path + 13;
	if ((i = path_index_at(&r)) == SIZE_MAX || i >= p->nservices)
		return xstrdup(path + 5);
	s = &p->services[i];
	buf_printf(&b, "services.%s", s->name);
	if (*r != '.' || !strcmp(r, ".name"))
		return buf_detach(&b);
	seg = ++r;
	len = strcspn(seg, ".[");
	r = seg + len;
	buf_putc(&b, '.');
	compose_segment(&b, seg, len);
	k = path_index_at(&r);
	if (len == 3 && !strncmp(seg, "env", 3)) {
		if (k < s->nenv && s->env[k].name)
			buf_printf(&b, ".%s", s->env[k].name);
	} else if (len == 9 && !strncmp(seg, "dependsOn", 9)) {
		if (k < s->ndeps && s->deps[k].service)
			buf_printf(&b, ".%s%s", s->deps[k].service,
				   !strcmp(r, ".condition") ? ".condition" : "");
	} else if (len == 8 && !strncmp(seg, "networks", 8)) {
		if (k < s->nnets && s->nets[k].name)
			buf_printf(&b, ".%s", s->nets[k].name);
	} else if (k == SIZE_MAX) {
		buf_puts(&b, r);    /* a field of its own: healthcheck.test */
	}
	return buf_detach(&b);
}

char *project_path_printf(const struct project *p, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	char *path;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	path = project_field_path(p, buf_cstr(&b));
	buf_release(&b);
	return path;
}
