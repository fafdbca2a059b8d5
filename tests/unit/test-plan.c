/*
 * test-plan.c - the planner, case by case: what a pass would do for a
 * given source and host.  Each case starts from the "shop" project (app
 * depends on a one-shot migrate job and on db; volumes Managed, Ephemeral
 * and HostPath), changes the source or the host, and compares the whole
 * plan, rendered one line per action, with what an operator expects.
 *
 * Projects and observed snapshots are built in C (builders.h), so these
 * tests stand apart from the YAML parser and the Engine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builders.h"
#include "phase.h"
#include "plan.h"
#include "spec.h"
#include "tap.h"

/* ---- the fixture ---- */

struct fixture {
	struct project_set set;
	struct observed obs;
	struct plan_options opts;
	struct strvec known;
	int64_t now;
};

#define NOW 1700000000

/*
 * shop: app (file order first) depends on migrate (Completed) and db
 * (Healthy); migrate is a job that depends on db.  Order: db, migrate, app.
 */
static struct project *shop(struct project_set *set, const char *name)
{
	struct project *p = tb_project(set, name);
	struct service *app, *migrate, *db;

	tb_volume(p, "data", VOLUME_MANAGED, NULL);
	tb_volume(p, "cache", VOLUME_EPHEMERAL, NULL);
	tb_volume(p, "host", VOLUME_HOSTPATH, "/srv/shop");
	app = tb_service(p, "app", "shop/app:1");
	tb_env(app, "DB", "db");
	tb_dep(app, "migrate", DEP_COMPLETED);
	tb_dep(app, "db", DEP_HEALTHY);
	tb_mount(app, "cache", "/cache");
	tb_mount(app, "host", "/host");
	migrate = tb_service(p, "migrate", "shop/app:1");
	migrate->restart = RESTART_NO;
	tb_dep(migrate, "db", DEP_HEALTHY);
	db = tb_service(p, "db", "postgres:16");
	tb_mount(db, "data", "/var/lib/postgresql");
	return p;
}

static void recompute(struct fixture *f)
{
	struct diags d = DIAGS_INIT;

	spec_compute(&f->set, NULL, &d);
	if (d.n)
		printf("# unexpected spec_compute diagnostics: %s\n", d.v[0].message);
	diags_release(&d);
}

/* The host as a successful pass leaves it for project p. */
static void converge(struct fixture *f, const struct project *p)
{
	size_t i;

	tb_obs_network(&f->obs, p->name);
	for (i = 0; i < p->nvolumes; i++)
		if (volume_is_docker(&p->volumes[i]))
			tb_obs_volume(&f->obs, p->name, p->volumes[i].name,
				 volume_type_name(p->volumes[i].type));
	for (i = 0; i < p->nservices; i++) {
		const struct service *s = &p->services[i];

		observed_add_image(&f->obs, s->image);
		tb_obs_container(&f->obs, p->name, s->name, s->spec_hash, s->spec_fields,
			    s->restart == RESTART_NO ? "exited" : "running", 0);
	}
	observed_sort(&f->obs);
}

static struct project *find_p(struct fixture *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->set.n; i++)
		if (!strcmp(f->set.v[i].name, name))
			return &f->set.v[i];
	return NULL;
}

static struct service *find_s(struct fixture *f, const char *p, const char *s)
{
	struct project *pr = find_p(f, p);
	size_t i;

	for (i = 0; pr && i < pr->nservices; i++)
		if (!strcmp(pr->services[i].name, s))
			return &pr->services[i];
	printf("Bail out! no service %s/%s\n", p, s);
	exit(1);
}

static const char *verdict_str(enum project_verdict v)
{
	switch (v) {
	case VERDICT_CONVERGED: return "converged";
	case VERDICT_APPLY: return "apply";
	case VERDICT_TEARDOWN: return "teardown";
	case VERDICT_INVALID: return "invalid";
	case VERDICT_GONE: return "gone";
	case VERDICT_REFUSED: return "refused";
	case VERDICT_ELSEWHERE: return "elsewhere";
	}
	return "?";
}

/* One line per project, then one indented line per action. */
static void render(struct buf *b, const struct plan *p)
{
	size_t i, j, k;

	buf_reset(b);
	for (i = 0; i < p->nprojects; i++) {
		const struct plan_project *pp = &p->projects[i];

		buf_printf(b, "%s %s", pp->name, verdict_str(pp->verdict));
		if (pp->verdict == VERDICT_TEARDOWN || pp->verdict == VERDICT_GONE)
			buf_printf(b, " %s", action_cause_name(pp->cause));
		buf_putc(b, '\n');
		for (j = pp->first; j < pp->first + pp->count; j++) {
			const struct plan_action *a = &p->actions[j];

			buf_printf(b, "  %s %s %s", action_kind_name(a->kind), a->object,
				   action_cause_name(a->cause));
			if (a->kind == ACTION_RECREATE_CONTAINER) {
				buf_puts(b, " [");
				for (k = 0; k < a->changed.n; k++)
					buf_printf(b, "%s%s", k ? "," : "", a->changed.v[k]);
				buf_putc(b, ']');
			}
			buf_putc(b, '\n');
		}
	}
}



static void c_empty_host(struct fixture *f) { (void)f; }
static void c_converged(struct fixture *f) { converge(f, find_p(f, "shop")); }
static void c_stopped(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	tb_obs_set_state(&f->obs, "shop", "app", "exited", 137);
}
static void c_created_only(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	tb_obs_set_state(&f->obs, "shop", "db", "created", 0);
}
/* docker network disconnect -f + docker network rm by hand */
static void c_network_removed(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	tb_obs_remove_network(&f->obs, "shop");
}
static void c_disconnected(struct fixture *f)
{
	struct obs_container *c;

	converge(f, find_p(f, "shop"));
	c = tb_obs_find(&f->obs, "shop", "app");
	tb_set(&c->networks, "net-other net-zzz");
}
static void c_network_removed_stopped(struct fixture *f)
{
	c_network_removed(f);
	tb_obs_set_state(&f->obs, "shop", "db", "exited", 137);
}
static void c_paused(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	tb_obs_set_state(&f->obs, "shop", "db", "paused", 0);
}
static void c_dead(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	tb_obs_set_state(&f->obs, "shop", "db", "dead", 0);
}
static void c_long_running_exit0(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	tb_obs_set_state(&f->obs, "shop", "db", "exited", 0);
}
static void c_restarting(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	tb_obs_set_state(&f->obs, "shop", "app", "restarting", 1);
}
static void c_removed_by_hand(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	tb_obs_remove_container(&f->obs, "shop", "app");
}
static void c_image_changed(struct fixture *f)
{
	struct service *s;

	converge(f, find_p(f, "shop"));
	s = find_s(f, "shop", "app");
	tb_set(&s->image, "shop/app:2");
	recompute(f);
}
static void c_env_changed(struct fixture *f)
{
	struct service *s;

	converge(f, find_p(f, "shop"));
	s = find_s(f, "shop", "app");
	tb_set(&s->env[0].value, "db.internal");
	recompute(f);
}
static void c_host_drift(struct fixture *f)
{
	struct obs_container *c;

	converge(f, find_p(f, "shop"));
	/* everything but the cara labels drifted: nothing to recreate */
	c = tb_obs_find(&f->obs, "shop", "app");
	tb_set(&c->image, "sha256:0123456789abcdef");
	c->health = HEALTH_UNHEALTHY;
	c->created = 42;
}
static void c_no_hash_label(struct fixture *f)
{
	struct obs_container *c;

	converge(f, find_p(f, "shop"));
	c = tb_obs_find(&f->obs, "shop", "db");
	tb_set(&c->spec_hash, "");
	tb_set(&c->spec_fields, "");
}
static void c_on_failure_exit(struct fixture *f, int code)
{
	find_s(f, "shop", "db")->restart = RESTART_ON_FAILURE;
	converge(f, find_p(f, "shop"));
	tb_obs_set_state(&f->obs, "shop", "db", "exited", code);
}
static void c_on_failure_done(struct fixture *f) { c_on_failure_exit(f, 0); }
static void c_on_failure_failed(struct fixture *f) { c_on_failure_exit(f, 2); }
static void c_job_failed(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	tb_obs_set_state(&f->obs, "shop", "migrate", "exited", 1);
}
static void c_job_created(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	tb_obs_set_state(&f->obs, "shop", "migrate", "created", 0);
}
static void c_job_running(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	tb_obs_set_state(&f->obs, "shop", "migrate", "running", 0);
}
static void c_job_spec_changed(struct fixture *f)
{
	struct service *s;

	converge(f, find_p(f, "shop"));
	s = find_s(f, "shop", "migrate");
	s->has_command = true;
	strvec_push(&s->command, "migrate");
	recompute(f);
}
static void expire(struct fixture *f, int64_t at)
{
	struct project *p = find_p(f, "shop");

	p->has_expire = true;
	p->expire_at = at;
}
static void c_expired(struct fixture *f) { converge(f, find_p(f, "shop")); expire(f, NOW); }
static void c_expired_purge(struct fixture *f) { c_expired(f); f->opts.purge_volumes = true; }
static void c_expired_gc(struct fixture *f) { c_expired(f); f->opts.gc_only = true; }
static void c_expire_future(struct fixture *f) { converge(f, find_p(f, "shop")); expire(f, NOW + 1); }
static void c_expired_nothing(struct fixture *f) { expire(f, NOW - 3600); }
static void c_expired_managed_left(struct fixture *f)
{
	expire(f, NOW - 3600);
	tb_obs_volume(&f->obs, "shop", "data", "Managed");
}
static void c_expired_stray(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	tb_obs_container(&f->obs, "shop", "old", "x", "", "running", 0);
	expire(f, NOW);
}
static void c_invalid(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	tb_obs_set_state(&f->obs, "shop", "app", "exited", 1);
	tb_obs_container(&f->obs, "shop", "old", "x", "", "running", 0);
	find_p(f, "shop")->valid = false;
}
static void c_invalid_expired(struct fixture *f) { c_invalid(f); expire(f, NOW - 1); }
static void c_invalid_duplicate(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	shop(&f->set, "shop")->valid = false;
}
static void c_invalid_not_on_host(struct fixture *f) { find_p(f, "shop")->valid = false; }
static void gone_from_source(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	project_set_release(&f->set);
	strvec_push(&f->known, "shop");   /* applied by this state before */
}
/* cara's labels on the host, but not applied by this state: not ours */
static void c_removed_unknown(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	project_set_release(&f->set);
}
/* another project of the source is invalid: nothing is pruned */
static void c_removed_other_invalid(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	project_set_release(&f->set);
	strvec_push(&f->known, "shop");
	shop(&f->set, "other")->valid = false;
}
/* removed, next to a project of another state: that one does not count */
static void c_removed_beside_foreign(struct fixture *f)
{
	shop(&f->set, "other");
	recompute(f);
	converge(f, find_p(f, "shop"));
	converge(f, find_p(f, "other"));
	project_set_release(&f->set);
	strvec_push(&f->known, "shop");
}
static void c_removed_from_source(struct fixture *f) { gone_from_source(f); }
static void c_removed_purge(struct fixture *f) { gone_from_source(f); f->opts.purge_volumes = true; }
static void c_removed_incomplete(struct fixture *f) { gone_from_source(f); f->set.incomplete = true; }
static void c_removed_no_prune(struct fixture *f) { gone_from_source(f); f->opts.prune = false; }
static void c_removed_gc(struct fixture *f) { gone_from_source(f); f->opts.gc_only = true; }
static void c_removed_managed_left(struct fixture *f)
{
	project_set_release(&f->set);
	strvec_push(&f->known, "shop");
	tb_obs_volume(&f->obs, "shop", "data", "Managed");
}
static void c_removed_untyped_volume(struct fixture *f)
{
	project_set_release(&f->set);
	strvec_push(&f->known, "shop");
	tb_obs_volume(&f->obs, "shop", "odd", "");
	tb_obs_volume(&f->obs, "shop", "tmp", "Ephemeral");
}
static void c_service_removed(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	tb_obs_container(&f->obs, "shop", "old", "x", "", "running", 0);
	tb_obs_remove_container(&f->obs, "shop", "db");
}
static void c_volume_removed(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	tb_obs_volume(&f->obs, "shop", "tmp", "Ephemeral");
	tb_obs_volume(&f->obs, "shop", "keep", "Managed");
}
static void c_gc_only(struct fixture *f) { f->opts.gc_only = true; }
static void c_gc_only_drift(struct fixture *f) { c_stopped(f); f->opts.gc_only = true; }
static void c_known_gone(struct fixture *f)
{
	converge(f, find_p(f, "shop"));
	strvec_push(&f->known, "old");
	strvec_push(&f->known, "shop");
}
static void c_known_no_prune(struct fixture *f) { c_known_gone(f); f->opts.prune = false; }
static void c_known_incomplete(struct fixture *f) { c_known_gone(f); f->set.incomplete = true; }
static void c_two_projects(struct fixture *f)
{
	struct project *z;

	/* the source lists zeta first; the plan sorts by name */
	project_set_release(&f->set);
	z = tb_project(&f->set, "zeta");
	tb_service(z, "web", "nginx:1");
	shop(&f->set, "alpha");
	recompute(f);
	observed_add_image(&f->obs, "nginx:1");
	observed_add_image(&f->obs, "postgres:16");
	observed_add_image(&f->obs, "shop/app:1");
	observed_sort(&f->obs);
	tb_obs_network(&f->obs, "zeta");
	tb_obs_container(&f->obs, "zeta", "web", "stale", "", "running", 0);
}
static void c_incomplete_desired_still_applied(struct fixture *f)
{
	c_stopped(f);
	f->set.incomplete = true;
}
static void c_image_untagged(struct fixture *f)
{
	struct service *s = find_s(f, "shop", "db");

	/* created as postgres:latest; the source now says just "postgres" */
	tb_set(&s->image, "postgres:latest");
	recompute(f);
	converge(f, find_p(f, "shop"));
	tb_set(&s->image, "postgres");
	recompute(f);
}

