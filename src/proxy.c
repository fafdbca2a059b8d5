/*
 * proxy.c - the ingress proxy's lifecycle and reloads (proxy.h).
 *
 * Invariants:
 * - The proxy container carries cara.ingress and cara.owner, never
 *   cara.project: the planner never sees it, so no prune and no
 *   mass-prune guard counts it.  A container of the proxy's name without
 *   this state's owner label is never changed or removed.
 * - A route reaches only a container this state made for the route's own
 *   project and service (checked by its labels when its address is
 *   looked up); no address comes from a manifest.
 * - etc/caddy.json is what the proxy serves: written only after Caddy
 *   accepted it, atomically (rename), so a restarted proxy starts with
 *   the last good configuration, never a refused one.  A container made
 *   anew starts with an empty one (the last good one may need a mount the
 *   new container lacks), then loads the routes, or the last good
 *   configuration when Caddy refuses them.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "log.h"
#include "names.h"
#include "phase.h"
#include "proxy.h"

#define PROXY_ROLE "caddy"
#define PROXY_ETC "/etc/caddy"               /* as the proxy sees etc/ */
#define PROXY_DATA "/data"                   /* Caddy's XDG_DATA_HOME */
#define PROXY_CERTS "/etc/cara-certs"        /* --ingress-tls DIR */
#define ADMIN_SOCKET "admin.sock"
#define MAX_CONFIG_BYTES ((size_t)16 << 20)
#define MAX_ADMIN_REPLY ((size_t)64 << 10)
/* how long a reload lets requests in flight finish on the old
 * configuration (Caddy's grace_period), and how long a new proxy may
 * take to answer on its admin socket */
#define ADMIN_READY_MS 20000

void proxy_result_release(struct proxy_result *r)
{
	free(r->message);
	memset(r, 0, sizeof(*r));
}

int proxy_settings(struct ingress_settings *out, const struct config *cfg)
{
	memset(out, 0, sizeof(*out));
	if (ingress_tls_parse(cfg->ingress_tls, &out->tls) < 0)
		return -1;
	out->internal_address = cfg->ingress_internal_address;
	out->public_address = cfg->ingress_public_address;
	out->http_port = (int)cfg->ingress_http_port;
	out->https_port = (int)cfg->ingress_https_port;
	out->cert_dir = PROXY_CERTS;
	out->admin_listen = "unix/" PROXY_ETC "/" ADMIN_SOCKET;
	return 0;
}

/* ---- routes ---- */

static void lines_of(struct strvec *out, const struct routes *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		strvec_push_nodup(out, route_line(&r->v[i]));
}

/* A project whose routes the state records from its manifest now: valid,
 * its objects this state's, placed on this host. */
static bool routes_current(const struct project *pr, const struct plan *plan)
{
	size_t i;

	if (!pr->valid)
		return false;
	for (i = 0; plan && i < plan->nprojects; i++)
		if (!strcmp(plan->projects[i].name, pr->name))
			return plan->projects[i].verdict != VERDICT_REFUSED &&
			       plan->projects[i].verdict != VERDICT_TEARDOWN &&
			       plan->projects[i].verdict != VERDICT_ELSEWHERE;
	return true;
}

static bool torn_down(const struct plan *plan, const char *project)
{
	size_t i;

	for (i = 0; plan && i < plan->nprojects; i++)
		if (!strcmp(plan->projects[i].name, project))
			return plan->projects[i].verdict == VERDICT_TEARDOWN ||
			       plan->projects[i].verdict == VERDICT_GONE ||
			       /* placed elsewhere, and its objects here go
			        * (held ones keep their routes, as they run) */
			       (plan->projects[i].verdict == VERDICT_ELSEWHERE &&
				!plan->projects[i].held);
	return false;
}

static bool has_host(const struct routes *r, size_t n, const char *host)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(r->v[i].host, host))
			return true;
	return false;
}

