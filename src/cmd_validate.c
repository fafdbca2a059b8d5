/*
 * cmd_validate.c - cara validate: check the manifests of a directory (or
 * one file) or of a repository, as CI does on a pull request.  Nothing
 * touches the Engine or the state database.
 *
 * Findings go to stderr as "FILE:LINE:COL: field.path: message", or, with
 * --output json, to stdout as a JSON array for CI annotations.  The last
 * line on stderr sums up.  Exit 0 when there is no error (warnings are
 * fine), 1 when there is one or the source cannot be read.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "log.h"
#include "output.h"
#include "pass.h"

static int cmd_validate_exec(struct config *cfg, int argc, char **argv)
{
	struct pass p;
	struct buf out = BUF_INIT;
	bool json = !strcmp(cfg->output, "json");
	int rc = EXIT_ERROR;

	(void)argv;
	log_setup(!strcmp(cfg->log_format, "json"), cfg->verbose);
	if (argc > 1) {
		log_msg(LOG_ERROR, NULL, "validate takes one directory or file, "
			"not %d", argc);
		return EXIT_ERROR;
	}
	pass_init(&p, cfg, (int64_t)time(NULL));
	p.scratch_cache = true;
	if (pass_read_source(&p, false) < 0) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		goto out;
	}
	if (json) {
		output_diags_json(&out, &p.diags);
		if (output_write_stdout(&out) < 0) {
			log_msg(LOG_ERROR, NULL, "%s", error_last());
			goto out;
		}
	} else {
		log_diags(&p.diags);
	}
	pass_report_summary(&p);
	rc = p.diags.nerrors ? EXIT_ERROR : EXIT_CONVERGED;
out:
	buf_release(&out);
	pass_release(&p);
	return rc;
}

const struct cmd_entry cmd_validate_entry = {
	.name = "validate",
	.options = OPTS_COMMON | OPTS_SOURCE | OPTS_MANIFEST,
	.usage = "[--repo URL [--ref REF]] [--output text|json] [DIR|FILE]",
	.summary = "check manifests in a directory or repository",
	.exec = cmd_validate_exec,
};
