/*
 * input/compose.c - the compose reader: a compose file (compose.yaml,
 * docker-compose.yml, ...) is one project, read into the same model as a
 * caravanserai/v1 Project, so that everything after input/ never knows
 * which format a project came from.  docker-compose's own reading
 * (`docker-compose config`) is the reference for what a file means.
 *
 * Invariant: every field is mapped exactly or refused with "not supported
 * by cara: FIELD"; nothing is dropped, since a dropped cap_add or
 * privileged would give another container than the one reviewed.
 *
 * Sibling files (.env, env_file) come from the same snapshot as the
 * compose file, never from the host's working directory.  Merge keys
 * ('<<') are resolved on the tree before it is walked, by moving nodes
 * (the tree never grows, so the YAML layer's caps still hold).
 */
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "input/schema.h"
#include "names.h"
#include "source/source.h"

#define MAX_PORT_RANGE 1024      /* ports one "a-b:c-d" entry may expand to */

struct reader {
	struct project *p;
	struct kvlist dotenv;
	/* the service being read: env_file and environment, merged at its end */
	struct kvlist envf, envx;
	bool hc_disable, has_mem;
	int64_t mem_limit;
	/* pids_limit or deploy's limits.pids, of the service being read */
	const struct ynode *pids_at;
	/* mem_reservation and deploy.resources.reservations.memory, of the
	 * service being read (the deploy one wins, as in compose), and the
	 * memswap_limit node (check_memory) */
	int64_t mem_rsv, deploy_rsv;
	const struct ynode *mem_rsv_at, *deploy_rsv_at, *swap_at;
	struct strvec profiles;      /* of the service being read */
	struct strvec disabled;      /* services whose profiles are all off */
	const struct ynode *configs; /* the top-level configs */
	const struct ynode *secrets; /* the top-level secrets */
	struct kvlist secret_refs;   /* compose name -> "name/key" */
	const struct ynode *pull_build; /* pull_policy: build, of the service */
	const struct ynode *build_ctx;  /* build.context, of the service */
	bool build_map;                 /* build: {context: ...}, not build: DIR */
	struct link *links;             /* of every service, resolved at the end */
	size_t nlinks, caplinks;
	bool has_scale;                 /* scale: of the service being read */
	int scale;
	const struct ynode *scale_at;
	struct cname *cnames;           /* container_name of each service */
	size_t ncnames, capcnames;
};

/* container_name NAME of service `service` (cnames_finish) */
struct cname {
	char *service, *name;
	const struct ynode *at;         /* its value, of whichever file */
};

/* links: SERVICE[:ALIAS] of service `from` (links_finish) */
struct link {
	char *from, *target, *alias;
	const struct ynode *at;         /* its item, of whichever file */
	size_t index;                   /* in the links list */
};

static void kvlist_free(struct kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void kv_push(struct kvlist *l, char *key, char *value, struct pos pos)
{
	GROW(l->v, l->cap, l->n + 1);
	l->v[l->n].key = key;
	l->v[l->n].value = value;
	l->v[l->n].pos = pos;
	l->n++;
}

static int kv_key_seq(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;
	int r = strcmp(x->key, y->key);

	/* pos.line orders the entries of one file */
	return r ? r : (x->pos.line > y->pos.line) - (x->pos.line < y->pos.line);
}

/* Sort l by key, keeping the last entry of each key (schema.c's
 * lookup_var searches it in log time). */
static void kvlist_last_wins(struct kvlist *l)
{
	size_t i, o = 0;

	if (!l->n)
		return;          /* (qsort takes no NULL array) */
	qsort(l->v, l->n, sizeof(*l->v), kv_key_seq);
	for (i = 0; i < l->n; i++) {
		if (i + 1 < l->n && !strcmp(l->v[i].key, l->v[i + 1].key)) {
			free(l->v[i].key);
			free(l->v[i].value);
			continue;
		}
		l->v[o++] = l->v[i];
	}
	l->n = o;
}

/* ---- merge keys ('<<'), on the tree ---- */

struct mpair {
	struct ynode *key, *val;
	size_t seq;       /* position in the result */
	int pri;          /* 0 local, then the merged mappings in order */
};

/* Scalar keys by text, then local before merged, then file order;
 * other keys (reported by walk_map) after them, never equal. */
static int mpair_by_key(const void *a, const void *b)
{
	const struct mpair *x = a, *y = b;
	bool xs = x->key->type == Y_SCALAR, ys = y->key->type == Y_SCALAR;
	int r;

	if (xs != ys)
		return xs ? -1 : 1;
	if (xs && (r = strcmp(x->key->str, y->key->str)))
		return r;
	if (xs && x->pri != y->pri)
		return x->pri < y->pri ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool same_key(const struct mpair *x, const struct mpair *y)
{
	return x->key->type == Y_SCALAR && y->key->type == Y_SCALAR &&
	       !strcmp(x->key->str, y->key->str);
}

static int mpair_by_seq(const void *a, const void *b)
{
	const struct mpair *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool is_merge_key(const struct ynode *k)
{
	return k->type == Y_SCALAR && k->plain && !strcmp(k->str, "<<");
}

/*
 * Resolve the merge keys of n and below: local keys win, then the merged
 * mappings in the order listed (YAML's merge-key rule).  Nodes are moved,
 * never copied; n log n per mapping.
 */
void compose_merge_keys(struct pctx *c, struct ynode *n)
{
	struct mpair *v = NULL;
	size_t i, j, nv = 0, capv = 0, seq = 0, out;
	bool any = false;
	int pri = 1;

	for (i = 0; i < n->n; i++)
		compose_merge_keys(c, n->kid[i]);
	if (n->type != Y_MAP)
		return;
	for (i = 0; i + 1 < n->n; i += 2)
		any |= is_merge_key(n->kid[i]);
	if (!any)
		return;
	for (i = 0; i + 1 < n->n; i += 2) {
		struct ynode *k = n->kid[i], *val = n->kid[i + 1];

		if (!is_merge_key(k)) {
			GROW(v, capv, nv + 1);
			v[nv++] = (struct mpair){ k, val, seq++, 0 };
			continue;
		}
		for (j = 0; j < (val->type == Y_SEQ ? val->n : 1); j++) {
			struct ynode *m = val->type == Y_SEQ ? val->kid[j] : val;
			size_t t;

			if (m->type != Y_MAP) {
				perr(c, m, "a merge key ('<<') takes a mapping or a "
				     "list of mappings, not %s", ynode_type_name(m));
				continue;
			}
			for (t = 0; t + 1 < m->n; t += 2) {
				GROW(v, capv, nv + 1);
				v[nv++] = (struct mpair){ m->kid[t], m->kid[t + 1],
							  seq++, pri };
			}
			m->n = 0;    /* its pairs are moved */
			pri++;
		}
	}
	/* a key merged in is dropped when a local key or an earlier mapping
	 * has it; local duplicates stay, for walk_map to report */
	if (nv > 1)
		qsort(v, nv, sizeof(*v), mpair_by_key);
	for (i = 0; i < nv; i = j)
		for (j = i + 1; j < nv && same_key(&v[i], &v[j]); j++)
			if (v[j].pri) {
				ynode_free(v[j].key);
				ynode_free(v[j].val);
				v[j].key = NULL;
			}
	if (nv > 1)
		qsort(v, nv, sizeof(*v), mpair_by_seq);
	/* the '<<' pairs themselves go; their values are emptied above */
	for (i = 0; i + 1 < n->n; i += 2)
		if (is_merge_key(n->kid[i])) {
			ynode_free(n->kid[i]);
			ynode_free(n->kid[i + 1]);
		}
	n->n = 0;
	GROW(n->kid, n->cap, 2 * nv + 1);
	for (i = 0, out = 0; i < nv; i++)
		if (v[i].key) {
			n->kid[out++] = v[i].key;
			n->kid[out++] = v[i].val;
		}
	n->n = out;
	free(v);
}

/* ---- sibling files: .env and env_file ---- */

static const struct source_file *sibling(struct pctx *c, const char *path)
{
	return c->snap ? source_snapshot_find(c->snap, path) : NULL;
}

/*
 * An env file, as compose reads it (python-dotenv): KEY=VALUE lines, '#'
 * comments, blank lines, an optional "export "; in double quotes \n, \"
 * and \\ are escapes; unquoted, a value ends at " #".  Values interpolate
 * ${VAR} and ${VAR:-default}, in single quotes too (as docker-compose 1.29
 * does; the compose spec later made those literal): from the keys above
 * in the same file, then from the environment (cara's rules on which
 * variables may be read).  A KEY alone
 * has no value (NULL): env_file takes it from the environment.  Findings
 * name the env file.  Linear in the file (a hash of its keys).
 */
static void env_file_error(struct pctx *c, const char *file, int line,
			   const char *fmt, ...) PRINTF_LIKE(4, 5);
static void env_file_error(struct pctx *c, const char *file, int line,
			   const char *fmt, ...)
{
	struct buf m = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&m, fmt, ap);
	va_end(ap);
	c->bad = true;
	diags_add(c->d, DIAG_ERROR, file, line, 1, "", "%s", buf_cstr(&m));
	buf_release(&m);
}

struct envhash {
	size_t *slot;          /* index + 1 into the list, 0 empty */
	size_t cap, used;
	const struct kvlist *l;
};

static size_t str_hash(const char *s, size_t n)
{
	size_t h = 1469598103934665603ULL;

	while (n--)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static size_t *envhash_find(struct envhash *h, const char *key, size_t n)
{
	size_t i = str_hash(key, n) & (h->cap - 1);

	while (h->slot[i]) {
		const char *k = h->l->v[h->slot[i] - 1].key;

		if (strlen(k) == n && !memcmp(k, key, n))
			break;
		i = (i + 1) & (h->cap - 1);
	}
	return &h->slot[i];
}

static void envhash_put(struct envhash *h, size_t idx)
{
	const char *k = h->l->v[idx].key;

	if (2 * (h->used + 1) > h->cap) {
		size_t i, old = h->cap, *os = h->slot;

		h->cap = h->cap ? 2 * h->cap : 64;
		h->slot = xcalloc(h->cap, sizeof(*h->slot));
		h->used = 0;
		for (i = 0; i < old; i++)
			if (os[i]) {
				*envhash_find(h, h->l->v[os[i] - 1].key,
					      strlen(h->l->v[os[i] - 1].key)) = os[i];
				h->used++;
			}
		free(os);
	}
	if (!*envhash_find(h, k, strlen(k)))
		h->used++;
	*envhash_find(h, k, strlen(k)) = idx + 1;
}

/* Interpolate s[0..n) into out, dotenv's way; false after an error. */
static bool env_interpolate(struct pctx *c, const struct source_file *f,
			    int line, struct envhash *h, const char *s,
			    size_t n, struct buf *out)
{
	size_t i = 0;

	while (i < n) {
		const char *end, *name, *def = NULL, *val = NULL, *why;
		size_t nl, *slot;
		char *nm;

		if (s[i] != '$' || i + 1 >= n || s[i + 1] != '{' ||
		    !(end = memchr(s + i, '}', n - i))) {
			buf_putc(out, s[i++]);
			continue;
		}
		name = s + i + 2;
		for (nl = 0; name + nl < end && (isalnum((unsigned char)name[nl]) ||
						 name[nl] == '_'); nl++)
			;
		if (name + nl + 1 < end && name[nl] == ':' && name[nl + 1] == '-')
			def = name + nl + 2;
		else if (name + nl != end) {
			buf_putc(out, s[i++]);
			continue;
		}
		nm = xstrndup(name, nl);
		slot = h->cap ? envhash_find(h, name, nl) : NULL;
		if (slot && *slot)
			val = h->l->v[*slot - 1].value;
		else if ((why = manifest_check_var_access(nm, c->opts))) {
			env_file_error(c, f->path, line, "variable '%s' %s", nm, why);
			free(nm);
			return false;
		} else if (c->opts && c->opts->getenv)
			val = c->opts->getenv(nm, c->opts->getenv_ctx);
		else
			val = getenv(nm);
		free(nm);
		if ((!val || !*val) && def)
			buf_add(out, def, (size_t)(end - def));
		else if (val)
			buf_puts(out, val);
		if (out->len > YAML_MAX_SCALAR) {
			env_file_error(c, f->path, line, "value longer than %zu bytes "
				       "after interpolation", YAML_MAX_SCALAR);
			return false;
		}
		i = (size_t)(end - s) + 1;
	}
	return true;
}

static void parse_env_file(struct pctx *c, const struct source_file *f,
			   struct kvlist *out)
{
	const char *p = f->data, *end = f->data + f->len;
	struct envhash h = { NULL, 0, 0, out };
	int line = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *q, *k;
		struct buf val = BUF_INIT;
		struct pos pos;
		bool ok = true, reported = false;
		char *key;

		if (!eol)
			eol = end;
		line++;
		pos = (struct pos){ line, 1 };
		while (p < eol && (*p == ' ' || *p == '\t'))
			p++;
		if (p == eol || *p == '#' || (eol - p == 1 && *p == '\r'))
			goto next;
		if (eol - p > 7 && !strncmp(p, "export ", 7))
			p += 7;
		for (k = p; k < eol && (isalnum((unsigned char)*k) || *k == '_' ||
					*k == '.' || *k == '-'); k++)
			;
		q = k;
		while (q < eol && isspace((unsigned char)*q))
			q++;
		if (k == p || (q < eol && *q != '=')) {
			env_file_error(c, f->path, line, "not a KEY=VALUE line");
			goto next;
		}
		key = xstrndup(p, (size_t)(k - p));
		if (q == eol) {            /* KEY alone: no value */
			kv_push(out, key, NULL, pos);
			envhash_put(&h, out->n - 1);
			goto next;
		}
		for (q++; q < eol && (*q == ' ' || *q == '\t'); q++)
			;
		if (q < eol && *q == '\'') {
			const char *e = memchr(q + 1, '\'', (size_t)(eol - q - 1));

			if (!e)
				ok = false;
			else if (!env_interpolate(c, f, line, &h, q + 1,
						  (size_t)(e - q - 1), &val))
				ok = false, reported = true;
		} else if (q < eol && *q == '"') {
			struct buf raw = BUF_INIT;

			for (q++; q < eol && *q != '"'; q++) {
				if (*q == '\\' && q + 1 < eol) {
					q++;
					buf_putc(&raw, *q == 'n' ? '\n' : *q);
				} else {
					buf_putc(&raw, *q);
				}
			}
			ok = q < eol;
			if (ok && !env_interpolate(c, f, line, &h, raw.ptr ? raw.ptr : "",
						   raw.len, &val))
				ok = false, reported = true;
			buf_release(&raw);
		} else {
			const char *e = q;

			while (e < eol && !(*e == '#' && e > q &&
					    (e[-1] == ' ' || e[-1] == '\t')))
				e++;
			while (e > q && isspace((unsigned char)e[-1]))
				e--;
			if (!env_interpolate(c, f, line, &h, q, (size_t)(e - q), &val))
				ok = false, reported = true;
		}
		if (!ok) {
			if (!reported)
				env_file_error(c, f->path, line, "unterminated quote");
			free(key);
			buf_release(&val);
			goto next;
		}
		kv_push(out, key, val.ptr ? buf_detach(&val) : xstrdup(""), pos);
		envhash_put(&h, out->n - 1);
next:
		p = eol + 1;
	}
	free(h.slot);
}

/* ---- command lines: split as compose does (shell-like, no shell) ---- */

static bool split_words(const char *s, struct strvec *out)
{
	struct buf w = BUF_INIT;
	bool in = false;

	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			if (in)
				strvec_push_nodup(out, buf_detach(&w));
			in = false;
			continue;
		}
		if (!in)
			buf_reset(&w);
		in = true;
		if (*s == '\'') {
			const char *e = strchr(s + 1, '\'');

			if (!e)
				goto bad;
			buf_add(&w, s + 1, (size_t)(e - s - 1));
			s = e;
		} else if (*s == '"') {
			for (s++; *s && *s != '"'; s++) {
				if (*s == '\\' && strchr("\\\"$`\n", s[1]) && s[1])
					s++;
				buf_putc(&w, *s);
			}
			if (!*s)
				goto bad;
		} else if (*s == '\\') {
			if (s[1])
				s++;
			if (*s != '\n')
				buf_putc(&w, *s);
		} else {
			buf_putc(&w, *s);
		}
		if (!w.ptr)
			buf_puts(&w, "");
	}
	if (in)
		strvec_push_nodup(out, w.ptr ? buf_detach(&w) : xstrdup(""));
	buf_release(&w);
	return true;
bad:
	buf_release(&w);
	return false;
}

