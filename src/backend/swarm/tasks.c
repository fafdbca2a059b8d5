/*
 * backend/swarm/tasks.c - what a service's tasks say of it: the one rule
 * that turns Swarm's task states into cara's normalised state, health and
 * a problem naming the task's node (pure: unit-tested).
 *
 * A long-running service is up when as many of its tasks run as it wants
 * (Swarm reports a task with a healthcheck running only once healthy);
 * fewer is a problem once a task of it failed or a node holding one is
 * down, and only on its way while no task failed yet.  A job is done when
 * its current iteration completed as many tasks as it wants, failed when
 * one of them failed.  An update stuck half-way (paused) is a problem; one
 * rolled back in full is not (the pass that asked for it failed saying so).
 */
#include <stdio.h>
#include <string.h>

#include "backend/swarm/swarm.h"
#include "util.h"

static bool is(const char *a, const char *b)
{
	return a && !strcmp(a, b);
}

/* On its way: placed or being placed, not yet running. */
static bool on_its_way(const char *s)
{
	static const char *const words[] = {
		"new", "allocated", "pending", "assigned", "accepted", "preparing",
		"ready", "starting",
	};
	size_t i;

	for (i = 0; s && i < ARRAY_SIZE(words); i++)
		if (!strcmp(s, words[i]))
			return true;
	return false;
}

static bool is_failure(const char *s)
{
	return is(s, "failed") || is(s, "rejected") || is(s, "orphaned");
}

/* Append node to the ", "-separated list in buf unless it is there. */
static void add_node(char *buf, size_t cap, const char *node)
{
	size_t len = strlen(buf), nl = strlen(node);
	const char *p = buf;

	while ((p = strstr(p, node))) {
		if ((p == buf || p[-1] == ' ') && (p[nl] == ',' || !p[nl]))
			return;
		p += nl;
	}
	snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", node);
}

/* "; 2 failed, 1 on its way, 1 on a down node": the tasks that do not
 * run, by what holds them (nothing when every task runs). */
static void add_states(char *buf, size_t cap, int failed, int pending, int lost)
{
	const struct { int n; const char *what; } st[] = {
		{ failed, "failed" }, { pending, "on its way" },
		{ lost, "on a down node" },
	};
	size_t i, len;
	bool first = true;

	for (i = 0; i < ARRAY_SIZE(st); i++) {
		if (st[i].n <= 0)
			continue;
		len = strlen(buf);
		snprintf(buf + len, cap - len, "%s%d %s", first ? "; " : ", ", st[i].n,
			 st[i].what);
		first = false;
	}
}

void swarm_tasks_verdict(struct swarm_verdict *out, const struct swarm_service_view *v,
			 const struct swarm_task *t, size_t n)
{
	const struct swarm_task *fail = NULL, *down = NULL;
	char nodes[200] = "";
	int complete = 0, pending = 0, lost = 0, want = v->want;
	bool updating = is(v->update_state, "updating") ||
			is(v->update_state, "rollback_started");
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < n; i++) {
		const struct swarm_task *k = &t[i];
		bool live = is(k->desired, "running") || (v->job && is(k->desired, "complete"));

		if (v->job && !k->current)
			continue;
		if (is(k->state, "running") && live && !k->node_down) {
			out->running++;
			add_node(nodes, sizeof(nodes), k->node ? k->node : "?");
		} else if (is(k->state, "complete")) {
			complete++;
		} else if (k->node_down && (live || is(k->state, "running"))) {
			/* lost with its node: a Global task is not placed
			 * elsewhere, a replicated one is, after a while */
			down = k;
			lost++;
		} else if (live && on_its_way(k->state)) {
			pending++;
		} else if (is_failure(k->state)) {
			out->failed++;
			/* the one Swarm tried last: the highest slot's last word
			 * is as good as any; keep the first with an error */
			if (!fail || (!fail->err && k->err))
				fail = k;
		}
	}
	if (v->job) {
		snprintf(out->tasks, sizeof(out->tasks), "%d/%d complete", complete, want);
		if (complete >= want) {
			out->state = OBS_EXITED;
			out->settled = true;
		} else if (fail) {
			out->state = OBS_EXITED;
			out->exit_code = fail->exit_code ? fail->exit_code : 1;
			out->settled = true;
			snprintf(out->problem, sizeof(out->problem), "job '%s': task on %s %s: %s",
				 v->name, fail->node ? fail->node : "?", fail->state,
				 fail->err ? fail->err : "no message");
		} else {
			/* under way (or about to be): not to be started again */
			out->state = OBS_RUNNING;
		}
		return;
	}
	if (v->global) {
		/* one a node meant to run it: those running, on their way or
		 * lost; none at all yet: the orchestrator has not placed them
		 * (it places one on every node at once) */
		want = out->running + pending + lost;
		if (!want && !out->failed)
			pending = want = 1;
	}
	snprintf(out->tasks, sizeof(out->tasks), "%d/%d running%s%s", out->running, want,
		 nodes[0] ? " on " : "", nodes);
	if (out->running < want)
		/* the history of a service that runs in full is not news */
		add_states(out->tasks, sizeof(out->tasks), out->failed, pending, lost);
	if (out->running >= want) {
		out->state = OBS_RUNNING;
		out->health = v->has_health ? HEALTH_HEALTHY : HEALTH_NONE;
		out->settled = !updating && !pending;
	} else if (down) {
		out->state = OBS_RESTARTING;
		out->settled = !updating;
		snprintf(out->problem, sizeof(out->problem), "service '%s': %d/%d tasks "
			 "running; node %s is down", v->name, out->running, want,
			 down->node ? down->node : "?");
	} else if (fail) {
		/* a replacement on its way after a failure: settled once it is
		 * plain that the failures go on (a crash loop) */
		out->state = OBS_RESTARTING;
		out->settled = !updating && (!pending || out->failed >= 3);
		out->exit_code = fail->exit_code;
		if (fail->err && strstr(fail->err, "unhealthy"))
			out->health = HEALTH_UNHEALTHY;
		snprintf(out->problem, sizeof(out->problem), "service '%s': %d/%d tasks "
			 "running; task on %s %s: %s", v->name, out->running, want,
			 fail->node ? fail->node : "?", fail->state,
			 fail->err ? fail->err : "no message");
	} else {
		/* Swarm is placing them: left to it, and said */
		out->state = OBS_RESTARTING;
		out->health = v->has_health ? HEALTH_STARTING : HEALTH_NONE;
		snprintf(out->problem, sizeof(out->problem), "service '%s': %d/%d tasks "
			 "running, %d on their way", v->name, out->running, want, pending);
	}
	/* a completed rollback is history: the pass that asked for the
	 * update failed saying so, and the spec that runs is the one its
	 * labels say; one stuck half-way is not */
	if (!out->problem[0] && (is(v->update_state, "rollback_paused") ||
				 is(v->update_state, "paused")))
		snprintf(out->problem, sizeof(out->problem), "service '%s': update %s: %s",
			 v->name, is(v->update_state, "paused") ? "paused" :
			 "rolled back in part", v->update_message ? v->update_message :
			 "no message");
}