int proxy_routes(struct routes *out, struct state *st,
		 const struct project_set *desired, const struct plan *plan)
{
	struct strvec lines = STRVEC_INIT;
	struct routes cur = ROUTES_INIT;
	size_t i, nkept;

	memset(out, 0, sizeof(*out));
	if (st && state_ingress_routes(st, &lines) < 0)
		return -1;
	for (i = 0; i < lines.n; i++) {
		struct routes one = ROUTES_INIT;
		const struct project *pr;

		if (route_parse_line(&one, lines.v[i]) < 0)
			continue;
		pr = desired ? project_set_find(desired, one.v[0].project) : NULL;
		/* kept from an earlier pass: an invalid project's, one the
		 * prune held, all of them without desired */
		if (!desired ||
		    (!(pr && routes_current(pr, plan)) && !torn_down(plan, one.v[0].project)))
			routes_add(out, one.v[0].project, one.v[0].rule, one.v[0].host,
				   one.v[0].service, one.v[0].port, one.v[0].scope);
		routes_release(&one);
	}
	nkept = out->n;
	for (i = 0; desired && i < desired->n; i++)
		if (routes_current(&desired->v[i], plan))
			ingress_project_routes(&cur, &desired->v[i]);
	/* a host a kept route holds stays its own: a rule of another
	 * project cannot take it while its project is invalid */
	for (i = 0; i < cur.n; i++)
		if (!has_host(out, nkept, cur.v[i].host))
			routes_add(out, cur.v[i].project, cur.v[i].rule, cur.v[i].host,
				   cur.v[i].service, cur.v[i].port, cur.v[i].scope);
	routes_release(&cur);
	routes_sort(out);
	strvec_release(&lines);
	return 0;
}

int proxy_diff(struct buf *out, struct pass *p, size_t *n)
{
	struct routes old = ROUTES_INIT, new = ROUTES_INIT;
	int rc = -1;

	*n = 0;
	if (!strcmp(p->cfg->ingress, "none"))
		return 0;
	if (proxy_routes(&old, p->st, NULL, NULL) < 0 ||
	    proxy_routes(&new, p->st, &p->desired, &p->plan) < 0)
		goto out;
	*n = ingress_routes_diff(out, &old, &new);
	rc = 0;
out:
	routes_release(&old);
	routes_release(&new);
	return rc;
}

int proxy_served(struct strvec *out, struct state *st)
{
	char *v = NULL, *s, *nl;

	memset(out, 0, sizeof(*out));
	if (state_meta_get(st, "ingress.served", &v) < 0)
		return -1;
	for (s = v; s && *s; s = nl ? nl + 1 : s + strlen(s)) {
		nl = strchr(s, '\n');
		if (nl)
			strvec_push_nodup(out, xstrndup(s, (size_t)(nl - s)));
		else
			strvec_push(out, s);
	}
	free(v);
	return 0;
}

/* Say which rules wait for a host another project's kept route holds. */
static void warn_held(struct pass *p, const struct routes *r)
{
	size_t i, k;

	for (i = 0; i < p->desired.n; i++) {
		struct routes mine = ROUTES_INIT;

		if (!routes_current(&p->desired.v[i], &p->plan))
			continue;
		ingress_project_routes(&mine, &p->desired.v[i]);
		for (k = 0; k < mine.n; k++) {
			size_t j;

			for (j = 0; j < r->n; j++)
				if (!strcmp(r->v[j].host, mine.v[k].host))
					break;
			if (j < r->n && strcmp(r->v[j].project, mine.v[k].project))
				log_msg(LOG_WARN, mine.v[k].project, "ingress: host %s "
					"stays routed to project %s (its last good "
					"routes: it is invalid) and is not served for "
					"this rule", mine.v[k].host, r->v[j].project);
		}
		routes_release(&mine);
	}
}

/* Record what this pass knows of each project's routes. */
static int record_routes(struct pass *p)
{
	size_t i;
	int rc = -1;

	if (state_begin(p->st) < 0)
		return -1;
	for (i = 0; i < p->desired.n; i++) {
		const struct project *pr = &p->desired.v[i];
		struct routes r = ROUTES_INIT;
		struct strvec lines = STRVEC_INIT;
		int w;

		if (!routes_current(pr, &p->plan))
			continue;
		ingress_project_routes(&r, pr);
		lines_of(&lines, &r);
		w = state_ingress_set_routes(p->st, pr->name, &lines);
		strvec_release(&lines);
		routes_release(&r);
		if (w < 0)
			goto out;
	}
	for (i = 0; i < p->plan.nprojects; i++)
		if (torn_down(&p->plan, p->plan.projects[i].name) &&
		    state_ingress_set_routes(p->st, p->plan.projects[i].name, NULL) < 0)
			goto out;
	rc = 0;
out:
	if (rc < 0) {
		state_rollback(p->st);
		return -1;
	}
	return state_commit(p->st);
}

