/*
 * manifest_validate.c - what makes a source of manifests valid, beyond
 * the shape of each file's YAML (that is manifest.c), and the source as a
 * whole: the rules across its projects, and the queries and lifecycle of
 * the model.  (Reading a directory is source_dir.c's.)
 *
 * Rules: names usable in Docker object names, image references, HostPath
 * roots, duplicates, references to undeclared volumes and services,
 * dependsOn cycles and conditions that cannot hold; across a source,
 * duplicate project names, Docker names that collide, ingress hosts and
 * host ports bound twice.  The parser checks each value where it sits
 * with the scalar checks below; manifest_validate_project then checks one
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

#include "manifest.h"

/* Findings per project beyond which validation stops reporting. */
#define MAX_FINDINGS 200
/* Docker volume and container names become directory and file names. */
#define MAX_DOCKER_NAME 255

/* ---- scalar checks shared with the parser ---- */

static bool lower_alnum(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

const char *manifest_check_project_name(const char *s)
{
	size_t i, len = strlen(s);

	if (!len)
		return "must not be empty";
	if (len > 253)
		return "must be at most 253 characters";
	for (i = 0; i < len; i++) {
		if (isupper((unsigned char)s[i]))
			return "must be lowercase";
		if (!lower_alnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.')
			return "may contain only lowercase letters, digits, '-' and '.'";
	}
	if (!lower_alnum((unsigned char)s[0]))
		return "must start with a lowercase letter or a digit";
	if (!lower_alnum((unsigned char)s[len - 1]))
		return "must end with a lowercase letter or a digit";
	return NULL;
}

const char *manifest_check_object_name(const char *s)
{
	size_t i, len = strlen(s);

	if (!len)
		return "must not be empty";
	if (len > 63)
		return "must be at most 63 characters";
	for (i = 0; i < len; i++) {
		if (isupper((unsigned char)s[i]))
			return "must be lowercase";
		if (!lower_alnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return "may contain only lowercase letters, digits, '_', '-' "
			       "and '.'";
	}
	if (!lower_alnum((unsigned char)s[0]))
		return "must start with a lowercase letter or a digit";
	return NULL;
}

const char *manifest_check_env_name(const char *s)
{
	size_t i;

	if (!*s)
		return "must not be empty";
	if (isdigit((unsigned char)s[0]))
		return "must not start with a digit";
	for (i = 0; s[i]; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return "may contain only letters, digits, '_', '-' and '.'";
	return NULL;
}

const char *manifest_check_var_access(const char *name,
				      const struct manifest_options *opts)
{
	size_t i, n = strlen(name);

	if (!strncasecmp(name, "CARA_", 5) || !strncasecmp(name, "DOCKER_", 7) ||
	    !strcasecmp(name, "SSH_AUTH_SOCK") ||
	    (n >= 6 && !strcasecmp(name + n - 6, "_PROXY")))
		return "belongs to cara or its connections: manifests may not read it";
	if (opts && opts->token_env && !strcmp(name, opts->token_env))
		return "holds cara's git token (--token-env): manifests may not read it";
	if (!opts || !opts->ninterp_allow)
		return NULL;
	for (i = 0; i < opts->ninterp_allow; i++)
		if (env_pattern_match(opts->interp_allow[i], name))
			return NULL;
	return "is not in --interpolate-allow: manifests may not read it";
}

/* A registry host: domain components, optionally ":port". */
static const char *check_domain(const char *s, size_t len)
{
	size_t i = 0, start;

	while (i < len && s[i] != ':') {
		start = i;
		while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '-'))
			i++;
		if (i == start || s[start] == '-' || s[i - 1] == '-')
			return "invalid registry host";
		if (i < len && s[i] == '.')
			i++;
		else
			break;
	}
	if (i < len && s[i] == ':') {
		start = ++i;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
		if (i == start || i - start > 5)
			return "invalid registry port";
	}
	return i == len ? NULL : "invalid registry host";
}

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.]|__|-+ */
static const char *check_path_component(const char *s, size_t len)
{
	size_t i;

	if (!len)
		return "empty repository path component";
	for (i = 0; i < len; i++)
		if (isupper((unsigned char)s[i]))
			return "repository name must be lowercase";
	i = 0;
	while (i < len) {
		size_t start = i, sep;

		while (i < len && lower_alnum((unsigned char)s[i]))
			i++;
		if (i == start)
			return "invalid repository name";
		if (i == len)
			break;
		sep = i;
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < len && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < len && s[i] == '-')
				i++;
		} else {
			return "invalid character in repository name";
		}
		if (i == len || i == sep)
			return "invalid repository name";
	}
	return NULL;
}

static bool is_lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return true;
}

