/*
 * test-output.c - how plans, status and reports read: marks, changed
 * fields, JSON shape, the metrics text and the webhook body.
 */
#include <stdlib.h>
#include <string.h>

#include "builders.h"
#include "output.h"
#include "report.h"
#include "tap.h"

static void build(struct plan *p)
{
	struct plan_action *a;

	memset(p, 0, sizeof(*p));
	tb_plan_action(p, ACTION_CREATE_NETWORK, CAUSE_MISSING, "shop", NULL, "cara-shop");
	tb_plan_action(p, ACTION_START_CONTAINER, CAUSE_STOPPED, "shop", "db", "shop-db");
	a = tb_plan_action(p, ACTION_RECREATE_CONTAINER, CAUSE_SPEC_CHANGED, "shop",
			   "app", "shop-app");
	strvec_push(&a->changed, "env");
	strvec_push(&a->changed, "image");
	tb_plan_project(p, "shop", VERDICT_APPLY, CAUSE_MISSING, 0);
	tb_plan_action(p, ACTION_REMOVE_CONTAINER, CAUSE_REMOVED_FROM_SOURCE, "old", "x", "old-x");
	tb_plan_project(p, "old", VERDICT_TEARDOWN, CAUSE_REMOVED_FROM_SOURCE, 3);
	tb_plan_project(p, "calm", VERDICT_CONVERGED, CAUSE_MISSING, 4);
}

static void test_plan_unpause(void)
{
	struct plan p;
	struct buf b = BUF_INIT;

	memset(&p, 0, sizeof(p));
	tb_plan_action(&p, ACTION_START_CONTAINER, CAUSE_PAUSED, "shop", "cache", "shop-cache");
	tb_plan_project(&p, "shop", VERDICT_APPLY, CAUSE_MISSING, 0);
	output_plan_text(&b, &p, false);
	ok(strstr(buf_cstr(&b), "  > unpause container shop-cache (Paused)\n") != NULL,
	   "a paused container is unpaused, and the plan says so");
	plan_release(&p);
	buf_reset(&b);

	memset(&p, 0, sizeof(p));
	strvec_push(&tb_plan_action(&p, ACTION_RESTART_CONTAINER, CAUSE_DEPENDENCY_RESTARTED,
				    "shop", "app", "shop-app")->changed, "db");
	tb_plan_project(&p, "shop", VERDICT_APPLY, CAUSE_MISSING, 0);
	output_plan_text(&b, &p, false);
	ok(strstr(buf_cstr(&b), "  > restart container shop-app (DependencyRestarted: db)\n"
		  "Plan: 0 to create, 0 to recreate, 1 to start, 0 to remove.") != NULL,
	   "a restart names the dependency that caused it, and counts as a start");
	plan_release(&p);
	buf_release(&b);
}

static void test_plan_orphans(void)
{
	struct plan p;
	struct buf b = BUF_INIT;
	struct plan_action *a;

	memset(&p, 0, sizeof(p));
	a = tb_plan_action(&p, ACTION_REMOVE_OBJECT, CAUSE_ORPHANED, "shop", NULL,
			   "shop-app-0123456789ab");
	a->object_kind = OBJECT_CONFIG;
	a = tb_plan_action(&p, ACTION_REMOVE_OBJECT, CAUSE_ORPHANED, "shop", NULL,
			   "shop-db-0123456789ab");
	a->object_kind = OBJECT_SECRET;
	tb_plan_project(&p, "shop", VERDICT_APPLY, CAUSE_MISSING, 0);
	output_plan_text(&b, &p, false);
	ok(strstr(buf_cstr(&b), "  - config shop-app-0123456789ab (Orphaned)\n"
		  "  - secret shop-db-0123456789ab (Orphaned)\n") != NULL,
	   "an orphaned config and secret, by kind: %s", buf_cstr(&b));
	buf_reset(&b);
	output_plan_json(&b, &p, NULL);
	ok(strstr(buf_cstr(&b), "\"action\": \"remove-object\", \"object\": "
		  "\"shop-db-0123456789ab\", \"cause\": \"Orphaned\", "
		  "\"objectKind\": \"secret\"}") != NULL, "  in JSON: %s", buf_cstr(&b));
	plan_release(&p);
	buf_release(&b);
}

