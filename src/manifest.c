/*
 * manifest.c - Project manifests: YAML to the model of manifest.h.
 *
 * Each file goes through two stages.  libyaml's event parser builds a
 * small tree per document that keeps every node's line and column;
 * aliases are expanded by copying, under a budget.  The tree is then walked against
 * the schema (tables of fields per object), which converts and checks
 * each value where it sits, so every finding carries the position and
 * the field path of the node it is about.  manifest_validate.c then
 * checks each project as a whole, and a source's projects together.
 *
 * Hostile input: a file is refused before libyaml sees it when it is too
 * large, holds a NUL byte or is not UTF-8; nesting depth, nodes per file,
 * scalar length, anchors and alias expansion are capped, findings per
 * file too, and every walk is linear (or n log n), so no input can make a
 * pass hang or run out of memory.
 *
 * Invariant: a project enters the set only once its metadata.name is
 * known.  A document that is, or may be, a Project but cannot be named
 * (syntax error, missing name, refused file) sets set->incomplete, so
 * nothing is pruned on its account.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "manifest.h"
#include "source/source.h"

#define MAX_DEPTH 64            /* nested collections */
#define MAX_NODES 200000        /* per file */
#define MAX_ANCHORS 1000        /* per document */
#define MAX_EXPANDED 10000      /* nodes copied for aliases, per file */
/* bytes of scalars copied for aliases: a few nodes can hold 256 KiB each */
#define MAX_EXPANDED_BYTES ((size_t)4 << 20)     /* per file */
#define MAX_EXPANDED_BYTES_SET ((size_t)32 << 20) /* per source */
#define MAX_SCALAR ((size_t)256 << 10)
#define MAX_FINDINGS 200        /* per file, then one line saying how many more */
#define MAX_INTERP_DEPTH 4      /* ${A:-${B:-...}} */

/* ---- the document tree ---- */

enum ytype { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	enum ytype type;
	bool plain;             /* a plain scalar: may mean null */
	struct pos pos;
	char *str;              /* scalar text */
	size_t len;
	size_t size, height;    /* nodes in the subtree; its depth */
	size_t bytes;           /* scalar bytes in the subtree */
	struct ynode **kid;     /* sequence items, or key, value, key, value... */
	size_t n, cap;
};

static void ynode_free(struct ynode *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n; i++)
		ynode_free(n->kid[i]);
	free(n->kid);
	free(n->str);
	free(n);
}

static struct ynode *ynode_copy(const struct ynode *n)
{
	struct ynode *c = xmalloc(sizeof(*c));
	size_t i;

	*c = *n;
	c->str = n->str ? xstrndup(n->str, n->len) : NULL;
	c->kid = n->n ? xcalloc(n->n, sizeof(*c->kid)) : NULL;
	c->cap = n->n;
	for (i = 0; i < n->n; i++)
		c->kid[i] = ynode_copy(n->kid[i]);
	return c;
}

