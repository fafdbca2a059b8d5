/*
 * input/input.c - the one way files become projects: every file of a
 * snapshot read as YAML (yaml.c), each document handed to its reader
 * (caravan.c for caravanserai/v1), then the checks that span files
 * (validate.c).
 *
 *   yaml.c      YAML text to a tree with marks; caps; alias budget
 *   schema.c    findings, ${VAR}, typed getters, the field walker
 *   caravan.c   the caravanserai/v1 Project reader
 *   checks.c    the value checks readers and the validator share
 *   validate.c  one project as a whole, and a source's projects together
 *
 * Hostile input: a file is refused before libyaml sees it when it is too
 * large, holds a NUL byte or is not UTF-8; nesting depth, nodes per file,
 * scalar length, anchors and alias expansion are capped, findings per
 * file too, and every walk is linear (or n log n), so no input can make a
 * pass hang or run out of memory.
 */
#include <stdlib.h>
#include <string.h>

#include "input/schema.h"
#include "source/source.h"

/* The text could not be read: nothing of the file can be trusted. */
static void text_error(void *ctx, int line, int col, const char *message)
{
	file_error(ctx, line, col, "%s", message);
}

/* Every document of a manifest file goes to the one reader there is. */
static void read_document(void *ctx, const struct ynode *root)
{
	caravan_read_document(ctx, root);
}

int manifest_parse_buffer(struct project_set *set, const char *file,
			  const char *data, size_t len,
			  const struct manifest_options *opts, struct diags *d)
{
	struct pctx c;
	size_t max = opts && opts->max_file_bytes ? opts->max_file_bytes :
		     SOURCE_MAX_FILE_BYTES;
	struct yaml_reader r = {
		.document = read_document, .error = text_error, .ctx = &c,
		.source_expanded_bytes = &set->expanded_bytes,
	};

	memset(&c, 0, sizeof(c));
	c.set = set;
	c.file = file ? file : "";
	c.opts = opts;
	c.d = d;
	set->nfiles++;
	if (len > max) {
		file_error(&c, 1, 1, "file is larger than %zu bytes: refused", max);
	} else if (yaml_read(&r, data, len) == 0) {
		struct ynode at = { .pos = { 1, 1 } };

		buf_reset(&c.path);
		pwarn(&c, &at, "empty file: no YAML document");
	}
	if (c.hidden) {
		diags_add(d, c.hidden_errors ? DIAG_ERROR : DIAG_WARNING, c.file, 1, 1,
			  "", "%zu more problems in this file not shown "
			  "(%zu errors)", c.hidden, c.hidden_errors);
	}
	buf_release(&c.path);
	return 0;
}

/* ---- a snapshot: the one way files become projects ---- */

int manifest_load_snapshot(struct project_set *set,
			   const struct source_snapshot *snap,
			   const struct manifest_options *opts, struct diags *d)
{
	size_t i;

	for (i = 0; i < snap->nproblems; i++) {
		const struct source_problem *pr = &snap->problems[i];

		diags_add(d, pr->warning ? DIAG_WARNING : DIAG_ERROR, pr->path, 1, 1,
			  "", "%s", pr->message);
		/* a file that could not be read may hold projects: no pruning */
		if (!pr->warning) {
			set->incomplete = true;
			set->nfiles++;
		}
	}
	for (i = 0; i < snap->nfiles; i++)
		if (manifest_parse_buffer(set, snap->files[i].path, snap->files[i].data,
					  snap->files[i].len, opts, d) < 0)
			return -1;
	manifest_validate_set(set, d);
	return 0;
}

int manifest_load_dir(struct project_set *set, const char *dir,
		      const struct manifest_options *opts, struct diags *d)
{
	struct source_snapshot snap;
	int rc;

	if (source_read_dir(&snap, dir, opts ? opts->max_file_bytes : 0) < 0)
		return -1;
	rc = manifest_load_snapshot(set, &snap, opts, d);
	source_snapshot_release(&snap);
	return rc;
}
