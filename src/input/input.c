/*
 * input/input.c - the one way files become projects: every file of a
 * snapshot read as YAML (yaml.c), each document handed to its reader
 * (compose.c for files with compose's names, caravan.c for the others),
 * then the checks that span files (validate.c).
 *
 *   yaml.c      YAML text to a tree with marks; caps; alias budget
 *   schema.c    findings, ${VAR}, typed getters, the field walker
 *   caravan.c   the caravanserai/v1 Project reader
 *   compose.c   the compose reader: one compose file, one project
 *   merge.c     its override file, extends and include, merged into its tree
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

void reader_add_project(struct pctx *c, struct project *p)
{
	if (!p->name) {
		struct project_set gone = PROJECT_SET_INIT;

		c->set->incomplete = true;
		GROW(gone.v, gone.cap, 1);
		gone.v[gone.n++] = *p;
		project_set_release(&gone);
		return;
	}
	if (c->bad)
		p->valid = false;
	manifest_validate_project(p, c->d);
	GROW(c->set->v, c->set->cap, c->set->n + 1);
	c->set->v[c->set->n++] = *p;
}

/* The text could not be read: nothing of the file can be trusted. */
static void text_error(void *ctx, int line, int col, const char *message)
{
	file_error(ctx, line, col, "%s", message);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static int compose_rank(const char *path)
{
	return source_compose_rank(base_name(path));
}

/* The path of the compose file of rank `rank` beside path (caller frees). */
static char *compose_sibling(const char *path, int rank)
{
	const char *b = base_name(path);

	return xasprintf("%.*s%s", (int)(b - path), path, source_compose_names[rank]);
}

/* Each document goes to its file's reader: by name, a compose file is a
 * compose project; anything else is read as caravanserai/v1 documents.
 * The tree is the reader's to change (the compose reader resolves merge
 * keys in it). */
static void read_document(void *ctx, const struct ynode *root)
{
	struct pctx *c = ctx;

	if (compose_rank(c->file) >= 0)
		compose_read_document(c, (struct ynode *)root);
	else
		caravan_read_document(c, root);
}

static int parse_file(struct project_set *set, const char *file,
		      const char *data, size_t len,
		      const struct source_snapshot *snap, const char *conflict,
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
	c.snap = snap;
	c.conflict = conflict;
	set->nfiles++;
	if (len > max) {
		file_error(&c, 1, 1, "file is larger than %zu bytes: refused", max);
	} else if (yaml_read(&r, data, len) == 0) {
		struct ynode at = { .pos = { 1, 1 } };

		buf_reset(&c.path);
		if (compose_rank(c.file) >= 0)   /* must not look like a removal */
			file_error(&c, 1, 1, "empty compose file: no YAML document");
		else
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

int manifest_parse_buffer(struct project_set *set, const char *file,
			  const char *data, size_t len,
			  const struct manifest_options *opts, struct diags *d)
{
	return parse_file(set, file, data, len, NULL, NULL, opts, d);
}

/*
 * Compose's precedence: of the compose files of one directory only the
 * first is the project.  Another one is an error of its own (the set is
 * incomplete: it may be the one the operator meant) and makes that
 * project invalid.  Returns the rank-first sibling (*first) of path, and
 * the next one after it (*next), as paths the caller frees, or NULL.
 */
static void compose_conflicts(const struct source_snapshot *snap,
			      const char *path, char **first, char **next)
{
	int rank = compose_rank(path), i;

	*first = *next = NULL;
	for (i = 0; i < SOURCE_COMPOSE_NAMES; i++) {
		char *p = compose_sibling(path, i);

		if (i == rank || !source_snapshot_find(snap, p)) {
			free(p);
			continue;
		}
		if (i < rank && !*first)
			*first = p;
		else if (i > rank && !*next)
			*next = p;
		else
			free(p);
	}
}

/*
 * An override file (compose.override.yaml, docker-compose.override.yml,
 * ...) is part of the project of the compose file of its family beside
 * it, and read with it (merge.c); without one it is an error naming it.
 * Returns true when path is an override file.
 */
static bool compose_override(struct project_set *set,
			     const struct source_snapshot *snap,
			     const char *path, struct diags *d)
{
	int rank = compose_override_rank(base_name(path)), i;
	bool found = false;

	if (rank < 0)
		return false;
	/* compose.yaml, compose.yml for compose.override.*; the others */
	for (i = rank < 2 ? 0 : 2; i < (rank < 2 ? 2 : 4) && !found; i++) {
		char *p = compose_sibling(path, i);

		found = source_snapshot_find(snap, p) != NULL;
		free(p);
	}
	if (!found) {
		diags_add(d, DIAG_ERROR, path, 1, 1, "", "'%s' is a compose override "
			  "file without its compose file (%s or %s beside it): "
			  "not read", path, source_compose_names[rank < 2 ? 0 : 2],
			  source_compose_names[rank < 2 ? 1 : 3]);
		set->incomplete = true;
		set->nfiles++;
	}
	return true;
}

/*
 * A compose file that another one includes is part of that project, as
 * in compose: it is not a project of its own too (which would run its
 * services twice).  Said once, as a warning at the file.
 */
static void drop_included(struct project_set *set, struct diags *d)
{
	size_t i = 0;

	while (i < set->n) {
		const struct project *p = &set->v[i];

		if (p->file && compose_rank(p->file) >= 0 &&
		    strvec_has(&set->included, p->file)) {
			diags_add(d, DIAG_WARNING, p->file, 1, 1, "", "'%s' is included "
				  "by another compose file: it is read as part of that "
				  "project, not as project '%s'", p->file,
				  p->name ? p->name : "?");
			project_set_remove(set, i);
			continue;
		}
		i++;
	}
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
	for (i = 0; i < snap->nfiles; i++) {
		const struct source_file *f = &snap->files[i];
		char *first = NULL, *next = NULL;
		int rc = 0;

		/* .env and env_file files are read by the compose reader */
		if (!source_yaml_name(base_name(f->path)))
			continue;
		if (compose_override(set, snap, f->path, d))
			continue;      /* read with its compose file */
		if (compose_rank(f->path) >= 0)
			compose_conflicts(snap, f->path, &first, &next);
		if (first) {
			diags_add(d, DIAG_ERROR, f->path, 1, 1, "", "'%s' and '%s' "
				  "are both compose files of one directory: only '%s' "
				  "is read", first, f->path, first);
			set->incomplete = true;
			set->nfiles++;
		} else {
			rc = parse_file(set, f->path, f->data, f->len, snap, next,
					opts, d);
		}
		free(first);
		free(next);
		if (rc < 0)
			return -1;
	}
	drop_included(set, d);
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