static void test_plan_text(void)
{
	struct plan p;
	struct buf b = BUF_INIT;
	const char *s;

	build(&p);
	output_plan_text(&b, &p, false);
	s = buf_cstr(&b);
	ok(strstr(s, "shop\n  + network cara-shop\n") != NULL, "project header and create mark");
	ok(strstr(s, "  > start container shop-db (Stopped)\n") != NULL, "start with its cause");
	ok(strstr(s, "  ~ container shop-app (changed: env, image)\n") != NULL,
	   "recreate names the changed fields");
	ok(strstr(s, "old (teardown: RemovedFromSource)\n  - container old-x\n") != NULL,
	   "teardown with its reason");
	ok(strstr(s, "calm") == NULL, "converged projects are not listed");
	ok(strstr(s, "Plan: 1 to create, 1 to recreate, 1 to start, 1 to remove.") != NULL,
	   "summary line counts");
	ok(strchr(s, '\033') == NULL, "no colour codes without colour");
	buf_reset(&b);
	output_plan_text(&b, &p, true);
	ok(strstr(buf_cstr(&b), "\033[33m~\033[0m") != NULL, "colour marks on a terminal");
	buf_release(&b);
	plan_release(&p);
}

static void test_plan_json(void)
{
	struct plan p;
	struct buf b = BUF_INIT;
	const char *s;

	build(&p);
	output_plan_json(&b, &p, NULL);
	s = buf_cstr(&b);
	ok(!strncmp(s, "{\"changes\": true, \"routes\": [], \"projects\": [", 45), "json header");
	ok(strstr(s, "\"action\": \"recreate-container\", \"object\": \"shop-app\", "
		  "\"service\": \"app\", \"cause\": \"SpecChanged\", \"changed\": [\"env\", "
		  "\"image\"]") != NULL, "json recreate action");
	ok(strstr(s, "{\"name\": \"old\", \"verdict\": \"teardown\", \"cause\": "
		  "\"RemovedFromSource\"") != NULL, "json teardown project");
	buf_release(&b);
	plan_release(&p);

	memset(&p, 0, sizeof(p));
	output_plan_json(&b, &p, NULL);
	is_str(buf_cstr(&b), "{\"changes\": false, \"routes\": [], \"projects\": []}\n", "empty plan json");
	buf_reset(&b);
	output_plan_text(&b, &p, false);
	is_str(buf_cstr(&b), "No changes: the host matches the source.\n", "empty plan text");
	buf_release(&b);
}

static void test_status(void)
{
	struct project_status v[2];
	struct buf b = BUF_INIT;

	memset(v, 0, sizeof(v));
	v[0].name = "shop"; v[0].phase = "Running"; v[0].reason = "ContainersRunning";
	v[0].commit = "0123456789abcdef"; v[0].created = 1000;
	v[1].name = "a-much-longer-name"; v[1].phase = "Failed"; v[1].reason = "ImagePullError";
	v[1].created = 1000 - 7200;
	output_status_table(&b, v, 2, 1100);
	ok(strstr(buf_cstr(&b), "NAME                PHASE        CONDITION             "
		  "COMMIT   AGE\n") != NULL, "header padded to the longest name");
	ok(strstr(buf_cstr(&b), "shop                Running      ContainersRunning     "
		  "0123456  100s\n") != NULL, "row with short commit and age");
	ok(strstr(buf_cstr(&b), "ImagePullError        -        2h\n") != NULL,
	   "missing commit shown as '-', age in hours");
	buf_reset(&b);
	output_status_json(&b, v, 2, NULL, NULL, NULL);
	ok(strstr(buf_cstr(&b), "\"phase\": \"Running\", \"reason\": \"ContainersRunning\"") != NULL,
	   "status json");
	ok(strstr(buf_cstr(&b), "\"commit\": null") != NULL, "missing values are null");
	ok(strstr(buf_cstr(&b), "\"images\": []") != NULL, "no snapshot: no images");
	buf_release(&b);
}

static struct obs_container *status_container(struct observed *o, const char *project,
					       const char *service, const char *image,
					       const char *id)
{
	struct obs_container *c = observed_add_container(o);

	c->project = xstrdup(project);
	c->service = xstrdup(service);
	c->image = xstrdup(image);
	c->image_id = xstrdup(id);
	return c;
}

