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

const struct source_file *source_snapshot_find(const struct source_snapshot *s,
					       const char *path)
{
	size_t lo = 0, hi = s->nfiles;

	/* files are sorted by path (strcmp) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(s->files[mid].path, path);

		if (!r)
			return &s->files[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
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
	free(s->subject);
	free(s->signer);
	memset(s, 0, sizeof(*s));
}