static bool is_null(const struct ynode *n)
{
	return !n || (n->type == Y_SCALAR && n->plain &&
		      (!n->len || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
		       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL")));
}

static const char *type_name(const struct ynode *n)
{
	if (is_null(n))
		return "null";
	return n->type == Y_MAP ? "a mapping" : n->type == Y_SEQ ? "a list" :
	       "a scalar";
}

/* The value of key `key` in mapping n, or NULL. */
static const struct ynode *map_get(const struct ynode *n, const char *key)
{
	size_t i;

	if (!n || n->type != Y_MAP)
		return NULL;
	for (i = 0; i + 1 < n->n; i += 2)
		if (n->kid[i]->type == Y_SCALAR && !strcmp(n->kid[i]->str, key))
			return n->kid[i + 1];
	return NULL;
}

/* ---- parsing context and findings ---- */

struct pctx {
	struct project_set *set;
	const char *file;
	const struct manifest_options *opts;
	struct diags *d;
	bool bad;                 /* an error named the project being converted */
	struct buf path;          /* field path of the node being converted */
	size_t nfindings;
	size_t hidden, hidden_errors;
};

/* A finding at pos with the current path; `always` ignores the cap. */
static void vreport(struct pctx *c, enum diag_severity sev, struct pos pos,
		    bool always, const char *fmt, va_list ap)
{
	struct buf m = BUF_INIT;

	if (sev == DIAG_ERROR)
		c->bad = true;
	if (c->nfindings >= MAX_FINDINGS && !always) {
		c->hidden++;
		c->hidden_errors += sev == DIAG_ERROR;
		return;
	}
	c->nfindings++;
	buf_vprintf(&m, fmt, ap);
	diags_add(c->d, sev, c->file, pos.line, pos.col, buf_cstr(&c->path), "%s",
		  buf_cstr(&m));
	buf_release(&m);
}

static void perr(struct pctx *c, const struct ynode *n, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
static void perr(struct pctx *c, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, DIAG_ERROR, n->pos, false, fmt, ap);
	va_end(ap);
}

static void pwarn(struct pctx *c, const struct ynode *n, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
static void pwarn(struct pctx *c, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, DIAG_WARNING, n->pos, false, fmt, ap);
	va_end(ap);
}

/* An error about the file as a whole: no project of it can be trusted. */
static void file_error(struct pctx *c, int line, int col, const char *fmt, ...)
	PRINTF_LIKE(4, 5);
static void file_error(struct pctx *c, int line, int col, const char *fmt, ...)
{
	struct pos pos = { line, col };
	va_list ap;

	buf_reset(&c->path);
	va_start(ap, fmt);
	vreport(c, DIAG_ERROR, pos, true, fmt, ap);
	va_end(ap);
	c->set->incomplete = true;
}

static size_t path_key(struct pctx *c, const char *key)
{
	size_t old = c->path.len;

	if (old)
		buf_putc(&c->path, '.');
	buf_printf(&c->path, "%.200s", key);
	return old;
}

static size_t path_index(struct pctx *c, size_t i)
{
	size_t old = c->path.len;

	buf_printf(&c->path, "[%zu]", i);
	return old;
}

static void path_pop(struct pctx *c, size_t old)
{
	c->path.len = old;
	if (c->path.ptr)
		c->path.ptr[old] = '\0';
}

/* ---- building the tree from libyaml events ---- */

struct anchor {
	char *name;
	const struct ynode *node;   /* borrowed from the document's tree */
};

struct builder {
	struct pctx *c;
	struct ynode *root;
	struct ynode *stack[MAX_DEPTH];
	char *stack_anchor[MAX_DEPTH];
	int depth;
	struct anchor *anchors;
	size_t nanchors, capanchors;
	size_t nodes, expanded;     /* per file */
	size_t expanded_bytes;      /* per file */
	bool failed;
};

static int mark_num(size_t v)
{
	return v >= INT_MAX ? INT_MAX : (int)v + 1;
}

static void builder_fail(struct builder *b, const yaml_mark_t *m,
			 const char *fmt, ...) PRINTF_LIKE(3, 4);
static void builder_fail(struct builder *b, const yaml_mark_t *m,
			 const char *fmt, ...)
{
	struct pos pos = { mark_num(m->line), mark_num(m->column) };
	va_list ap;

	buf_reset(&b->c->path);
	va_start(ap, fmt);
	vreport(b->c, DIAG_ERROR, pos, true, fmt, ap);
	va_end(ap);
	b->c->set->incomplete = true;
	b->failed = true;
}

/* Forget the document: its tree, anchors and open collections. */
static void builder_reset(struct builder *b)
{
	size_t i;

	ynode_free(b->root);
	b->root = NULL;
	for (i = 0; i < (size_t)b->depth; i++)
		free(b->stack_anchor[i]);
	b->depth = 0;
	for (i = 0; i < b->nanchors; i++)
		free(b->anchors[i].name);
	free(b->anchors);
	b->anchors = NULL;
	b->nanchors = b->capanchors = 0;
}

static struct ynode *node_new(struct builder *b, enum ytype t,
			      const yaml_mark_t *m)
{
	struct ynode *n;

	if (++b->nodes > MAX_NODES) {
		builder_fail(b, m, "more than %d YAML nodes in one file: refused",
			     MAX_NODES);
		return NULL;
	}
	n = xcalloc(1, sizeof(*n));
	n->type = t;
	n->pos.line = mark_num(m->line);
	n->pos.col = mark_num(m->column);
	n->size = n->height = 1;
	return n;
}

static void attach(struct builder *b, struct ynode *n)
{
	struct ynode *parent;

	if (!b->depth) {
		ynode_free(b->root);
		b->root = n;
		return;
	}
	parent = b->stack[b->depth - 1];
	GROW(parent->kid, parent->cap, parent->n + 1);
	parent->kid[parent->n++] = n;
}

static void anchor_add(struct builder *b, const char *name,
		       const struct ynode *n, const yaml_mark_t *m)
{
	size_t i;

	for (i = 0; i < b->nanchors; i++)
		if (!strcmp(b->anchors[i].name, name)) {
			b->anchors[i].node = n;   /* redefined: the later wins */
			return;
		}
	if (b->nanchors >= MAX_ANCHORS) {
		builder_fail(b, m, "more than %d anchors in one document: refused",
			     MAX_ANCHORS);
		return;
	}
	GROW(b->anchors, b->capanchors, b->nanchors + 1);
	b->anchors[b->nanchors].name = xstrdup(name);
	b->anchors[b->nanchors].node = n;
	b->nanchors++;
}

static bool tag_is_str(const yaml_char_t *tag)
{
	return tag && (!strcmp((const char *)tag, "tag:yaml.org,2002:str") ||
		       !strcmp((const char *)tag, "!"));
}

static void on_scalar(struct builder *b, const yaml_event_t *ev)
{
	struct ynode *n;
	size_t len = ev->data.scalar.length;

	if (len > MAX_SCALAR) {
		builder_fail(b, &ev->start_mark, "a value longer than %zu bytes: "
			     "refused", MAX_SCALAR);
		return;
	}
	if (memchr(ev->data.scalar.value, '\0', len)) {
		builder_fail(b, &ev->start_mark, "a value holds a NUL character: "
			     "refused");
		return;
	}
	if (!(n = node_new(b, Y_SCALAR, &ev->start_mark)))
		return;
	n->str = xmalloc(len + 1);
	memcpy(n->str, ev->data.scalar.value, len);
	n->str[len] = '\0';
	n->len = len;
	n->bytes = len;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		   !tag_is_str(ev->data.scalar.tag);
	attach(b, n);
	if (ev->data.scalar.anchor)
		anchor_add(b, (const char *)ev->data.scalar.anchor, n,
			   &ev->start_mark);
}

static void on_start(struct builder *b, const yaml_event_t *ev, enum ytype t,
		     const yaml_char_t *anchor)
{
	struct ynode *n;

	if (b->depth >= MAX_DEPTH) {
		builder_fail(b, &ev->start_mark, "nested deeper than %d levels: "
			     "refused", MAX_DEPTH);
		return;
	}
	if (!(n = node_new(b, t, &ev->start_mark)))
		return;
	attach(b, n);
	b->stack[b->depth] = n;
	b->stack_anchor[b->depth] = anchor ? xstrdup((const char *)anchor) : NULL;
	b->depth++;
}

static void on_end(struct builder *b, const yaml_event_t *ev)
{
	struct ynode *n;
	char *anchor;
	size_t i;

	if (!b->depth)
		return;
	b->depth--;
	n = b->stack[b->depth];
	anchor = b->stack_anchor[b->depth];
	b->stack_anchor[b->depth] = NULL;
	n->size = 1;
	n->height = 1;
	n->bytes = 0;
	for (i = 0; i < n->n; i++) {
		n->size += n->kid[i]->size;
		n->bytes += n->kid[i]->bytes;
		if (n->kid[i]->height + 1 > n->height)
			n->height = n->kid[i]->height + 1;
	}
	if (anchor && !b->failed)
		anchor_add(b, anchor, n, &ev->start_mark);
	free(anchor);
}

static void on_alias(struct builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	const struct anchor *a = NULL;
	struct ynode *copy;
	size_t i;

	for (i = 0; i < b->nanchors && !a; i++)
		if (!strcmp(b->anchors[i].name, name))
			a = &b->anchors[i];
	if (!a) {
		builder_fail(b, &ev->start_mark, "alias '*%s' refers to no anchor "
			     "defined before it", name);
		return;
	}
	if (a->node->size > MAX_EXPANDED - b->expanded) {
		builder_fail(b, &ev->start_mark, "aliases expand to more than %d "
			     "nodes: refused (an alias bomb?)", MAX_EXPANDED);
		return;
	}
	if ((size_t)b->depth + a->node->height > MAX_DEPTH) {
		builder_fail(b, &ev->start_mark, "alias '*%s' nests deeper than %d "
			     "levels: refused", name, MAX_DEPTH);
		return;
	}
	if (a->node->bytes > MAX_EXPANDED_BYTES - b->expanded_bytes) {
		builder_fail(b, &ev->start_mark, "aliases expand to more than %zu "
			     "bytes: refused (an alias bomb?)", MAX_EXPANDED_BYTES);
		return;
	}
	if (a->node->bytes > MAX_EXPANDED_BYTES_SET - b->c->set->expanded_bytes) {
		builder_fail(b, &ev->start_mark, "aliases of the whole source expand "
			     "to more than %zu bytes: refused (an alias bomb?)",
			     MAX_EXPANDED_BYTES_SET);
		return;
	}
	b->expanded_bytes += a->node->bytes;
	b->c->set->expanded_bytes += a->node->bytes;
	b->expanded += a->node->size;
	b->nodes += a->node->size;
	if (b->nodes > MAX_NODES) {
		builder_fail(b, &ev->start_mark, "more than %d YAML nodes in one "
			     "file: refused", MAX_NODES);
		return;
	}
	copy = ynode_copy(a->node);
	attach(b, copy);
}

/* ---- ${VAR} interpolation ---- */

static const char *lookup_var(struct pctx *c, const char *name)
{
	if (c->opts && c->opts->getenv)
		return c->opts->getenv(name, c->opts->getenv_ctx);
	return getenv(name);
}

/* End of the "${...}" starting at s[i] ("${"): index of its '}', or SIZE_MAX. */
static size_t ref_end(const char *s, size_t len, size_t i)
{
	size_t level = 0;

	for (; i < len; i++) {
		if (s[i] == '$' && i + 1 < len && s[i + 1] == '{') {
			level++;
			i++;
		} else if (s[i] == '}' && --level == 0) {
			return i;
		}
	}
	return SIZE_MAX;
}

static int expand(struct pctx *c, const struct ynode *n, const char *s,
		  size_t len, struct buf *out, int depth);

/* One "${NAME[op word]}" reference, s[i] == '$'; *next gets the index after it. */
static int expand_ref(struct pctx *c, const struct ynode *n, const char *s,
		      size_t len, size_t i, size_t *next, struct buf *out,
		      int depth)
{
	size_t k = i + 2, end = ref_end(s, len, i), wl;
	const char *val, *word, *why;
	char *name;
	char op = 0;
	bool colon = false;
	int rc = -1;

	if (end == SIZE_MAX) {
		perr(c, n, "unterminated '${' (write '$$' for a literal '$')");
		return -1;
	}
	while (k < end && (isalnum((unsigned char)s[k]) || s[k] == '_'))
		k++;
	if (k == i + 2 || isdigit((unsigned char)s[i + 2]) || k - i > 258) {
		perr(c, n, "invalid variable reference '%.*s' (write '$$' for a "
		     "literal '$')", (int)(end - i + 1 > 64 ? 64 : end - i + 1), s + i);
		return -1;
	}
	name = xstrndup(s + i + 2, k - i - 2);
	if (k < end && s[k] == ':') {
		colon = true;
		k++;
	}
	if (k < end && (s[k] == '-' || s[k] == '?'))
		op = s[k++];
	if ((colon && !op) || (!op && k != end)) {
		perr(c, n, "invalid variable reference '${%s...}': use ${%s}, "
		     "${%s:-default} or ${%s:?message}", name, name, name, name);
		goto out;
	}
	word = s + k;
	wl = end - k;
	if ((why = manifest_check_var_access(name, c->opts))) {
		perr(c, n, "variable '%s' %s", name, why);
		goto out;
	}
	val = lookup_var(c, name);
	if (op == '-' && (!val || (colon && !*val))) {
		if (depth >= MAX_INTERP_DEPTH) {
			perr(c, n, "variable defaults nested too deeply");
			goto out;
		}
		if (expand(c, n, word, wl, out, depth + 1) < 0)
			goto out;
	} else if (op == '?' && (!val || (colon && !*val))) {
		perr(c, n, "required variable '%s' is %s%s%.*s", name,
		     val ? "empty" : "not set", wl ? ": " : "", (int)wl, word);
		goto out;
	} else if (!val && !op) {
		perr(c, n, "variable '%s' is not set (write ${%s:-default} for a "
		     "default, or '$$' for a literal '$')", name, name);
		goto out;
	} else {
		buf_puts(out, val);
	}
	*next = end + 1;
	rc = 0;
out:
	free(name);
	return rc;
}

static int expand(struct pctx *c, const struct ynode *n, const char *s,
		  size_t len, struct buf *out, int depth)
{
	size_t i = 0;

	while (i < len) {
		const char *d = memchr(s + i, '$', len - i);
		size_t j;

		if (!d) {
			buf_add(out, s + i, len - i);
			break;
		}
		j = (size_t)(d - s);
		buf_add(out, s + i, j - i);
		if (j + 1 < len && s[j + 1] == '$') {
			buf_putc(out, '$');
			i = j + 2;
		} else if (j + 1 < len && s[j + 1] == '{') {
			if (expand_ref(c, n, s, len, j, &i, out, depth) < 0)
				return -1;
		} else {
			buf_putc(out, '$');
			i = j + 1;
		}
		if (out->len > MAX_SCALAR) {
			perr(c, n, "value longer than %zu bytes after interpolation",
			     MAX_SCALAR);
			return -1;
		}
	}
	return 0;
}

/* ---- scalar conversions (each reports its own problem) ---- */

/* The scalar's text, interpolated, or NULL when n is no scalar. Caller frees. */
static char *scalar_text(struct pctx *c, const struct ynode *n, const char *want)
{
	struct buf out = BUF_INIT;

	if (n->type != Y_SCALAR) {
		perr(c, n, "must be %s, not %s", want, type_name(n));
		return NULL;
	}
	if (!memchr(n->str, '$', n->len))
		return xstrndup(n->str, n->len);
	if (expand(c, n, n->str, n->len, &out, 0) < 0) {
		buf_release(&out);
		return NULL;
	}
	return buf_detach(&out);
}

static char *get_str(struct pctx *c, const struct ynode *n)
{
	return scalar_text(c, n, "a string");
}

static bool get_int(struct pctx *c, const struct ynode *n, long long min,
		    long long max, long long *out)
{
	char *t = scalar_text(c, n, "an integer");
	bool ok = false;

	if (!t)
		return false;
	if (!parse_ll(t, min, max, out)) {
		ok = true;
	} else if (!parse_ll(t, LLONG_MIN, LLONG_MAX, out)) {
		perr(c, n, "%lld is out of range (%lld to %lld)", *out, min, max);
	} else {
		perr(c, n, "must be an integer, not '%.64s'", t);
	}
	free(t);
	return ok;
}

static bool get_bool(struct pctx *c, const struct ynode *n, bool *out)
{
	char *t = scalar_text(c, n, "true or false");
	bool ok = true;

	if (!t)
		return false;
	if (!strcasecmp(t, "true") || !strcasecmp(t, "yes"))
		*out = true;
	else if (!strcasecmp(t, "false") || !strcasecmp(t, "no"))
		*out = false;
	else {
		perr(c, n, "must be true or false, not '%.64s'", t);
		ok = false;
	}
	free(t);
	return ok;
}

#define MAX_DURATION_MS (24LL * 3600 * 1000)

static bool get_duration(struct pctx *c, const struct ynode *n, int64_t *out)
{
	char *t = scalar_text(c, n, "a duration");
	bool ok = true;

	if (!t)
		return false;
	if (parse_duration_ms(t, out) < 0) {
		perr(c, n, "invalid duration '%.64s' (write e.g. 500ms, 10s, 1m30s "
		     "or 2h)", t);
		ok = false;
	} else if (*out > MAX_DURATION_MS) {
		/* the Engine counts in nanoseconds and seconds of int: refuse
		 * here what it would overflow or refuse later */
		perr(c, n, "duration '%.64s' is longer than 24h", t);
		ok = false;
	}
	free(t);
	return ok;
}

/* A list of strings into out (emptied first). */
static bool get_strlist(struct pctx *c, const struct ynode *n,
			struct strvec *out)
{
	size_t i, o;
	bool ok = true;

	strvec_release(out);
	if (n->type != Y_SEQ) {
		perr(c, n, "must be a list of strings, not %s", type_name(n));
		return false;
	}
	for (i = 0; i < n->n; i++) {
		char *t;

		o = path_index(c, i);
		if (is_null(n->kid[i])) {
			perr(c, n->kid[i], "must be a string, not null");
			ok = false;
		} else if ((t = get_str(c, n->kid[i]))) {
			strvec_push_nodup(out, t);
		} else {
			ok = false;
		}
		path_pop(c, o);
	}
	return ok;
}

/* ---- walking mappings against tables of fields ---- */

typedef void field_fn(struct pctx *c, const struct ynode *v, void *obj);

enum ftype {
	F_FN,      /* fn(c, value, obj) */
	F_LIST,    /* fn(c, item, obj) for each item of a list */
	F_MAP,     /* the fields `sub` of a nested mapping, into the same obj */
	F_STR,     /* char * member, checked by `check` when set */
	F_PATH,    /* char * member holding an absolute path */
	F_INT,     /* int member in [min, max] */
	F_BOOL,    /* bool member */
	F_MS,      /* int64_t member: a duration in milliseconds */
	F_SKIP,    /* read elsewhere */
};

struct field {
	const char *key;           /* NULL ends a table */
	enum ftype type;
	bool required;
	size_t off;
	field_fn *fn;
	const struct field *sub;
	const char *(*check)(const char *s);
	const char *what;          /* for check's message: "service name" */
	int min, max;
};

#define MAX_FIELDS 24

static void unknown_field(struct pctx *c, const struct ynode *key,
			  const struct field *f)
{
	size_t k, best = SIZE_MAX, bd = SIZE_MAX;

	/* "x-..." keys are extension fields (as in Compose), e.g. for anchors */
	if (!strncmp(key->str, "x-", 2))
		return;
	if (c->nfindings >= MAX_FINDINGS) {   /* not shown: spare the hint */
		pwarn(c, key, "unknown field");
		return;
	}
	if (key->plain && !strcmp(key->str, "<<")) {
		perr(c, key, "merge keys ('<<') are not supported: write the "
		     "fields out");
		return;
	}
	for (k = 0; f[k].key; k++) {
		size_t lim = strlen(f[k].key) >= 6 ? 2 : 1;
		size_t dist = manifest_edit_distance(key->str, f[k].key, lim);

		if (dist <= lim && dist < bd) {
			bd = dist;
			best = k;
		}
	}
	if (best != SIZE_MAX)
		pwarn(c, key, "unknown field '%.64s' (ignored); did you mean '%s'?",
		      key->str, f[best].key);
	else
		pwarn(c, key, "unknown field '%.64s' (ignored)", key->str);
}

static bool walk_map(struct pctx *c, const struct ynode *n,
		     const struct field *f, void *obj);
static void walk_list(struct pctx *c, const struct ynode *n, field_fn *item,
		      void *obj);

static void convert_field(struct pctx *c, const struct field *f,
			  const struct ynode *v, void *obj)
{
	char *base = obj, **sp;
	const char *why;
	long long n;

	switch (f->type) {
	case F_FN:
		f->fn(c, v, obj);
		break;
	case F_LIST:
		walk_list(c, v, f->fn, obj);
		break;
	case F_MAP:
		walk_map(c, v, f->sub, obj);
		break;
	case F_STR:
	case F_PATH:
		sp = (char **)(base + f->off);
		free(*sp);
		if (!(*sp = get_str(c, v)))
			break;
		if (f->check && (why = f->check(*sp)))
			perr(c, v, "invalid %s '%.64s': %s", f->what, *sp, why);
		if (f->type == F_PATH && **sp != '/')
			perr(c, v, "must be an absolute path, not '%.64s'", *sp);
		break;
	case F_INT:
		if (get_int(c, v, f->min, f->max, &n))
			*(int *)(base + f->off) = (int)n;
		break;
	case F_BOOL:
		get_bool(c, v, (bool *)(base + f->off));
		break;
	case F_MS:
		get_duration(c, v, (int64_t *)(base + f->off));
		break;
	case F_SKIP:
		break;
	}
}

/*
 * Convert mapping n with the fields f.  Null values count as absent.
 * Returns false when n is not a mapping.
 */
static bool walk_map(struct pctx *c, const struct ynode *n,
		     const struct field *f, void *obj)
{
	const struct ynode *key_of[MAX_FIELDS] = { 0 }, *val_of[MAX_FIELDS] = { 0 };
	size_t i, k, o;

	for (k = 0; f[k].key; k++)
		if (k + 1 >= MAX_FIELDS)
			abort();   /* a table longer than MAX_FIELDS: a bug here */
	if (n->type != Y_MAP) {
		perr(c, n, "must be a mapping, not %s", type_name(n));
		return false;
	}
	for (i = 0; i + 1 < n->n; i += 2) {
		const struct ynode *key = n->kid[i], *val = n->kid[i + 1];

		if (key->type != Y_SCALAR) {
			perr(c, key, "a key must be a string, not %s", type_name(key));
			continue;
		}
		for (k = 0; f[k].key && strcmp(f[k].key, key->str); k++)
			;
		o = path_key(c, key->str);
		if (!f[k].key) {
			unknown_field(c, key, f);
		} else if (key_of[k]) {
			perr(c, key, "duplicate key '%s' (first at line %d)", key->str,
			     key_of[k]->pos.line);
		} else {
			key_of[k] = key;
			val_of[k] = val;
			if (!is_null(val))
				convert_field(c, &f[k], val, obj);
		}
		path_pop(c, o);
	}
	for (k = 0; f[k].key; k++) {
		if (!f[k].required || (val_of[k] && !is_null(val_of[k])))
			continue;
		o = path_key(c, f[k].key);
		perr(c, key_of[k] ? key_of[k] : n, "required");
		path_pop(c, o);
	}
	return true;
}

/* Call item(c, node, obj) for each element of list n. */
static void walk_list(struct pctx *c, const struct ynode *n, field_fn *item,
		      void *obj)
{
	size_t i, o;

	if (n->type != Y_SEQ) {
		perr(c, n, "must be a list, not %s", type_name(n));
		return;
	}
	for (i = 0; i < n->n; i++) {
		o = path_index(c, i);
		item(c, n->kid[i], obj);
		path_pop(c, o);
	}
}

#define FN(k, f, req) { .key = k, .type = F_FN, .fn = f, .required = req }
#define LIST(k, f, req) { .key = k, .type = F_LIST, .fn = f, .required = req }
#define MAP(k, s, req) { .key = k, .type = F_MAP, .sub = s, .required = req }
#define STR(k, T, m, req) { .key = k, .type = F_STR, .off = offsetof(T, m), .required = req }
#define NAME(k, T, m, chk, w) { .key = k, .type = F_STR, .off = offsetof(T, m), \
				.required = true, .check = chk, .what = w }
#define PATH(k, T, m, req) { .key = k, .type = F_PATH, .off = offsetof(T, m), .required = req }
#define INT(k, T, m, lo, hi, req) { .key = k, .type = F_INT, .off = offsetof(T, m), \
				    .min = lo, .max = hi, .required = req }
