/*
 * cmd_sync.c - cara sync: one pass.  Lock, read and validate the source,
 * observe, plan, guard against mass pruning, apply, record phases and
 * conditions, exit with a status scripts can act on:
 *   0 converged, 1 error, 2 changes pending (--dry-run), 3 locked,
 *   4 some projects failed while others converged.
 * cara gc is the same pass restricted to expireAt and prune.
 *
 * Nothing on the host changes before the source was read in full: a repo
 * that cannot be fetched (and no --offline-ok) ends the pass with exit 1.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "cmd.h"
#include "files.h"
#include "log.h"
#include "names.h"
#include "output.h"
#include "pass.h"
#include "phase.h"
#include "pin.h"
#include "proxy.h"
#include "report.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* The project's desired hash: the hash of its services' hashes. */
static void project_hash(const struct project *p, char out[65])
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < p->nservices; i++)
		buf_printf(&b, "%s=%s;", p->services[i].name,
			   p->services[i].spec_hash ? p->services[i].spec_hash : "");
	sha256_hex(buf_cstr(&b), b.len, out);
	buf_release(&b);
}

static int record_desired(struct pass *p)
{
	size_t i, k;
	char h[65];

	if (state_begin(p->st) < 0)
		return -1;
	for (i = 0; i < p->desired.n; i++) {
		const struct project *pr = &p->desired.v[i];

		/* a project placed elsewhere is another host's to record */
		if (!pr->valid || !pass_placed_here(p, pr))
			continue;
		project_hash(pr, h);
		if (state_project_upsert(p->st, pr->name, h, p->commit[0] ? p->commit : NULL,
					 pr->file, pr->has_expire, pr->expire_at) < 0) {
			state_rollback(p->st);
			return -1;
		}
		for (k = 0; k < pr->nvolumes; k++) {
			char *vn;
			int r;

			if (!volume_is_docker(&pr->volumes[k]))
				continue;
			vn = name_volume(pr->name, pr->volumes[k].name);
			r = state_volume_type(p->st, vn, pr->name,
					      volume_type_name(pr->volumes[k].type));
			free(vn);
			if (r < 0) {
				state_rollback(p->st);
				return -1;
			}
		}
	}
	/* a restart is owed before its dependency restarts: a pass killed
	 * in between leaves it to the next (settle_owed_restarts) */
	for (i = 0; i < p->plan.nactions; i++) {
		const struct plan_action *a = &p->plan.actions[i];

		if (a->kind == ACTION_RESTART_CONTAINER && a->changed.n &&
		    state_owe_restart(p->st, a->project, a->service, a->changed.v[0],
				      p->now) < 0) {
			state_rollback(p->st);
			return -1;
		}
	}
	return state_commit(p->st);
}

/*
 * What a project owed is paid when its apply ended well (every restart
 * of its plan done) or it is gone; a failed or interrupted one keeps its
 * debts for the next pass, which may restart a service twice but never
 * not at all.
 */
static void settle_owed_restarts(struct pass *p, const struct apply_report *rep)
{
	size_t i;

	for (i = 0; i < p->plan.nprojects; i++) {
		const struct plan_project *pp = &p->plan.projects[i];
		char *key = xasprintf("%s\t", pp->name);
		bool owes = strvec_sorted_prefix(&p->owed_restarts, key), done;
		size_t k;

		free(key);
		for (k = pp->first; k < pp->first + pp->count && !owes; k++)
			owes = p->plan.actions[k].kind == ACTION_RESTART_CONTAINER;
		if (!owes)
			continue;   /* no write a pass for each project */
		done = pp->verdict == VERDICT_CONVERGED ||
		       pp->verdict == VERDICT_GONE ||
		       ((pp->verdict == VERDICT_APPLY ||
			 pp->verdict == VERDICT_TEARDOWN) &&
			!rep->results[i].failed && !rep->results[i].interrupted);
		if (done && state_owed_restarts_paid(p->st, pp->name) < 0)
			pass_state_error(p, pp->name);
	}
}

/* Set a phase, and log when recording fails: state must not hide errors. */
static void set_phase(struct pass *p, const char *name, const char *phase,
		      const char *reason, const char *message)
{
	if (state_project_phase(p->st, name, phase, reason, message,
				(int64_t)time(NULL)) < 0)
		pass_state_error(p, name);
}