const char *manifest_check_image(const char *ref)
{
	const char *at, *name_end, *slash, *colon, *p, *why;
	size_t len = strlen(ref), namelen, i;

	if (!len)
		return "must not be empty";
	if (len > 512)
		return "is too long";
	at = strchr(ref, '@');
	if (at) {
		const char *d = at + 1;

		if (strncmp(d, "sha256:", 7))
			return "digest must be sha256: followed by 64 hex digits";
		if (strlen(d + 7) != 64 || !is_lower_hex(d + 7, 64))
			return "digest must be sha256: followed by 64 lowercase hex digits";
	}
	name_end = at ? at : ref + len;
	/* a tag is after the last ':' that follows the last '/' */
	slash = NULL;
	for (p = ref; p < name_end; p++)
		if (*p == '/')
			slash = p;
	colon = NULL;
	for (p = slash ? slash : ref; p < name_end; p++)
		if (*p == ':')
			colon = p;
	if (colon) {
		size_t tlen = (size_t)(name_end - colon - 1);

		if (!tlen || tlen > 128)
			return "tag must be 1 to 128 characters";
		if (!isalnum((unsigned char)colon[1]) && colon[1] != '_')
			return "tag must start with a letter, digit or '_'";
		for (i = 1; i <= tlen; i++)
			if (!isalnum((unsigned char)colon[i]) && !strchr("_.-", colon[i]))
				return "tag may contain only letters, digits, '_', '.' and '-'";
		name_end = colon;
	}
	namelen = (size_t)(name_end - ref);
	if (!namelen)
		return "repository name is empty";
	if (namelen > 255)
		return "repository name is longer than 255 characters";
	/* the first component is a registry host when it looks like one */
	p = ref;
	slash = memchr(p, '/', namelen);
	if (slash) {
		size_t hl = (size_t)(slash - p);

		if (memchr(p, '.', hl) || memchr(p, ':', hl) ||
		    (hl == 9 && !memcmp(p, "localhost", 9))) {
			if ((why = check_domain(p, hl)))
				return why;
			p = slash + 1;
		}
	}
	while (p < name_end) {
		const char *e = memchr(p, '/', (size_t)(name_end - p));

		if (!e)
			e = name_end;
		if ((why = check_path_component(p, (size_t)(e - p))))
			return why;
		p = e == name_end ? e : e + 1;
		if (e != name_end && p == name_end)
			return "repository name ends with '/'";
	}
	return NULL;
}

const char *manifest_check_hostname(const char *s)
{
	size_t len = strlen(s), label = 0, i;

	if (!len || len > 253)
		return "must be 1 to 253 characters";
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (!label || label > 63)
				return "each dot-separated label must be 1 to 63 "
				       "characters";
			if (s[i - 1] == '-')
				return "a label must not end with '-'";
			label = 0;
		} else if (isupper((unsigned char)s[i])) {
			return "must be lowercase";
		} else if (!isalnum((unsigned char)s[i]) && s[i] != '-') {
			return "may contain only lowercase letters, digits, '-' and '.'";
		} else if (!label++ && s[i] == '-') {
			return "a label must not start with '-'";
		}
	}
	return NULL;
}

/* Is `path` (absolute, normalised by the caller) equal to or under root? */
static bool under_root(const char *path, const char *root)
{
	size_t rl = strlen(root);

	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	if (rl == 1 && root[0] == '/')
		return true;
	return !strncmp(path, root, rl) && (path[rl] == '\0' || path[rl] == '/');
}

char *manifest_check_host_path(const char *path,
			       const struct manifest_options *opts)
{
	const char *p;
	size_t i, n = opts ? opts->nhostpath_roots : 0;

	if (path[0] != '/')
		return xasprintf("hostPath '%s' must be an absolute path", path);
	for (p = path; *p; ) {
		const char *e = strchr(p, '/');
		size_t cl = e ? (size_t)(e - p) : strlen(p);

		if (cl == 2 && !strncmp(p, "..", 2))
			return xasprintf("hostPath '%s' must not contain '..'", path);
		p += cl;
		if (*p)
			p++;
	}
	for (i = 0; i < n; i++) {
		const char *r = opts->hostpath_roots[i];

		if (r && r[0] == '/' && under_root(path, r))
			return NULL;
	}
	if (!n)
		return xasprintf("hostPath '%s' is not allowed: this host allows "
				 "no HostPath volumes (set --hostpath-roots, "
				 "CARA_HOSTPATH_ROOTS or hostPathRoots in the "
				 "configuration to the directories they may use)",
				 path);
	{
		struct buf b = BUF_INIT;

		for (i = 0; i < n; i++)
			buf_printf(&b, "%s%s", i ? ", " : "",
				   opts->hostpath_roots[i] ? opts->hostpath_roots[i] : "");
		p = xasprintf("hostPath '%s' is outside the allowed roots (%s)",
			      path, buf_cstr(&b));
		buf_release(&b);
		return (char *)p;
	}
}