/* The plan for the shop fixture gone from the source: its containers,
 * network and Ephemeral volume removed, the Managed volume kept. */
#define SHOP_TEARDOWN \
	"shop teardown RemovedFromSource\n" \
	"  remove-container shop-db RemovedFromSource\n" \
	"  remove-container shop-migrate RemovedFromSource\n" \
	"  remove-container shop-app RemovedFromSource\n" \
	"  remove-network cara-shop RemovedFromSource\n" \
	"  remove-volume cara-shop-cache RemovedFromSource\n"

static const struct plan_case {
	const char *name;
	void (*setup)(struct fixture *);
	const char *want;
	size_t nmanaged, nremoved;
} cases[] = {
	{ "empty host: full create in dependsOn order", c_empty_host,
	  "shop apply\n"
	  "  create-network cara-shop Missing\n"
	  "  create-volume cara-shop-data Missing\n"
	  "  create-volume cara-shop-cache Missing\n"
	  "  pull-image postgres:16 Missing\n"
	  "  pull-image shop/app:1 Missing\n"
	  "  create-container shop-db Missing\n"
	  "  create-container shop-migrate Missing\n"
	  "  create-container shop-app Missing\n", 0, 0 },
	{ "converged host: nothing to do", c_converged, "shop converged\n", 1, 0 },
	{ "container stopped by hand: start", c_stopped,
	  "shop apply\n  start-container shop-app Stopped\n", 1, 0 },
	{ "container created but never started: start", c_created_only,
	  "shop apply\n  start-container shop-db Stopped\n", 1, 0 },
	{ "network removed by hand: created again, running containers reconnected",
	  c_network_removed,
	  "shop apply\n  create-network cara-shop Missing\n"
	  "  connect-container shop-db NetworkDisconnected\n"
	  "  connect-container shop-app NetworkDisconnected\n", 1, 0 },
	{ "a container disconnected by hand is connected again", c_disconnected,
	  "shop apply\n  connect-container shop-app NetworkDisconnected\n", 1, 0 },
	{ "a stopped container whose network is gone is recreated (a start would fail)",
	  c_network_removed_stopped,
	  "shop apply\n  create-network cara-shop Missing\n"
	  "  recreate-container shop-db NetworkDisconnected [network]\n"
	  "  connect-container shop-app NetworkDisconnected\n", 1, 0 },
	{ "paused container: unpause, not recreate", c_paused,
	  "shop apply\n  start-container shop-db Paused\n", 1, 0 },
	{ "dead container: start", c_dead,
	  "shop apply\n  start-container shop-db Stopped\n", 1, 0 },
	{ "long-running service exited 0: start", c_long_running_exit0,
	  "shop apply\n  start-container shop-db Stopped\n", 1, 0 },
	{ "on-failure service exited 0: finished, nothing to do", c_on_failure_done,
	  "shop converged\n", 1, 0 },
	{ "on-failure service exited 2: start", c_on_failure_failed,
	  "shop apply\n  start-container shop-db Stopped\n", 1, 0 },
	{ "restarting container: the Engine handles it", c_restarting,
	  "shop converged\n", 1, 0 },
	{ "container removed by hand: create", c_removed_by_hand,
	  "shop apply\n  create-container shop-app Missing\n", 1, 0 },
	{ "image changed: pull and recreate [image]", c_image_changed,
	  "shop apply\n"
	  "  pull-image shop/app:2 Missing\n"
	  "  recreate-container shop-app SpecChanged [image]\n", 1, 0 },
	{ "env changed: recreate [env]", c_env_changed,
	  "shop apply\n  recreate-container shop-app SpecChanged [env]\n", 1, 0 },
	{ "drift outside the spec hash (image id, health): nothing", c_host_drift,
	  "shop converged\n", 1, 0 },
	{ "container without cara.spec-hash: recreate, every group", c_no_hash_label,
	  "shop apply\n  recreate-container shop-db SpecChanged [image,command,"
	  "entrypoint,workingDir,user,env,mounts,ports,healthcheck,restart,"
	  "stopGracePeriod,labels,resources,network]\n", 1, 0 },
	{ "job exited 1: start again", c_job_failed,
	  "shop apply\n  start-container shop-migrate JobFailed\n", 1, 0 },
	{ "job created, never run: start", c_job_created,
	  "shop apply\n  start-container shop-migrate Stopped\n", 1, 0 },
	{ "job still running: nothing", c_job_running, "shop converged\n", 1, 0 },
	{ "job spec changed after success: recreate (runs once per spec)",
	  c_job_spec_changed,
	  "shop apply\n  recreate-container shop-migrate SpecChanged [command]\n", 1, 0 },
	{ "expireAt reached: teardown, Managed volume kept", c_expired,
	  "shop teardown Expired\n"
	  "  remove-container shop-app Expired\n"
	  "  remove-container shop-migrate Expired\n"
	  "  remove-container shop-db Expired\n"
	  "  remove-network cara-shop Expired\n"
	  "  remove-volume cara-shop-cache Expired\n", 1, 0 },
	{ "expireAt reached with purge: Managed volume too", c_expired_purge,
	  "shop teardown Expired\n"
	  "  remove-container shop-app Expired\n"
	  "  remove-container shop-migrate Expired\n"
	  "  remove-container shop-db Expired\n"
	  "  remove-network cara-shop Expired\n"
	  "  remove-volume cara-shop-data Expired\n"
	  "  remove-volume cara-shop-cache Expired\n", 1, 0 },
	{ "expireAt reached in gc: teardown", c_expired_gc,
	  "shop teardown Expired\n"
	  "  remove-container shop-app Expired\n"
	  "  remove-container shop-migrate Expired\n"
	  "  remove-container shop-db Expired\n"
	  "  remove-network cara-shop Expired\n"
	  "  remove-volume cara-shop-cache Expired\n", 1, 0 },
	{ "expired with a stray container: stray first", c_expired_stray,
	  "shop teardown Expired\n"
	  "  remove-container shop-old Expired\n"
	  "  remove-container shop-app Expired\n"
	  "  remove-container shop-migrate Expired\n"
	  "  remove-container shop-db Expired\n"
	  "  remove-network cara-shop Expired\n"
	  "  remove-volume cara-shop-cache Expired\n", 1, 0 },
	{ "expireAt in the future: normal", c_expire_future, "shop converged\n", 1, 0 },
	{ "expired and nothing on the host: gone", c_expired_nothing,
	  "shop gone Expired\n", 0, 0 },
	{ "expired, only a kept Managed volume left: gone", c_expired_managed_left,
	  "shop gone Expired\n", 0, 0 },
	{ "invalid project: no action at all, even with drift", c_invalid,
	  "shop invalid\n", 1, 0 },
	{ "invalid and expired project: still no action", c_invalid_expired,
	  "shop invalid\n", 1, 0 },
	{ "invalid duplicate of a project: no action", c_invalid_duplicate,
	  "shop invalid\n", 1, 0 },
	{ "invalid project not on the host: no action", c_invalid_not_on_host,
	  "shop invalid\n", 0, 0 },
	{ "project removed from source: teardown", c_removed_from_source,
	  SHOP_TEARDOWN, 1, 1 },
	{ "project removed from source with purge", c_removed_purge,
	  "shop teardown RemovedFromSource\n"
	  "  remove-container shop-db RemovedFromSource\n"
	  "  remove-container shop-migrate RemovedFromSource\n"
	  "  remove-container shop-app RemovedFromSource\n"
	  "  remove-network cara-shop RemovedFromSource\n"
	  "  remove-volume cara-shop-data RemovedFromSource\n"
	  "  remove-volume cara-shop-cache RemovedFromSource\n", 1, 1 },
	{ "removed from an incomplete source: left alone", c_removed_incomplete,
	  "", 1, 0 },
	{ "removed from source without prune: left alone", c_removed_no_prune,
	  "", 1, 0 },
	{ "cara's labels on the host, unknown to this state: left alone, not counted",
	  c_removed_unknown, "", 0, 0 },
	{ "removed beside another state's project: 1 of 1 managed removed",
	  c_removed_beside_foreign,
	  SHOP_TEARDOWN, 1, 1 },
	{ "removed while another project is invalid: nothing pruned",
	  c_removed_other_invalid, "other invalid\n", 1, 0 },
	{ "removed from source in gc: teardown", c_removed_gc,
	  SHOP_TEARDOWN, 1, 1 },
	{ "removed, only a kept Managed volume left: gone, not counted",
	  c_removed_managed_left, "shop gone RemovedFromSource\n", 0, 0 },
	{ "removed: a volume without a known type is kept", c_removed_untyped_volume,
	  "shop teardown RemovedFromSource\n"
	  "  remove-volume cara-shop-tmp RemovedFromSource\n", 1, 1 },
	{ "service removed: its container goes first", c_service_removed,
	  "shop apply\n"
	  "  remove-container shop-old ServiceRemoved\n"
	  "  create-container shop-db Missing\n", 1, 0 },
	{ "volume removed: Ephemeral removed, Managed kept", c_volume_removed,
	  "shop apply\n  remove-volume cara-shop-tmp RemovedFromSource\n", 1, 0 },
	{ "gc only: no create on an empty host", c_gc_only, "shop converged\n", 0, 0 },
	{ "gc only: drift not repaired", c_gc_only_drift, "shop converged\n", 1, 0 },
	{ "known from state, nothing left: gone", c_known_gone,
	  "old gone RemovedFromSource\nshop converged\n", 1, 0 },
	{ "known from state without prune: not listed", c_known_no_prune,
	  "shop converged\n", 1, 0 },
	{ "known from state, incomplete source: not listed", c_known_incomplete,
	  "shop converged\n", 1, 0 },
	{ "two projects sorted by name", c_two_projects,
	  "alpha apply\n"
	  "  create-network cara-alpha Missing\n"
	  "  create-volume cara-alpha-data Missing\n"
	  "  create-volume cara-alpha-cache Missing\n"
	  "  create-container alpha-db Missing\n"
	  "  create-container alpha-migrate Missing\n"
	  "  create-container alpha-app Missing\n"
	  "zeta apply\n"
	  "  recreate-container zeta-web SpecChanged [image,command,entrypoint,"
	  "workingDir,user,env,mounts,ports,healthcheck,restart,stopGracePeriod,"
	  "labels,resources,network]\n", 1, 0 },
	{ "incomplete source: projects in it still applied",
	  c_incomplete_desired_still_applied,
	  "shop apply\n  start-container shop-app Stopped\n", 1, 0 },
	{ "untagged image present as :latest: no pull, no recreate", c_image_untagged,
	  "shop converged\n", 1, 0 },
};

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	shop(&f->set, "shop");
	recompute(f);
	f->opts.prune = true;
	f->opts.known = &f->known;
	f->now = NOW;
}

