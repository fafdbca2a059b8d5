/*
 * auth.c - registry credentials for image pulls, read the
 * way the Docker CLI reads them, so that `docker login` as the user
 * running cara is all an operator has to do.
 *
 * Where: --registry-auth-file when given (the only place then), else
 * $DOCKER_CONFIG/config.json, else ~/.docker/config.json of the effective
 * user (the password database's home; $HOME only when it has none).
 * What: credHelpers[registry], else credsStore, through the
 * docker-credential-NAME "get" protocol; else (or when the helper has
 * nothing for the registry) the "auths" entry of the registry: "auth"
 * (base64 of user:password), "username"/"password", "identitytoken".
 *
 * Invariants: a registry's credentials go to that registry only (keys and
 * references are both reduced to a host name before they are compared,
 * and Hub's aliases to one name); no credentials means no header, never
 * someone else's.  Every buffer and parsed JSON string that held a secret
 * is wiped before it is freed; messages name files, helpers and
 * registries, never a value.  Files are capped at CONFIG_MAX; a helper
 * runs without a shell (tool.c: fork/execve of a path found in the
 * absolute directories of $PATH), for at most HELPER_TIMEOUT_MS, and may
 * print at most HELPER_OUTPUT_MAX.
 */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <unistd.h>

#include <jansson.h>

#include "auth.h"
#include "tool.h"
#include "util.h"

#define CONFIG_MAX ((size_t)1 << 20)
#define HELPER_TIMEOUT_MS 10000
#define HELPER_OUTPUT_MAX ((size_t)64 << 10)
/* what goes to a helper's stdin (below TOOL_STDIN_MAX) */
#define HELPER_INPUT_MAX 1024

static const char *const hub_aliases[] = {
	AUTH_HUB, "index.docker.io", "registry-1.docker.io",
};

/* ---- names ---- */

static char *lower_host(const char *s, size_t n)
{
	char *h = xstrndup(s, n);
	size_t i;

	for (i = 0; h[i]; i++)
		h[i] = (char)tolower((unsigned char)h[i]);
	for (i = 0; i < ARRAY_SIZE(hub_aliases); i++)
		if (!strcmp(h, hub_aliases[i])) {
			free(h);
			return xstrdup(AUTH_HUB);
		}
	return h;
}

char *auth_registry_of(const char *ref)
{
	const char *slash = strchr(ref, '/');
	size_t n, i;

	if (!slash)
		return xstrdup(AUTH_HUB);
	n = (size_t)(slash - ref);
	/* the Docker CLI's rule (splitDockerDomain): a first component is a
	 * domain when it has a '.' or a ':', is "localhost", or has capitals */
	if (!memchr(ref, '.', n) && !memchr(ref, ':', n) &&
	    !(n == 9 && !strncmp(ref, "localhost", 9))) {
		for (i = 0; i < n && !isupper((unsigned char)ref[i]); i++)
			;
		if (i == n)
			return xstrdup(AUTH_HUB);
	}
	return lower_host(ref, n);
}

char *auth_key_host(const char *key)
{
	if (!strncasecmp(key, "https://", 8))
		key += 8;
	else if (!strncasecmp(key, "http://", 7))
		key += 7;
	return lower_host(key, strcspn(key, "/"));
}

/* What the Docker CLI names the registry to a helper and to the Engine. */
static const char *server_address(const char *registry)
{
	return strcmp(registry, AUTH_HUB) ? registry : AUTH_HUB_KEY;
}

/* ---- secrets in buffers ---- */

static void secret_release(struct buf *b)
{
	buf_wipe(b);
	buf_release(b);
}

/* Make room for n bytes at once, so that growing never leaves a copy of
 * a secret behind in memory handed back to malloc. */
static void secret_reserve(struct buf *b, size_t n)
{
	static const char zeros[256];

	while (b->len < n)
		buf_add(b, zeros, n - b->len < sizeof(zeros) ? n - b->len : sizeof(zeros));
	buf_wipe(b);
}

/* Zero every string of a parsed document before it is freed. */
static void json_wipe(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_string(j)) {
		explicit_bzero((char *)json_string_value(j), json_string_length(j));
	} else if (json_is_object(j)) {
		json_object_foreach(j, key, v) {
			(void)key;
			json_wipe(v);
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			json_wipe(v);
	}
}

static void json_wipe_free(json_t *j)
{
	if (j) {
		json_wipe(j);
		json_decref(j);
	}
}

