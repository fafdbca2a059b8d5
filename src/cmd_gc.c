/*
 * cmd_gc.c - cara gc: the garbage-collection part of a pass only: tear
 * down projects past their expireAt and projects removed from the source.
 */
#include "cmd.h"
#include "config.h"

static int cmd_gc_exec(struct config *cfg, int argc, char **argv)
{
	(void)argc; (void)argv;
	return cmd_sync_run(cfg, true);
}

const struct cmd_entry cmd_gc_entry = {
	.name = "gc",
	.options = OPTS_ALL,
	.usage = "[--repo URL [--ref REF]] [--path DIR] [--dry-run]",
	.summary = "tear down expired projects and projects removed from source",
	.exec = cmd_gc_exec,
};