/* ---- files ---- */

static int ensure_dir(const char *dir)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return error_set("ingress: cannot make '%s': %s", dir, strerror(errno));
	return 0;
}

static int write_atomic(const char *file, const char *data, size_t len)
{
	return write_file_atomic(file, data, len, 0600, "ingress configuration");
}

/* ---- the admin API (a unix socket) ---- */

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t len = size * n;

	if (b->len + len > MAX_ADMIN_REPLY)
		return 0;
	buf_add(b, data, len);
	return len;
}

/*
 * method path on the admin socket; body NULL: GET.  0 for a 2xx answer;
 * else -1 with error_last() saying what Caddy said (its "error" field).
 */
static int admin_call(const char *sock, const char *path, const char *body,
		      long timeout_ms)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdr = NULL;
	struct buf reply = BUF_INIT;
	char *url = xasprintf("http://localhost%s", path);
	long code = 0;
	CURLcode cc;
	int rc = -1;

	if (!c) {
		error_set("ingress: cannot start an HTTP client");
		goto out;
	}
	/* Caddy checks the Host of admin requests; over a unix socket it
	 * accepts an empty one */
	hdr = curl_slist_append(hdr, "Host;");
	if (body)
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
	if (!hdr ||
	    curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply) != CURLE_OK ||
	    (body && (curl_easy_setopt(c, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
		      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
				       (long)strlen(body)) != CURLE_OK))) {
		error_set("ingress: cannot set up the admin request");
		goto out;
	}
	if ((cc = curl_easy_perform(c)) != CURLE_OK) {
		error_set("ingress: the proxy's admin API at '%s' does not answer: %s",
			  sock, curl_easy_strerror(cc));
		goto out;
	}
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
		code = 0;
	if (code < 200 || code > 299) {
		/* {"error":"loading config: ..."}: the message, as text */
		const char *e = strstr(buf_cstr(&reply), "\"error\":\"");
		struct buf msg = BUF_INIT;

		if (e) {
			const char *end = strrchr(e + 9, '"');

			buf_add(&msg, e + 9, end ? (size_t)(end - e - 9) : strlen(e + 9));
		} else {
			buf_add(&msg, buf_cstr(&reply), reply.len > 300 ? 300 : reply.len);
		}
		error_set("ingress: the proxy refused the configuration (HTTP %ld): %s",
			  code, buf_cstr(&msg));
		buf_release(&msg);
		goto out;
	}
	rc = 0;
out:
	curl_slist_free_all(hdr);
	if (c)
		curl_easy_cleanup(c);
	buf_release(&reply);
	free(url);
	return rc;
}

static int admin_wait_ready(const char *sock)
{
	int64_t deadline = monotonic_ms() + ADMIN_READY_MS;
	struct timespec ts = { 0, 200 * 1000 * 1000 };

	for (;;) {
		if (admin_call(sock, "/config/", NULL, 2000) == 0)
			return 0;
		if (monotonic_ms() > deadline)
			return error_set("ingress: the proxy did not answer on its admin "
					 "socket within %d s: %s", ADMIN_READY_MS / 1000,
					 error_last());
		nanosleep(&ts, NULL);
	}
}

/* ---- the container ---- */

struct proxy_paths {
	char *root, *etc, *data, *config, *rejected, *sock;
};

static void paths_release(struct proxy_paths *pp)
{
	free(pp->root);
	free(pp->etc);
	free(pp->data);
	free(pp->config);
	free(pp->rejected);
	free(pp->sock);
}

