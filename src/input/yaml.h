/*
 * input/yaml.h - YAML text to a tree of nodes that keep their line and
 * column, for every reader of input/ (manifests, and the config file's
 * shape of mapping).  Aliases are expanded by copying, under a budget per
 * file and one shared by the files of a source; sizes, depth, nodes and
 * anchors are capped, so no text can make a pass hang or run out of
 * memory.  A text that is not UTF-8 or holds a NUL byte is refused before
 * libyaml sees it.
 */
#ifndef CARA_INPUT_YAML_H
#define CARA_INPUT_YAML_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"

#define YAML_MAX_SCALAR ((size_t)256 << 10)   /* bytes of one value */

enum ytype { Y_SCALAR, Y_SEQ, Y_MAP };

struct ynode {
	enum ytype type;
	bool plain;             /* a plain scalar: may mean null */
	struct pos pos;
	const char *file;       /* borrowed: the file it came from, when not
				 * the one being read (compose overrides,
				 * extends, include); NULL: that one */
	char *str;              /* scalar text */
	size_t len;
	size_t size, height;    /* nodes in the subtree; its depth */
	size_t bytes;           /* scalar bytes in the subtree */
	struct ynode **kid;     /* sequence items, or key, value, key, value... */
	size_t n, cap;
};

void ynode_free(struct ynode *n);
/* Absent, or a plain "", "~", "null" (any case YAML allows). */
bool ynode_is_null(const struct ynode *n);
/* "null", "a mapping", "a list" or "a scalar", for messages. */
const char *ynode_type_name(const struct ynode *n);
/* The value of key `key` in mapping n, or NULL. */
const struct ynode *ynode_map_get(const struct ynode *n, const char *key);

struct yaml_reader {
	/* each document's root, valid during the call only */
	void (*document)(void *ctx, const struct ynode *root);
	/* the text is refused or cannot be parsed past (line, col): called
	 * once, and no document follows */
	void (*error)(void *ctx, int line, int col, const char *message);
	void *ctx;
	/* bytes copied for aliases by the files read before; updated */
	size_t *source_expanded_bytes;
	/* each root is the document callback's to keep (ynode_free) */
	bool take;
};

/*
 * Read the YAML text data[0..len).  Returns the number of documents
 * passed to r->document, or -1 after r->error.
 */
long yaml_read(const struct yaml_reader *r, const char *data, size_t len);

#endif
