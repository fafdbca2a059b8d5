/*
 * input/merge.c - the files of one compose project as one YAML tree,
 * before compose.c reads it: the override file beside the compose file,
 * service-level extends (same file or another file of the snapshot) and
 * top-level include, merged as compose merges them: each file's includes
 * first (an included file with its own includes and extends resolved),
 * then the override merged in, then the extends of the merged tree (the compose
 * specification's merge rules; docker-compose 1.29 where the two differ
 * and cara has no reason to pick).
 *
 * Every node keeps its line and column and, when it comes from another
 * file than the compose file, that file's path (ynode.file, borrowed from
 * the snapshot): a finding about a merged value names the file and line
 * it came from.
 *
 * Hostile input: files come from the snapshot only, by paths relative to
 * the file that names them and never outside the source (the snapshot
 * already refuses links that leave it); include and extends cycles are
 * errors at the node that closes them; files parsed per project
 * (COMPOSE_MAX_FILES) and nodes parsed or copied per project
 * (COMPOSE_MAX_NODES) are capped, so a chain of includes or extends
 * cannot make a pass hang or run out of memory.  Every merge is linear
 * in its inputs (hashes of keys).
 */
#include <stdlib.h>
#include <string.h>

#include "input/schema.h"
#include "source/source.h"

#define EXTENDS_MAX_DEPTH 32

const char *const compose_override_names[COMPOSE_OVERRIDE_NAMES] = {
	"compose.override.yaml", "compose.override.yml",
	"docker-compose.override.yml", "docker-compose.override.yaml",
};

int compose_override_rank(const char *name)
{
	int i;

	for (i = 0; i < COMPOSE_OVERRIDE_NAMES; i++)
		if (!strcmp(name, compose_override_names[i]))
			return i;
	return -1;
}

/* ---- a hash of strings to indexes ---- */

struct khash {
	const char **key;
	size_t *val;
	size_t cap, n;
};