static bool get_command(struct pctx *c, const struct ynode *v, struct strvec *out)
{
	char *t;
	bool ok;

	if (v->type != Y_SCALAR)
		return get_strlist(c, v, out);
	if (!(t = get_str(c, v)))
		return false;
	strvec_release(out);
	if (!(ok = split_words(t, out)))
		perr(c, v, "no closing quotation in '%.64s'", t);
	free(t);
	return ok;
}

static void f_command(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;

	s->has_command = get_command(c, v, &s->command);
}

static void f_entrypoint(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;

	s->has_entrypoint = get_command(c, v, &s->entrypoint);
}

/* ---- environment and env_file ---- */

/* "KEY=VALUE" or "KEY" (from the interpolation environment). */
static void env_entry(struct pctx *c, const struct ynode *at, char *key,
		      char *value)
{
	struct reader *r = c->reader;
	const char *why;

	if ((why = manifest_check_env_name(key))) {
		perr(c, at, "invalid variable name '%.64s': %s", key, why);
		free(key);
		free(value);
		return;
	}
	if (!value) {
		bool refused = manifest_check_var_access(key, c->opts) != NULL;
		const char *v = pctx_lookup_var(c, at, key);

		/* compose passes it only when it is set */
		value = v ? xstrdup(v) : NULL;
		if (!v && !refused)
			pwarn(c, at, "not set in cara's environment: not passed "
			      "to the container (as compose does)");
	}
	kv_push(&r->envx, key, value, at->pos);
}

/*
 * docker-compose 1.29 reads YAML 1.1, where an unquoted 010 is the number
 * 8, 0x1F is 31, 1_000 is 1000, 1:30 is 90 (base 60), 1.50 is 1.5 and
 * yes / no / on / off are booleans (refused where a string goes).  cara
 * reads YAML 1.2 and keeps the text: where a string is wanted, such a
 * plain scalar gets a warning, so that the file is quoted to mean one
 * thing to both.
 */
/* [1-9][0-9_]*(:[0-5]?[0-9])+: YAML 1.1's base 60 */
static bool base60(const char *d)
{
	const char *p = d + strspn(d, "0123456789_");

	if (d[0] < '1' || d[0] > '9' || *p != ':')
		return false;
	while (*p == ':') {
		size_t k = strspn(++p, "0123456789");

		if (k < 1 || k > 2 || (k == 2 && *p > '5'))
			return false;
		p += k;
	}
	return !*p;
}

static const char *yaml11_reading(const char *t)
{
	static const char *const bools[] = {
		"yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off",
		"OFF", "true", "True", "TRUE", "false", "False", "FALSE",
	};
	const char *d = t + (*t == '-' || *t == '+');
	size_t i, n = strlen(d);

	for (i = 0; i < ARRAY_SIZE(bools); i++)
		if (!strcmp(t, bools[i]))
			return "as a boolean (and refuses it here)";
	if (!n || (!isdigit((unsigned char)d[0]) && d[0] != '.'))
		return NULL;
	if (*t == '+' && strspn(d, "0123456789") == n)
		return "as a number, without its sign";
	if ((d[0] == '0' && (d[1] == 'x' || d[1] == 'b') && n > 2 &&
	     strspn(d + 2, "0123456789abcdefABCDEF_") == n - 2) ||
	    (d[0] == '0' && n > 1 && strspn(d, "01234567_") == n))
		return "as a number in base 8, 16 or 2 (010 is 8)";
	if (strspn(d, "0123456789_") == n && strchr(d, '_'))
		return "as a number, without its underscores";
	if (base60(d))
		return "as a number in base 60 (22:22 is 1342)";
	if (strspn(d, "0123456789_.") == n && strchr(d, '.') &&
	    strchr(d, '.') == strrchr(d, '.') &&
	    (d[n - 1] == '0' || d[0] == '.' || d[n - 1] == '.'))
		return "as a float, without its trailing zeros (1.50 is 1.5)";
	return NULL;
}

static void yaml11_warn(struct pctx *c, const struct ynode *v)
{
	const char *how;

	if (v && v->type == Y_SCALAR && v->plain && v->str &&
	    (how = yaml11_reading(v->str)))
		pwarn(c, v, "docker-compose 1.29 (YAML 1.1) reads unquoted '%.32s' %s; "
		      "cara keeps the text: quote it to mean one thing to both",
		      v->str, how);
}

static void f_environment(struct pctx *c, const struct ynode *v, void *obj)
{
	size_t i, o;

	(void)obj;
	if (v->type == Y_MAP) {
		for (i = 0; i + 1 < v->n; i += 2) {
			const struct ynode *k = v->kid[i], *val = v->kid[i + 1];
			char *t = NULL;

			if (k->type != Y_SCALAR) {
				perr(c, k, "a key must be a string");
				continue;
			}
			o = path_key(c, k->str);
			yaml11_warn(c, val);
			if (ynode_is_null(val) || (t = get_str(c, val)))
				env_entry(c, k, xstrdup(k->str), t);
			path_pop(c, o);
		}
	} else if (v->type == Y_SEQ) {
		for (i = 0; i < v->n; i++) {
			char *t, *eq;

			o = path_index(c, i);
			if ((t = get_str(c, v->kid[i]))) {
				eq = strchr(t, '=');
				env_entry(c, v->kid[i], eq ? xstrndup(t, (size_t)(eq - t)) :
					  xstrdup(t), eq ? xstrdup(eq + 1) : NULL);
				free(t);
			}
			path_pop(c, o);
		}
	} else {
		perr(c, v, "must be a mapping or a list of KEY=VALUE strings, not %s",
		     ynode_type_name(v));
	}
}

/* One env_file entry at v; a file not in the source is skipped when not
 * required (long syntax, required: false), as compose skips it. */
static void env_file_one(struct pctx *c, const struct ynode *v, bool required)
{
	struct reader *r = c->reader;
	const struct source_file *f;
	char *t = get_str(c, v), *dir, *path = NULL;

	if (!t)
		return;
	dir = input_dir_of(v->file ? v->file : c->file);  /* where it is written */
	if (*t == '/' || *t == '~')
		perr(c, v, "'%.64s' is not in the source: an env_file is read from "
		     "the source, relative to the compose file", t);
	else if (!(path = input_join_rel(dir, t)))
		perr(c, v, "'%.64s' leaves the source", t);
	else if (!(f = sibling(c, path))) {
		if (required)
			perr(c, v, "'%.64s' is not in the source (cara keeps files named "
			     ".env or *.env beside *.yaml and *.yml ones, each at most "
			     "%zu bytes)", path, (size_t)SOURCE_MAX_FILE_BYTES);
	} else {
		size_t i = r->envf.n;

		parse_env_file(c, f, &r->envf);
		/* a KEY alone: from the environment, as in environment: [KEY] */
		for (; i < r->envf.n; i++) {
			struct kv *e = &r->envf.v[i];
			const char *val;

			if (e->value)
				continue;
			if ((val = pctx_lookup_var(c, v, e->key)))
				e->value = xstrdup(val);
			else if (!manifest_check_var_access(e->key, c->opts))
				pwarn(c, v, "%s:%d: '%s' is not set in cara's environment: "
				      "not passed to the container (as compose does)",
				      f->path, e->pos.line, e->key);
		}
	}
	free(path);
	free(dir);
	free(t);
}

/* env_file's long syntax: {path: FILE, required: BOOL} */
struct envf_opts { const struct ynode *path; bool required; };

static void f_envf_path(struct pctx *c, const struct ynode *v, void *obj)
{
	(void)c;
	((struct envf_opts *)obj)->path = v;
}

static const struct field envf_fields[] = {
	FN("path", f_envf_path, true),
	BOOL("required", struct envf_opts, required),
	END
};

static void f_env_file(struct pctx *c, const struct ynode *v, void *obj)
{
	size_t i, o;

	(void)obj;
	if (v->type == Y_SCALAR) {
		env_file_one(c, v, true);
		return;
	}
	if (v->type != Y_SEQ) {
		perr(c, v, "must be a path or a list of paths, not %s",
		     ynode_type_name(v));
		return;
	}
	for (i = 0; i < v->n; i++) {
		o = path_index(c, i);
		if (v->kid[i]->type == Y_MAP) {
			struct envf_opts e = { NULL, true };

			walk_map(c, v->kid[i], envf_fields, &e);
			if (e.path)
				env_file_one(c, e.path, e.required);
		} else {
			env_file_one(c, v->kid[i], true);
		}
		path_pop(c, o);
	}
}

struct envpick { struct kv *kv; size_t seq; };

static int envpick_cmp(const void *a, const void *b)
{
	const struct envpick *x = a, *y = b;
	int r = strcmp(x->kv->key, y->kv->key);

	return r ? r : (x->seq < y->seq ? -1 : x->seq > y->seq);
}

/* env_file, then environment; the last of a name wins; sorted by name. */
static void env_finish(struct reader *r, struct service *s)
{
	struct envpick *v;
	size_t i, j, n = r->envf.n + r->envx.n;

	v = xcalloc(n + 1, sizeof(*v));
	for (i = 0; i < r->envf.n; i++)
		v[i] = (struct envpick){ &r->envf.v[i], i };
	for (i = 0; i < r->envx.n; i++)
		v[r->envf.n + i] = (struct envpick){ &r->envx.v[i], r->envf.n + i };
	qsort(v, n, sizeof(*v), envpick_cmp);
	for (i = 0; i < n; i = j) {
		struct kv *last;

		for (j = i + 1; j < n && !strcmp(v[j].kv->key, v[i].kv->key); j++)
			;
		last = v[j - 1].kv;
		if (!last->value)
			continue;
		GROW(s->env, s->capenv, s->nenv + 1);
		memset(&s->env[s->nenv], 0, sizeof(s->env[0]));
		s->env[s->nenv].name = xstrdup(last->key);
		s->env[s->nenv].value = xstrdup(last->value);
		s->env[s->nenv].pos = last->pos;
		s->nenv++;
	}
	free(v);
	kvlist_free(&r->envf);
	kvlist_free(&r->envx);
}

/* ---- ports ---- */

static struct port *port_new(struct service *s, struct pos pos)
{
	struct port *p;

	GROW(s->ports, s->capports, s->nports + 1);
	p = &s->ports[s->nports++];
	memset(p, 0, sizeof(*p));
	p->pos = pos;
	return p;
}

