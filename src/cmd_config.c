/*
 * cmd_config.c - cara config: the effective configuration, each value with
 * where it came from (flag, env, file, default); secrets masked.
 */
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "output.h"
#include "util.h"

static int cmd_config_exec(struct config *cfg, int argc, char **argv)
{
	struct buf out = BUF_INIT;
	int rc;

	(void)argc; (void)argv;
	config_print(cfg, !strcmp(cfg->output, "json"), &out);
	rc = output_write_stdout(&out);
	buf_release(&out);
	return rc < 0 ? EXIT_ERROR : EXIT_CONVERGED;
}

const struct cmd_entry cmd_config_entry = {
	.name = "config",
	.options = OPTS_ALL,
	.usage = "[--output text|json]",
	.summary = "print the effective configuration and where each value came from",
	.exec = cmd_config_exec,
};
