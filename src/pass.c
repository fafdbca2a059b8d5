/*
 * pass.c - the steps sync, diff and gc share.
 *
 * Order matters for safety: the source is read and validated before the
 * Engine is touched, so a source that cannot be read ends the pass with no
 * container changed; the plan is computed from the snapshot as recorded in
 * state.db, so what was planned is what the database says was seen.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "auth.h"
#include "log.h"
#include "names.h"
#include "output.h"
#include "pass.h"
#include "pin.h"
#include "spec.h"

void pass_init(struct pass *p, struct config *cfg, int64_t now)
{
	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	p->ops = backend_find(cfg->backend);
	if (!p->ops)
		p->ops = &backend_engine;
	p->now = now;
	config_hostpath_roots(cfg, &p->roots);
	p->mopts.hostpath_roots = (const char *const *)p->roots.v;
	p->mopts.nhostpath_roots = p->roots.n;
	p->mopts.ingress_env = cfg->environment;
	p->mopts.base_domain = cfg->base_domain;
	p->mopts.token_env = cfg->token_env;
	config_interpolate_allow(cfg, &p->allow);
	p->mopts.interp_allow = (const char *const *)p->allow.v;
	p->mopts.ninterp_allow = p->allow.n;
	p->mopts.allow_privileged = cfg->allow_privileged;
	config_compose_profiles(cfg, &p->profiles);
	p->mopts.compose_profiles = (const char *const *)p->profiles.v;
	p->mopts.ncompose_profiles = p->profiles.n;
	config_adopt(cfg, &p->adopt);
	/* checked by config_load: a bad list never gets this far */
	if (placement_parse_labels(&p->node_labels, cfg->node_labels) < 0)
		kvlist_release(&p->node_labels);
	p->host.node = cfg->node;
	p->host.labels = &p->node_labels;
	p->mopts.cluster = p->ops->caps->cluster;
}

bool pass_placed_here(const struct pass *p, const struct project *pr)
{
	return placement_decide(&pr->placement, &p->host, NULL) == PLACEMENT_HERE;
}

/*
 * On a backend that ships each file of a File volume as an object of its
 * own (a Swarm config: caps.file_object_bytes), every file mounted by
 * service k fits one, and the service mounts no more of them than
 * caps.file_objects_max: refused here, before anything is applied.
 */
static void cluster_files_check(struct pass *p, struct project *pr, size_t k)
{
	const struct backend_caps *caps = p->ops->caps;
	const struct service *s = &pr->services[k];
	size_t m, f, total = 0;

	if (!caps->file_object_bytes)
		return;
	for (m = 0; m < s->nmounts; m++) {
		const struct volume *v = project_find_volume(pr, s->mounts[m].name);

		if (!v || v->type != VOLUME_FILE)
			continue;
		total += v->nfiles;
		for (f = 0; f < v->nfiles; f++) {
			const struct file_entry *e = &v->files[f];
			char *path;

			if (e->len && e->len < caps->file_object_bytes)
				continue;
			path = project_path_printf(pr, "spec.services[%zu].volumeMounts[%zu].name", k, m);
			diags_add(&p->diags, DIAG_ERROR, pr->file, s->mounts[m].pos.line,
				  s->mounts[m].pos.col, path, "File volume '%s': '%s%s%s' "
				  "%s: with --backend swarm each file is a Swarm config, "
				  "of 1 byte to less than %zu KiB", v->name, v->source_path,
				  *e->path ? "/" : "", e->path,
				  e->len ? "is too large" : "is empty",
				  caps->file_object_bytes >> 10);
			free(path);
			pr->valid = false;
		}
	}
	if (total > caps->file_objects_max) {
		char *path = project_path_printf(pr, "spec.services[%zu].volumeMounts", k);

		diags_add(&p->diags, DIAG_ERROR, pr->file, s->pos.line, s->pos.col, path,
			  "the File volumes of service '%s' hold %zu files: with "
			  "--backend swarm each file is a Swarm config, at most %zu a "
			  "service (put a larger tree in the image or a volume)",
			  s->name, total, caps->file_objects_max);
		free(path);
		pr->valid = false;
	}
}

