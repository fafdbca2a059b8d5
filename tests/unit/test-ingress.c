/*
 * test-ingress.c - routes from rules, their state lines, the route diff
 * `cara diff` shows, and the Caddy configuration rendered from them: each
 * scope listens only on its own address, TLS choices, redirects, hostile
 * host names stay JSON strings.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builders.h"
#include "ingress.h"
#include "outcome.h"
#include "plan.h"
#include "proxy.h"
#include "state.h"
#include "tap.h"

static struct ingress_settings settings(enum ingress_tls tls)
{
	struct ingress_settings s;

	memset(&s, 0, sizeof(s));
	s.internal_address = "127.0.0.1";
	s.public_address = "127.0.0.2";
	s.http_port = 18080;
	s.https_port = 18443;
	s.tls = tls;
	s.cert_dir = "/certs";
	s.admin_listen = "unix//etc/caddy/admin.sock";
	return s;
}

static json_t *parse(const char *text)
{
	json_error_t e;

	return text ? json_loads(text, 0, &e) : NULL;
}

static json_t *server(json_t *root, const char *name)
{
	return json_object_get(json_object_get(json_object_get(json_object_get(
		root, "apps"), "http"), "servers"), name);
}

static const char *listen0(json_t *srv)
{
	return json_string_value(json_array_get(json_object_get(srv, "listen"), 0));
}

/* The host the route matches, and what handles it. */
static const char *route_host(json_t *srv, size_t i)
{
	json_t *r = json_array_get(json_object_get(srv, "routes"), i);

	return json_string_value(json_array_get(json_object_get(json_array_get(
		json_object_get(r, "match"), 0), "host"), 0));
}

static const char *route_handler(json_t *srv, size_t i, const char *field)
{
	json_t *r = json_array_get(json_object_get(srv, "routes"), i);
	json_t *h = json_array_get(json_object_get(r, "handle"), 0);

	if (!strcmp(field, "dial"))
		return json_string_value(json_object_get(json_array_get(
			json_object_get(h, "upstreams"), 0), "dial"));
	if (!strcmp(field, "location"))
		return json_string_value(json_array_get(json_object_get(json_object_get(
			h, "headers"), "Location"), 0));
	return json_string_value(json_object_get(h, field));
}

static void sample(struct routes *r)
{
	routes_add(r, "shop", "web", "shop.example.com", "web", 8080, SCOPE_PUBLIC);
	routes_add(r, "blog", "app", "blog.staging.example.com", "app", 80,
		   SCOPE_INTERNAL);
	routes_sort(r);
}

static void test_scopes_off(void)
{
	struct routes r = ROUTES_INIT;
	struct ingress_settings s = settings(INGRESS_TLS_OFF);
	const char *dials[2];
	char *text;
	json_t *j, *in, *pub;

	sample(&r);
	is_str(r.v[0].host, "blog.staging.example.com", "routes sort by host");
	dials[0] = "10.0.0.2:80";
	dials[1] = NULL;
	text = ingress_render(&r, dials, &s);
	j = parse(text);
	ok(j != NULL, "the configuration is JSON");
	in = server(j, "internal-http");
	pub = server(j, "public-http");
	is_str(listen0(in), "127.0.0.1:18080", "Internal listens on the internal address");
	is_str(listen0(pub), "127.0.0.2:18080", "Public listens on the public address");
	ok(!server(j, "internal-https") && !server(j, "public-https"),
	   "TLS off: no HTTPS listener");
	is_str(route_host(in, 0), "blog.staging.example.com", "the Internal host on Internal");
	is_str(route_handler(in, 0, "dial"), "10.0.0.2:80", "... proxied to its container");
	ok(json_array_size(json_object_get(in, "routes")) == 2,
	   "... and nothing else but the 404 (the Public host is not there)");
	is_str(route_host(pub, 0), "shop.example.com", "the Public host on Public");
	is_int((int)json_integer_value(json_object_get(json_array_get(json_object_get(
		json_array_get(json_object_get(pub, "routes"), 0), "handle"), 0),
		"status_code")), 502, "a target not running answers 502");
	is_str(json_string_value(json_object_get(json_object_get(j, "admin"), "listen")),
	       "unix//etc/caddy/admin.sock", "the admin API is on the unix socket");
	{
		char *again = ingress_render(&r, dials, &s);

		is_str(again, text, "the same routes render the same bytes");
		free(again);
	}
	json_decref(j);
	free(text);

	/* only Internal rules: nothing listens on the public address */
	routes_release(&r);
	routes_add(&r, "blog", "app", "blog.example.com", "app", 80, SCOPE_INTERNAL);
	text = ingress_render(&r, NULL, &s);
	j = parse(text);
	ok(server(j, "internal-http") && !server(j, "public-http"),
	   "no Public rule: no listener on the public address");
	json_decref(j);
	free(text);
	routes_release(&r);
}