static size_t kh_hash(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static size_t *kh_get(const struct khash *h, const char *k)
{
	size_t i;

	if (!h->cap)
		return NULL;
	for (i = kh_hash(k) & (h->cap - 1); h->key[i]; i = (i + 1) & (h->cap - 1))
		if (!strcmp(h->key[i], k))
			return &h->val[i];
	return NULL;
}

/* k is borrowed and must outlive h; a key already there is updated. */
static void kh_put(struct khash *h, const char *k, size_t v)
{
	size_t i, *old;

	if ((old = kh_get(h, k))) {
		*old = v;
		return;
	}
	if (2 * (h->n + 1) > h->cap) {
		struct khash g = { 0 };
		size_t j;

		g.cap = h->cap ? 2 * h->cap : 16;
		g.key = xcalloc(g.cap, sizeof(*g.key));
		g.val = xcalloc(g.cap, sizeof(*g.val));
		for (j = 0; j < h->cap; j++)
			if (h->key[j])
				kh_put(&g, h->key[j], h->val[j]);
		free(h->key);
		free(h->val);
		*h = g;
	}
	for (i = kh_hash(k) & (h->cap - 1); h->key[i]; i = (i + 1) & (h->cap - 1))
		;
	h->key[i] = k;
	h->val[i] = v;
	h->n++;
}

static void kh_release(struct khash *h)
{
	free(h->key);
	free(h->val);
	memset(h, 0, sizeof(*h));
}

/* ---- nodes ---- */

static struct ynode *node_new(enum ytype t, const struct ynode *at)
{
	struct ynode *n = xcalloc(1, sizeof(*n));

	n->type = t;
	n->pos = at->pos;
	n->file = at->file;
	return n;
}

static struct ynode *scalar_new(const char *s, size_t len, bool plain,
				const struct ynode *at)
{
	struct ynode *n = node_new(Y_SCALAR, at);

	n->str = xstrndup(s, len);
	n->len = len;
	n->plain = plain;
	return n;
}

static void kid_push(struct ynode *n, struct ynode *k)
{
	GROW(n->kid, n->cap, n->n + 1);
	n->kid[n->n++] = k;
}

static size_t count_nodes(const struct ynode *n)
{
	size_t i, s = 1;

	for (i = 0; i < n->n; i++)
		s += count_nodes(n->kid[i]);
	return s;
}

static struct ynode *copy_tree(const struct ynode *n)
{
	struct ynode *c = xmalloc(sizeof(*c));
	size_t i;

	*c = *n;
	c->str = n->str ? xstrndup(n->str, n->len) : NULL;
	c->kid = n->n ? xcalloc(n->n, sizeof(*c->kid)) : NULL;
	c->cap = n->n;
	for (i = 0; i < n->n; i++)
		c->kid[i] = copy_tree(n->kid[i]);
	return c;
}

static void set_file(struct ynode *n, const char *file)
{
	size_t i;

	n->file = file;
	for (i = 0; i < n->n; i++)
		set_file(n->kid[i], file);
}

/* Index of the value of key in mapping n, or -1. */
static long map_find(const struct ynode *n, const char *key)
{
	size_t i;

	if (!n || n->type != Y_MAP)
		return -1;
	for (i = 0; i + 1 < n->n; i += 2)
		if (n->kid[i]->type == Y_SCALAR && !strcmp(n->kid[i]->str, key))
			return (long)i + 1;
	return -1;
}

/* Remove the pair of key from mapping n (freed). */
static void map_remove(struct ynode *n, const char *key)
{
	long i = map_find(n, key);

	if (i < 0)
		return;
	ynode_free(n->kid[i - 1]);
	ynode_free(n->kid[i]);
	memmove(&n->kid[i - 1], &n->kid[i + 1],
		(n->n - (size_t)i - 1) * sizeof(*n->kid));
	n->n -= 2;
}

/* ---- the merge rules ---- */

enum rule {
	R_ANY,       /* mappings by key (R_ANY below), lists appended, else replaced */
	R_REPLACE,   /* command, entrypoint, healthcheck.test */
	R_TOP, R_SERVICES, R_SERVICE, R_HEALTH,
	R_UNIQUE,    /* a list (or one string) appended, equal items once */
	R_KV,        /* environment, labels, sysctls: by key, list or map */
	R_HOSTS,     /* extra_hosts: by host name, "name:ip" or "name=ip" */
	R_BYKEY,     /* ulimits: a mapping whose values are replaced whole */
	R_TARGET,    /* volumes, devices, tmpfs: by target path */
	R_PORTS,     /* ports: equal ones once */
	R_DEPS,      /* depends_on: by service, list or map */
	R_NETS,      /* networks of a service: by name, list or map */
	R_NET,       /* one of them: aliases unique */
};

struct rule_of {
	const char *key;
	enum rule rule;
};

static const struct rule_of service_rules[] = {
	{ "command", R_REPLACE }, { "entrypoint", R_REPLACE },
	{ "healthcheck", R_HEALTH },
	{ "environment", R_KV }, { "labels", R_KV }, { "sysctls", R_KV },
	{ "annotations", R_KV },
	{ "extra_hosts", R_HOSTS }, { "ulimits", R_BYKEY },
	{ "volumes", R_TARGET }, { "devices", R_TARGET }, { "tmpfs", R_TARGET },
	{ "ports", R_PORTS },
	{ "expose", R_UNIQUE }, { "dns", R_UNIQUE }, { "dns_search", R_UNIQUE },
	{ "dns_opt", R_UNIQUE }, { "cap_add", R_UNIQUE }, { "cap_drop", R_UNIQUE },
	{ "security_opt", R_UNIQUE }, { "profiles", R_UNIQUE },
	{ "env_file", R_UNIQUE }, { "group_add", R_UNIQUE }, { "links", R_UNIQUE },
	{ "depends_on", R_DEPS }, { "networks", R_NETS },
	{ NULL, R_ANY }
};

static enum rule rule_for(enum rule parent, const char *key)
{
	size_t i;

	switch (parent) {
	case R_TOP:
		return !strcmp(key, "services") ? R_SERVICES : R_ANY;
	case R_SERVICES:
		return R_SERVICE;
	case R_SERVICE:
		for (i = 0; service_rules[i].key; i++)
			if (!strcmp(key, service_rules[i].key))
				return service_rules[i].rule;
		return R_ANY;
	case R_HEALTH:
		return !strcmp(key, "test") ? R_REPLACE : R_ANY;
	case R_BYKEY:
		return R_REPLACE;
	case R_NETS:
		return R_NET;
	case R_NET:
		return !strcmp(key, "aliases") ? R_UNIQUE : R_ANY;
	case R_DEPS:
	case R_KV:
	case R_HOSTS:
		return R_REPLACE;
	default:
		return R_ANY;
	}
}

static void merge_value(struct ynode **slot, struct ynode *over, enum rule r);

/* Mapping over into mapping base, key by key; over's nodes are moved or
 * freed. */
static void merge_map(struct ynode *base, struct ynode *over, enum rule r)
{
	struct khash h = { 0 };
	size_t i;

	for (i = 0; i + 1 < base->n; i += 2)
		if (base->kid[i]->type == Y_SCALAR)
			kh_put(&h, base->kid[i]->str, i + 1);
	for (i = 0; i + 1 < over->n; i += 2) {
		struct ynode *k = over->kid[i], *v = over->kid[i + 1];
		size_t *at = k->type == Y_SCALAR ? kh_get(&h, k->str) : NULL;

		if (at) {
			merge_value(&base->kid[*at], v, rule_for(r, k->str));
			ynode_free(k);
			continue;
		}
		kid_push(base, k);
		kid_push(base, v);
		if (k->type == Y_SCALAR)
			kh_put(&h, k->str, base->n - 1);
	}
	over->n = 0;
	ynode_free(over);
	kh_release(&h);
}

/* One string is a list of one (tmpfs, dns, env_file take either). */
static struct ynode *as_list(struct ynode *n)
{
	struct ynode *l;

	if (n->type != Y_SCALAR)
		return n;
	l = node_new(Y_SEQ, n);
	kid_push(l, n);
	return l;
}

/* The key an item of a list is merged by, in *out (caller frees), or
 * NULL when it has none (appended as it is). */
static char *item_key(const struct ynode *n, enum rule r)
{
	const char *s, *e;

	if (r == R_PORTS && n->type == Y_MAP) {
		struct buf b = BUF_INIT;
		static const char *const f[] = { "host_ip", "published", "target",
						 "protocol", "mode" };
		size_t i;

		for (i = 0; i < sizeof(f) / sizeof(*f); i++) {
			const struct ynode *v = ynode_map_get(n, f[i]);

			buf_printf(&b, "%s%s", i ? "\x1f" : "map\x1f",
				   v && v->type == Y_SCALAR ? v->str : "");
		}
		return buf_detach(&b);
	}
	if (r == R_TARGET && n->type == Y_MAP) {
		const struct ynode *t = ynode_map_get(n, "target");

		return t && t->type == Y_SCALAR ? xstrdup(t->str) : NULL;
	}
	if (n->type != Y_SCALAR)
		return NULL;
	s = n->str;
	switch (r) {
	case R_KV:
		e = strchr(s, '=');
		return e ? xstrndup(s, (size_t)(e - s)) : xstrdup(s);
	case R_HOSTS:
		e = s + strcspn(s, ":=");
		return xstrndup(s, (size_t)(e - s));
	case R_TARGET:
		if (!strchr(s, ':'))
			return xstrdup(s);       /* an anonymous volume, a tmpfs */
		if (s[0] == '/' && strchr(s, ':') && !strchr(strchr(s, ':') + 1, ':') &&
		    !strchr(strchr(s, ':') + 1, '/'))
			return xstrndup(s, strcspn(s, ":"));   /* "/run:size=1m" */
		s = strchr(s, ':') + 1;
		return xstrndup(s, strcspn(s, ":"));
	default:
		return xstrdup(s);
	}
}

/*
 * List over into list base: items with a key already there replace it
 * in place (R_KV, R_HOSTS, R_TARGET) or are dropped (R_UNIQUE, R_PORTS,
 * R_DEPS, R_NETS); the others are appended.
 */
static void merge_list(struct ynode *base, struct ynode *over, enum rule r)
{
	struct khash h = { 0 };
	struct strvec keys = STRVEC_INIT;
	bool replace = r == R_KV || r == R_HOSTS || r == R_TARGET;
	size_t i;

	for (i = 0; i < base->n; i++) {
		char *k = item_key(base->kid[i], r);

		if (k) {
			strvec_push_nodup(&keys, k);
			kh_put(&h, keys.v[keys.n - 1], i);
		}
	}
	for (i = 0; i < over->n; i++) {
		struct ynode *v = over->kid[i];
		char *k = r == R_ANY ? NULL : item_key(v, r);
		size_t *at = k ? kh_get(&h, k) : NULL;

		if (at && replace) {
			ynode_free(base->kid[*at]);
			base->kid[*at] = v;
			free(k);
			continue;
		}
		if (at) {
			ynode_free(v);
			free(k);
			continue;
		}
		kid_push(base, v);
		if (k) {
			strvec_push_nodup(&keys, k);
			kh_put(&h, keys.v[keys.n - 1], base->n - 1);
		}
	}
	over->n = 0;
	ynode_free(over);
	kh_release(&h);
	strvec_release(&keys);
}

/* A list of KEY=VALUE (R_KV, R_HOSTS) or of names (R_DEPS, R_NETS) as the
 * mapping it means, so that it can merge with a mapping. */
static struct ynode *list_to_map(struct ynode *l, enum rule r)
{
	struct ynode *m = node_new(Y_MAP, l);
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct ynode *it = l->kid[i];
		const char *s = it->str;
		size_t klen;

		if (it->type != Y_SCALAR) {   /* kept, for the reader to refuse */
			kid_push(m, it);
			kid_push(m, scalar_new("", 0, true, it));
			continue;
		}
		klen = r == R_HOSTS ? strcspn(s, ":=") :
		       r == R_KV ? strcspn(s, "=") : it->len;
		kid_push(m, scalar_new(s, klen, true, it));
		if (klen < it->len)
			kid_push(m, scalar_new(s + klen + 1, it->len - klen - 1,
					       false, it));
		else
			kid_push(m, scalar_new("", 0, true, it));
		ynode_free(it);
	}
	l->n = 0;
	ynode_free(l);
	return m;
}