/*
 * What a cluster needs of a project (file, line and field named; the
 * project invalid): a volume of the host cara runs on (HostPath) is not
 * on the nodes (a File volume's files travel as configs: checked by
 * cluster_files_check; a Managed volume is pinned to a node instead:
 * pass_pin_volumes).
 */
static void cluster_check(struct pass *p, struct project *pr)
{
	size_t k, m;

	for (k = 0; k < pr->nservices; k++) {
		const struct service *s = &pr->services[k];
		/* what a Swarm service cannot carry: refused, never dropped */
		const struct { bool set; const char *field; } host[] = {
			{ s->privileged, "privileged" },
			{ s->tmpfs.n > 0, "tmpfs" },
			{ s->security_opt.n > 0, "securityOpt" },
			{ s->devices.n > 0, "devices" },
			{ s->shm_bytes > 0, "shmSize" },
			{ s->domainname != NULL, "domainname" },
			{ s->has_oom_score_adj, "oomScoreAdj" },
			/* a Swarm's Resources are limits and reservations */
			{ s->memory_swap_bytes != 0, "resources.memorySwap" },
			{ s->cpu_shares > 0, "resources.cpuShares" },
			{ s->build != NULL, "build" },
			{ s->health.present && s->health.start_interval_ms > 0,
			  "healthcheck.startInterval" },
		};

		for (m = 0; m < ARRAY_SIZE(host); m++) {
			char *path;

			if (!host[m].set)
				continue;
			path = project_path_printf(pr, "spec.services[%zu].%s", k, host[m].field);
			diags_add(&p->diags, DIAG_ERROR, pr->file, s->pos.line, s->pos.col,
				  path, "not supported with --backend swarm: %s",
				  !strcmp(host[m].field, "build") ?
				  "a Swarm's nodes pull their images, they build none "
				  "(push the image to a registry)" :
				  !strcmp(host[m].field, "healthcheck.startInterval") ?
				  "the Engine does not carry it into a service's tasks "
				  "(API 1.44)" :
				  "cara's Swarm services do not carry it");
			free(path);
			pr->valid = false;
		}

		for (m = 0; m < s->nmounts; m++) {
			const struct volume *v = project_find_volume(pr, s->mounts[m].name);
			const char *why = NULL;
			char *path;

			if (!v)
				continue;
			if (v->type == VOLUME_HOSTPATH)
				why = "is a file of the host cara runs on, not of the "
				      "Swarm's nodes: not supported with --backend swarm";
			if (!why)
				continue;
			path = project_path_printf(pr, "spec.services[%zu].volumeMounts[%zu].name", k, m);
			diags_add(&p->diags, DIAG_ERROR, pr->file, s->mounts[m].pos.line,
				  s->mounts[m].pos.col, path, "%s volume '%s' %s",
				  volume_type_name(v->type), v->name, why);
			free(path);
			pr->valid = false;
		}
		cluster_files_check(p, pr, k);
	}
}

/*
 * On a cluster, every project is checked as cluster_check says, and a
 * service without endpointMode gets the host's (--swarm-endpoint-mode)
 * before its spec is hashed: a new default updates the services that
 * follow it.
 */
static void cluster_prepare(struct pass *p)
{
	size_t i, k;

	if (!p->ops->caps->cluster || !p->cfg->swarm_endpoint_mode)
		return;
	for (i = 0; i < p->desired.n; i++) {
		if (p->desired.v[i].valid)
			cluster_check(p, &p->desired.v[i]);
		for (k = 0; k < p->desired.v[i].nservices; k++) {
			struct service *s = &p->desired.v[i].services[k];

			if (!s->endpoint_mode)
				s->endpoint_mode = xstrdup(p->cfg->swarm_endpoint_mode);
		}
	}
}