/* "80" or "8000-8010" into lo..hi; false when not a port or range. */
static bool port_range(const char *s, size_t len, int *lo, int *hi)
{
	char buf[16];
	const char *dash;
	long long a, b;

	if (!len || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	dash = strchr(buf, '-');
	if (dash) {
		buf[dash - buf] = '\0';
		if (parse_ll(buf, 1, 65535, &a) || parse_ll(dash + 1, 1, 65535, &b) ||
		    b < a)
			return false;
	} else {
		if (parse_ll(buf, 1, 65535, &a))
			return false;
		b = a;
	}
	*lo = (int)a;
	*hi = (int)b;
	return true;
}

/* Short syntax: [[HOST_IP:]HOST:]CONTAINER[/PROTOCOL]. */
static void port_short(struct pctx *c, const struct ynode *v, struct service *s)
{
	char *t = get_str(c, v), *proto = NULL, *slash, *ip = NULL;
	const char *hostpart = NULL, *cpart;
	int clo, chi, hlo = 0, hhi = 0, i;
	struct ynode ipnode, protonode;

	if (!t)
		return;
	yaml11_warn(c, v);
	if ((slash = strrchr(t, '/'))) {
		*slash = '\0';
		proto = slash + 1;
	}
	if ((cpart = strrchr(t, ':'))) {
		char *h = (char *)cpart;

		*h = '\0';
		cpart++;
		hostpart = t;
		if ((h = strrchr(t, ':'))) {
			*h = '\0';
			ip = t;
			hostpart = h + 1;
		}
	} else {
		cpart = t;
	}
	if (ip && *ip == '[' && ip[strlen(ip) - 1] == ']') {
		ip[strlen(ip) - 1] = '\0';
		ip++;
	}
	if (!port_range(cpart, strlen(cpart), &clo, &chi) ||
	    (hostpart && *hostpart &&
	     !port_range(hostpart, strlen(hostpart), &hlo, &hhi))) {
		perr(c, v, "invalid port '%.64s' (write e.g. \"8080:80\", "
		     "\"127.0.0.1:8080:80/udp\" or \"80\")", v->str);
		goto out;
	}
	if (hlo && hhi - hlo != chi - clo && hlo != hhi) {
		perr(c, v, "host and container port ranges differ in length");
		goto out;
	}
	if (chi - clo >= MAX_PORT_RANGE) {
		perr(c, v, "a port range of more than %d ports: refused",
		     MAX_PORT_RANGE);
		goto out;
	}
	if (hlo && hlo == hhi && chi != clo) {
		/* compose: one host port for a container range is a pick */
		perr(c, v, "not supported by cara: one host port for a range of "
		     "container ports");
		goto out;
	}
	for (i = 0; i <= chi - clo; i++) {
		struct port *p = port_new(s, v->pos);

		p->container_port = clo + i;
		p->host_port = hlo ? hlo + i : 0;
		if (ip && *ip) {
			ipnode = *v;
			ipnode.str = ip;
			ipnode.len = strlen(ip);
			read_host_ip(c, &ipnode, p);
		}
		if (proto) {
			protonode = *v;
			protonode.str = proto;
			protonode.len = strlen(proto);
			read_protocol(c, &protonode, p);
		}
		if (c->bad && i)
			break;
	}
out:
	free(t);
}

static void f_published(struct pctx *c, const struct ynode *v, void *obj)
{
	struct port *p = obj;
	char *t = get_str(c, v);
	int lo, hi;

	if (t && (!port_range(t, strlen(t), &lo, &hi) || lo != hi))
		perr(c, v, "must be a port number, not '%.64s'", t);
	else if (t)
		p->host_port = lo;
	free(t);
}

static void f_port_mode(struct pctx *c, const struct ynode *v, void *obj)
{
	char *t = get_str(c, v);

	(void)obj;
	/* outside swarm both modes publish on this host */
	if (t && strcmp(t, "host") && strcmp(t, "ingress"))
		perr(c, v, "must be host or ingress, not '%.64s'", t);
	free(t);
}

static const struct field port_fields[] = {
	INT("target", struct port, container_port, 1, 65535, true),
	FN("published", f_published, false),
	FN("host_ip", read_host_ip, false),
	FN("protocol", read_protocol, false),
	FN("mode", f_port_mode, false),
	END
};

static void port_item(struct pctx *c, const struct ynode *n, void *obj)
{
	if (n->type == Y_MAP)
		walk_map(c, n, port_fields, port_new(obj, n->pos));
	else if (n->type == Y_SCALAR && !ynode_is_null(n))
		port_short(c, n, obj);
	else
		perr(c, n, "must be a port string or a mapping, not %s",
		     ynode_type_name(n));
}

/* ---- volumes ---- */

static struct volume *volume_new(struct project *p, const char *name,
				 enum volume_type type, struct pos pos)
{
	struct volume *v;

	GROW(p->volumes, p->capvolumes, p->nvolumes + 1);
	v = &p->volumes[p->nvolumes++];
	memset(v, 0, sizeof(*v));
	v->name = xstrdup(name);
	v->type = type;
	v->pos = pos;
	return v;
}


/* A volume name from text: prefix, then s lower-cased with every run of
 * other characters one '-', at most 50 characters, no '-' at the end
 * beyond the prefix. */
static void volume_name_of(struct buf *name, const char *prefix, const char *s)
{
	size_t i, keep = strlen(prefix);

	buf_puts(name, prefix);
	for (i = 0; s[i] && name->len < 50; i++) {
		unsigned char ch = (unsigned char)tolower((unsigned char)s[i]);

		if (!isalnum(ch))
			ch = '-';
		if (ch != '-' || !name->len || name->ptr[name->len - 1] != '-')
			buf_putc(name, (char)ch);
	}
	while (name->len > keep && name->ptr[name->len - 1] == '-')
		name->ptr[--name->len] = '\0';
}
/* The project volume for a bind of host path hp: one per path, named for
 * it ("host-srv-data"), so that adding a bind renames no other one. */
static const char *bind_volume(struct pctx *c, const struct ynode *at,
			       const char *hp)
{
	struct reader *r = c->reader;
	struct project *p = r->p;
	struct buf name = BUF_INIT;
	char *why;
	size_t i, k = 1;

	for (i = 0; i < p->nvolumes; i++)
		if (p->volumes[i].type == VOLUME_HOSTPATH &&
		    !strcmp(p->volumes[i].host_path, hp))
			return p->volumes[i].name;
	if ((why = manifest_check_host_path(hp, c->opts))) {
		perr(c, at, "%s", why);
		free(why);
	}
	volume_name_of(&name, "host", hp);
	while (project_find_volume(p, buf_cstr(&name))) {
		name.len = 0;
		buf_printf(&name, "host-%zu", ++k);
	}
	volume_new(p, buf_cstr(&name), VOLUME_HOSTPATH, at->pos)->host_path =
		xstrdup(hp);
	buf_release(&name);
	return p->volumes[p->nvolumes - 1].name;
}

/*
 * The project's File volume for the source path src (relative to the
 * file `at` is written in) with mode (0: the default): one per path and mode, named
 * "file-PATH" or, for a config, "config-NAME"; NULL (reported) when src
 * is not a file or directory of the source.
 */
static const char *file_volume(struct pctx *c, const struct ynode *at,
			       const char *src, const char *config, int mode)
{
	struct reader *r = c->reader;
	struct project *p = r->p;
	struct volume tmp;
	struct buf name = BUF_INIT;
	size_t i, k = 1;
	const char *pick;

	memset(&tmp, 0, sizeof(tmp));
	tmp.file_mode = mode;
	if (!input_file_volume(c, at, &tmp, src)) {
		free(tmp.source_path);
		for (i = 0; i < tmp.nfiles; i++) {
			free(tmp.files[i].path);
			free(tmp.files[i].data);
		}
		free(tmp.files);
		return NULL;
	}
	for (i = 0; i < p->nvolumes; i++)
		if (p->volumes[i].type == VOLUME_FILE &&
		    !strcmp(p->volumes[i].digest, tmp.digest) &&
		    !strcmp(p->volumes[i].source_path, tmp.source_path)) {
			size_t j;

			for (j = 0; j < tmp.nfiles; j++) {
				free(tmp.files[j].path);
				free(tmp.files[j].data);
			}
			free(tmp.files);
			free(tmp.source_path);
			return p->volumes[i].name;
		}
	pick = config ? config : tmp.source_path;
	volume_name_of(&name, config ? "config-" : "file-", pick);
	if (project_find_volume(p, buf_cstr(&name))) {
		size_t base = name.len;

		do {
			name.len = base;
			buf_printf(&name, "-%zu", ++k);
		} while (project_find_volume(p, buf_cstr(&name)));
	}
	tmp.name = buf_detach(&name);
	tmp.pos = at->pos;
	GROW(p->volumes, p->capvolumes, p->nvolumes + 1);
	p->volumes[p->nvolumes++] = tmp;
	return p->volumes[p->nvolumes - 1].name;
}

/* A mount of source src (named volume, absolute host path or files of
 * the source) at target; rw_said: the entry says rw. */
static void mount_add(struct pctx *c, const struct ynode *at, struct service *s,
		      const char *src, const char *target, bool ro, bool rw_said)
{
	struct reader *r = c->reader;
	const struct volume *v;
	const char *name;
	struct mount *m;

	if (!src || !*src) {
		perr(c, at, "not supported by cara: anonymous volumes (name the "
		     "volume and declare it under the top-level volumes)");
		return;
	}
	if (*target != '/') {
		perr(c, at, "the mount target must be an absolute path, not "
		     "'%.64s'", target);
		return;
	}
	if (*src == '/') {
		name = bind_volume(c, at, src);
	} else if (*src == '~') {
		perr(c, at, "not supported by cara: a bind of the home directory "
		     "('%.64s'): cara runs on a host, not in a user's shell", src);
		return;
	} else if (*src == '.' || strchr(src, '/')) {
		/* a relative bind: files of the source, read-only */
		if (!ro && rw_said) {
			perr(c, at, "not supported by cara: a read-write bind of "
			     "files of the source ('%.64s'): they are mounted "
			     "read-only from cara's copy, which no container may "
			     "change; drop ':rw'", src);
			return;
		}
		if (!(name = file_volume(c, at, src, NULL, 0)))
			return;
		if (!ro)
			pwarn(c, at, "'%.64s' is mounted read-only (files of the source "
			      "are cara's copy, which no container may change, where "
			      "compose would mount them read-write): write ':ro' to "
			      "say so, or mount a named volume where the container "
			      "writes", src);
		ro = true;
	} else {
		v = project_find_volume(r->p, src);
		if (!v || v->type == VOLUME_HOSTPATH) {
			perr(c, at, "named volume '%.64s' is not declared under the "
			     "top-level volumes", src);
			return;
		}
		name = v->name;
	}
	GROW(s->mounts, s->capmounts, s->nmounts + 1);
	m = &s->mounts[s->nmounts++];
	memset(m, 0, sizeof(*m));
	m->name = xstrdup(name);
	m->mount_path = xstrdup(target);
	m->read_only = ro;
	m->pos = at->pos;
}

/*
 * The options of a short volume, comma-separated: ro or rw; Docker
 * Desktop's cached, delegated and consistent, which have no effect on
 * Linux (as for Docker); the rest refused with why.  False once reported.
 */
static bool volume_options(struct pctx *c, const struct ynode *v, const char *b,
			   bool *ro, bool *rw)
{
	static const char *const noop[] = { "cached", "delegated", "consistent" };
	static const char *const propagation[] = { "shared", "slave", "private",
						   "rshared", "rslave", "rprivate" };
	struct strvec w = STRVEC_INIT;
	const char *o, *comma;
	bool ok = true;
	size_t i, k;

	if (strchr(b, 'z') || strchr(b, 'Z')) {
		/* relabelling rewrites the labels of the host's files */
		perr(c, v, "not supported by cara: SELinux relabelling ('%.32s'): "
		     "cara does not change the labels of host files; label the "
		     "path on the host (e.g. chcon -Rt container_file_t) or "
		     "leave it to the volume, and drop ':z' or ':Z'", b);
		return false;
	}
	for (o = b; ; o = comma + 1) {
		comma = strchr(o, ',');
		strvec_push_nodup(&w, comma ? xstrndup(o, (size_t)(comma - o)) :
				  xstrdup(o));
		if (!comma)
			break;
	}
	for (i = 0; ok && i < w.n; i++) {
		o = w.v[i];
		if (!strcmp(o, "ro") || !strcmp(o, "rw")) {
			*(o[1] == 'o' ? ro : rw) = true;
			continue;
		}
		for (k = 0; k < ARRAY_SIZE(noop) && strcmp(o, noop[k]); k++)
			;
		if (k < ARRAY_SIZE(noop))
			continue;
		for (k = 0; k < ARRAY_SIZE(propagation) && strcmp(o, propagation[k]); k++)
			;
		ok = false;
		if (k < ARRAY_SIZE(propagation))
			perr(c, v, "not supported by cara: mount propagation ('%.32s'): "
			     "mounts would pass between the host and the container; "
			     "drop it", o);
		else if (!strcmp(o, "nocopy"))
			perr(c, v, "not supported by cara: nocopy (a new volume gets "
			     "the image's files at its mount path, as Docker does)");
		else
			perr(c, v, "not supported by cara: volume mode '%.32s' (ro or "
			     "rw)", b);
	}
	if (ok && *ro && *rw) {
		perr(c, v, "a volume is ro or rw, not both ('%.32s')", b);
		ok = false;
	}
	strvec_release(&w);
	return ok;
}

static void volume_short(struct pctx *c, const struct ynode *v, struct service *s)
{
	char *t = get_str(c, v), *a, *b;
	bool ro = false, rw = false;

	if (!t)
		return;
	if (!(a = strchr(t, ':'))) {
		mount_add(c, v, s, NULL, t, false, false);
		goto out;
	}
	*a++ = '\0';
	if ((b = strchr(a, ':'))) {
		*b++ = '\0';
		if (!volume_options(c, v, b, &ro, &rw))
			goto out;
	}
	mount_add(c, v, s, t, a, ro, rw);
out:
	free(t);
}

struct vlong {
	char *type, *source, *target;
	bool read_only;
	int64_t tmpfs_size;
	const struct ynode *tmpfs;
};

static void f_tmpfs_size(struct pctx *c, const struct ynode *v, void *obj)
{
	struct vlong *l = obj;
	char *t = get_str(c, v);

	if (t && (parse_memory(t, &l->tmpfs_size) < 0 || l->tmpfs_size <= 0))
		perr(c, v, "invalid size '%.64s' (write e.g. 64m or a number of "
		     "bytes)", t);
	free(t);
}

static const struct field vtmpfs_fields[] = {
	FN("size", f_tmpfs_size, false),
	END
};

static void f_vtmpfs(struct pctx *c, const struct ynode *v, void *obj)
{
	((struct vlong *)obj)->tmpfs = v;
	walk_map(c, v, vtmpfs_fields, obj);
}

static const struct field vlong_fields[] = {
	STR("type", struct vlong, type, true),
	STR("source", struct vlong, source, false),
	STR("target", struct vlong, target, true),
	BOOL("read_only", struct vlong, read_only),
	FN("tmpfs", f_vtmpfs, false),
	END
};

/* Does the long syntax say read_only: false? */
static bool ro_false(const struct ynode *n)
{
	const struct ynode *v = ynode_map_get(n, "read_only");

	return v && v->type == Y_SCALAR && (!strcmp(v->str, "false") ||
					    !strcmp(v->str, "False"));
}

static void volume_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct vlong l = { 0 };

	if (n->type == Y_SCALAR && !ynode_is_null(n)) {
		volume_short(c, n, obj);
		return;
	}
	if (walk_map(c, n, vlong_fields, &l) && l.type && l.target) {
		if (l.tmpfs && strcmp(l.type, "tmpfs"))
			perr(c, l.tmpfs, "only for type: tmpfs");
		if (!strcmp(l.type, "tmpfs")) {
			struct service *s = obj;

			if (*l.target != '/')
				perr(c, n, "the mount target must be an absolute "
				     "path, not '%.64s'", l.target);
			else if (l.source)
				perr(c, n, "a tmpfs has no source");
			else if (l.read_only)
				perr(c, n, "not supported by cara: a read-only tmpfs");
			else if (l.tmpfs_size)
				strvec_push_nodup(&s->tmpfs, xasprintf("%s:size=%lld",
					l.target, (long long)l.tmpfs_size));
			else
				strvec_push(&s->tmpfs, l.target);
		} else if (strcmp(l.type, "volume") && strcmp(l.type, "bind"))
			perr(c, n, "not supported by cara: volume type '%.32s' "
			     "(volume, bind or tmpfs)", l.type);
		else if (!strcmp(l.type, "bind") && (!l.source || *l.source != '/')) {
			/* a bind's relative source is a path, never a volume */
			char *rel = l.source && *l.source == '.' ? xstrdup(l.source) :
				    xasprintf("./%s", l.source ? l.source : "");

			mount_add(c, n, obj, rel, l.target, l.read_only, ro_false(n));
			free(rel);
		}
		else
			mount_add(c, n, obj, l.source, l.target, l.read_only,
				  ro_false(n));
	}
	free(l.type);
	free(l.source);
	free(l.target);
}

