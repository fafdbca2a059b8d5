/*
 * cmd_gc.c - cara gc: tear down expired projects and projects removed from source
 */
#include "cmd.h"
#include "config.h"
#include "util.h"

static int cmd_gc_exec(struct config *cfg, int argc, char **argv)
{
	(void)cfg; (void)argc; (void)argv;
	error_set("'gc' is not implemented yet");
	return EXIT_ERROR;
}

const struct cmd_entry cmd_gc_entry = {
	.name = "gc",
	.usage = "[--dry-run]",
	.summary = "tear down expired projects and projects removed from source",
	.exec = cmd_gc_exec,
};