void pass_release(struct pass *p)
{
	project_set_release(&p->desired);
	diags_release(&p->diags);
	free(p->subject);
	plan_release(&p->plan);
	observed_release(&p->obs);
	strvec_release(&p->image_updates);
	if (p->ops)
		p->ops->close(p->backend);
	state_close(p->st);
	strvec_release(&p->known);
	strvec_release(&p->roots);
	strvec_release(&p->allow);
	strvec_release(&p->profiles);
	strvec_release(&p->adoptions);
	strvec_release(&p->adopt);
	strvec_release(&p->volume_types);
	strvec_release(&p->owed_restarts);
	kvlist_release(&p->node_labels);
	free(p->owner);
	memset(p, 0, sizeof(*p));
}

static int read_repo(struct pass *p)
{
	struct source_options so;
	struct source_snapshot snap = { 0 };
	char *scratch = NULL, *cache, *last = NULL;
	int rc = -1;

	if (p->scratch_cache) {
		/* validate: the production cache is neither used nor replaced,
		 * and no state directory is needed */
		const char *tmp = getenv("TMPDIR");

		scratch = xasprintf("%s/cara-validate-XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(scratch)) {
			error_set("cannot make a scratch directory '%s': %s", scratch,
				  strerror(errno));
			free(scratch);
			return -1;
		}
		cache = xasprintf("%s/repo", scratch);
	} else {
		cache = xasprintf("%s/repo", p->cfg->state_dir);
	}

	memset(&so, 0, sizeof(so));
	so.url = p->cfg->repo;
	so.ref = p->cfg->ref;
	so.path = p->cfg->path;
	so.cache_dir = cache;
	so.ssh_key = p->cfg->ssh_key;
	so.ssh_passphrase_file = p->cfg->ssh_passphrase_file;
	so.known_hosts = p->cfg->known_hosts;
	so.host_key_sha256 = p->cfg->host_key_sha256;
	so.insecure_ignore_host_key = p->cfg->insecure_ignore_host_key;
	so.username = p->cfg->username;
	so.token_file = p->cfg->token_file;
	so.token_env = p->cfg->token_env;
	so.offline_ok = p->cfg->offline_ok;
	so.verify_signatures = p->cfg->verify_signatures;
	so.allowed_signers = p->cfg->allowed_signers;
	so.gpg_keyring = p->cfg->gpg_keyring;
	so.allow_rewind = p->cfg->allow_rewind;
	if (p->cfg->verify_signatures && !p->scratch_cache) {
		/* read before the fetch: the commit this state last applied */
		struct state *st = NULL;

		if (p->st)
			state_last_applied_commit(p->st, &last);
		else if (state_open_existing(&st, p->cfg->state_dir) == 0)
			state_last_applied_commit(st, &last);
		state_close(st);
		so.last_applied = last;
	}
	if (source_fetch(&snap, &so) < 0)
		goto out;
	if (manifest_load_snapshot(&p->desired, &snap, &p->mopts, &p->diags) < 0)
		goto out;
	memcpy(p->commit, snap.commit, sizeof(p->commit));
	p->subject = xstrdup(snap.subject);
	p->commit_time = snap.commit_time;
	p->offline = snap.offline;
	log_msg(LOG_INFO, NULL, "source: commit %.12s%s, %lu objects fetched",
		snap.commit, snap.recloned ? " (cache re-cloned)" : "",
		snap.received_objects);
	if (snap.signer)
		log_msg(LOG_INFO, NULL, "source: commit %.12s is signed by %s",
			snap.commit, snap.signer);
	if (snap.offline)
		log_msg(LOG_WARN, NULL, "remote unreachable; using the last fetched "
			"commit %.12s", snap.commit);
	if (snap.rewound) {
		char *msg = xasprintf("source: commit %.12s does not descend from "
				      "%.12s, the last commit applied: accepted "
				      "(--allow-rewind)", snap.commit, so.last_applied);

		log_msg(LOG_WARN, NULL, "%s", msg);
		/* recorded with the pass that applies it (diff applies nothing) */
		if (p->st && p->pass_id &&
		    state_event(p->st, p->pass_id, NULL, "Rewind", msg, p->now) < 0)
			pass_state_error(p, NULL);
		free(msg);
	}
	rc = 0;
out:
	source_snapshot_release(&snap);
	free(last);
	if (scratch && source_remove_scratch(scratch) < 0)
		log_msg(LOG_WARN, NULL, "%s", error_last());
	free(scratch);
	free(cache);
	return rc;
}

