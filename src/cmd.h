/*
 * cmd.h - the command table (tmux's cmd_entry).  Each src/cmd_<name>.c
 * exports one struct cmd_entry; cmd.c holds the table.  Only main and the
 * exec functions print results or choose exit codes.
 */
#ifndef CARA_CMD_H
#define CARA_CMD_H

#include <stdbool.h>

#include "outcome.h"

struct config;

struct cmd_entry {
	const char *name;
	const char *usage;         /* after "cara NAME " */
	const char *summary;
	unsigned options;          /* OPTS_* groups of the flags it takes */
	/* argv[0] is the command name; options already removed are in cfg. */
	int (*exec)(struct config *cfg, int argc, char **argv);
};

const struct cmd_entry *cmd_find(const char *name);

/* The body of sync and gc (gc_only: expireAt and prune only). */
int cmd_sync_run(struct config *cfg, bool gc_only);
extern const struct cmd_entry *const cmd_table[];

extern const struct cmd_entry cmd_sync_entry;
extern const struct cmd_entry cmd_diff_entry;
extern const struct cmd_entry cmd_validate_entry;
extern const struct cmd_entry cmd_convert_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_describe_entry;
extern const struct cmd_entry cmd_gc_entry;
extern const struct cmd_entry cmd_config_entry;
extern const struct cmd_entry cmd_state_entry;
extern const struct cmd_entry cmd_version_entry;

#endif