static int paths_of(struct proxy_paths *pp, const char *state_dir)
{
	/* absolute: the Engine binds them by path */
	char *real = realpath(state_dir, NULL);

	memset(pp, 0, sizeof(*pp));
	pp->root = xasprintf("%s/ingress", real ? real : state_dir);
	free(real);
	pp->etc = xasprintf("%s/etc", pp->root);
	pp->data = xasprintf("%s/data", pp->root);
	pp->config = xasprintf("%s/caddy.json", pp->etc);
	pp->rejected = xasprintf("%s/rejected.json", pp->etc);
	pp->sock = xasprintf("%s/" ADMIN_SOCKET, pp->etc);
	if (ensure_dir(pp->root) < 0 || ensure_dir(pp->etc) < 0 ||
	    ensure_dir(pp->data) < 0)
		return -1;
	return 0;
}

struct proxy_spec {
	struct workload_spec w;
	struct workload_net host;
	struct workload_mount mounts[3];
	struct kv labels[3];
	struct strvec cmd, env;
	char hash[65];
};

static void spec_release(struct proxy_spec *s)
{
	strvec_release(&s->cmd);
	strvec_release(&s->env);
}

/* The container: what changes here recreates it; the routes, addresses
 * and ports are its configuration and only reload it. */
static void spec_of(struct proxy_spec *s, const char *name, const struct config *cfg,
		    const struct proxy_paths *pp, const char *owner)
{
	struct buf h = BUF_INIT;
	enum ingress_tls tls = INGRESS_TLS_AUTO;
	size_t n = 0, i;

	memset(s, 0, sizeof(*s));
	strvec_push(&s->cmd, "caddy");
	strvec_push(&s->cmd, "run");
	strvec_push(&s->cmd, "--config");
	strvec_push(&s->cmd, PROXY_ETC "/caddy.json");
	strvec_push(&s->env, "XDG_DATA_HOME=" PROXY_DATA);
	strvec_push(&s->env, "XDG_CONFIG_HOME=/config");
	s->mounts[n++] = (struct workload_mount){ .type = "bind", .source = pp->etc,
						  .target = PROXY_ETC };
	s->mounts[n++] = (struct workload_mount){ .type = "bind", .source = pp->data,
						  .target = PROXY_DATA };
	(void)ingress_tls_parse(cfg->ingress_tls, &tls);
	if (tls == INGRESS_TLS_DIR)
		s->mounts[n++] = (struct workload_mount){ .type = "bind",
			.source = cfg->ingress_tls, .target = PROXY_CERTS, .read_only = true };
	buf_printf(&h, "image=%s\n", cfg->ingress_image);
	for (i = 0; i < s->cmd.n; i++)
		buf_printf(&h, "cmd=%s\n", s->cmd.v[i]);
	for (i = 0; i < n; i++)
		buf_printf(&h, "mount=%s:%s:%d\n", s->mounts[i].source,
			   s->mounts[i].target, s->mounts[i].read_only);
	sha256_hex(buf_cstr(&h), h.len, s->hash);
	buf_release(&h);
	s->labels[0] = (struct kv){ (char *)LABEL_INGRESS, (char *)PROXY_ROLE, { 0, 0 } };
	s->labels[1] = (struct kv){ (char *)LABEL_OWNER, (char *)(owner ? owner : ""),
				    { 0, 0 } };
	s->labels[2] = (struct kv){ (char *)LABEL_SPEC_HASH, s->hash, { 0, 0 } };
	s->w.name = name;
	s->w.image = cfg->ingress_image;
	s->w.cmd = &s->cmd;
	s->w.env = &s->env;
	s->w.labels = s->labels;
	s->w.nlabels = 3;
	s->w.mounts = s->mounts;
	s->w.nmounts = n;
	s->w.restart = "unless-stopped";
	s->w.stop_timeout_s = 10;
	/* the host's network: each listener binds its scope's address */
	s->host.name = "host";
	s->w.nets = &s->host;
	s->w.nnets = 1;
}

