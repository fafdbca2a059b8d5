/*
 * source/dir.c - the local directory source: the same snapshot as a git
 * commit (source.h), with the same file-name rule and caps.  Every
 * *.yaml / *.yml below the directory, recursively and sorted; names
 * starting with '.' skipped (but .env and .dockerignore); a symbolic link followed only while
 * it stays inside the tree; a directory reached twice read once.  A compose
 * file given alone is read with the .env and *.env files beside it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/source.h"
#include "util.h"

#define MAX_DIR_DEPTH 32

struct dirwalk {
	struct source_snapshot *out;
	const char *top;          /* as given */
	char *real;               /* its real path */
	struct strvec files;      /* relative to top */
	struct strvec extra;      /* the other regular files */
	unsigned full;            /* files past SOURCE_MAX_FILES */
	struct dirid { dev_t dev; ino_t ino; bool used; } *seen;   /* hash set */
	size_t nseen, capseen;
};

static void walk_problem(struct dirwalk *w, const char *rel, bool error,
			 const char *fmt, ...) PRINTF_LIKE(4, 5);
static void walk_problem(struct dirwalk *w, const char *rel, bool error,
			 const char *fmt, ...)
{
	struct buf m = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&m, fmt, ap);
	va_end(ap);
	source_snapshot_add_problem(w->out, xstrdup(rel), buf_detach(&m), !error);
}

static bool inside(const struct dirwalk *w, const char *real)
{
	size_t n = strlen(w->real);

	if (n == 1)
		return true;
	return !strncmp(real, w->real, n) && (real[n] == '/' || !real[n]);
}

static size_t dirid_slot(const struct dirwalk *w, dev_t dev, ino_t ino)
{
	size_t i = ((size_t)ino * 0x9e3779b97f4a7c15ULL ^ (size_t)dev) &
		   (w->capseen - 1);

	while (w->seen[i].used && (w->seen[i].dev != dev || w->seen[i].ino != ino))
		i = (i + 1) & (w->capseen - 1);
	return i;
}

/* Was this directory visited already (a symbolic link back into the tree)? */
static bool seen_dir(struct dirwalk *w, const struct stat *st)
{
	size_t i;

	if (2 * (w->nseen + 1) > w->capseen) {
		struct dirwalk old = *w;

		w->capseen = w->capseen ? 2 * w->capseen : 64;
		w->seen = xcalloc(w->capseen, sizeof(*w->seen));
		for (i = 0; i < old.capseen; i++)
			if (old.seen[i].used)
				w->seen[dirid_slot(w, old.seen[i].dev,
						   old.seen[i].ino)] = old.seen[i];
		free(old.seen);
	}
	i = dirid_slot(w, st->st_dev, st->st_ino);
	if (w->seen[i].used)
		return true;
	w->seen[i].dev = st->st_dev;
	w->seen[i].ino = st->st_ino;
	w->seen[i].used = true;
	w->nseen++;
	return false;
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect(struct dirwalk *w, const char *rel, int depth);

/* One directory entry: rel is its path relative to the top. */
static void collect_entry(struct dirwalk *w, const char *rel, int depth)
{
	char *full = xasprintf("%s/%s", w->top, rel), *real = NULL;
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	struct stat st;

	if (lstat(full, &st) < 0) {
		walk_problem(w, rel, true, "cannot read: %s", strerror(errno));
		goto out;
	}
	if (S_ISLNK(st.st_mode) && !source_manifest_name(base)) {
		struct stat t;

		/* a file to mount must be the source's own: no link is
		 * mounted (a link to a directory is still walked for
		 * manifests, as before) */
		source_snapshot_refuse(w->out, xstrdup(rel), xstrdup("a symbolic "
				       "link: cara mounts no links"));
		if (stat(full, &t) < 0 || !S_ISDIR(t.st_mode))
			goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		if (!(real = realpath(full, NULL)) || stat(real, &st) < 0) {
			if (source_manifest_name(base))
				walk_problem(w, rel, true, "symbolic link cannot be "
					     "followed: %s", strerror(errno));
			goto out;
		}
		if (!inside(w, real)) {
			if (source_manifest_name(base) || S_ISDIR(st.st_mode))
				walk_problem(w, rel, source_manifest_name(base),
					     "symbolic link leaves the manifest "
					     "directory (to '%s'): refused", real);
			goto out;
		}
	}
	if (S_ISDIR(st.st_mode)) {
		if (!seen_dir(w, &st))
			collect(w, rel, depth + 1);
	} else if (source_manifest_name(base)) {
		if (w->files.n < SOURCE_MAX_FILES)
			strvec_push(&w->files, rel);
		else if (!w->full++)
			walk_problem(w, rel, true, "more than %d manifest files: this "
				     "one and the rest are not read", SOURCE_MAX_FILES);
	} else if (S_ISREG(st.st_mode)) {
		strvec_push(&w->extra, rel);
	}
out:
	free(real);
	free(full);
}

static void collect(struct dirwalk *w, const char *rel, int depth)
{
	char *path = rel ? xasprintf("%s/%s", w->top, rel) : xstrdup(w->top);
	struct strvec names = STRVEC_INIT;
	struct dirent *de;
	DIR *dir;
	size_t i;

	if (depth > MAX_DIR_DEPTH) {
		walk_problem(w, rel, true, "directories nested deeper than %d "
			     "levels: not read", MAX_DIR_DEPTH);
		goto out;
	}
	if (!(dir = opendir(path))) {
		walk_problem(w, rel ? rel : ".", true, "cannot read directory: %s",
			     strerror(errno));
		goto out;
	}
	while ((de = readdir(dir)))
		/* not ., .., .git, .github, dotfiles; but .env, .dockerignore */
		if (source_kept_name(de->d_name))
			strvec_push(&names, de->d_name);
	closedir(dir);
	if (names.n > 1)
		qsort(names.v, names.n, sizeof(*names.v), strp_cmp);
	for (i = 0; i < names.n; i++) {
		char *child = rel ? xasprintf("%s/%s", rel, names.v[i]) :
			      xstrdup(names.v[i]);

		collect_entry(w, child, depth);
		free(child);
	}
out:
	strvec_release(&names);
	free(path);
}

/* Read one file into the snapshot, or say why not. */
static void read_one(struct dirwalk *w, const char *path, const char *shown,
		     size_t max)
{
	struct buf data = BUF_INIT;

	if (read_regular_file(path, max, &data) < 0) {
		source_snapshot_add_problem(w->out, xstrdup(shown),
			errno == EFBIG ? xasprintf("file is larger than %zu bytes: "
						   "refused", max) :
			errno == EINVAL ? xstrdup("cannot read: not a regular file") :
			xasprintf("cannot read: %s", strerror(errno)), false);
	} else if (!source_snapshot_room(w->out, data.len)) {
		source_snapshot_add_problem(w->out, xstrdup(shown),
					    source_total_message(), false);
	} else {
		source_snapshot_add_file(w->out, xstrdup(shown), &data);
	}
	buf_release(&data);
}

/* One of the other files, if there is room for it (source.h). */
static void read_extra(struct dirwalk *w, const char *top, const char *rel)
{
	char *full = xasprintf("%s/%s", top, rel);
	struct buf data = BUF_INIT;
	struct stat st;

	if (!source_extra_room(w->out, 0)) {
		source_snapshot_add_extra(w->out, xstrdup(rel), &data, false);
	} else if (read_regular_file(full, SOURCE_MAX_FILE_BYTES, &data) < 0) {
		source_snapshot_refuse(w->out, xstrdup(rel), errno == EFBIG ?
			xasprintf("larger than %zu MiB: not kept",
				  SOURCE_MAX_FILE_BYTES >> 20) :
			xasprintf("cannot read: %s", strerror(errno)));
	} else {
		bool exec = lstat(full, &st) == 0 && (st.st_mode & 0111);

		source_snapshot_add_extra(w->out, xstrdup(rel), &data, exec);
	}
	buf_release(&data);
	free(full);
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct source_file *)a)->path,
		      ((const struct source_file *)b)->path);
}