static void fixture_release(struct fixture *f)
{
	project_set_release(&f->set);
	observed_release(&f->obs);
	strvec_release(&f->known);
}

/*
 * Several networks: "web" on front (alias www) and back, "db" on back
 * (internal) only, "edge" on the default network and an External one.
 */
static struct project *netted(struct project_set *set)
{
	struct project *p = tb_project(set, "net");
	struct service *web, *db, *edge;

	tb_network(p, "front", NULL, false);
	tb_network(p, "back", NULL, true);
	tb_network(p, "spare", NULL, false);
	tb_network(p, "proxy", "traefik-public", false);
	web = tb_service(p, "web", "web:1");
	tb_join(web, "front", "www");
	tb_join(web, "back", NULL);
	db = tb_service(p, "db", "db:1");
	tb_join(db, "back", NULL);
	edge = tb_service(p, "edge", "edge:1");
	tb_join(edge, NETWORK_DEFAULT, NULL);
	tb_join(edge, "proxy", NULL);
	return p;
}

/* The host as a pass leaves net: its networks, each container on them. */
static void converge_netted(struct fixture *f, bool back_internal)
{
	static const char *const on[][2] = {
		{ "web", "net-net_back net-net_front" },
		{ "db", "net-net_back" },
		{ "edge", "net-net_default" },
	};
	const struct project *p = find_p(f, "net");
	size_t i;

	tb_obs_net(&f->obs, "net", "default", false);
	tb_obs_net(&f->obs, "net", "front", false);
	tb_obs_net(&f->obs, "net", "back", back_internal);
	for (i = 0; i < ARRAY_SIZE(on); i++) {
		const struct service *s = project_find_service(p, on[i][0]);
		struct obs_container *c;

		observed_add_image(&f->obs, s->image);
		c = tb_obs_container(&f->obs, "net", s->name, s->spec_hash,
				     s->spec_fields, "running", 0);
		tb_set(&c->networks, on[i][1]);
	}
	observed_sort(&f->obs);
}

static void test_networks(void)
{
	struct fixture f;
	struct plan p = PLAN_INIT;
	struct buf b = BUF_INIT;
	struct service *web;
	char *hash;

	memset(&f, 0, sizeof(f));
	netted(&f.set);
	recompute(&f);
	f.opts.prune = true;
	f.opts.known = &f.known;
	f.now = NOW;

	/* each network a service joins, once; an External one never */
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	render(&b, &p);
	is_str(buf_cstr(&b), "net apply\n"
	       "  create-network cara-net Missing\n"
	       "  create-network cara-net_front Missing\n"
	       "  create-network cara-net_back Missing\n"
	       "  pull-image web:1 Missing\n"
	       "  pull-image db:1 Missing\n"
	       "  pull-image edge:1 Missing\n"
	       "  create-container net-web Missing\n"
	       "  create-container net-db Missing\n"
	       "  create-container net-edge Missing\n",
	       "the networks joined are made, not spare, not the External one");
	ok(p.nactions > 2 && p.actions[2].net && p.actions[2].net->internal,
	   "the create of back carries its settings (internal)");
	plan_release(&p);

	converge_netted(&f, true);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	render(&b, &p);
	is_str(buf_cstr(&b), "net converged\n", "converged on several networks");
	plan_release(&p);

	/* disconnected from one of its networks by hand: connected again */
	tb_set(&tb_obs_find(&f.obs, "net", "web")->networks, "net-net_front");
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	render(&b, &p);
	is_str(buf_cstr(&b), "net apply\n"
	       "  connect-container net-web NetworkDisconnected\n",
	       "disconnected from back: one connect");
	ok(p.nactions == 1 && p.actions[0].network &&
	   !strcmp(p.actions[0].network, "cara-net_back"),
	   "the connect names the network: %s",
	   p.nactions ? p.actions[0].network : "none");
	plan_release(&p);
	observed_release(&f.obs);

	/* the network's internal setting changed: made again, with the
	 * containers on it, the others left alone */
	converge_netted(&f, false);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	render(&b, &p);
	is_str(buf_cstr(&b), "net apply\n"
	       "  remove-container net-db SpecChanged\n"
	       "  remove-container net-web SpecChanged\n"
	       "  remove-network cara-net_back SpecChanged\n"
	       "  create-network cara-net_back Missing\n"
	       "  create-container net-web Missing\n"
	       "  create-container net-db Missing\n",
	       "internal changed: back and what is on it made again");
	plan_release(&p);
	observed_release(&f.obs);

	/* web leaves front: recreated, and front removed after it */
	converge_netted(&f, true);
	web = find_s(&f, "net", "web");
	hash = xstrdup(web->spec_hash);
	free(web->nets[0].name);
	strvec_release(&web->nets[0].aliases);
	web->nets[0] = web->nets[1];
	web->nnets = 1;
	recompute(&f);
	ok(strcmp(hash, web->spec_hash) != 0, "the networks joined are in the hash");
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	render(&b, &p);
	is_str(buf_cstr(&b), "net apply\n"
	       "  recreate-container net-web SpecChanged [network]\n"
	       "  remove-network cara-net_front NetworkUnused\n",
	       "a network no service joins goes, after its last container");
	plan_release(&p);
	free(hash);

	/* an alias on one network changes the hash */
	hash = xstrdup(web->spec_hash);
	strvec_push(&web->nets[0].aliases, "api");
	recompute(&f);
	ok(strcmp(hash, web->spec_hash) != 0, "an alias on a network is in the hash");
	free(hash);

	/* teardown: cara's networks go, the External one is not cara's */
	find_p(&f, "net")->has_expire = true;
	find_p(&f, "net")->expire_at = NOW;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	render(&b, &p);
	ok(strstr(buf_cstr(&b), "remove-network cara-net_back Expired") &&
	   strstr(buf_cstr(&b), "remove-network cara-net_front Expired") &&
	   !strstr(buf_cstr(&b), "traefik"), "teardown removes cara's networks "
	   "only: %s", buf_cstr(&b));
	plan_release(&p);
	fixture_release(&f);

	/* another project's network of a name this one needs: left alone */
	memset(&f, 0, sizeof(f));
	netted(&f.set);
	recompute(&f);
	f.opts.known = &f.known;
	f.now = NOW;
	tb_set(&tb_obs_net(&f.obs, "other", "x", false)->name, "cara-net_front");
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	ok(p.nprojects && p.projects[0].verdict == VERDICT_REFUSED &&
	   strstr(p.projects[0].message, "cara-net_front"),
	   "a made network's name taken by another project: refused (%s)",
	   p.nprojects && p.projects[0].message ? p.projects[0].message : "");
	plan_release(&p);
	fixture_release(&f);
	buf_release(&b);
}


static void test_cases(void)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fixture f;
		struct plan p = PLAN_INIT;

		fixture_init(&f);
		cases[i].setup(&f);
		ok(plan_compute(&p, &f.set, &f.obs, f.now, &f.opts) == 0,
		   "%s: planned", cases[i].name);
		render(&b, &p);
		is_str(buf_cstr(&b), cases[i].want, "%s", cases[i].name);
		if (p.nmanaged != cases[i].nmanaged || p.nremoved != cases[i].nremoved)
			printf("#   nmanaged %zu nremoved %zu\n", p.nmanaged, p.nremoved);
		ok(p.nmanaged == cases[i].nmanaged && p.nremoved == cases[i].nremoved,
		   "%s: %zu managed, %zu removed", cases[i].name, cases[i].nmanaged,
		   cases[i].nremoved);
		ok(plan_is_empty(&p) == !strstr(cases[i].want, "\n  "),
		   "%s: plan_is_empty", cases[i].name);
		plan_release(&p);
		fixture_release(&f);
	}
	buf_release(&b);
}

static const struct plan_project *plan_one(struct plan *p, struct fixture *f)
{
	plan_release(p);
	plan_compute(p, &f->set, &f->obs, f->now, &f->opts);
	return p->nprojects == 1 ? &p->projects[0] : NULL;
}

/* Only what this state's identity made (or adopted) is touched. */
static void test_ownership(void)
{
	struct fixture f;
	struct plan p = PLAN_INIT;
	struct strvec adoptions = STRVEC_INIT, adopt = STRVEC_INIT;
	const struct plan_project *pp;

	fixture_init(&f);
	f.opts.owner = "me";
	f.opts.adoptions = &adoptions;
	f.opts.adopt = &adopt;
	converge(&f, find_p(&f, "shop"));
	tb_obs_own(&f.obs, "shop", "me");
	pp = plan_one(&p, &f);
	ok(pp && pp->verdict == VERDICT_CONVERGED, "our own objects: converged");

	tb_obs_own(&f.obs, "shop", "them");
	tb_obs_set_state(&f.obs, "shop", "db", "exited", 1);
	pp = plan_one(&p, &f);
	ok(pp && pp->verdict == VERDICT_REFUSED && p.nactions == 0,
	   "another state's objects: refused, not even started");
	ok(pp && pp->message && strstr(pp->message, "another cara state (them; this one is me)") &&
	   strstr(pp->message, "--adopt shop"), "the message names both: %s",
	   pp && pp->message ? pp->message : "");
	find_p(&f, "shop")->has_expire = true;
	find_p(&f, "shop")->expire_at = NOW - 1;
	pp = plan_one(&p, &f);
	ok(pp && pp->verdict == VERDICT_REFUSED && p.nactions == 0,
	   "a past expireAt does not tear down another state's objects");
	find_p(&f, "shop")->has_expire = false;
	strvec_push(&f.known, "shop");
	find_p(&f, "shop")->name[0] = 'x';    /* gone from the source */
	plan_one(&p, &f);
	ok(p.nprojects == 1 && !strcmp(p.projects[0].name, "xhop") && !p.nremoved &&
	   p.projects[0].count == p.nactions,
	   "a known project gone from the source: another state's objects are not pruned");
	find_p(&f, "xhop")->name[0] = 's';
	strvec_release(&f.known);

	tb_obs_own(&f.obs, "shop", NULL);
	pp = plan_one(&p, &f);
	ok(pp && pp->verdict == VERDICT_REFUSED && strstr(pp->message, "no owner"),
	   "objects without an owner label, not adopted: refused");
	strvec_push(&adoptions, "shop\t");
	pp = plan_one(&p, &f);
	ok(pp && pp->verdict == VERDICT_APPLY && !pp->adopted.n,
	   "adopted at the upgrade: ours, the stopped one is started");
	strvec_release(&adoptions);

	tb_obs_own(&f.obs, "shop", "them");
	strvec_push(&adopt, "shop");
	pp = plan_one(&p, &f);
	ok(pp && pp->verdict == VERDICT_APPLY && pp->adopted.n == 1 &&
	   !strcmp(pp->adopted.v[0], "them"), "--adopt takes it over, naming the owner");
	{
		struct buf b = BUF_INIT;

		render(&b, &p);
		ok(strstr(buf_cstr(&b), "recreate-container shop-app Adopted [owner]") &&
		   strstr(buf_cstr(&b), "recreate-container shop-db Adopted [owner]"),
		   "adopted containers are recreated with this state's label: %s",
		   buf_cstr(&b));
		buf_release(&b);
	}
	tb_obs_own(&f.obs, "shop", NULL);
	pp = plan_one(&p, &f);
	{
		struct buf b = BUF_INIT;

		render(&b, &p);
		ok(pp && pp->verdict == VERDICT_APPLY &&
		   strstr(buf_cstr(&b), "recreate-container shop-db Adopted"),
		   "--adopt of unlabelled objects labels the containers too");
		buf_release(&b);
	}
	strvec_push(&adoptions, "shop\t");
	strvec_release(&adopt);
	tb_obs_set_state(&f.obs, "shop", "db", "running", 0);
	pp = plan_one(&p, &f);
	ok(pp && pp->verdict == VERDICT_CONVERGED,
	   "objects without a label, adopted at the upgrade, are not recreated for it");
	strvec_release(&adoptions);
	strvec_release(&adopt);
	plan_release(&p);
	fixture_release(&f);

	/* project a's volume b-c and project a-b's volume c: one Docker name */
	fixture_init(&f);
	f.opts.owner = "me";
	converge(&f, find_p(&f, "shop"));
	tb_obs_own(&f.obs, "shop", "me");
	{
		/* cara-shop-data, labelled for project shop-x */
		struct obs_volume *v = tb_obs_volume(&f.obs, "shop", "data", "Managed");

		tb_set(&v->project, "shop-x");
		tb_set(&v->owner, "me");
		tb_set(&f.obs.volumes[0].name, "cara-shop-gone");   /* ours is gone */
	}
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	pp = p.nprojects ? &p.projects[0] : NULL;
	ok(pp && !strcmp(pp->name, "shop") && pp->verdict == VERDICT_REFUSED &&
	   strstr(pp->message, "volume 'cara-shop-data' belongs to project 'shop-x'"),
	   "a volume of the name labelled for another project is never mounted");
	plan_release(&p);
	fixture_release(&f);

	/* a container renamed by hand, labels intact: a duplicate */
	fixture_init(&f);
	converge(&f, find_p(&f, "shop"));
	{
		struct obs_container *c = tb_obs_find(&f.obs, "shop", "app");

		tb_set(&c->name, "renamed-by-hand");
	}
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	{
		struct buf b = BUF_INIT;

		render(&b, &p);
		ok(strstr(buf_cstr(&b), "remove-container renamed-by-hand Duplicate") &&
		   strstr(buf_cstr(&b), "create-container shop-app Missing"),
		   "a renamed container is removed, the service gets its own: %s",
		   buf_cstr(&b));
		buf_release(&b);
	}
	plan_release(&p);
	fixture_release(&f);
}

