/*
 * files.c - the copies of source files under {state_dir}/files (files.h).
 *
 * Invariants: a directory sha256-HEX is only ever created by a rename of
 * a complete, fsynced copy, and never changed after; everything is
 * reached through directory descriptors opened with O_NOFOLLOW, so a
 * link planted below files/ is never followed (neither when writing nor
 * when removing).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"

static pthread_mutex_t pass_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t pass_bytes;          /* written by this process */

static const char *entry_name(const struct volume *v)
{
	const char *s = v->source_path ? strrchr(v->source_path, '/') : NULL;

	if (!v->source_path || !*v->source_path)
		return "files";
	return s ? s + 1 : v->source_path;
}

int files_mode(const struct volume *v, const struct file_entry *e)
{
	return v->file_mode ? v->file_mode : e->exec ? 0555 : 0444;
}

char *files_path(const char *files_dir, const struct volume *v)
{
	return xasprintf("%s/%s/%s", files_dir, v->digest, entry_name(v));
}

/* The files directory, made when missing; -1 when it is not a real one. */
static int open_files_dir(const char *dir)
{
	struct stat st;
	int fd;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return error_set("cannot make '%s': %s", dir, strerror(errno));
	if (lstat(dir, &st) < 0)
		return error_set("cannot read '%s': %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return error_set("'%s' is not a directory (a symbolic link is "
				 "refused): cara keeps the files it mounts there", dir);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return error_set("cannot open '%s': %s", dir, strerror(errno));
	return fd;
}

/* Remove name below dirfd, a tree, without following links. */
static int rm_tree(int at, const char *name)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd, rc = 0;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0);
	if ((fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			 O_CLOEXEC)) < 0)
		return -1;
	(void)fchmod(fd, 0700);
	if (!(d = fdopendir(fd))) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    rm_tree(dirfd(d), de->d_name) < 0)
			rc = -1;
	closedir(d);
	if (rc == 0 && unlinkat(at, name, AT_REMOVEDIR) < 0)
		rc = -1;
	return rc;
}

/* mkdir -p of the directories of rel below dirfd (each 0755 for now). */
static int make_parents(int at, const char *rel)
{
	char *p = xstrdup(rel), *s;
	int rc = 0;

	for (s = strchr(p, '/'); s && rc == 0; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdirat(at, p, 0755) < 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	free(p);
	return rc;
}

static int write_file(int at, const char *rel, const struct file_entry *e,
		      int mode)
{
	int fd, rc = -1;

	if (make_parents(at, rel) < 0)
		return -1;
	fd = openat(at, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write_full(fd, e->data, e->len) == 0 && fchmod(fd, (mode_t)mode) == 0 &&
	    fsync(fd) == 0)
		rc = 0;
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

/* Make every directory below fd 0555 (after the files are in), fsynced. */
static int seal_dirs(int fd)
{
	struct dirent *de;
	DIR *d;
	int dup_fd = dup(fd), rc = 0;

	if (dup_fd < 0 || !(d = fdopendir(dup_fd))) {
		if (dup_fd >= 0)
			close(dup_fd);
		return -1;
	}
	while ((de = readdir(d))) {
		struct stat st;
		int sub;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode))
			continue;
		if ((sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY |
				  O_NOFOLLOW | O_CLOEXEC)) < 0 ||
		    seal_dirs(sub) < 0)
			rc = -1;
		if (sub >= 0)
			close(sub);
	}
	closedir(d);
	if (fsync(fd) < 0 || fchmod(fd, 0555) < 0)
		rc = -1;
	return rc;
}

