/*
 * input/checks.c - the value checks the readers and the validator share
 * (manifest.h): names usable in Docker object names, image references,
 * host names, which variables a manifest may read, HostPath roots, and
 * the edit distance behind every "did you mean".  Each returns NULL when
 * the value is acceptable, else a short reason.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "input/manifest.h"

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

/* The Docker Engine's socket where dockerd makes it (/var/run is a link
 * to /run on current systems, and either may be bound). */
static const char *const engine_sockets[] = {
	"/run/docker.sock", "/var/run/docker.sock",
};

/*
 * NULL, or why a bind of path (absolute, no '..') reaches the Engine's
 * socket: the socket itself or a directory that holds it (compared
 * without empty and '.' components).  Whoever can connect to it is root
 * on the host and can change every container, another cara's too; a
 * read-only bind does not stop a connect.
 */
static char *engine_socket_exposed(const char *path,
				   const struct manifest_options *opts)
{
	struct buf norm = BUF_INIT;
	const char *p, *hit = NULL;
	char *why = NULL;
	size_t i;

	if (opts && opts->allow_privileged)
		return NULL;
	for (p = path; *p; ) {
		const char *e = strchr(p, '/');
		size_t cl = e ? (size_t)(e - p) : strlen(p);

		if (cl && !(cl == 1 && *p == '.')) {
			buf_putc(&norm, '/');
			buf_add(&norm, p, cl);
		}
		p += cl;
		if (*p)
			p++;
	}
	for (i = 0; i < ARRAY_SIZE(engine_sockets); i++)
		if (!hit && under_root(engine_sockets[i], norm.len ? buf_cstr(&norm) :
					       "/"))
			hit = engine_sockets[i];
	if (hit)
		why = xasprintf("hostPath '%s' %s the Docker Engine's socket (%s), "
				"which gives root power over the host and every "
				"container on it: needs --allow-privileged on this "
				"host", path, strcmp(buf_cstr(&norm), hit) ? "holds" :
				"is", hit);
	buf_release(&norm);
	return why;
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
			return engine_socket_exposed(path, opts);
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