static bool placed_here(const struct project *pr, void *arg)
{
	return pass_placed_here(arg, pr);
}

int pass_read_source(struct pass *p, bool with_secrets)
{
	const char *dir;

	/* A directory named on the command line wins over a configured repo:
	 * `cara validate DIR` on a host whose cara.yaml names the repository. */
	if (p->cfg->repo && !p->cfg->args.n) {
		if (read_repo(p) < 0)
			return -1;
	} else {
		struct stat st;

		dir = p->cfg->args.n ? p->cfg->args.v[0] :
		      p->cfg->path ? p->cfg->path : ".";
		/* one file is not the whole source: what it omits is not gone */
		p->single_file = stat(dir, &st) == 0 && !S_ISDIR(st.st_mode);
		if (manifest_load_dir(&p->desired, dir, &p->mopts, &p->diags) < 0)
			return -1;
	}
	cluster_prepare(p);
	if (with_secrets)
		spec_compute_where(&p->desired, p->cfg->secrets_dir, &p->diags,
				   placed_here, p);
	diags_sort(&p->diags);
	p->source_ok = true;
	return 0;
}

void pass_report_diags(const struct pass *p)
{
	log_diags(&p->diags);
}

void pass_report_summary(const struct pass *p)
{
	struct buf out = BUF_INIT;

	buf_printf(&out, "%zu %s, %zu %s: %zu %s, %zu %s", p->desired.nfiles,
		plural(p->desired.nfiles, "file", "files"), p->desired.n,
		plural(p->desired.n, "project", "projects"), p->diags.nerrors,
		plural(p->diags.nerrors, "error", "errors"), p->diags.nwarnings,
		plural(p->diags.nwarnings, "warning", "warnings"));
	if (log_is_json())
		log_msg(LOG_INFO, NULL, "%s", buf_cstr(&out));
	else
		fprintf(stderr, "%s\n", buf_cstr(&out));
	buf_release(&out);
}

int pass_open_state(struct pass *p, const char *command, bool lock)
{
	int rc;

	if ((rc = state_open(&p->st, p->cfg->state_dir)) < 0)
		return rc;
	if (lock && (rc = state_lock(p->st, (int)p->cfg->wait_lock_s)) < 0)
		return rc;
	if ((rc = state_pass_begin(p->st, command, p->now, &p->pass_id)) < 0)
		return rc;

	if (state_identity(p->st, &p->owner) < 0 ||
	    state_adoptions(p->st, &p->adoptions) < 0 ||
	    state_volume_types(p->st, &p->volume_types) < 0 ||
	    state_owed_restarts(p->st, &p->owed_restarts) < 0)
		return -1;
	return 0;
}

int pass_observe_after(struct pass *p)
{
	struct observed after = OBSERVED_INIT;
	int rc = -1;

	if (!p->st || !p->backend)
		return 0;
	if (p->ops->observe(p->backend, &after) == 0 &&
	    state_record_observed(p->st, p->pass_id, &after) == 0)
		rc = 0;
	observed_release(&after);
	return rc;
}

int pass_observe(struct pass *p)
{
	struct backend_options bopts = { p->cfg->docker_host,
					 p->cfg->docker_timeout_s * 1000, NULL };
	struct observed seen = OBSERVED_INIT;
	int rc = -1;

	if (!p->backend && p->ops->open(&p->backend, &bopts) < 0)
		return -1;
	p->ops->caps_of(p->backend, &p->caps);
	if (p->ops->observe(p->backend, &seen) < 0)
		goto out;
	if (p->st) {
		if (state_record_observed(p->st, p->pass_id, &seen) < 0 ||
		    state_load_observed(p->st, p->pass_id, &p->obs) < 0)
			goto out;
		/* not in the snapshot: carried as seen (observed.h) */
		p->obs.objects = seen.objects;
		p->obs.nobjects = seen.nobjects;
		p->obs.capobjects = seen.capobjects;
		seen.objects = NULL;
		seen.nobjects = seen.capobjects = 0;
	} else {
		p->obs = seen;
		memset(&seen, 0, sizeof(seen));
	}
	rc = 0;
out:
	observed_release(&seen);
	return rc;
}