size_t manifest_edit_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b), i, j, best;
	size_t prev2[65], prev[65], cur[65];

	if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	memset(prev2, 0, sizeof(prev2));
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		best = cur[0];
		for (j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t v = prev[j - 1] + (ca != cb);

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			/* a transposition counts as one edit */
			if (i > 1 && j > 1 &&
			    ca == tolower((unsigned char)b[j - 2]) &&
			    cb == tolower((unsigned char)a[i - 2]) &&
			    prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
			if (v < best)
				best = v;
		}
		if (best > cap)
			return cap + 1;
		memcpy(prev2, prev, sizeof(prev));
		memcpy(prev, cur, sizeof(cur));
	}
	return prev[lb] > cap ? cap + 1 : prev[lb];
}

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
		char *path = xstrndup(b.ptr, (size_t)(sep - b.ptr));

		diags_add(v->d, sev, v->p->file, pos.line, pos.col, path, "%s", sep + 1);
		free(path);
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

		if (vol->name && vol->type != VOLUME_HOSTPATH &&
		    5 + strlen(p->name) + 1 + strlen(vol->name) > MAX_DOCKER_NAME)
			verr(v, vol->pos, "spec.volumes[%zu].name|volume name "
			     "'cara-%.32s...-%s' would be longer than %d characters",
			     i, p->name, vol->name, MAX_DOCKER_NAME);
	}
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
	diags_add(s->d, DIAG_ERROR, p->file, pos.line, pos.col, path, "%s",
		  buf_cstr(&b));
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
				    (pass && p->volumes[j].type == VOLUME_HOSTPATH))
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

/* ---- host ports bound twice ---- */

struct binding {
	int port;
	const char *proto;
	const char *ip;          /* normalised by the parser; "" = any address */
	size_t proj, svc, idx;   /* file order */
	size_t order;
};

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
static void check_port_group(struct sctx *s, struct binding *g, size_t n)
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
		if (partner)
			report_binding(s, &g[i], partner);
	}
}

static void set_ports(struct sctx *s)
{
	struct project_set *set = s->set;
	struct binding *v = NULL;
	size_t n = 0, cap = 0, i, j, k, start;

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
				v[n].proj = i;
				v[n].svc = j;
				v[n].idx = k;
				v[n].order = n;
				n++;
			}
	}
	sort_items(v, n, sizeof(*v), binding_cmp);
	for (start = 0; start < n; start = i) {
		for (i = start + 1; i < n && v[i].port == v[start].port &&
		     !strcmp(v[i].proto, v[start].proto); i++)
			;
		if (i - start > 1)
			check_port_group(s, v + start, i - start);
	}
	free(v);
}

void manifest_validate_set(struct project_set *set, struct diags *d)
{
	struct sctx s = { set, d, 0, NULL };

	set_duplicate_projects(&s);
	set_docker_names(&s);
	set_ingress_hosts(&s);
	set_ports(&s);
	if (s.n > MAX_FINDINGS * 5)
		diags_add(d, DIAG_ERROR, s.hidden_file, 1, 1, "", "%zu more "
			  "conflicts between projects not shown",
			  s.n - MAX_FINDINGS * 5);
}

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

int project_service_order(const struct project *p, size_t *out)
{
	size_t n = p->nservices, i, k, m = 0, nh = 0, ne = 0;
	struct name_ix *six = service_index(p);
	size_t *indeg = xcalloc(n + 1, sizeof(*indeg));
	size_t *start = xcalloc(n + 2, sizeof(*start));
	size_t *succ, *fill, *heap = xcalloc(n + 1, sizeof(*heap));
	bool *placed = xcalloc(n + 1, sizeof(*placed));
	int rc = 0;

	/* edges dependency -> dependent, in compressed rows */
	for (i = 0; i < n; i++)
		for (k = 0; k < p->services[i].ndeps; k++) {
			size_t t = name_ix_find(six, n, p->services[i].deps[k].service);

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
			size_t t = name_ix_find(six, n, p->services[i].deps[k].service);

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

static void kvlist_release(struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void service_release(struct service *s)
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
	for (i = 0; i < p->nvolumes; i++) {
		free(p->volumes[i].name);
		free(p->volumes[i].host_path);
	}
	free(p->volumes);
	for (i = 0; i < p->ningress; i++) {
		free(p->ingress[i].name);
		free(p->ingress[i].host);
		free(p->ingress[i].fqdn);
		free(p->ingress[i].target_service);
		free(p->ingress[i].scope);
	}
	free(p->ingress);
	memset(p, 0, sizeof(*p));
}

void project_set_release(struct project_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		project_release(&set->v[i]);
	free(set->v);
	memset(set, 0, sizeof(*set));
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
	}
	return "?";
}
