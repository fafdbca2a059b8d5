/*
 * ingress.h - the routes the ingress rules of the projects make, and the
 * reverse proxy's configuration rendered from them.  Pure: no I/O, no
 * clock; proxy.h runs the proxy.
 *
 * A route is one rule of one project: a host name (resolved, fqdn), the
 * scope it listens on and the service and port of the same project it
 * reaches.  A rule can only name a service of its own project (validation
 * refuses others), and a route reaches the container cara made for that
 * service and nothing else: the dial address is looked up by cara, never
 * written by a manifest.
 *
 * The configuration is Caddy's JSON, built with jansson: no text of a
 * manifest is ever parsed by Caddy as configuration, so a host name cannot
 * inject a directive.
 */
#ifndef CARA_INGRESS_H
#define CARA_INGRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"
#include "util.h"

/* Internal unless the rule says Public: a rule never listens wider than
 * it asked, and an unknown scope (a warning) is the narrow one. */
enum route_scope { SCOPE_INTERNAL, SCOPE_PUBLIC };

struct route {
	char *project;
	char *rule;          /* spec.ingress[].name */
	char *host;          /* the resolved host name */
	char *service;       /* of the same project */
	int port;
	enum route_scope scope;
};

struct routes {
	struct route *v;
	size_t n, cap;
};

#define ROUTES_INIT { NULL, 0, 0 }

void routes_release(struct routes *r);
void routes_add(struct routes *r, const char *project, const char *rule,
		const char *host, const char *service, int port,
		enum route_scope scope);
/* Sorted by host, then project (the order of the configuration). */
void routes_sort(struct routes *r);
/* The routes of p's rules (p must be valid), appended to out. */
void ingress_project_routes(struct routes *out, const struct project *p);

const char *route_scope_name(enum route_scope s);   /* "Internal" */
/* One line for state: "project\thost\trule\tscope\tservice\tport"
 * (caller frees), and back: -1 when the line is not one (a damaged row
 * is dropped, never rendered). */
char *route_line(const struct route *r);
int route_parse_line(struct routes *out, const char *line);
/* "blog.staging.example.com -> blog/app:80" */
void route_describe(struct buf *out, const struct route *r);
/* Do a and b route the same host to the same place, the same way? */
bool route_equal(const struct route *a, const struct route *b);

/*
 * What `cara diff` shows for the routes going from old to new (both
 * sorted): "+ route HOST -> P/S:PORT" for a new one, "- route ..." for a
 * removed one, "~ route ..." for a host that now goes elsewhere or
 * listens on the other scope, one a line.  Returns how many lines.
 */
size_t ingress_routes_diff(struct buf *out, const struct routes *old,
			   const struct routes *new);

/*
 * One line a route (of `project` only, or all when NULL), after indent:
 * "HOST -> P/S:PORT  SCOPE  served" or "... not served" when its line is
 * not among `served` (route_line()s the proxy last accepted); for status
 * and describe.  Returns how many lines.
 */
size_t ingress_routes_text(struct buf *out, const struct routes *r,
			   const struct strvec *served, const char *project,
			   const char *indent);

enum ingress_tls { INGRESS_TLS_AUTO, INGRESS_TLS_INTERNAL, INGRESS_TLS_OFF,
		   INGRESS_TLS_DIR };

/* --ingress-tls: auto, internal, off, or an absolute directory. */
int ingress_tls_parse(const char *s, enum ingress_tls *out);

/* How long a reload waits for requests in flight on the old
 * configuration before it closes them (Caddy's grace_period). */
#define INGRESS_GRACE "30s"

struct ingress_settings {
	const char *internal_address;    /* IP the Internal routes listen on */
	const char *public_address;      /* IP the Public routes listen on */
	int http_port, https_port;
	enum ingress_tls tls;
	const char *cert_dir;            /* INGRESS_TLS_DIR: as the proxy sees it */
	const char *admin_listen;        /* Caddy's admin address: "unix//..." */
};

/*
 * Caddy's JSON configuration for routes r (sorted, hosts unique: the
 * first route of a host wins) as text, compact with sorted keys, so the
 * same routes always render the same bytes (caller frees).  dials[i] is
 * where route i's service answers ("10.0.3.2:80"), or NULL when it has no
 * running container: that host answers 502.  An address without routes
 * of its scope gets no listener at all.  With TLS (all but off) each
 * scope listens on https_port with the host's certificate and redirects
 * http_port to it; off: plain HTTP on http_port.  A host without a route
 * on a listener gets 404.
 */
char *ingress_render(const struct routes *r, const char *const *dials,
		     const struct ingress_settings *s);

/* A configuration that serves nothing: what a new proxy starts with. */
char *ingress_render_empty(const struct ingress_settings *s);

#endif
