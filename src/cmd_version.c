/*
 * cmd_version.c - cara version: the program and library versions.
 */
#include <stdio.h>

#include <curl/curl.h>
#include <git2.h>
#include <jansson.h>
#include <sqlite3.h>
#include <yaml.h>

#include "cmd.h"
#include "config.h"
#include "util.h"

static int cmd_version_exec(struct config *cfg, int argc, char **argv)
{
	int maj, min, rev, feat;

	(void)argc; (void)argv;
	git_libgit2_version(&maj, &min, &rev);
	/* the transports this libgit2 was built with: a Debian libgit2 has
	 * both, a home-built one may lack ssh */
	feat = git_libgit2_features();
	printf("cara %s\n", PACKAGE_VERSION);
	if (cfg->verbose)
		printf("libgit2 %d.%d.%d (%s, %s), libyaml %s, %s, jansson %s, "
		       "sqlite %s\n", maj, min, rev,
		       feat & GIT_FEATURE_HTTPS ? "https" : "no https",
		       feat & GIT_FEATURE_SSH ? "ssh" : "no ssh",
		       yaml_get_version_string(), curl_version(),
		       JANSSON_VERSION, sqlite3_libversion());
	return EXIT_CONVERGED;
}

const struct cmd_entry cmd_version_entry = {
	.name = "version",
	.options = OPTS_COMMON,
	.usage = "[--verbose]",
	.summary = "print the version (and with --verbose the library versions)",
	.exec = cmd_version_exec,
};