/* status --output json: per project which image each service runs, by digest */
static void test_status_images(void)
{
	struct project_status v[1];
	struct observed o = OBSERVED_INIT;
	struct buf b = BUF_INIT;

	memset(v, 0, sizeof(v));
	v[0].name = "shop";
	status_container(&o, "shop", "web", "127.0.0.1:5000/web:1", "sha256:aaa");
	status_container(&o, "shop", "tool", "tool:dev", "sha256:bbb");
	status_container(&o, "other", "web", "127.0.0.1:5000/web:1", "sha256:aaa");
	status_container(&o, "shop", "db", "db@sha256:ddd", "sha256:ccc");
	/* the web image is also in a second repository: that digest is not its own */
	observed_add_image_id(&o, "mirror/web@sha256:111", "sha256:aaa");
	observed_add_image_id(&o, "127.0.0.1:5000/web@sha256:222", "sha256:aaa");
	observed_add_image_id(&o, "tool:dev", "sha256:bbb");
	observed_add_image_id(&o, "db@sha256:ddd", "sha256:ccc");
	observed_sort(&o);
	ok(!strcmp(observed_container_digest(&o, &o.containers[0]), "sha256:222"),
	   "digest for the repository of the reference");
	ok(observed_container_digest(&o, &o.containers[1]) == NULL,
	   "a locally built image has no digest");
	output_status_json(&b, v, 1, &o, NULL, NULL);
	ok(strstr(buf_cstr(&b), "\"images\": [{\"service\": \"web\", \"image\": "
		  "\"127.0.0.1:5000/web:1\", \"digest\": \"sha256:222\"}, "
		  "{\"service\": \"tool\", \"image\": \"tool:dev\", \"digest\": null}, "
		  "{\"service\": \"db\", \"image\": \"db@sha256:ddd\", "
		  "\"digest\": \"sha256:ddd\"}]") != NULL,
	   "status json lists the project's services, images and digests");
	buf_release(&b);
	observed_release(&o);
}

static void test_report(void)
{
	struct plan p;
	struct pass_counts c;
	struct project_status v[1];
	struct pass_summary s;
	struct buf b = BUF_INIT;

	build(&p);
	memset(&c, 0, sizeof(c));
	c.created = 2;
	c.projects_failed = 1;
	memset(v, 0, sizeof(v));
	v[0].name = "shop"; v[0].phase = "Running"; v[0].reason = "ContainersRunning";
	memset(&s, 0, sizeof(s));
	s.node = "host1"; s.command = "sync"; s.outcome = "partial"; s.exit_code = 4;
	s.commit = "abc"; s.duration_s = 1.5; s.ended = 42; s.last_success = 40;
	s.counts = &c; s.plan = &p; s.projects = v; s.nprojects = 1;
	report_metrics_text(&b, &s);
	ok(strstr(buf_cstr(&b), "cara_pass_duration_seconds{command=\"sync\"} 1.500\n") != NULL,
	   "metrics: duration");
	ok(strstr(buf_cstr(&b), "cara_projects{phase=\"Running\"} 1\n") != NULL &&
	   strstr(buf_cstr(&b), "cara_projects{phase=\"Failed\"} 0\n") != NULL,
	   "metrics: projects by phase, zeros included");
	ok(strstr(buf_cstr(&b), "cara_actions{kind=\"recreate-container\"} 1\n") != NULL,
	   "metrics: actions by kind");
	ok(strstr(buf_cstr(&b), "cara_last_success_timestamp_seconds 40\n") != NULL,
	   "metrics: last success");
	buf_reset(&b);
	report_notify_json(&b, &s);
	ok(strstr(buf_cstr(&b), "{\"text\": \"cara sync on host1: partial (2 created, "
		  "0 recreated, 0 started, 0 removed, 1 failed) at abc\"") != NULL,
	   "webhook: Slack-compatible text");
	ok(strstr(buf_cstr(&b), "\"exitCode\": 4") != NULL, "webhook: exit code");
	buf_release(&b);
	plan_release(&p);
}

