/*
 * test-tool.c - the bounded runner: PATH lookup, stdin from a file or a
 * buffer, the output cap (dropped or killed), the deadline, exit status.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "tool.h"
#include "util.h"

static int run_sh(struct tool_result *r, const char *script, struct tool_opts *o)
{
	const char *argv[] = { "sh", "-c", script, NULL };
	char *sh = NULL;
	int rc;

	if (tool_find(&sh, "sh", TOOL_FIND_ABSOLUTE) < 0)
		return -2;
	o->path = sh;
	o->argv = argv;
	if (!o->timeout_ms)
		o->timeout_ms = 10000;
	if (!o->output_max)
		o->output_max = 1024;
	rc = tool_run(r, o);
	free(sh);
	return rc;
}

static void test_find(void)
{
	char *old = xstrdup(getenv("PATH")), *p = NULL, *back = getcwd(NULL, 0);
	char dir[] = "/tmp/cara-test-tool-XXXXXX";
	char *exe = NULL, *sub = NULL;
	FILE *f;

	if (!mkdtemp(dir) || chdir(dir) < 0) {
		ok(0, "temporary directory");
		goto out;
	}
	exe = xasprintf("%s/cara-test-tool", dir);
	sub = xasprintf("%s/cara-dir-tool", dir);
	f = fopen(exe, "w");
	ok(f && fputs("#!/bin/sh\n", f) >= 0 && fclose(f) == 0 && chmod(exe, 0755) == 0 &&
	   mkdir(sub, 0755) == 0, "a program and a directory in the current directory");
	setenv("PATH", ".:/nonexistent", 1);
	is_int(tool_find(&p, "cara-test-tool", 0), 0, "relative PATH entry counts");
	is_str(p, "./cara-test-tool", "found as ./cara-test-tool");
	free(p);
	is_int(tool_find(&p, "cara-test-tool", TOOL_FIND_ABSOLUTE), ERR_NOTFOUND,
	       "relative PATH entry refused when only absolute ones count");
	ok(!p, "nothing returned");
	setenv("PATH", "/nonexistent::", 1);
	is_int(tool_find(&p, "cara-test-tool", 0), 0, "an empty PATH entry counts");
	free(p);
	is_int(tool_find(&p, "cara-test-tool", TOOL_FIND_ABSOLUTE), ERR_NOTFOUND,
	       "an empty PATH entry (the current directory) refused");
	setenv("PATH", dir, 1);
	is_int(tool_find(&p, "cara-test-tool", TOOL_FIND_ABSOLUTE), 0,
	       "absolute PATH entry counts");
	is_str(p, exe, "found by its absolute path");
	free(p);
	is_int(tool_find(&p, "cara-dir-tool", 0), ERR_NOTFOUND,
	       "a directory is not a program");
	unlink(exe);
	rmdir(sub);
	ok(chdir(back) == 0 && rmdir(dir) == 0, "cleaned up");
out:
	setenv("PATH", old, 1);
	free(exe);
	free(sub);
	free(back);
	free(old);
}

static void test_run(void)
{
	struct tool_result r;
	struct tool_opts o;
	char *line;

	memset(&o, 0, sizeof(o));
	o.stdin_data = "hello\n";
	o.stdin_len = 6;
	is_int(run_sh(&r, "cat; echo oops >&2; exit 3", &o), 0, "stdin from a buffer");
	is_str(buf_cstr(&r.out), "hello\n", "stdout captured");
	is_str(buf_cstr(&r.err), "oops\n", "stderr captured");
	is_int(r.status, 3, "exit status");
	tool_result_release(&r);

	memset(&o, 0, sizeof(o));
	o.stdin_path = "/nonexistent/in";
	is_int(run_sh(&r, "cat", &o), -1, "missing stdin file");
	is_int(r.end, TOOL_FAILED, "failed");
	ok(strstr(error_last(), "cannot open '/nonexistent/in'"), "says so: %s",
	   error_last());

	memset(&o, 0, sizeof(o));
	o.output_max = 10;
	is_int(run_sh(&r, "echo 0123456789abcdef; echo done >&2", &o), 0,
	       "over the cap, dropped");
	is_int((int)r.out.len, 10, "kept the cap's worth");
	is_str(buf_cstr(&r.err), "done\n", "and ran to its end");
	tool_result_release(&r);

	memset(&o, 0, sizeof(o));
	o.output_max = 10;
	o.kill_over_cap = true;
	o.own_group = true;
	is_int(run_sh(&r, "echo 0123456789abcdef; sleep 30", &o), -1,
	       "over the cap, killed");
	is_int(r.end, TOOL_TOO_MUCH, "too much");

	memset(&o, 0, sizeof(o));
	o.timeout_ms = 300;
	is_int(run_sh(&r, "exec sleep 30", &o), -1, "past the deadline");
	is_int(r.end, TOOL_TIMED_OUT, "timed out");
	ok(strstr(error_last(), "sh did not finish within 300 ms"), "says so: %s",
	   error_last());

	memset(&o, 0, sizeof(o));
	o.stdin_data = "x";
	o.stdin_len = TOOL_STDIN_MAX + 1;
	is_int(run_sh(&r, "cat", &o), -1, "input larger than a pipe refused");

	{
		struct buf b = BUF_INIT;

		buf_puts(&b, "first\nlast one  \n\n");
		line = tool_last_line(&b);
		is_str(line, "last one", "last non-empty line");
		free(line);
		buf_reset(&b);
		buf_puts(&b, " \n\n");
		ok(!tool_last_line(&b), "no line in blanks");
		buf_release(&b);
	}
}

int main(void)
{
	test_find();
	test_run();
	return tap_done();
}