void auth_header_encode(struct buf *out, const char *username,
			const char *password, const char *token,
			const char *serveraddress)
{
	struct buf json = BUF_INIT;
	size_t n = 64 + strlen(serveraddress) * 6;

	n += (token ? strlen(token) : strlen(username ? username : "") +
	      strlen(password ? password : "")) * 6;
	secret_reserve(&json, n);
	if (token) {
		buf_puts(&json, "{\"identitytoken\":");
		buf_json_str(&json, token);
	} else {
		buf_puts(&json, "{\"username\":");
		buf_json_str(&json, username);
		buf_puts(&json, ",\"password\":");
		buf_json_str(&json, password);
	}
	buf_puts(&json, ",\"serveraddress\":");
	buf_json_str(&json, serveraddress);
	buf_putc(&json, '}');
	secret_reserve(out, out->len + (json.len + 2) / 3 * 4 + 1);
	base64_encode(out, json.ptr, json.len, BASE64_URL);
	secret_release(&json);
}

/* ---- the config file ---- */

/* The file to read: file, else the Docker CLI's config.json.  Caller frees. */
static int config_path(char **out, const char *file)
{
	const char *dir = getenv("DOCKER_CONFIG");
	struct passwd pw, *res = NULL;
	char *scratch = NULL;
	long max = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t len = max > 0 ? (size_t)max : 16384;
	int err;

	*out = NULL;
	if (file && *file) {
		*out = xstrdup(file);
		return 0;
	}
	if (dir && *dir) {
		*out = xasprintf("%s/config.json", dir);
		return 0;
	}
	for (;;) {
		scratch = xmalloc(len);
		err = getpwuid_r(geteuid(), &pw, scratch, len, &res);
		if (err != ERANGE || len > ((size_t)1 << 20))
			break;
		free(scratch);
		len *= 2;
	}
	if (!err && res && res->pw_dir && *res->pw_dir)
		*out = xasprintf("%s/.docker/config.json", res->pw_dir);
	free(scratch);
	if (*out)
		return 0;
	dir = getenv("HOME");
	if (dir && *dir) {
		*out = xasprintf("%s/.docker/config.json", dir);
		return 0;
	}
	return error_set("cannot find the Docker CLI's config.json: user %lu has "
			 "no home directory and HOME is not set (set DOCKER_CONFIG "
			 "or --registry-auth-file)", (unsigned long)geteuid());
}

/*
 * Parse path into *out (a JSON object).  A missing file is no error unless
 * must_exist: *out stays NULL.
 */
static int config_read(json_t **out, const char *path, bool must_exist)
{
	struct buf b = BUF_INIT;
	json_error_t je;
	char *near;
	int rc = -1;

	*out = NULL;
	if (read_regular_file(path, CONFIG_MAX, &b) < 0) {
		if (errno == ENOENT && !must_exist)
			rc = 0;
		else if (errno == EFBIG)
			error_set("registry credentials '%s': larger than %zu KiB, "
				  "not a credentials file", path, CONFIG_MAX >> 10);
		else if (errno == EINVAL)
			error_set("registry credentials '%s': not a regular file", path);
		else
			error_set("cannot read registry credentials '%s': %s", path,
				  strerror(errno));
		goto out;
	}
	*out = json_loadb(b.ptr ? b.ptr : "", b.len, JSON_REJECT_DUPLICATES, &je);
	if (!*out) {
		/* jansson's text quotes the input "near '...'", which may be a
		 * password: only what precedes that goes into the message */
		je.text[strcspn(je.text, "\n")] = '\0';
		if ((near = strstr(je.text, " near ")))
			*near = '\0';
		error_set("registry credentials '%s': not valid JSON at line %d, "
			  "column %d: %s", path, je.line, je.column, je.text);
		explicit_bzero(&je, sizeof(je));
		goto out;
	}
	if (!json_is_object(*out)) {
		error_set("registry credentials '%s': not a JSON object", path);
		json_wipe_free(*out);
		*out = NULL;
		goto out;
	}
	rc = 0;
out:
	secret_release(&b);
	return rc;
}

/* The value of the first key of obj (config keys: URLs or host names)
 * naming registry, or NULL. */
static json_t *match_key(json_t *obj, const char *registry)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		char *host = auth_key_host(key);
		bool same = !strcmp(host, registry);

		free(host);
		if (same)
			return v;
	}
	return NULL;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? s : NULL;
}

/* ---- credential helpers ---- */