static void test_tls(void)
{
	struct routes r = ROUTES_INIT;
	struct ingress_settings s = settings(INGRESS_TLS_INTERNAL);
	const char *dials[2] = { "10.0.0.2:80", "10.0.0.3:8080" };
	char *text;
	json_t *j, *https, *http, *pol;

	sample(&r);
	text = ingress_render(&r, dials, &s);
	j = parse(text);
	https = server(j, "internal-https");
	http = server(j, "internal-http");
	is_str(listen0(https), "127.0.0.1:18443", "TLS: HTTPS on the https port");
	is_str(route_handler(https, 0, "dial"), "10.0.0.2:80", "... proxies");
	is_str(route_handler(http, 0, "location"),
	       "https://{http.request.host}:18443{http.request.uri}",
	       "... and HTTP redirects to it");
	ok(json_is_true(json_object_get(json_object_get(https, "automatic_https"),
					"disable_redirects")),
	   "Caddy's own redirects (on every address) are off");
	pol = json_array_get(json_object_get(json_object_get(json_object_get(json_object_get(
		j, "apps"), "tls"), "automation"), "policies"), 0);
	is_str(json_string_value(json_object_get(json_array_get(json_object_get(pol,
		"issuers"), 0), "module")), "internal", "internal: Caddy's own CA");
	ok(json_array_size(json_object_get(pol, "subjects")) == 2, "... for every host");
	json_decref(j);
	free(text);

	s = settings(INGRESS_TLS_DIR);
	text = ingress_render(&r, dials, &s);
	j = parse(text);
	is_str(json_string_value(json_object_get(json_array_get(json_object_get(
		json_object_get(json_object_get(json_object_get(j, "apps"), "tls"),
				"certificates"), "load_files"), 0), "certificate")),
	       "/certs/blog.staging.example.com.crt", "DIR: HOST.crt of the directory");
	json_decref(j);
	free(text);

	s = settings(INGRESS_TLS_AUTO);
	s.https_port = 443;
	text = ingress_render(&r, dials, &s);
	j = parse(text);
	is_str(route_handler(server(j, "internal-http"), 0, "location"),
	       "https://{http.request.host}{http.request.uri}",
	       "port 443 is left out of the redirect");
	ok(!json_object_get(json_object_get(j, "apps"), "tls"), "auto: Caddy's ACME defaults");
	json_decref(j);
	free(text);
	routes_release(&r);
}

static void test_hostile(void)
{
	struct routes r = ROUTES_INIT;
	struct ingress_settings s = settings(INGRESS_TLS_OFF);
	const char *host = "a.example\"},{\"handler\":\"file_server\"";
	char *text;
	json_t *j;

	routes_add(&r, "evil", "x", host, "web", 80, SCOPE_INTERNAL);
	text = ingress_render(&r, NULL, &s);
	j = parse(text);
	is_str(route_host(server(j, "internal-http"), 0), host,
	       "a host name with quotes stays one JSON string");
	json_decref(j);
	free(text);
	routes_release(&r);
	ok(route_parse_line(&r, "evil\ta.example\"x\tx\tInternal\tweb\t80") < 0,
	   "a state line with a bad host is dropped");
	ok(route_parse_line(&r, "p\th.example\tr\tEverywhere\tweb\t80") < 0,
	   "... and one with an unknown scope");
	ok(route_parse_line(&r, "p\th.example\tr\tInternal\tweb\t70000") < 0,
	   "... and one with a port out of range");
	ok(r.n == 0, "nothing was kept of them");
}

