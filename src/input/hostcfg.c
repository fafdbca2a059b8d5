/*
 * input/hostcfg.c - the container's host settings both readers share
 * (capabilities, privileged, tmpfs, hostname, init, stop signal, extra
 * hosts, dns, shm size, sysctls, ulimits, security options, exposed
 * ports, network aliases, devices, logging); obj is a struct service.
 *
 * Invariant: a setting that gives a manifest root power over the host
 * (privileged, a capability outside Docker's default set, a security
 * option other than no-new-privileges, a host device, a log driver that
 * makes dockerd itself connect out) is an error at its own node unless
 * the host allows it (manifest_options.allow_privileged): cara runs with
 * root power, and whoever can push to the repository must not gain more
 * than the host's operator granted.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "input/schema.h"

#define PRIV_HINT "needs --allow-privileged on this host"

/* Docker's default capability set (moby oci/caps/defaults.go). */
static const char *const default_caps[] = {
	"CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW",
	"SETGID", "SETUID", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE",
	"SYS_CHROOT", "KILL", "AUDIT_WRITE",
};

static bool allowed(const struct pctx *c)
{
	return c->opts && c->opts->allow_privileged;
}

/* A string or a list of strings, appended to out. */
static bool str_or_list(struct pctx *c, const struct ynode *v,
			struct strvec *out)
{
	struct strvec tmp = STRVEC_INIT;
	size_t i;
	char *t;

	if (v->type == Y_SCALAR) {
		if (!(t = get_str(c, v)))
			return false;
		strvec_push_nodup(out, t);
		return true;
	}
	if (!get_strlist(c, v, &tmp)) {
		strvec_release(&tmp);
		return false;
	}
	for (i = 0; i < tmp.n; i++)
		strvec_push(out, tmp.v[i]);
	strvec_release(&tmp);
	return true;
}

/* The node of item i of what str_or_list read from v, with its index on
 * the path (pop with path_pop). */
static const struct ynode *item_at(struct pctx *c, const struct ynode *v,
				   size_t i, size_t *old)
{
	if (v->type == Y_SEQ && i < v->n) {
		*old = path_index(c, i);
		return v->kid[i];
	}
	*old = c->path.len;
	return v;
}

static bool cap_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isupper((unsigned char)*s) && !isdigit((unsigned char)*s) &&
		    *s != '_')
			return false;
	return true;
}

static void read_caps(struct pctx *c, const struct ynode *v, struct strvec *out,
		      bool add)
{
	size_t i, first = out->n, k;

	if (!str_or_list(c, v, out))
		return;
	for (i = first; i < out->n; i++) {
		const char *name = out->v[i];
		const char *bare = strncasecmp(name, "CAP_", 4) ? name : name + 4;
		size_t o;
		const struct ynode *at = item_at(c, v, i - first, &o);
		bool dflt = false;

		if (!cap_name_ok(name))
			perr(c, at, "invalid capability '%.64s' (write e.g. NET_ADMIN)",
			     name);
		else if (add) {
			for (k = 0; k < ARRAY_SIZE(default_caps); k++)
				dflt |= !strcmp(bare, default_caps[k]);
			if (!dflt && !allowed(c))
				perr(c, at, "capability %.64s is outside Docker's "
				     "default set and gives the container power "
				     "over the host: " PRIV_HINT, name);
		}
		path_pop(c, o);
	}
}

void read_cap_add(struct pctx *c, const struct ynode *v, void *obj)
{
	read_caps(c, v, &((struct service *)obj)->cap_add, true);
}

void read_cap_drop(struct pctx *c, const struct ynode *v, void *obj)
{
	read_caps(c, v, &((struct service *)obj)->cap_drop, false);
}

void read_privileged(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;

	if (get_bool(c, v, &s->privileged) && s->privileged && !allowed(c))
		perr(c, v, "a privileged container has root power over the host: "
		     PRIV_HINT);
}