/* Is a registry check of s's image due on this pass? */
static bool image_check_due(struct pass *p, const struct service *s, bool record)
{
	int64_t last = 0;

	if (s->pull_policy == PULL_ALWAYS)
		return true;
	if (s->pull_policy == PULL_NEVER || p->cfg->image_check_s < 0)
		return false;
	if (p->cfg->image_check_s == 0 || !p->st)
		return true;
	if (state_image_checked(p->st, s->image, &last) < 0) {
		pass_state_error(p, NULL);
		return false;
	}
	/* diff records nothing, so it asks whenever a sync would */
	(void)record;
	return !last || last + p->cfg->image_check_s <= p->now;
}

static void check_image(struct pass *p, const char *ref, bool record)
{
	const char *id = observed_image_id(&p->obs, ref);
	const char *local;
	struct auth_creds c;
	struct buf msg = BUF_INIT;
	char *repo = NULL, *digest = NULL;
	int rc;

	if (!id)
		return;   /* not on the host: pulled anyway */
	if ((rc = auth_lookup(&c, p->cfg->registry_auth_file, ref)) < 0) {
		buf_puts(&msg, error_last());
		goto fail;
	}
	if ((rc = p->ops->image_digest(p->backend, ref,
				       c.header.len ? buf_cstr(&c.header) : NULL,
				       &digest)) < 0) {
		/* the same words as a pull from that registry */
		if (!auth_untrusted_message(&msg, &c, error_last()))
			buf_puts(&msg, error_last());
		goto fail;
	}
	if (record && p->st && state_image_check(p->st, ref, digest, p->now) < 0)
		pass_state_error(p, NULL);
	repo = image_ref_repo(ref);
	local = observed_image_digest(&p->obs, id, repo);
	if (!local)
		log_msg(LOG_DEBUG, NULL, "image %s has no digest from %s on this "
			"host: not compared", ref, repo);
	else if (strcmp(local, digest)) {
		char *pair = xasprintf("%s\t%s", ref, digest);

		log_msg(LOG_INFO, NULL, "image %s moved: %s -> %s", ref, local, digest);
		strvec_push(&p->image_updates, pair);
		free(pair);
	}
	goto out;
fail:
	log_msg(LOG_WARN, NULL, "cannot check image %s for a newer one: %s "
		"(the local image stays in use)", ref, buf_cstr(&msg));
out:
	auth_creds_release(&c);
	buf_release(&msg);
	free(repo);
	free(digest);
}

void pass_check_images(struct pass *p, bool record)
{
	struct strvec seen = STRVEC_INIT;
	size_t i, k;

	strvec_release(&p->image_updates);
	if (!p->backend || !p->ops->image_digest || p->ops->caps->pulls_images)
		goto out;
	for (i = 0; i < p->desired.n; i++) {
		const struct project *pr = &p->desired.v[i];

		if (!pr->valid || !pass_placed_here(p, pr))
			continue;
		for (k = 0; k < pr->nservices; k++) {
			const struct service *s = &pr->services[k];

			/* a digest reference never moves */
			if (!s->image || image_ref_digest(s->image) ||
			    strvec_has(&seen, s->image) || !image_check_due(p, s, record))
				continue;
			strvec_push(&seen, s->image);
			check_image(p, s->image, record);
		}
	}
out:
	strvec_release(&seen);
}

/*
 * A compose file another includes is part of that project.  When a file
 * cannot be read, what it includes is not known: the files the last
 * complete read found included are held (invalid: neither applied as
 * projects of their own nor pruned) until it can, so that a broken
 * includer does not make them projects for a while.  A complete read
 * records what it found.
 */
