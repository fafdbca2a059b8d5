/*
 * input/yaml.c - YAML text to a tree with marks (yaml.h).
 *
 * libyaml's event parser builds a small tree per document that keeps
 * every node's line and column; aliases are expanded by copying, under a
 * budget.  Every cap is checked as the tree grows, so the memory a text
 * costs is bounded whatever it holds.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "input/yaml.h"

#define MAX_DEPTH 64            /* nested collections */
#define MAX_NODES 200000        /* per file */
#define MAX_ANCHORS 1000        /* per document */
#define MAX_EXPANDED 10000      /* nodes copied for aliases, per file */
/* bytes of scalars copied for aliases: a few nodes can hold 256 KiB each */
#define MAX_EXPANDED_BYTES ((size_t)4 << 20)     /* per file */
#define MAX_EXPANDED_BYTES_SET ((size_t)32 << 20) /* per source */

/* ---- the document tree ---- */

void ynode_free(struct ynode *n)
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

bool ynode_is_null(const struct ynode *n)
{
	return !n || (n->type == Y_SCALAR && n->plain &&
		      (!n->len || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
		       !strcmp(n->str, "Null") || !strcmp(n->str, "NULL")));
}

const char *ynode_type_name(const struct ynode *n)
{
	if (ynode_is_null(n))
		return "null";
	return n->type == Y_MAP ? "a mapping" : n->type == Y_SEQ ? "a list" :
	       "a scalar";
}

const struct ynode *ynode_map_get(const struct ynode *n, const char *key)
{
	size_t i;

	if (!n || n->type != Y_MAP)
		return NULL;
	for (i = 0; i + 1 < n->n; i += 2)
		if (n->kid[i]->type == Y_SCALAR && !strcmp(n->kid[i]->str, key))
			return n->kid[i + 1];
	return NULL;
}

/* ---- building the tree from libyaml events ---- */

struct anchor {
	char *name;
	const struct ynode *node;   /* borrowed from the document's tree */
};

struct builder {
	const struct yaml_reader *r;
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
	struct buf msg = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	b->r->error(b->r->ctx, mark_num(m->line), mark_num(m->column),
		    buf_cstr(&msg));
	buf_release(&msg);
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

	if (len > YAML_MAX_SCALAR) {
		builder_fail(b, &ev->start_mark, "a value longer than %zu bytes: "
			     "refused", YAML_MAX_SCALAR);
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
	if (b->r->source_expanded_bytes &&
	    a->node->bytes > MAX_EXPANDED_BYTES_SET - *b->r->source_expanded_bytes) {
		builder_fail(b, &ev->start_mark, "aliases of the whole source expand "
			     "to more than %zu bytes: refused (an alias bomb?)",
			     MAX_EXPANDED_BYTES_SET);
		return;
	}
	b->expanded_bytes += a->node->bytes;
	if (b->r->source_expanded_bytes)
		*b->r->source_expanded_bytes += a->node->bytes;
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

/* ---- the text ---- */

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

/* Report libyaml's error once, as a message about the whole text. */
static void syntax_error(const struct yaml_reader *r, const yaml_parser_t *p,
			 const char *data, size_t len)
{
	int line, col;
	const char *problem = p->problem ? p->problem : "cannot parse";
	const char *tabs = "";
	struct buf msg = BUF_INIT;

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
		buf_printf(&msg, "YAML syntax error: %s %s at line %d, column %d%s",
			   problem, p->context, mark_num(p->context_mark.line),
			   mark_num(p->context_mark.column), tabs);
	else
		buf_printf(&msg, "YAML syntax error: %s%s", problem, tabs);
	r->error(r->ctx, line, col, buf_cstr(&msg));
	buf_release(&msg);
}

/* Refuse, with r->error, a text libyaml must not see; true if refused. */
static bool refuse_text(const struct yaml_reader *r, const char *data, size_t len)
{
	struct buf msg = BUF_INIT;
	const char *nul;
	size_t bad;
	int line, col;

	if (!len)
		return false;
	if ((nul = memchr(data, '\0', len))) {
		offset_pos(data, (size_t)(nul - data), &line, &col);
		buf_puts(&msg, "NUL byte: not a YAML text file");
	} else if ((bad = utf8_invalid((const unsigned char *)data, len)) != SIZE_MAX) {
		offset_pos(data, bad, &line, &col);
		buf_printf(&msg, "invalid UTF-8 (byte 0x%02x)", (unsigned char)data[bad]);
	} else {
		return false;
	}
	r->error(r->ctx, line, col, buf_cstr(&msg));
	buf_release(&msg);
	return true;
}

long yaml_read(const struct yaml_reader *r, const char *data, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct builder b;
	bool done = false;
	long ndocs = 0;

	if (refuse_text(r, data, len))
		return -1;
	memset(&b, 0, sizeof(b));
	b.r = r;
	if (!yaml_parser_initialize(&parser)) {
		r->error(r->ctx, 1, 1, "cannot initialise the YAML parser");
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)(len ? data : ""),
				     len);
	while (!done && !b.failed) {
		if (!yaml_parser_parse(&parser, &ev)) {
			syntax_error(r, &parser, data, len);
			b.failed = true;
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
				r->document(r->ctx, b.root);
			if (r->take)
				b.root = NULL;   /* the callback's now */
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
	return b.failed ? -1 : ndocs;
}
