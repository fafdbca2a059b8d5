/*
 * cmd_convert.c - cara convert: what cara read at a path (a directory or
 * one file; compose files and manifests alike) written back as
 * caravanserai/v1 Project manifests on stdout, one YAML document a
 * project, sorted by name.  A way off compose, and a view of what cara
 * understood.
 *
 * Reads as `cara validate PATH` does, with the same options; when that
 * finds an error, the findings and the summary go to stderr exactly as
 * validate prints them, nothing to stdout, and the exit status is 1.
 * Warnings go to stderr and do not stop the output.  Secrets are never
 * read: a secret stays a valueFrom.secretKeyRef.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "convert.h"
#include "log.h"
#include "output.h"
#include "pass.h"

static int by_name(const void *a, const void *b)
{
	const struct project *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

static int cmd_convert_exec(struct config *cfg, int argc, char **argv)
{
	struct pass p;
	struct buf out = BUF_INIT;
	const struct project **sorted = NULL;
	int rc = EXIT_ERROR;
	size_t i;

	(void)argv;
	log_setup(!strcmp(cfg->log_format, "json"), cfg->verbose);
	if (argc != 1) {
		log_msg(LOG_ERROR, NULL, "convert takes one directory or file, "
			"not %d", argc);
		return EXIT_ERROR;
	}
	if (strcmp(cfg->output, "text")) {
		log_msg(LOG_ERROR, NULL, "convert writes YAML: --output %s is not "
			"supported", cfg->output);
		return EXIT_ERROR;
	}
	pass_init(&p, cfg, (int64_t)time(NULL));
	if (pass_read_source(&p, false) < 0) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		goto out;
	}
	log_diags(&p.diags);
	if (p.diags.nerrors) {
		pass_report_summary(&p);
		goto out;
	}
	/* a Project has no spelling for them yet: refused, never dropped */
	for (i = 0; i < p.desired.n; i++) {
		const struct project *pr = &p.desired.v[i];
		size_t j;

		for (j = 0; j < pr->nservices; j++)
			if (pr->services[j].nsecrets) {
				log_msg(LOG_ERROR, pr->name, "%s: services.%s.secrets: "
					"a caravanserai/v1 Project has no secret files: "
					"not converted", pr->file, pr->services[j].name);
				goto out;
			}
	}
	sorted = xcalloc(p.desired.n + 1, sizeof(*sorted));
	for (i = 0; i < p.desired.n; i++)
		sorted[i] = &p.desired.v[i];
	qsort(sorted, p.desired.n, sizeof(*sorted), by_name);
	for (i = 0; i < p.desired.n; i++) {
		if (i)
			buf_puts(&out, "---\n");
		convert_write_project(&out, sorted[i]);
	}
	if (output_write_stdout(&out) < 0) {
		log_msg(LOG_ERROR, NULL, "%s", error_last());
		goto out;
	}
	rc = EXIT_CONVERGED;
out:
	free(sorted);
	buf_release(&out);
	pass_release(&p);
	return rc;
}

const struct cmd_entry cmd_convert_entry = {
	.name = "convert",
	.options = OPTS_COMMON | OPTS_MANIFEST,
	.usage = "DIR|FILE",
	.summary = "print what cara read as caravanserai/v1 manifests",
	.exec = cmd_convert_exec,
};