static int pull_image(struct pass *p, const char *ref)
{
	struct auth_creds c;
	int rc;

	if (observed_has_image(&p->obs, ref))
		return 0;
	log_msg(LOG_INFO, NULL, "ingress: pulling %s", ref);
	if ((rc = auth_lookup(&c, p->cfg->registry_auth_file, ref)) == 0)
		rc = p->ops->image_pull(p->backend, ref,
					c.header.len ? buf_cstr(&c.header) : NULL, NULL, NULL);
	auth_creds_release(&c);
	if (rc < 0)
		return error_set("ingress: cannot pull the proxy image %s: %s", ref,
				 error_last());
	return 0;
}

/*
 * Make sure the proxy container runs with spec: create it (with the last
 * configuration of none; prev gets the last good one), recreate it when
 * its spec changed, start it when stopped (with the last good one).
 * *out_started: it was (re)started and serves etc/caddy.json.
 */
static int ensure_container(struct pass *p, const struct proxy_spec *s,
			    const struct proxy_paths *pp,
			    const struct ingress_settings *set, bool *out_started,
			    bool *out_created, struct buf *prev)
{
	struct workload_info wi;
	char *id = NULL;
	bool create = false, start = false;
	int rc;

	*out_started = *out_created = false;
	rc = p->ops->workload_inspect(p->backend, s->w.name, NULL, &wi);
	if (rc == ERR_NOTFOUND) {
		create = true;
	} else if (rc < 0) {
		return -1;
	} else {
		if (strcmp(wi.role, PROXY_ROLE) || !p->owner || strcmp(wi.owner, p->owner)) {
			error_set("ingress: a container named '%s' is there and is not "
				  "this state's proxy (owner '%s'): left alone", s->w.name,
				  wi.owner);
			workload_info_release(&wi);
			return -1;
		}
		if (strcmp(wi.spec_hash, s->hash)) {
			log_msg(LOG_INFO, NULL, "ingress: recreating the proxy %s (its "
				"image or mounts changed)", s->w.name);
			create = true;
		} else if (wi.st.state != OBS_RUNNING) {
			log_msg(LOG_INFO, NULL, "ingress: starting the proxy %s (it was "
				"%s)", s->w.name, obs_state_name(wi.st.state));
			start = true;
		}
		if (create && p->ops->workload_remove(p->backend, s->w.name, true) < 0) {
			workload_info_release(&wi);
			return -1;
		}
		workload_info_release(&wi);
	}
	if (!create && !start)
		return 0;
	if (create) {
		char *empty;
		int w;

		if (pull_image(p, s->w.image) < 0)
			return -1;
		/* a new container starts serving nothing: the last good
		 * configuration may need what the old one mounted (a TLS
		 * directory); the caller loads the new one, or that one back */
		(void)read_regular_file(pp->config, MAX_CONFIG_BYTES, prev);
		empty = ingress_render_empty(set);
		w = empty ? write_atomic(pp->config, empty, strlen(empty)) :
		    error_set("ingress: cannot render a configuration");
		free(empty);
		if (w < 0)
			return -1;
		if (rc == ERR_NOTFOUND)
			log_msg(LOG_INFO, NULL, "ingress: creating the proxy %s", s->w.name);
		if (p->ops->workload_create(p->backend, &s->w, &id) < 0)
			return -1;
		free(id);
		*out_created = true;
	}
	/* a socket left by the previous container would stop Caddy's admin
	 * listener from binding */
	if (unlink(pp->sock) < 0 && errno != ENOENT)
		return error_set("ingress: cannot remove '%s': %s", pp->sock,
				 strerror(errno));
	if (p->ops->workload_start(p->backend, s->w.name) < 0)
		return -1;
	if (admin_wait_ready(pp->sock) < 0)
		return -1;
	*out_started = true;
	return 0;
}

/* May this state have a proxy container (ingress.proxy in its meta, set
 * before one is made)?  When it cannot tell, yes. */
static bool proxy_made(struct pass *p)
{
	char *v = NULL;
	bool made;

	if (!p->st || state_meta_get(p->st, "ingress.proxy", &v) < 0)
		return true;
	made = v && *v;
	free(v);
	return made;
}

