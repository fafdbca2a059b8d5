/*
 * ingress.c - routes and the Caddy configuration (ingress.h).
 *
 * The configuration has one Caddy server per listener: {scope}-http on
 * ADDRESS:http_port and, with TLS, {scope}-https on ADDRESS:https_port.
 * A scope without routes has no server, so nothing listens on an address
 * no rule asked for.  Caddy's own automatic redirects are off (they would
 * listen on every address); the -http servers redirect the hosts they
 * know themselves.  Every string of a manifest enters the JSON as a JSON
 * string through jansson, never as configuration text.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingress.h"
#include "input/manifest.h"

static void route_free(struct route *rt)
{
	free(rt->project);
	free(rt->rule);
	free(rt->host);
	free(rt->service);
}

void routes_release(struct routes *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		route_free(&r->v[i]);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

size_t routes_drop_scope(struct routes *r, enum route_scope scope)
{
	size_t i, o, dropped = 0;

	for (i = o = 0; i < r->n; i++) {
		if (r->v[i].scope != scope) {
			r->v[o++] = r->v[i];
			continue;
		}
		route_free(&r->v[i]);
		dropped++;
	}
	r->n = o;
	return dropped;
}

void routes_add(struct routes *r, const char *project, const char *rule,
		const char *host, const char *service, int port,
		enum route_scope scope)
{
	struct route *x;

	GROW(r->v, r->cap, r->n + 1);
	x = &r->v[r->n++];
	x->project = xstrdup(project);
	x->rule = xstrdup(rule);
	x->host = xstrdup(host);
	x->service = xstrdup(service);
	x->port = port;
	x->scope = scope;
}

static int route_cmp(const void *a, const void *b)
{
	const struct route *x = a, *y = b;
	int c = strcmp(x->host, y->host);

	if (c)
		return c;
	if ((c = strcmp(x->project, y->project)))
		return c;
	return strcmp(x->rule, y->rule);
}

void routes_sort(struct routes *r)
{
	if (r->n > 1)
		qsort(r->v, r->n, sizeof(*r->v), route_cmp);
}

void ingress_project_routes(struct routes *out, const struct project *p)
{
	size_t i;

	for (i = 0; i < p->ningress; i++) {
		const struct ingress *in = &p->ingress[i];
		const char *host = in->fqdn ? in->fqdn : in->host;

		if (!host || !*host || !in->target_service || !*in->target_service ||
		    in->target_port < 1 || in->target_port > 65535 ||
		    !project_find_service(p, in->target_service))
			continue;
		routes_add(out, p->name, in->name ? in->name : "", host,
			   in->target_service, in->target_port,
			   in->scope && !strcmp(in->scope, "Public") ?
			   SCOPE_PUBLIC : SCOPE_INTERNAL);
	}
}

const char *route_scope_name(enum route_scope s)
{
	return s == SCOPE_PUBLIC ? "Public" : "Internal";
}

char *route_line(const struct route *r)
{
	return xasprintf("%s\t%s\t%s\t%s\t%s\t%d", r->project, r->host, r->rule,
			 route_scope_name(r->scope), r->service, r->port);
}

int route_parse_line(struct routes *out, const char *line)
{
	char *f[6] = { 0 };
	const char *p = line, *tab;
	long long port;
	size_t i;
	int rc = -1;

	for (i = 0; i < 6; i++) {
		tab = strchr(p, '\t');
		if ((i < 5) != (tab != NULL))
			goto out;
		f[i] = tab ? xstrndup(p, (size_t)(tab - p)) : xstrdup(p);
		p = tab ? tab + 1 : p;
	}
	/* what a manifest could have given, checked again: a damaged row
	 * is dropped rather than rendered */
	if (manifest_check_object_name(f[0]) || manifest_check_hostname(f[1]) ||
	    (*f[2] && manifest_check_object_name(f[2])) ||
	    (strcmp(f[3], "Internal") && strcmp(f[3], "Public")) ||
	    manifest_check_object_name(f[4]) || parse_ll(f[5], 1, 65535, &port) < 0)
		goto out;
	routes_add(out, f[0], f[2], f[1], f[4], (int)port,
		   strcmp(f[3], "Public") ? SCOPE_INTERNAL : SCOPE_PUBLIC);
	rc = 0;
