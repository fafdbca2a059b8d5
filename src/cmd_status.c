/*
 * cmd_status.c - cara status: one line per project known to the state
 * database (NAME PHASE CONDITION COMMIT AGE; on a Swarm, then one line per
 * service with its tasks and nodes), or --output json, which also
 * lists each project's containers with the image and the registry digest
 * they run, as the newest observed snapshot has them (taken at the end of
 * the last pass that changed something, else at its start).  Reads state only: it works while a pass runs and
 * without a Docker Engine.
 */
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "config.h"
#include "log.h"
#include "output.h"
#include "proxy.h"
#include "state.h"

static int cmd_status_exec(struct config *cfg, int argc, char **argv)
{
	struct state *st = NULL;
	struct project_status *v = NULL;
	struct observed obs = OBSERVED_INIT;
	struct buf out = BUF_INIT;
	struct routes rt = ROUTES_INIT;
	struct strvec served = STRVEC_INIT;
	bool have_obs = false;
	size_t n = 0;
	int rc = EXIT_ERROR, r;

	(void)argc; (void)argv;
	r = state_open_existing(&st, cfg->state_dir);
	if (r == ERR_NOTFOUND) {
		/* no pass has run yet: an empty list, not an error */
	} else if (r < 0 || state_list_projects(st, &v, &n) < 0) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		goto out;
	}
	if (st && (proxy_routes(&rt, st, NULL, NULL) < 0 ||
		   proxy_served(&served, st) < 0)) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		goto out;
	}
	if (st) {
		r = state_load_last_observed(st, &obs);
		if (r < 0 && r != ERR_NOTFOUND && !strcmp(cfg->output, "json")) {
			log_msg(LOG_ERROR, NULL, "%s", error_last());
			goto out;
		}
		if (r < 0 && r != ERR_NOTFOUND)
			/* the text's projects do not need it: only the services */
			log_msg(LOG_WARN, NULL, "%s", error_last());
		have_obs = r == 0;
	}
	if (!strcmp(cfg->output, "json")) {
		output_status_json(&out, v, n, have_obs ? &obs : NULL, &rt, &served);
	} else {
		output_status_table(&out, v, n, (int64_t)time(NULL));
		/* a cluster's services, their tasks and nodes */
		if (have_obs)
			output_services_table(&out, &obs, v, n);
		/* the routes, when there are any, after the projects */
		if (rt.n) {
			buf_puts(&out, "\nROUTES\n");
			ingress_routes_text(&out, &rt, &served, NULL, "");
		}
	}
	if (output_write_stdout(&out) < 0) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		goto out;
	}
	rc = EXIT_CONVERGED;
out:
	project_status_free(v, n);
	routes_release(&rt);
	strvec_release(&served);
	observed_release(&obs);
	state_close(st);
	buf_release(&out);
	return rc;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.options = OPTS_COMMON | OPTS_STATE,
	.usage = "[--output text|json]",
	.summary = "projects, phase, last condition, commit, age",
	.exec = cmd_status_exec,
};
