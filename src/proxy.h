/*
 * proxy.h - the ingress proxy: one Caddy container a state runs, like a
 * project of its own, for the routes of every project (ingress.h).
 *
 * After the projects of a pass converged, proxy_sync() records each
 * valid project's routes (an invalid one keeps its last good routes, a
 * torn-down one loses them), renders Caddy's configuration from every
 * recorded route, makes sure the proxy runs (created with the first
 * route, repaired when removed, stopped or of an older spec, removed with
 * the last route) and loads the new configuration through Caddy's admin
 * API when it changed: a graceful reload, with no connection dropped.
 * Caddy keeps serving the old configuration when it refuses the new one.
 *
 * The proxy runs on the host's network, so each scope's listeners bind
 * the addresses that scope allows and nothing else, and it reaches each
 * target at its container's address on the project's own network: no
 * network is shared between projects for the proxy's sake.  The admin API
 * listens only on a unix socket under the state directory.
 *
 * Files, under {state_dir}/ingress: etc/caddy.json (the configuration the
 * proxy serves, replaced atomically after Caddy accepted it; what it
 * starts with), etc/rejected.json (the last one it refused), etc/admin.sock,
 * data/ (Caddy's certificates and internal CA).
 */
#ifndef CARA_PROXY_H
#define CARA_PROXY_H

#include <stdbool.h>

#include "ingress.h"
#include "pass.h"

struct proxy_result {
	bool active;           /* there are routes and --ingress caddy */
	bool failed;           /* the proxy does not serve the current routes */
	char *message;         /* why (failed), or what was done */
	bool reloaded, created;
	size_t nroutes;
};

void proxy_result_release(struct proxy_result *r);

/* The settings of cfg as ingress.h takes them; -1 with error_last(). */
int proxy_settings(struct ingress_settings *out, const struct config *cfg);

/*
 * Every route the state records, sorted (for status and describe); with
 * `desired` given, what a sync of that plan serves: the valid projects'
 * current routes replace their recorded ones, the projects the plan
 * tears down lose theirs, and a host a route kept from an earlier pass
 * holds (an invalid project's) stays its own: a current rule of another
 * project does not take it over.
 */
int proxy_routes(struct routes *out, struct state *st,
		 const struct project_set *desired, const struct plan *plan);

/* The route changes a sync of p's plan would make (ingress_routes_diff
 * lines, appended to out; *n of them): none with --ingress none. */
int proxy_diff(struct buf *out, struct pass *p, size_t *n);

/* The route lines (route_line) the proxy served after its last accepted
 * reload, sorted. */
int proxy_served(struct strvec *out, struct state *st);

/*
 * The ingress step of sync (after apply_plan and its phases): records
 * the routes and runs the proxy as above.  0, or -1 when a state write
 * failed; a proxy failure is res->failed with its message (logged and
 * recorded as an IngressFailed event) and does not touch the projects.
 */
int proxy_sync(struct pass *p, struct proxy_result *res);

#endif