#define BOOL(k, T, m) { .key = k, .type = F_BOOL, .off = offsetof(T, m) }
#define MS(k, T, m) { .key = k, .type = F_MS, .off = offsetof(T, m) }
#define SKIP(k, req) { .key = k, .type = F_SKIP, .required = req }
#define END { .key = NULL }

/* A mapping of strings (labels, annotations) into l. */
static int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = *(const struct kv *const *)a;
	const struct kv *y = *(const struct kv *const *)b;
	int r = strcmp(x->key, y->key);

	return r ? r : (x < y ? -1 : x > y);
}

static void get_kvlist(struct pctx *c, const struct ynode *n, struct kvlist *l,
		       bool service_labels)
{
	const struct kv **sorted;
	size_t i, o;

	if (n->type != Y_MAP) {
		perr(c, n, "must be a mapping of strings, not %s", type_name(n));
		return;
	}
	for (i = 0; i + 1 < n->n; i += 2) {
		const struct ynode *key = n->kid[i], *val = n->kid[i + 1];
		char *v;

		if (key->type != Y_SCALAR || !key->len) {
			perr(c, key, "a key must be a non-empty string");
			continue;
		}
		o = path_key(c, key->str);
		if (service_labels && !strncmp(key->str, "cara.", 5))
			perr(c, key, "labels starting with 'cara.' are reserved for "
			     "cara");
		if ((v = is_null(val) ? xstrdup("") : get_str(c, val))) {
			GROW(l->v, l->cap, l->n + 1);
			l->v[l->n].key = xstrndup(key->str, key->len);
			l->v[l->n].value = v;
			l->v[l->n].pos = key->pos;
			l->n++;
		}
		path_pop(c, o);
	}
	/* duplicate keys, in n log n */
	sorted = xcalloc(l->n + 1, sizeof(*sorted));
	for (i = 0; i < l->n; i++)
		sorted[i] = &l->v[i];
	qsort(sorted, l->n, sizeof(*sorted), kv_cmp);
	for (i = 1; i < l->n; i++)
		if (!strcmp(sorted[i]->key, sorted[i - 1]->key)) {
			struct ynode at = { .pos = sorted[i]->pos };

			o = path_key(c, sorted[i]->key);
			perr(c, &at, "duplicate key '%s'", sorted[i]->key);
			path_pop(c, o);
		}
	free(sorted);
}