static void merge_value(struct ynode **slot, struct ynode *over, enum rule r)
{
	struct ynode *base = *slot;

	if (ynode_is_null(over) && !ynode_is_null(base) && r != R_REPLACE) {
		ynode_free(over);       /* an empty override keeps what was there */
		return;
	}
	if (r == R_REPLACE || ynode_is_null(base)) {
		ynode_free(base);
		*slot = over;
		return;
	}
	switch (r) {
	case R_UNIQUE:
	case R_TARGET:
	case R_PORTS:
		base = *slot = as_list(base);
		over = as_list(over);
		break;
	case R_KV:
	case R_HOSTS:
	case R_DEPS:
	case R_NETS:
		if (base->type == Y_SEQ && over->type == Y_MAP)
			base = *slot = list_to_map(base, r);
		else if (base->type == Y_MAP && over->type == Y_SEQ)
			over = list_to_map(over, r);
		break;
	default:
		break;
	}
	if (base->type == Y_MAP && over->type == Y_MAP) {
		/* the rules of lists say nothing of a mapping in their place */
		bool list_rule = r == R_UNIQUE || r == R_TARGET || r == R_PORTS;

		merge_map(base, over, list_rule ? R_ANY : r);
	} else if (base->type == Y_SEQ && over->type == Y_SEQ) {
		merge_list(base, over, r == R_DEPS || r == R_NETS ? R_UNIQUE : r);
	} else {
		ynode_free(base);
		*slot = over;
	}
}

