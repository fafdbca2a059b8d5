/*
 * cmd_describe.c - cara describe: one project: spec, objects, conditions, history
 */
#include "cmd.h"
#include "config.h"
#include "util.h"

static int cmd_describe_exec(struct config *cfg, int argc, char **argv)
{
	(void)cfg; (void)argc; (void)argv;
	error_set("'describe' is not implemented yet");
	return EXIT_ERROR;
}

const struct cmd_entry cmd_describe_entry = {
	.name = "describe",
	.usage = "PROJECT",
	.summary = "one project: spec, objects, conditions, history",
	.exec = cmd_describe_exec,
};
