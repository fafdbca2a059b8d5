/*
 * tool.h - run a program of $PATH, bounded: the gpgv and ssh-keygen that
 * check signatures (source/signature.c) and the docker-credential-*
 * helpers (auth.c).
 *
 * Invariants: a program is started with fork and execve, an argument
 * vector and no shell (banned.h); its stdin is a file, /dev/null or a
 * short buffer written whole before it starts; its stdout and stderr are
 * captured up to a cap each; it is killed at a deadline.  What it prints
 * may be a secret: every chunk read is wiped, and so are the buffers when
 * they are released.
 */
#ifndef CARA_TOOL_H
#define CARA_TOOL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Searched when $PATH is unset or empty. */
#define TOOL_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
/* The most a caller may hand a tool on its stdin: it fits an empty pipe,
 * so it is written before the tool starts and no write can block. */
#define TOOL_STDIN_MAX PIPE_BUF

enum tool_find_flags {
	/* only the absolute directories of $PATH: a relative one (or an
	 * empty one, the current directory) would find a program of
	 * wherever cara happens to run */
	TOOL_FIND_ABSOLUTE = 1,
};

/*
 * The first executable regular file `name` in the directories of $PATH:
 * 0 with *out, a new string the caller frees, or ERR_NOTFOUND with
 * error_last() saying so plainly (a caller says what needs the program
 * and how to get it).
 */
int tool_find(char **out, const char *name, unsigned flags);

struct tool_opts {
	const char *path;             /* the executable, from tool_find */
	const char *const *argv;      /* argv[0] names the tool in messages */
	char *const *env;             /* NULL: cara's own environment */
	const char *stdin_path;       /* stdin from this file, or */
	const char *stdin_data;       /* these stdin_len bytes (<= TOOL_STDIN_MAX); */
	size_t stdin_len;             /* neither: /dev/null */
	int timeout_ms;               /* then killed */
	size_t output_max;            /* bytes kept of stdout, and of stderr */
	bool kill_over_cap;           /* more than output_max: killed, TOOL_TOO_MUCH
	                               * (else the rest is read and dropped) */
	bool own_group;               /* in a process group of its own, killed
	                               * with all it started */
};

/* How a run ended. */
enum tool_end {
	TOOL_EXITED,            /* it exited (or died of a signal) by itself */
	TOOL_FAILED,            /* it could not be started or watched */
	TOOL_TIMED_OUT,         /* killed at the deadline */
	TOOL_TOO_MUCH,          /* killed for printing more than output_max */
	TOOL_NOT_EXECUTED,      /* exit 127 and silence: execve failed */
};

struct tool_result {
	enum tool_end end;
	int status;             /* exit status; -1 when killed by a signal */
	struct buf out, err;    /* at most output_max bytes each */
};

/*
 * Run o->path with o->argv: 0 once it has exited by itself, whatever its
 * status (the caller judges; r->out and r->err hold what it printed, and
 * the caller calls tool_result_release).  -1 otherwise, with r->end
 * saying why and error_last() saying it in general words
 * ("gpgv did not finish within 60 seconds") that a caller may replace
 * with its own; r is then released already.
 */
int tool_run(struct tool_result *r, const struct tool_opts *o);
/* Wipe and free what r holds. */
void tool_result_release(struct tool_result *r);

/* The last non-empty line of b, trailing blanks dropped (a new string the
 * caller frees), or NULL when b has none: what a tool said last. */
char *tool_last_line(const struct buf *b);

#endif