/* ---- configs: files of the source, as compose's configs ---- */

/* The source path of top-level config `name` (borrowed node), or NULL
 * (reported at at). */
static const struct ynode *config_file(struct pctx *c, const struct ynode *at,
				       const char *name)
{
	struct reader *r = c->reader;
	const struct ynode *d = r->configs ? ynode_map_get(r->configs, name) : NULL;
	const struct ynode *f;
	size_t i;

	if (!d) {
		perr(c, at, "config '%.64s' is not declared under the top-level "
		     "configs", name);
		return NULL;
	}
	if (d->type != Y_MAP || !(f = ynode_map_get(d, "file")) ||
	    f->type != Y_SCALAR) {
		perr(c, at, "config '%.64s': only 'file:' (a file of the source) is "
		     "supported by cara", name);
		return NULL;
	}
	for (i = 0; i + 1 < d->n; i += 2)
		if (d->kid[i]->type == Y_SCALAR && strcmp(d->kid[i]->str, "file") &&
		    strncmp(d->kid[i]->str, "x-", 2)) {
			perr(c, d->kid[i], "not supported by cara: configs.%.64s.%.64s "
			     "(only file)", name, d->kid[i]->str);
			return NULL;
		}
	return f;
}

struct clong {
	char *source, *target, *uid, *gid;
	int mode;
	bool has_mode;
};

static void f_cmode(struct pctx *c, const struct ynode *v, void *obj)
{
	struct clong *l = obj;
	long long m;

	/* YAML 1.1 reads 0440 as octal; a string "0440" too */
	if (v->type == Y_SCALAR && v->str[0] == '0' && v->str[1] &&
	    strspn(v->str, "01234567") == strlen(v->str) && strlen(v->str) <= 5) {
		l->mode = (int)strtol(v->str, NULL, 8);
		l->has_mode = true;
	} else if (get_int(c, v, 0, 0777, &m)) {
		l->mode = (int)m;
		l->has_mode = true;
	}
	if (l->has_mode && (l->mode & 0222)) {
		perr(c, v, "a config is read-only: mode %o has a write bit", l->mode);
		l->has_mode = false;
	}
}

static const struct field clong_fields[] = {
	STR("source", struct clong, source, true),
	STR("target", struct clong, target, false),
	FN("mode", f_cmode, false),
	STR("uid", struct clong, uid, false),
	STR("gid", struct clong, gid, false),
	END
};

static void config_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct service *s = obj;
	struct clong l = { 0 };
	const struct ynode *f;
	const char *vname;
	char *src = NULL, *target = NULL;
	struct mount *m;

	if (n->type == Y_SCALAR && !ynode_is_null(n))
		l.source = get_str(c, n);
	else if (!walk_map(c, n, clong_fields, &l))
		goto out;
	if (!l.source)
		goto out;
	if (l.uid || l.gid) {
		perr(c, n, "not supported by cara: uid and gid of a config (the "
		     "copy is owned by root and readable by all)");
		goto out;
	}
	target = l.target ? xstrdup(l.target) : xasprintf("/%s", l.source);
	if (*target != '/') {
		perr(c, n, "the config target must be an absolute path, not "
		     "'%.64s'", target);
		goto out;
	}
	if (!(f = config_file(c, n, l.source)) || !(src = get_str(c, f)))
		goto out;
	if (!(vname = file_volume(c, f, src, l.source, l.has_mode ? l.mode : 0)))
		goto out;
	GROW(s->mounts, s->capmounts, s->nmounts + 1);
	m = &s->mounts[s->nmounts++];
	memset(m, 0, sizeof(*m));
	m->name = xstrdup(vname);
	m->mount_path = target;
	target = NULL;
	m->read_only = true;
	m->pos = n->pos;
out:
	free(src);
	free(target);
	free(l.source);
	free(l.target);
	free(l.uid);
	free(l.gid);
}

/* ---- secrets: files of the host's secrets directory ---- */

/*
 * A compose secret is a file of --secrets-dir, never of the source: a
 * secret's value never lives in git in clear.  external: true is the file
 * {secrets_dir}/{project}/{NAME} (NAME or the secret's name:), as the
 * secretKeyRef {name: project, key: NAME} would read it; x-cara-secret
 * {name, key} names any other.  The top-level definitions are read once
 * (r->secret_refs: key the compose name, value "name/key", for the valid
 * ones only); the services' secrets: look them up.
 */
struct xsecret {
	char *name, *key;
};

static const struct field xsecret_fields[] = {
	NAME("name", struct xsecret, name, input_check_secret_part, "secret name"),
	NAME("key", struct xsecret, key, input_check_secret_part, "secret key"),
	END
};

struct sdef {
	bool external;
	char *name, *file, *environment;
	struct xsecret x;
	bool has_x;
};

static void f_sdef_x(struct pctx *c, const struct ynode *v, void *obj)
{
	struct sdef *d = obj;

	d->has_x = walk_map(c, v, xsecret_fields, &d->x) && d->x.name && d->x.key;
}

static const struct field sdef_fields[] = {
	BOOL("external", struct sdef, external),
	STR("name", struct sdef, name, false),
	STR("file", struct sdef, file, false),
	STR("environment", struct sdef, environment, false),
	FN("x-cara-secret", f_sdef_x, false),
	END
};

static void f_top_secret(struct pctx *c, const struct ynode *k,
			 const struct ynode *v, struct project *p)
{
	struct reader *r = c->reader;
	struct sdef d = { 0 };
	const char *why, *key;
	const struct ynode *at;
	size_t o;

	if (v->type != Y_MAP) {
		perr(c, v, "must be a mapping, not %s", ynode_type_name(v));
		return;
	}
	if (!walk_map(c, v, sdef_fields, &d))
		goto out;
	if (d.file) {
		at = ynode_map_get(v, "file");
		o = path_key(c, "file");
		if (*d.file != '/')
			perr(c, at, "a secret's value never lives in git in clear: "
			     "'%.64s' is a file of the repository; put the value in "
			     "the host's secrets directory (--secrets-dir) as "
			     "%.64s/%.64s and declare 'external: true' (or "
			     "x-cara-secret: {name, key})", d.file,
			     p->name ? p->name : "{project}", k->str);
		else
			perr(c, at, "not supported by cara: a secret file outside "
			     "the secrets directory (--secrets-dir): declare "
			     "'external: true' or x-cara-secret: {name, key}");
		path_pop(c, o);
		goto out;
	}
	if (d.environment) {
		o = path_key(c, "environment");
		perr(c, ynode_map_get(v, "environment"), "not supported by cara: "
		     "a secret from an environment variable (cara's environment "
		     "and the repository's .env are no place for a secret): put "
		     "it in the secrets directory (--secrets-dir) and declare "
		     "'external: true'");
		path_pop(c, o);
		goto out;
	}
	if (d.has_x) {
		kv_push(&r->secret_refs, xstrdup(k->str),
			xasprintf("%s/%s", d.x.name, d.x.key), k->pos);
		goto out;
	}
	if (!d.external) {
		if (!ynode_map_get(v, "x-cara-secret"))
			perr(c, v, "a secret is 'external: true' (the file "
			     "{project}/%.64s of the secrets directory) or "
			     "x-cara-secret: {name, key}", k->str);
		goto out;
	}
	key = d.name ? d.name : k->str;
	if ((why = input_check_secret_part(key))) {
		perr(c, d.name ? ynode_map_get(v, "name") : k, "invalid secret "
		     "key '%.64s': %s", key, why);
		goto out;
	}
	if (p->name)
		kv_push(&r->secret_refs, xstrdup(k->str),
			xasprintf("%s/%s", p->name, key), k->pos);
out:
	free(d.name);
	free(d.file);
	free(d.environment);
	free(d.x.name);
	free(d.x.key);
}

static void f_smode(struct pctx *c, const struct ynode *v, void *obj)
{
	(void)obj;
	perr(c, v, "not supported by cara: uid, gid and mode of a secret (the "
	     "file is bound as it is in the secrets directory: set its owner "
	     "and mode there)");
}

static const struct field slong_fields[] = {
	STR("source", struct clong, source, true),
	STR("target", struct clong, target, false),
	FN("mode", f_smode, false),
	FN("uid", f_smode, false),
	FN("gid", f_smode, false),
	END
};

/* Is target already where s mounts something? */
static bool target_taken(const struct service *s, const char *target)
{
	size_t i;

	for (i = 0; i < s->nmounts; i++)
		if (s->mounts[i].mount_path && !strcmp(s->mounts[i].mount_path, target))
			return true;
	for (i = 0; i < s->nsecrets; i++)
		if (!strcmp(s->secrets[i].target, target))
			return true;
	return false;
}

static void secret_item(struct pctx *c, const struct ynode *n, void *obj)
{
	struct service *s = obj;
	struct reader *r = c->reader;
	struct clong l = { 0 };
	struct secret_mount *m;
	const char *ref = NULL, *slash;
	char *target = NULL;
	size_t i;

	if (n->type == Y_SCALAR && !ynode_is_null(n))
		l.source = get_str(c, n);
	else if (!walk_map(c, n, slong_fields, &l))
		goto out;
	if (!l.source)
		goto out;
	if (!r->secrets || !ynode_map_get(r->secrets, l.source)) {
		perr(c, n, "secret '%.64s' is not declared under the top-level "
		     "secrets", l.source);
		goto out;
	}
	for (i = 0; i < r->secret_refs.n; i++)
		if (!strcmp(r->secret_refs.v[i].key, l.source))
			ref = r->secret_refs.v[i].value;
	if (!ref)
		goto out;   /* its definition is reported */
	/* compose: a relative target is below /run/secrets */
	if (!l.target)
		target = xasprintf("/run/secrets/%s", l.source);
	else if (*l.target != '/')
		target = xasprintf("/run/secrets/%s", l.target);
	else
		target = xstrdup(l.target);
	if (target_taken(s, target)) {
		perr(c, n, "'%.64s' is mounted twice", target);
		goto out;
	}
	slash = strchr(ref, '/');
	GROW(s->secrets, s->capsecrets, s->nsecrets + 1);
	m = &s->secrets[s->nsecrets++];
	m->secret_name = xstrndup(ref, (size_t)(slash - ref));
	m->secret_key = xstrdup(slash + 1);
	m->target = target;
	target = NULL;
	m->pos = n->pos;
out:
	free(target);
	free(l.source);
	free(l.target);
}