static void compose_merge_tree(struct ynode *base, struct ynode *over)
{
	struct ynode *slot = base;

	merge_value(&slot, over, R_TOP);
}

static void compose_merge_service(struct ynode **base, struct ynode *over)
{
	merge_value(base, over, R_SERVICE);
}

/* ---- the files of a project ---- */

/* A file whose services extends reads, with an index of their names
 * (built at the first lookup; the names are borrowed from the tree, whose
 * services map only has values replaced while extends are resolved). */
struct tree {
	const char *path;          /* borrowed from the snapshot */
	struct ynode *root;        /* owned by whoever made the tree */
	struct ynode *svcs;
	struct khash idx;
	bool indexed;
};

/* The index of the value of service name in t, or -1. */
static long tree_find(struct tree *t, const char *name)
{
	size_t k, *at;
	long i;

	if (!t->indexed) {
		t->indexed = true;
		if ((i = map_find(t->root, "services")) >= 0 &&
		    t->root->kid[i]->type == Y_MAP) {
			t->svcs = t->root->kid[i];
			for (k = 0; k + 1 < t->svcs->n; k += 2)
				if (t->svcs->kid[k]->type == Y_SCALAR &&
				    !kh_get(&t->idx, t->svcs->kid[k]->str))
					kh_put(&t->idx, t->svcs->kid[k]->str, k + 1);
		}
	}
	at = kh_get(&t->idx, name);
	return at ? (long)*at : -1;
}

