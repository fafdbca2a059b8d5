/*
 * cmd_state.c - cara state: back up, restore or check the state database
 */
#include "cmd.h"
#include "config.h"
#include "util.h"

static int cmd_state_exec(struct config *cfg, int argc, char **argv)
{
	(void)cfg; (void)argc; (void)argv;
	error_set("'state' is not implemented yet");
	return EXIT_ERROR;
}

const struct cmd_entry cmd_state_entry = {
	.name = "state",
	.usage = "backup FILE | restore FILE | check",
	.summary = "back up, restore or check the state database",
	.exec = cmd_state_exec,
};
