/*
 * output.c - renderings for people (tables, +/~/- plans, colour on a
 * terminal unless NO_COLOR) and for machines (JSON).  Nothing here does
 * I/O except output_write_stdout(); secret values never reach this module,
 * only names and field groups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingress.h"
#include "output.h"
#include "phase.h"

bool output_use_color(int fd, bool no_color)
{
	const char *nc = getenv("NO_COLOR");

	if (no_color || (nc && *nc))
		return false;
	return isatty(fd) == 1;
}

void output_diags_json(struct buf *out, const struct diags *d)
{
	size_t i;

	buf_putc(out, '[');
	for (i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];

		buf_puts(out, i ? ",\n  {" : "\n  {");
		buf_puts(out, "\"severity\": ");
		buf_json_str(out, g->severity == DIAG_ERROR ? "error" : "warning");
		buf_puts(out, ", \"file\": ");
		buf_json_str(out, g->file);
		buf_printf(out, ", \"line\": %d, \"column\": %d, \"field\": ", g->line,
			   g->col);
		buf_json_str(out, g->path);
		buf_puts(out, ", \"message\": ");
		buf_json_str(out, g->message);
		buf_putc(out, '}');
	}
	buf_puts(out, d->n ? "\n]\n" : "]\n");
}

static bool stdout_written;

bool output_stdout_written(void)
{
	return stdout_written;
}

int output_write_stdout(const struct buf *b)
{
	if (b->len)
		stdout_written = true;
	if (b->len && fwrite(b->ptr, 1, b->len, stdout) != b->len)
		return error_set("cannot write to standard output");
	if (fflush(stdout) != 0 || ferror(stdout))
		return error_set("cannot write to standard output");
	return 0;
}

/* ---- plans ---- */

static const char *verdict_name(enum project_verdict v)
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

/* The mark, colour and noun of an action as a person reads the plan. */
static void action_look(const struct plan_action *a, const char **mark,
			const char **color, const char **noun)
{
	switch (a->kind) {
	case ACTION_CREATE_NETWORK: *mark = "+"; *noun = "network"; break;
	case ACTION_CREATE_VOLUME: *mark = "+"; *noun = "volume"; break;
	case ACTION_PULL_IMAGE: *mark = "+"; *noun = "pull image"; break;
	case ACTION_BUILD_IMAGE: *mark = "+"; *noun = "build image"; break;
	case ACTION_CREATE_CONTAINER: *mark = "+"; *noun = "container"; break;
	case ACTION_START_CONTAINER:
		*mark = ">";
		*noun = a->cause == CAUSE_PAUSED ? "unpause container" : "start container";
		break;
	case ACTION_RECREATE_CONTAINER: *mark = "~"; *noun = "container"; break;
	case ACTION_CONNECT_CONTAINER: *mark = "~"; *noun = "connect container"; break;
	case ACTION_RETYPE_VOLUME: *mark = "~"; *noun = "volume"; break;
	case ACTION_REMOVE_CONTAINER: *mark = "-"; *noun = "container"; break;
	case ACTION_REMOVE_NETWORK: *mark = "-"; *noun = "network"; break;
	case ACTION_REMOVE_VOLUME: *mark = "-"; *noun = "volume"; break;
	case ACTION_REMOVE_OBJECT:
		*mark = "-";
		*noun = obs_object_kind_name(a->object_kind);
		break;
	case ACTION_UPDATE_CONTAINER: *mark = "~"; *noun = "update service"; break;
	case ACTION_RESTART_CONTAINER: *mark = ">"; *noun = "restart container"; break;
	default: *mark = "?"; *noun = "?"; break;
	}
	*color = **mark == '+' ? "\033[32m" : **mark == '~' ? "\033[33m" :
		 **mark == '-' ? "\033[31m" : "\033[36m";
}