struct loader {
	struct pctx *c;
	struct tree **ext;         /* files read for extends, once each */
	size_t next, capext;
	struct strvec including;   /* the include chain being read */
	struct strvec included;    /* every file included so far */
	size_t files, nodes;
	bool over;                 /* a cap was hit: read no more */
};

struct parse {
	struct pctx *c;
	struct ynode *root;
	long ndocs;
};

static void take_document(void *ctx, const struct ynode *root)
{
	struct parse *p = ctx;

	if (p->ndocs++)
		ynode_free((struct ynode *)root);  /* refused below */
	else
		p->root = (struct ynode *)root;
}

/* The text of the file could not be read: reported in that file. */
static void text_error(void *ctx, int line, int col, const char *message)
{
	struct parse *p = ctx;

	file_error(p->c, line, col, "%s", message);
}

static bool budget(struct loader *l, const struct ynode *at, size_t nodes)
{
	struct pctx *c = l->c;

	if (l->over)
		return false;
	if (l->files > COMPOSE_MAX_FILES) {
		perr(c, at, "more than %d files read for one compose project "
		     "(include, extends): refused", COMPOSE_MAX_FILES);
		l->over = true;
	} else if (nodes > COMPOSE_MAX_NODES - l->nodes) {
		perr(c, at, "more than %zu YAML nodes read or copied for one "
		     "compose project (include, extends): refused",
		     (size_t)COMPOSE_MAX_NODES);
		l->over = true;
	} else {
		l->nodes += nodes;
	}
	return !l->over;
}

/*
 * path, relative to the directory of the file `from`, as the snapshot's
 * path (caller frees); NULL after an error at at.
 */
static char *rel_path(struct pctx *c, const struct ynode *at, const char *from,
		      const char *rel, const char *what)
{
	char *dir = input_dir_of(from), *p = NULL;

	if (*rel == '/' || *rel == '~')
		perr(c, at, "'%.64s' is not in the source: %s is read from the "
		     "source, relative to the file naming it", rel, what);
	else if (!(p = input_join_rel(dir, rel)))
		perr(c, at, "'%.64s' leaves the source", rel);
	free(dir);
	return p;
}

/* The compose file at path of the snapshot, parsed, merge keys resolved,
 * every node naming it; NULL after an error at at. */
static struct ynode *load(struct loader *l, const struct ynode *at,
			  const char *path, const char **stored)
{
	struct pctx *c = l->c;
	const struct source_file *f = c->snap ? source_snapshot_find(c->snap, path)
				      : NULL;
	struct parse p = { c, NULL, 0 };
	const char *saved = c->file;
	struct yaml_reader r = {
		.document = take_document, .error = text_error, .ctx = &p,
		.source_expanded_bytes = &c->set->expanded_bytes, .take = true,
	};
	long rc;

	if (!f) {
		perr(c, at, "'%s' is not in the source (cara reads compose files "
		     "named *.yaml or *.yml from the source only)", path);
		return NULL;
	}
	l->files++;
	if (!budget(l, at, 0))
		return NULL;
	c->file = f->path;        /* the text's errors are that file's */
	rc = yaml_read(&r, f->data, f->len);
	c->file = saved;
	if (rc < 0 || !p.root) {
		if (!rc)
			perr(c, at, "'%s' is empty: no YAML document", f->path);
		ynode_free(p.root);
		return NULL;
	}
	if (p.ndocs > 1) {
		perr(c, at, "'%s' holds more than one YAML document", f->path);
		ynode_free(p.root);
		return NULL;
	}
	set_file(p.root, f->path);
	if (!budget(l, at, count_nodes(p.root))) {
		ynode_free(p.root);
		return NULL;
	}
	compose_merge_keys(c, p.root);
	if (p.root->type != Y_MAP) {
		perr(c, p.root, "a compose file must be a mapping, not %s",
		     ynode_type_name(p.root));
		ynode_free(p.root);
		return NULL;
	}
	*stored = f->path;
	return p.root;
}