/* A helper name is a word: it becomes part of a file name. */
static bool helper_name_ok(const char *name)
{
	const char *p;

	if (!*name || strlen(name) > 64)
		return false;
	for (p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

/*
 * Run the helper at path with the argument "get", input on its stdin:
 * 0 once it has exited within the bounds (r->out then holds a secret),
 * -1 with error_last() when it could not be run, hung or printed too much
 * (then killed, with its process group).
 */
static int helper_exec(struct tool_result *r, const char *path, const char *prog,
		       const char *input)
{
	const char *const argv[] = { prog, "get", NULL };
	struct tool_opts o = {
		.path = path,
		.argv = argv,
		.stdin_data = input,
		.stdin_len = strlen(input),
		.timeout_ms = HELPER_TIMEOUT_MS,
		.output_max = HELPER_OUTPUT_MAX,
		.kill_over_cap = true,
		.own_group = true,   /* so that a kill reaches what it started */
	};

	if (tool_run(r, &o) == 0)
		return 0;
	if (r->end == TOOL_TIMED_OUT)
		error_set("credential helper %s did not answer within %d seconds "
			  "(killed)", prog, HELPER_TIMEOUT_MS / 1000);
	else if (r->end == TOOL_TOO_MUCH)
		error_set("credential helper %s printed more than %zu KiB (killed)",
			  prog, HELPER_OUTPUT_MAX >> 10);
	else if (r->end == TOOL_NOT_EXECUTED)
		error_set("cannot run credential helper '%s'", path);
	return -1;
}

/* The last non-empty line of b, made safe for a message (caller frees). */
static char *last_line(const struct buf *b)
{
	struct buf out = BUF_INIT;
	char *line = tool_last_line(b);

	if (!line)
		return xstrdup("");
	if (strlen(line) > 300)
		line[300] = '\0';
	buf_text_safe(&out, line);
	free(line);
	return buf_detach(&out);
}

/*
 * Ask helper `name` for the registry's credentials: 0 with out->header
 * set, or 0 with it empty when the helper has none; -1 when it failed.
 */
static int from_helper(struct auth_creds *out, const char *name, const char *what)
{
	const char *server = server_address(out->registry);
	struct tool_result r;
	char *prog = NULL, *path = NULL, *input = NULL;
	json_t *j = NULL;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	if (!helper_name_ok(name)) {
		error_set("registry credentials '%s': %s \"%s\" is not a helper name",
			  out->config, what, name);
		goto out;
	}
	prog = xasprintf("docker-credential-%s", name);
	if (strlen(server) + 1 > HELPER_INPUT_MAX) {
		error_set("registry name too long for %s", prog);
		goto out;
	}
	if (tool_find(&path, prog, TOOL_FIND_ABSOLUTE) < 0) {
		error_set("credential helper '%s' is not installed (not found in "
			  "PATH) (%s of '%s')", prog, what, out->config);
		goto out;
	}
	input = xasprintf("%s\n", server);
	if (helper_exec(&r, path, prog, input) < 0)
		goto out;
	if (r.status != 0) {
		char *why;

		/* the protocol's answer for "nothing stored for that server" */
		if (strstr(buf_cstr(&r.out), "credentials not found")) {
			rc = 0;
			goto out;
		}
		why = r.err.len ? last_line(&r.err) : xstrdup("");
		error_set("credential helper %s failed for %s (exit status %d)%s%s",
			  prog, out->registry, r.status, *why ? ": " : "", why);
		free(why);
		goto out;
	}
	if (!(j = json_loadb(buf_cstr(&r.out), r.out.len, 0, NULL)) ||
	    !json_is_object(j)) {
		error_set("credential helper %s answered for %s with something that "
			  "is not a JSON object", prog, out->registry);
		goto out;
	}
	if (jstr(j, "Secret")) {
		const char *user = jstr(j, "Username");

		if (user && !strcmp(user, "<token>"))
			auth_header_encode(&out->header, NULL, NULL, jstr(j, "Secret"),
					   server);
		else
			auth_header_encode(&out->header, user ? user : "",
					   jstr(j, "Secret"), NULL, server);
		out->from = xasprintf("%s (%s of %s)", prog, what, out->config);
	}
	rc = 0;
out:
	json_wipe_free(j);
	tool_result_release(&r);
	free(input);
	free(path);
	free(prog);
	return rc;
}

/* The "auths" entry of the registry: 0 with out->header set, or empty
 * when there is none. */
static int from_auths(struct auth_creds *out, json_t *root)
{
	json_t *auths = json_object_get(root, "auths"), *e;
	const char *server = server_address(out->registry), *key, *s;
	struct buf plain = BUF_INIT;
	int rc = -1;

	if (!auths || !json_is_object(auths))
		return 0;
	json_object_foreach(auths, key, e) {
		char *host = auth_key_host(key);
		bool same = !strcmp(host, out->registry);

		free(host);
		if (!same || !json_is_object(e))
			continue;
		if ((s = jstr(e, "identitytoken"))) {
			auth_header_encode(&out->header, NULL, NULL, s, server);
		} else if ((s = jstr(e, "auth"))) {
			char *colon;

			/* room for all at once: the bytes are a secret */
			secret_reserve(&plain, strlen(s));
			if (base64_decode(&plain, s, strlen(s), BASE64_URL) < 0 ||
			    !(colon = memchr(buf_cstr(&plain), ':', plain.len))) {
				error_set("registry credentials '%s': auths.\"%s\".auth is "
					  "not the base64 of user:password", out->config, key);
				goto out;
			}
			*colon = '\0';
			auth_header_encode(&out->header, plain.ptr, colon + 1, NULL, server);
		} else if (jstr(e, "username") && jstr(e, "password")) {
			auth_header_encode(&out->header, jstr(e, "username"),
					   jstr(e, "password"), NULL, server);
		} else {
			continue;   /* e.g. {} beside a credsStore: not credentials */
		}
		out->from = xstrdup(out->config);
		break;
	}
	rc = 0;
out:
	secret_release(&plain);
	return rc;
}

int auth_lookup(struct auth_creds *out, const char *file, const char *ref)
{
	json_t *root = NULL, *helpers;
	const char *helper = NULL, *what = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	buf_init(&out->header);
	out->registry = auth_registry_of(ref);
	if (config_path(&out->config, file) < 0)
		goto out;
	out->given = file && *file;
	if (config_read(&root, out->config, out->given) < 0)
		goto out;
	rc = 0;
	if (!root)
		goto out;
	helpers = json_object_get(root, "credHelpers");
	if (json_is_object(helpers) &&
	    (helper = json_string_value(match_key(helpers, out->registry))))
		what = "credHelpers";
	else if ((helper = jstr(root, "credsStore")))
		what = "credsStore";
	if (helper && (rc = from_helper(out, helper, what)) < 0)
		goto out;
	if (!out->header.len)
		rc = from_auths(out, root);
out:
	json_wipe_free(root);
	return rc;
}

void auth_creds_release(struct auth_creds *c)
{
	free(c->registry);
	free(c->config);
	free(c->from);
	secret_release(&c->header);
	memset(c, 0, sizeof(*c));
}

void auth_refused_message(struct buf *out, const struct auth_creds *c,
			  const char *engine_msg)
{
	bool hub = !strcmp(c->registry, AUTH_HUB);
	const char *login_sp = hub ? "" : " ";
	const char *login_host = hub ? "" : c->registry;

	if (c->from && c->given)
		buf_printf(out, "registry %s refused the credentials from %s (wrong or "
			   "expired: correct them there)", c->registry, c->from);
	else if (c->from)
		buf_printf(out, "registry %s refused the credentials from %s (wrong or "
			   "expired: docker login%s%s again)", c->registry, c->from,
			   login_sp, login_host);
	else if (c->given)
		buf_printf(out, "registry %s needs credentials: none found for it in "
			   "%s (--registry-auth-file)", c->registry, c->config);
	else
		buf_printf(out, "registry %s needs credentials: none found for it in "
			   "%s (docker login%s%s as the user running cara, or "
			   "--registry-auth-file)", c->registry, c->config ? c->config
			   : "the Docker CLI's config.json", login_sp, login_host);
	if (engine_msg && strcasestr(engine_msg, "does not exist"))
		buf_puts(out, ", or the repository does not exist");
}

bool auth_untrusted_message(struct buf *out, const struct auth_creds *c,
			    const char *engine_msg)
{
	const char *why = "it is not valid for this host";

	if (!engine_msg || (!strcasestr(engine_msg, "x509") &&
			    !strcasestr(engine_msg, "certificate")))
		return false;
	if (strcasestr(engine_msg, "unknown authority"))
		why = "it is signed by a CA the Docker Engine does not trust";
	else if (strcasestr(engine_msg, "expired") ||
		 strcasestr(engine_msg, "not yet valid"))
		why = "it has expired or is not yet valid";
	buf_printf(out, "the TLS certificate of registry %s is not trusted (x509: "
		   "%s): put the CA certificate in /etc/docker/certs.d/%s/ca.crt "
		   "on the Engine's host, or fix the registry's certificate",
		   c->registry, why, c->registry);
	return true;
}
