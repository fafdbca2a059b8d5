/*
 * cmd_diff.c - cara diff: print the plan; exit 0 no changes, 2 changes, 1 error
 */
#include "cmd.h"
#include "config.h"
#include "util.h"

static int cmd_diff_exec(struct config *cfg, int argc, char **argv)
{
	(void)cfg; (void)argc; (void)argv;
	error_set("'diff' is not implemented yet");
	return EXIT_ERROR;
}

const struct cmd_entry cmd_diff_entry = {
	.name = "diff",
	.usage = "[--repo URL [--ref REF]] [--path DIR] [--output text|json]",
	.summary = "print the plan; exit 0 no changes, 2 changes, 1 error",
	.exec = cmd_diff_exec,
};