static void process(struct loader *l, struct ynode *root, const char *path,
		    bool extends);

/* The service `name` of tree t with its extends resolved (borrowed from
 * t), or NULL after an error at at. */
static struct tree *ext_tree(struct loader *l, const struct ynode *at,
			     const char *path)
{
	struct tree *t;
	struct ynode *root;
	const char *stored;
	size_t i;

	for (i = 0; i < l->next; i++)
		if (!strcmp(l->ext[i]->path, path))
			return l->ext[i];
	if (!(root = load(l, at, path, &stored)))
		return NULL;
	t = xcalloc(1, sizeof(*t));
	t->path = stored;
	t->root = root;
	GROW(l->ext, l->capext, l->next + 1);
	l->ext[l->next++] = t;
	return t;
}

static const char *const not_inherited[] = {
	"depends_on", "links", "volumes_from",
};

/* The service `name` of t with its extends resolved (borrowed from t), or
 * NULL after an error at at.  stack holds the services being resolved. */
static struct ynode *resolve(struct loader *l, struct tree *t,
			     const char *name, const struct ynode *at,
			     struct ynode **stack, size_t depth)
{
	struct pctx *c = l->c;
	struct ynode *v, *ext, *base, *copy;
	struct tree *bt = t;
	const struct ynode *bs, *bf;
	const char *path = t->path;
	char *bfile = NULL;
	long i, si;
	size_t k, n;

	if ((si = tree_find(t, name)) < 0) {
		perr(c, at, "no service '%.64s' in '%s' to extend", name, path);
		return NULL;
	}
	v = t->svcs->kid[si];
	if (v->type != Y_MAP || (i = map_find(v, "extends")) < 0)
		return v;
	ext = v->kid[i];
	for (k = 0; k < depth; k++)
		if (stack[k] == v) {
			perr(c, ext, "extends cycle: service '%.64s' of '%s' "
			     "extends itself", name, path);
			goto fail;
		}
	if (depth >= EXTENDS_MAX_DEPTH) {
		perr(c, ext, "more than %d services in one extends chain: refused",
		     EXTENDS_MAX_DEPTH);
		goto fail;
	}
	stack[depth] = v;
	if (ext->type == Y_SCALAR) {
		bs = ext;
		bf = NULL;
	} else if (ext->type == Y_MAP) {
		for (k = 0; k + 1 < ext->n; k += 2)
			if (ext->kid[k]->type != Y_SCALAR ||
			    (strcmp(ext->kid[k]->str, "service") &&
			     strcmp(ext->kid[k]->str, "file")))
				perr(c, ext->kid[k], "extends takes service and file "
				     "only");
		bs = ynode_map_get(ext, "service");
		bf = ynode_map_get(ext, "file");
		if (!bs || bs->type != Y_SCALAR) {
			perr(c, ext, "extends needs a service name (service:)");
			goto fail;
		}
	} else {
		perr(c, ext, "extends must be a service name or a mapping, not %s",
		     ynode_type_name(ext));
		goto fail;
	}
	if (bf && !ynode_is_null(bf)) {
		if (bf->type != Y_SCALAR) {
			perr(c, bf, "extends.file must be a path");
			goto fail;
		}
		/* relative to the file the extends is written in */
		if (!(bfile = rel_path(c, bf, bf->file ? bf->file : path, bf->str,
				       "an extends file")))
			goto fail;
		if (strcmp(bfile, path) && !(bt = ext_tree(l, bf, bfile))) {
			free(bfile);
			goto fail;
		}
	}
	free(bfile);
	if (!(base = resolve(l, bt, bs->str, bs, stack, depth + 1)))
		goto fail;
	for (k = 0; k < sizeof(not_inherited) / sizeof(*not_inherited); k++)
		if (map_find(base, not_inherited[k]) >= 0) {
			perr(c, bs, "service '%.64s' cannot be extended: it has %s "
			     "(as in compose)", bs->str, not_inherited[k]);
			goto fail;
		}
	if (base->type != Y_MAP) {
		perr(c, bs, "service '%.64s' is not a mapping", bs->str);
		goto fail;
	}
	n = count_nodes(base);
	if (!budget(l, bs, n))
		goto fail;
	copy = copy_tree(base);
	map_remove(v, "extends");
	t->svcs->kid[si] = copy;
	compose_merge_service(&t->svcs->kid[si], v);   /* frees v */
	return t->svcs->kid[si];
fail:
	/* reported: the reader must not report extends again */
	map_remove(v, "extends");
	return NULL;
}

