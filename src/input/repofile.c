/*
 * input/repofile.c - files of the source that a project mounts: compose's
 * relative binds and configs, a Project's File volumes.  Both readers
 * come here, so one rule decides what may be mounted: a regular file (or
 * a directory of them) of the same snapshot, by a path relative to the
 * manifest that neither is absolute nor leaves the source, with no
 * symbolic link on the way or inside.  The content is copied into the
 * model (the snapshot does not outlive the reading) and hashed
 * (files_digest), so that the spec hash of the services mounting it
 * changes exactly when the content or the mode does.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "input/schema.h"
#include "source/source.h"

char *input_dir_of(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? xstrndup(path, (size_t)(s - path) + 1) : xstrdup("");
}

char *input_join_rel(const char *dir, const char *rel)
{
	struct strvec parts = STRVEC_INIT;
	struct buf all = BUF_INIT, out = BUF_INIT;
	char *s, *t, *save;
	size_t i;

	buf_printf(&all, "%s/%s", dir, rel);
	s = buf_detach(&all);
	for (t = s; t; t = save) {
		save = strchr(t, '/');
		if (save)
			*save++ = '\0';
		if (!*t || !strcmp(t, "."))
			continue;
		if (!strcmp(t, "..")) {
			if (!parts.n) {
				free(s);
				strvec_release(&parts);
				return NULL;
			}
			free(parts.v[--parts.n]);
			continue;
		}
		strvec_push(&parts, t);
	}
	for (i = 0; i < parts.n; i++)
		buf_printf(&out, "%s%s", i ? "/" : "", parts.v[i]);
	free(s);
	strvec_release(&parts);
	return out.ptr ? buf_detach(&out) : xstrdup("");
}

static void put_entry(struct volume *v, const char *path,
		      const struct source_file *f)
{
	struct file_entry *e;

	GROW(v->files, v->capfiles, v->nfiles + 1);
	e = &v->files[v->nfiles++];
	e->path = xstrdup(path);
	e->data = xmalloc(f->len + 1);
	memcpy(e->data, f->data, f->len);
	e->data[f->len] = '\0';
	e->len = f->len;
	e->exec = f->exec;
}

/* The files of arr under prefix ("dir/") into v. */
static void put_under(struct volume *v, const struct source_file *arr, size_t n,
		      const char *prefix)
{
	size_t i, pl = strlen(prefix);

	for (i = 0; i < n; i++)
		if (!pl || !strncmp(arr[i].path, prefix, pl))
			put_entry(v, arr[i].path + pl, &arr[i]);
}

static int entry_by_path(const void *a, const void *b)
{
	return strcmp(((const struct file_entry *)a)->path,
		      ((const struct file_entry *)b)->path);
}

void files_digest(struct volume *v)
{
	struct sha256 h;
	unsigned char md[32];
	char num[64];
	size_t i;

	if (v->nfiles > 1)
		qsort(v->files, v->nfiles, sizeof(*v->files), entry_by_path);
	sha256_init(&h);
	sha256_update(&h, "cara/files/1", 13);
	snprintf(num, sizeof(num), "%d:%o:%zu;", v->is_dir, (unsigned)v->file_mode,
		 v->nfiles);
	sha256_update(&h, num, strlen(num));
	for (i = 0; i < v->nfiles; i++) {
		const struct file_entry *e = &v->files[i];

		snprintf(num, sizeof(num), "%zu:%d:%zu;", strlen(e->path), e->exec,
			 e->len);
		sha256_update(&h, num, strlen(num));
		sha256_update(&h, e->path, strlen(e->path));
		sha256_update(&h, e->data, e->len);
	}
	sha256_final(&h, md);
	memcpy(v->digest, "sha256-", 7);
	for (i = 0; i < 32; i++)
		snprintf(v->digest + 7 + 2 * i, 3, "%02x", md[i]);
}

/* Is there a refused entry (a link) at path, above it or below it? */
static const char *link_on_the_way(const struct source_snapshot *s,
				   const char *path)
{
	size_t i, n = strlen(path);

	for (i = 0; i < s->nrefused; i++) {
		const char *r = s->refused[i].path;
		size_t rn = strlen(r);

		if (!strcmp(r, path) ||
		    (rn < n && !strncmp(path, r, rn) && path[rn] == '/') ||
		    (!n || (rn > n && !strncmp(r, path, n) && r[n] == '/')))
			return r;
	}
	return NULL;
}

bool input_file_volume(struct pctx *c, const struct ynode *at,
		       struct volume *v, const char *rel)
{
	const struct source_snapshot *s = c->snap;
	const struct source_file *f;
	char *dir = NULL, *path = NULL, *prefix = NULL;
	/* relative to the file it is written in: an override, an extends
	 * or an include may be in another directory than c->file */
	const char *file = at && at->file ? at->file : c->file;
	const char *why;
	bool ok = false;