/* ---- depends_on, healthcheck, restart, labels, networks ---- */

static void dep_add(struct service *s, char *name, enum dep_condition cond,
		    struct pos pos)
{
	struct dependency *d;

	GROW(s->deps, s->capdeps, s->ndeps + 1);
	d = &s->deps[s->ndeps++];
	memset(d, 0, sizeof(*d));
	d->service = name;
	d->condition = cond;
	d->pos = pos;
}

struct dep_opts {
	enum dep_condition cond;
	bool required, restart;
};

static void f_dep_condition(struct pctx *c, const struct ynode *v, void *obj)
{
	static const char *const conds[] = { "service_started", "service_healthy",
					     "service_completed_successfully" };
	char *t = get_str(c, v);
	size_t i;

	if (t && pick(c, v, t, conds, ARRAY_SIZE(conds), "condition", &i))
		((struct dep_opts *)obj)->cond = (enum dep_condition)i;
	free(t);
}

static const struct field dep_fields[] = {
	FN("condition", f_dep_condition, false),
	BOOL("required", struct dep_opts, required),
	BOOL("restart", struct dep_opts, restart),
	END
};

static void f_depends_on(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	size_t i, o;

	if (v->type == Y_SEQ) {
		for (i = 0; i < v->n; i++) {
			char *t;

			o = path_index(c, i);
			if ((t = get_str(c, v->kid[i])))
				dep_add(obj, t, DEP_STARTED, v->kid[i]->pos);
			path_pop(c, o);
		}
	} else if (v->type == Y_MAP) {
		for (i = 0; i + 1 < v->n; i += 2) {
			struct dep_opts d = { DEP_STARTED, true, false };
			struct dependency *dp;

			if (v->kid[i]->type != Y_SCALAR)
				continue;
			o = path_key(c, v->kid[i]->str);
			if (!ynode_is_null(v->kid[i + 1]))
				walk_map(c, v->kid[i + 1], dep_fields, &d);
			dep_add(obj, xstrdup(v->kid[i]->str), d.cond, v->kid[i]->pos);
			dp = &s->deps[s->ndeps - 1];
			dp->optional = !d.required;
			dp->restart = d.restart;
			path_pop(c, o);
		}
	} else {
		perr(c, v, "must be a list or a mapping of services, not %s",
		     ynode_type_name(v));
	}
}

static void f_hc_disable(struct pctx *c, const struct ynode *v, void *obj)
{
	(void)obj;
	get_bool(c, v, &((struct reader *)c->reader)->hc_disable);
}

static const struct field health_fields[] = {
	FN("test", read_hc_test, false),
	MS("interval", struct healthcheck, interval_ms),
	MS("timeout", struct healthcheck, timeout_ms),
	MS("start_period", struct healthcheck, start_period_ms),
	/* an Engine older than API 1.44 would drop it: the planner refuses
	 * the project there (backend_caps.health_start_interval) */
	FN("start_interval", read_hc_start_interval, false),
	INT("retries", struct healthcheck, retries, 0, 1000000, false),
	FN("disable", f_hc_disable, false),
	END
};

/* Does healthcheck v say nothing but disable (and x- keys)? */
static bool only_disable(const struct ynode *v)
{
	size_t i;

	for (i = 0; i + 1 < v->n; i += 2)
		if (v->kid[i]->type != Y_SCALAR || (strcmp(v->kid[i]->str, "disable") &&
						    strncmp(v->kid[i]->str, "x-", 2)))
			return false;
	return true;
}

static void f_health(struct pctx *c, const struct ynode *v, void *obj)
{
	struct reader *r = c->reader;
	struct service *s = obj;

	r->hc_disable = false;
	s->health.present = true;
	s->health.pos = v->pos;
	if (!walk_map(c, v, health_fields, &s->health))
		return;
	if (r->hc_disable) {
		strvec_release(&s->health.test);
		strvec_push(&s->health.test, "NONE");
	} else if (!s->health.test.n && only_disable(v)) {
		/* disable: false alone changes nothing: the image's own check */
		memset(&s->health, 0, sizeof(s->health));
	} else if (!s->health.test.n) {
		perr(c, v, "not supported by cara: a healthcheck without test "
		     "(the image's own test is not known when the file is read)");
	}
}

static void f_restart(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	long long n;
	char *t;

	if (v->type == Y_SCALAR && !strncmp(v->str, "on-failure:", 11)) {
		if (!(t = get_str(c, v)))
			return;
		if (parse_ll(t + 11, 0, INT_MAX, &n) < 0)
			perr(c, v, "invalid retry count in '%.32s' (write e.g. "
			     "on-failure:3)", t);
		else {
			s->restart = RESTART_ON_FAILURE;
			s->restart_retries = (int)n;
		}
		free(t);
		return;
	}
	read_restart(c, v, obj);
}

/* compose's words for the three pull policies; build needs a builder */
static void f_pull_policy(struct pctx *c, const struct ynode *v, void *obj)
{
	static const char *const names[] = { "missing", "if_not_present", "always",
					     "never" };
	static const enum pull_policy policy[] = { PULL_IF_NOT_PRESENT,
						   PULL_IF_NOT_PRESENT, PULL_ALWAYS,
						   PULL_NEVER };
	struct service *s = obj;
	char *t = get_str(c, v);
	size_t i;

	if (t && !strcmp(t, "build"))
		((struct reader *)c->reader)->pull_build = v;   /* needs build: (read_service) */
	else if (t && pick(c, v, t, names, ARRAY_SIZE(names), "pull policy", &i))
		s->pull_policy = policy[i];
	free(t);
}

static void f_labels(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	size_t i, o;

	if (v->type != Y_SEQ) {
		get_kvlist(c, v, &s->labels, true);
		return;
	}
	for (i = 0; i < v->n; i++) {
		char *t, *eq;

		o = path_index(c, i);
		if ((t = get_str(c, v->kid[i]))) {
			eq = strchr(t, '=');
			if (!strncmp(t, "cara.", 5))
				perr(c, v->kid[i], "labels starting with 'cara.' are "
				     "reserved for cara");
			kv_push(&s->labels, eq ? xstrndup(t, (size_t)(eq - t)) :
				xstrdup(t), xstrdup(eq ? eq + 1 : ""), v->kid[i]->pos);
			free(t);
		}
		path_pop(c, o);
	}
}

/* profiles: the service runs only when the host enables one of them. */
static void f_profiles(struct pctx *c, const struct ynode *v, void *obj)
{
	struct reader *r = c->reader;
	size_t i;

	(void)obj;
	if (!get_strlist(c, v, &r->profiles))
		return;
	for (i = 0; i < r->profiles.n; i++) {
		const char *t = r->profiles.v[i];

		if (!isalnum((unsigned char)t[0]) ||
		    strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			   "0123456789_.-") != strlen(t))
			perr(c, i < v->n ? v->kid[i] : v, "invalid profile name "
			     "'%.64s'", t);
	}
}

static bool profile_enabled(const struct pctx *c, const struct strvec *prof)
{
	size_t i, k;

	if (!prof->n)
		return true;
	for (i = 0; c->opts && i < c->opts->ncompose_profiles; i++)
		for (k = 0; k < prof->n; k++)
			if (!strcmp(c->opts->compose_profiles[i], prof->v[k]))
				return true;
	return false;
}

static const struct field svc_net_fields[] = {
	FN("aliases", read_net_aliases, false),
	END
};

/* A network joined must be the default one or declared at the top. */
static void net_declared(struct pctx *c, const struct ynode *at,
			 struct service_net *sn)
{
	struct reader *r = c->reader;

	if (!sn->name || !*sn->name || !strcmp(sn->name, NETWORK_DEFAULT) ||
	    project_find_network(r->p, sn->name))
		return;
	perr(c, at, "network '%.64s' is not declared under the top-level "
	     "networks", sn->name);
	sn->name[0] = '\0';   /* reported: not again by the validator */
}

/* On the default network alone: said the way a Project says it (aliases,
 * no networks), so both forms give one model. */
static void default_only(struct service *s)
{
	size_t i;

	if (s->nnets != 1 || strcmp(s->nets[0].name, NETWORK_DEFAULT))
		return;
	for (i = 0; i < s->nets[0].aliases.n; i++)
		strvec_push(&s->aliases, s->nets[0].aliases.v[i]);
	strvec_release(&s->nets[0].aliases);
	free(s->nets[0].name);
	s->nnets = 0;
}

/*
 * A service's networks: a list of names, or a mapping of names to their
 * settings (aliases).  Without networks a service is on the default one.
 */
static void f_svc_networks(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	struct service_net *sn;
	size_t i, o;

	if (v->type == Y_SEQ) {
		for (i = 0; i < v->n; i++) {
			o = path_index(c, i);
			sn = service_add_net(s, v->kid[i]);
			if (v->kid[i]->type != Y_SCALAR)
				perr(c, v->kid[i], "must be a network name, not %s",
				     ynode_type_name(v->kid[i]));
			else
				read_net_name(c, v->kid[i], sn);
			if (!sn->name)
				sn->name = xstrdup("");
			net_declared(c, v->kid[i], sn);
			path_pop(c, o);
		}
		default_only(s);
		return;
	}
	if (v->type != Y_MAP) {
		perr(c, v, "must be a mapping or a list, not %s", ynode_type_name(v));
		return;
	}
	for (i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *k = v->kid[i], *val = v->kid[i + 1];

		if (k->type != Y_SCALAR || !strncmp(k->str, "x-", 2))
			continue;
		o = path_key(c, k->str);
		sn = service_add_net(s, k);
		read_net_name(c, k, sn);
		if (!sn->name)
			sn->name = xstrdup("");
		net_declared(c, k, sn);
		if (!ynode_is_null(val))
			walk_map(c, val, svc_net_fields, sn);
		path_pop(c, o);
	}
	default_only(s);
}

static void f_mem_limit(struct pctx *c, const struct ynode *v, void *obj)
{
	struct reader *r = c->reader;

	read_memory(c, v, obj);
	r->has_mem = true;
	r->mem_limit = ((struct service *)obj)->memory_bytes;
}

static void f_mem_reservation(struct pctx *c, const struct ynode *v, void *obj)
{
	struct reader *r = c->reader;

	(void)obj;
	if (get_memory(c, v, &r->mem_rsv))
		r->mem_rsv_at = v;
}

static void f_rsv_memory(struct pctx *c, const struct ynode *v, void *obj)
{
	struct reader *r = c->reader;

	(void)obj;
	if (get_memory(c, v, &r->deploy_rsv))
		r->deploy_rsv_at = v;
}

static void f_memswap_limit(struct pctx *c, const struct ynode *v, void *obj)
{
	struct reader *r = c->reader;

	read_memory_swap(c, v, obj);
	r->swap_at = v;
}

/*
 * The memory reservation of the service being read: compose's (v2 and
 * 1.29) deploy.resources.reservations.memory over mem_reservation, the
 * latter warned about when it says otherwise (never dropped unseen);
 * then the Engine's rules across the memory settings.
 */
static void memory_finish(struct pctx *c, struct service *s)
{
	struct reader *r = c->reader;
	const struct ynode *rsv_at = r->deploy_rsv_at ? r->deploy_rsv_at : r->mem_rsv_at;

	if (r->deploy_rsv_at && r->mem_rsv_at && r->deploy_rsv != r->mem_rsv) {
		size_t o = path_key(c, "mem_reservation");

		pwarn(c, r->mem_rsv_at, "differs from deploy.resources."
		      "reservations.memory, which is used (%" PRId64 " bytes), as "
		      "docker compose does", r->deploy_rsv);
		path_pop(c, o);
	}
	if (rsv_at)
		s->memory_reservation_bytes = r->deploy_rsv_at ? r->deploy_rsv :
					      r->mem_rsv;
	check_memory(c, s, r->swap_at, "memswap_limit", rsv_at,
		     r->deploy_rsv_at ? "deploy.resources.reservations.memory" :
		     "mem_reservation");
}

/* pids_limit and deploy.resources.limits.pids: one setting, said once or
 * twice alike */
static void f_pids_limit(struct pctx *c, const struct ynode *v, void *obj)
{
	struct reader *r = c->reader;
	struct service *s = obj;
	int64_t n;

	if (!get_pids_limit(c, v, &n))
		return;
	if (r->pids_at && s->pids_limit != n)
		perr(c, v, "pids_limit and deploy.resources.limits.pids differ "
		     "(%" PRId64 " at line %d)", s->pids_limit, r->pids_at->pos.line);
	r->pids_at = v;
	s->pids_limit = n;
}

static const struct field limit_fields[] = {
	FN("memory", read_memory, false),
	FN("cpus", read_cpus, false),
	FN("pids", f_pids_limit, false),
	END
};

