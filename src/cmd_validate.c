/*
 * cmd_validate.c - cara validate: check manifests in a directory or repository
 */
#include "cmd.h"
#include "config.h"
#include "util.h"

static int cmd_validate_exec(struct config *cfg, int argc, char **argv)
{
	(void)cfg; (void)argc; (void)argv;
	error_set("'validate' is not implemented yet");
	return EXIT_ERROR;
}

const struct cmd_entry cmd_validate_entry = {
	.name = "validate",
	.usage = "[--repo URL [--ref REF]] [--output text|json] [DIR]",
	.summary = "check manifests in a directory or repository",
	.exec = cmd_validate_exec,
};
