/*
 * cmd_status.c - cara status: projects, phase, last condition, commit, age
 */
#include "cmd.h"
#include "config.h"
#include "util.h"

static int cmd_status_exec(struct config *cfg, int argc, char **argv)
{
	(void)cfg; (void)argc; (void)argv;
	error_set("'status' is not implemented yet");
	return EXIT_ERROR;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.usage = "[--output text|json]",
	.summary = "projects, phase, last condition, commit, age",
	.exec = cmd_status_exec,
};