static void f_refused(struct pctx *c, const struct ynode *v, void *obj);

static const struct field reservation_fields[] = {
	FN("memory", f_rsv_memory, false),
	FN("cpus", read_cpus_reservation, false),
	FN("devices", f_refused, false),
	FN("generic_resources", f_refused, false),
	END
};

static const struct field resources_fields[] = {
	MAP("limits", limit_fields, false),
	MAP("reservations", reservation_fields, false),
	END
};

static const struct field deploy_fields[] = {
	MAP("resources", resources_fields, false),
	FN("replicas", read_replicas, false),
	FN("mode", read_compose_mode, false),
	FN("endpoint_mode", read_endpoint_mode, false),
	FN("placement", read_service_placement, false),
	FN("update_config", read_compose_update_config, false),
	FN("rollback_config", read_compose_rollback_config, false),
	FN("restart_policy", f_refused, false),
	END
};


/* ---- build: an image from files of the source ---- */

/*
 * container_name: a name other containers reach the service by.  The
 * container itself keeps cara's name, PROJECT-SERVICE (one rule for every
 * project, so no project can take a name another project or a non-cara
 * container needs); the name is kept as a network alias of the service on
 * each of its networks (cnames_finish), which is where compose's name is
 * resolved too.
 */
static void f_container_name(struct pctx *c, const struct ynode *v, void *obj)
{
	const struct service *s = obj;
	struct reader *r = c->reader;
	const char *why;
	struct cname *n;
	char *t;

	if (!(t = get_str(c, v)))
		return;
	if ((why = manifest_check_object_name(t))) {
		perr(c, v, "invalid container_name '%.64s': %s (cara keeps it as "
		     "a network alias of the service)", t, why);
		free(t);
		return;
	}
	GROW(r->cnames, r->capcnames, r->ncnames + 1);
	n = &r->cnames[r->ncnames++];
	n->service = xstrdup(s->name);
	n->name = t;
	n->at = v;
}

/* Fields refused with a reason an operator can act on. */
static void f_host_namespace(struct pctx *c, const struct ynode *v, void *obj)
{
	const char *path = buf_cstr(&c->path), *key = strrchr(path, '.');
	const char *mode = v->type == Y_SCALAR ? v->str : "";

	(void)obj;
	key = key ? key + 1 : path;
	if (!strcmp(mode, "host"))
		perr(c, v, "not supported by cara: %s: host (the host's own %s "
		     "namespace would give the container %s; a project's "
		     "containers are on its own network, each with namespaces of "
		     "its own%s)", key, !strcmp(key, "network_mode") ? "network" :
		     key, !strcmp(key, "network_mode") ? "every address and port "
		     "of the host" : "a view of the host's processes",
		     !strcmp(key, "network_mode") ? ": publish the ports it "
		     "serves under ports" : "");
	else if (!strncmp(mode, "service:", 8) || !strncmp(mode, "container:", 10))
		perr(c, v, "not supported by cara: %s: %.64s (a container in "
		     "another one's namespace; each of a project's containers has "
		     "namespaces of its own, and they reach each other by service "
		     "name on the project network)", key, mode);
	else
		perr(c, v, "not supported by cara: %s (a project's containers are "
		     "on its own network, each with namespaces of its own)", key);
}

/* Compose fields cara refuses, each with why and what to do instead. */
static const struct { const char *field, *why; } refused[] = {
	{ "mac_address", "a fixed MAC address on the project network could "
	  "clash with another container's; Docker picks one" },
	{ "cgroup_parent", "it would put the container in a cgroup of the "
	  "host of the file's choosing, outside the one the host gives its "
	  "containers" },
	{ "userns_mode", "it would take the container out of the host's "
	  "user namespace remapping" },
	{ "volumes_from", "declare the volumes under the top-level volumes "
	  "and mount them in each service that shares them" },
	{ "external_links", "a container outside the project is not cara's "
	  "to name; a project's containers are on its own network" },
	{ "platform", "cara pulls and runs the image of the host's own "
	  "platform: drop it" },
	{ "restart_policy", "the service's restart says it: no, always, "
	  "unless-stopped, on-failure or on-failure:N" },
	/* deploy.resources.reservations' */
	{ "devices", "cara makes no device requests: a GPU needs its "
	  "vendor's container runtime on the host, which cara neither sets "
	  "up nor checks; a device node of the host goes under the service's "
	  "devices" },
	{ "generic_resources", "a Swarm's user-defined node resources, which "
	  "cara's Swarm services do not ask for" },
};

static void f_refused(struct pctx *c, const struct ynode *v, void *obj)
{
	const char *path = buf_cstr(&c->path), *key = strrchr(path, '.');
	size_t i;

	(void)obj;
	key = key ? key + 1 : path;
	for (i = 0; i < ARRAY_SIZE(refused) && strcmp(refused[i].field, key); i++)
		;
	perr(c, v, "not supported by cara: %s (%s)", key,
	     i < ARRAY_SIZE(refused) ? refused[i].why : "no mapping");
}

/* links: SERVICE or SERVICE:ALIAS, names of this project's services. */
static void f_links(struct pctx *c, const struct ynode *v, void *obj)
{
	struct reader *r = c->reader;
	const struct service *s = obj;
	struct strvec l = STRVEC_INIT;
	size_t i, o;

	if (!get_strlist(c, v, &l))
		goto out;
	for (i = 0; i < l.n; i++) {
		char *t = l.v[i], *colon = strchr(t, ':');
		const struct ynode *at = v->type == Y_SEQ && i < v->n ? v->kid[i] : v;
		const char *why;
		struct link *k;

		o = path_index(c, i);
		if (colon)
			*colon++ = '\0';
		if ((why = manifest_check_object_name(t)) ||
		    (colon && (why = manifest_check_object_name(colon)))) {
			perr(c, at, "invalid link '%.64s%s%.64s': %s (write SERVICE "
			     "or SERVICE:ALIAS)", t, colon ? ":" : "",
			     colon ? colon : "", why);
			path_pop(c, o);
			continue;
		}
		GROW(r->links, r->caplinks, r->nlinks + 1);
		k = &r->links[r->nlinks++];
		k->from = xstrdup(s->name);
		k->target = xstrdup(t);
		k->alias = colon && strcmp(colon, t) ? xstrdup(colon) : NULL;
		k->at = at;
		k->index = i;
		path_pop(c, o);
	}
out:
	strvec_release(&l);
}

/*
 * A finding at node `at` of field `key` (its item `index`; SIZE_MAX:
 * none) of service `svc`, made once every service is read (links,
 * container_name): under "services", at the file the node is of (an
 * override's or an extended one's too), counted as every finding is.
 */
static void svc_finding(struct pctx *c, enum diag_severity sev,
			const struct ynode *at, const char *svc, const char *key,
			size_t index, const char *fmt, va_list ap)
{
	struct buf m = BUF_INIT;
	size_t o = path_key(c, svc);

	path_key(c, key);
	if (index != SIZE_MAX)
		path_index(c, index);
	buf_vprintf(&m, fmt, ap);
	if (sev == DIAG_ERROR)
		perr(c, at, "%s", buf_cstr(&m));
	else
		pwarn(c, at, "%s", buf_cstr(&m));
	path_pop(c, o);
	buf_release(&m);
}

static void link_error(struct pctx *c, const struct link *k, const char *fmt,
		       ...) PRINTF_LIKE(3, 4);
static void link_error(struct pctx *c, const struct link *k, const char *fmt,
		       ...)
{
	va_list ap;

	va_start(ap, fmt);
	svc_finding(c, DIAG_ERROR, k->at, k->from, "links", k->index, fmt, ap);
	va_end(ap);
}

/*
 * Each link as compose has it: the service starts after its target, and
 * the alias is one more name of the target on the project network (for
 * every service of the project, where compose's is the linking
 * container's only: an alias that another service or name already has is
 * refused, so no name changes meaning).
 */
static void links_finish(struct pctx *c, struct reader *r, struct project *p)
{
	size_t i, j;

	for (i = 0; i < r->nlinks; i++) {
		const struct link *k = &r->links[i];
		struct service *from = (struct service *)project_find_service(p, k->from);
		struct service *to = (struct service *)project_find_service(p, k->target);

		if (!from)
			continue;   /* of a disabled profile */
		if (!to) {
			link_error(c, k, strvec_has(&r->disabled, k->target) ?
				   "service '%s' is in a profile not enabled on this "
				   "host (--compose-profiles)" : "service '%s' is not a "
				   "service of this project (a container outside it "
				   "would be external_links, which cara refuses)",
				   k->target);
			continue;
		}
		if (to == from) {
			link_error(c, k, "a service cannot link to itself");
			continue;
		}
		for (j = 0; j < from->ndeps && strcmp(from->deps[j].service,
						      k->target); j++)
			;
		if (j == from->ndeps)
			dep_add(from, xstrdup(k->target), DEP_STARTED, k->at->pos);
		if (!k->alias || strvec_has(&to->aliases, k->alias))
			continue;
		if (to->nnets || from->nnets) {
			/* an alias is per network: which one is the file's to say */
			link_error(c, k, "not supported by cara: a link's alias for "
				   "services on networks other than the default "
				   "one (write '%s' under the networks of service "
				   "'%s', as aliases)", k->alias, k->target);
			continue;
		}
		if (project_find_service(p, k->alias)) {
			link_error(c, k, "alias '%s' is the name of another service",
				   k->alias);
			continue;
		}
		for (j = 0; j < p->nservices; j++)
			if (&p->services[j] != to &&
			    strvec_has(&p->services[j].aliases, k->alias))
				break;
		if (j < p->nservices) {
			link_error(c, k, "alias '%s' already names service '%s' on "
				   "the project network", k->alias,
				   p->services[j].name);
			continue;
		}
		strvec_push(&to->aliases, k->alias);
	}
	for (i = 0; i < r->nlinks; i++) {
		free(r->links[i].from);
		free(r->links[i].target);
		free(r->links[i].alias);
	}
	free(r->links);
	r->links = NULL;
	r->nlinks = r->caplinks = 0;
}

static void cname_diag(struct pctx *c, enum diag_severity level,
		       const struct cname *n, const char *fmt, ...) PRINTF_LIKE(4, 5);
static void cname_diag(struct pctx *c, enum diag_severity level,
		       const struct cname *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	svc_finding(c, level, n->at, n->service, "container_name", SIZE_MAX, fmt, ap);
	va_end(ap);
}

/* Does a service other than s answer to name on a network? */
static const struct service *name_taken(const struct project *p,
					const struct service *s, const char *name)
{
	size_t i, k;

	for (i = 0; i < p->nservices; i++) {
		const struct service *o = &p->services[i];

		if (o == s)
			continue;
		if (!strcmp(o->name, name) || strvec_has(&o->aliases, name))
			return o;
		for (k = 0; k < o->nnets; k++)
			if (strvec_has(&o->nets[k].aliases, name))
				return o;
	}
	return NULL;
}

/*
 * Each container_name becomes an alias of its service on every network
 * the service joins.  It must name one container (no scale), and no other
 * service of the project may answer to it.  Before links_finish, so a
 * link's alias that is a container_name is seen taken.
 */
static void cnames_finish(struct pctx *c, struct reader *r, struct project *p)
{
	size_t i, j, k;

	for (i = 0; i < r->ncnames; i++) {
		const struct cname *n = &r->cnames[i];
		struct service *s = (struct service *)project_find_service(p, n->service);
		const struct service *o;
		const char *pname;

		if (!s)
			continue;   /* of a disabled profile */
		for (j = 0; j < i && strcmp(r->cnames[j].name, n->name); j++)
			;
		if (j < i) {
			cname_diag(c, DIAG_ERROR, n, "container_name '%s' is also "
				   "that of service '%s'", n->name,
				   r->cnames[j].service);
			continue;
		}
		if (s->global || (s->has_replicas && s->replicas != 1)) {
			cname_diag(c, DIAG_ERROR, n, "container_name names one "
				   "container, and service '%s' runs %s", s->name,
				   s->global ? "one on every node (mode: global)" :
				   "several (replicas)");
			continue;
		}
		if ((o = name_taken(p, s, n->name))) {
			cname_diag(c, DIAG_ERROR, n, "container_name '%s' is a name "
				   "of service '%s' on the project's networks",
				   n->name, o->name);
			continue;
		}
		pname = p->name ? p->name : "PROJECT";
		if (!strcmp(n->name, s->name)) {
			cname_diag(c, DIAG_WARNING, n, "the container is named "
				   "%s-%s, as cara names every container; other "
				   "containers reach it as '%s', the service's name",
				   pname, s->name, s->name);
			continue;
		}
		cname_diag(c, DIAG_WARNING, n, "the container is named %s-%s, as "
			   "cara names every container; '%s' is an alias of the "
			   "service on its networks, so other containers reach it "
			   "by that name (docker exec and scripts need %s-%s)",
			   pname, s->name, n->name, pname, s->name);
		if (!s->nnets && !strvec_has(&s->aliases, n->name))
			strvec_push(&s->aliases, n->name);
		for (k = 0; k < s->nnets; k++)
			if (!strvec_has(&s->nets[k].aliases, n->name))
				strvec_push(&s->nets[k].aliases, n->name);
	}
	for (i = 0; i < r->ncnames; i++) {
		free(r->cnames[i].service);
		free(r->cnames[i].name);
	}
	free(r->cnames);
	r->cnames = NULL;
	r->ncnames = r->capcnames = 0;
}

