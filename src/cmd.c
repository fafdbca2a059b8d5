/*
 * cmd.c - the command table and its lookup.
 */
#include <string.h>

#include "cmd.h"
#include "banned.h"   /* (no util.h here to bring it) */

const struct cmd_entry *const cmd_table[] = {
	&cmd_sync_entry,
	&cmd_diff_entry,
	&cmd_validate_entry,
	&cmd_convert_entry,
	&cmd_status_entry,
	&cmd_describe_entry,
	&cmd_gc_entry,
	&cmd_config_entry,
	&cmd_state_entry,
	&cmd_version_entry,
	NULL,
};

const struct cmd_entry *cmd_find(const char *name)
{
	size_t i;

	for (i = 0; cmd_table[i]; i++)
		if (!strcmp(cmd_table[i]->name, name))
			return cmd_table[i];
	return NULL;
}