/* Ephemeral -> Managed: the label cannot change, teardown obeys the source. */
/* shop's app also mounts External volume "shared", really "shared-data". */
static void add_external(struct fixture *f, const char *real)
{
	struct project *p = find_p(f, "shop");
	struct volume *v = tb_volume(p, "shared", VOLUME_EXTERNAL, NULL);

	tb_set(&v->external_name, real);
	tb_mount(find_s(f, "shop", "app"), "shared", "/shared");
	recompute(f);
}

/* An External volume gets no action: never created, never removed. */
static void test_external_volume(void)
{
	struct fixture f;
	struct plan p = PLAN_INIT;
	struct buf b = BUF_INIT;
	char *hash;

	fixture_init(&f);
	add_external(&f, "shared-data");
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	render(&b, &p);
	ok(strstr(buf_cstr(&b), "create-volume cara-shop-data") &&
	   !strstr(buf_cstr(&b), "shared"), "a new project: not created: %s",
	   buf_cstr(&b));
	plan_release(&p);

	converge(&f, find_p(&f, "shop"));
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	render(&b, &p);
	is_str(buf_cstr(&b), "shop converged\n", "converged: no action for it");
	plan_release(&p);

	hash = xstrdup(find_s(&f, "shop", "app")->spec_hash);
	tb_set(&find_p(&f, "shop")->volumes[3].external_name, "other-data");
	recompute(&f);
	ok(strcmp(hash, find_s(&f, "shop", "app")->spec_hash) != 0,
	   "the real name is in the spec hash");
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	render(&b, &p);
	ok(strstr(buf_cstr(&b), "recreate-container shop-app SpecChanged [mounts]") &&
	   !strstr(buf_cstr(&b), "volume"), "another real name: app recreated, "
	   "no volume action: %s", buf_cstr(&b));
	plan_release(&p);
	free(hash);

	f.opts.purge_volumes = true;
	expire(&f, NOW);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	render(&b, &p);
	ok(strstr(buf_cstr(&b), "remove-volume cara-shop-data Expired") &&
	   !strstr(buf_cstr(&b), "shared") && !strstr(buf_cstr(&b), "other-data"),
	   "teardown with --purge-volumes: not removed: %s", buf_cstr(&b));
	plan_release(&p);

	project_set_release(&f.set);
	strvec_push(&f.known, "shop");
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	render(&b, &p);
	ok(strstr(buf_cstr(&b), "remove-volume cara-shop-data RemovedFromSource") &&
	   !strstr(buf_cstr(&b), "shared") && !strstr(buf_cstr(&b), "other-data"),
	   "removed from the source with --purge-volumes: not removed: %s",
	   buf_cstr(&b));
	plan_release(&p);
	fixture_release(&f);

	/* left out of the file: nothing on the host is cara's to remove */
	fixture_init(&f);
	add_external(&f, "shared-data");
	converge(&f, find_p(&f, "shop"));
	find_p(&f, "shop")->nvolumes--;
	free(find_p(&f, "shop")->volumes[3].name);
	free(find_p(&f, "shop")->volumes[3].external_name);
	find_s(&f, "shop", "app")->nmounts--;
	free(find_s(&f, "shop", "app")->mounts[2].name);
	free(find_s(&f, "shop", "app")->mounts[2].mount_path);
	recompute(&f);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	render(&b, &p);
	ok(strstr(buf_cstr(&b), "recreate-container shop-app") &&
	   !strstr(buf_cstr(&b), "volume"), "dropped from the file: only the "
	   "container changes: %s", buf_cstr(&b));
	plan_release(&p);
	fixture_release(&f);
	buf_release(&b);
}

static void test_volume_type_change(void)
{
	struct fixture f;
	struct plan p = PLAN_INIT;
	struct strvec types = STRVEC_INIT;
	struct buf b = BUF_INIT;
	struct project *shop;
	size_t i;

	fixture_init(&f);
	shop = find_p(&f, "shop");
	converge(&f, shop);
	for (i = 0; i < shop->nvolumes; i++)
		if (!strcmp(shop->volumes[i].name, "cache"))
			shop->volumes[i].type = VOLUME_MANAGED;
	recompute(&f);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	render(&b, &p);
	ok(strstr(buf_cstr(&b), "retype-volume cara-shop-cache TypeChanged\n") != NULL,
	   "the plan shows the type change: %s", buf_cstr(&b));
	plan_release(&p);
	shop->has_expire = true;
	shop->expire_at = NOW - 1;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	buf_reset(&b);
	render(&b, &p);
	ok(strstr(buf_cstr(&b), "teardown") && !strstr(buf_cstr(&b), "remove-volume cara-shop-cache"),
	   "an expired project keeps the volume it now declares Managed: %s", buf_cstr(&b));
	plan_release(&p);
	shop->name[0] = 'x';            /* gone from the source */
	strvec_push(&f.known, "shop");
	strvec_push(&types, "cara-shop-cache\tManaged");
	f.opts.volume_types = &types;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	buf_reset(&b);
	render(&b, &p);
	ok(strstr(buf_cstr(&b), "remove-container shop-app") &&
	   !strstr(buf_cstr(&b), "remove-volume cara-shop-cache"),
	   "removed from the source: the recorded type keeps it: %s", buf_cstr(&b));
	plan_release(&p);
	strvec_release(&types);
	strvec_push(&types, "cara-shop-cache\tEphemeral");
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	buf_reset(&b);
	render(&b, &p);
	ok(strstr(buf_cstr(&b), "remove-volume cara-shop-cache") != NULL,
	   "without a Managed record the Ephemeral one goes");
	plan_release(&p);
	strvec_release(&types);
	buf_release(&b);
	fixture_release(&f);
}

/* The mass-prune guard is the planner's: pure, and diff says what sync does. */
/* How many actions of kind k (and cause c, unless c < 0) the plan holds. */
static size_t count_kind(const struct plan *p, enum action_kind k, int c)
{
	size_t i, n = 0;

	for (i = 0; i < p->nactions; i++)
		n += p->actions[i].kind == k && (c < 0 || (int)p->actions[i].cause == c);
	return n;
}

/*
 * The planner asks the backend what it does itself: with a backend that
 * pulls its own images and cannot start a stopped workload (as a Swarm
 * service cannot), the same source plans no pull and replaces instead of
 * starting.  No Docker: the capability set alone decides.
 */
static void test_backend_caps(void)
{
	static const struct backend_caps fake = {
		.name = "fake", .pulls_images = true, .starts_stopped = false,
	};
	struct fixture f;
	struct plan p = PLAN_INIT;

	fixture_init(&f);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	ok(count_kind(&p, ACTION_PULL_IMAGE, -1) > 0 &&
	   count_kind(&p, ACTION_CREATE_CONTAINER, -1) == 3,
	   "the Engine (default caps): images pulled, then three creates");
	plan_release(&p);
	f.opts.caps = &fake;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	ok(count_kind(&p, ACTION_PULL_IMAGE, -1) == 0 &&
	   count_kind(&p, ACTION_CREATE_CONTAINER, -1) == 3,
	   "a backend that pulls itself: no pull action, the same creates");
	plan_release(&p);

	converge(&f, find_p(&f, "shop"));
	tb_obs_set_state(&f.obs, "shop", "app", "exited", 137);
	tb_obs_set_state(&f.obs, "shop", "db", "paused", 0);
	f.opts.caps = &backend_engine_caps;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	ok(count_kind(&p, ACTION_START_CONTAINER, CAUSE_STOPPED) == 1 &&
	   count_kind(&p, ACTION_START_CONTAINER, CAUSE_PAUSED) == 1 &&
	   count_kind(&p, ACTION_RECREATE_CONTAINER, -1) == 0,
	   "the Engine starts the stopped one and unpauses the paused one");
	plan_release(&p);
	f.opts.caps = &fake;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	ok(count_kind(&p, ACTION_START_CONTAINER, -1) == 0 &&
	   count_kind(&p, ACTION_RECREATE_CONTAINER, CAUSE_STOPPED) == 1 &&
	   count_kind(&p, ACTION_RECREATE_CONTAINER, CAUSE_PAUSED) == 1,
	   "a backend that cannot start: both replaced, with the same causes");
	plan_release(&p);
	fixture_release(&f);
}

/* Find project name in plan p, or NULL. */
static const struct plan_project *plan_find(const struct plan *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nprojects; i++)
		if (!strcmp(p->projects[i].name, name))
			return &p->projects[i];
	return NULL;
}

/*
 * A healthcheck's startInterval on a backend that cannot carry it (an
 * Engine older than API 1.44): the project is refused, EngineTooOld, with
 * no action at all (its running containers stay), while the others are
 * planned as ever; one that can carry it recreates the changed service.
 */
static void test_start_interval_caps(void)
{
	static const struct backend_caps old = {
		.name = "engine", .starts_stopped = true, .api = "1.41",
		.start_interval_needs = "Docker Engine 25 or newer (API 1.44)",
	};
	static const struct backend_caps none = { .name = "fake" };
	static const struct backend_caps new = {
		.name = "engine", .starts_stopped = true,
		.health_start_interval = true, .api = "1.44",
	};
	struct fixture f;
	struct plan p = PLAN_INIT;
	const struct plan_project *pp, *blog;
	struct service *db;

	fixture_init(&f);
	shop(&f.set, "blog");
	converge(&f, find_p(&f, "shop"));
	converge(&f, find_p(&f, "blog"));
	db = find_s(&f, "shop", "db");
	db->health.present = true;
	strvec_push(&db->health.test, "CMD");
	strvec_push(&db->health.test, "true");
	db->health.start_interval_ms = 1000;
	db->health.start_interval_pos.line = 12;
	db->health.start_interval_pos.col = 7;
	tb_set(&find_p(&f, "shop")->file, "shop/compose.yaml");
	tb_set(&find_s(&f, "blog", "app")->image, "shop/app:2");
	recompute(&f);

	f.opts.caps = &old;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	pp = plan_find(&p, "shop");
	blog = plan_find(&p, "blog");
	ok(pp && pp->verdict == VERDICT_REFUSED && pp->refusal == REFUSAL_ENGINE_TOO_OLD &&
	   pp->count == 0, "API 1.41: the project with startInterval is refused, "
	   "no action");
	is_str(reason_name(phase_refusal_reason(pp ? pp->refusal : REFUSAL_OWNED_ELSEWHERE)),
	       "EngineTooOld", "  its reason");
	ok(pp && pp->message && strstr(pp->message, "service 'db' (shop/compose.yaml:12:7)") &&
	   strstr(pp->message, "startInterval (compose: start_interval)") &&
	   strstr(pp->message, "API 1.44") && strstr(pp->message, "speaks API 1.41"),
	   "  the message names the service, the field and the API versions: %s",
	   pp && pp->message ? pp->message : "(none)");
	ok(blog && blog->verdict == VERDICT_APPLY && blog->count == p.nactions &&
	   count_kind(&p, ACTION_RECREATE_CONTAINER, CAUSE_SPEC_CHANGED) > 0,
	   "  another project is planned as ever (its actions are all there are)");
	plan_release(&p);

	f.opts.caps = NULL;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	pp = plan_find(&p, "shop");
	ok(pp && pp->verdict == VERDICT_REFUSED && pp->message &&
	   strstr(pp->message, "speaks API (not known)"),
	   "no caps (the Engine's table): refused too");
	plan_release(&p);
	f.opts.caps = &none;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	pp = plan_find(&p, "shop");
	ok(pp && pp->verdict == VERDICT_REFUSED && pp->message &&
	   strstr(pp->message, "of service 'db' (shop/compose.yaml:12:7): not carried "
		  "by backend fake"), "a backend that never carries it: refused, said so");
	plan_release(&p);

	f.opts.caps = &old;
	f.opts.gc_only = true;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	pp = plan_find(&p, "shop");
	ok(!pp || pp->verdict != VERDICT_REFUSED, "gc: nothing applied, nothing refused");
	plan_release(&p);
	f.opts.gc_only = false;

	find_p(&f, "shop")->has_expire = true;
	find_p(&f, "shop")->expire_at = NOW - 1;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	pp = plan_find(&p, "shop");
	ok(pp && pp->verdict == VERDICT_TEARDOWN && pp->count > 0,
	   "expired: torn down as ever (a teardown needs no startInterval)");
	plan_release(&p);
	find_p(&f, "shop")->has_expire = false;

	f.opts.caps = &new;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	pp = plan_find(&p, "shop");
	ok(pp && pp->verdict == VERDICT_APPLY && pp->count == 1 &&
	   p.actions[pp->first].kind == ACTION_RECREATE_CONTAINER &&
	   !strcmp(p.actions[pp->first].service, "db"),
	   "API 1.44: the service with startInterval is recreated");
	plan_release(&p);
	fixture_release(&f);
}

