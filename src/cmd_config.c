/*
 * cmd_config.c - cara config: print the effective configuration and where each value came from
 */
#include "cmd.h"
#include "config.h"
#include "util.h"

static int cmd_config_exec(struct config *cfg, int argc, char **argv)
{
	(void)cfg; (void)argc; (void)argv;
	error_set("'config' is not implemented yet");
	return EXIT_ERROR;
}

const struct cmd_entry cmd_config_entry = {
	.name = "config",
	.usage = "[--output text|json]",
	.summary = "print the effective configuration and where each value came from",
	.exec = cmd_config_exec,
};