static void test_lines_and_diff(void)
{
	struct routes a = ROUTES_INIT, b = ROUTES_INIT, c = ROUTES_INIT;
	struct buf out = BUF_INIT;
	char *line;

	sample(&a);
	line = route_line(&a.v[1]);
	is_str(line, "shop\tshop.example.com\tweb\tPublic\tweb\t8080", "a state line");
	ok(route_parse_line(&c, line) == 0 && c.n == 1 && route_equal(&c.v[0], &a.v[1]),
	   "... reads back as the same route");
	free(line);

	routes_add(&b, "blog", "app", "blog.staging.example.com", "app", 8080,
		   SCOPE_INTERNAL);
	routes_add(&b, "docs", "site", "docs.example.com", "site", 80, SCOPE_INTERNAL);
	routes_sort(&b);
	is_int((int)ingress_routes_diff(&out, &a, &b), 3, "three route changes");
	is_str(buf_cstr(&out),
	       "~ route blog.staging.example.com -> blog/app:8080 (was blog/app:80)\n"
	       "+ route docs.example.com -> docs/site:80\n"
	       "- route shop.example.com -> shop/web:8080 (Public)\n",
	       "changed, added and removed routes");
	buf_reset(&out);
	is_int((int)ingress_routes_diff(&out, &a, &a), 0, "no change, no line");
	buf_release(&out);
	routes_release(&a);
	routes_release(&b);
	routes_release(&c);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

static void rule(struct project *p, const char *name, const char *host,
		 const char *service)
{
	struct ingress *in;

	GROW(p->ingress, p->capingress, p->ningress + 1);
	in = &p->ingress[p->ningress++];
	memset(in, 0, sizeof(*in));
	in->name = xstrdup(name);
	in->host = xstrdup(host);
	in->fqdn = xstrdup(host);
	in->target_service = xstrdup(service);
	in->target_port = 80;
	tb_service(p, service, "img");
}

static void record(struct state *st, const char *project, const char *line)
{
	struct strvec v = STRVEC_INIT;

	strvec_push(&v, line);
	ok(state_ingress_set_routes(st, project, &v) == 0, "recorded %s's route", project);
	strvec_release(&v);
}

/* What a sync serves: current rules, kept routes of invalid projects
 * (whose hosts no other project takes meanwhile), none of torn-down
 * ones. */
static void test_routes_of_a_pass(void)
{
	char tmpl[] = "/tmp/cara-test-ingress-XXXXXX";
	char *dir = mkdtemp(tmpl);
	struct state *st = NULL;
	struct project_set set = PROJECT_SET_INIT;
	struct plan plan = PLAN_INIT;
	struct routes r = ROUTES_INIT;
	struct project *p;

	if (!ok(dir && state_open(&st, dir) == 0, "a state"))
		return;
	record(st, "shop", "shop\tshop.example.com\tweb\tInternal\tweb\t80");
	record(st, "bad", "bad\tbad.example.com\tweb\tInternal\tweb\t80");
	record(st, "old", "old\tnow-new.example.com\tweb\tInternal\tweb\t80");
	record(st, "gone", "gone\tgone.example.com\tweb\tInternal\tweb\t80");
	p = tb_project(&set, "shop");
	rule(p, "web", "shop2.example.com", "web");
	p = tb_project(&set, "bad");
	p->valid = false;
	p = tb_project(&set, "old");
	p->valid = false;
	p = tb_project(&set, "new");
	rule(p, "web", "now-new.example.com", "app");
	tb_plan_project(&plan, "gone", VERDICT_TEARDOWN, CAUSE_REMOVED_FROM_SOURCE, 0);
	/* placed on another host: nothing of it here, or kept running here */
	record(st, "away", "away\taway.example.com\tweb\tInternal\tweb\t80");
	record(st, "held", "held\theld.example.com\tweb\tInternal\tweb\t80");
	p = tb_project(&set, "away");
	rule(p, "web", "away.example.com", "web");
	p = tb_project(&set, "held");
	rule(p, "web", "held.example.com", "web");
	tb_plan_project(&plan, "away", VERDICT_ELSEWHERE, CAUSE_PLACED_ELSEWHERE, 0);
	tb_plan_project(&plan, "held", VERDICT_ELSEWHERE, CAUSE_PLACED_ELSEWHERE, 0)->held = true;

	ok(proxy_routes(&r, st, &set, &plan) == 0 && r.n == 4, "four routes");
	if (r.n == 4) {
		is_str(r.v[0].host, "bad.example.com", "an invalid project keeps its route");
		is_str(r.v[1].host, "held.example.com",
		       "a project placed elsewhere but kept running here keeps its route");
		is_str(r.v[2].project, "old",
		       "a host a kept route holds is not taken by another project");
		is_str(r.v[3].host, "shop2.example.com", "a valid project's routes are its rules'");
	}
	routes_release(&r);
	ok(proxy_routes(&r, st, NULL, NULL) == 0 && r.n == 6, "state alone: what it records");
	routes_release(&r);
	state_close(st);
	project_set_release(&set);
	plan_release(&plan);
	ok(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0, "cleaned up");
}

static void test_outcome(void)
{
	struct pass_tally t = { .ok = 2, .ingress_failed = true };
	const char *w;

	is_int(outcome_of_pass(&t, &w), EXIT_PARTIAL,
	       "converged projects and a proxy that refused its routes: 4");
}

int main(void)
{
	enum ingress_tls t;

	test_scopes_off();
	test_tls();
	test_hostile();
	test_lines_and_diff();
	test_outcome();
	test_routes_of_a_pass();
	ok(ingress_tls_parse("internal", &t) == 0 && t == INGRESS_TLS_INTERNAL,
	   "--ingress-tls internal");
	ok(ingress_tls_parse("/etc/certs", &t) == 0 && t == INGRESS_TLS_DIR,
	   "--ingress-tls DIR");
	ok(ingress_tls_parse("certs", &t) < 0, "a relative directory is refused");
	return tap_done();
}
