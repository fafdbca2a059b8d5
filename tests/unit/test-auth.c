/*
 * test-auth.c - registry credentials: which registry a reference names,
 * config.json keys, the X-Registry-Auth encoding, config files good and
 * bad, and credential helpers (one that answers, one that hangs, one
 * that says too much) written into a temporary directory put on PATH.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "auth.h"
#include "util.h"

static char *tmp;

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) == EOF || fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
	chmod(path, mode);
}

static int b64url_value(char c)
{
	const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *p = c ? strchr(a, c) : NULL;

	return p ? (int)(p - a) : -1;
}

/* The JSON inside a header value (caller frees), or NULL when it is not
 * padded base64url. */
static char *header_json(const struct buf *h)
{
	struct buf out = BUF_INIT;
	unsigned acc = 0;
	int bits = 0, v;
	size_t i, n = h->len;

	if (n % 4)
		return NULL;
	while (n && h->ptr[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++) {
		if ((v = b64url_value(h->ptr[i])) < 0) {
			buf_release(&out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			buf_putc(&out, (char)((acc >> bits) & 0xff));
		}
	}
	return buf_detach(&out);
}

static void test_registry_of(void)
{
	static const struct { const char *ref, *want; } v[] = {
		{ "nginx", AUTH_HUB },
		{ "nginx:1.25", AUTH_HUB },
		{ "library/nginx:1.25", AUTH_HUB },
		{ "team/app@sha256:0123", AUTH_HUB },
		{ "docker.io/library/nginx", AUTH_HUB },
		{ "index.docker.io/team/app:1", AUTH_HUB },
		{ "registry-1.docker.io/team/app", AUTH_HUB },
		{ "127.0.0.1:5000/cara/app:1", "127.0.0.1:5000" },
		{ "registry:5000/team/app", "registry:5000" },
		{ "localhost/app", "localhost" },
		{ "localhost:5000/app:1", "localhost:5000" },
		{ "ghcr.io/org/app@sha256:0123", "ghcr.io" },
		{ "Registry.Example.COM/x/y", "registry.example.com" },
		{ "MyHost/app", "myhost" },
		{ "myhost/app", AUTH_HUB },
		{ "[::1]:5000/app", "[::1]:5000" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		char *got = auth_registry_of(v[i].ref);

		is_str(got, v[i].want, "registry of %s", v[i].ref);
		free(got);
	}
}

static void test_key_host(void)
{
	static const struct { const char *key, *want; } v[] = {
		{ AUTH_HUB_KEY, AUTH_HUB },
		{ "docker.io", AUTH_HUB },
		{ "index.docker.io", AUTH_HUB },
		{ "https://registry-1.docker.io/v2/", AUTH_HUB },
		{ "127.0.0.1:5000", "127.0.0.1:5000" },
		{ "http://127.0.0.1:5000", "127.0.0.1:5000" },
		{ "https://127.0.0.1:5000/v1/", "127.0.0.1:5000" },
		{ "HTTPS://Reg.Example:443/path", "reg.example:443" },
		{ "ghcr.io", "ghcr.io" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		char *got = auth_key_host(v[i].key);

		is_str(got, v[i].want, "config key %s", v[i].key);
		free(got);
	}
}

static void test_header(void)
{
	struct buf h = BUF_INIT;
	char *json;

	/* '?' and '>' make '/' and '?' '~' '_' in base64: URL-safe alphabet */
	auth_header_encode(&h, "u?>~", "p?\?>", NULL, "h");
	is_str(buf_cstr(&h),
	       "eyJ1c2VybmFtZSI6InU_Pn4iLCJwYXNzd29yZCI6InA_Pz4iLCJzZXJ2ZXJhZGRyZXNzIjoiaCJ9",
	       "header: base64url of {username, password, serveraddress}");
	ok(!strchr(buf_cstr(&h), '+') && !strchr(buf_cstr(&h), '/'),
	   "header: no '+' or '/'");
	buf_wipe(&h);
	auth_header_encode(&h, NULL, NULL, "tok\"en", AUTH_HUB_KEY);
	json = header_json(&h);
	is_str(json, "{\"identitytoken\":\"tok\\\"en\",\"serveraddress\":\""
	       AUTH_HUB_KEY "\"}", "header: identity token, quotes escaped");
	free(json);
	buf_wipe(&h);
	auth_header_encode(&h, "a", "b", NULL, "xy");   /* 52 bytes of JSON */
	ok(h.len % 4 == 0 && h.ptr[h.len - 1] == '=', "header: padded (%s)", h.ptr);
	buf_wipe(&h);
	buf_release(&h);
}

/* Look ref up in file; the header's JSON (caller frees), "" for none, or
 * NULL on error (message in error_last()). */
static char *lookup(const char *file, const char *ref, char **from)
{
	struct auth_creds c;
	char *json = NULL;

	if (auth_lookup(&c, file, ref) == 0)
		json = c.header.len ? header_json(&c.header) : xstrdup("");
	if (from)
		*from = xstrdup(c.from);
	auth_creds_release(&c);
	return json;
}

static void test_config(void)
{
	char *file = xasprintf("%s/config.json", tmp);
	char *big, *json, *from = NULL;
	struct buf b = BUF_INIT;
	size_t i;

	write_file(file,
		   "{\n"
		   "  \"auths\": {\n"
		   "    \"127.0.0.1:5000\": { \"auth\": \"YWxpY2U6czNjcjpldA==\" },\n"
		   "    \"https://index.docker.io/v1/\": { \"username\": \"bob\", \"password\": \"pw1\" },\n"
		   "    \"http://reg.example:5000/v1/\": { \"identitytoken\": \"tok1\" },\n"
		   "    \"empty.example\": {},\n"
		   "    \"bad.example\": { \"auth\": \"!!!\" }\n"
		   "  }\n"
		   "}\n", 0600);
	json = lookup(file, "127.0.0.1:5000/cara/app:1", &from);
	is_str(json, "{\"username\":\"alice\",\"password\":\"s3cr:et\","
	       "\"serveraddress\":\"127.0.0.1:5000\"}", "auths: auth is base64 user:password");
	is_str(from, file, "auths: from names the file");
	free(json);
	free(from);
	json = lookup(file, "nginx:1.25", NULL);
	is_str(json, "{\"username\":\"bob\",\"password\":\"pw1\",\"serveraddress\":\""
	       AUTH_HUB_KEY "\"}", "auths: Hub under its https://index.docker.io/v1/ key");
	free(json);
	json = lookup(file, "docker.io/library/nginx", NULL);
	ok(json && strstr(json, "bob"), "auths: docker.io/ is Hub too");
	free(json);
	json = lookup(file, "reg.example:5000/team/app", NULL);
	is_str(json, "{\"identitytoken\":\"tok1\",\"serveraddress\":\"reg.example:5000\"}",
	       "auths: identitytoken, key with scheme and path");
	free(json);
	json = lookup(file, "reg.example/team/app", NULL);
	is_str(json, "", "auths: another port is another registry");
	free(json);
	json = lookup(file, "other.example:5000/app", &from);
	is_str(json, "", "auths: no entry, no header");
	ok(!from, "auths: no entry, no source");
	free(json);
	free(from);
	json = lookup(file, "empty.example/app", NULL);
	is_str(json, "", "auths: an empty entry is no credentials");
	free(json);
	json = lookup(file, "bad.example/app", NULL);
	ok(!json && strstr(error_last(), file) && strstr(error_last(), "bad.example") &&
	   strstr(error_last(), "base64"), "auths: bad auth: %s", error_last());
	free(json);

	/* malformed: the message names the file, never quotes the text */
	write_file(file, "{ \"auths\": { \"x\": { \"auth\": s3cretword } } }", 0600);
	json = lookup(file, "x/app", NULL);
	ok(!json && strstr(error_last(), file) && strstr(error_last(), "not valid JSON") &&
	   strstr(error_last(), "line 1"), "malformed config: %s", error_last());
	ok(!strstr(error_last(), "s3cretword"), "malformed config: text not quoted");
	free(json);
	write_file(file, "[1, 2]", 0600);
	json = lookup(file, "x/app", NULL);
	ok(!json && strstr(error_last(), "not a JSON object"), "array config: %s",
	   error_last());
	free(json);

	/* huge */
	for (i = 0; i < 1100; i++)
		buf_printf(&b, "%1023s\n", "");
	big = buf_detach(&b);
	write_file(file, big, 0600);
	free(big);
	json = lookup(file, "x/app", NULL);
	ok(!json && strstr(error_last(), file) && strstr(error_last(), "larger than"),
	   "huge config refused: %s", error_last());
	free(json);

	/* not a regular file */
	json = lookup(tmp, "x/app", NULL);
	ok(!json && strstr(error_last(), "not a regular file"), "directory refused: %s",
	   error_last());
	free(json);

	/* a given file must exist; the Docker CLI's need not */
	unlink(file);
	json = lookup(file, "x/app", NULL);
	ok(!json && strstr(error_last(), file), "missing --registry-auth-file: %s",
	   error_last());
	free(json);
	setenv("DOCKER_CONFIG", tmp, 1);
	json = lookup(NULL, "x.example/app", &from);
	is_str(json, "", "missing $DOCKER_CONFIG/config.json: anonymous");
	free(json);
	free(from);
	write_file(file, "{\"auths\":{\"x.example\":{\"auth\":\"ZGF2ZTpwdw==\"}}}", 0600);
	json = lookup(NULL, "x.example/app", &from);
	ok(json && strstr(json, "\"dave\""), "$DOCKER_CONFIG/config.json read");
	is_str(from, file, "$DOCKER_CONFIG: from names config.json");
	free(json);
	free(from);
	unsetenv("DOCKER_CONFIG");
	free(file);
}

static const char helper_script[] =
	"#!/bin/sh\n"
	"[ \"$1\" = get ] || exit 2\n"
	"read -r server\n"
	"case \"$server\" in\n"
	"127.0.0.1:5000) printf '{\"ServerURL\":\"%s\",\"Username\":\"carol\","
	"\"Secret\":\"hunter2\"}\\n' \"$server\" ;;\n"
	"tok.example) printf '{\"Username\":\"<token>\",\"Secret\":\"idtok\"}' ;;\n"
	"https://index.docker.io/v1/) printf '{\"Username\":\"hub\",\"Secret\":\"hubpw\"}' ;;\n"
	"hang.example) sleep 60 ;;\n"
	"big.example) head -c 200000 /dev/zero | tr '\\000' a ;;\n"
	"fail.example) echo 'backend exploded' >&2; exit 3 ;;\n"
	"*) echo 'credentials not found in native keychain'; exit 1 ;;\n"
	"esac\n";

static void test_helpers(void)
{
	char *bin = xasprintf("%s/bin", tmp), *helper, *file, *json, *from = NULL;
	char *path = xasprintf("%s:%s", bin, getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	int64_t t;

	mkdir(bin, 0700);
	helper = xasprintf("%s/docker-credential-test", bin);
	write_file(helper, helper_script, 0700);
	setenv("PATH", path, 1);
	file = xasprintf("%s/helpers.json", tmp);
	write_file(file, "{\"credsStore\":\"test\",\"auths\":{"
		   "\"fallback.example\":{\"auth\":\"ZGF2ZTpwdw==\"},"
		   "\"127.0.0.1:5000\":{}}}", 0600);

	json = lookup(file, "127.0.0.1:5000/app:1", &from);
	is_str(json, "{\"username\":\"carol\",\"password\":\"hunter2\","
	       "\"serveraddress\":\"127.0.0.1:5000\"}", "credsStore: helper's answer");
	ok(from && strstr(from, "docker-credential-test") && strstr(from, "credsStore"),
	   "credsStore: from names the helper: %s", from ? from : "(null)");
	ok(from && !strstr(from, "hunter2"), "credsStore: from holds no secret");
	free(json);
	free(from);
	json = lookup(file, "tok.example/app", NULL);
	is_str(json, "{\"identitytoken\":\"idtok\",\"serveraddress\":\"tok.example\"}",
	       "credsStore: <token> user means an identity token");
	free(json);
	json = lookup(file, "library/nginx", NULL);
	ok(json && strstr(json, "hubpw") && strstr(json, AUTH_HUB_KEY),
	   "credsStore: Hub asked as " AUTH_HUB_KEY);
	free(json);
	json = lookup(file, "fallback.example/app", NULL);
	ok(json && strstr(json, "\"dave\""), "credsStore: not found there, auths entry used");
	free(json);
	json = lookup(file, "nothing.example/app", NULL);
	is_str(json, "", "credsStore: not found anywhere: anonymous");
	free(json);
	json = lookup(file, "fail.example/app", NULL);
	ok(!json && strstr(error_last(), "docker-credential-test") &&
	   strstr(error_last(), "backend exploded") && strstr(error_last(), "exit status 3"),
	   "failing helper: %s", error_last());
	free(json);
	t = monotonic_ms();
	json = lookup(file, "hang.example/app", NULL);
	ok(!json && strstr(error_last(), "did not answer within 10 seconds"),
	   "hanging helper: %s", error_last());
	ok(monotonic_ms() - t < 20000, "hanging helper killed after the bound (%lld ms)",
	   (long long)(monotonic_ms() - t));
	free(json);
	json = lookup(file, "big.example/app", NULL);
	ok(!json && strstr(error_last(), "more than 64 KiB"), "chatty helper: %s",
	   error_last());
	free(json);

	/* credHelpers: per registry, and only for that registry */
	write_file(file, "{\"credHelpers\":{\"https://127.0.0.1:5000\":\"test\"},"
		   "\"auths\":{\"fail.example\":{\"auth\":\"ZGF2ZTpwdw==\"}}}", 0600);
	json = lookup(file, "127.0.0.1:5000/app:1", NULL);
	ok(json && strstr(json, "hunter2"), "credHelpers: the registry's helper");
	free(json);
	json = lookup(file, "fail.example/app", NULL);
	ok(json && strstr(json, "\"dave\""), "credHelpers: other registries not asked");
	free(json);

	write_file(file, "{\"credsStore\":\"absent\"}", 0600);
	json = lookup(file, "x.example/app", NULL);
	ok(!json && strstr(error_last(), "docker-credential-absent") &&
	   strstr(error_last(), "not installed"), "missing helper: %s", error_last());
	free(json);
	write_file(file, "{\"credsStore\":\"../../bin/sh\"}", 0600);
	json = lookup(file, "x.example/app", NULL);
	ok(!json && strstr(error_last(), "not a helper name"), "helper name with '/': %s",
	   error_last());
	free(json);

	free(file);
	free(helper);
	free(path);
	free(bin);
}

static void test_messages(void)
{
	struct auth_creds c = { 0 };
	struct buf m = BUF_INIT;

	c.registry = xstrdup("127.0.0.1:5000");
	c.config = xstrdup("/root/.docker/config.json");
	auth_refused_message(&m, &c, "Head \"http://127.0.0.1:5000/v2/x\": no basic auth credentials");
	ok(strstr(buf_cstr(&m), "registry 127.0.0.1:5000 needs credentials: none found "
		  "for it in /root/.docker/config.json") &&
	   strstr(buf_cstr(&m), "docker login 127.0.0.1:5000"), "none: %s", buf_cstr(&m));
	ok(!strstr(buf_cstr(&m), "Head"), "the Engine's text is not repeated");
	buf_reset(&m);
	c.from = xstrdup(c.config);
	auth_refused_message(&m, &c, "unauthorized: authentication required");
	ok(strstr(buf_cstr(&m), "registry 127.0.0.1:5000 refused the credentials from "
		  "/root/.docker/config.json"), "refused: %s", buf_cstr(&m));
	buf_reset(&m);
	free(c.registry);
	c.registry = xstrdup(AUTH_HUB);
	free(c.from);
	c.from = NULL;
	auth_refused_message(&m, &c, "pull access denied for x, repository does not "
			     "exist or may require 'docker login'");
	ok(strstr(buf_cstr(&m), "docker login as") &&
	   strstr(buf_cstr(&m), "or the repository does not exist"), "Hub: %s",
	   buf_cstr(&m));
	buf_reset(&m);
	free(c.registry);
	c.registry = xstrdup("192.0.2.2:5443");
	ok(!auth_untrusted_message(&m, &c, "manifest unknown") && !m.len,
	   "not a certificate error: nothing said");
	ok(auth_untrusted_message(&m, &c, "Get \"https://192.0.2.2:5443/v2/\": tls: "
				  "failed to verify certificate: x509: certificate "
				  "signed by unknown authority") &&
	   strstr(buf_cstr(&m), "the TLS certificate of registry 192.0.2.2:5443 is not "
		  "trusted (x509: it is signed by a CA the Docker Engine does not trust)") &&
	   strstr(buf_cstr(&m), "/etc/docker/certs.d/192.0.2.2:5443/ca.crt") &&
	   !strstr(buf_cstr(&m), "https://"), "untrusted: %s", buf_cstr(&m));
	buf_reset(&m);
	ok(auth_untrusted_message(&m, &c, "x509: certificate has expired or is not yet valid") &&
	   strstr(buf_cstr(&m), "(x509: it has expired or is not yet valid)"),
	   "expired: %s", buf_cstr(&m));
	auth_creds_release(&c);
	buf_release(&m);
}

int main(void)
{
	char tmpl[] = "/tmp/cara-test-auth-XXXXXX";
	char *rm;

	signal(SIGPIPE, SIG_IGN);
	if (!(tmp = mkdtemp(tmpl))) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	test_registry_of();
	test_key_host();
	test_header();
	test_config();
	test_helpers();
	test_messages();
	rm = xasprintf("%s/bin/docker-credential-test", tmp);
	unlink(rm);
	free(rm);
	rm = xasprintf("%s/bin", tmp);
	rmdir(rm);
	free(rm);
	rm = xasprintf("%s/config.json", tmp);
	unlink(rm);
	free(rm);
	rm = xasprintf("%s/helpers.json", tmp);
	unlink(rm);
	free(rm);
	rmdir(tmp);
	return tap_done();
}