/* Placed on another node: said where, with no action; a move's teardown. */
static void test_plan_elsewhere(void)
{
	struct plan p;
	struct plan_project *pp;
	struct buf b = BUF_INIT;
	const char *s;

	memset(&p, 0, sizeof(p));
	pp = tb_plan_project(&p, "away", VERDICT_ELSEWHERE, CAUSE_PLACED_ELSEWHERE, 0);
	pp->message = xstrdup("placed on node 'n2' (this host is 'n1')");
	pp = tb_plan_project(&p, "kept", VERDICT_ELSEWHERE, CAUSE_PLACED_ELSEWHERE, 0);
	pp->message = xstrdup("placed on node 'n2' (this host is 'n1')");
	pp->held = true;
	tb_plan_action(&p, ACTION_REMOVE_CONTAINER, CAUSE_PLACED_ELSEWHERE, "moved", "s",
		       "moved-s");
	pp = tb_plan_project(&p, "moved", VERDICT_TEARDOWN, CAUSE_PLACED_ELSEWHERE, 0);
	pp->message = xstrdup("nodeSelector zone=b: this host has no label zone");
	output_plan_text(&b, &p, false);
	s = buf_cstr(&b);
	ok(strstr(s, "away (PlacedElsewhere: placed on node 'n2' (this host is 'n1'))\n")
	   != NULL, "elsewhere: where, no action");
	ok(strstr(s, "kept (PlacedElsewhere: placed on node 'n2' (this host is 'n1'); "
		  "its objects here are kept)\n") != NULL, "held: says its objects stay");
	ok(strstr(s, "moved (teardown: PlacedElsewhere: nodeSelector zone=b: this host "
		  "has no label zone)\n  - container moved-s\n") != NULL,
	   "a move's teardown says why");
	buf_reset(&b);
	output_plan_json(&b, &p, NULL);
	s = buf_cstr(&b);
	ok(strstr(s, "{\"name\": \"away\", \"verdict\": \"elsewhere\", \"cause\": "
		  "\"PlacedElsewhere\", \"placement\": \"placed on node 'n2' (this host "
		  "is 'n1')\", \"held\": false, \"actions\": []}") != NULL, "json elsewhere");
	ok(strstr(s, "\"name\": \"kept\", \"verdict\": \"elsewhere\"") &&
	   strstr(s, "\"held\": true"), "json held");
	ok(strstr(s, "{\"name\": \"moved\", \"verdict\": \"teardown\", \"cause\": "
		  "\"PlacedElsewhere\", \"placement\": ") != NULL, "json teardown of a move");
	buf_release(&b);
	plan_release(&p);
}

/* Refused: the reason of its refusal and the message, no action. */
static void test_plan_refused(void)
{
	struct plan p;
	struct plan_project *pp;
	struct buf b = BUF_INIT;
	const char *s;

	memset(&p, 0, sizeof(p));
	pp = tb_plan_project(&p, "theirs", VERDICT_REFUSED, CAUSE_MISSING, 0);
	pp->refusal = REFUSAL_OWNED_ELSEWHERE;
	pp->message = xstrdup("owned by state abc");
	pp = tb_plan_project(&p, "new", VERDICT_REFUSED, CAUSE_MISSING, 0);
	pp->refusal = REFUSAL_ENGINE_TOO_OLD;
	pp->message = xstrdup("startInterval needs API 1.44");
	output_plan_text(&b, &p, false);
	s = buf_cstr(&b);
	ok(strstr(s, "theirs (OwnedElsewhere: owned by state abc)\n") &&
	   strstr(s, "new (EngineTooOld: startInterval needs API 1.44)\n"),
	   "refused: its reason and why, in text");
	ok(strstr(s, "No changes: 2 refused projects left as they are.\n") &&
	   !strstr(s, "matches"), "refused: the host does not match the source");
	buf_reset(&b);
	output_plan_json(&b, &p, NULL);
	s = buf_cstr(&b);
	ok(strstr(s, "{\"name\": \"new\", \"verdict\": \"refused\", \"reason\": "
		  "\"EngineTooOld\", \"message\": \"startInterval needs API 1.44\", "
		  "\"actions\": []}") &&
	   strstr(s, "\"reason\": \"OwnedElsewhere\""), "refused: in JSON");
	buf_release(&b);
	plan_release(&p);
}

int main(void)
{
	test_plan_text();
	test_plan_elsewhere();
	test_plan_refused();
	test_plan_unpause();
	test_plan_orphans();
	test_plan_json();
	test_status();
	test_status_images();
	test_report();
	return tap_done();
}
