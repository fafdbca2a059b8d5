/*
 * tool.c - run a program of $PATH, bounded.  See tool.h for the
 * invariants; what follows relies on them: between fork and execve only
 * async-signal-safe calls, and every descriptor opened here is O_CLOEXEC
 * so that a tool inherits its three standard ones and nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool.h"
#include "util.h"

extern char **environ;

int tool_find(char **out, const char *name, unsigned flags)
{
	const char *path = getenv("PATH"), *p, *colon;
	struct stat st;
	char *cand;
	size_t n;

	*out = NULL;
	if (!path || !*path)
		path = TOOL_DEFAULT_PATH;
	for (p = path; ; p = colon + 1) {
		colon = strchr(p, ':');
		n = colon ? (size_t)(colon - p) : strlen(p);
		if (!(flags & TOOL_FIND_ABSOLUTE) || (n && *p == '/')) {
			/* an empty entry is the current directory */
			cand = n ? xasprintf("%.*s/%s", (int)n, p, name) :
			       xasprintf("./%s", name);
			if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
			    access(cand, X_OK) == 0) {
				*out = cand;
				return 0;
			}
			free(cand);
		}
		if (!colon)
			break;
	}
	error_set("'%s' is not found in PATH", name);
	return ERR_NOTFOUND;
}

void tool_result_release(struct tool_result *r)
{
	buf_wipe(&r->out);
	buf_release(&r->out);
	buf_wipe(&r->err);
	buf_release(&r->err);
}

/* Read what is there from *fd into b, at most max in all; closes and sets
 * *fd to -1 at end of file or on error.  False when the tool printed
 * more than max and o asks for it to be killed for that. */
static bool drain(int *fd, struct buf *b, const struct tool_opts *o)
{
	char chunk[4096];
	ssize_t n = read(*fd, chunk, sizeof(chunk));
	bool fits = true;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return true;
	}
	if ((size_t)n <= o->output_max - b->len)
		buf_add(b, chunk, (size_t)n);
	else if (o->kill_over_cap)
		fits = false;
	else
		buf_add(b, chunk, o->output_max - b->len);
	explicit_bzero(chunk, sizeof(chunk));
	return fits;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int tool_run(struct tool_result *r, const struct tool_opts *o)
{
	const char *name = o->argv[0];
	const char *in_path = o->stdin_path ? o->stdin_path : "/dev/null";
	int inp[2] = { -1, -1 }, outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	struct pollfd pfd[2];
	int64_t deadline;
	pid_t pid;
	int st, rc = -1;

	memset(r, 0, sizeof(*r));
	r->end = TOOL_FAILED;
	r->status = -1;
	if (o->stdin_data) {
		if (o->stdin_len > TOOL_STDIN_MAX) {
			error_set("cannot run %s: %zu bytes of input, more than %d",
				  name, o->stdin_len, TOOL_STDIN_MAX);
			goto out;
		}
		if (pipe2(inp, O_CLOEXEC) < 0) {
			error_set("cannot run %s: pipe: %s", name, strerror(errno));
			goto out;
		}
		/* an empty pipe holds it all: no write can block or meet a
		 * closed pipe */
		if (write(inp[1], o->stdin_data, o->stdin_len) != (ssize_t)o->stdin_len) {
			error_set("cannot run %s: write: %s", name, strerror(errno));
			goto out;
		}
		close_fd(&inp[1]);
	} else if ((inp[0] = open(in_path, O_RDONLY | O_CLOEXEC)) < 0) {
		error_set("cannot open '%s': %s", in_path, strerror(errno));
		goto out;
	}
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		error_set("cannot run %s: pipe: %s", name, strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		error_set("cannot run %s: fork: %s", name, strerror(errno));
		goto out;
	}
	if (pid == 0) {
		if (o->own_group)
			setpgid(0, 0);
		if (dup2(inp[0], STDIN_FILENO) < 0 || dup2(outp[1], STDOUT_FILENO) < 0 ||
		    dup2(errp[1], STDERR_FILENO) < 0)
			_exit(126);
		execve(o->path, (char *const *)o->argv, o->env ? o->env : environ);
		_exit(127);
	}
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	deadline = monotonic_ms() + o->timeout_ms;
	r->end = TOOL_EXITED;
	while (outp[0] >= 0 || errp[0] >= 0) {
		int64_t left = deadline - monotonic_ms();
		int n;

		if (left <= 0) {
			r->end = TOOL_TIMED_OUT;
			break;
		}
		pfd[0].fd = outp[0];
		pfd[1].fd = errp[0];
		pfd[0].events = pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		n = poll(pfd, 2, left > INT_MAX ? INT_MAX : (int)left);
		if (n < 0 && errno != EINTR) {
			error_set("cannot run %s: poll: %s", name, strerror(errno));
			r->end = TOOL_FAILED;
			break;
		}
		if (n <= 0)
			continue;
		if (pfd[0].revents && !drain(&outp[0], &r->out, o))
			r->end = TOOL_TOO_MUCH;
		if (pfd[1].revents && !drain(&errp[0], &r->err, o))
			r->end = TOOL_TOO_MUCH;
		if (r->end == TOOL_TOO_MUCH)
			break;
	}
	if (r->end != TOOL_EXITED) {
		/* it cannot be read any more */
		if (o->own_group)
			kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			error_set("cannot run %s: waitpid: %s", name, strerror(errno));
			r->end = TOOL_FAILED;
			goto out;
		}
	}
	if (r->end == TOOL_TIMED_OUT && o->timeout_ms % 1000)
		error_set("%s did not finish within %d ms", name, o->timeout_ms);
	else if (r->end == TOOL_TIMED_OUT)
		error_set("%s did not finish within %d seconds", name,
			  o->timeout_ms / 1000);
	else if (r->end == TOOL_TOO_MUCH)
		error_set("%s printed more than %zu KiB (killed)", name,
			  o->output_max >> 10);
	if (r->end != TOOL_EXITED)
		goto out;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127 && !r->err.len) {
		error_set("cannot run '%s'", o->path);
		r->end = TOOL_NOT_EXECUTED;
		goto out;
	}
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	rc = 0;
out:
	close_fd(&inp[0]);
	close_fd(&inp[1]);
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	if (rc < 0)
		tool_result_release(r);
	return rc;
}

char *tool_last_line(const struct buf *b)
{
	const char *s = buf_cstr(b), *end = s + b->len, *start;

	while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	for (start = end; start > s && start[-1] != '\n'; start--)
		;
	return start < end ? xstrndup(start, (size_t)(end - start)) : NULL;
}