out:
	for (i = 0; i < 6; i++)
		free(f[i]);
	return rc;
}

void route_describe(struct buf *out, const struct route *r)
{
	buf_printf(out, "%s -> %s/%s:%d", r->host, r->project, r->service, r->port);
	if (r->scope == SCOPE_PUBLIC)
		buf_puts(out, " (Public)");
}

bool route_equal(const struct route *a, const struct route *b)
{
	return !strcmp(a->host, b->host) && !strcmp(a->project, b->project) &&
	       !strcmp(a->service, b->service) && a->port == b->port &&
	       a->scope == b->scope;
}

size_t ingress_routes_diff(struct buf *out, const struct routes *old,
			   const struct routes *new)
{
	size_t i = 0, j = 0, n = 0;

	while (i < old->n || j < new->n) {
		int c = i >= old->n ? 1 : j >= new->n ? -1 :
			strcmp(old->v[i].host, new->v[j].host);

		if (c < 0) {
			buf_puts(out, "- route ");
			route_describe(out, &old->v[i++]);
		} else if (c > 0) {
			buf_puts(out, "+ route ");
			route_describe(out, &new->v[j++]);
		} else {
			if (route_equal(&old->v[i], &new->v[j])) {
				i++, j++;
				continue;
			}
			buf_puts(out, "~ route ");
			route_describe(out, &new->v[j]);
			buf_puts(out, " (was ");
			buf_printf(out, "%s/%s:%d", old->v[i].project, old->v[i].service,
				   old->v[i].port);
			if (old->v[i].scope != new->v[j].scope)
				buf_printf(out, ", %s", route_scope_name(old->v[i].scope));
			buf_puts(out, ")");
			i++, j++;
		}
		buf_putc(out, '\n');
		n++;
	}
	return n;
}

size_t ingress_routes_text(struct buf *out, const struct routes *r,
			   const struct strvec *served, const char *project,
			   const char *indent)
{
	size_t i, n = 0;

	for (i = 0; i < r->n; i++) {
		char *line;

		if (project && strcmp(r->v[i].project, project))
			continue;
		line = route_line(&r->v[i]);
		buf_printf(out, "%s%s -> %s/%s:%d  %s  %s\n", indent, r->v[i].host,
			   r->v[i].project, r->v[i].service, r->v[i].port,
			   route_scope_name(r->v[i].scope),
			   served && strvec_has(served, line) ? "served" : "not served");
		free(line);
		n++;
	}
	return n;
}

int ingress_tls_parse(const char *s, enum ingress_tls *out)
{
	if (!s || !strcmp(s, "auto"))
		*out = INGRESS_TLS_AUTO;
	else if (!strcmp(s, "internal"))
		*out = INGRESS_TLS_INTERNAL;
	else if (!strcmp(s, "off"))
		*out = INGRESS_TLS_OFF;
	else if (s[0] == '/')
		*out = INGRESS_TLS_DIR;
	else
		return error_set("--ingress-tls: '%.64s' is not auto, internal, off "
				 "or an absolute directory", s);
	return 0;
}

/* ---- rendering ---- */

/* jansson's setters fail only on allocation or bad UTF-8; both make the
 * whole rendering fail rather than a partial configuration. */
struct jb {
	bool bad;
};

static void jset(struct jb *b, json_t *o, const char *k, json_t *v)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		b->bad = true;
}

static void jpush(struct jb *b, json_t *a, json_t *v)
{
	if (!v || json_array_append_new(a, v) < 0)
		b->bad = true;
}

static json_t *jstr(const char *s)
{
	return json_string(s ? s : "");
}

static char *listen_addr(const char *ip, int port)
{
	/* an IPv6 address is bracketed, as Caddy's network addresses want */
	return strchr(ip, ':') ? xasprintf("[%s]:%d", ip, port) :
	       xasprintf("%s:%d", ip, port);
}

static json_t *host_match(struct jb *b, const char *host)
{
	json_t *m = json_array(), *one = json_object(), *hosts = json_array();

	jpush(b, hosts, jstr(host));
	jset(b, one, "host", hosts);
	jpush(b, m, one);
	return m;
}