/* One of names (exact), its index; else an error with the closest name. */
static bool pick(struct pctx *c, const struct ynode *v, const char *t,
		 const char *const *names, size_t n, const char *what, size_t *out)
{
	struct buf all = BUF_INIT;
	size_t i, best = n, bd = 3;

	for (i = 0; i < n; i++) {
		size_t dist = manifest_edit_distance(t, names[i], 2);

		if (!strcmp(t, names[i])) {
			*out = i;
			buf_release(&all);
			return true;
		}
		if (dist < bd) {
			bd = dist;
			best = i;
		}
		buf_printf(&all, "%s%s", i ? (i + 1 == n ? " or " : ", ") : "",
			   names[i]);
	}
	if (best < n)
		perr(c, v, "invalid %s '%.64s'; did you mean '%s'?", what, t,
		     names[best]);
	else
		perr(c, v, "invalid %s '%.64s': must be %s", what, t, buf_cstr(&all));
	buf_release(&all);
	return false;
}

/* ---- services ---- */

/* command and entrypoint are argv lists, as in Kubernetes (no shell parsing) */
static void f_command(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;

	s->has_command = get_strlist(c, v, &s->command);
}

static void f_entrypoint(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;

	s->has_entrypoint = get_strlist(c, v, &s->entrypoint);
}