#define META_INCLUDED "compose-included"

static int hold_included(struct pass *p)
{
	struct project_set *set = &p->desired;
	struct buf b = BUF_INIT;
	char *last = NULL, *line, *next;
	size_t i;
	int rc = 0;

	if (!p->st || !p->source_ok || p->single_file || p->includes_held)
		return 0;
	p->includes_held = true;

	if (!set->incomplete) {
		for (i = 0; i < set->included.n; i++)
			buf_printf(&b, "%s\n", set->included.v[i]);
		if (state_meta_get(p->st, META_INCLUDED, &last) < 0 ||
		    ((last || b.len) && strcmp(last ? last : "", buf_cstr(&b))))
			rc = state_meta_set(p->st, META_INCLUDED, buf_cstr(&b));
		goto out;
	}
	if (state_meta_get(p->st, META_INCLUDED, &last) < 0 || !last)
		goto out;
	for (line = last; *line; line = next) {
		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (next > line && next[-1] == '\n')
			next[-1] = '\0';
		for (i = 0; i < set->n; i++) {
			struct project *pr = &set->v[i];

			if (!pr->valid || !pr->file || strcmp(pr->file, line))
				continue;
			pr->valid = false;
			/* (the source's findings are reported already) */
			log_msg(LOG_WARN, pr->name, "%s was included by another "
				"compose file when the source was last read whole; "
				"with a file that cannot be read now, it is left as "
				"it is", pr->file);
		}
	}
out:
	free(last);
	buf_release(&b);
	return rc;
}

/* ---- Managed volumes pinned to a node of a cluster (pin.h) ---- */

static bool is_project(const struct project *pr, void *arg)
{
	return pr == arg;
}

/* The pin of (project, volume) among pins ("project\tvolume\tid\thost"):
 * its node id and host name, copied; false when there is none. */
static bool pin_find(const struct strvec *pins, const char *project,
		     const char *volume, char **id, char **host)
{
	size_t i, lv = strlen(volume);
	struct pin_row r;

	for (i = 0; i < pins->n; i++) {
		if (!pin_row_of(pins->v[i], project, &r) || r.nvolume != lv ||
		    strncmp(r.volume, volume, lv))
			continue;
		*id = xstrndup(r.id, r.nid);
		*host = xstrdup(r.host);
		return true;
	}
	return false;
}

/* The node ids of pins, one entry a pin (what pin_choose counts). */
static void pin_nodes(const struct strvec *pins, struct strvec *out)
{
	struct pin_row r;
	size_t i;

	for (i = 0; i < pins->n; i++)
		if (pin_row_of(pins->v[i], NULL, &r) && r.nid)   /* not a dropped one */
			strvec_push_nodup(out, xstrndup(r.id, r.nid));
}

/*
 * The node a service of pr that mounts v and exists already is held to
 * (node.id==ID: a pin this state lost, another state's, or one the
 * manifest wrote): 0 with *id, ERR_NOTFOUND when there is none, -1 when
 * the backend failed.  A pin is never chosen afresh under running data.
 */
static int pin_existing(struct pass *p, const struct project *pr, const struct volume *v,
			char **id)
{
	size_t k, m, i;
	int rc = ERR_NOTFOUND;

	*id = NULL;
	if (!p->ops->workload_node)
		return rc;
	for (k = 0; k < pr->nservices && rc == ERR_NOTFOUND; k++) {
		const struct service *s = &pr->services[k];
		char *name = name_container(pr->name, s->name);
		bool mounts = false, seen = false;

		for (m = 0; !s->global && m < s->nmounts; m++)
			mounts |= !strcmp(s->mounts[m].name, v->name);
		for (i = 0; mounts && i < p->obs.ncontainers && !seen; i++)
			seen = !strcmp(p->obs.containers[i].name, name);
		if (seen)
			rc = p->ops->workload_node(p->backend, name, id);
		free(name);
	}
	return rc;
}