/*
 * A backend that updates in place (a Swarm service): a changed spec is an
 * update of the same workload, with the changed field groups, never a
 * remove and create; replicas are a field group of their own.
 */
static void test_updates_in_place(void)
{
	struct fixture f;
	struct plan p = PLAN_INIT;
	struct service *s;
	size_t i;
	const struct plan_action *a = NULL;

	fixture_init(&f);
	converge(&f, find_p(&f, "shop"));
	s = find_s(&f, "shop", "app");
	tb_set(&s->env[0].value, "db.internal");
	s->has_replicas = true;
	s->replicas = 3;
	recompute(&f);
	f.opts.caps = &backend_swarm_caps;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	for (i = 0; i < p.nactions; i++)
		if (p.actions[i].kind == ACTION_UPDATE_CONTAINER)
			a = &p.actions[i];
	ok(a && count_kind(&p, ACTION_UPDATE_CONTAINER, CAUSE_SPEC_CHANGED) == 1 &&
	   count_kind(&p, ACTION_RECREATE_CONTAINER, -1) == 0 &&
	   count_kind(&p, ACTION_REMOVE_CONTAINER, -1) == 0 &&
	   count_kind(&p, ACTION_PULL_IMAGE, -1) == 0,
	   "swarm: a changed spec is one update, no recreate, no pull");
	ok(a && a->changed.n == 2 && !strcmp(a->changed.v[0], "env") &&
	   !strcmp(a->changed.v[1], "replicas"),
	   "  naming the changed groups: env, replicas");
	is_str(action_kind_name(ACTION_UPDATE_CONTAINER), "update-container",
	       "  its name");
	plan_release(&p);
	f.opts.caps = &backend_engine_caps;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	ok(count_kind(&p, ACTION_RECREATE_CONTAINER, CAUSE_SPEC_CHANGED) == 1 &&
	   count_kind(&p, ACTION_UPDATE_CONTAINER, -1) == 0,
	   "the Engine recreates the same change");
	plan_release(&p);
	fixture_release(&f);
}

/* The project's actions, one "kind object cause[changed]" line each. */
static void actions_of(struct buf *b, const struct plan *p)
{
	size_t i;

	buf_reset(b);
	for (i = 0; i < p->nactions; i++) {
		const struct plan_action *a = &p->actions[i];

		buf_printf(b, "%s %s %s", action_kind_name(a->kind), a->object,
			   action_cause_name(a->cause));
		if (a->kind == ACTION_RESTART_CONTAINER && a->changed.n)
			buf_printf(b, "[%s]", a->changed.v[0]);
		buf_putc(b, ';');
	}
}

/* A dependency's restart: true restarts the dependent after the
 * dependency is (re)started, the dependent's own action standing in. */
static void test_restart_dependents(void)
{
	struct fixture f;
	struct plan p = PLAN_INIT;
	struct buf b = BUF_INIT;
	struct service *app, *migrate, *db;

	fixture_init(&f);
	app = find_s(&f, "shop", "app");
	db = find_s(&f, "shop", "db");
	app->deps[1].restart = true;            /* app on db, restart: true */
	recompute(&f);
	converge(&f, find_p(&f, "shop"));
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	ok(plan_is_empty(&p), "converged: no restart without a change");
	plan_release(&p);

	tb_env(db, "MODE", "fast");
	recompute(&f);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	actions_of(&b, &p);
	is_str(buf_cstr(&b), "recreate-container shop-db SpecChanged;"
	       "restart-container shop-app DependencyRestarted[db];",
	       "db recreated: app (restart: true) restarted after it, the job "
	       "(no restart) left as it ran");
	ok(count_kind(&p, ACTION_RESTART_CONTAINER, -1) == 1 &&
	   p.actions[1].proj && p.actions[1].svc == app &&
	   !strcmp(p.actions[1].object_id, "id-shop-app"),
	   "  the restart names the running container");
	plan_release(&p);

	tb_env(app, "MODE", "fast");
	recompute(&f);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	actions_of(&b, &p);
	is_str(buf_cstr(&b), "recreate-container shop-db SpecChanged;"
	       "recreate-container shop-app SpecChanged;",
	       "app recreated too: its recreate starts it after db, no restart");
	plan_release(&p);
	fixture_release(&f);

	/* transitive: db -> migrate (restart) -> app (restart on migrate) */
	fixture_init(&f);
	app = find_s(&f, "shop", "app");
	migrate = find_s(&f, "shop", "migrate");
	migrate->deps[0].restart = true;
	app->deps[0].restart = true;
	recompute(&f);
	converge(&f, find_p(&f, "shop"));
	tb_obs_set_state(&f.obs, "shop", "db", "exited", 137);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	actions_of(&b, &p);
	is_str(buf_cstr(&b), "start-container shop-db Stopped;"
	       "restart-container shop-migrate DependencyRestarted[db];"
	       "restart-container shop-app DependencyRestarted[migrate];",
	       "db started again: the job runs again, then app restarts after it");
	plan_release(&p);

	tb_obs_set_state(&f.obs, "shop", "db", "paused", 0);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	actions_of(&b, &p);
	is_str(buf_cstr(&b), "start-container shop-db Paused;",
	       "db unpaused: its processes kept, nothing restarted");
	plan_release(&p);

	tb_obs_set_state(&f.obs, "shop", "db", "running", 0);
	tb_obs_remove_container(&f.obs, "shop", "db");
	tb_obs_set_state(&f.obs, "shop", "migrate", "paused", 0);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	actions_of(&b, &p);
	is_str(buf_cstr(&b), "create-container shop-db Missing;"
	       "start-container shop-migrate Paused;",
	       "db made anew: a paused dependent is unpaused, not restarted, "
	       "and nothing restarts after an unpause");
	plan_release(&p);

	tb_obs_set_state(&f.obs, "shop", "migrate", "exited", 0);
	f.opts.caps = &backend_swarm_caps;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	ok(count_kind(&p, ACTION_RESTART_CONTAINER, CAUSE_DEPENDENCY_RESTARTED) == 2,
	   "swarm: the same restarts");
	is_str(action_kind_name(ACTION_RESTART_CONTAINER), "restart-container",
	       "  its name");
	plan_release(&p);
	buf_release(&b);
	fixture_release(&f);
}

/* A restart an earlier pass owed (it was killed after the dependency
 * restarted): planned though nothing changed in this plan. */
static void test_owed_restarts(void)
{
	struct fixture f;
	struct plan p = PLAN_INIT;
	struct buf b = BUF_INIT;
	struct strvec owed = STRVEC_INIT;
	struct service *app;
	size_t i;

	fixture_init(&f);
	app = find_s(&f, "shop", "app");
	app->deps[1].restart = true;
	recompute(&f);
	converge(&f, find_p(&f, "shop"));
	/* sorted, as the state lists them; others' entries around it */
	strvec_push(&owed, "sh\tapp\tdb");
	strvec_push(&owed, "shop\tap\tdb");
	strvec_push(&owed, "shop\tapp\tdb");
	strvec_push(&owed, "shop\tapp2\tdb");
	strvec_push(&owed, "shopx\tapp\tdb");
	f.opts.owed_restarts = &owed;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	actions_of(&b, &p);
	is_str(buf_cstr(&b), "restart-container shop-app DependencyRestarted[db];",
	       "an owed restart is planned on a converged project, and only its own");
	ok(p.nprojects && p.projects[0].verdict == VERDICT_APPLY, "  the project is applied");
	plan_release(&p);

	tb_env(app, "MODE", "fast");
	recompute(&f);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	actions_of(&b, &p);
	is_str(buf_cstr(&b), "recreate-container shop-app SpecChanged;",
	       "a service recreated anyway is not restarted besides");
	plan_release(&p);
	fixture_release(&f);

	fixture_init(&f);
	find_s(&f, "shop", "app")->deps[1].restart = true;
	recompute(&f);
	converge(&f, find_p(&f, "shop"));
	f.opts.owed_restarts = &owed;
	tb_obs_set_state(&f.obs, "shop", "app", "paused", 0);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	actions_of(&b, &p);
	is_str(buf_cstr(&b), "start-container shop-app Paused;",
	       "a paused one is unpaused, as an unpause is a start");
	plan_release(&p);

	tb_obs_remove_container(&f.obs, "shop", "app");
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	ok(count_kind(&p, ACTION_RESTART_CONTAINER, -1) == 0 &&
	   count_kind(&p, ACTION_CREATE_CONTAINER, CAUSE_MISSING) == 1,
	   "a missing one is made, not restarted");
	plan_release(&p);

	/* a thousand debts of other projects: found by search, not scan */
	strvec_release(&owed);
	for (i = 0; i < 1000; i++) {
		char *e = xasprintf("p%04zu\tapp\tdb", i);

		strvec_push_nodup(&owed, e);
	}
	converge(&f, find_p(&f, "shop"));
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	ok(plan_is_empty(&p), "debts of other projects restart nothing here");
	plan_release(&p);
	strvec_release(&owed);
	buf_release(&b);
	fixture_release(&f);
}

static void test_mass_prune_guard(void)
{
	struct fixture f;
	struct plan p = PLAN_INIT;
	const char *gone[] = { "a", "b", "c" };
	size_t i, teardowns = 0;

	fixture_init(&f);
	converge(&f, find_p(&f, "shop"));
	strvec_push(&f.known, "shop");
	for (i = 0; i < ARRAY_SIZE(gone); i++) {
		tb_obs_network(&f.obs, gone[i]);
		strvec_push(&f.known, gone[i]);
	}
	f.opts.mass_guard = true;
	f.opts.mass_prune_percent = 50;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	for (i = 0; i < p.nprojects; i++)
		teardowns += p.projects[i].verdict == VERDICT_TEARDOWN;
	ok(p.mass_refused && p.mass_removed == 3 && p.mass_managed == 4 && !teardowns &&
	   !p.nremoved, "3 of 4 managed projects gone (75%% > 50%%): nothing pruned, said why");
	plan_release(&p);
	f.opts.mass_prune_percent = 75;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	ok(!p.mass_refused && p.nremoved == 3, "at 75%% the same plan prunes the three");
	plan_release(&p);
	f.opts.mass_prune_percent = 50;
	f.opts.mass_guard = false;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	ok(!p.mass_refused && p.nremoved == 3, "without the guard (--allow-mass-prune) too");
	plan_release(&p);
	fixture_release(&f);
}