/* env: [{name, value}] or [{name, valueFrom: {secretKeyRef: {name, key}}}] */

/* A secret name and key are each one path component that is not hidden. */
static const char *check_secret_part(const char *s)
{
	if (!*s || *s == '.' || strchr(s, '/'))
		return "must be a plain file name (no '/', not starting with '.')";
	return NULL;
}

static const struct field secret_fields[] = {
	NAME("name", struct env_var, secret_name, check_secret_part, "secret name"),
	NAME("key", struct env_var, secret_key, check_secret_part, "secret key"),
	END
};

static const struct field value_from_fields[] = {
	MAP("secretKeyRef", secret_fields, true),
	END
};

static const struct field env_fields[] = {
	NAME("name", struct env_var, name, manifest_check_env_name,
	     "variable name"),
	STR("value", struct env_var, value, false),
	MAP("valueFrom", value_from_fields, false),
	END
};

static struct env_var *env_new(struct service *s, struct pos pos)
{
	struct env_var *e;

	GROW(s->env, s->capenv, s->nenv + 1);
	e = &s->env[s->nenv++];
	memset(e, 0, sizeof(*e));
	e->pos = pos;
	return e;
}

static void env_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct env_var *e = env_new(obj, n->pos);

	walk_map(c, n, env_fields, e);
	if (!e->name)
		e->name = xstrdup("");
	if (!is_null(map_get(n, "valueFrom"))) {
		/* a secret even when a part is missing: never fall back to "" */
		if (!e->secret_name)
			e->secret_name = xstrdup("");
		if (!e->secret_key)
			e->secret_key = xstrdup("");
		if (e->value)
			perr(c, n, "set either value or valueFrom, not both");
	} else if (!e->value) {
		e->value = xstrdup("");
	}
}

static const struct field mount_fields[] = {
	STR("name", struct mount, name, true),
	PATH("mountPath", struct mount, mount_path, true),
	BOOL("readOnly", struct mount, read_only),
	END
};

static void mount_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct service *s = obj;
	struct mount *m;

	GROW(s->mounts, s->capmounts, s->nmounts + 1);
	m = &s->mounts[s->nmounts++];
	memset(m, 0, sizeof(*m));
	m->pos = n->pos;
	walk_map(c, n, mount_fields, m);
	if (!m->name)
		m->name = xstrdup("");
	if (!m->mount_path)
		m->mount_path = xstrdup("");
}

/* ports: [{hostIP, hostPort, containerPort, protocol}] */

static void f_host_ip(struct pctx *c, const struct ynode *v, void *obj)
{
	struct port *p = obj;
	unsigned char a[16];
	char out[INET6_ADDRSTRLEN];
	char *t = get_str(c, v);
	int af;

	if (!t || !*t)
		goto out;
	/* kept normalised, so that one address always compares equal */
	af = strchr(t, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(af, t, a) != 1 || !inet_ntop(af, a, out, sizeof(out)))
		perr(c, v, "'%.64s' is not an IP address", t);
	else
		p->host_ip = xstrdup(out);
out:
	free(t);
}

static void f_protocol(struct pctx *c, const struct ynode *v, void *obj)
{
	static const char *const protos[] = { "tcp", "udp", "sctp" };
	struct port *p = obj;
	char *t = get_str(c, v);
	size_t i;

	for (i = 0; t && t[i]; i++)   /* TCP, as Kubernetes writes it, is tcp */
		t[i] = (char)tolower((unsigned char)t[i]);
	if (t && pick(c, v, t, protos, ARRAY_SIZE(protos), "protocol", &i))
		p->protocol = xstrdup(protos[i]);
	free(t);
}