/* The non-YAML files the name rule keeps beside the one file `file`;
 * symbolic links are refused (there is no tree for them to stay in). */
static void read_siblings(struct dirwalk *w, const char *file, size_t max)
{
	const char *slash = strrchr(file, '/');
	char *dir = slash ? xstrndup(file, (size_t)(slash - file) + 1) : xstrdup("");
	struct strvec names = STRVEC_INIT;
	struct dirent *de;
	struct stat st;
	DIR *d;
	size_t i;

	if (!(d = opendir(*dir ? dir : ".")))
		goto out;
	while ((de = readdir(d)))
		if (source_manifest_name(de->d_name) && !source_yaml_name(de->d_name))
			strvec_push(&names, de->d_name);
	closedir(d);
	for (i = 0; i < names.n && i < SOURCE_MAX_FILES; i++) {
		char *path = xasprintf("%s%s", dir, names.v[i]);

		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
			walk_problem(w, path, true, "a symbolic link beside the file: "
				     "refused");
		else
			read_one(w, path, path, max);
		free(path);
	}
	if (w->out->nfiles > 1)
		qsort(w->out->files, w->out->nfiles, sizeof(*w->out->files), file_cmp);
out:
	strvec_release(&names);
	free(dir);
}

int source_read_dir(struct source_snapshot *out, const char *dir,
		    size_t max_file_bytes)
{
	struct dirwalk w;
	struct stat st;
	size_t i, max = max_file_bytes ? max_file_bytes : SOURCE_MAX_FILE_BYTES;
	DIR *top;

	memset(out, 0, sizeof(*out));
	memset(&w, 0, sizeof(w));
	w.out = out;
	w.top = dir;
	if (stat(dir, &st) < 0)
		return error_set("cannot read '%s': %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		/* a single file, shown as given; a compose file with the
		 * files beside it that the name rule keeps and that are not
		 * YAML (its .env and env_file) */
		read_one(&w, dir, dir, max);
		if (source_compose_rank(strrchr(dir, '/') ? strrchr(dir, '/') + 1 :
					dir) >= 0)
			read_siblings(&w, dir, max);
		return 0;
	}
	if (!(w.real = realpath(dir, NULL)) || !(top = opendir(dir))) {
		error_set("cannot read '%s': %s", dir, strerror(errno));
		free(w.real);
		return -1;
	}
	closedir(top);
	seen_dir(&w, &st);
	collect(&w, NULL, 0);
	if (w.files.n > 1)
		qsort(w.files.v, w.files.n, sizeof(*w.files.v), strp_cmp);
	for (i = 0; i < w.files.n; i++) {
		char *full = xasprintf("%s/%s", dir, w.files.v[i]);

		read_one(&w, full, w.files.v[i], max);
		free(full);
	}
	for (i = 0; i < w.extra.n; i++)
		read_extra(&w, dir, w.extra.v[i]);
	source_snapshot_sort_extra(out);
	strvec_release(&w.extra);
	strvec_release(&w.files);
	free(w.seen);
	free(w.real);
	return 0;
}