static double elapsed_s(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Metrics file and webhook; their failures are logged, never fatal. */
static void publish(struct pass *p, const char *command, const char *outcome,
		    int rc, const struct pass_counts *counts, double duration_s)
{
	const struct config *cfg = p->cfg;
	struct pass_summary sum;
	struct project_status *ps = NULL;
	size_t n = 0;

	if (!cfg->metrics_file && !cfg->notify_url)
		return;
	memset(&sum, 0, sizeof(sum));
	if (p->st && state_list_projects(p->st, &ps, &n) < 0)
		log_msg(LOG_WARN, NULL, "%s", error_last());
	/* from state, so a failing pass still reports the last success;
	 * this pass counts even if recording its end failed */
	if (p->st && state_last_success(p->st, &sum.last_success) < 0)
		log_msg(LOG_WARN, NULL, "%s", error_last());
	if (rc == EXIT_CONVERGED && sum.last_success < p->now)
		sum.last_success = (int64_t)time(NULL);
	sum.node = cfg->node;
	sum.command = command;
	sum.outcome = outcome;
	sum.exit_code = rc;
	sum.commit = p->commit;
	sum.duration_s = duration_s;
	sum.ended = (int64_t)time(NULL);
	sum.counts = counts;
	sum.plan = &p->plan;
	sum.projects = ps;
	sum.nprojects = n;
	sum.changed = counts && (counts->created || counts->recreated ||
				 counts->started || counts->removed || counts->torn_down);
	if (cfg->metrics_file && report_metrics_write(cfg->metrics_file, &sum) < 0)
		log_msg(LOG_WARN, NULL, "%s", error_last());
	if (cfg->notify_url && (sum.changed || rc != EXIT_CONVERGED) &&
	    report_notify(cfg->notify_url, &sum) < 0)
		log_msg(LOG_WARN, NULL, "%s (the pass is not affected)", error_last());
	project_status_free(ps, n);
}

/* Phases of what is about to change, so a crash mid-apply shows them. */
static void mark_pending(struct pass *p)
{
	size_t i;

	for (i = 0; i < p->plan.nprojects; i++) {
		const struct plan_project *pp = &p->plan.projects[i];

		if (pp->verdict == VERDICT_TEARDOWN && pp->cause == CAUSE_PLACED_ELSEWHERE) {
			/* a move is not a removal: say where it went */
			char *msg = xasprintf("%s: tearing down here", pp->message);

			log_msg(LOG_INFO, pp->name, "%s: %s",
				action_cause_name(pp->cause), msg);
			set_phase(p, pp->name, phase_name(PHASE_TERMINATING),
				  action_cause_name(pp->cause), msg);
			free(msg);
		} else if (pp->verdict == VERDICT_TEARDOWN)
			set_phase(p, pp->name, phase_name(PHASE_TERMINATING),
				  action_cause_name(pp->cause), "tearing down");
		else if (pp->verdict == VERDICT_APPLY)
			set_phase(p, pp->name, phase_name(PHASE_PENDING), reason_name(REASON_RECONCILING),
				  "applying changes");
	}
}

/*
 * Is every container of this state that the pass saw one of a project of
 * the source, or of a project this pass tore down?  A project left
 * running outside the source (--no-prune, a prune the mass-prune guard
 * held, a single-file source) may mount copies the source no longer
 * names.
 */
static bool containers_accounted(const struct pass *p)
{
	size_t i, k;

	for (i = 0; i < p->obs.ncontainers; i++) {
		const struct obs_container *c = &p->obs.containers[i];
		bool ok = false;

		if (!c->project || (p->owner && c->owner && *c->owner &&
				    strcmp(c->owner, p->owner)))
			continue;      /* another state's: its own files */
		if ((!c->owner || !*c->owner) && !strvec_has(&p->known, c->project))
			continue;      /* unlabelled, of a project this state never had */
		ok = project_set_find(&p->desired, c->project) != NULL;
		for (k = 0; k < p->plan.nprojects && !ok; k++)
			ok = p->plan.projects[k].verdict == VERDICT_TEARDOWN &&
			     !strcmp(p->plan.projects[k].name, c->project);
		if (!ok)
			return false;
	}
	return true;
}

/*
 * The copies of source files no project of the source mounts any more.
 * Only after a pass in which every project was read and applied, and
 * every container of this state belongs to the source or was torn down:
 * an invalid, failed or unpruned project's containers may still mount
 * older copies, and which those are is known only from a good pass.
 */
static void gc_files(struct pass *p, const char *files_dir, size_t failed)
{
	struct strvec keep = STRVEC_INIT;
	size_t i, k, removed = 0;

	if (p->desired.incomplete || failed || p->plan.mass_refused ||
	    !containers_accounted(p))
		return;
	for (i = 0; i < p->desired.n; i++) {
		const struct project *pr = &p->desired.v[i];

		if (!pr->valid)
			goto out;
		for (k = 0; k < pr->nvolumes; k++)
			if (pr->volumes[k].type == VOLUME_FILE)
				strvec_push(&keep, pr->volumes[k].digest);
	}
	if (files_gc(files_dir, &keep, &removed) < 0)
		log_msg(LOG_WARN, NULL, "%s", error_last());
	if (removed)
		log_msg(LOG_INFO, NULL, "removed %zu unused copies of source files "
			"from '%s'", removed, files_dir);
out:
	strvec_release(&keep);
}

static void apply_options_of(struct apply_options *ao, const struct pass *p,
			     const char *files_dir)
{
	const struct config *cfg = p->cfg;

	memset(ao, 0, sizeof(*ao));
	ao->files_dir = files_dir;
	ao->docker_host = cfg->docker_host;
	ao->docker_timeout_ms = cfg->docker_timeout_s * 1000;
	ao->backend = p->ops;
	ao->docker_api = p->ops->api_version(p->backend);
	ao->secrets_dir = cfg->secrets_dir;
	ao->registry_auth_file = cfg->registry_auth_file;
	ao->owner = p->owner;
	ao->hostpath_roots = p->mopts.hostpath_roots;
	ao->nhostpath_roots = p->mopts.nhostpath_roots;
	ao->parallel = (int)cfg->parallel;
	ao->health_timeout_s = cfg->health_timeout_s;
	ao->stop = &stop_requested;
}

/* Each project's phase after apply, counted into counts and t. */
static void record_results(struct pass *p, const struct apply_report *rep,
			   struct pass_counts *counts, struct pass_tally *t)
{
	size_t i;

	for (i = 0; i < p->plan.nprojects; i++) {
		const struct plan_project *pp = &p->plan.projects[i];
		const struct apply_result *res = &rep->results[i];
		struct phase_verdict pv;

		counts->created += res->created;
		counts->started += res->started;
		counts->recreated += res->recreated;
		counts->removed += res->removed;
		if (res->interrupted)
			t->interrupted = true;
		switch (pp->verdict) {
		case VERDICT_APPLY:
		case VERDICT_TEARDOWN:
			if (res->interrupted && !res->failed)
				break;
			set_phase(p, pp->name, res->phase, res->reason, res->message);
			if (res->failed) {
				t->failed++;
				counts->failed++;
			} else {
				t->ok++;
				if (pp->verdict == VERDICT_TEARDOWN)
					counts->torn_down++;
			}
			break;
		case VERDICT_CONVERGED:
			phase_observed(&pv, pp->name, pp->proj, &p->obs);
			set_phase(p, pp->name, phase_name(pv.phase), reason_name(pv.reason),
				  pv.message);
			if (pv.phase == PHASE_FAILED) {
				/* nothing to apply, but name it: a failed count
				 * alone does not say which project to look at */
				log_msg(LOG_ERROR, pp->name, "%s: %s", reason_name(pv.reason),
					pv.message);
				t->failed++;
			} else {
				if (pv.phase == PHASE_DEGRADED)
					log_msg(LOG_WARN, pp->name, "%s: %s",
						reason_name(pv.reason), pv.message);
				t->ok++;
			}
			free(pv.message);
			break;
		case VERDICT_GONE:
			set_phase(p, pp->name, phase_name(PHASE_TERMINATED),
				  action_cause_name(pp->cause), "no objects left");
			break;
		case VERDICT_REFUSED:
			/* another state's objects, or what the Engine cannot
			 * carry: say so, touch nothing */
			log_msg(LOG_ERROR, pp->name, "%s: %s",
				reason_name(phase_refusal_reason(pp->refusal)),
				pp->message);
			set_phase(p, pp->name, phase_name(PHASE_FAILED),
				  reason_name(phase_refusal_reason(pp->refusal)),
				  pp->message);
			t->failed++;
			break;
		case VERDICT_ELSEWHERE:
			if (pp->held) {
				/* still running here: its phase stays what it is */
				log_msg(LOG_WARN, pp->name, "%s: %s; its objects on this "
					"host are kept (%s)",
					action_cause_name(CAUSE_PLACED_ELSEWHERE), pp->message,
					p->plan.mass_refused ? "the mass-prune guard" :
					"no prune");
				break;
			}
			set_phase(p, pp->name, phase_name(PHASE_TERMINATED),
				  action_cause_name(CAUSE_PLACED_ELSEWHERE), pp->message);
			break;
		case VERDICT_INVALID:
			t->failed++;
			if (pp->proj && pp->proj->secret_missing) {
				/* not the manifest's fault: a Failed phase, so the
				 * alerts on it fire, also on a first deploy */
				set_phase(p, pp->name, phase_name(PHASE_FAILED),
					  reason_name(REASON_SECRET_MISSING),
					  pp->proj->secret_missing);
				break;
			}
			if (state_event(p->st, p->pass_id, pp->name, "InvalidManifest",
					"manifest invalid: left as it is",
					(int64_t)time(NULL)) < 0)
				pass_state_error(p, pp->name);
			break;
		}
	}
}

/* An image pulled for a moved tag: which digest it was and is, who moved. */
static void record_image_updates(struct pass *p, const struct apply_report *rep)
{
	size_t i, j, k;

	for (i = 0; i < p->plan.nprojects; i++) {
		const struct plan_project *pp = &p->plan.projects[i];

		if (rep->results[i].failed || rep->results[i].interrupted)
			continue;
		for (j = pp->first; j < pp->first + pp->count; j++) {
			const struct plan_action *a = &p->plan.actions[j];
			struct buf msg = BUF_INIT;
			bool any = false;

			if (a->kind != ACTION_PULL_IMAGE || a->cause != CAUSE_IMAGE_UPDATED ||
			    a->changed.n != 2)
				continue;
			buf_printf(&msg, "image %s updated: %s -> %s", a->object,
				   a->changed.v[0], a->changed.v[1]);
			for (k = pp->first; k < pp->first + pp->count; k++) {
				const struct plan_action *r = &p->plan.actions[k];

				if ((r->kind == ACTION_RECREATE_CONTAINER ||
				     r->kind == ACTION_UPDATE_CONTAINER) && r->svc &&
				    r->cause == CAUSE_IMAGE_UPDATED &&
				    r->svc->image && !strcmp(r->svc->image, a->object)) {
					buf_printf(&msg, "%s%s", any ? ", " : "; recreated ",
						   r->service);
					any = true;
				}
			}
			log_msg(LOG_INFO, pp->name, "%s", buf_cstr(&msg));
			if (state_event(p->st, p->pass_id, pp->name, "ImageUpdated",
					buf_cstr(&msg), (int64_t)time(NULL)) < 0)
				pass_state_error(p, pp->name);
			buf_release(&msg);
		}
	}
}

/* A take-over is deliberate and remembered: later passes need no flag. */
static void record_adoptions(struct pass *p)
{
	size_t i, k;

	for (i = 0; i < p->plan.nprojects; i++) {
		const struct plan_project *pp = &p->plan.projects[i];

		for (k = 0; k < pp->adopted.n; k++) {
			const char *from = pp->adopted.v[k][0] ? pp->adopted.v[k] :
					   "objects without an owner label";
			char *msg = xasprintf("adopted by state %s from %s", p->owner, from);

			log_msg(LOG_WARN, pp->name, "%s (--adopt)", msg);
			if (state_adopt(p->st, pp->name, pp->adopted.v[k],
					(int64_t)time(NULL)) < 0 ||
			    state_event(p->st, p->pass_id, pp->name, "Adopted", msg,
					(int64_t)time(NULL)) < 0)
				pass_state_error(p, pp->name);
			free(msg);
		}
	}
}

/*
 * A purge done (pp->purges_pins: a teardown with --purge-volumes that
 * finished, or one with nothing left): the project's pins go, so that a
 * later project of the name is placed afresh.  A pinned volume the pass
 * did not remove is on another node (the manager's volumes are all a
 * Swarm backend sees), or was removed by a pass killed since: say where,
 * for an operator to remove it there.
 */
static void drop_purged_pins(struct pass *p, const struct apply_report *rep)
{
	struct strvec pins = STRVEC_INIT;
	bool listed = false;
	size_t i, j, k;

	for (i = 0; i < p->plan.nprojects; i++) {
		const struct plan_project *pp = &p->plan.projects[i];
		bool any = false;

		if (!pp->purges_pins || rep->results[i].failed ||
		    rep->results[i].interrupted)
			continue;
		if (!listed && state_volume_pins(p->st, &pins) < 0) {
			pass_state_error(p, NULL);
			goto out;
		}
		listed = true;
		for (k = 0; k < pins.n; k++) {
			struct pin_row r;
			char *dn, *vn;
			bool removed = false;

			if (!pin_row_of(pins.v[k], pp->name, &r))
				continue;
			any = true;
			vn = xstrndup(r.volume, r.nvolume);
			dn = name_volume(pp->name, vn);
			for (j = pp->first; j < pp->first + pp->count && !removed; j++)
				removed = p->plan.actions[j].kind == ACTION_REMOVE_VOLUME &&
					  !strcmp(p->plan.actions[j].object, dn);
			if (removed || !r.nid)
				log_msg(LOG_INFO, pp->name, "pin of volume '%s' dropped "
					"with the purge", vn);
			else
				log_msg(LOG_WARN, pp->name, "pin of volume '%s' dropped; "
					"cara removed no volume %s here: if node %s "
					"holds one, remove it there (docker volume rm "
					"%s)", vn, dn, *r.host ? r.host : "(gone)", dn);
			free(vn);
			free(dn);
		}
		if (any && state_volume_pins_forget(p->st, pp->name) < 0)
			pass_state_error(p, pp->name);
	}
out:
	strvec_release(&pins);
}

int cmd_sync_run(struct config *cfg, bool gc_only)
{
	struct timespec t0;
	const char *outcome = "error";
	const char *command = gc_only ? "gc" : "sync";
	struct pass p;
	struct apply_report rep;
	struct apply_options ao;
	struct pass_counts counts;
	struct pass_tally tally;
	struct proxy_result ingress;
	struct buf out = BUF_INIT;
	char *files_dir = NULL;
	int rc = EXIT_ERROR, r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&rep, 0, sizeof(rep));
	memset(&counts, 0, sizeof(counts));
	memset(&tally, 0, sizeof(tally));
	memset(&ingress, 0, sizeof(ingress));
	log_setup(!strcmp(cfg->log_format, "json"), cfg->verbose);
	install_signals();
	pass_init(&p, cfg, (int64_t)time(NULL));

	r = pass_open_state(&p, command, true);
	if (r == ERR_LOCKED) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		rc = EXIT_LOCKED;
		goto out;
	}
	if (r < 0) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		goto out;
	}
	if (pass_read_source(&p, true) < 0) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		log_msg(LOG_ERROR, NULL, "nothing was changed on this host");
		pass_finish(&p, "source-error", NULL);
		goto out;
	}
	pass_report_diags(&p);
	if (pass_observe(&p) < 0) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		pass_finish(&p, "error", NULL);
		goto out;
	}
	if (!gc_only && pass_pin_volumes(&p, !cfg->dry_run) < 0) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		pass_finish(&p, "error", NULL);
		goto out;
	}
	if (!gc_only)
		pass_check_images(&p, !cfg->dry_run);
	if (pass_plan(&p, gc_only, cfg->prune) < 0) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		pass_finish(&p, "error", NULL);
		goto out;
	}
	if (p.plan.mass_refused)
		pass_report_mass_refused(&p);
	if (p.plan.nheld)
		log_msg(LOG_WARN, NULL, "%zu project(s) gone from the source were not "
			"pruned: the source has invalid manifests", p.plan.nheld);
	if (cfg->dry_run) {
		size_t route_changes = 0;

		struct buf lines = BUF_INIT;

		if (proxy_diff(&lines, &p, &route_changes) < 0) {
			log_msg(LOG_ERROR, NULL, "%s", error_last());
			buf_release(&lines);
			goto out;
		}
		/* "no changes" would say wrong when routes change */
		if (!plan_is_empty(&p.plan) || !route_changes)
			output_plan_text(&out, &p.plan,
					 output_use_color(STDOUT_FILENO, cfg->no_color));
		buf_add(&out, lines.ptr, lines.len);
		buf_release(&lines);
		if (output_write_stdout(&out) < 0) {
			log_msg(LOG_ERROR, NULL, "%s", error_last());
			goto out;
		}
		pass_finish(&p, "dry-run", NULL);
		rc = outcome_of_plan(&p.plan, p.diags.nerrors, &outcome);
		if (rc == EXIT_CONVERGED && route_changes) {
			rc = EXIT_CHANGES;
			outcome = "changes";
		}
		goto out;
	}
	if (!gc_only && record_desired(&p) < 0) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		pass_finish(&p, "error", NULL);
		goto out;
	}
	mark_pending(&p);
	{
		/* absolute: the Engine binds the copies by path, whatever the
		 * working directory of cara (a relative --state-dir) */
		char *real = realpath(cfg->state_dir, NULL);

		files_dir = xasprintf("%s/files", real ? real : cfg->state_dir);
		free(real);
	}
	apply_options_of(&ao, &p, files_dir);
	apply_plan(&rep, &p.plan, &ao);
	record_results(&p, &rep, &counts, &tally);
	drop_purged_pins(&p, &rep);
	if (!gc_only)   /* gc plans no apply: a valid project shows converged */
		settle_owed_restarts(&p, &rep);
	gc_files(&p, files_dir, tally.failed);
	record_adoptions(&p);
	record_image_updates(&p, &rep);
	if (p.plan.nactions && pass_observe_after(&p) < 0)
		log_msg(LOG_WARN, NULL, "the state keeps what the pass found, not what "
			"it left: %s", error_last());
	/* after the projects: a proxy failure is its own, never theirs */
	if (!tally.interrupted) {
		if (proxy_sync(&p, &ingress) < 0)
			log_msg(LOG_ERROR, NULL, "%s", error_last());
		tally.ingress_failed = ingress.failed;
	}

	counts.projects = (unsigned)(tally.ok + tally.failed);
	counts.projects_failed = (unsigned)tally.failed;
	tally.manifest_errors = p.diags.nerrors;
	tally.mass_refused = p.plan.mass_refused;
	outcome_of_pass(&tally, &outcome);
	pass_finish(&p, outcome, &counts);
	tally.state_failed = p.state_failed;
	rc = outcome_of_pass(&tally, &outcome);
	if (p.state_failed)
		/* status would show what ran as Pending: say so, and fail */
		log_msg(LOG_ERROR, NULL, "the state database could not record what "
			"this pass did (a full disk?): `cara status` is out of date "
			"until a pass records it");
	log_msg(LOG_INFO, NULL, "%s: %u %s, %u created, %u recreated, %u started, "
		"%u removed, %zu failed%s%.12s; %lu Engine API calls", command,
		counts.projects, plural(counts.projects, "project", "projects"), counts.created, counts.recreated, counts.started,
		counts.removed, tally.failed, p.commit[0] ? ", commit " : "", p.commit,
		p.ops->calls(p.backend) + rep.engine_calls);
out:
	if (rc != EXIT_LOCKED && !cfg->dry_run)
		publish(&p, command, outcome, rc, &counts, elapsed_s(&t0));
	apply_report_release(&rep);
	proxy_result_release(&ingress);
	buf_release(&out);
	free(files_dir);
	pass_release(&p);
	return rc;
}

static int cmd_sync_exec(struct config *cfg, int argc, char **argv)
{
	(void)argc; (void)argv;
	return cmd_sync_run(cfg, false);
}

const struct cmd_entry cmd_sync_entry = {
	.name = "sync",
	.options = OPTS_ALL,
	.usage = "[--repo URL [--ref REF]] [--path DIR] [--dry-run]",
	.summary = "one pass: fetch, validate, observe, plan, apply, gc",
	.exec = cmd_sync_exec,
};
