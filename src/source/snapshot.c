/*
 * snapshot.c - the snapshot every source returns (source.h): its files
 * and problems, the one file-name rule and the caps both sources apply.
 */
#include <stdlib.h>
#include <string.h>

#include "source/source.h"
#include "util.h"

void source_snapshot_add_problem(struct source_snapshot *s, char *path,
				 char *message, bool warning)
{
	GROW(s->problems, s->capproblems, s->nproblems + 1);
	s->problems[s->nproblems].path = path;
	s->problems[s->nproblems].message = message;
	s->problems[s->nproblems].warning = warning;
	s->nproblems++;
}

bool source_snapshot_room(const struct source_snapshot *s, size_t len)
{
	return len <= SOURCE_MAX_TOTAL_BYTES - s->total_bytes;
}

char *source_total_message(void)
{
	return xasprintf("the manifests add up to more than %zu MiB: this file is "
			 "not read", SOURCE_MAX_TOTAL_BYTES >> 20);
}

void source_snapshot_add_file(struct source_snapshot *s, char *path,
			      struct buf *data)
{
	struct source_file *f;

	GROW(s->files, s->capfiles, s->nfiles + 1);
	f = &s->files[s->nfiles++];
	f->len = data->len;
	f->data = data->ptr ? buf_detach(data) : xstrdup("");
	f->path = path;
	/* a manifest's mode was never read: not executable (GROW does not
	 * zero, and a File volume that mounts it hashes this bit) */
	f->exec = false;
	s->total_bytes += f->len;
}

/*
 * The one file-name rule: *.yaml and *.yml (manifests and compose files),
 * plus the files compose reads beside them: .env and *.env (env_file).
 * Other names starting with '.' are not kept (.git, .github, .gitlab-ci.yml).
 */
bool source_manifest_name(const char *name)
{
	size_t n = strlen(name);

	if (!strcmp(name, ".env"))
		return true;
	if (name[0] == '.')
		return false;
	return (n > 5 && !strcmp(name + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(name + n - 4, ".yml")) ||
	       (n > 4 && !strcmp(name + n - 4, ".env"));
}

bool source_kept_name(const char *name)
{
	return name[0] != '.' || source_manifest_name(name) ||
	       !strcmp(name, ".dockerignore");
}

const char *const source_compose_names[SOURCE_COMPOSE_NAMES] = {
	"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml",
};

int source_compose_rank(const char *name)
{
	int i;

	for (i = 0; i < SOURCE_COMPOSE_NAMES; i++)
		if (!strcmp(name, source_compose_names[i]))
			return i;
	return -1;
}

bool source_yaml_name(const char *name)
{
	size_t n = strlen(name);

	return source_manifest_name(name) && n > 4 && strcmp(name + n - 4, ".env");
}

static const struct source_file *find_in(const struct source_file *v, size_t n,
					  const char *path)
{
	size_t lo = 0, hi = n;

	/* sorted by path (strcmp) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(v[mid].path, path);

		if (!r)
			return &v[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct source_file *source_snapshot_find(const struct source_snapshot *s,
					       const char *path)
{
	return find_in(s->files, s->nfiles, path);
}

const struct source_file *source_snapshot_find_any(const struct source_snapshot *s,
						   const char *path)
{
	const struct source_file *f = find_in(s->files, s->nfiles, path);

	return f ? f : find_in(s->extra, s->nextra, path);
}

const char *source_snapshot_refused(const struct source_snapshot *s,
				    const char *path)
{
	size_t i;

	for (i = 0; i < s->nrefused; i++)
		if (!strcmp(s->refused[i].path, path))
			return s->refused[i].message;
	return NULL;
}

bool source_extra_room(const struct source_snapshot *s, size_t len)
{
	return s->nextra < SOURCE_MAX_EXTRA_FILES &&
	       len <= SOURCE_MAX_FILE_BYTES &&
	       len <= SOURCE_MAX_EXTRA_BYTES - s->extra_bytes;
}

void source_snapshot_refuse(struct source_snapshot *s, char *path, char *why)
{
	GROW(s->refused, s->caprefused, s->nrefused + 1);
	s->refused[s->nrefused].path = path;
	s->refused[s->nrefused].message = why;
	s->refused[s->nrefused].warning = true;
	s->nrefused++;
}

void source_snapshot_add_extra(struct source_snapshot *s, char *path,
			       struct buf *data, bool exec)
{
	struct source_file *f;

	if (!source_extra_room(s, data->len)) {
		source_snapshot_refuse(s, path, data->len > SOURCE_MAX_FILE_BYTES ?
			xasprintf("larger than %zu MiB: not kept",
				  SOURCE_MAX_FILE_BYTES >> 20) :
			xasprintf("past the caps on files that are not manifests "
				  "(%zu MiB, %d files): not kept",
				  SOURCE_MAX_EXTRA_BYTES >> 20, SOURCE_MAX_EXTRA_FILES));
		buf_release(data);
		return;
	}
	GROW(s->extra, s->capextra, s->nextra + 1);
	f = &s->extra[s->nextra++];
	f->len = data->len;
	f->data = data->ptr ? buf_detach(data) : xstrdup("");
	f->path = path;
	f->exec = exec;
	s->extra_bytes += f->len;
}

static int file_by_path(const void *a, const void *b)
{
	return strcmp(((const struct source_file *)a)->path,
		      ((const struct source_file *)b)->path);
}

void source_snapshot_sort_extra(struct source_snapshot *s)
{
	if (s->nextra > 1)
		qsort(s->extra, s->nextra, sizeof(*s->extra), file_by_path);
}

void source_snapshot_release(struct source_snapshot *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->nfiles; i++) {
		free(s->files[i].path);
		free(s->files[i].data);
	}
	free(s->files);
	for (i = 0; i < s->nproblems; i++) {
		free(s->problems[i].path);
		free(s->problems[i].message);
	}
	free(s->problems);
	for (i = 0; i < s->nextra; i++) {
		free(s->extra[i].path);
		free(s->extra[i].data);
	}
	free(s->extra);
	for (i = 0; i < s->nrefused; i++) {
		free(s->refused[i].path);
		free(s->refused[i].message);
	}
	free(s->refused);
	free(s->subject);
	free(s->signer);
	memset(s, 0, sizeof(*s));
}