static const struct field port_fields[] = {
	FN("hostIP", f_host_ip, false),
	INT("hostPort", struct port, host_port, 1, 65535, false),
	INT("containerPort", struct port, container_port, 1, 65535, true),
	FN("protocol", f_protocol, false),
	END
};

static void port_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct service *s = obj;
	struct port *p;

	GROW(s->ports, s->capports, s->nports + 1);
	p = &s->ports[s->nports++];
	memset(p, 0, sizeof(*p));
	p->pos = n->pos;
	walk_map(c, n, port_fields, p);
}

/* healthcheck: {test, interval, timeout, startPeriod, retries} */

static void f_hc_test(struct pctx *c, const struct ynode *v, void *obj)
{
	struct healthcheck *h = obj;
	const char *first;
	char *t;

	if (v->type == Y_SCALAR) {
		if (!(t = get_str(c, v)))
			return;
		strvec_release(&h->test);
		if (strcmp(t, "NONE"))
			strvec_push(&h->test, "CMD-SHELL");
		strvec_push_nodup(&h->test, t);
		return;
	}
	if (!get_strlist(c, v, &h->test))
		return;
	first = h->test.n ? h->test.v[0] : "";
	if ((!strcmp(first, "NONE") && h->test.n == 1) ||
	    (!strcmp(first, "CMD") && h->test.n >= 2) ||
	    (!strcmp(first, "CMD-SHELL") && h->test.n == 2))
		return;
	perr(c, v, "must be [\"CMD\", program, args...], [\"CMD-SHELL\", "
	     "\"command line\"], [\"NONE\"] or a command line string");
}

static const struct field health_fields[] = {
	FN("test", f_hc_test, true),
	MS("interval", struct healthcheck, interval_ms),
	MS("timeout", struct healthcheck, timeout_ms),
	MS("startPeriod", struct healthcheck, start_period_ms),
	INT("retries", struct healthcheck, retries, 0, 1000000, false),
	END
};

static void f_health(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;

	s->health.present = true;
	s->health.pos = v->pos;
	walk_map(c, v, health_fields, &s->health);
}

/* dependsOn: [{service, condition}] or [name] */

static void f_dep_condition(struct pctx *c, const struct ynode *v, void *obj)
{
	static const char *const conds[] = { "Started", "Healthy", "Completed" };
	char *t = get_str(c, v);
	size_t i;

	if (t && pick(c, v, t, conds, ARRAY_SIZE(conds), "condition", &i))
		((struct dependency *)obj)->condition = (enum dep_condition)i;
	free(t);
}

static const struct field dep_fields[] = {
	STR("service", struct dependency, service, true),
	FN("condition", f_dep_condition, false),
	END
};

static void dep_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct service *s = obj;
	struct dependency *dp;

	GROW(s->deps, s->capdeps, s->ndeps + 1);
	dp = &s->deps[s->ndeps++];
	memset(dp, 0, sizeof(*dp));
	dp->pos = n->pos;
	dp->condition = DEP_STARTED;
	if (n->type == Y_SCALAR && !is_null(n))
		dp->service = get_str(c, n);
	else
		walk_map(c, n, dep_fields, dp);
	if (!dp->service)
		dp->service = xstrdup("");
}

static void f_restart(struct pctx *c, const struct ynode *v, void *obj)
{
	static const char *const names[] = { "no", "on-failure", "unless-stopped",
					     "always" };
	struct service *s = obj;
	char *t = get_str(c, v);
	size_t i;

	if (!t)
		return;
	/* an unquoted `restart: false` is YAML 1.1's spelling of no */
	if (v->plain && !strcasecmp(t, "false"))
		s->restart = RESTART_NO;
	else if (pick(c, v, t, names, ARRAY_SIZE(names), "restart policy", &i))
		s->restart = (enum restart_policy)(i + RESTART_NO);
	free(t);
}

static void f_svc_labels(struct pctx *c, const struct ynode *v, void *obj)
{
	get_kvlist(c, v, &((struct service *)obj)->labels, true);
}

static void f_memory(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	char *t = get_str(c, v);

	if (t && parse_memory(t, &s->memory_bytes) < 0)
		perr(c, v, "invalid memory size '%.64s' (write e.g. 256Mi, 512m or "
		     "1g)", t);
	else if (t && s->memory_bytes < 6 * 1024 * 1024)
		perr(c, v, "%.64s is below Docker's minimum of 6Mi", t);
	free(t);
}

/* "0.5", "2", "1.25" or "500m" (thousandths) to billionths of a CPU. */
static int parse_cpus(const char *s, int64_t *out)
{
	int64_t whole = 0, frac = 0, scale = 100000000;
	const char *p = s;

	for (; isdigit((unsigned char)*p); p++)
		if ((whole = whole * 10 + (*p - '0')) > 100000)
			return -1;
	if (*p == 'm' && !p[1] && p > s) {
		*out = whole * 1000000;
		return 0;
	}
	if (*p == '.' && isdigit((unsigned char)p[1]))
		for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
			frac += (*p - '0') * scale;
	if (*p || p == s)
		return -1;
	*out = whole * 1000000000 + frac;
	return 0;
}

static void f_cpus(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	char *t = get_str(c, v);

	if (t && (parse_cpus(t, &s->nano_cpus) < 0 || s->nano_cpus <= 0))
		perr(c, v, "invalid cpus '%.64s' (write e.g. \"0.5\", \"2\" or "
		     "\"500m\")", t);
	free(t);
}

static const struct field resource_fields[] = {
	FN("memory", f_memory, false),
	FN("cpus", f_cpus, false),
	END
};

static const struct field service_fields[] = {
	NAME("name", struct service, name, manifest_check_object_name,
	     "service name"),
	NAME("image", struct service, image, manifest_check_image,
	     "image reference"),
	FN("command", f_command, false),
	FN("entrypoint", f_entrypoint, false),
	PATH("workingDir", struct service, working_dir, false),
	STR("user", struct service, user, false),
	LIST("env", env_item, false),
	LIST("volumeMounts", mount_item, false),
	LIST("ports", port_item, false),
	FN("healthcheck", f_health, false),
	LIST("dependsOn", dep_item, false),
	FN("restart", f_restart, false),
	MS("stopGracePeriod", struct service, stop_grace_ms),
	FN("labels", f_svc_labels, false),
	MAP("resources", resource_fields, false),
	END
};

static void service_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct project *p = obj;
	struct service *s;

	GROW(p->services, p->capservices, p->nservices + 1);
	s = &p->services[p->nservices++];
	memset(s, 0, sizeof(*s));
	s->pos = n->pos;
	s->stop_grace_ms = -1;
	walk_map(c, n, service_fields, s);
	if (!s->name)
		s->name = xstrdup("");
	if (!s->image)
		s->image = xstrdup("");
}

/* ---- volumes and ingress ---- */