/* scale: as deploy.replicas (1 on the engine backend); both must agree */
static void f_scale(struct pctx *c, const struct ynode *v, void *obj)
{
	struct reader *r = c->reader;
	struct service tmp;

	(void)obj;
	memset(&tmp, 0, sizeof(tmp));
	read_replicas(c, v, &tmp);
	if (tmp.has_replicas) {
		r->has_scale = true;
		r->scale = tmp.replicas;
		r->scale_at = v;
	}
}

/* image: required unless there is a build (read_service checks) */
static void f_image(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;
	const char *why;
	char *t;

	if (!(t = get_str(c, v)))
		return;
	if ((why = manifest_check_image(t)))
		perr(c, v, "invalid image reference '%.64s': %s", t, why);
	free(s->image);
	s->image = t;
}

static void f_build_context(struct pctx *c, const struct ynode *v, void *obj)
{
	struct reader *r = c->reader;

	(void)obj;
	r->build_ctx = v;
	r->build_map = true;
}

static void f_build_args(struct pctx *c, const struct ynode *v, void *obj)
{
	struct build *b = obj;
	size_t i, o;

	/* an arg without a value would be taken from cara's environment */
	if (v->type == Y_MAP) {
		for (i = 0; i + 1 < v->n; i += 2)
			if (v->kid[i]->type == Y_SCALAR && ynode_is_null(v->kid[i + 1])) {
				o = path_key(c, v->kid[i]->str);
				perr(c, v->kid[i], "not supported by cara: a build "
				     "arg without a value (write its value, "
				     "${VAR} if it comes from the environment)");
				path_pop(c, o);
			}
	} else if (v->type == Y_SEQ) {
		for (i = 0; i < v->n; i++)
			if (v->kid[i]->type == Y_SCALAR && !strchr(v->kid[i]->str, '=')) {
				o = path_index(c, i);
				perr(c, v->kid[i], "not supported by cara: a build "
				     "arg without a value (write NAME=value)");
				path_pop(c, o);
			}
	}
	get_kv_pairs(c, v, &b->args);
}

static const struct field build_fields[] = {
	FN("context", f_build_context, false),
	STR("dockerfile", struct build, dockerfile, false),
	FN("args", f_build_args, false),
	STR("target", struct build, target, false),
	END
};

static void f_build(struct pctx *c, const struct ynode *v, void *obj)
{
	struct service *s = obj;

	((struct reader *)c->reader)->build_ctx = NULL;
	((struct reader *)c->reader)->build_map = false;
	build_free(s->build);
	s->build = xcalloc(1, sizeof(*s->build));
	if (v->type == Y_SCALAR)
		((struct reader *)c->reader)->build_ctx = v;
	else if (v->type == Y_MAP)
		walk_map(c, v, build_fields, s->build);
	else
		perr(c, v, "must be a context path or a mapping, not %s",
		     ynode_type_name(v));
}

/* Is e the .dockerignore or the Dockerfile (always sent, as docker does)? */
static bool build_keeps(const struct build *b, const struct file_entry *e)
{
	return !strcmp(e->path, ".dockerignore") || !strcmp(e->path, b->dockerfile);
}

/*
 * The context of s's build from the snapshot, less what its .dockerignore
 * excludes, and the image it makes: cara-build/{project}-{service}:HEX16
 * of the context and the settings.
 */
static void build_context(struct pctx *c, const struct project *p,
			  struct service *s, const struct ynode *at)
{
	struct reader *r = c->reader;
	struct build *b = s->build;
	const struct ynode *ctx = r->build_ctx;
	struct volume *v;
	struct strvec ign = STRVEC_INIT;
	struct sha256 h;
	unsigned char md[32];
	char hex[65], num[64];
	size_t i, o;
	const char *rel;

	if (!ctx) {
		perr(c, at, "build needs a context (a directory of the source)");
		return;
	}
	rel = ctx->type == Y_SCALAR ? ctx->str : "";
	if (strstr(rel, "://") || !strncmp(rel, "git@", 4)) {
		perr(c, ctx, "not supported by cara: a remote build context ('%.64s'): "
		     "the context is a directory of the source", rel);
		return;
	}
	if (!b->dockerfile) {
		b->dockerfile = xstrdup("Dockerfile");
	} else {
		char *df = input_join_rel("", b->dockerfile);

		if (!df || !*df || *b->dockerfile == '/') {
			perr(c, ctx, "build.dockerfile '%.64s' is not a file within the "
			     "context", b->dockerfile);
			free(df);
			return;
		}
		free(b->dockerfile);
		b->dockerfile = df;
	}
	b->context = v = xcalloc(1, sizeof(*v));
	if (!input_file_volume(c, ctx, v, rel))
		return;
	if (!v->is_dir) {
		perr(c, ctx, "'%.64s' is a file: a build context is a directory", rel);
		return;
	}
	for (i = 0; i < v->nfiles; i++)
		if (!strcmp(v->files[i].path, ".dockerignore"))
			dockerignore_parse(v->files[i].data, v->files[i].len, &ign);
	for (i = o = 0; i < v->nfiles; i++) {
		if (!ign.n || build_keeps(b, &v->files[i]) ||
		    !dockerignore_excludes(&ign, v->files[i].path)) {
			v->files[o++] = v->files[i];
			continue;
		}
		free(v->files[i].path);
		free(v->files[i].data);
	}
	v->nfiles = o;
	strvec_release(&ign);
	for (i = 0; i < v->nfiles && strcmp(v->files[i].path, b->dockerfile); i++)
		;
	if (i == v->nfiles) {
		perr(c, ctx, "no %s in the build context '%s' (dockerfile names it, "
		     "relative to the context)", b->dockerfile,
		     *v->source_path ? v->source_path : ".");
		return;
	}
	dockerfile_from_images(v->files[i].data, v->files[i].len, &b->from);
	files_digest(v);
	/* the image: of this context and these settings */
	sha256_init(&h);
	sha256_update(&h, "cara/build/1", 13);
	sha256_update(&h, v->digest, strlen(v->digest));
	snprintf(num, sizeof(num), ";%zu:", strlen(b->dockerfile));
	sha256_update(&h, num, strlen(num));
	sha256_update(&h, b->dockerfile, strlen(b->dockerfile));
	snprintf(num, sizeof(num), ";%zu:", b->target ? strlen(b->target) : 0);
	sha256_update(&h, num, strlen(num));
	if (b->target)
		sha256_update(&h, b->target, strlen(b->target));
	kvlist_last_wins(&b->args);   /* "A=1", "A=2": A is 2, as in compose */
	for (i = 0; i < b->args.n; i++) {
		snprintf(num, sizeof(num), ";%zu:%zu:", strlen(b->args.v[i].key),
			 strlen(b->args.v[i].value));
		sha256_update(&h, num, strlen(num));
		sha256_update(&h, b->args.v[i].key, strlen(b->args.v[i].key));
		sha256_update(&h, b->args.v[i].value, strlen(b->args.v[i].value));
	}
	sha256_final(&h, md);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	snprintf(b->digest, sizeof(b->digest), "sha256-%s", hex);
	/* compose tags the build with image: when both are given */
	if (s->image && *s->image)
		b->tag = s->image;
	else
		free(s->image);
	s->image = xasprintf(NAME_BUILD_REPO "%s-%s:%.16s",
			     p->name ? p->name : "invalid", s->name, hex);
	s->pull_policy = PULL_NEVER;   /* built here, never pulled */
}

/* build_context with the errors at services.NAME.build(.context) */
static void build_finish(struct pctx *c, const struct project *p,
			 struct service *s, const struct ynode *at)
{
	struct reader *r = c->reader;
	size_t o = path_key(c, "build"), o2 = 0;

	if (r->build_map)
		o2 = path_key(c, "context");
	build_context(c, p, s, at);
	if (r->build_map)
		path_pop(c, o2);
	path_pop(c, o);
}

static const struct field service_fields[] = {
	FN("image", f_image, false),
	FN("pull_policy", f_pull_policy, false),
	FN("build", f_build, false),
	FN("command", f_command, false),
	FN("entrypoint", f_entrypoint, false),
	FN("environment", f_environment, false),
	FN("env_file", f_env_file, false),
	LIST("ports", port_item, false),
	LIST("volumes", volume_item, false),
	LIST("configs", config_item, false),
	LIST("secrets", secret_item, false),
	FN("depends_on", f_depends_on, false),
	FN("healthcheck", f_health, false),
	FN("restart", f_restart, false),
	FN("labels", f_labels, false),
	STR("user", struct service, user, false),
	PATH("working_dir", struct service, working_dir, false),
	MS("stop_grace_period", struct service, stop_grace_ms),
	FN("mem_limit", f_mem_limit, false),
	FN("cpus", read_cpus, false),
	MAP("deploy", deploy_fields, false),
	FN("networks", f_svc_networks, false),
	FN("cap_add", read_cap_add, false),
	FN("cap_drop", read_cap_drop, false),
	FN("privileged", read_privileged, false),
	BOOL("read_only", struct service, read_only),
	FN("tmpfs", read_tmpfs, false),
	FN("hostname", read_hostname, false),
	FN("init", read_init, false),
	FN("stop_signal", read_stop_signal, false),
	FN("extra_hosts", read_extra_hosts, false),
	FN("dns", read_dns, false),
	FN("shm_size", read_shm_size, false),
	FN("sysctls", read_sysctls, false),
	FN("ulimits", read_ulimits, false),
	FN("security_opt", read_security_opt, false),
	FN("expose", read_expose, false),
	FN("devices", read_devices, false),
	FN("logging", read_logging, false),
	FN("container_name", f_container_name, false),
	FN("network_mode", f_host_namespace, false),
	FN("pid", f_host_namespace, false),
	FN("ipc", f_host_namespace, false),
	FN("profiles", f_profiles, false),
	BOOL("tty", struct service, tty),
	BOOL("stdin_open", struct service, stdin_open),
	FN("domainname", read_domainname, false),
	FN("pids_limit", f_pids_limit, false),
	FN("oom_score_adj", read_oom_score_adj, false),
	FN("group_add", read_group_add, false),
	FN("dns_search", read_dns_search, false),
	FN("dns_opt", read_dns_opt, false),
	FN("links", f_links, false),
	FN("scale", f_scale, false),
	FN("mac_address", f_refused, false),
	FN("cgroup_parent", f_refused, false),
	FN("userns_mode", f_refused, false),
	FN("volumes_from", f_refused, false),
	FN("external_links", f_refused, false),
	FN("platform", f_refused, false),
	FN("mem_reservation", f_mem_reservation, false),
	FN("memswap_limit", f_memswap_limit, false),
	FN("cpu_shares", read_cpu_shares, false),
	END
};

static void read_service(struct pctx *c, const struct ynode *k,
			 const struct ynode *v, struct project *p)
{
	struct reader *r = c->reader;
	struct service *s;
	const char *why;

	GROW(p->services, p->capservices, p->nservices + 1);
	s = &p->services[p->nservices++];
	memset(s, 0, sizeof(*s));
	s->pos = k->pos;
	s->stop_grace_ms = -1;
	s->restart = RESTART_NO;     /* compose's default */
	s->name = xstrdup(k->str);
	r->has_mem = r->has_scale = false;
	r->pids_at = NULL;
	r->mem_rsv_at = r->deploy_rsv_at = r->swap_at = NULL;
	r->pull_build = r->build_ctx = NULL;
	strvec_release(&r->profiles);
	if ((why = manifest_check_object_name(s->name)))
		perr(c, k, "invalid service name '%.64s': %s", s->name, why);
	if (v->type == Y_SEQ || ynode_is_null(v))
		perr(c, v, "must be a mapping, not %s", ynode_type_name(v));
	else
		walk_map(c, v, service_fields, s);
	if (r->has_mem && s->memory_bytes != r->mem_limit) {
		perr(c, v, "mem_limit and deploy.resources.limits.memory differ");
	}
	memory_finish(c, s);
	if (r->has_scale) {
		size_t o = path_key(c, "scale");

		if (s->has_replicas && s->replicas != r->scale)
			perr(c, r->scale_at, "scale and deploy.replicas differ");
		s->has_replicas = true;
		s->replicas = r->scale;
		path_pop(c, o);
	}
	env_finish(r, s);
	if (s->build)
		build_finish(c, p, s, k);
	else if (r->pull_build)
		perr(c, r->pull_build, "pull_policy build needs a build section");
	if (!s->build && !s->image && v->type == Y_MAP) {
		size_t o = path_key(c, "image");

		perr(c, k, "required (or build)");
		path_pop(c, o);
	}
	if (!s->image)
		s->image = xstrdup("");
	if (!profile_enabled(c, &r->profiles)) {
		/* not part of the project: not created, pruned if it exists */
		strvec_push(&r->disabled, s->name);
		service_release(s);
		p->nservices--;
	}
	strvec_release(&r->profiles);
}

/* depends_on onto a service of a disabled profile is an error, as in
 * compose, unless it says required: false (then it is dropped, as is one
 * onto a service that does not exist). */
static void deps_check_profiles(struct pctx *c, struct reader *r,
				struct project *p)
{
	size_t i, j, o;