static int remove_proxy(struct pass *p, const char *name)
{
	struct workload_info wi;
	int rc = p->ops->workload_inspect(p->backend, name, NULL, &wi);

	if (rc == ERR_NOTFOUND)
		return 0;
	if (rc < 0)
		return -1;
	if (strcmp(wi.role, PROXY_ROLE) || !p->owner || strcmp(wi.owner, p->owner)) {
		workload_info_release(&wi);
		return 0;    /* not ours: never removed */
	}
	workload_info_release(&wi);
	log_msg(LOG_INFO, NULL, "ingress: removing the proxy %s (no routes)", name);
	return p->ops->workload_remove(p->backend, name, true);
}

/*
 * Is ip an address this host can listen on?  Asked before Caddy is: a
 * listener Caddy fails to open leaves the others of that configuration
 * open (Caddy 2.6), so a configuration is not loaded that cannot start.
 * (A port taken by another process is found only by Caddy: see reload.)
 */
static int check_address(const char *what, const char *ip)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, rc = 0;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		len = sizeof(struct sockaddr_in6);
	} else {
		return error_set("ingress: %s '%s' is not an IP address", what, ip);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;      /* cannot tell: Caddy will */
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 && errno == EADDRNOTAVAIL)
		rc = error_set("ingress: %s '%s' is not an address of this host: "
			       "nothing can listen there", what, ip);
	close(fd);
	return rc;
}

static bool is_wildcard(const char *ip)
{
	unsigned char raw[16], zero[16] = { 0 };

	if (inet_pton(AF_INET, ip, raw) == 1)
		return !memcmp(raw, zero, 4);
	return inet_pton(AF_INET6, ip, raw) == 1 && !memcmp(raw, zero, 16);
}

static int check_addresses(const struct routes *r, const struct ingress_settings *s)
{
	size_t i;
	bool in = false, pub = false;

	for (i = 0; i < r->n; i++) {
		in |= r->v[i].scope == SCOPE_INTERNAL;
		pub |= r->v[i].scope == SCOPE_PUBLIC;
	}
	if (in && check_address("--ingress-internal-address", s->internal_address) < 0)
		return -1;
	if (pub && check_address("--ingress-public-address", s->public_address) < 0)
		return -1;
	/* two listeners on one port cannot share an address, and a wildcard
	 * takes the port on every address */
	if (in && pub && (!strcmp(s->internal_address, s->public_address) ||
			  is_wildcard(s->internal_address) ||
			  is_wildcard(s->public_address)))
		return error_set("ingress: there are Internal and Public rules, and "
				 "--ingress-internal-address '%s' and "
				 "--ingress-public-address '%s' overlap: give each scope "
				 "an address of its own (not 0.0.0.0 or ::)",
				 s->internal_address, s->public_address);
	return 0;
}

/* After a refused load whose listeners Caddy may have left open: a
 * restart, and it serves etc/caddy.json (the last good one) alone. */
static int restart_proxy(struct pass *p, const char *name, const struct proxy_paths *pp)
{
	log_msg(LOG_WARN, NULL, "ingress: restarting the proxy %s so that it serves "
		"only its previous configuration", name);
	if (p->ops->workload_stop(p->backend, name, -1) < 0)
		return -1;
	if (unlink(pp->sock) < 0 && errno != ENOENT)
		return error_set("ingress: cannot remove '%s': %s", pp->sock,
				 strerror(errno));
	if (p->ops->workload_start(p->backend, name) < 0)
		return -1;
	return admin_wait_ready(pp->sock);
}

/* Is an object of project labelled owner this state's: its own label,
 * or taken over with --adopt (adoptions are "project\towner")? */
static bool owned(const struct pass *p, const char *project, const char *owner)
{
	char *pair;
	bool ok;

	if (p->owner && !strcmp(owner, p->owner))
		return true;
	pair = xasprintf("%s\t%s", project, owner);
	ok = strvec_has(&p->adoptions, pair);
	free(pair);
	return ok;
}

/*
 * The network the proxy dials service `service` of project `project` on:
 * the first of its networks that cara makes and that is not internal (an
 * internal bridge has no route from the host), else the default one.
 */