/*
 * Volume v of project pr: its pin, made now when it has none (a node
 * chosen by pin_choose, recorded when record), and the constraint added
 * to every service that mounts it.  1 when a constraint was added, 0 when
 * no service mounts it, -1 when no node can hold it (pr made invalid) or
 * the state or the backend failed.
 */
static int pin_volume(struct pass *p, struct project *pr, const struct volume *v,
		      struct strvec *pins, struct backend_node **nodes, size_t *nnodes,
		      bool record)
{
	const struct strvec **cons = xcalloc(pr->nservices + 1, sizeof(*cons));
	struct strvec counts = STRVEC_INIT;
	char *id = NULL, *host = NULL, *why = NULL, *c = NULL, *row;
	const char *how = "ready, active, fitting its services' constraints, the "
			  "fewest pins, then the first by name";
	size_t k, m, ncons = 0;
	long at;
	int rc = -1, r = ERR_NOTFOUND;

	/* a Global service runs on every node, each task on that node's
	 * volume: held to one node it would be one task */
	for (k = 0; k < pr->nservices; k++)
		for (m = 0; !pr->services[k].global && m < pr->services[k].nmounts; m++)
			if (!strcmp(pr->services[k].mounts[m].name, v->name)) {
				cons[ncons++] = &pr->services[k].constraints;
				break;
			}
	if (!ncons) {
		rc = 0;
		goto out;
	}
	if (!pin_find(pins, pr->name, v->name, &id, &host) || !*id) {
		/* a row without a node: dropped (cara state unpin), to be
		 * placed afresh, not where its services are held now */
		bool dropped = id != NULL;

		free(id);
		free(host);
		id = host = NULL;
		if (!*nodes && p->ops->nodes(p->backend, nodes, nnodes) < 0)
			goto out;
		if (!dropped && (r = pin_existing(p, pr, v, &id)) == 0) {
			for (k = 0; k < *nnodes && !host; k++)
				if (!strcmp((*nodes)[k].id, id))
					host = xstrdup((*nodes)[k].hostname);
			if (!host)
				host = xstrdup("");
			how = "where a service that mounts it is held already";
			goto found;
		}
		if (!dropped && r != ERR_NOTFOUND)
			goto out;
		pin_nodes(pins, &counts);
		if ((at = pin_choose(*nodes, *nnodes, cons, ncons, &counts, &why)) < 0) {
			log_msg(LOG_ERROR, pr->name, "%s: Managed volume '%s' cannot be "
				"placed: %s", pr->file, v->name, why);
			row = project_path_printf(pr, "spec.volumes[%zu]", (size_t)(v - pr->volumes));
			diags_add(&p->diags, DIAG_ERROR, pr->file, v->pos.line, v->pos.col,
				  row, "Managed volume '%s' cannot be placed: %s",
				  v->name, why);
			free(row);
			pr->valid = false;
			goto out;
		}
		id = xstrdup((*nodes)[at].id);
		host = xstrdup((*nodes)[at].hostname);
found:
		if (record && p->st &&
		    state_volume_pin(p->st, pr->name, v->name, id, host, p->now) < 0) {
			pass_state_error(p, pr->name);
			goto out;
		}
		log_msg(LOG_INFO, pr->name, "volume '%s' %s to node %s (%s): %s", v->name,
			record ? "pinned" : "would be pinned", *host ? host : "(gone)",
			id, how);
		row = xasprintf("%s\t%s\t%s\t%s", pr->name, v->name, id, host);
		strvec_push_nodup(pins, row);
	}
	c = pin_constraint(id);
	for (k = 0; k < ncons; k++)
		if (!strvec_has(cons[k], c))
			strvec_push((struct strvec *)cons[k], c);
	rc = 1;
out:
	free(cons);
	strvec_release(&counts);
	free(id);
	free(host);
	free(why);
	free(c);
	return rc;
}