/* Every service of root with its extends resolved. */
static void resolve_all(struct loader *l, struct ynode *root, const char *path)
{
	struct ynode *stack[EXTENDS_MAX_DEPTH];
	struct tree t = { .path = path, .root = root };
	size_t k;

	tree_find(&t, "");        /* the index, and t.svcs */
	for (k = 0; t.svcs && k + 1 < t.svcs->n && !l->over; k += 2)
		if (t.svcs->kid[k]->type == Y_SCALAR &&
		    t.svcs->kid[k + 1]->type == Y_MAP &&
		    map_find(t.svcs->kid[k + 1], "extends") >= 0)
			resolve(l, &t, t.svcs->kid[k]->str, t.svcs->kid[k], stack, 0);
	kh_release(&t.idx);
}

/* The services, volumes, networks and configs of included tree inc join
 * root; one defined twice is an error, as in compose. */
static void join(struct loader *l, struct ynode *root, struct ynode *inc,
		 const char *root_path)
{
	static const char *const tops[] = { "services", "volumes", "networks",
					    "configs" };
	static const char *const what[] = { "service", "volume", "network",
					    "config" };
	size_t t, k;

	for (t = 0; t < sizeof(tops) / sizeof(*tops); t++) {
		long ii = map_find(inc, tops[t]), ri;
		struct ynode *from, *to;
		struct khash h = { 0 };

		if (ii < 0 || (from = inc->kid[ii])->type != Y_MAP)
			continue;
		if ((ri = map_find(root, tops[t])) < 0 ||
		    ynode_is_null(root->kid[ri])) {
			if (ri < 0) {
				kid_push(root, scalar_new(tops[t], strlen(tops[t]),
							  true, inc));
				kid_push(root, node_new(Y_MAP, inc));
			} else {
				ynode_free(root->kid[ri]);
				root->kid[ri] = node_new(Y_MAP, inc);
			}
			ri = map_find(root, tops[t]);
		}
		to = root->kid[ri];
		if (to->type != Y_MAP)
			continue;          /* reported by the reader */
		for (k = 0; k + 1 < to->n; k += 2)
			if (to->kid[k]->type == Y_SCALAR)
				kh_put(&h, to->kid[k]->str, k);
		for (k = 0; k + 1 < from->n; k += 2) {
			struct ynode *key = from->kid[k], *val = from->kid[k + 1];

			if (key->type == Y_SCALAR && kh_get(&h, key->str) &&
			    strncmp(key->str, "x-", 2)) {
				perr(l->c, key, "%s '%.64s' is defined twice: in '%s' "
				     "and in the file it includes", what[t], key->str,
				     root_path);
				ynode_free(key);
				ynode_free(val);
				continue;
			}
			kid_push(to, key);
			kid_push(to, val);
			if (key->type == Y_SCALAR)
				kh_put(&h, key->str, to->n - 2);
		}
		from->n = 0;
		kh_release(&h);
	}
}