static char *dial_network(const struct pass *p, const char *project,
			  const char *service)
{
	const struct project *pr = project_set_find(&p->desired, project);
	const struct service *s = pr ? project_find_service(pr, service) : NULL;
	const struct strvec *al;
	size_t k;

	for (k = 0; s && k < network_joins(s); k++) {
		const char *key = network_join(s, k, &al);
		const struct network *n = project_find_network(pr, key);

		if (!n || (!n->external && !n->internal))
			return name_project_network(project, key);
	}
	return name_network(project);
}

/* Where each route's service answers: "IP:port" of the container this
 * state made for it, NULL when there is none running. */
static void dials_of(struct pass *p, const struct routes *r, char **dials)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		char *cn = name_container(r->v[i].project, r->v[i].service);
		char *net = dial_network(p, r->v[i].project, r->v[i].service);
		struct workload_info wi;

		dials[i] = NULL;
		if (p->ops->workload_inspect(p->backend, cn, net, &wi) == 0) {
			/* this state's container of that very project and
			 * service, not one that only has its name */
			if (wi.address && wi.st.state == OBS_RUNNING &&
			    owned(p, r->v[i].project, wi.owner) && !*wi.role &&
			    !strcmp(wi.project, r->v[i].project) &&
			    !strcmp(wi.service, r->v[i].service))
				dials[i] = strchr(wi.address, ':') ?
					   xasprintf("[%s]:%d", wi.address, r->v[i].port) :
					   xasprintf("%s:%d", wi.address, r->v[i].port);
			workload_info_release(&wi);
		}
		free(cn);
		free(net);
	}
}

/*
 * A proxy created in this pass serves nothing until it loads: give it the
 * configuration the one before it served (prev), when it can serve it
 * (it may need a mount the new one lacks).  true when it serves it.
 */
static bool restore_prev(struct pass *p, const struct proxy_paths *pp,
			 const struct buf *prev)
{
	if (!prev->len ||
	    admin_call(pp->sock, "/load", buf_cstr(prev),
		       p->cfg->docker_timeout_s * 1000 + 60000) < 0) {
		if (state_meta_set(p->st, "ingress.served", "") < 0)
			pass_state_error(p, NULL);
		return false;
	}
	if (write_atomic(pp->config, prev->ptr, prev->len) < 0)
		log_msg(LOG_WARN, NULL, "%s", error_last());
	return true;
}

static void fail(struct proxy_result *res, const char *msg)
{
	res->failed = true;
	free(res->message);
	res->message = xstrdup(msg);
}

