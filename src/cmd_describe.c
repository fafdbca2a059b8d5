/*
 * cmd_describe.c - cara describe PROJECT: what state knows of one project
 * (spec hash, file, commit, expiry, phase), its Docker objects as the
 * Engine shows them now, its conditions and its recent history.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "config.h"
#include "backend/backend.h"
#include "log.h"
#include "output.h"
#include "pin.h"
#include "proxy.h"
#include "state.h"

static void describe_objects(struct buf *out, const struct config *cfg,
			     const char *name)
{
	const struct backend_ops *ops = backend_find(cfg->backend) ?
					backend_find(cfg->backend) : &backend_engine;
	struct backend_options bopts = { cfg->docker_host, cfg->docker_timeout_s * 1000, NULL };
	struct backend *b = NULL;
	struct observed o = OBSERVED_INIT;
	size_t i;

	buf_puts(out, "Objects:\n");
	if (ops->open(&b, &bopts) < 0 || ops->observe(b, &o) < 0) {
		buf_printf(out, "  (cannot list: %s)\n", error_last());
		goto out;
	}
	for (i = 0; i < o.nnetworks; i++)
		if (!strcmp(o.networks[i].project, name))
			buf_printf(out, "  network    %s\n", o.networks[i].name);
	for (i = 0; i < o.nvolumes; i++)
		if (!strcmp(o.volumes[i].project, name))
			buf_printf(out, "  volume     %s (%s)\n", o.volumes[i].name,
				   o.volumes[i].type);
	for (i = 0; i < o.ncontainers; i++) {
		const struct obs_container *c = &o.containers[i];
		const char *digest;

		if (strcmp(c->project, name))
			continue;
		digest = observed_container_digest(&o, c);
		buf_printf(out, "  %s  %s  service=%s image=%s digest=%s state=%s",
			   c->tasks ? "service  " : "container", c->name, c->service, c->image, digest ? digest : "-",
			   obs_state_name(c->state));
		if (c->health != HEALTH_NONE)
			buf_printf(out, " health=%s", obs_health_name(c->health));
		if (c->state == OBS_EXITED)
			buf_printf(out, " exit=%d", c->exit_code);
		buf_printf(out, " spec=%.12s\n", c->spec_hash);
		if (c->tasks) {
			/* a cluster's service: its tasks, their nodes, what is
			 * wrong, each on a line of its own */
			buf_printf(out, "             tasks:   %s\n", *c->tasks ? c->tasks : "-");
			if (c->problem && *c->problem)
				buf_printf(out, "             problem: %s\n", c->problem);
		}
	}
out:
	observed_release(&o);
	ops->close(b);
}

/* On a Swarm, the node each Managed volume is pinned to (only when the
 * project has pins: nothing on the Engine). */
static void describe_pins(struct buf *out, struct state *st, const char *name)
{
	struct strvec pins = STRVEC_INIT;
	struct pin_row r;
	size_t i, shown = 0;

	if (state_volume_pins(st, &pins) < 0) {
		buf_printf(out, "Volume pins:\n  (cannot list: %s)\n", error_last());
		goto out;
	}
	for (i = 0; i < pins.n; i++) {
		if (!pin_row_of(pins.v[i], name, &r) || !r.nid)
			continue;      /* not this project's, or dropped */
		if (!shown++)
			buf_puts(out, "Volume pins:\n");
		buf_printf(out, "  %.*s  node %s (%.*s)\n", (int)r.nvolume, r.volume,
			   r.host, (int)r.nid, r.id);
	}
out:
	strvec_release(&pins);
}

static int cmd_describe_exec(struct config *cfg, int argc, char **argv)
{
	struct state *st = NULL;
	struct project_status *v = NULL;
	struct state_condition *conds = NULL;
	struct state_event_row *evs = NULL;
	struct buf out = BUF_INIT;
	size_t n = 0, nc = 0, ne = 0, i;
	const struct project_status *ps = NULL;
	const char *name;
	int rc = EXIT_ERROR;
	char t[21];

	if (argc != 1) {
		log_msg(LOG_ERROR, NULL, "usage: cara describe PROJECT");
		return EXIT_ERROR;
	}
	name = argv[0];
	if (state_open_existing(&st, cfg->state_dir) < 0 ||
	    state_list_projects(st, &v, &n) < 0) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		goto out;
	}
	for (i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			ps = &v[i];
	if (!ps) {
		log_msg(LOG_ERROR, NULL, "no project '%s' in '%s/state.db'", name,
			cfg->state_dir);
		goto out;
	}
	buf_printf(&out, "Name:       %s\n", ps->name);
	buf_printf(&out, "Phase:      %s\n", ps->phase ? ps->phase : "-");
	buf_printf(&out, "Reason:     %s\n", ps->reason && *ps->reason ? ps->reason : "-");
	if (ps->message && *ps->message)
		buf_printf(&out, "Message:    %s\n", ps->message);
	buf_printf(&out, "Source:     %s\n", ps->file && *ps->file ? ps->file : "-");
	buf_printf(&out, "Commit:     %s\n", ps->commit && *ps->commit ? ps->commit : "-");
	buf_printf(&out, "Spec hash:  %s\n", ps->spec_hash && *ps->spec_hash ? ps->spec_hash : "-");
	if (ps->has_expire) {
		format_rfc3339(ps->expire_at, t);
		buf_printf(&out, "Expires:    %s\n", t);
	}
	describe_objects(&out, cfg, name);
	describe_pins(&out, st, name);
	{
		struct routes r = ROUTES_INIT;
		struct strvec served = STRVEC_INIT;

		buf_puts(&out, "Routes:\n");
		if (proxy_routes(&r, st, NULL, NULL) < 0 || proxy_served(&served, st) < 0)
			buf_printf(&out, "  (cannot list: %s)\n", error_last());
		else
			ingress_routes_text(&out, &r, &served, name, "  ");
		routes_release(&r);
		strvec_release(&served);
	}
	if (state_project_conditions(st, name, 10, &conds, &nc) < 0 ||
	    state_project_events(st, name, 20, &evs, &ne) < 0) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		goto out;
	}
	buf_puts(&out, "Conditions:\n");
	for (i = 0; i < nc; i++) {
		format_rfc3339(conds[i].time, t);
		buf_printf(&out, "  %s  %s=%s  %s  %s\n", t, conds[i].type,
			   conds[i].status, conds[i].reason,
			   conds[i].message ? conds[i].message : "");
	}
	buf_puts(&out, "Events:\n");
	for (i = 0; i < ne; i++) {
		format_rfc3339(evs[i].time, t);
		buf_printf(&out, "  %s  pass %lld  %s  %s\n", t,
			   (long long)evs[i].pass_id, evs[i].kind,
			   evs[i].message ? evs[i].message : "");
	}
	if (output_write_stdout(&out) == 0)
		rc = EXIT_CONVERGED;
out:
	state_conditions_free(conds, nc);
	state_events_free(evs, ne);
	project_status_free(v, n);
	state_close(st);
	buf_release(&out);
	return rc;
}

const struct cmd_entry cmd_describe_entry = {
	.name = "describe",
	.options = OPTS_COMMON | OPTS_STATE | OPTS_ENGINE,
	.usage = "PROJECT",
	.summary = "one project: spec, objects, conditions, history",
	.exec = cmd_describe_exec,
};