static json_t *static_response(struct jb *b, int code, const char *body,
			       const char *location)
{
	json_t *h = json_object();

	jset(b, h, "handler", jstr("static_response"));
	jset(b, h, "status_code", json_integer(code));
	if (body)
		jset(b, h, "body", jstr(body));
	if (location) {
		json_t *hdr = json_object(), *v = json_array();

		jpush(b, v, jstr(location));
		jset(b, hdr, "Location", v);
		jset(b, h, "headers", hdr);
	}
	return h;
}

static json_t *proxy_route(struct jb *b, const struct route *r, const char *dial)
{
	json_t *route = json_object(), *handle = json_array();

	jset(b, route, "match", host_match(b, r->host));
	if (dial) {
		json_t *h = json_object(), *ups = json_array(), *up = json_object();

		jset(b, up, "dial", jstr(dial));
		jpush(b, ups, up);
		jset(b, h, "handler", jstr("reverse_proxy"));
		jset(b, h, "upstreams", ups);
		jpush(b, handle, h);
	} else {
		jpush(b, handle, static_response(b, 502, "service not running\n", NULL));
	}
	jset(b, route, "handle", handle);
	jset(b, route, "terminal", json_true());
	return route;
}

static json_t *redirect_route(struct jb *b, const char *host, int https_port)
{
	json_t *route = json_object(), *handle = json_array();
	/* {http.request.host} is the Host the route matched: one of ours */
	char *loc = https_port == 443 ?
		    xstrdup("https://{http.request.host}{http.request.uri}") :
		    xasprintf("https://{http.request.host}:%d{http.request.uri}",
			      https_port);

	jset(b, route, "match", host_match(b, host));
	jpush(b, handle, static_response(b, 308, NULL, loc));
	jset(b, route, "handle", handle);
	jset(b, route, "terminal", json_true());
	free(loc);
	return route;
}

static json_t *not_found_route(struct jb *b)
{
	json_t *route = json_object(), *handle = json_array();

	jpush(b, handle, static_response(b, 404, "no route for this host\n", NULL));
	jset(b, route, "handle", handle);
	return route;
}

static json_t *server(struct jb *b, const char *ip, int port)
{
	json_t *srv = json_object(), *listen = json_array();
	char *a = listen_addr(ip, port);

	jpush(b, listen, jstr(a));
	jset(b, srv, "listen", listen);
	jset(b, srv, "routes", json_array());
	free(a);
	return srv;
}

/* Is route i the first of its host (the one that is served)? */
static bool first_of_host(const struct routes *r, size_t i)
{
	return i == 0 || strcmp(r->v[i - 1].host, r->v[i].host);
}

static void add_scope(struct jb *b, json_t *servers, const struct routes *r,
		      const char *const *dials, const struct ingress_settings *s,
		      enum route_scope scope)
{
	const char *ip = scope == SCOPE_PUBLIC ? s->public_address : s->internal_address;
	const char *sn = scope == SCOPE_PUBLIC ? "public" : "internal";
	bool tls = s->tls != INGRESS_TLS_OFF;
	json_t *http = NULL, *https = NULL, *ah;
	char *name;
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (r->v[i].scope != scope || !first_of_host(r, i))
			continue;
		if (!http)
			http = server(b, ip, s->http_port);
		if (tls && !https)
			https = server(b, ip, s->https_port);
		if (tls) {
			jpush(b, json_object_get(https, "routes"),
			      proxy_route(b, &r->v[i], dials ? dials[i] : NULL));
			jpush(b, json_object_get(http, "routes"),
			      redirect_route(b, r->v[i].host, s->https_port));
		} else {
			jpush(b, json_object_get(http, "routes"),
			      proxy_route(b, &r->v[i], dials ? dials[i] : NULL));
		}
	}
	if (!http)
		return;
	jpush(b, json_object_get(http, "routes"), not_found_route(b));
	ah = json_object();
	jset(b, ah, "disable", json_true());
	jset(b, http, "automatic_https", ah);
	name = xasprintf("%s-http", sn);
	jset(b, servers, name, http);
	free(name);
	if (https) {
		json_t *pol = json_array();

		jpush(b, json_object_get(https, "routes"), not_found_route(b));
		jpush(b, pol, json_object());
		jset(b, https, "tls_connection_policies", pol);
		ah = json_object();
		jset(b, ah, "disable_redirects", json_true());
		if (s->tls == INGRESS_TLS_DIR)
			jset(b, ah, "disable_certificates", json_true());
		jset(b, https, "automatic_https", ah);
		name = xasprintf("%s-https", sn);
		jset(b, servers, name, https);
		free(name);
	}
}