int pass_pin_volumes(struct pass *p, bool record)
{
	struct strvec pins = STRVEC_INIT, shared = STRVEC_INIT;
	struct backend_node *nodes = NULL;
	size_t i, j, nnodes = 0;
	int rc = 0;

	if (!p->ops->caps->cluster || !p->ops->nodes || !p->backend)
		return 0;
	/* a project held for its includer gets no pin */
	if (hold_included(p) < 0)
		return -1;
	if (p->st && state_volume_pins(p->st, &pins) < 0) {
		pass_state_error(p, NULL);
		return -1;
	}
	config_swarm_shared_drivers(p->cfg, &shared);
	for (i = 0; i < p->desired.n && rc == 0; i++) {
		struct project *pr = &p->desired.v[i];
		bool changed = false;
		int r;

		/* an expired one runs nothing: a pin would outlive its purge */
		if (!pr->valid || !pass_placed_here(p, pr) || project_expired(pr, p->now))
			continue;
		for (j = 0; j < pr->nvolumes && pr->valid; j++) {
			if (!pin_wanted(&pr->volumes[j], &shared))
				continue;
			r = pin_volume(p, pr, &pr->volumes[j], &pins, &nodes, &nnodes,
				       record);
			if (r < 0 && pr->valid)
				rc = -1;    /* the state or the backend */
			changed |= r > 0;
		}
		if (changed && pr->valid)
			/* the constraint is part of each service's spec */
			spec_compute_where(&p->desired, p->cfg->secrets_dir, &p->diags,
					   is_project, pr);
	}
	backend_nodes_free(nodes, nnodes);
	strvec_release(&pins);
	strvec_release(&shared);
	return rc;
}

int pass_plan(struct pass *p, bool gc_only, bool prune)
{
	struct plan_options po;

	if (hold_included(p) < 0)
		return -1;

	/* --purge-volumes also reaches the Managed volumes that projects torn
	 * down earlier left behind, as their teardown kept them */
	if (p->st && !p->known.n &&
	    state_projects(p->st, p->cfg->purge_volumes, &p->known) < 0)
		return -1;
	memset(&po, 0, sizeof(po));
	/* plan holds it for invalid sources; one file never prunes the rest */
	po.prune = prune && p->source_ok && !p->single_file;
	po.gc_only = gc_only;
	po.purge_volumes = p->cfg->purge_volumes;
	po.mass_guard = !p->cfg->allow_mass_prune;
	po.mass_prune_percent = p->cfg->mass_prune_percent;
	po.known = &p->known;
	/* what this Engine takes, its API version known */
	po.caps = p->backend ? &p->caps : p->ops->caps;
	po.image_updates = &p->image_updates;
	po.host = &p->host;
	if (p->st) {
		po.owner = p->owner;
		po.adoptions = &p->adoptions;
		po.adopt = &p->adopt;
		po.volume_types = &p->volume_types;
		po.owed_restarts = &p->owed_restarts;
	}
	plan_release(&p->plan);
	return plan_compute(&p->plan, &p->desired, &p->obs, p->now, &po);
}

void pass_finish(struct pass *p, const char *outcome,
		 const struct pass_counts *counts)
{
	struct pass_counts zero;

	if (!p->st || !p->pass_id)
		return;
	memset(&zero, 0, sizeof(zero));
	if (p->commit[0] && !p->state_failed &&
	    state_pass_source(p->st, p->pass_id, p->commit, p->commit_time,
			      p->subject, p->offline) < 0)
		pass_state_error(p, NULL);
	if (state_pass_end(p->st, p->pass_id, (int64_t)time(NULL), outcome,
			   counts ? counts : &zero) < 0)
		pass_state_error(p, NULL);
}

void pass_report_mass_refused(const struct pass *p)
{
	log_msg(LOG_ERROR, NULL, "refusing to prune %zu of %zu managed projects "
		"(more than %ld%%; removed from the source or placed on another "
		"node); nothing is pruned in this pass. Check the "
		"source, or pass --allow-mass-prune", p->plan.mass_removed,
		p->plan.mass_managed, p->cfg->mass_prune_percent);
}

void pass_state_error(struct pass *p, const char *project)
{
	log_msg(LOG_ERROR, project, "%s", error_last());
	p->state_failed = true;
}