int proxy_sync(struct pass *p, struct proxy_result *res)
{
	struct ingress_settings set;
	struct proxy_paths pp;
	struct proxy_spec spec;
	struct routes r = ROUTES_INIT;
	struct buf cur = BUF_INIT, lines = BUF_INIT, prev = BUF_INIT;
	char **dials = NULL, *name = NULL, *conf = NULL;
	bool started = false;
	size_t i;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&pp, 0, sizeof(pp));
	memset(&spec, 0, sizeof(spec));
	if (record_routes(p) < 0) {
		pass_state_error(p, NULL);
		goto out;
	}
	rc = 0;
	name = name_ingress_proxy(p->owner);
	if (proxy_routes(&r, p->st, &p->desired, &p->plan) < 0) {
		pass_state_error(p, NULL);
		rc = -1;
		goto out;
	}
	warn_held(p, &r);
	/* no public address given: this host serves no Public rule (binding
	 * every address of the host by default would publish more than the
	 * operator said, and take the ports of a proxy already there) */
	if (!p->cfg->ingress_public_address || !*p->cfg->ingress_public_address) {
		size_t n = routes_drop_scope(&r, SCOPE_PUBLIC);

		if (n && strcmp(p->cfg->ingress, "none"))
			log_msg(LOG_WARN, NULL, "ingress: %zu Public route%s not served: "
				"no --ingress-public-address on this host", n,
				n == 1 ? " is" : "s are");
	}
	res->nroutes = r.n;
	if (!strcmp(p->cfg->ingress, "none") || !r.n) {
		/* a state that never ran a proxy asks the Engine nothing */
		if (!proxy_made(p))
			goto out;
		if (remove_proxy(p, name) < 0)
			fail(res, error_last());
		else if (state_meta_set(p->st, "ingress.served", "") < 0 ||
			 state_meta_set(p->st, "ingress.proxy", "") < 0)
			pass_state_error(p, NULL);
		goto out;
	}
	res->active = true;
	/* before the container: a proxy made is always known to be there */
	if (state_meta_set(p->st, "ingress.proxy", "1") < 0) {
		pass_state_error(p, NULL);
		rc = -1;
		goto out;
	}
	if (proxy_settings(&set, p->cfg) < 0 || paths_of(&pp, p->cfg->state_dir) < 0) {
		fail(res, error_last());
		goto out;
	}
	spec_of(&spec, name, p->cfg, &pp, p->owner);
	if (ensure_container(p, &spec, &pp, &set, &started, &res->created, &prev) < 0) {
		fail(res, error_last());
		goto out;
	}
	dials = xcalloc(r.n ? r.n : 1, sizeof(*dials));
	dials_of(p, &r, dials);
	if (check_addresses(&r, &set) < 0) {
		char *why = xstrdup(error_last());
		bool kept = !res->created || restore_prev(p, &pp, &prev);
		char *msg = xasprintf("%s; %s", why, kept ?
				      "the proxy keeps serving its previous configuration" :
				      "the new proxy serves no route");

		free(why);

		fail(res, msg);
		free(msg);
		goto out;
	}
	if (!(conf = ingress_render(&r, (const char *const *)dials, &set))) {
		fail(res, "ingress: cannot render the proxy's configuration");
		goto out;
	}
	/* etc/caddy.json is what the proxy serves: it started with it, or
	 * it is the last one it accepted */
	if (read_regular_file(pp.config, MAX_CONFIG_BYTES, &cur) < 0 ||
	    strcmp(buf_cstr(&cur), conf)) {
		if (admin_call(pp.sock, "/load", conf,
			       p->cfg->docker_timeout_s * 1000 + 60000) < 0) {
			char *why = xstrdup(error_last()), *msg;
			bool kept = true;

			if (write_atomic(pp.rejected, conf, strlen(conf)) < 0)
				log_msg(LOG_WARN, NULL, "%s", error_last());
			/* an app that failed to start (a port taken) may have
			 * left listeners of the refused configuration open */
			if (strstr(why, " start: ") && restart_proxy(p, name, &pp) < 0)
				log_msg(LOG_ERROR, NULL, "%s", error_last());
			if (res->created)
				kept = restore_prev(p, &pp, &prev);
			msg = xasprintf("%s; %s (the refused one is '%s')", why,
					kept ? "it keeps serving its previous configuration" :
					"the new proxy serves no route", pp.rejected);
			fail(res, msg);
			free(msg);
			free(why);
			goto out;
		}
		if (write_atomic(pp.config, conf, strlen(conf)) < 0) {
			fail(res, error_last());
			goto out;
		}
		unlink(pp.rejected);
		res->reloaded = true;
	}
	for (i = 0; i < r.n; i++) {
		char *l = route_line(&r.v[i]);

		buf_printf(&lines, "%s%s", i ? "\n" : "", l);
		free(l);
	}
	if (state_meta_set(p->st, "ingress.served", buf_cstr(&lines)) < 0)
		pass_state_error(p, NULL);
out:
	if (res->failed) {
		log_msg(LOG_ERROR, NULL, "%s: %s", reason_name(REASON_INGRESS_FAILED),
			res->message);
		if (p->st && state_event(p->st, p->pass_id, NULL,
					 reason_name(REASON_INGRESS_FAILED), res->message,
					 (int64_t)time(NULL)) < 0)
			pass_state_error(p, NULL);
	} else if (res->reloaded) {
		log_msg(LOG_INFO, NULL, "ingress: the proxy %s serves %zu route%s%s",
			name, r.n, r.n == 1 ? "" : "s",
			res->created ? " (created)" : " (reloaded)");
	}
	for (i = 0; dials && i < r.n; i++)
		free(dials[i]);
	free(dials);
	free(conf);
	free(name);
	buf_release(&cur);
	buf_release(&prev);
	buf_release(&lines);
	spec_release(&spec);
	paths_release(&pp);
	routes_release(&r);
	return rc;
}