static int materialise_one(int top, const char *files_dir, const struct volume *v)
{
	char tmp[96];
	struct stat st;
	const char *name = entry_name(v);
	size_t i, total = 0;
	int fd = -1, rc = -1, saved;

	if (fstatat(top, v->digest, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode))
		return 0;       /* content-addressed: in place means complete */
	for (i = 0; i < v->nfiles; i++)
		total += v->files[i].len;
	pthread_mutex_lock(&pass_lock);
	if (total > FILES_MAX_PASS_BYTES - pass_bytes) {
		pthread_mutex_unlock(&pass_lock);
		return error_set("'%s': the files to mount add up to more than "
				 "%zu MiB in one pass", v->source_path,
				 FILES_MAX_PASS_BYTES >> 20);
	}
	pass_bytes += total;
	pthread_mutex_unlock(&pass_lock);
	snprintf(tmp, sizeof(tmp), ".tmp-%.20s-%ld-%lx", v->digest + 7,
		 (long)getpid(), (unsigned long)pthread_self());
	(void)rm_tree(top, tmp);
	if (mkdirat(top, tmp, 0700) < 0 ||
	    (fd = openat(top, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			 O_CLOEXEC)) < 0)
		goto fail;
	if (!v->is_dir) {
		if (write_file(fd, name, &v->files[0], files_mode(v, &v->files[0])) < 0)
			goto fail;
	} else {
		if (mkdirat(fd, name, 0755) < 0)
			goto fail;
		for (i = 0; i < v->nfiles; i++) {
			char *rel = xasprintf("%s/%s", name, v->files[i].path);
			int w = write_file(fd, rel, &v->files[i],
					   files_mode(v, &v->files[i]));

			free(rel);
			if (w < 0)
				goto fail;
		}
	}
	if (seal_dirs(fd) < 0)
		goto fail;
	if (renameat(top, tmp, top, v->digest) < 0) {
		/* another project of the pass put the same copy in place */
		if ((errno == EEXIST || errno == ENOTEMPTY) &&
		    fstatat(top, v->digest, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode)) {
			(void)rm_tree(top, tmp);
			rc = 0;
			goto out;
		}
		goto fail;
	}
	if (fsync(top) < 0)
		goto fail_renamed;
	rc = 0;
	goto out;
fail_renamed:
	saved = errno;
	(void)rm_tree(top, v->digest);
	errno = saved;
	goto report;
fail:
	saved = errno;
	(void)rm_tree(top, tmp);
	errno = saved;
report:
	error_set("cannot write the files of '%s' under '%s': %s", v->source_path,
		  files_dir, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

int files_materialise(const char *files_dir, const struct project *p)
{
	size_t i;
	int top = -1, rc = 0;

	for (i = 0; i < p->nvolumes && rc == 0; i++) {
		if (p->volumes[i].type != VOLUME_FILE)
			continue;
		if (top < 0 && (top = open_files_dir(files_dir)) < 0)
			return -1;
		rc = materialise_one(top, files_dir, &p->volumes[i]);
	}
	if (top >= 0)
		close(top);
	return rc;
}

int files_gc(const char *files_dir, const struct strvec *keep, size_t *removed)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int top, rc = 0;
	size_t i;

	*removed = 0;
	if (lstat(files_dir, &st) < 0)
		return errno == ENOENT ? 0 : error_set("cannot read '%s': %s",
						       files_dir, strerror(errno));
	if ((top = open_files_dir(files_dir)) < 0)
		return -1;
	if (!(d = fdopendir(top))) {
		close(top);
		return error_set("cannot read '%s': %s", files_dir, strerror(errno));
	}
	while ((de = readdir(d))) {
		bool kept = false;

		if (strncmp(de->d_name, "sha256-", 7) && strncmp(de->d_name, ".tmp-", 5))
			continue;       /* not cara's: left alone */
		for (i = 0; i < keep->n && !kept; i++)
			kept = !strcmp(keep->v[i], de->d_name);
		if (kept)
			continue;
		if (rm_tree(dirfd(d), de->d_name) < 0) {
			rc = error_set("cannot remove '%s/%s': %s", files_dir,
				       de->d_name, strerror(errno));
			continue;
		}
		(*removed)++;
	}
	closedir(d);
	return rc;
}

/* ---- a tar of files (a build context) ---- */

static void tar_octal(char *field, size_t width, unsigned long long v)
{
	snprintf(field, width, "%0*llo", (int)width - 1, v);
}

int files_tar(struct buf *out, const struct file_entry *f, size_t n)
{
	static const char zero[1024];
	size_t i, k;

	for (i = 0; i < n; i++) {
		char h[512];
		const char *path = f[i].path, *name = path;
		size_t len = strlen(path), plen = 0;
		unsigned sum = 0;

		memset(h, 0, sizeof(h));
		if (len > 100) {
			/* ustar: prefix (155) '/' name (100) */
			const char *cut = NULL;

			for (k = len > 101 ? len - 101 : 0; k < len && k <= 155; k++)
				if (path[k] == '/') {
					cut = path + k;
					break;
				}
			if (!cut || strlen(cut + 1) > 100 || !cut[1])
				return error_set("'%.64s...': a path of the build "
						 "context is too long for a tar "
						 "(255 bytes at most)", path);
			plen = (size_t)(cut - path);
			name = cut + 1;
			memcpy(h + 345, path, plen);
		}
		memcpy(h, name, strlen(name));
		tar_octal(h + 100, 8, f[i].exec ? 0755 : 0644);
		tar_octal(h + 108, 8, 0);
		tar_octal(h + 116, 8, 0);
		tar_octal(h + 124, 12, f[i].len);
		tar_octal(h + 136, 12, 0);      /* mtime: the same tar every time */
		h[156] = '0';
		memcpy(h + 257, "ustar", 6);
		memcpy(h + 263, "00", 2);
		memset(h + 148, ' ', 8);
		for (k = 0; k < sizeof(h); k++)
			sum += (unsigned char)h[k];
		snprintf(h + 148, 8, "%06o", sum);
		h[155] = ' ';
		buf_add(out, h, sizeof(h));
		buf_add(out, f[i].data, f[i].len);
		if (f[i].len % 512)
			buf_add(out, zero, 512 - f[i].len % 512);
	}
	buf_add(out, zero, sizeof(zero));
	return 0;
}