	if (!*rel || *rel == '/' || *rel == '~') {
		perr(c, at, "'%.64s': a file of the source is named by a path "
		     "relative to '%s'", rel, file);
		goto out;
	}
	dir = input_dir_of(file);
	if (!(path = input_join_rel(dir, rel))) {
		perr(c, at, "'%.64s' leaves the source: only files of the source "
		     "are mounted", rel);
		goto out;
	}
	if (!s) {
		perr(c, at, "'%.64s': the source's files are not at hand", rel);
		goto out;
	}
	if ((why = link_on_the_way(s, path))) {
		const char *m = source_snapshot_refused(s, why);

		perr(c, at, "'%.64s': '%s' is %s", rel, why,
		     m && !strncmp(m, "a symbolic link", 15) ? "a symbolic link: "
		     "cara mounts no links" : m ? m : "refused");
		goto out;
	}
	v->type = VOLUME_FILE;
	v->source_path = xstrdup(path);
	if ((f = source_snapshot_find_any(s, path))) {
		put_entry(v, "", f);
	} else {
		prefix = *path ? xasprintf("%s/", path) : xstrdup("");
		put_under(v, s->files, s->nfiles, prefix);
		put_under(v, s->extra, s->nextra, prefix);
		if (!v->nfiles) {
			perr(c, at, "'%.64s' is not in the source (%s): a file to "
			     "mount must be a regular file of the same commit or "
			     "directory", rel, *path ? path : ".");
			goto out;
		}
		v->is_dir = true;
	}
	files_digest(v);
	ok = true;
out:
	free(prefix);
	free(path);
	free(dir);
	return ok;
}

/* ---- Dockerfile FROM lines ---- */

/* The next word of *p (spaces skipped), or NULL at the end. */
static char *next_word(const char **p)
{
	const char *s = *p, *e;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return NULL;
	for (e = s; *e && *e != ' ' && *e != '\t'; e++)
		;
	*p = e;
	return xstrndup(s, (size_t)(e - s));
}

static bool is_stage(const struct strvec *stages, const char *ref)
{
	size_t i;

	for (i = 0; i < stages->n; i++)
		if (!strcasecmp(stages->v[i], ref))
			return true;
	return false;
}

void dockerfile_from_images(const char *text, size_t len, struct strvec *out)
{
	struct strvec stages = STRVEC_INIT;
	struct buf line = BUF_INIT;
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end, *s;
		char *word, *ref, *as, *name;
		size_t n;

		/* a line ending in a backslash goes on (comment lines do not) */
		n = (size_t)(e - p);
		while (n && (p[n - 1] == '\r' || p[n - 1] == ' '))
			n--;
		if (n && p[n - 1] == '\\') {
			buf_add(&line, p, n - 1);
			p = nl ? nl + 1 : end;
			continue;
		}
		buf_add(&line, p, n);
		p = nl ? nl + 1 : end;
		s = buf_cstr(&line);
		word = next_word(&s);
		if (!word || strcasecmp(word, "FROM")) {
			free(word);
			buf_reset(&line);
			continue;
		}
		free(word);
		while ((ref = next_word(&s)) && !strncmp(ref, "--", 2))
			free(ref);   /* --platform=... */
		as = ref ? next_word(&s) : NULL;
		name = as && !strcasecmp(as, "AS") ? next_word(&s) : NULL;
		if (ref && !strchr(ref, '$') && strcmp(ref, "scratch") &&
		    !is_stage(&stages, ref)) {
			const char *last = strrchr(ref, '/');
			char *want;

			last = last ? last + 1 : ref;
			want = !strchr(last, ':') && !strchr(ref, '@') ?
			       xasprintf("%s:latest", ref) : xstrdup(ref);
			if (strvec_has(out, want))
				free(want);
			else
				strvec_push_nodup(out, want);
		}
		if (name)   /* a stage: compared without regard to case */
			strvec_push_nodup(&stages, name);
		free(as);
		free(ref);
		buf_reset(&line);
	}
	strvec_release(&stages);
	buf_release(&line);
}

/* ---- .dockerignore ---- */

void dockerignore_parse(const char *text, size_t len, struct strvec *out)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		char *line, *clean;
		bool neg = false;
		size_t n;

		while (p < e && isspace((unsigned char)*p))
			p++;
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		n = (size_t)(e - p);
		if (n && *p != '#') {
			line = xstrndup(p, n);
			if (*line == '!')
				neg = true;
			/* cleaned as a path: no leading '/', no "." or ".." parts */
			clean = input_join_rel("", line + neg);
			if (clean && *clean)
				strvec_push_nodup(out, neg ? xasprintf("!%s", clean) :
						  xstrdup(clean));
			free(clean);
			free(line);
		}
		p = nl ? nl + 1 : end;
	}
}

/* Do the segments pat[pi..np) match seg[si..ns)?  "**" spans any number
 * of segments, the others are fnmatch patterns of one segment. */
static bool match_segments(char **pat, size_t pi, size_t np, char **seg,
			   size_t si, size_t ns)
{
	for (; pi < np; pi++, si++) {
		if (!strcmp(pat[pi], "**")) {
			size_t k;

			for (k = si; k <= ns; k++)
				if (match_segments(pat, pi + 1, np, seg, k, ns))
					return true;
			return false;
		}
		if (si >= ns || fnmatch(pat[pi], seg[si], 0))
			return false;
	}
	return si == ns;
}

static void split_path(const char *s, struct strvec *out)
{
	const char *p = s, *slash;

	while (*p) {
		slash = strchr(p, '/');
		strvec_push_nodup(out, slash ? xstrndup(p, (size_t)(slash - p)) :
				  xstrdup(p));
		if (!slash)
			break;
		p = slash + 1;
	}
}

bool dockerignore_excludes(const struct strvec *patterns, const char *path)
{
	struct strvec seg = STRVEC_INIT;
	bool out = false;
	size_t i, k;

	split_path(path, &seg);
	for (i = 0; i < patterns->n; i++) {
		const char *p = patterns->v[i];
		bool neg = *p == '!';
		struct strvec pat = STRVEC_INIT;

		split_path(p + neg, &pat);
		/* the path itself, or a directory it is in */
		for (k = seg.n; k >= 1; k--)
			if (match_segments(pat.v, 0, pat.n, seg.v, 0, k)) {
				out = !neg;
				break;
			}
		strvec_release(&pat);
	}
	strvec_release(&seg);
	return out;
}
