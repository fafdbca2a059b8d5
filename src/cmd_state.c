/*
 * cmd_state.c - cara state backup FILE | restore FILE | check | identity |
 * unpin PROJECT VOLUME: an online SQLite backup of the state database,
 * its restore (under the pass lock, so no pass runs meanwhile), PRAGMA
 * integrity_check, the state's identity, and a Managed volume's pin to a
 * Swarm node dropped (under the lock too).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "log.h"
#include "state.h"

static int cmd_state_exec(struct config *cfg, int argc, char **argv)
{
	struct state *st = NULL;
	char *report = NULL;
	int rc = EXIT_ERROR, r;

	bool noarg = argc >= 1 && (!strcmp(argv[0], "check") ||
				    !strcmp(argv[0], "identity"));
	bool two = argc >= 1 && !strcmp(argv[0], "unpin");

	if (argc < 1 || argc != (noarg ? 1 : two ? 3 : 2)) {
		log_msg(LOG_ERROR, NULL, "usage: cara state backup FILE | restore FILE | "
			"check | identity | unpin PROJECT VOLUME");
		return EXIT_ERROR;
	}
	if (!strcmp(argv[0], "backup")) {
		if (state_open_existing(&st, cfg->state_dir) < 0 ||
		    state_backup(st, argv[1]) < 0)
			goto fail;
		log_msg(LOG_INFO, NULL, "state backed up to '%s'", argv[1]);
	} else if (!strcmp(argv[0], "restore")) {
		if (state_open(&st, cfg->state_dir) < 0)
			goto fail;
		r = state_lock(st, (int)cfg->wait_lock_s);
		if (r == 0)
			r = state_restore(st, argv[1]);
		if (r == ERR_LOCKED)
			rc = EXIT_LOCKED;
		if (r < 0)
			goto fail;
		log_msg(LOG_INFO, NULL, "state restored from '%s'", argv[1]);
	} else if (!strcmp(argv[0], "check")) {
		if (state_open_existing(&st, cfg->state_dir) < 0 ||
		    state_integrity(st, &report) < 0)
			goto fail;
		printf("%s\n", report);
		if (strcmp(report, "ok"))
			goto out;
	} else if (!strcmp(argv[0], "identity")) {
		/* what its objects carry as cara.owner; made by the first pass */
		if (state_open_existing(&st, cfg->state_dir) < 0 ||
		    state_identity(st, &report) < 0)
			goto fail;
		printf("%s\n", report);
	} else if (two) {
		/* a Managed volume's node on a Swarm: the next pass picks one
		 * afresh (doc/operations.md: moving a pinned volume) */
		if (state_open_existing(&st, cfg->state_dir) < 0)
			goto fail;
		r = state_lock(st, (int)cfg->wait_lock_s);
		if (r == 0)
			r = state_volume_unpin(st, argv[1], argv[2]);
		if (r == ERR_LOCKED)
			rc = EXIT_LOCKED;
		if (r < 0)
			goto fail;
		log_msg(LOG_INFO, NULL, "volume '%s' of project '%s' unpinned: the next "
			"pass places it again", argv[2], argv[1]);
	} else {
		log_msg(LOG_ERROR, NULL, "unknown state subcommand '%s'", argv[0]);
		goto out;
	}
	rc = EXIT_CONVERGED;
	goto out;
fail:
	log_msg(LOG_ERROR, NULL, "%s", error_last());
out:
	free(report);
	state_close(st);
	return rc;
}

const struct cmd_entry cmd_state_entry = {
	.name = "state",
	.options = OPTS_COMMON | OPTS_STATE,
	.usage = "backup FILE | restore FILE | check | identity | unpin PROJECT VOLUME",
	.summary = "back up, restore or check the state database",
	.exec = cmd_state_exec,
};