static const struct field volume_fields[] = {
	NAME("name", struct volume, name, manifest_check_object_name,
	     "volume name"),
	SKIP("type", false),
	STR("hostPath", struct volume, host_path, false),
	END
};

static void volume_type(struct pctx *c, const struct ynode *type,
			const struct ynode *hp, struct volume *v)
{
	static const char *const names[] = { "Ephemeral", "Managed", "HostPath" };
	char *t;
	size_t i, o;

	/* no type: HostPath when a hostPath is given, else Managed (kept) */
	v->type = !is_null(hp) ? VOLUME_HOSTPATH : VOLUME_MANAGED;
	if (is_null(type))
		return;
	o = path_key(c, "type");
	if ((t = get_str(c, type)) &&
	    pick(c, type, t, names, ARRAY_SIZE(names), "volume type", &i))
		v->type = (enum volume_type)i;
	path_pop(c, o);
	free(t);
}

static void volume_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct project *p = obj;
	const struct ynode *hp = map_get(n, "hostPath");
	struct volume *v;
	char *why = NULL;
	size_t o;

	GROW(p->volumes, p->capvolumes, p->nvolumes + 1);
	v = &p->volumes[p->nvolumes++];
	memset(v, 0, sizeof(*v));
	v->pos = n->pos;
	if (walk_map(c, n, volume_fields, v))
		volume_type(c, map_get(n, "type"), hp, v);
	if (!v->name)
		v->name = xstrdup("");
	o = path_key(c, "hostPath");
	if (v->type == VOLUME_HOSTPATH && is_null(hp))
		perr(c, n, "required for a HostPath volume");
	else if (v->type != VOLUME_HOSTPATH && !is_null(hp))
		perr(c, hp, "only a HostPath volume has a hostPath (this one is "
		     "%s)", volume_type_name(v->type));
	else if (v->type == VOLUME_HOSTPATH && v->host_path &&
		 (why = manifest_check_host_path(v->host_path, c->opts)))
		perr(c, hp, "%s", why);
	path_pop(c, o);
	free(why);
}

static void f_scope(struct pctx *c, const struct ynode *v, void *obj)
{
	struct ingress *in = obj;

	if ((in->scope = get_str(c, v)) && strcmp(in->scope, "Internal") &&
	    strcmp(in->scope, "Public"))
		pwarn(c, v, "unknown scope '%.64s' (known: Internal, Public)",
		      in->scope);
}

static const struct field target_fields[] = {
	STR("service", struct ingress, target_service, true),
	INT("port", struct ingress, target_port, 1, 65535, true),
	END
};

static const struct field access_fields[] = {
	FN("scope", f_scope, false),
	END
};

static const struct field ingress_fields[] = {
	NAME("name", struct ingress, name, manifest_check_object_name,
	     "ingress name"),
	NAME("host", struct ingress, host, manifest_check_hostname, "host"),
	MAP("target", target_fields, true),
	MAP("access", access_fields, false),
	END
};

static void ingress_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct project *p = obj;
	const char *env = c->opts ? c->opts->ingress_env : NULL;
	const char *dom = c->opts ? c->opts->base_domain : NULL;
	struct ingress *in;

	GROW(p->ingress, p->capingress, p->ningress + 1);
	in = &p->ingress[p->ningress++];
	memset(in, 0, sizeof(*in));
	in->pos = n->pos;
	walk_map(c, n, ingress_fields, in);
	if (!in->name)
		in->name = xstrdup("");
	if (!in->host)
		in->host = xstrdup("");
	if (!in->target_service)
		in->target_service = xstrdup("");
	/* a host without a dot is short: {host}.{environment}.{baseDomain} */
	if (!strchr(in->host, '.') && in->host[0] && env && *env && dom && *dom)
		in->fqdn = xasprintf("%s.%s.%s", in->host, env, dom);
	else
		in->fqdn = xstrdup(in->host);
}

/* ---- the project document ---- */

static void f_services(struct pctx *c, const struct ynode *v, void *obj)
{
	walk_list(c, v, service_item, obj);
	if (v->type == Y_SEQ && !v->n)
		perr(c, v, "a project needs at least one service");
}

static void f_expire(struct pctx *c, const struct ynode *v, void *obj)
{
	struct project *p = obj;
	char *t = get_str(c, v);

	if (t && parse_rfc3339(t, &p->expire_at) < 0)
		perr(c, v, "'%.64s' is not an RFC 3339 time (write e.g. "
		     "2026-12-01T00:00:00Z)", t);
	else if (t)
		p->has_expire = true;
	free(t);
}

static void f_project_name(struct pctx *c, const struct ynode *v, void *obj)
{
	struct project *p = obj;
	const char *why;
	char *t = get_str(c, v);

	if (!t)
		return;
	if ((why = manifest_check_project_name(t)))
		perr(c, v, "invalid project name '%.64s%s': %s", t,
		     strlen(t) > 64 ? "..." : "", why);
	if (*t)
		p->name = t;
	else
		free(t);
}

static void f_meta_labels(struct pctx *c, const struct ynode *v, void *obj)
{
	get_kvlist(c, v, &((struct project *)obj)->labels, false);
}

static void f_annotations(struct pctx *c, const struct ynode *v, void *obj)
{
	get_kvlist(c, v, &((struct project *)obj)->annotations, false);
}

static const struct field metadata_fields[] = {
	FN("name", f_project_name, true),
	FN("labels", f_meta_labels, false),
	FN("annotations", f_annotations, false),
	END
};

static const struct field spec_fields[] = {
	FN("services", f_services, true),
	LIST("volumes", volume_item, false),
	LIST("ingress", ingress_item, false),
	FN("expireAt", f_expire, false),
	END
};

static const struct field top_fields[] = {
	SKIP("apiVersion", true),
	SKIP("kind", true),
	MAP("metadata", metadata_fields, true),
	MAP("spec", spec_fields, true),
	END
};

static void convert_project(struct pctx *c, const struct ynode *root)
{
	struct project p;

	memset(&p, 0, sizeof(p));
	p.file = xstrdup(c->file);
	p.pos = root->pos;
	p.valid = true;
	c->bad = false;
	buf_reset(&c->path);
	walk_map(c, root, top_fields, &p);
	if (!p.name) {
		/* reported as required or invalid; the project cannot be named */
		struct project_set gone = PROJECT_SET_INIT;

		c->set->incomplete = true;
		GROW(gone.v, gone.cap, 1);
		gone.v[gone.n++] = p;
		project_set_release(&gone);
		return;
	}
	if (c->bad)
		p.valid = false;
	manifest_validate_project(&p, c->d);
	GROW(c->set->v, c->set->cap, c->set->n + 1);
	c->set->v[c->set->n++] = p;
}

static const char *scalar_or_null(const struct ynode *n)
{
	return n && n->type == Y_SCALAR && !is_null(n) ? n->str : NULL;
}

/*
 * Which documents are projects.  Other kinds are skipped with a warning;
 * a document that claims caravanserai but is not a v1 Project, or that
 * looks like a Project without saying so, is an error that also stops
 * pruning: a typo in `kind` must not make a project look deleted.
 */