static void include_one(struct loader *l, struct ynode *root, const char *path,
			const struct ynode *item)
{
	struct pctx *c = l->c;
	const struct ynode *p = item;
	struct ynode *inc;
	const char *stored;
	char *ip;
	size_t k;

	if (item->type == Y_MAP) {
		for (k = 0; k + 1 < item->n; k += 2) {
			const struct ynode *key = item->kid[k];

			if (key->type == Y_SCALAR && !strcmp(key->str, "path"))
				continue;
			perr(c, key, "not supported by cara: include.%.32s (the "
			     "included file is read with this project's "
			     "environment and .env)",
			     key->type == Y_SCALAR ? key->str : "?");
		}
		if (!(p = ynode_map_get(item, "path"))) {
			perr(c, item, "include needs a path");
			return;
		}
	}
	if (p->type == Y_SEQ) {
		perr(c, p, "not supported by cara: a list of files in one include "
		     "(one path an entry)");
		return;
	}
	if (p->type != Y_SCALAR) {
		perr(c, p, "include takes a path, not %s", ynode_type_name(p));
		return;
	}
	if (!(ip = rel_path(c, p, path, p->str, "an included file")))
		return;
	for (k = 0; k < l->including.n; k++)
		if (!strcmp(l->including.v[k], ip)) {
			perr(c, p, "include cycle: '%s' includes itself", ip);
			free(ip);
			return;
		}
	if (strvec_has(&l->included, ip)) {
		free(ip);           /* already in the project (a diamond) */
		return;
	}
	strvec_push(&l->included, ip);
	if (c->set && !strvec_has(&c->set->included, ip))
		strvec_push(&c->set->included, ip);
	inc = load(l, p, ip, &stored);
	if (inc) {
		strvec_push(&l->including, ip);
		process(l, inc, stored, true);
		free(l->including.v[--l->including.n]);
		join(l, root, inc, path);
		ynode_free(inc);
	}
	free(ip);
}

/* Includes, then (with extends) extends, of the file at path whose tree is
 * root. */
static void process(struct loader *l, struct ynode *root, const char *path,
		    bool extends)
{
	long i = map_find(root, "include");
	struct ynode *inc;
	size_t k;

	if (i >= 0) {
		inc = root->kid[i];
		if (inc->type == Y_SEQ) {
			for (k = 0; k < inc->n && !l->over; k++)
				include_one(l, root, path, inc->kid[k]);
		} else if (!ynode_is_null(inc)) {
			perr(l->c, inc, "include must be a list, not %s",
			     ynode_type_name(inc));
		}
		map_remove(root, "include");
	}
	if (extends)
		resolve_all(l, root, path);
}

void compose_assemble(struct pctx *c, struct ynode *root)
{
	struct loader l;
	const char *b = strrchr(c->file, '/'), *stored;
	int rank = source_compose_rank(b ? b + 1 : c->file), i;
	size_t k;
	char *dir = input_dir_of(c->file);

	memset(&l, 0, sizeof(l));
	l.c = c;
	l.nodes = count_nodes(root);
	strvec_push(&l.including, c->file);
	strvec_push(&l.included, c->file);
	process(&l, root, c->file, false);
	/* the override of its family: compose.override.* for compose.*,
	 * docker-compose.override.* for docker-compose.* */
	for (i = 0; rank >= 0 && i < 2 && c->snap; i++) {
		const char *name = compose_override_names[(rank >= 2 ? 2 : 0) + i];
		char *p = xasprintf("%s%s", dir, name);
		struct ynode *over;

		if (!source_snapshot_find(c->snap, p)) {
			free(p);
			continue;
		}
		if ((over = load(&l, root, p, &stored))) {
			strvec_push(&l.including, stored);
			process(&l, over, stored, false);
			compose_merge_tree(root, over);
		}
		free(p);
		break;
	}
	/* extends last, on the merged tree, as compose resolves them: an
	 * override may extend a service of the compose file, and what it
	 * changes in a base reaches the services extending it */
	resolve_all(&l, root, c->file);
	for (k = 0; k < l.next; k++) {
		ynode_free(l.ext[k]->root);
		kh_release(&l.ext[k]->idx);
		free(l.ext[k]);
	}
	free(l.ext);
	strvec_release(&l.including);
	strvec_release(&l.included);
	free(dir);
}