void output_plan_text(struct buf *out, const struct plan *p, bool color)
{
	size_t i, j, ncreate = 0, nrecreate = 0, nstart = 0, nremove = 0, nrefused = 0;

	for (i = 0; i < p->nprojects; i++) {
		const struct plan_project *pp = &p->projects[i];

		if (pp->verdict == VERDICT_CONVERGED || pp->verdict == VERDICT_GONE)
			continue;
		buf_printf(out, "%s%s%s", color ? "\033[1m" : "", pp->name,
			   color ? "\033[0m" : "");
		if (pp->verdict == VERDICT_TEARDOWN && pp->message)
			buf_printf(out, " (teardown: %s: %s)", action_cause_name(pp->cause),
				   pp->message);
		else if (pp->verdict == VERDICT_TEARDOWN)
			buf_printf(out, " (teardown: %s)", action_cause_name(pp->cause));
		else if (pp->verdict == VERDICT_ELSEWHERE)
			buf_printf(out, " (%s: %s%s)", action_cause_name(pp->cause),
				   pp->message, pp->held ? "; its objects here are kept" : "");
		else if (pp->verdict == VERDICT_INVALID)
			buf_puts(out, " (invalid manifest: left as it is)");
		else if (pp->verdict == VERDICT_REFUSED)
			buf_printf(out, " (%s: %s)", reason_name(phase_refusal_reason(pp->refusal)),
				   pp->message);
		buf_putc(out, '\n');
		for (j = pp->first; j < pp->first + pp->count; j++) {
			const struct plan_action *a = &p->actions[j];
			const char *mark, *col, *noun;
			size_t k;

			action_look(a, &mark, &col, &noun);
			buf_printf(out, "  %s%s%s %s %s", color ? col : "", mark,
				   color ? "\033[0m" : "", noun, a->object);
			if (a->kind == ACTION_RECREATE_CONTAINER ||
			    a->kind == ACTION_UPDATE_CONTAINER) {
				buf_puts(out, " (changed:");
				for (k = 0; k < a->changed.n; k++)
					buf_printf(out, "%s %s", k ? "," : "", a->changed.v[k]);
				if (!a->changed.n)
					buf_puts(out, " spec");
				buf_putc(out, ')');
				if (a->cause == CAUSE_IMAGE_UPDATED)
					buf_puts(out, " (ImageUpdated)");
				nrecreate++;
			} else if (a->kind == ACTION_PULL_IMAGE &&
				   a->cause == CAUSE_IMAGE_UPDATED && a->changed.n == 2) {
				buf_printf(out, " (ImageUpdated: %s -> %s)",
					   *a->changed.v[0] ? a->changed.v[0] : "?",
					   a->changed.v[1]);
				ncreate++;
			} else if (a->kind == ACTION_RETYPE_VOLUME) {
				buf_printf(out, " (type: %s -> %s)", a->changed.v[0],
					   a->changed.v[1]);
				nrecreate++;
			} else if (a->kind == ACTION_CONNECT_CONTAINER) {
				buf_printf(out, " to network %s (%s)",
					   a->network ? a->network : "?",
					   action_cause_name(a->cause));
				nstart++;   /* brought back up, as a start is */
			} else if (a->kind == ACTION_START_CONTAINER) {
				buf_printf(out, " (%s)", action_cause_name(a->cause));
				nstart++;
			} else if (a->kind == ACTION_RESTART_CONTAINER) {
				buf_printf(out, " (%s: %s)", action_cause_name(a->cause),
					   a->changed.n ? a->changed.v[0] : "?");
				nstart++;
			} else if (*mark == '-') {
				if (a->cause == CAUSE_SERVICE_REMOVED ||
				    a->cause == CAUSE_DUPLICATE ||
				    a->cause == CAUSE_NETWORK_UNUSED ||
				    a->cause == CAUSE_ORPHANED ||
				    a->cause == CAUSE_SPEC_CHANGED)
					buf_printf(out, " (%s)", action_cause_name(a->cause));
				nremove++;
			} else {
				ncreate++;
			}
			buf_putc(out, '\n');
		}
	}
	for (i = 0; i < p->nprojects; i++)
		nrefused += p->projects[i].verdict == VERDICT_REFUSED;
	if (plan_is_empty(p) && nrefused)
		/* not "matches": a refused project is not what the source says */
		buf_printf(out, "No changes: %zu refused %s left as %s.\n", nrefused,
			   nrefused == 1 ? "project" : "projects",
			   nrefused == 1 ? "it is" : "they are");
	else if (plan_is_empty(p))
		buf_puts(out, "No changes: the host matches the source.\n");
	else
		buf_printf(out, "Plan: %zu to create, %zu to recreate, %zu to start, "
			   "%zu to remove.\n", ncreate, nrecreate, nstart, nremove);
}

