/*
 * cmd_version.c - cara version: print the version
 */
#include "cmd.h"
#include "config.h"
#include "util.h"

static int cmd_version_exec(struct config *cfg, int argc, char **argv)
{
	(void)cfg; (void)argc; (void)argv;
	error_set("'version' is not implemented yet");
	return EXIT_ERROR;
}

const struct cmd_entry cmd_version_entry = {
	.name = "version",
	.usage = "",
	.summary = "print the version",
	.exec = cmd_version_exec,
};