static void convert_document(struct pctx *c, const struct ynode *root)
{
	const struct ynode *avn = map_get(root, "apiVersion"), *kn = map_get(root, "kind");
	const char *av = scalar_or_null(avn), *kind = scalar_or_null(kn);
	bool near_project = kind && manifest_edit_distance(kind, "Project", 2) <= 2;

	buf_reset(&c->path);
	if (is_null(root))
		return;
	if (root->type != Y_MAP) {
		file_error(c, root->pos.line, root->pos.col, "a manifest document "
			   "must be a mapping, not %s", type_name(root));
		return;
	}
	if (av && !strcmp(av, "caravanserai/v1") && kind && !strcmp(kind, "Project")) {
		convert_project(c, root);
		return;
	}
	if (av && !strcmp(av, "caravanserai/v1")) {
		path_key(c, "kind");
		if (kind)
			perr(c, kn, "kind '%.64s' is not known in caravanserai/v1: "
			     "the only kind is 'Project'", kind);
		else
			perr(c, kn ? kn : root, "required");
	} else if (av && !strncmp(av, "caravanserai/", 13)) {
		path_key(c, "apiVersion");
		perr(c, avn, "apiVersion '%.64s' is not supported: cara reads "
		     "caravanserai/v1", av);
	} else if (av && near_project &&
		   (strcasestr(av, "caravan") || !strcasecmp(av, "v1") ||
		    manifest_edit_distance(av, "caravanserai/v1", 3) <= 3)) {
		/* a typo must not make the project look deleted and pruned */
		path_key(c, "apiVersion");
		perr(c, avn, "apiVersion '%.64s' is not 'caravanserai/v1' (the "
		     "spelling is exact, in lower case)", av);
	} else if (!av && (near_project || (!kind && map_get(root, "metadata") &&
					    map_get(root, "spec")))) {
		path_key(c, "apiVersion");
		perr(c, root, "required: a Project starts with apiVersion: "
		     "caravanserai/v1 and kind: Project");
	} else {
		pwarn(c, root, "document skipped: apiVersion '%.64s', kind '%.64s' "
		      "is not a caravanserai/v1 Project", av ? av : "",
		      kind ? kind : "");
		return;
	}
	c->set->incomplete = true;
	buf_reset(&c->path);
}

/* ---- one file ---- */

static void offset_pos(const char *data, size_t off, int *line, int *col)
{
	size_t i, l = 1, cl = 1;

	for (i = 0; i < off; i++) {
		if (data[i] == '\n') {
			l++;
			cl = 1;
		} else if (((unsigned char)data[i] & 0xc0) != 0x80) {
			cl++;
		}
	}
	*line = l > INT_MAX ? INT_MAX : (int)l;
	*col = cl > INT_MAX ? INT_MAX : (int)cl;
}

/* Offset of the first byte that is not valid UTF-8, or SIZE_MAX. */
static size_t utf8_invalid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char ch = s[i];
		size_t n, k;
		uint32_t cp;

		if (ch < 0x80) {
			i++;
			continue;
		}
		if (ch >= 0xc2 && ch <= 0xdf) {
			n = 1; cp = ch & 0x1f;
		} else if (ch >= 0xe0 && ch <= 0xef) {
			n = 2; cp = ch & 0x0f;
		} else if (ch >= 0xf0 && ch <= 0xf4) {
			n = 3; cp = ch & 0x07;
		} else {
			return i;
		}
		if (len - i <= n)
			return i;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += n + 1;
	}
	return SIZE_MAX;
}

static void syntax_error(struct pctx *c, const yaml_parser_t *p,
			 const char *data, size_t len)
{
	int line, col;
	const char *problem = p->problem ? p->problem : "cannot parse";
	const char *tabs = "";

	if (p->error == YAML_READER_ERROR) {
		offset_pos(data, p->problem_offset < len ? p->problem_offset : len,
			   &line, &col);
	} else {
		line = mark_num(p->problem_mark.line);
		col = mark_num(p->problem_mark.column);
		if (p->problem_mark.index < len && data[p->problem_mark.index] == '\t')
			tabs = " (tabs cannot indent YAML: use spaces)";
	}
	if (p->context)
		file_error(c, line, col, "YAML syntax error: %s %s at line %d, "
			   "column %d%s", problem, p->context,
			   mark_num(p->context_mark.line),
			   mark_num(p->context_mark.column), tabs);
	else
		file_error(c, line, col, "YAML syntax error: %s%s", problem, tabs);
}

static void parse_stream(struct pctx *c, const char *data, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct builder b;
	bool done = false;
	size_t ndocs = 0;

	memset(&b, 0, sizeof(b));
	b.c = c;
	if (!yaml_parser_initialize(&parser)) {
		file_error(c, 1, 1, "cannot initialise the YAML parser");
		return;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
	while (!done && !b.failed) {
		if (!yaml_parser_parse(&parser, &ev)) {
			syntax_error(c, &parser, data, len);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			builder_reset(&b);
			break;
		case YAML_DOCUMENT_END_EVENT:
			ndocs++;
			if (b.root)
				convert_document(c, b.root);
			builder_reset(&b);
			break;
		case YAML_SCALAR_EVENT:
			on_scalar(&b, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			on_start(&b, &ev, Y_SEQ, ev.data.sequence_start.anchor);
			break;
		case YAML_MAPPING_START_EVENT:
			on_start(&b, &ev, Y_MAP, ev.data.mapping_start.anchor);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			on_end(&b, &ev);
			break;
		case YAML_ALIAS_EVENT:
			on_alias(&b, &ev);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	builder_reset(&b);
	yaml_parser_delete(&parser);
	if (done && !ndocs) {
		struct ynode at = { .pos = { 1, 1 } };

		buf_reset(&c->path);
		pwarn(c, &at, "empty file: no YAML document");
	}
}

int manifest_parse_buffer(struct project_set *set, const char *file,
			  const char *data, size_t len,
			  const struct manifest_options *opts, struct diags *d)
{
	struct pctx c;
	size_t max = opts && opts->max_file_bytes ? opts->max_file_bytes :
		     SOURCE_MAX_FILE_BYTES;
	const char *nul;
	size_t bad;
	int line, col;

	memset(&c, 0, sizeof(c));
	c.set = set;
	c.file = file ? file : "";
	c.opts = opts;
	c.d = d;
	set->nfiles++;
	if (len > max) {
		file_error(&c, 1, 1, "file is larger than %zu bytes: refused", max);
	} else if (len && (nul = memchr(data, '\0', len))) {
		offset_pos(data, (size_t)(nul - data), &line, &col);
		file_error(&c, line, col, "NUL byte: not a YAML text file");
	} else if (len && (bad = utf8_invalid((const unsigned char *)data, len)) !=
		   SIZE_MAX) {
		offset_pos(data, bad, &line, &col);
		file_error(&c, line, col, "invalid UTF-8 (byte 0x%02x)",
			   (unsigned char)data[bad]);
	} else {
		parse_stream(&c, len ? data : "", len);
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