void output_plan_json(struct buf *out, const struct plan *p,
		      const struct strvec *routes)
{
	size_t i, j, k;
	bool first = true;

	buf_printf(out, "{\"changes\": %s, \"routes\": [",
		   plan_is_empty(p) && (!routes || !routes->n) ? "false" : "true");
	for (i = 0; routes && i < routes->n; i++) {
		buf_puts(out, i ? ", " : "");
		buf_json_str(out, routes->v[i]);
	}
	buf_puts(out, "], \"projects\": [");
	for (i = 0; i < p->nprojects; i++) {
		const struct plan_project *pp = &p->projects[i];

		buf_puts(out, first ? "\n  {\"name\": " : ",\n  {\"name\": ");
		first = false;
		buf_json_str(out, pp->name);
		buf_puts(out, ", \"verdict\": ");
		buf_json_str(out, verdict_name(pp->verdict));
		if (pp->verdict == VERDICT_TEARDOWN || pp->verdict == VERDICT_GONE ||
		    pp->verdict == VERDICT_ELSEWHERE) {
			buf_puts(out, ", \"cause\": ");
			buf_json_str(out, action_cause_name(pp->cause));
		}
		if (pp->cause == CAUSE_PLACED_ELSEWHERE && pp->message) {
			buf_puts(out, ", \"placement\": ");
			buf_json_str(out, pp->message);
		}
		if (pp->verdict == VERDICT_ELSEWHERE)
			buf_puts(out, pp->held ? ", \"held\": true" : ", \"held\": false");
		if (pp->verdict == VERDICT_REFUSED) {
			buf_puts(out, ", \"reason\": ");
			buf_json_str(out, reason_name(phase_refusal_reason(pp->refusal)));
			buf_puts(out, ", \"message\": ");
			buf_json_str(out, pp->message);
		}
		buf_puts(out, ", \"actions\": [");
		for (j = pp->first; j < pp->first + pp->count; j++) {
			const struct plan_action *a = &p->actions[j];

			buf_puts(out, j > pp->first ? ",\n    {" : "\n    {");
			buf_puts(out, "\"action\": ");
			buf_json_str(out, action_kind_name(a->kind));
			buf_puts(out, ", \"object\": ");
			buf_json_str(out, a->object);
			if (a->service) {
				buf_puts(out, ", \"service\": ");
				buf_json_str(out, a->service);
			}
			buf_puts(out, ", \"cause\": ");
			buf_json_str(out, action_cause_name(a->cause));
			if (a->network) {
				buf_puts(out, ", \"network\": ");
				buf_json_str(out, a->network);
			}
			if (a->kind == ACTION_REMOVE_OBJECT) {
				buf_puts(out, ", \"objectKind\": ");
				buf_json_str(out, obs_object_kind_name(a->object_kind));
			}
			if (a->kind == ACTION_PULL_IMAGE && a->changed.n == 2) {
				buf_puts(out, ", \"digest\": ");
				buf_json_str(out, a->changed.v[0]);
				buf_puts(out, ", \"newDigest\": ");
				buf_json_str(out, a->changed.v[1]);
			}
			if (a->kind == ACTION_RECREATE_CONTAINER ||
			    a->kind == ACTION_UPDATE_CONTAINER) {
				buf_puts(out, ", \"changed\": [");
				for (k = 0; k < a->changed.n; k++) {
					if (k)
						buf_puts(out, ", ");
					buf_json_str(out, a->changed.v[k]);
				}
				buf_putc(out, ']');
			}
			buf_putc(out, '}');
		}
		buf_puts(out, pp->count ? "\n  ]}" : "]}");
	}
	buf_puts(out, p->nprojects ? "\n]}\n" : "]}\n");
}

/* ---- status ---- */

void output_status_table(struct buf *out, const struct project_status *v,
			 size_t n, int64_t now)
{
	size_t i, w = 4;

	for (i = 0; i < n; i++)
		if (strlen(v[i].name) > w)
			w = strlen(v[i].name);
	buf_printf(out, "%-*s  %-11s  %-20s  %-7s  %s\n", (int)w, "NAME", "PHASE",
		   "CONDITION", "COMMIT", "AGE");
	for (i = 0; i < n; i++) {
		char age[16];

		format_age(now - v[i].created, age);
		buf_printf(out, "%-*s  %-11s  %-20s  %-7.7s  %s\n", (int)w, v[i].name,
			   v[i].phase ? v[i].phase : "-",
			   v[i].reason && *v[i].reason ? v[i].reason : "-",
			   v[i].commit && *v[i].commit ? v[i].commit : "-", age);
	}
}

/* Is a service of project name one of v[0..n)'s? */
static bool known_project(const struct project_status *v, size_t n, const char *name)
{
	size_t i;

	for (i = 0; name && i < n; i++)
		if (!strcmp(v[i].name, name))
			return true;
	return false;
}

