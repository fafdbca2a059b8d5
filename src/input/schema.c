/*
 * input/schema.c - the helpers every reader uses (schema.h): findings
 * with field paths, ${VAR} interpolation, typed getters and the walker
 * over tables of fields.
 */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "input/schema.h"

#define MAX_INTERP_DEPTH 4      /* ${A:-${B:-...}} */

/* ---- parsing context and findings ---- */

/* A finding at pos with the current path; `always` ignores the cap. */
static void vreport(struct pctx *c, enum diag_severity sev, const char *file,
		    struct pos pos, bool always, const char *fmt, va_list ap)
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
	diags_add(c->d, sev, file ? file : c->file, pos.line, pos.col,
		  buf_cstr(&c->path), "%s",
		  buf_cstr(&m));
	buf_release(&m);
}

void perr(struct pctx *c, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, DIAG_ERROR, n->file, n->pos, false, fmt, ap);
	va_end(ap);
}

void pwarn(struct pctx *c, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, DIAG_WARNING, n->file, n->pos, false, fmt, ap);
	va_end(ap);
}

/* An error about the file as a whole: no project of it can be trusted. */
void file_error(struct pctx *c, int line, int col, const char *fmt, ...)
{
	struct pos pos = { line, col };
	va_list ap;

	buf_reset(&c->path);
	va_start(ap, fmt);
	vreport(c, DIAG_ERROR, NULL, pos, true, fmt, ap);
	va_end(ap);
	c->set->incomplete = true;
}

size_t path_key(struct pctx *c, const char *key)
{
	size_t old = c->path.len;

	if (old)
		buf_putc(&c->path, '.');
	buf_printf(&c->path, "%.200s", key);
	return old;
}

size_t path_index(struct pctx *c, size_t i)
{
	size_t old = c->path.len;

	buf_printf(&c->path, "[%zu]", i);
	return old;
}

void path_pop(struct pctx *c, size_t old)
{
	c->path.len = old;
	if (c->path.ptr)
		c->path.ptr[old] = '\0';
}

/* ---- ${VAR} interpolation ---- */

