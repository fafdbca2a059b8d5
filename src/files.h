/*
 * files.h - the copies of source files that containers mount (File
 * volumes: compose's relative binds and configs, a Project's File
 * volumes), kept under {state_dir}/files, content-addressed:
 *
 *   {state_dir}/files/sha256-HEX/NAME     a file (0444, 0555 executable)
 *   {state_dir}/files/sha256-HEX/NAME/... a directory tree (dirs 0555)
 *
 * HEX is the volume's digest (layout, mode and content, files_digest in
 * input/), so a copy never changes once it is in place: a new content is
 * a new directory, and a running container keeps the one it mounts.  A
 * copy is written whole under a temporary name (write, fsync, rename,
 * fsync of the directory), so a full disk leaves no half copy behind.
 * The files directory itself must be a real directory: a symbolic link
 * there is refused, and nothing below it is ever followed.
 */
#ifndef CARA_FILES_H
#define CARA_FILES_H

#include "model.h"
#include "util.h"

/* All the copies one pass may write together. */
#define FILES_MAX_PASS_BYTES ((size_t)128 << 20)

/* The mode file e of File volume v is mounted with: the volume's own, or
 * 0555 for an executable, 0444 for the others. */
int files_mode(const struct volume *v, const struct file_entry *e);

/* The path a container mounts for File volume v (caller frees). */
char *files_path(const char *files_dir, const struct volume *v);

/* Put the copy of every File volume of p in place (those there already
 * are kept).  -1 with error_last() on failure, nothing half written. */
int files_materialise(const char *files_dir, const struct project *p);

/* Remove the copies of files_dir whose digest is not in keep (sorted or
 * not); *removed counts them.  Never follows a link. */
int files_gc(const char *files_dir, const struct strvec *keep, size_t *removed);

/* The files f[0..n) as a tar (ustar: paths of up to 255 bytes, mode 0644
 * or 0755, owner 0, time 0) appended to out.  -1 with error_last() for a
 * path a tar cannot hold. */
int files_tar(struct buf *out, const struct file_entry *f, size_t n);

#endif