	for (i = 0; i < p->nservices; i++) {
		struct service *s = &p->services[i];

		for (j = o = 0; j < s->ndeps; j++) {
			struct dependency *d = &s->deps[j];
			bool off = strvec_has(&r->disabled, d->service);

			if (d->optional && (off || !project_find_service(p, d->service))) {
				free(d->service);
				continue;
			}
			if (off) {
				char *path = xasprintf("services.%s.depends_on.%s",
						       s->name, d->service);

				c->bad = true;
				diags_add(c->d, DIAG_ERROR, c->file, d->pos.line,
					  d->pos.col, path, "service '%s' is in a "
					  "profile not enabled on this host "
					  "(--compose-profiles)", d->service);
				free(path);
				free(d->service);
				continue;   /* reported once, not again as unknown */
			}
			s->deps[o++] = *d;
		}
		s->ndeps = o;
	}
}

/* ---- the top level ---- */

/*
 * The real name of an external volume or network (what: which) whose key
 * is k: name:, else the key, as compose does; checked (caller frees).
 */
static char *external_name(struct pctx *c, const struct ynode *k,
			   const struct ynode *name, const struct ynode *ext,
			   const char *what, const char *(*check)(const char *))
{
	size_t o = path_key(c, name ? "name" : "external");
	char *n = name ? get_str(c, name) : xstrdup(k->str);
	const char *why;

	if (n && (why = check(n)))
		perr(c, name ? name : ext, "external %s '%.64s': %s", what, n, why);
	path_pop(c, o);
	return n;
}

/*
 * A top-level volume: cara's own (Managed), or with external: true a
 * Docker volume made outside cara, mounted by its real name (name:, else
 * the key, as compose does) and never created or removed.
 */
static void f_top_volume(struct pctx *c, const struct ynode *k,
			 const struct ynode *v, struct project *p)
{
	const struct ynode *ext = NULL, *name = NULL, *driver = NULL;
	struct volume *vol;
	const char *why;
	bool external = false;
	size_t i, o;

	if ((why = manifest_check_object_name(k->str)))
		perr(c, k, "invalid volume name '%.64s': %s", k->str, why);
	vol = volume_new(p, k->str, VOLUME_MANAGED, k->pos);
	if (ynode_is_null(v))
		return;
	if (v->type != Y_MAP) {
		perr(c, v, "must be a mapping, not %s", ynode_type_name(v));
		return;
	}
	for (i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *key = v->kid[i], *val = v->kid[i + 1];
		char *t;

		if (key->type != Y_SCALAR || !strncmp(key->str, "x-", 2))
			continue;
		o = path_key(c, key->str);
		if (!strcmp(key->str, "driver") && (t = get_str(c, val))) {
			driver = key;
			if (strcmp(t, "local"))
				perr(c, val, "not supported by cara: volume driver "
				     "'%.32s'", t);
			free(t);
		} else if (!strcmp(key->str, "external")) {
			ext = key;
			if (val->type == Y_MAP)
				perr(c, val, "not supported by cara: external as a "
				     "mapping (write external: true and the "
				     "volume's name under name)");
			else
				get_bool(c, val, &external);
		} else if (!strcmp(key->str, "name")) {
			name = val;
		} else if (!strcmp(key->str, "driver_opts")) {
			/* type: none, o: bind, device: /any/path is a bind */
			perr(c, key, "not supported by cara: driver_opts (a local "
			     "volume's options mount a device, a network share or "
			     "a host path of the file's choosing, outside the "
			     "host's allowed roots)");
		} else if (strcmp(key->str, "driver")) {
			perr(c, key, "not supported by cara: %.64s", key->str);
		}
		path_pop(c, o);
	}
	if (!external) {
		if (name) {
			o = path_key(c, "name");
			perr(c, name, "not supported by cara: the name of a volume "
			     "cara makes (it names it cara-PROJECT-VOLUME); name is "
			     "for an external one");
			path_pop(c, o);
		}
		return;
	}
	vol->type = VOLUME_EXTERNAL;
	if (driver) {
		o = path_key(c, "driver");
		perr(c, driver, "an external volume has no driver (it exists already)");
		path_pop(c, o);
	}
	vol->external_name = external_name(c, k, name, ext, "volume",
					   volume_check_external_name);
}

/* Each pair of mapping v as (key, value), with the path; key must be a
 * scalar. */
static void each_pair(struct pctx *c, const struct ynode *v, struct project *p,
		      void (*fn)(struct pctx *, const struct ynode *,
				 const struct ynode *, struct project *))
{
	size_t i, o;

	if (v->type != Y_MAP) {
		perr(c, v, "must be a mapping, not %s", ynode_type_name(v));
		return;
	}
	for (i = 0; i + 1 < v->n; i += 2) {
		if (v->kid[i]->type != Y_SCALAR) {
			perr(c, v->kid[i], "a key must be a string");
			continue;
		}
		if (!strncmp(v->kid[i]->str, "x-", 2))
			continue;
		o = path_key(c, v->kid[i]->str);
		fn(c, v->kid[i], v->kid[i + 1], p);
		path_pop(c, o);
	}
}

/*
 * A top-level network: one cara makes (a bridge; an overlay on a cluster),
 * or with external: true a Docker network made outside cara, joined by
 * its real name (name:, else the key, as compose does) and never created
 * or removed.  The settings cara does not map are refused, not dropped.
 */
static void f_top_network(struct pctx *c, const struct ynode *k,
			  const struct ynode *v, struct project *p)
{
	const struct ynode *ext = NULL, *name = NULL, *internal = NULL;
	bool cluster = c->opts && c->opts->cluster;
	struct network *nw;
	const char *why;
	size_t i, o;

	if ((why = manifest_check_object_name(k->str)))
		perr(c, k, "invalid network name '%.64s': %s", k->str, why);
	GROW(p->networks, p->capnetworks, p->nnetworks + 1);
	nw = &p->networks[p->nnetworks++];
	memset(nw, 0, sizeof(*nw));
	nw->name = xstrdup(k->str);
	nw->pos = k->pos;
	if (ynode_is_null(v))
		return;
	if (v->type != Y_MAP) {
		perr(c, v, "must be a mapping, not %s", ynode_type_name(v));
		return;
	}
	for (i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *key = v->kid[i], *val = v->kid[i + 1];
		bool flag = false;
		char *t;

		if (key->type != Y_SCALAR || !strncmp(key->str, "x-", 2))
			continue;
		o = path_key(c, key->str);
		if (!strcmp(key->str, "driver")) {
			if ((t = get_str(c, val)) && strcmp(t, cluster ? "overlay" : "bridge"))
				perr(c, val, "not supported by cara: network driver "
				     "'%.32s' (cara makes %s networks)", t,
				     cluster ? "overlay" : "bridge");
			free(t);
		} else if (!strcmp(key->str, "external")) {
			ext = key;
			if (val->type == Y_MAP) {
				/* the old form: external: {name: NAME} */
				const struct ynode *en = ynode_map_get(val, "name");

				nw->external = true;
				if (en)
					name = en;
				if (val->n > (en ? 2u : 0u))
					perr(c, val, "not supported by cara: external "
					     "settings besides name");
			} else {
				get_bool(c, val, &nw->external);
			}
		} else if (!strcmp(key->str, "name")) {
			name = val;
		} else if (!strcmp(key->str, "internal")) {
			internal = key;
			get_bool(c, val, &nw->internal);
		} else if (!strcmp(key->str, "attachable")) {
			/* cara's overlays are attachable; a bridge is anyway */
			get_bool(c, val, &flag);
		} else {
			perr(c, key, "not supported by cara: %.64s", key->str);
		}
		path_pop(c, o);
	}
	if (!nw->external) {
		if (name) {
			o = path_key(c, "name");
			perr(c, name, "not supported by cara: the name of a network "
			     "cara makes (it names it cara-PROJECT_NETWORK); name is "
			     "for an external one (a network shared by projects)");
			path_pop(c, o);
		}
		return;
	}
	if (internal) {
		o = path_key(c, "internal");
		perr(c, internal, "an external network's settings are its own "
		     "(it exists already)");
		path_pop(c, o);
	}
	nw->external_name = external_name(c, k, name, ext, "network",
					  network_check_external_name);
}

static void f_top_networks(struct pctx *c, const struct ynode *v, void *obj)
{
	each_pair(c, v, obj, f_top_network);
}

/* x-cara: what a Project says beyond compose, read as a Project reads it
 * (its own fields, so an unknown one is warned about, not refused). */
static const struct field x_cara_fields[] = {
	FN("expireAt", read_expire_at, false),
	FN("placement", read_placement, false),
	LIST("ingress", read_ingress_item, false),
	FN("labels", read_project_labels, false),
	FN("annotations", read_project_annotations, false),
	END
};

static void f_x_cara(struct pctx *c, const struct ynode *v, void *obj)
{
	c->cara_fields = true;
	walk_map(c, v, x_cara_fields, obj);
	c->cara_fields = false;
}

static const struct field top_fields[] = {
	SKIP("version", false),       /* obsolete, as in compose */
	FN("x-cara", f_x_cara, false),
	SKIP("name", false),
	SKIP("services", true),
	SKIP("volumes", false),
	SKIP("configs", false),
	SKIP("secrets", false),
	FN("networks", f_top_networks, false),
	END
};

/* The directory's name as compose makes it a project name; "" at the top. */
static char *dir_project_name(const char *file)
{
	const char *end = strrchr(file, '/'), *start;
	struct buf b = BUF_INIT;

	if (!end)
		return xstrdup("");
	for (start = end; start > file && start[-1] != '/'; start--)
		;
	for (; start < end; start++) {
		char ch = (char)tolower((unsigned char)*start);

		if (isalnum((unsigned char)ch) || ch == '_' || ch == '-')
			buf_putc(&b, ch);
	}
	return b.ptr ? buf_detach(&b) : xstrdup("");
}

static char *project_name(struct pctx *c, const struct ynode *root)
{
	const struct ynode *n = ynode_map_get(root, "name");
	char *name;
	const char *why;
	size_t o;

	o = path_key(c, "name");
	if (n && !ynode_is_null(n)) {
		name = get_str(c, n);
	} else {
		name = dir_project_name(c->file);
		n = root;
		if (!*name) {
			perr(c, root, "a compose file %s needs a top-level name",
			     strchr(c->file, '/') ? "in a directory whose name has "
			     "no letter or digit" : "at the top of the source");
			free(name);
			name = NULL;
		}
	}
	if (name && (why = manifest_check_project_name(name))) {
		perr(c, n, "invalid project name '%.64s' for '%s': %s", name,
		     c->file, why);
		free(name);
		name = NULL;
	}
	path_pop(c, o);
	return name;
}

static void read_dotenv(struct pctx *c, struct reader *r)
{
	char *dir = input_dir_of(c->file), *path = xasprintf("%s.env", dir);
	const struct source_file *f = sibling(c, path);

	if (f) {
		parse_env_file(c, f, &r->dotenv);
		kvlist_last_wins(&r->dotenv);
		c->dotenv = &r->dotenv;
	}
	free(path);
	free(dir);
}

void compose_read_document(struct pctx *c, struct ynode *root)
{
	struct reader r;
	struct project p;
	const struct ynode *n;

	buf_reset(&c->path);
	if (c->ndocs++) {
		file_error(c, root->pos.line, root->pos.col, "a compose file holds "
			   "one YAML document");
		return;
	}
	if (ynode_is_null(root) || root->type != Y_MAP) {
		file_error(c, root->pos.line, root->pos.col, "a compose file must "
			   "be a mapping, not %s", ynode_type_name(root));
		return;
	}
	memset(&r, 0, sizeof(r));
	memset(&p, 0, sizeof(p));
	r.p = &p;
	c->reader = &r;
	c->compose = true;
	c->bad = false;
	read_dotenv(c, &r);
	compose_merge_keys(c, root);
	compose_assemble(c, root);
	p.file = xstrdup(c->file);
	p.pos = root->pos;
	p.valid = true;
	p.compose = true;
	p.name = project_name(c, root);
	walk_map(c, root, top_fields, &p);
	if ((n = ynode_map_get(root, "configs")) && !ynode_is_null(n)) {
		if (n->type != Y_MAP)
			perr(c, n, "must be a mapping, not %s", ynode_type_name(n));
		else
			r.configs = n;
	}
	if ((n = ynode_map_get(root, "secrets")) && !ynode_is_null(n)) {
		size_t o = path_key(c, "secrets");

		if (n->type == Y_MAP)
			r.secrets = n;
		each_pair(c, n, &p, f_top_secret);
		path_pop(c, o);
	}
	if ((n = ynode_map_get(root, "volumes")) && !ynode_is_null(n)) {
		size_t o = path_key(c, "volumes");

		each_pair(c, n, &p, f_top_volume);
		path_pop(c, o);
	}
	if ((n = ynode_map_get(root, "services")) && !ynode_is_null(n)) {
		size_t o = path_key(c, "services");

		each_pair(c, n, &p, read_service);
		cnames_finish(c, &r, &p);
		links_finish(c, &r, &p);
		deps_check_profiles(c, &r, &p);
		if (n->type == Y_MAP && !p.nservices && !r.disabled.n)
			perr(c, n, "a project needs at least one service");
		path_pop(c, o);
	}
	if (c->conflict)
		perr(c, root, "'%s' and '%s' are both compose files of one "
		     "directory: only '%s' is read, and its project is not "
		     "applied until one is removed", c->file, c->conflict, c->file);
	c->dotenv = NULL;
	c->reader = NULL;
	kvlist_free(&r.dotenv);
	kvlist_free(&r.secret_refs);
	strvec_release(&r.profiles);
	strvec_release(&r.disabled);
	reader_add_project(c, &p);
}