void read_security_opt(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	size_t i, first = s->security_opt.n;

	if (!str_or_list(c, v, &s->security_opt))
		return;
	for (i = first; i < s->security_opt.n; i++) {
		const char *opt = s->security_opt.v[i];
		size_t o;
		const struct ynode *at = item_at(c, v, i - first, &o);

		/* no-new-privileges only tightens what the process may do */
		if (strcmp(opt, "no-new-privileges") &&
		    strcmp(opt, "no-new-privileges:true") &&
		    strcmp(opt, "no-new-privileges=true") && !allowed(c))
			perr(c, at, "security option '%.64s' can lift the container's "
			     "confinement: " PRIV_HINT, opt);
		path_pop(c, o);
	}
}

void read_init(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;

	s->has_init = get_bool(c, v, &s->init);
}

void read_tmpfs(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	size_t i, first = s->tmpfs.n;

	if (!str_or_list(c, v, &s->tmpfs))
		return;
	for (i = first; i < s->tmpfs.n; i++) {
		size_t o;
		const struct ynode *at = item_at(c, v, i - first, &o);

		if (s->tmpfs.v[i][0] != '/')
			perr(c, at, "a tmpfs must be an absolute path, not '%.64s'",
			     s->tmpfs.v[i]);
		path_pop(c, o);
	}
}

/* A host or domain name at v into *out; what names the kind. */
static void read_dns_name(struct pctx *c, const struct ynode *v, char **out,
			  const char *what)
{
	char *t = get_str(c, v);
	size_t i, n = t ? strlen(t) : 0;

	if (!t)
		return;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)t[i]) && t[i] != '-' && t[i] != '.')
			break;
	if (!n || n > 253 || i < n || t[0] == '-' || t[0] == '.') {
		perr(c, v, "invalid %s '%.64s' (letters, digits, '-' and '.', "
		     "at most 253)", what, t);
		free(t);
		return;
	}
	free(*out);
	*out = t;
}

void read_hostname(struct pctx *c, const struct ynode *v, void *obj)
{
	read_dns_name(c, v, &((struct service *)obj)->hostname, "hostname");
}

void read_domainname(struct pctx *c, const struct ynode *v, void *obj)
{
	read_dns_name(c, v, &((struct service *)obj)->domainname, "domain name");
}

/* A positive limit: -1 and 0 (none) would lift the host's default one. */
bool get_pids_limit(struct pctx *c, const struct ynode *v, int64_t *out)
{
	long long n;

	if (v->type == Y_SCALAR && (!strcmp(v->str, "-1") || !strcmp(v->str, "0"))) {
		perr(c, v, "not supported by cara: %s (no limit, which would lift "
		     "the host's default one): write a positive number of "
		     "processes", v->str);
		return false;
	}
	if (!get_int(c, v, 1, 4194304, &n))
		return false;
	*out = n;
	return true;
}

void read_pids_limit(struct pctx *c, const struct ynode *v, void *obj)
{
	get_pids_limit(c, v, &((struct service *)obj)->pids_limit);
}

/* Below 0 the kernel's OOM killer spares this container and kills the
 * host's other processes first: power over the host. */
void read_oom_score_adj(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	long long n;

	if (!get_int(c, v, -1000, 1000, &n))
		return;
	if (n < 0 && !allowed(c)) {
		perr(c, v, "an OOM score adjustment of %lld makes the kernel "
		     "kill the host's other processes before this container's: "
		     PRIV_HINT, n);
		return;
	}
	s->has_oom_score_adj = true;
	s->oom_score_adj = (int)n;
}

/* Supplementary groups of the process: names of the image's groups or
 * GIDs (no more than user: can already say). */