/* The phase of a project the plan left alone, from the snapshot. */
static void test_phase_observed(void)
{
	struct fixture f;
	struct phase_verdict v;
	struct obs_container *c;

	fixture_init(&f);
	converge(&f, find_p(&f, "shop"));
	phase_observed(&v, "shop", find_p(&f, "shop"), &f.obs);
	ok(v.phase == PHASE_RUNNING && !strcmp(reason_name(v.reason), "ContainersRunning") &&
	   !strcmp(v.message, "3 services up to date"), "converged: Running (%s)", v.message);
	free(v.message);
	c = tb_obs_find(&f.obs, "shop", "db");
	c->health = HEALTH_UNHEALTHY;
	phase_observed(&v, "shop", find_p(&f, "shop"), &f.obs);
	ok(v.phase == PHASE_FAILED && !strcmp(reason_name(v.reason), "HealthcheckFailed") &&
	   !strcmp(v.message, "'db' is unhealthy"), "unhealthy: Failed, HealthcheckFailed");
	free(v.message);
	c->health = HEALTH_HEALTHY;
	tb_obs_set_state(&f.obs, "shop", "app", "exited", 1);
	phase_observed(&v, "shop", find_p(&f, "shop"), &f.obs);
	ok(v.phase == PHASE_FAILED && !strcmp(reason_name(v.reason), "ContainerExited"),
	   "a long-running service exited: Failed, ContainerExited");
	free(v.message);
	tb_obs_set_state(&f.obs, "shop", "app", "running", 0);
	tb_obs_set_state(&f.obs, "shop", "migrate", "exited", 0);
	phase_observed(&v, "shop", find_p(&f, "shop"), &f.obs);
	ok(v.phase == PHASE_RUNNING, "a job that completed is not a failure");
	free(v.message);
	ok(!strcmp(phase_name(PHASE_TERMINATING), "Terminating") &&
	   !strcmp(phase_name(PHASE_PENDING), "Pending"), "phase names");
	fixture_release(&f);
}

/* A kill during a network create can leave two of one name: keep one. */
static void test_duplicate_network(void)
{
	static const char *dup_ids[] = { "net-0first", "net-zlast" };
	size_t k;

	for (k = 0; k < ARRAY_SIZE(dup_ids); k++) {
		struct fixture f;
		struct plan p = PLAN_INIT;
		struct obs_network *n;
		/* the containers are on net-shop: it stays, whatever the ids */
		const char *gone = k == 0 ? "net-0first" : "net-zlast";

		fixture_init(&f);
		converge(&f, find_p(&f, "shop"));
		n = tb_obs_network(&f.obs, "shop");
		tb_set(&n->id, dup_ids[k]);
		observed_sort(&f.obs);
		plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
		ok(p.nactions == 1 && p.actions[0].kind == ACTION_REMOVE_NETWORK &&
		   p.actions[0].cause == CAUSE_DUPLICATE,
		   "duplicate %s: one remove-network Duplicate", dup_ids[k]);
		if (p.nactions == 1)
			is_str(p.actions[0].object_id, gone,
			       "duplicate %s: the one no container is on goes", dup_ids[k]);
		ok(p.nprojects == 1 && p.projects[0].verdict == VERDICT_APPLY,
		   "duplicate %s: the project is applied", dup_ids[k]);
		plan_release(&p);
		fixture_release(&f);
	}
}

/* What apply relies on beyond the rendering: ids, borrowed pointers, slices. */
static void test_action_details(void)
{
	struct fixture f;
	struct plan p = PLAN_INIT;
	const struct plan_action *a;
	size_t i;

	fixture_init(&f);
	c_stopped(&f);
	tb_obs_set_state(&f.obs, "shop", "db", "exited", 0);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	is_int(p.nactions, 2, "two starts");
	for (i = 0; i < p.nactions; i++) {
		a = &p.actions[i];
		ok(a->proj == find_p(&f, "shop") && a->svc &&
		   !strcmp(a->svc->name, a->service), "action %zu borrows project and service", i);
		is_str(a->project, "shop", "action %zu names its project", i);
	}
	if (p.nactions == 2) {
		is_str(p.actions[0].object_id, "id-shop-db", "start carries the observed id");
		is_str(p.actions[0].service, "db", "db starts before app");
	}
	ok(p.nprojects == 1 && p.projects[0].proj == find_p(&f, "shop") &&
	   p.projects[0].first == 0 && p.projects[0].count == 2, "project slice");
	plan_release(&p);
	ok(p.nactions == 0 && p.actions == NULL && p.nprojects == 0,
	   "plan_release leaves an empty plan");
	fixture_release(&f);

	/* teardown of a project gone from the source: ids, no desired pointers */
	fixture_init(&f);
	c_removed_from_source(&f);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	ok(p.nactions == 5, "five teardown actions");
	for (i = 0; i < p.nactions; i++)
		ok(!p.actions[i].proj && !p.actions[i].svc,
		   "teardown action %zu borrows nothing", i);
	if (p.nactions == 5) {
		is_str(p.actions[0].object_id, "id-shop-db", "container removal has its id");
		is_str(p.actions[0].service, "db", "and its service");
		is_str(p.actions[3].object_id, "net-shop", "network removal has its id");
	}
	ok(p.nprojects == 1 && !p.projects[0].proj, "no desired project");
	plan_release(&p);
	fixture_release(&f);

	/* an image shared by two services is pulled once, by the first user */
	fixture_init(&f);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	{
		size_t pulls = 0;

		for (i = 0; i < p.nactions; i++)
			if (p.actions[i].kind == ACTION_PULL_IMAGE &&
			    !strcmp(p.actions[i].object, "shop/app:1"))
				pulls++;
		is_int(pulls, 1, "shop/app:1 is pulled once for app and migrate");
	}
	plan_release(&p);
	fixture_release(&f);
}

/* Pure: the same inputs give the same plan; no options means no pruning. */
static void test_purity(void)
{
	struct fixture f;
	struct plan p1 = PLAN_INIT, p2 = PLAN_INIT;
	struct buf b1 = BUF_INIT, b2 = BUF_INIT;

	fixture_init(&f);
	c_stopped(&f);
	tb_obs_container(&f.obs, "other", "x", "h", "", "running", 0);
	plan_compute(&p1, &f.set, &f.obs, f.now, &f.opts);
	plan_compute(&p2, &f.set, &f.obs, f.now, &f.opts);
	render(&b1, &p1);
	render(&b2, &p2);
	is_str(buf_cstr(&b2), buf_cstr(&b1), "planning twice gives the same plan");
	plan_release(&p2);
	plan_compute(&p2, &f.set, &f.obs, f.now, NULL);
	render(&b2, &p2);
	is_str(buf_cstr(&b2), "shop apply\n  start-container shop-app Stopped\n",
	       "without options nothing is pruned");
	plan_release(&p1);
	plan_release(&p2);
	buf_release(&b1);
	buf_release(&b2);
	fixture_release(&f);
}


static void test_names(void)
{
	static const struct { enum action_kind k; const char *n; } kinds[] = {
		{ ACTION_CREATE_NETWORK, "create-network" },
		{ ACTION_CREATE_VOLUME, "create-volume" },
		{ ACTION_PULL_IMAGE, "pull-image" },
		{ ACTION_BUILD_IMAGE, "build-image" },
		{ ACTION_CREATE_CONTAINER, "create-container" },
		{ ACTION_START_CONTAINER, "start-container" },
		{ ACTION_RECREATE_CONTAINER, "recreate-container" },
		{ ACTION_REMOVE_CONTAINER, "remove-container" },
		{ ACTION_REMOVE_NETWORK, "remove-network" },
		{ ACTION_REMOVE_VOLUME, "remove-volume" },
	};
	static const struct { enum action_cause c; const char *n; } causes[] = {
		{ CAUSE_MISSING, "Missing" }, { CAUSE_STOPPED, "Stopped" },
		{ CAUSE_JOB_FAILED, "JobFailed" }, { CAUSE_SPEC_CHANGED, "SpecChanged" },
		{ CAUSE_SERVICE_REMOVED, "ServiceRemoved" }, { CAUSE_EXPIRED, "Expired" },
		{ CAUSE_REMOVED_FROM_SOURCE, "RemovedFromSource" },
		{ CAUSE_DUPLICATE, "Duplicate" }, { CAUSE_PAUSED, "Paused" },
		{ CAUSE_DISCONNECTED, "NetworkDisconnected" }, { CAUSE_ADOPTED, "Adopted" },
	};
	char *n;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		is_str(action_kind_name(kinds[i].k), kinds[i].n, "kind %s", kinds[i].n);
	for (i = 0; i < ARRAY_SIZE(causes); i++)
		is_str(action_cause_name(causes[i].c), causes[i].n, "cause %s", causes[i].n);
	n = name_network("shop"); is_str(n, "cara-shop", "network name"); free(n);
	n = name_container("shop", "db"); is_str(n, "shop-db", "container name"); free(n);
	n = name_volume("shop", "data"); is_str(n, "cara-shop-data", "volume name"); free(n);
}

/*
 * A long dependsOn chain written in reverse (each service depends on the
 * next one in the file) plans in dependency order and in near-linear time:
 * the planner once ordered services in cubic time, and a 4000-service
 * manifest held the lock for 95 s.  The bound is generous on purpose
 * (a slow or sanitized build); scripts/bench measures the real figure.
 */
static double now_s(void)
{
	return (double)monotonic_ms() / 1000;
}

static void test_long_chain(void)
{
	enum { N = 10000 };
	struct project_set set = PROJECT_SET_INIT;
	struct observed obs = OBSERVED_INIT;
	struct plan pl = PLAN_INIT;
	struct project *p = tb_project(&set, "chain");
	size_t i, ncreate = 0, inorder = 1, prev = N;
	double t0, cold, warm, down;
	char name[32];

	for (i = 0; i < N; i++) {
		struct service *s;

		snprintf(name, sizeof(name), "s%zu", i);
		s = tb_service(p, name, "img:1");
		s->spec_hash = xstrdup("h");
		if (i + 1 < N) {
			snprintf(name, sizeof(name), "s%zu", i + 1);
			tb_dep(s, name, DEP_STARTED);
		}
	}
	t0 = now_s();
	plan_compute(&pl, &set, &obs, 1000, NULL);
	cold = now_s() - t0;
	for (i = 0; i < pl.nactions; i++) {
		const struct plan_action *a = &pl.actions[i];
		size_t k;

		if (a->kind != ACTION_CREATE_CONTAINER)
			continue;
		ncreate++;
		k = (size_t)strtoul(a->service + 1, NULL, 10);
		if (k != prev - 1)
			inorder = 0;
		prev = k;
	}
	ok(ncreate == N && inorder, "a %d-service chain is created last-in-file first "
	   "(%zu creates, in order: %s)", N, ncreate, inorder ? "yes" : "no");
	plan_release(&pl);

	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "s%zu", i);
		tb_obs_container(&obs, "chain", name, "h", "", "running", 0);
	}
	tb_obs_network(&obs, "chain");
	observed_add_image(&obs, "img:1");
	observed_sort(&obs);
	t0 = now_s();
	plan_compute(&pl, &set, &obs, 1000, NULL);
	warm = now_s() - t0;
	ok(plan_is_empty(&pl), "the chain running as declared plans nothing");
	plan_release(&pl);

	p->has_expire = true;
	p->expire_at = 10;
	t0 = now_s();
	plan_compute(&pl, &set, &obs, 1000, NULL);
	down = now_s() - t0;
	ok(pl.nactions == N + 1 && pl.actions[0].kind == ACTION_REMOVE_CONTAINER &&
	   !strcmp(pl.actions[0].service, "s0"),
	   "the expired chain is torn down dependents first (%zu actions, first %s)",
	   pl.nactions, pl.nactions ? pl.actions[0].object : "-");
	plan_release(&pl);
	ok(cold < 20 && warm < 20 && down < 20, "planning a %d-service chain takes "
	   "seconds at most (cold %.3f s, converged %.3f s, teardown %.3f s)",
	   N, cold, warm, down);
	observed_release(&obs);
	project_set_release(&set);
}

/* Set the id of every local reference of ref's repository to id. */
static void set_image_id(struct observed *o, const char *ref, const char *id)
{
	size_t i;

	for (i = 0; i < o->nimages; i++)
		if (!strcmp(o->images[i], ref))
			tb_set(&o->image_ids[i], id);
}