static json_t *tls_app(struct jb *b, const struct routes *r,
		       const struct ingress_settings *s)
{
	json_t *app = json_object();
	size_t i;

	if (s->tls == INGRESS_TLS_INTERNAL) {
		json_t *auto_ = json_object(), *pols = json_array(), *pol = json_object();
		json_t *subj = json_array(), *iss = json_array(), *in = json_object();

		for (i = 0; i < r->n; i++)
			if (first_of_host(r, i))
				jpush(b, subj, jstr(r->v[i].host));
		jset(b, pol, "subjects", subj);
		jset(b, in, "module", jstr("internal"));
		jpush(b, iss, in);
		jset(b, pol, "issuers", iss);
		jpush(b, pols, pol);
		jset(b, auto_, "policies", pols);
		jset(b, app, "automation", auto_);
	} else if (s->tls == INGRESS_TLS_DIR) {
		json_t *certs = json_object(), *files = json_array();

		for (i = 0; i < r->n; i++) {
			json_t *f;
			char *crt, *key;

			if (!first_of_host(r, i))
				continue;
			f = json_object();
			crt = xasprintf("%s/%s.crt", s->cert_dir, r->v[i].host);
			key = xasprintf("%s/%s.key", s->cert_dir, r->v[i].host);
			jset(b, f, "certificate", jstr(crt));
			jset(b, f, "key", jstr(key));
			jpush(b, files, f);
			free(crt);
			free(key);
		}
		jset(b, certs, "load_files", files);
		jset(b, app, "certificates", certs);
	}
	return app;
}

static char *render(const struct routes *r, const char *const *dials,
		    const struct ingress_settings *s)
{
	struct jb b = { false };
	json_t *root = json_object(), *admin = json_object(), *apps = json_object();
	json_t *http = json_object(), *servers = json_object();
	char *text = NULL, *out = NULL;

	jset(&b, admin, "listen", jstr(s->admin_listen));
	jset(&b, root, "admin", admin);
	jset(&b, http, "http_port", json_integer(s->http_port));
	jset(&b, http, "https_port", json_integer(s->https_port));
	/* a reload lets requests in flight finish on the old servers */
	jset(&b, http, "grace_period", jstr(INGRESS_GRACE));
	if (r) {
		add_scope(&b, servers, r, dials, s, SCOPE_INTERNAL);
		add_scope(&b, servers, r, dials, s, SCOPE_PUBLIC);
	}
	jset(&b, http, "servers", servers);
	jset(&b, apps, "http", http);
	if (r && s->tls != INGRESS_TLS_OFF && s->tls != INGRESS_TLS_AUTO)
		jset(&b, apps, "tls", tls_app(&b, r, s));
	{
		/* the internal CA is not installed in the proxy's trust store:
		 * it has none, and it would only log that it failed */
		json_t *pki = json_object(), *cas = json_object(), *local = json_object();

		jset(&b, local, "install_trust", json_false());
		jset(&b, cas, "local", local);
		jset(&b, pki, "certificate_authorities", cas);
		jset(&b, apps, "pki", pki);
	}
	jset(&b, root, "apps", apps);
	if (!b.bad)
		text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	if (text) {
		out = xstrdup(text);
		free(text);
	}
	json_decref(root);
	return out;
}

char *ingress_render(const struct routes *r, const char *const *dials,
		     const struct ingress_settings *s)
{
	return render(r, dials, s);
}

char *ingress_render_empty(const struct ingress_settings *s)
{
	return render(NULL, NULL, s);
}