void read_group_add(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	size_t i, first = s->group_add.n;

	if (!str_or_list(c, v, &s->group_add))
		return;
	for (i = first; i < s->group_add.n; i++) {
		const char *g = s->group_add.v[i];
		size_t o;
		const struct ynode *at = item_at(c, v, i - first, &o);

		if (!*g || strlen(g) > 64 || g[0] == '-' ||
		    strspn(g, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789_.-") != strlen(g))
			perr(c, at, "invalid group '%.64s' (a group name or a GID)", g);
		path_pop(c, o);
	}
}

void read_stop_signal(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	char *t = get_str(c, v);
	long long n;
	size_t i;

	if (!t)
		return;
	for (i = strncmp(t, "SIG", 3) ? 0 : 3; t[i]; i++)
		if (!isupper((unsigned char)t[i]) && !isdigit((unsigned char)t[i]) &&
		    t[i] != '+' && t[i] != '-')
			break;
	if (!(parse_ll(t, 1, 64, &n) == 0 || (!strncmp(t, "SIG", 3) && t[3] &&
					       !t[i]))) {
		perr(c, v, "invalid stop signal '%.32s' (write e.g. SIGINT or 2)", t);
		free(t);
		return;
	}
	free(s->stop_signal);
	s->stop_signal = t;
}

/* "name:address" (a list) or name: address (a mapping). */
void read_extra_hosts(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	size_t i, o;

	if (v->type == Y_MAP) {
		for (i = 0; i + 1 < v->n; i += 2) {
			char *t;

			if (v->kid[i]->type != Y_SCALAR)
				continue;
			o = path_key(c, v->kid[i]->str);
			if ((t = get_str(c, v->kid[i + 1]))) {
				strvec_push_nodup(&s->extra_hosts,
						  xasprintf("%s:%s", v->kid[i]->str, t));
				free(t);
			}
			path_pop(c, o);
		}
		return;
	}
	if (v->type != Y_SEQ) {
		perr(c, v, "must be a list of \"name:address\" or a mapping, not %s",
		     ynode_type_name(v));
		return;
	}
	for (i = 0; i < v->n; i++) {
		char *t;

		o = path_index(c, i);
		if ((t = get_str(c, v->kid[i]))) {
			const char *colon = strchr(t, ':');

			if (!colon || colon == t || !colon[1])
				perr(c, v->kid[i], "must be \"name:address\", not "
				     "'%.64s'", t);
			strvec_push_nodup(&s->extra_hosts, t);
		}
		path_pop(c, o);
	}
}

void read_dns(struct pctx *c, const struct ynode *v, void *obj)
{
	str_or_list(c, v, &((struct service *)obj)->dns);
}

/* Search domains, each a domain name ("." for none, as resolv.conf). */
void read_dns_search(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	size_t i, first = s->dns_search.n;

	if (!str_or_list(c, v, &s->dns_search))
		return;
	for (i = first; i < s->dns_search.n; i++) {
		const char *d = s->dns_search.v[i];
		size_t o, n = strlen(d);
		const struct ynode *at = item_at(c, v, i - first, &o);

		if (strcmp(d, ".") && (!n || n > 253 || d[0] == '-' || d[0] == '.' ||
				       strspn(d, "abcdefghijklmnopqrstuvwxyz"
					      "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					      "0123456789-.") != n))
			perr(c, at, "invalid search domain '%.64s' (letters, digits, "
			     "'-' and '.')", d);
		path_pop(c, o);
	}
}

/* resolv.conf options: "ndots:2", "use-vc", "timeout:1" (one word each). */
void read_dns_opt(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	size_t i, first = s->dns_opt.n;

	if (!str_or_list(c, v, &s->dns_opt))
		return;
	for (i = first; i < s->dns_opt.n; i++) {
		const char *d = s->dns_opt.v[i];
		size_t o, n = strlen(d);
		const struct ynode *at = item_at(c, v, i - first, &o);

		if (!n || n > 64 || strspn(d, "abcdefghijklmnopqrstuvwxyz"
					   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:.") != n)
			perr(c, at, "invalid resolver option '%.64s' (e.g. ndots:2 or "
			     "use-vc)", d);
		path_pop(c, o);
	}
}

void read_shm_size(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	char *t = get_str(c, v);

	if (t && (parse_memory(t, &s->shm_bytes) < 0 || s->shm_bytes <= 0))
		perr(c, v, "invalid size '%.64s' (write e.g. 64m or 1g)", t);
	free(t);
}

/* A mapping or a list of "key=value" into l (sysctls, build args). */
void get_kv_pairs(struct pctx *c, const struct ynode *v, struct kvlist *l)
{
	size_t i, o;

	if (v->type != Y_SEQ) {
		get_kvlist(c, v, l, false);
		return;
	}
	for (i = 0; i < v->n; i++) {
		char *t, *eq;

		o = path_index(c, i);
		if ((t = get_str(c, v->kid[i]))) {
			if (!(eq = strchr(t, '=')) || eq == t)
				perr(c, v->kid[i], "must be \"key=value\", not "
				     "'%.64s'", t);
			else {
				GROW(l->v, l->cap, l->n + 1);
				l->v[l->n].key = xstrndup(t, (size_t)(eq - t));
				l->v[l->n].value = xstrdup(eq + 1);
				l->v[l->n++].pos = v->kid[i]->pos;
			}
			free(t);
		}
		path_pop(c, o);
	}
}

void read_sysctls(struct pctx *c, const struct ynode *v, void *obj)
{
	get_kv_pairs(c, v, &((struct service *)obj)->sysctls);
}

static const struct field ulimit_fields[] = {
	SKIP("soft", true),
	SKIP("hard", true),
	END
};

/* name: N, or name: {soft: N, hard: N}. */
void read_ulimits(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	size_t i, o;

	if (v->type != Y_MAP) {
		perr(c, v, "must be a mapping, not %s", ynode_type_name(v));
		return;
	}
	for (i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *k = v->kid[i], *val = v->kid[i + 1];
		const struct ynode *soft, *hard;
		struct ulimit *u;
		long long a = 0, b = 0;
		bool ok;

		if (k->type != Y_SCALAR)
			continue;
		o = path_key(c, k->str);
		if (!*k->str || strspn(k->str, "abcdefghijklmnopqrstuvwxyz") !=
		    strlen(k->str))
			perr(c, k, "invalid ulimit name '%.64s'", k->str);
		if (val->type == Y_MAP) {
			soft = ynode_map_get(val, "soft");
			hard = ynode_map_get(val, "hard");
			walk_map(c, val, ulimit_fields, NULL);
			ok = soft && hard && get_int(c, soft, -1, INT64_MAX, &a) &&
			     get_int(c, hard, -1, INT64_MAX, &b);
		} else {
			ok = get_int(c, val, -1, INT64_MAX, &a);
			b = a;
		}
		if (ok && a > b && b >= 0)
			perr(c, val, "soft limit %lld is above the hard limit %lld",
			     a, b);
		if (ok) {
			GROW(s->ulimits, s->capulimits, s->nulimits + 1);
			u = &s->ulimits[s->nulimits++];
			u->name = xstrdup(k->str);
			u->soft = a;
			u->hard = b;
			u->pos = k->pos;
		}
		path_pop(c, o);
	}
}

/* "80", "80/udp", "8000-8010": each port as "80/tcp". */
void read_expose(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	struct strvec tmp = STRVEC_INIT;
	size_t i;

	if (v->type != Y_SEQ) {
		perr(c, v, "must be a list, not %s", ynode_type_name(v));
		return;
	}
	for (i = 0; i < v->n; i++) {
		size_t o = path_index(c, i);
		char *t = get_str(c, v->kid[i]), *slash, *dash;
		const char *proto = "tcp";
		long long lo, hi;

		if (!t) {
			path_pop(c, o);
			continue;
		}
		if ((slash = strchr(t, '/'))) {
			*slash = '\0';
			proto = slash + 1;
		}
		if ((dash = strchr(t, '-')))
			*dash = '\0';
		if (parse_ll(t, 1, 65535, &lo) < 0 ||
		    parse_ll(dash ? dash + 1 : t, 1, 65535, &hi) < 0 || hi < lo ||
		    hi - lo >= 1024 || (strcmp(proto, "tcp") && strcmp(proto, "udp") &&
					strcmp(proto, "sctp")))
			perr(c, v->kid[i], "invalid port to expose (write e.g. \"80\", "
			     "\"53/udp\" or \"8000-8010\")");
		else
			for (; lo <= hi; lo++)
				strvec_push_nodup(&tmp, xasprintf("%lld/%s", lo, proto));
		free(t);
		path_pop(c, o);
	}
	for (i = 0; i < tmp.n; i++)
		strvec_push(&s->expose, tmp.v[i]);
	strvec_release(&tmp);
}

static void alias_list(struct pctx *c, const struct ynode *v, struct strvec *out)
{
	size_t i, first = out->n;
	const char *why;

	if (!str_or_list(c, v, out))
		return;
	for (i = first; i < out->n; i++) {
		size_t o;
		const struct ynode *at = item_at(c, v, i - first, &o);

		if ((why = manifest_check_object_name(out->v[i])))
			perr(c, at, "invalid alias '%.64s': %s", out->v[i], why);
		path_pop(c, o);
	}
}

void read_aliases(struct pctx *c, const struct ynode *v, void *obj)
{
	alias_list(c, v, &((struct service *)obj)->aliases);
}

void read_net_aliases(struct pctx *c, const struct ynode *v, void *obj)
{
	alias_list(c, v, &((struct service_net *)obj)->aliases);
}

/* The name of a network a service joins (obj: its struct service_net). */
void read_net_name(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service_net *sn = obj;
	const char *why;

	free(sn->name);
	if (!(sn->name = get_str(c, v)))
		return;
	if ((why = manifest_check_object_name(sn->name)))
		perr(c, v, "invalid network name '%.64s': %s", sn->name, why);
}

/* A network joined, added to service s at n's position. */
struct service_net *service_add_net(struct service *s, const struct ynode *n)
{
	struct service_net *sn;

	GROW(s->nets, s->capnets, s->nnets + 1);
	sn = &s->nets[s->nnets++];
	memset(sn, 0, sizeof(*sn));
	sn->pos = n->pos;
	return sn;
}

/* devices: "/dev/HOST", "/dev/HOST:/dev/CONTAINER", with ":rwm" or less. */
void read_devices(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	size_t i, first = s->devices.n;

	if (!str_or_list(c, v, &s->devices))
		return;
	for (i = first; i < s->devices.n; i++) {
		const char *d = s->devices.v[i];
		size_t o;
		const struct ynode *at = item_at(c, v, i - first, &o);
		struct strvec part = STRVEC_INIT;
		const char *p = d, *colon;
		bool ok = true;
		size_t k;

		while ((colon = strchr(p, ':'))) {
			strvec_push_nodup(&part, xstrndup(p, (size_t)(colon - p)));
			p = colon + 1;
		}
		strvec_push(&part, p);
		if (part.n > 3)
			ok = false;
		for (k = 0; ok && k < part.n && k < 2; k++)
			ok = part.v[k][0] == '/' && !strstr(part.v[k], "/../") &&
			     strcmp(part.v[k], "/");
		if (ok && part.n == 3)
			ok = *part.v[2] && strspn(part.v[2], "rwm") == strlen(part.v[2]);
		if (ok && part.n == 2 && part.v[1][0] != '/')
			ok = false;
		if (!ok)
			perr(c, at, "device '%.64s' must be /dev/HOST[:/dev/CONTAINER[:rwm]]", d);
		else if (!allowed(c))
			perr(c, at, "device '%.64s' gives the container a device of the "
			     "host: " PRIV_HINT, d);
		strvec_release(&part);
		path_pop(c, o);
	}
}

/* The log drivers that write where dockerd keeps logs; the others make
 * dockerd itself connect to an address of the options' choosing (from
 * the host's network, not the container's), which is host power. */
static const char *const local_log_drivers[] = {
	"json-file", "local", "journald", "none",
};

static void f_log_driver(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	char *t = get_str(c, v);
	size_t i;

	if (!t)
		return;
	if (!*t || strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789-_.") != strlen(t))
		perr(c, v, "invalid log driver '%.64s'", t);
	for (i = 0; i < ARRAY_SIZE(local_log_drivers); i++)
		if (!strcmp(t, local_log_drivers[i]))
			break;
	if (i == ARRAY_SIZE(local_log_drivers) && !allowed(c))
		perr(c, v, "log driver '%.64s' makes dockerd send the logs out from the "
		     "host's network (json-file, local, journald and none do not): "
		     PRIV_HINT, t);
	free(s->log_driver);
	s->log_driver = t;
}

static void f_log_options(struct pctx *c, const struct ynode *v, void *obj)
{
	get_kvlist(c, v, &((struct service *)obj)->log_opts, false);
}

static const struct field logging_fields[] = {
	FN("driver", f_log_driver, false),
	FN("options", f_log_options, false),
	END
};

/* logging: {driver, options} (both readers' spelling). */
void read_logging(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;

	if (v->type != Y_MAP) {
		perr(c, v, "must be a mapping, not %s", ynode_type_name(v));
		return;
	}
	walk_map(c, v, logging_fields, obj);
	if (s->log_opts.n && !s->log_driver)
		perr(c, v, "logging options need a driver");
}