static const struct plan_action *find_action(const struct plan *p, enum action_kind k,
					     const char *object)
{
	size_t i;

	for (i = 0; i < p->nactions; i++)
		if (p->actions[i].kind == k && !strcmp(p->actions[i].object, object))
			return &p->actions[i];
	return NULL;
}

/*
 * A service built from the source (compose build): its image is built
 * when it is not on the host, never pulled, never checked for updates
 * (its tag names its context), and not built again once it is there.
 */
static void test_build_images(void)
{
	struct fixture f;
	struct plan p = PLAN_INIT;
	struct strvec updates = STRVEC_INIT;
	struct service *s;
	const struct plan_action *a;

	fixture_init(&f);
	s = &f.set.v[0].services[0];
	tb_set(&s->image, "cara-build/shop-app:0123456789abcdef");
	s->build = xcalloc(1, sizeof(*s->build));
	s->pull_policy = PULL_NEVER;
	recompute(&f);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	a = find_action(&p, ACTION_BUILD_IMAGE, s->image);
	ok(a && a->svc == s && a->proj == &f.set.v[0], "a missing built image is built");
	ok(!find_action(&p, ACTION_PULL_IMAGE, s->image), "  not pulled");
	ok(a && a < find_action(&p, ACTION_CREATE_CONTAINER, "shop-app"),
	   "  before its container is created");
	plan_release(&p);
	converge(&f, find_p(&f, "shop"));
	observed_add_image_id(&f.obs, s->image, "sha256:built");
	observed_sort(&f.obs);
	strvec_push(&updates, "cara-build/shop-app:0123456789abcdef\tsha256:other");
	f.opts.image_updates = &updates;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	ok(!find_action(&p, ACTION_BUILD_IMAGE, s->image) &&
	   !find_action(&p, ACTION_PULL_IMAGE, s->image),
	   "on the host: not built again, and no update for it");
	plan_release(&p);
	strvec_release(&updates);
	fixture_release(&f);
}

static void test_images(void)
{
	struct fixture f;
	struct plan p = PLAN_INIT;
	struct strvec updates = STRVEC_INIT;
	const struct plan_action *a;
	size_t i, n;

	/* shop/app:1 moved: pulled, app (on the old image) recreated; db and
	 * the finished migrate job left alone */
	fixture_init(&f);
	converge(&f, find_p(&f, "shop"));
	set_image_id(&f.obs, "shop/app:1", "sha256:app1");
	set_image_id(&f.obs, "postgres:16", "sha256:pg");
	observed_add_image_id(&f.obs, "shop/app@sha256:old", "sha256:app1");
	observed_sort(&f.obs);
	tb_set(&tb_obs_find(&f.obs, "shop", "app")->image_id, "sha256:app1");
	tb_set(&tb_obs_find(&f.obs, "shop", "migrate")->image_id, "sha256:app1");
	tb_set(&tb_obs_find(&f.obs, "shop", "db")->image_id, "sha256:pg");
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	is_int(p.nactions, 0, "no update asked: converged");
	plan_release(&p);
	strvec_push(&updates, "shop/app:1\tsha256:new");
	f.opts.image_updates = &updates;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	is_int(p.nactions, 2, "a pull and one recreate");
	a = find_action(&p, ACTION_PULL_IMAGE, "shop/app:1");
	ok(a && a->cause == CAUSE_IMAGE_UPDATED && a->changed.n == 2 &&
	   !strcmp(a->changed.v[0], "sha256:old") && !strcmp(a->changed.v[1], "sha256:new"),
	   "the pull is ImageUpdated with the old and the new digest");
	a = find_action(&p, ACTION_RECREATE_CONTAINER, "shop-app");
	ok(a && a->cause == CAUSE_IMAGE_UPDATED && a->changed.n == 1 &&
	   !strcmp(a->changed.v[0], "image"), "app is recreated: ImageUpdated, image");
	ok(p.nactions == 2 && p.actions[0].kind == ACTION_PULL_IMAGE,
	   "the pull comes before the recreate");
	is_str(action_cause_name(CAUSE_IMAGE_UPDATED), "ImageUpdated", "the cause's name");
	plan_release(&p);

	/* a container on another image than the tag's local one is not the
	 * update's; a spec change wins over the update */
	tb_set(&tb_obs_find(&f.obs, "shop", "app")->image_id, "sha256:older");
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	ok(p.nactions == 1 && p.actions[0].kind == ACTION_PULL_IMAGE,
	   "only the pull when no container runs the old image");
	plan_release(&p);
	tb_set(&tb_obs_find(&f.obs, "shop", "app")->image_id, "sha256:app1");
	tb_set(&tb_obs_find(&f.obs, "shop", "app")->spec_hash, "stale");
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	a = find_action(&p, ACTION_RECREATE_CONTAINER, "shop-app");
	ok(a && a->cause == CAUSE_SPEC_CHANGED, "a spec change is the cause first");
	plan_release(&p);

	/* an update of an image not on the host: a plain pull (Missing) */
	observed_release(&f.obs);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	a = find_action(&p, ACTION_PULL_IMAGE, "shop/app:1");
	ok(a && a->cause == CAUSE_MISSING, "a missing image is pulled as Missing");
	plan_release(&p);
	fixture_release(&f);
	strvec_release(&updates);

	/* Never: the pull is planned for a service that may not pull, which
	 * apply refuses; another service of the image that may pull it wins */
	fixture_init(&f);
	for (i = 0; i < f.set.v[0].nservices; i++)
		f.set.v[0].services[i].pull_policy = PULL_NEVER;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	a = find_action(&p, ACTION_PULL_IMAGE, "shop/app:1");
	ok(a && a->svc && a->svc->pull_policy == PULL_NEVER, "Never: the pull names it");
	plan_release(&p);
	find_s(&f, "shop", "migrate")->pull_policy = PULL_ALWAYS;
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	a = find_action(&p, ACTION_PULL_IMAGE, "shop/app:1");
	ok(a && a->svc && !strcmp(a->svc->name, "migrate"),
	   "a service that may pull the image pulls it");
	for (i = 0, n = 0; i < p.nactions; i++)
		n += p.actions[i].kind == ACTION_PULL_IMAGE;
	is_int(n, 2, "two images, two pulls");
	plan_release(&p);
	fixture_release(&f);
}

/* image@sha256: holds only when a local image of the repo has that digest */
static void test_digest_mismatch(void)
{
	struct observed o = OBSERVED_INIT;
	char *m;

	observed_add_image_id(&o, "reg/app:1", "sha256:id1");
	observed_add_image_id(&o, "reg/app@sha256:d1", "sha256:id1");
	observed_add_image_id(&o, "reg/app:local", "sha256:id2");
	observed_add_image_id(&o, "other/x@sha256:d9", "sha256:id2");
	observed_sort(&o);
	ok(observed_digest_mismatch(&o, "reg/app:1") == NULL, "a tag is not checked");
	ok(observed_digest_mismatch(&o, "reg/app@sha256:d1") == NULL, "the digest is there");
	ok(observed_digest_mismatch(&o, "reg/app:1@sha256:d1") == NULL,
	   "tag and digest: the digest is there");
	ok(observed_digest_mismatch(&o, "nope/y@sha256:d1") == NULL,
	   "no image of the repo: missing, not mismatched");
	m = observed_digest_mismatch(&o, "reg/app@sha256:d2");
	ok(m && !strcmp(m, "image reg/app@sha256:d2: the local image reg/app:1 has digest "
			"sha256:d1, reg/app:local (sha256:id2) has no digest from reg/app, "
			"not sha256:d2"), "both digests named: %s", m ? m : "(null)");
	free(m);
	m = observed_digest_mismatch(&o, "other/x@sha256:d1");
	ok(m && strstr(m, "other/x@sha256:d9 has digest sha256:d9, not sha256:d1"),
	   "a digest of another image of the repo: %s", m ? m : "(null)");
	free(m);
	observed_release(&o);
}

/* ---- placement: this host is n1 (zone=a) ---- */

static const struct kvlist *host_labels(void)
{
	static struct kvlist l;

	if (!l.n && placement_parse_labels(&l, "zone=a") < 0)
		printf("# %s\n", error_last());
	return &l;
}

static void place(struct fixture *f, const char *project, const char *node,
		  const char *selector)
{
	struct project *p = find_p(f, project);

	p->placement.present = true;
	tb_set(&p->placement.node, node);
	kvlist_release(&p->placement.selector);
	if (selector && placement_parse_labels(&p->placement.selector, selector) < 0)
		printf("# %s\n", error_last());
}

/* A plan of the fixture as the host n1 with zone=a makes it, rendered. */
static void plan_on_n1(struct plan *p, struct fixture *f, struct buf *b)
{
	struct placement_host h = { "n1", host_labels() };

	f->opts.host = &h;
	plan_release(p);
	plan_compute(p, &f->set, &f->obs, f->now, &f->opts);
	f->opts.host = NULL;
	render(b, p);
}

#define SHOP_MOVED \
	"shop teardown PlacedElsewhere\n" \
	"  remove-container shop-app PlacedElsewhere\n" \
	"  remove-container shop-migrate PlacedElsewhere\n" \
	"  remove-container shop-db PlacedElsewhere\n" \
	"  remove-network cara-shop PlacedElsewhere\n" \
	"  remove-volume cara-shop-cache PlacedElsewhere\n"