static const char *lookup_var(struct pctx *c, const char *name)
{
	const char *v;
	size_t lo, hi;

	if (c->opts && c->opts->getenv)
		v = c->opts->getenv(name, c->opts->getenv_ctx);
	else
		v = getenv(name);
	/* compose: the environment wins over the .env file (sorted, one
	 * entry per key) */
	if (v || !c->dotenv)
		return v;
	for (lo = 0, hi = c->dotenv->n; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(c->dotenv->v[mid].key, name);

		if (!r)
			return c->dotenv->v[mid].value;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *pctx_lookup_var(struct pctx *c, const struct ynode *n,
			    const char *name)
{
	const char *why = manifest_check_var_access(name, c->opts);

	if (why) {
		perr(c, n, "variable '%s' %s", name, why);
		return NULL;
	}
	return lookup_var(c, name);
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
	if (k < end && (s[k] == '-' || s[k] == '?' || (c->compose && s[k] == '+')))
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
	if (op == '+') {
		/* ${VAR:+alt}, ${VAR+alt}: alt when set (and not empty) */
		if (val && (!colon || *val) &&
		    expand(c, n, word, wl, out, depth + 1) < 0)
			goto out;
	} else if (op == '-' && (!val || (colon && !*val))) {
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
	} else if (!val && !op && c->compose) {
		pwarn(c, n, "variable '%s' is not set: an empty string is used (as "
		      "compose does)", name);
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

/* Compose's bare "$NAME", s[i] == '$'; anything else after '$' is an error
 * there, as in compose. */
static int expand_bare(struct pctx *c, const struct ynode *n, const char *s,
		       size_t len, size_t i, size_t *next, struct buf *out)
{
	size_t k = i + 1;
	const char *val, *why;
	char *name;

	if (k < len && (isalpha((unsigned char)s[k]) || s[k] == '_'))
		while (k < len && (isalnum((unsigned char)s[k]) || s[k] == '_'))
			k++;
	if (k == i + 1 || k - i > 257) {
		perr(c, n, "invalid interpolation '%.*s' (write '$$' for a literal "
		     "'$')", (int)(len - i > 16 ? 16 : len - i), s + i);
		return -1;
	}
	name = xstrndup(s + i + 1, k - i - 1);
	if ((why = manifest_check_var_access(name, c->opts))) {
		perr(c, n, "variable '%s' %s", name, why);
		free(name);
		return -1;
	}
	if ((val = lookup_var(c, name)))
		buf_puts(out, val);
	else
		pwarn(c, n, "variable '%s' is not set: an empty string is used (as "
		      "compose does)", name);
	free(name);
	*next = k;
	return 0;
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
		} else if (c->compose) {
			if (expand_bare(c, n, s, len, j, &i, out) < 0)
				return -1;
		} else {
			buf_putc(out, '$');
			i = j + 1;
		}
		if (out->len > YAML_MAX_SCALAR) {
			perr(c, n, "value longer than %zu bytes after interpolation",
			     YAML_MAX_SCALAR);
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
		perr(c, n, "must be %s, not %s", want, ynode_type_name(n));
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

char *get_str(struct pctx *c, const struct ynode *n)
{
	return scalar_text(c, n, "a string");
}

bool get_int(struct pctx *c, const struct ynode *n, long long min,
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

bool get_bool(struct pctx *c, const struct ynode *n, bool *out)
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

bool get_duration(struct pctx *c, const struct ynode *n, int64_t *out)
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
bool get_strlist(struct pctx *c, const struct ynode *n, struct strvec *out)
{
	size_t i, o;
	bool ok = true;

	strvec_release(out);
	if (n->type != Y_SEQ) {
		perr(c, n, "must be a list of strings, not %s", ynode_type_name(n));
		return false;
	}
	for (i = 0; i < n->n; i++) {
		char *t;

		o = path_index(c, i);
		if (ynode_is_null(n->kid[i])) {
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


static void unknown_field(struct pctx *c, const struct ynode *key,
			  const struct field *f)
{
	size_t k, best = SIZE_MAX, bd = SIZE_MAX;

	/* "x-..." keys are extension fields (as in Compose), e.g. for anchors */
	if (!strncmp(key->str, "x-", 2))
		return;
	if (c->compose && !c->cara_fields) {
		/* a dropped cap_add or privileged would give another container
		 * than the one reviewed */
		perr(c, key, "not supported by cara: %.64s", key->str);
		return;
	}
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
bool walk_map(struct pctx *c, const struct ynode *n, const struct field *f,
	      void *obj)
{
	const struct ynode *key_of[MAX_FIELDS] = { 0 }, *val_of[MAX_FIELDS] = { 0 };
	size_t i, k, o;

	for (k = 0; f[k].key; k++)
		if (k + 1 >= MAX_FIELDS)
			abort();   /* a table longer than MAX_FIELDS: a bug here */
	if (n->type != Y_MAP) {
		perr(c, n, "must be a mapping, not %s", ynode_type_name(n));
		return false;
	}
	for (i = 0; i + 1 < n->n; i += 2) {
		const struct ynode *key = n->kid[i], *val = n->kid[i + 1];

		if (key->type != Y_SCALAR) {
			perr(c, key, "a key must be a string, not %s", ynode_type_name(key));
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
			if (!ynode_is_null(val))
				convert_field(c, &f[k], val, obj);
		}
		path_pop(c, o);
	}
	for (k = 0; f[k].key; k++) {
		if (!f[k].required || (val_of[k] && !ynode_is_null(val_of[k])))
			continue;
		o = path_key(c, f[k].key);
		perr(c, key_of[k] ? key_of[k] : n, "required");
		path_pop(c, o);
	}
	return true;
}

/* Call item(c, node, obj) for each element of list n. */
void walk_list(struct pctx *c, const struct ynode *n, field_fn *item, void *obj)
{
	size_t i, o;

	if (n->type != Y_SEQ) {
		perr(c, n, "must be a list, not %s", ynode_type_name(n));
		return;
	}
	for (i = 0; i < n->n; i++) {
		o = path_index(c, i);
		item(c, n->kid[i], obj);
		path_pop(c, o);
	}
}

/* A mapping of strings (labels, annotations) into l. */
static int kv_cmp(const void *a, const void *b)
{
	const struct kv *x = *(const struct kv *const *)a;
	const struct kv *y = *(const struct kv *const *)b;
	int r = strcmp(x->key, y->key);

	return r ? r : (x < y ? -1 : x > y);
}

void get_kvlist(struct pctx *c, const struct ynode *n, struct kvlist *l,
		bool service_labels)
{
	const struct kv **sorted;
	size_t i, o;

	if (n->type != Y_MAP) {
		perr(c, n, "must be a mapping of strings, not %s", ynode_type_name(n));
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
		if ((v = ynode_is_null(val) ? xstrdup("") : get_str(c, val))) {
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
bool pick(struct pctx *c, const struct ynode *v, const char *t,
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

