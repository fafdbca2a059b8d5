/*
 * cmd_sync.c - cara sync: one pass: fetch, validate, observe, plan, apply, gc
 */
#include "cmd.h"
#include "config.h"
#include "util.h"

static int cmd_sync_exec(struct config *cfg, int argc, char **argv)
{
	(void)cfg; (void)argc; (void)argv;
	error_set("'sync' is not implemented yet");
	return EXIT_ERROR;
}

const struct cmd_entry cmd_sync_entry = {
	.name = "sync",
	.usage = "[--repo URL [--ref REF]] [--path DIR] [--dry-run]",
	.summary = "one pass: fetch, validate, observe, plan, apply, gc",
	.exec = cmd_sync_exec,
};