static void test_placement(void)
{
	struct fixture f;
	struct plan p = PLAN_INIT;
	struct buf b = BUF_INIT;
	const char *names[] = { "a", "b", "c" };
	size_t i, teardowns;

	fixture_init(&f);
	place(&f, "shop", "n2", NULL);
	plan_on_n1(&p, &f, &b);
	is_str(buf_cstr(&b), "shop elsewhere\n", "placed on n2, nothing here: "
	       "elsewhere, no action");
	ok(p.nprojects == 1 && p.projects[0].cause == CAUSE_PLACED_ELSEWHERE &&
	   !p.projects[0].held && p.projects[0].message &&
	   !strcmp(p.projects[0].message, "placed on node 'n2' (this host is 'n1')") &&
	   !p.nmanaged && !p.nremoved && !p.nheld && plan_is_empty(&p),
	   "  says where, not counted, not held");
	place(&f, "shop", "N1", NULL);
	plan_on_n1(&p, &f, &b);
	ok(p.nprojects == 1 && p.projects[0].verdict == VERDICT_APPLY,
	   "placed on this host (N1 = n1): applied");
	place(&f, "shop", NULL, "zone=a");
	plan_on_n1(&p, &f, &b);
	ok(p.nprojects == 1 && p.projects[0].verdict == VERDICT_APPLY,
	   "nodeSelector zone=a on a zone=a host: applied");
	place(&f, "shop", NULL, "zone=b");
	plan_on_n1(&p, &f, &b);
	is_str(buf_cstr(&b), "shop elsewhere\n", "nodeSelector zone=b: elsewhere");
	plan_release(&p);
	plan_compute(&p, &f.set, &f.obs, f.now, &f.opts);
	ok(p.nprojects == 1 && p.projects[0].verdict == VERDICT_APPLY,
	   "no host given (opts.host NULL): placement is not checked");

	/* it ran here, this state applied it, and it moved to n2 */
	converge(&f, find_p(&f, "shop"));
	strvec_push(&f.known, "shop");
	place(&f, "shop", "n2", NULL);
	plan_on_n1(&p, &f, &b);
	is_str(buf_cstr(&b), SHOP_MOVED, "moved to n2: torn down here in reverse "
	       "dependency order, the Managed volume kept");
	ok(p.nmanaged == 1 && p.nremoved == 1 && p.projects[0].message,
	   "  counted like a prune, with its reason");
	f.opts.purge_volumes = true;
	plan_on_n1(&p, &f, &b);
	ok(strstr(buf_cstr(&b), "remove-volume cara-shop-data PlacedElsewhere") != NULL,
	   "  --purge-volumes: the Managed volume too");
	f.opts.purge_volumes = false;
	f.opts.gc_only = true;
	plan_on_n1(&p, &f, &b);
	is_str(buf_cstr(&b), SHOP_MOVED, "  gc tears it down too");
	f.opts.gc_only = false;
	f.opts.prune = false;
	plan_on_n1(&p, &f, &b);
	is_str(buf_cstr(&b), "shop elsewhere\n", "  --no-prune: left running here");
	ok(p.projects[0].held && !p.nremoved && plan_is_empty(&p), "  held, no action");
	f.opts.prune = true;
	strvec_release(&f.known);
	plan_on_n1(&p, &f, &b);
	is_str(buf_cstr(&b), "shop elsewhere\n", "  a project this state never "
	       "applied: left alone");
	ok(p.projects[0].held, "  held");
	strvec_push(&f.known, "shop");

	/* an invalid manifest keeps its old placement: nothing moves */
	find_p(&f, "shop")->valid = false;
	plan_on_n1(&p, &f, &b);
	is_str(buf_cstr(&b), "shop invalid\n", "invalid and placed elsewhere: "
	       "never torn down");
	find_p(&f, "shop")->valid = true;
	/* another project's typo does not hold a move (the moved one is
	 * valid and says where it is) */
	shop(&f.set, "other")->valid = false;
	plan_on_n1(&p, &f, &b);
	is_str(buf_cstr(&b), "other invalid\n" SHOP_MOVED, "a move beside an "
	       "invalid project still tears down");
	project_set_release(&f.set);
	shop(&f.set, "shop");
	recompute(&f);
	place(&f, "shop", "n2", NULL);

	/* expired wins: torn down everywhere as Expired, not guarded */
	find_p(&f, "shop")->has_expire = true;
	find_p(&f, "shop")->expire_at = NOW - 1;
	plan_on_n1(&p, &f, &b);
	ok(p.nprojects == 1 && p.projects[0].verdict == VERDICT_TEARDOWN &&
	   p.projects[0].cause == CAUSE_EXPIRED && !p.nremoved,
	   "expired and placed elsewhere: Expired");
	find_p(&f, "shop")->has_expire = false;

	/* another state's objects of a project placed elsewhere: none of ours */
	f.opts.owner = "me";
	tb_obs_own(&f.obs, "shop", "them");
	plan_on_n1(&p, &f, &b);
	is_str(buf_cstr(&b), "shop elsewhere\n", "another state's objects, placed "
	       "elsewhere: not refused, not torn down");
	ok(p.projects[0].held && !p.projects[0].count, "  held");
	tb_obs_own(&f.obs, "shop", "me");
	plan_on_n1(&p, &f, &b);
	is_str(buf_cstr(&b), SHOP_MOVED, "our own objects: torn down");
	f.opts.owner = NULL;

	/* a bad push places everything on a node that does not exist */
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		shop(&f.set, names[i]);
		recompute(&f);
		converge(&f, find_p(&f, names[i]));
		strvec_push(&f.known, names[i]);
	}
	for (i = 0; i < f.set.n; i++)
		place(&f, f.set.v[i].name, "nowhere", NULL);
	f.opts.mass_guard = true;
	f.opts.mass_prune_percent = 50;
	plan_on_n1(&p, &f, &b);
	for (i = 0, teardowns = 0; i < p.nprojects; i++)
		teardowns += p.projects[i].verdict == VERDICT_TEARDOWN;
	ok(p.mass_refused && p.mass_removed == 4 && p.mass_managed == 4 && !teardowns &&
	   plan_is_empty(&p), "4 of 4 re-placed on a missing node: the guard "
	   "refuses, nothing torn down");
	for (i = 0, teardowns = 0; i < p.nprojects; i++)
		teardowns += p.projects[i].verdict == VERDICT_ELSEWHERE &&
			     p.projects[i].held;
	ok(teardowns == 4, "  each elsewhere and held");
	place(&f, "a", "n1", NULL);
	place(&f, "b", "n1", NULL);
	plan_on_n1(&p, &f, &b);
	ok(!p.mass_refused && p.nremoved == 2 && p.nmanaged == 4,
	   "2 of 4 moved away (50%%): allowed");
	f.opts.mass_guard = false;
	for (i = 0; i < f.set.n; i++)
		place(&f, f.set.v[i].name, "nowhere", NULL);
	plan_on_n1(&p, &f, &b);
	ok(!p.mass_refused && p.nremoved == 4, "--allow-mass-prune: all four go");
	plan_release(&p);
	buf_release(&b);
	fixture_release(&f);
}


/*
 * A teardown with --purge-volumes takes the Managed volumes' pins with
 * it (a cluster's, state.h): a later project of the name is placed
 * afresh, not on the node of data that is gone.  So does a purge of a
 * project with nothing left to remove (a pin whose volume cara cannot
 * see: on another node of a Swarm, or a teardown killed after it).
 */
static void test_purge_pins(void)
{
	struct fixture f;
	struct plan p = PLAN_INIT;
	const struct plan_project *pp;

	fixture_init(&f);
	gone_from_source(&f);
	pp = plan_one(&p, &f);
	ok(pp && pp->verdict == VERDICT_TEARDOWN && !pp->purges_pins,
	   "removed from source, no --purge-volumes: the pins stay with the data");
	f.opts.purge_volumes = true;
	pp = plan_one(&p, &f);
	ok(pp && pp->verdict == VERDICT_TEARDOWN && pp->purges_pins,
	   "  with --purge-volumes: the teardown drops them");
	observed_release(&f.obs);
	memset(&f.obs, 0, sizeof(f.obs));
	pp = plan_one(&p, &f);
	ok(pp && pp->verdict == VERDICT_GONE && pp->purges_pins,
	   "  nothing left on the host, --purge-volumes: dropped too");
	f.opts.purge_volumes = false;
	pp = plan_one(&p, &f);
	ok(pp && pp->verdict == VERDICT_GONE && !pp->purges_pins,
	   "  nothing left, no --purge-volumes: kept");
	fixture_release(&f);

	fixture_init(&f);
	c_expired_purge(&f);
	pp = plan_one(&p, &f);
	ok(pp && pp->verdict == VERDICT_TEARDOWN && pp->purges_pins,
	   "expired, --purge-volumes: dropped");
	fixture_release(&f);

	fixture_init(&f);
	converge(&f, find_p(&f, "shop"));
	f.opts.purge_volumes = true;
	pp = plan_one(&p, &f);
	ok(pp && pp->verdict == VERDICT_CONVERGED && !pp->purges_pins,
	   "a project of the source, --purge-volumes: its pins stay");
	project_set_release(&f.set);
	strvec_push(&f.known, "shop");
	f.opts.prune = false;
	pp = plan_one(&p, &f);
	ok(!pp || !pp->purges_pins, "  gone from the source, not pruned: kept");
	plan_release(&p);
	fixture_release(&f);
}

static void add_object(struct observed *o, enum obs_object_kind kind, const char *name,
		       const char *service, const char *owner, bool in_use)
{
	struct obs_object *ob = observed_add_object(o);

	ob->kind = kind;
	ob->id = xasprintf("id-%s", name);
	ob->name = xstrdup(name);
	ob->project = xstrdup("shop");
	ob->service = xstrdup(service);
	ob->owner = xstrdup(owner);
	ob->in_use = in_use;
}

/*
 * The configs and secrets a cluster backend made for a service that no
 * service uses (its create failed, or it was removed by hand) go: only
 * this state's, after the project's other actions, never one a workload
 * of the plan is made or updated with.
 */
static void test_orphaned_objects(void)
{
	struct fixture f;
	struct plan p = PLAN_INIT;
	struct strvec adoptions = STRVEC_INIT;
	struct buf b = BUF_INIT;
	const struct plan_project *pp;
	struct service *app;

	fixture_init(&f);
	f.opts.owner = "me";
	f.opts.adoptions = &adoptions;
	converge(&f, find_p(&f, "shop"));
	tb_obs_own(&f.obs, "shop", "me");
	add_object(&f.obs, OBJECT_SECRET, "shop-gone-5", "shop-gone", "me", false);
	add_object(&f.obs, OBJECT_CONFIG, "shop-app-1", "shop-app", "me", false);
	add_object(&f.obs, OBJECT_CONFIG, "shop-app-2", "shop-app", "me", true);
	add_object(&f.obs, OBJECT_SECRET, "shop-db-3", "shop-db", "them", false);
	add_object(&f.obs, OBJECT_CONFIG, "shop-db-4", "shop-db", "", false);
	add_object(&f.obs, OBJECT_CONFIG, "shop-db-6", "shop-db", "old", false);
	observed_sort(&f.obs);
	pp = plan_one(&p, &f);
	render(&b, &p);
	is_str(buf_cstr(&b), "shop apply\n"
	       "  remove-object shop-app-1 Orphaned\n"
	       "  remove-object shop-gone-5 Orphaned\n",
	       "unused, this state's: removed (an old version, one of a service "
	       "gone); in use, another state's, unlabelled: kept");
	ok(p.nactions == 2 && p.actions[0].object_kind == OBJECT_CONFIG &&
	   !strcmp(p.actions[0].object_id, "id-shop-app-1") &&
	   p.actions[1].object_kind == OBJECT_SECRET, "  by id, of its kind");

	strvec_push(&adoptions, "shop\told");
	plan_one(&p, &f);
	render(&b, &p);
	ok(strstr(buf_cstr(&b), "remove-object shop-db-6 Orphaned") != NULL,
	   "  one of an owner the state adopted from: removed too");
	strvec_release(&adoptions);

	f.opts.owner = NULL;
	pp = plan_one(&p, &f);
	ok(pp && pp->verdict == VERDICT_CONVERGED, "no state (no owner): none removed");
	f.opts.owner = "me";

	f.opts.gc_only = true;
	pp = plan_one(&p, &f);
	ok(pp && pp->verdict == VERDICT_CONVERGED, "cara gc: only expiry and prune");
	f.opts.gc_only = false;

	app = find_s(&f, "shop", "app");
	tb_env(app, "NEW", "1");
	recompute(&f);
	plan_one(&p, &f);
	render(&b, &p);
	ok(!strstr(buf_cstr(&b), "shop-app-1") && strstr(buf_cstr(&b), "shop-gone-5") &&
	   strstr(buf_cstr(&b), "recreate-container shop-app"),
	   "a service the plan replaces keeps its objects (its create uses them "
	   "again): %s", buf_cstr(&b));
	tb_obs_remove_container(&f.obs, "shop", "app");
	plan_one(&p, &f);
	render(&b, &p);
	ok(!strstr(buf_cstr(&b), "shop-app-1") && strstr(buf_cstr(&b), "create-container shop-app"),
	   "  one it makes again too");

	project_set_release(&f.set);
	strvec_push(&f.known, "shop");
	pp = plan_one(&p, &f);
	render(&b, &p);
	ok(pp && pp->verdict == VERDICT_TEARDOWN &&
	   strstr(buf_cstr(&b), "  remove-volume cara-shop-cache RemovedFromSource\n"
		  "  remove-object shop-app-1 Orphaned\n"
		  "  remove-object shop-gone-5 Orphaned\n"),
	   "teardown: after the volumes: %s", buf_cstr(&b));
	fixture_release(&f);

	/* nothing left but an orphan: the project is not gone yet */
	fixture_init(&f);
	f.opts.owner = "me";
	project_set_release(&f.set);
	strvec_push(&f.known, "shop");
	add_object(&f.obs, OBJECT_CONFIG, "shop-app-1", "shop-app", "them", false);
	pp = plan_one(&p, &f);
	ok(pp && pp->verdict == VERDICT_GONE, "only another state's orphan: gone");
	add_object(&f.obs, OBJECT_CONFIG, "shop-app-7", "shop-app", "me", false);
	pp = plan_one(&p, &f);
	render(&b, &p);
	is_str(buf_cstr(&b), "shop teardown RemovedFromSource\n"
	       "  remove-object shop-app-7 Orphaned\n",
	       "one of ours: a teardown that removes it");
	plan_release(&p);
	buf_release(&b);
	fixture_release(&f);
}

int main(void)
{
	test_orphaned_objects();
	test_purge_pins();
	test_images();
	test_placement();
	test_digest_mismatch();
	test_names();
	test_cases();
	test_action_details();
	test_duplicate_network();
	test_ownership();
	test_phase_observed();
	test_mass_prune_guard();
	test_backend_caps();
	test_start_interval_caps();
	test_updates_in_place();
	test_restart_dependents();
	test_owed_restarts();
	test_volume_type_change();
	test_external_volume();
	test_purity();
	test_long_chain();
	test_build_images();
	test_networks();
	return tap_done();
}
