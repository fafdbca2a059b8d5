/*
 * cmd_diff.c - cara diff: the plan only.  Exit 0 when nothing would
 * change, 2 when something would, 1 on error (an unreadable source, an
 * unreachable Engine, or an invalid manifest: CI should stop on those).
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "log.h"
#include "output.h"
#include "pass.h"
#include "phase.h"
#include "proxy.h"

/* What sync would refuse: a mass prune, another state's objects, what
 * the Engine cannot carry. */
static void report_refusals(struct pass *p)
{
	size_t i;

	if (p->plan.mass_refused)
		pass_report_mass_refused(p);
	for (i = 0; i < p->plan.nprojects; i++)
		if (p->plan.projects[i].verdict == VERDICT_REFUSED)
			log_msg(LOG_ERROR, p->plan.projects[i].name, "%s: %s",
				reason_name(phase_refusal_reason(
					p->plan.projects[i].refusal)),
				p->plan.projects[i].message);
}

static int cmd_diff_exec(struct config *cfg, int argc, char **argv)
{
	struct pass p;
	struct buf out = BUF_INIT;
	int rc = EXIT_ERROR;
	bool json = !strcmp(cfg->output, "json");
	const char *outcome;
	size_t route_changes = 0;

	(void)argc; (void)argv;
	log_setup(!strcmp(cfg->log_format, "json"), cfg->verbose);
	pass_init(&p, cfg, (int64_t)time(NULL));
	if (pass_read_source(&p, true) < 0) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		goto out;
	}
	pass_report_diags(&p);
	if (pass_open_state(&p, "diff", false) < 0 || pass_observe(&p) < 0 ||
	    pass_pin_volumes(&p, false) < 0) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		pass_finish(&p, "error", NULL);
		goto out;
	}
	/* the digests only: diff pulls nothing */
	pass_check_images(&p, false);
	if (pass_plan(&p, false, cfg->prune) < 0) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		pass_finish(&p, "error", NULL);
		goto out;
	}
	{
		/* with the routes a sync of this plan would give the proxy */
		struct buf lines = BUF_INIT;
		struct strvec rl = STRVEC_INIT;
		const char *l, *nl;

		if (proxy_diff(&lines, &p, &route_changes) < 0) {
			log_msg(LOG_ERROR, NULL, "%s", error_last());
			buf_release(&lines);
			goto out;
		}
		for (l = buf_cstr(&lines); *l; l = nl + 1) {
			if (!(nl = strchr(l, '\n')))
				break;
			strvec_push_nodup(&rl, xstrndup(l, (size_t)(nl - l)));
		}
		if (json) {
			output_plan_json(&out, &p.plan, &rl);
		} else {
			/* "no changes" would say wrong when routes change */
			if (!plan_is_empty(&p.plan) || !route_changes)
				output_plan_text(&out, &p.plan,
						 output_use_color(STDOUT_FILENO, cfg->no_color));
			buf_add(&out, lines.ptr, lines.len);
		}
		strvec_release(&rl);
		buf_release(&lines);
	}
	if (output_write_stdout(&out) < 0) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		goto out;
	}
	if (p.diags.nerrors)
		log_msg(LOG_ERROR, NULL, "%zu manifest error%s: those projects are "
			"left as they are", p.diags.nerrors,
			p.diags.nerrors == 1 ? "" : "s");
	else
		report_refusals(&p);
	rc = outcome_of_plan(&p.plan, p.diags.nerrors, &outcome);
	if (rc == EXIT_CONVERGED && route_changes) {
		rc = EXIT_CHANGES;
		outcome = "changes";
	}
	pass_finish(&p, outcome, NULL);
	log_msg(LOG_DEBUG, NULL, "%lu Engine API calls", p.ops->calls(p.backend));
out:
	buf_release(&out);
	pass_release(&p);
	return rc;
}

const struct cmd_entry cmd_diff_entry = {
	.name = "diff",
	.options = OPTS_COMMON | OPTS_SOURCE | OPTS_MANIFEST | OPTS_ENGINE | OPTS_PASS | OPTS_STATE,
	.usage = "[--repo URL [--ref REF]] [--path DIR] [--output text|json]",
	.summary = "print the plan; exit 0 no changes, 2 changes, 1 error",
	.exec = cmd_diff_exec,
};
