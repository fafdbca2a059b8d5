/*
 * cara.c - main: pick the command, load the configuration, run it, and
 * make sure what it printed really reached stdout before choosing the exit
 * status.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cmd.h"
#include "config.h"
#include "log.h"
#include "output.h"
#include "util.h"

/* Was --output json asked for (looked up by hand when the configuration
 * itself could not be loaded)? */
static bool wants_json(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--output=json") ||
		    (!strcmp(argv[i], "--output") && i + 1 < argc &&
		     !strcmp(argv[i + 1], "json")))
			return true;
	}
	return false;
}

/* --output json promises JSON on stdout, also when the command failed. */
static void json_error(const char *command, const char *message, int rc)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "{\"error\": {\"command\": ");
	buf_json_str(&b, command);
	buf_puts(&b, ", \"message\": ");
	buf_json_str(&b, message && *message ? message : "failed (see standard error)");
	buf_printf(&b, ", \"exit\": %d}}\n", rc);
	output_write_stdout(&b);
	buf_release(&b);
}

static void usage(FILE *f)
{
	size_t i;

	fputs("usage: cara COMMAND [options] [args]\n\ncommands:\n", f);
	for (i = 0; cmd_table[i]; i++)
		fprintf(f, "  %-10s %s\n", cmd_table[i]->name, cmd_table[i]->summary);
	fputs("\nRun 'cara COMMAND --help' for a command's options; "
	      "see cara(1).\n", f);
}

static void cmd_usage(const struct cmd_entry *c)
{
	struct buf b = BUF_INIT;

	printf("usage: cara %s %s\n\n%s\n\noptions:\n", c->name, c->usage,
	       c->summary);
	config_usage(&b, c->options);
	fputs(buf_cstr(&b), stdout);
	buf_release(&b);
}

/*
 * cara help --flags [CMD]: for scripts/cara.bash-completion, and hidden from
 * cara --help.  Without CMD the command names, one a line; with CMD the
 * flags it takes in config_flags()'s format, from the table and the groups
 * that config_load() accepts.  argv[0] is "help", argv[1] "--flags".
 */
static int help_flags(int argc, char **argv)
{
	const struct cmd_entry *c;
	struct buf b = BUF_INIT;
	size_t i;
	int rc = EXIT_ERROR;

	if (argc > 3) {
		fputs("usage: cara help --flags [COMMAND]\n", stderr);
		goto out;
	}
	if (argc == 2) {
		for (i = 0; cmd_table[i]; i++)
			buf_printf(&b, "%s\n", cmd_table[i]->name);
	} else if ((c = cmd_find(argv[2]))) {
		config_flags(&b, c->options);
	} else {
		fprintf(stderr, "cara help: unknown command '%s'\n", argv[2]);
		goto out;
	}
	fputs(buf_cstr(&b), stdout);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("cara: cannot write to standard output");
		goto out;
	}
	rc = 0;
out:
	buf_release(&b);
	return rc;
}

int main(int argc, char **argv)
{
	const struct cmd_entry *c;
	struct config cfg;
	int rc;

	setlocale(LC_ALL, "C");
	if (argc < 2) {
		usage(stderr);
		return EXIT_ERROR;
	}
	if (!strcmp(argv[1], "help") && argc > 2 && !strcmp(argv[2], "--flags"))
		return help_flags(argc - 1, argv + 1);
	if (!strcmp(argv[1], "help") && argc > 2 && (c = cmd_find(argv[2]))) {
		cmd_usage(c);
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version"))
		argv[1] = "version";
	c = cmd_find(argv[1]);
	if (!c) {
		fprintf(stderr, "cara: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return EXIT_ERROR;
	}
	if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
		die("cannot initialise libcurl");
	if (config_load(&cfg, argc - 1, argv + 1, c->options, c->name) < 0) {
		fprintf(stderr, "cara %s: %s\n", c->name, error_last());
		if (wants_json(argc, argv))
			json_error(c->name, error_last(), EXIT_ERROR);
		config_release(&cfg);
		curl_global_cleanup();
		error_clear();
		return EXIT_ERROR;
	}
	if (cfg.help) {
		cmd_usage(c);
		rc = 0;
	} else {
		rc = c->exec(&cfg, (int)cfg.args.n, cfg.args.v);
	}
	/* exit 2 of diff is an answer, not a failure; 3 is the lock */
	if (rc != 0 && rc != EXIT_CHANGES && !strcmp(cfg.output, "json") &&
	    !output_stdout_written()) {
		char *m = log_last_error();

		json_error(c->name, m, rc);
		free(m);
	}
	config_release(&cfg);
	curl_global_cleanup();
	error_clear();
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("cara: cannot write to standard output");
		return EXIT_ERROR;
	}
	return rc;
}