void output_services_table(struct buf *out, const struct observed *obs,
			   const struct project_status *v, size_t n)
{
	size_t i, wp = 7, ws = 7;
	bool any = false;

	for (i = 0; i < obs->ncontainers; i++) {
		const struct obs_container *c = &obs->containers[i];

		if (!c->tasks || !known_project(v, n, c->project))
			continue;
		any = true;
		if (strlen(c->project) > wp)
			wp = strlen(c->project);
		if (strlen(c->service) > ws)
			ws = strlen(c->service);
	}
	if (!any)
		return;
	buf_printf(out, "\nSERVICES\n%-*s  %-*s  %-10s  %s\n", (int)wp, "PROJECT", (int)ws,
		   "SERVICE", "STATE", "TASKS");
	for (i = 0; i < obs->ncontainers; i++) {
		const struct obs_container *c = &obs->containers[i];

		if (!c->tasks || !known_project(v, n, c->project))
			continue;
		buf_printf(out, "%-*s  %-*s  %-10s  %s\n", (int)wp, c->project, (int)ws,
			   c->service, obs_state_name(c->state), *c->tasks ? c->tasks : "-");
		if (c->problem && *c->problem)
			buf_printf(out, "%-*s  %-*s  problem: %s\n", (int)wp, "", (int)ws, "",
				   c->problem);
	}
}

static void json_opt_str(struct buf *out, const char *key, const char *val)
{
	buf_printf(out, ", \"%s\": ", key);
	if (val && *val)
		buf_json_str(out, val);
	else
		buf_puts(out, "null");
}

/* The containers of project name in obs: which image each runs, by digest. */
static void status_images_json(struct buf *out, const char *name,
			       const struct observed *obs)
{
	size_t i, k = 0;

	buf_puts(out, ", \"images\": [");
	for (i = 0; obs && i < obs->ncontainers; i++) {
		const struct obs_container *c = &obs->containers[i];

		if (strcmp(c->project, name))
			continue;
		buf_puts(out, k++ ? ", {\"service\": " : "{\"service\": ");
		buf_json_str(out, c->service);
		json_opt_str(out, "image", c->image);
		json_opt_str(out, "digest", observed_container_digest(obs, c));
		if (c->tasks) {
			/* a cluster's service: its tasks, what is wrong with them */
			json_opt_str(out, "state", obs_state_name(c->state));
			json_opt_str(out, "tasks", c->tasks);
			json_opt_str(out, "problem", c->problem);
		}
		buf_putc(out, '}');
	}
	buf_putc(out, ']');
}

/* "routes": [{"host", "service", "port", "scope", "served"}] of project */
static void status_routes_json(struct buf *out, const char *project,
			       const struct routes *r, const struct strvec *served)
{
	size_t i;
	bool any = false;

	if (!r)
		return;
	for (i = 0; i < r->n; i++) {
		char *line;

		if (strcmp(r->v[i].project, project))
			continue;
		buf_puts(out, any ? ", {\"host\": " : ", \"routes\": [{\"host\": ");
		any = true;
		buf_json_str(out, r->v[i].host);
		buf_puts(out, ", \"service\": ");
		buf_json_str(out, r->v[i].service);
		buf_printf(out, ", \"port\": %d, \"scope\": ", r->v[i].port);
		buf_json_str(out, route_scope_name(r->v[i].scope));
		line = route_line(&r->v[i]);
		buf_printf(out, ", \"served\": %s}",
			   served && strvec_has(served, line) ? "true" : "false");
		free(line);
	}
	if (any)
		buf_putc(out, ']');
}

void output_status_json(struct buf *out, const struct project_status *v,
			size_t n, const struct observed *obs,
			const struct routes *routes, const struct strvec *served)
{
	size_t i;

	buf_putc(out, '[');
	for (i = 0; i < n; i++) {
		char t[21];

		buf_puts(out, i ? ",\n  {\"name\": " : "\n  {\"name\": ");
		buf_json_str(out, v[i].name);
		json_opt_str(out, "phase", v[i].phase);
		json_opt_str(out, "reason", v[i].reason);
		json_opt_str(out, "message", v[i].message);
		json_opt_str(out, "commit", v[i].commit);
		json_opt_str(out, "specHash", v[i].spec_hash);
		json_opt_str(out, "file", v[i].file);
		if (v[i].has_expire) {
			format_rfc3339(v[i].expire_at, t);
			json_opt_str(out, "expireAt", t);
		}
		format_rfc3339(v[i].created, t);
		json_opt_str(out, "created", t);
		format_rfc3339(v[i].updated, t);
		json_opt_str(out, "lastTransitionTime", t);
		status_images_json(out, v[i].name, obs);
		status_routes_json(out, v[i].name, routes, served);
		buf_putc(out, '}');
	}
	buf_puts(out, n ? "\n]\n" : "]\n");
}
