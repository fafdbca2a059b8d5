/*
 * test-source.c - the git source against real repositories made here with
 * the git CLI in a temporary directory: a working repository, a bare
 * "remote" it pushes to (served as file://, as a plain path and, when
 * git-daemon is installed, as git:// on loopback), and caches that the
 * tests break on purpose.
 */
/* Fixtures are made and removed with shell commands (see banned.h). */
#define CARA_BANNED_ALLOW_SHELL
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "source/source.h"
#include "util.h"
#include "tap.h"

static char *T;         /* temporary directory */
static char *W;         /* working repository */
static char *R;         /* bare remote */
static char *URL;       /* file:// URL of R */
static int commit_seq;

#define GIT "git -c user.name=t -c user.email=t@localhost -c init.defaultBranch=main"

/* (the output of the whole command line goes to /dev/null: a redirection
 * in its last command must be in a subshell) */
static int run(const char *fmt, ...) PRINTF_LIKE(1, 2);
static int run(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	int st;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_puts(&b, " >/dev/null 2>&1");
	st = system(buf_cstr(&b));
	buf_release(&b);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* First line of a command's output; caller frees. */
static char *capture(const char *fmt, ...) PRINTF_LIKE(1, 2);
static char *capture(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	char line[4096] = "";
	va_list ap;
	FILE *p;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	p = popen(buf_cstr(&b), "r");
	buf_release(&b);
	if (!p)
		return xstrdup("");
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	pclose(p);
	line[strcspn(line, "\n")] = '\0';
	return xstrdup(line);
}

static void write_file(const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", W, rel);
	char *dir = xstrdup(path);
	FILE *f;

	*strrchr(dir, '/') = '\0';
	run("mkdir -p '%s'", dir);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	free(dir);
	free(path);
}

/* Commit the index of W with a fixed, increasing date; returns the id. */
static char *commit_index(const char *msg)
{
	long long when = 1700000000LL + ++commit_seq;

	run("cd '%s' && GIT_AUTHOR_DATE='%lld +0000' "
	    "GIT_COMMITTER_DATE='%lld +0000' " GIT " commit -q -m '%s'",
	    W, when, when, msg);
	return capture("git -C '%s' rev-parse HEAD", W);
}

/* Commit everything in W. */
static char *commit(const char *msg)
{
	run("cd '%s' && " GIT " add -A", W);
	return commit_index(msg);
}

static int push(const char *args)
{
	return run("git -C '%s' push -q %s", W, args);
}

static int fetch(struct source_snapshot *s, const char *url, const char *cache,
		 const char *path, const char *ref, bool offline_ok)
{
	struct source_options o;

	memset(&o, 0, sizeof(o));
	o.url = url;
	o.cache_dir = cache;
	o.path = path;
	o.ref = ref;
	o.offline_ok = offline_ok;
	return source_fetch(s, &o);
}

/* "a,b,c" of the file paths */
static char *file_list(const struct source_snapshot *s)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < s->nfiles; i++) {
		if (i)
			buf_putc(&b, ',');
		buf_puts(&b, s->files[i].path);
	}
	return buf_detach(&b);
}

/* "path: message" of every problem, ';'-separated. */
static char *problem_list(const struct source_snapshot *s)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < s->nproblems; i++)
		buf_printf(&b, "%s%s: %s", i ? ";" : "", s->problems[i].path,
			   s->problems[i].message);
	return buf_detach(&b);
}

static const char *file_data(const struct source_snapshot *s, const char *path)
{
	size_t i;

	for (i = 0; i < s->nfiles; i++)
		if (!strcmp(s->files[i].path, path))
			return s->files[i].data;
	return NULL;
}

static bool error_has(const char *needle)
{
	bool ok = strstr(error_last(), needle) != NULL;

	if (!ok)
		printf("#   error: %s\n#   wanted: %s\n", error_last(), needle);
	return ok;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static void test_redact(void)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "https://user:pw@h/r", "https://***@h/r" },
		{ "https://tok@h/r", "https://***@h/r" },
		{ "http://u:p@h:8080/r.git?x=1", "http://***@h:8080/r.git?x=1" },
		{ "https://h/r@x", "https://h/r@x" },
		{ "https://a@b:c@h/r", "https://***@h/r" },
		{ "ssh://git@h/r", "ssh://git@h/r" },
		{ "ssh://git:secret@h:2222/r", "ssh://***@h:2222/r" },
		{ "git+ssh://deploy@h/r", "git+ssh://deploy@h/r" },
		{ "git@h:org/r.git", "git@h:org/r.git" },
		{ "h:org/r.git", "h:org/r.git" },
		{ "https://h/r", "https://h/r" },
		{ "file:///srv/a@b/r.git", "file:///srv/a@b/r.git" },
		{ "/srv/a@b:c/r.git", "/srv/a@b:c/r.git" },
		{ "git://u@h/r", "git://***@h/r" },
		{ "", "" },
	};
	size_t i;
	char *r;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		r = source_redact_url(cases[i].in);
		is_str(r, cases[i].out, "redact '%s'", cases[i].in);
		free(r);
	}
	ok(source_redact_url(NULL) == NULL, "redact NULL");
}

static char *first, *second;

static void make_fixture(void)
{
	W = xasprintf("%s/work", T);
	R = xasprintf("%s/remote.git", T);
	URL = xasprintf("file://%s", R);
	run("git init -q --bare -b main '%s'", R);
	run("git init -q -b main '%s'", W);
	run("git -C '%s' remote add origin '%s'", W, R);
	write_file("stacks/a.yaml", "a: 1\n");
	write_file("stacks/b.yaml", "b: 1\n");
	write_file("stacks/b/c.yml", "c: 1\n");
	write_file("stacks/b/z.yaml", "z: 1\n");
	write_file("stacks/dir.yaml/inner.yaml", "inner: 1\n");
	write_file("stacks/zz/deep/x.yaml", "x: 1\n");
	write_file("stacks/notes.txt", "not a manifest\n");
	write_file("stacks/.hidden.yaml", "hidden: 1\n");
	write_file("stacks/.env", "E=1\n");          /* compose's */
	write_file("stacks/web.env", "W=1\n");       /* an env_file */
	write_file("stacks/.envrc", "not compose's\n");
	write_file("stacks/yaml", "no extension\n");
	write_file(".github/workflows/ci.yml", "on: push\n");
	write_file("README.md", "readme\n");
	write_file("top.yaml", "top: 1\n");
	run("ln -s a.yaml '%s/stacks/link.yaml'", W);
	run("ln -s /etc/passwd '%s/stacks/escape.yaml'", W);
	run("ln -s ../README.md '%s/stacks/readme.md'", W);
	run("cd '%s' && " GIT " add -A && git update-index --add --cacheinfo "
	    "160000,1111111111111111111111111111111111111111,stacks/sub.yaml && "
	    "mkdir stacks/sub.yaml", W);
	first = commit_index("first stack\n\nwith a body");
	push("origin main");
}

static void test_clone(void)
{
	struct source_snapshot s;
	char *cache = xasprintf("%s/c1", T), *list, *cache2, *tmp;
	unsigned long got;
	int rc;

	rc = fetch(&s, URL, cache, NULL, NULL, false);
	ok(rc == 0, "first fetch clones a file:// remote");
	if (rc < 0)
		printf("#   %s\n", error_last());
	is_str(s.commit, first, "commit id of main");
	is_int(s.commit_time, 1700000001LL, "author time");
	is_str(s.subject, "first stack", "subject is the first line");
	ok(!s.offline && !s.recloned, "neither offline nor recloned");
	ok(s.received_objects > 5, "objects received (%lu)", s.received_objects);
	got = s.received_objects;
	list = file_list(&s);
	is_str(list, "stacks/.env,stacks/a.yaml,stacks/b.yaml,stacks/b/c.yml,"
	       "stacks/b/z.yaml,stacks/dir.yaml/inner.yaml,stacks/web.env,"
	       "stacks/zz/deep/x.yaml,top.yaml",
	       "yaml, .env and *.env files sorted; hidden, symlinks, submodules, "
	       "others skipped");
	free(list);
	list = problem_list(&s);
	is_str(list, "stacks/escape.yaml: a symbolic link: cara reads no links from a "
	       "git source;stacks/link.yaml: a symbolic link: cara reads no links from a "
	       "git source;stacks/sub.yaml: a submodule: cara does not read submodules, "
	       "so what it holds cannot be known",
	       "links named like manifests and submodules are problems, README.md links are not");
	free(list);
	is_str(file_data(&s, "stacks/b/c.yml"), "c: 1\n", "blob content");
	ok(s.nfiles > 1 && s.files[1].len == 5, "length");
	source_snapshot_release(&s);
	tmp = xasprintf("%s.new", cache);
	ok(exists(cache) && !exists(tmp), "cache in place, no leftover");
	free(tmp);

	rc = fetch(&s, URL, cache, NULL, NULL, false);
	ok(rc == 0 && !strcmp(s.commit, first), "second fetch, same commit");
	is_int(s.received_objects, 0, "an unchanged remote transfers nothing");
	ok(!s.recloned, "not recloned");
	source_snapshot_release(&s);

	cache2 = xasprintf("%s/c2/nested", T);
	rc = fetch(&s, R, cache2, "stacks", NULL, false);
	ok(rc == 0, "a plain local path works too, parent directories made");
	is_str(s.commit, first, "same commit through a path");
	list = file_list(&s);
	is_str(list, ".env,a.yaml,b.yaml,b/c.yml,b/z.yaml,dir.yaml/inner.yaml,"
	       "web.env,zz/deep/x.yaml", "paths relative to --path");
	free(list);
	source_snapshot_release(&s);

	write_file("stacks/a.yaml", "a: 2\n");
	second = commit("second");
	push("origin main");
	rc = fetch(&s, URL, cache, "stacks", NULL, false);
	ok(rc == 0, "fetch after a new commit");
	is_str(s.commit, second, "new commit seen");
	is_str(file_data(&s, "a.yaml"), "a: 2\n", "changed file seen");
	ok(s.received_objects > 0 && s.received_objects <= 4 &&
	   s.received_objects < got, "only the new objects (%lu of %lu)",
	   s.received_objects, got);
	source_snapshot_release(&s);
	free(cache);
	free(cache2);
}

static void test_paths(void)
{
	struct source_snapshot s;
	char *cache = xasprintf("%s/c1", T), *list;
	int rc;

	rc = fetch(&s, URL, cache, "./stacks//b/", NULL, false);
	list = file_list(&s);
	ok(rc == 0, "path with ./, // and a trailing slash");
	is_str(list, "c.yml,z.yaml", "only the files under stacks/b");
	free(list);
	source_snapshot_release(&s);

	rc = fetch(&s, URL, cache, "nope", NULL, false);
	ok(rc < 0 && error_has("path 'nope' not found at commit"),
	   "a missing path is an error");
	ok(s.nfiles == 0 && !s.subject, "nothing returned on error");
	rc = fetch(&s, URL, cache, "top.yaml", NULL, false);
	ok(rc < 0 && error_has("is not a directory"), "a file is not a path");
	rc = fetch(&s, URL, cache, "stacks/../..", NULL, false);
	ok(rc < 0 && error_has("leaves the repository"), "'..' refused");
	rc = fetch(&s, URL, cache, "stacks/sub.yaml", NULL, false);
	ok(rc < 0 && error_has("is not a directory"), "a submodule is not a path");
	rc = fetch(&s, URL, cache, "stacks/zz", NULL, false);
	ok(rc == 0 && s.nfiles == 1 && !strcmp(s.files[0].path, "deep/x.yaml"),
	   "nested directories below the path");
	ok(!s.recloned, "user errors never re-clone");
	source_snapshot_release(&s);
	free(cache);
}

static void test_refs(void)
{
	struct source_snapshot s;
	char *cache = xasprintf("%s/c1", T), *feature, *abbrev;
	int rc;

	run("git -C '%s' checkout -q -b feature", W);
	write_file("stacks/a.yaml", "a: feature\n");
	feature = commit("on a branch");
	push("origin feature");
	run("git -C '%s' checkout -q main", W);
	run(GIT " -C '%s' tag -a -m release v1 %s", W, first);
	run("git -C '%s' tag light %s", W, second);
	push("origin v1 light");

	rc = fetch(&s, URL, cache, "stacks", "feature", false);
	ok(rc == 0, "ref: a branch");
	is_str(s.commit, feature, "branch commit");
	is_str(file_data(&s, "a.yaml"), "a: feature\n", "branch content");
	source_snapshot_release(&s);

	rc = fetch(&s, URL, cache, "stacks", "refs/heads/feature", false);
	ok(rc == 0 && !strcmp(s.commit, feature), "ref: refs/heads/NAME");
	source_snapshot_release(&s);

	rc = fetch(&s, URL, cache, "stacks", "v1", false);
	ok(rc == 0, "ref: an annotated tag");
	if (rc < 0)
		printf("#   %s\n", error_last());
	is_str(s.commit, first, "tag peeled to its commit");
	is_str(file_data(&s, "a.yaml"), "a: 1\n", "tag content");
	source_snapshot_release(&s);

	rc = fetch(&s, URL, cache, "stacks", "refs/tags/light", false);
	ok(rc == 0 && !strcmp(s.commit, second), "ref: refs/tags/NAME, lightweight");
	source_snapshot_release(&s);

	rc = fetch(&s, URL, cache, "stacks", first, false);
	ok(rc == 0 && !strcmp(s.commit, first), "ref: a full commit id");
	source_snapshot_release(&s);

	rc = fetch(&s, URL, cache, "stacks", "nope", false);
	ok(rc < 0, "unknown ref fails");
	ok(error_has("ref 'nope' not found in file://") && error_has("remote.git"),
	   "message names the ref and the URL");
	abbrev = xstrndup(first, 7);
	rc = fetch(&s, URL, cache, "stacks", abbrev, false);
	ok(rc < 0 && error_has("abbreviated"), "an abbreviated id is refused");
	free(abbrev);
	rc = fetch(&s, URL, cache, "stacks",
		   "0123456789012345678901234567890123456789", false);
	ok(rc < 0 && error_has("not found"), "an unknown full id fails");

	run("git -C '%s' tag feature %s", W, first);
	push("origin refs/tags/feature");
	rc = fetch(&s, URL, cache, "stacks", "feature", false);
	ok(rc < 0 && error_has("ambiguous"), "a branch and a tag of one name");
	run("git -C '%s' tag -d feature", W);
	push("origin :refs/tags/feature");
	rc = fetch(&s, URL, cache, "stacks", "feature", false);
	ok(rc == 0 && !strcmp(s.commit, feature), "deleted tag pruned from the cache");
	source_snapshot_release(&s);

	push("origin :feature");
	rc = fetch(&s, URL, cache, "stacks", "feature", false);
	ok(rc < 0 && error_has("not found"), "deleted branch pruned from the cache");
	free(feature);
	free(cache);
}

static void test_rewrites(void)
{
	struct source_snapshot s;
	char *cache = xasprintf("%s/c1", T), *third, *base;
	int rc;

	/* main: first -> second; rewrite it as first -> third */
	run("git -C '%s' reset -q --hard %s", W, first);
	write_file("stacks/a.yaml", "a: rewritten\n");
	third = commit("rewritten");
	push("-f origin main");
	rc = fetch(&s, URL, cache, "stacks", NULL, false);
	ok(rc == 0, "fetch after a force-push");
	is_str(s.commit, third, "the rewritten branch is followed");
	is_str(file_data(&s, "a.yaml"), "a: rewritten\n", "rewritten content");
	ok(!s.recloned, "a force-push needs no re-clone");
	source_snapshot_release(&s);

	run(GIT " -C '%s' tag -f -a -m moved v1 %s", W, third);
	push("-f origin v1");
	rc = fetch(&s, URL, cache, "stacks", "v1", false);
	ok(rc == 0 && !strcmp(s.commit, third), "a moved tag is followed");
	source_snapshot_release(&s);

	/* the default branch follows the remote's HEAD */
	run("git -C '%s' checkout -q -b trunk", W);
	write_file("stacks/a.yaml", "a: trunk\n");
	base = commit("trunk");
	push("origin trunk");
	run("git -C '%s' symbolic-ref HEAD refs/heads/trunk", R);
	rc = fetch(&s, URL, cache, "stacks", NULL, false);
	ok(rc == 0 && !strcmp(s.commit, base), "default branch = the remote's HEAD");
	source_snapshot_release(&s);
	run("git -C '%s' symbolic-ref HEAD refs/heads/main", R);
	run("git -C '%s' checkout -q main", W);
	free(first);
	first = third;
	free(base);
	free(cache);
}

/* Objects present but unreadable: passes the cheap checks at open. */
#define TRUNCATE_LOOSE \
	"for p in objects/pack/*.pack; do mv \"$p\" p.tmp && " \
	"rm \"${p%.pack}.idx\" && git unpack-objects -q < p.tmp && " \
	"rm p.tmp; done; for f in objects/[0-9a-f][0-9a-f]/*; do : > \"$f\"; done"

/* Break the cache with `how`, fetch, expect a re-clone and correct data. */
static void corrupt_case(const char *name, const char *how)
{
	struct source_snapshot s;
	char *cache = xasprintf("%s/c1", T);
	int rc;

	rc = fetch(&s, URL, cache, "stacks", NULL, false);
	source_snapshot_release(&s);
	run("cd '%s' && %s", cache, how);
	rc = fetch(&s, URL, cache, "stacks", NULL, false);
	ok(rc == 0, "%s: fetch succeeds", name);
	if (rc < 0)
		printf("#   %s\n", error_last());
	ok(s.recloned, "%s: recloned", name);
	is_str(s.commit, first, "%s: right commit", name);
	is_str(file_data(&s, "a.yaml"), "a: rewritten\n", "%s: right data", name);
	source_snapshot_release(&s);
	rc = fetch(&s, URL, cache, "stacks", NULL, false);
	ok(rc == 0 && !s.recloned && s.received_objects == 0,
	   "%s: the new cache is healthy", name);
	source_snapshot_release(&s);
	free(cache);
}

static void test_corrupt(void)
{
	corrupt_case("objects deleted",
		     "find objects -type f ! -name '*.idx' -path 'objects/[0-9a-f][0-9a-f]/*' "
		     "-delete; rm -f objects/pack/*");
	corrupt_case("pack truncated",
		     "for f in objects/pack/*.pack; do truncate -s 200 \"$f\"; done");
	corrupt_case("loose objects truncated", TRUNCATE_LOOSE);
	corrupt_case("garbage in HEAD", "echo garbage > HEAD");
	corrupt_case("garbage in a ref", "echo garbage > refs/remotes/origin/main");
	corrupt_case("truncated ref", ": > refs/remotes/origin/main");
	corrupt_case("garbage config", "echo '[[[' > config");
	corrupt_case("objects directory gone", "rm -rf objects");
}

static void test_offline(void)
{
	struct source_snapshot s;
	char *cache = xasprintf("%s/c1", T), *away = xasprintf("%s.away", R);
	char *fresh = xasprintf("%s/c-fresh", T);
	int rc;

	rc = fetch(&s, URL, cache, "stacks", NULL, false);
	source_snapshot_release(&s);
	rename(R, away);
	rc = fetch(&s, URL, cache, "stacks", NULL, false);
	ok(rc < 0, "remote gone, no --offline-ok: error");
	ok(error_has("fetch file://") && error_has("remote.git: "),
	   "message: fetch URL: why");
	rc = fetch(&s, URL, cache, "stacks", NULL, true);
	ok(rc == 0, "remote gone, --offline-ok: the cached commit");
	ok(s.offline && !s.recloned && s.received_objects == 0, "marked offline");
	is_str(s.commit, first, "last fetched commit");
	is_str(file_data(&s, "a.yaml"), "a: rewritten\n", "cached content");
	source_snapshot_release(&s);

	rc = fetch(&s, URL, cache, "stacks", "v1", true);
	ok(rc == 0 && s.offline && !strcmp(s.commit, first), "offline with a tag");
	source_snapshot_release(&s);

	rc = fetch(&s, URL, fresh, "stacks", NULL, true);
	ok(rc < 0 && error_has("fetch file://"), "offline with no cache: error");
	ok(!exists(fresh), "no cache left behind");

	run("cd '%s' && %s", cache, TRUNCATE_LOOSE);
	rc = fetch(&s, URL, cache, "stacks", NULL, true);
	ok(rc < 0 && error_has("cannot be used either"),
	   "offline with a broken cache: both reasons");

	rename(away, R);
	rc = fetch(&s, URL, cache, "stacks", NULL, true);
	ok(rc == 0 && !s.offline && s.recloned, "remote back: broken cache replaced");
	source_snapshot_release(&s);
	free(cache);
	free(away);
	free(fresh);
}

static void test_cache_dir(void)
{
	struct source_snapshot s;
	char *cache = xasprintf("%s/c1", T), *mine = xasprintf("%s/mine", T);
	char *keep = xasprintf("%s/mine/precious", T), *url;
	char *target = xasprintf("%s/outside", T);
	char *victim = xasprintf("%s/outside/victim", T);
	int rc;

	/* R without file:// is a different URL: the cache is re-made */
	rc = fetch(&s, R, cache, "stacks", NULL, false);
	ok(rc == 0 && s.recloned, "cache made for another URL: re-cloned");
	is_str(s.commit, first, "right commit after the URL change");
	source_snapshot_release(&s);
	url = capture("git --git-dir='%s' config remote.origin.url", cache);
	is_str(url, R, "cache records the URL");
	free(url);

	run("mkdir -p '%s' && echo x > '%s'", mine, keep);
	rc = fetch(&s, URL, mine, NULL, NULL, false);
	ok(rc < 0 && error_has("not made by cara"), "a foreign directory is refused");
	ok(exists(keep), "and left alone");

	/* a symlink inside the cache must not be followed on removal */
	run("mkdir -p '%s' && echo x > '%s' && ln -s '%s' '%s/objects/link'",
	    target, victim, target, cache);
	run("echo garbage > '%s/HEAD'", cache);
	rc = fetch(&s, URL, cache, "stacks", NULL, false);
	ok(rc == 0 && s.recloned, "cache with a symlink re-cloned");
	ok(exists(victim), "the symlink's target survives");
	source_snapshot_release(&s);
	free(cache);
	free(mine);
	free(keep);
	free(target);
	free(victim);
}

static void test_limits(void)
{
	struct source_snapshot s;
	char *cache = xasprintf("%s/c1", T), *big = xmalloc(5 << 20), *list;
	int rc;

	memset(big, 'x', (5 << 20) - 1);
	big[(5 << 20) - 1] = '\0';
	run("git -C '%s' checkout -q -b big", W);
	write_file("stacks/big.yaml", big);
	free(commit("big"));
	push("origin big");
	run("git -C '%s' checkout -q main", W);
	rc = fetch(&s, URL, cache, "stacks", "big", false);
	list = problem_list(&s);
	ok(rc == 0 && strstr(list, ";big.yaml: 5242879 bytes, more than the 4194304"),
	   "a file over 4 MiB is a problem of that file, not of the fetch");
	ok(file_data(&s, "a.yaml") && !file_data(&s, "big.yaml"),
	   "the other files are read, the big one is not");
	free(list);
	source_snapshot_release(&s);
	rc = fetch(&s, URL, cache, "stacks", NULL, false);
	ok(rc == 0 && !s.recloned, "other refs unaffected, no re-clone");
	source_snapshot_release(&s);
	free(big);
	free(cache);
}

static void test_secrets(void)
{
	struct source_snapshot s;
	char *cache = xasprintf("%s/c-https", T), *tmp = xasprintf("%s.new", cache);
	char *tokfile = xasprintf("%s/token", T);
	struct source_options o;
	int rc;

	rc = fetch(&s, "https://deploy:hunter2-secret@127.0.0.1:1/x.git", cache,
		   NULL, NULL, false);
	ok(rc < 0, "unreachable https remote fails");
	ok(!strstr(error_last(), "hunter2"), "password not in the message");
	ok(error_has("fetch https://***@127.0.0.1:1/x.git: "), "URL shown redacted");
	ok(!exists(cache) && !exists(tmp), "nothing left on disk");

	rc = fetch(&s, "https://tok-abcdef@127.0.0.1:1/x.git", cache, NULL, NULL, true);
	ok(rc < 0 && !strstr(error_last(), "tok-abcdef"), "token not in the message");

	run("printf 'file-token-123\\n' > '%s'", tokfile);
	memset(&o, 0, sizeof(o));
	o.url = "https://127.0.0.1:1/x.git";
	o.cache_dir = cache;
	o.token_file = tokfile;
	o.username = "deploy";
	rc = source_fetch(&s, &o);
	ok(rc < 0 && !strstr(error_last(), "file-token-123"),
	   "token file content not in the message");

	memset(&o, 0, sizeof(o));
	rc = source_fetch(&s, &o);
	ok(rc < 0 && error_has("required"), "no URL: error");
	free(cache);
	free(tmp);
	free(tokfile);
}

static void kill_pidfile(const char *pidfile)
{
	char *pid = capture("cat '%s' 2>/dev/null", pidfile);
	long long n;

	if (parse_ll(pid, 2, 1 << 30, &n) == 0)
		kill((pid_t)n, SIGTERM);
	free(pid);
}

/* git:// on loopback: a real network transport. */
static void test_daemon(void)
{
	struct source_snapshot s;
	char *pidfile = xasprintf("%s/daemon.pid", T), *url = NULL;
	char *cache = xasprintf("%s/c-daemon", T), *next;
	unsigned long firstn;
	int port = 0, i, rc;

	if (access("/usr/lib/git-core/git-daemon", X_OK) != 0) {
		skip("git-daemon not installed", "git:// transport");
		goto out;
	}
	for (i = 0; i < 20 && !url; i++) {
		port = 20000 + (int)((getpid() * 7 + i * 131) % 30000);
		if (run("git daemon --reuseaddr --export-all --base-path='%s' "
			"--listen=127.0.0.1 --port=%d --detach --pid-file='%s' '%s'",
			T, port, pidfile, T) != 0)
			continue;
		url = xasprintf("git://127.0.0.1:%d/remote.git", port);
		for (rc = 1; rc && i < 50; i++) {
			rc = run("git ls-remote '%s'", url);
			if (rc)
				usleep(100000);
		}
		if (rc) {
			kill_pidfile(pidfile);
			free(url);
			url = NULL;
		}
	}
	if (!url) {
		skip("git daemon did not start", "git:// transport");
		goto out;
	}
	rc = fetch(&s, url, cache, "stacks", NULL, false);
	ok(rc == 0 && !strcmp(s.commit, first), "git:// clone");
	firstn = s.received_objects;
	source_snapshot_release(&s);
	rc = fetch(&s, url, cache, "stacks", NULL, false);
	ok(rc == 0 && s.received_objects == 0, "git:// unchanged: nothing received");
	source_snapshot_release(&s);
	write_file("stacks/a.yaml", "a: over the network\n");
	next = commit("network");
	push("origin main");
	rc = fetch(&s, url, cache, "stacks", NULL, false);
	ok(rc == 0 && !strcmp(s.commit, next), "git:// new commit");
	ok(s.received_objects > 0 && s.received_objects < firstn,
	   "git:// only new objects (%lu of %lu)", s.received_objects, firstn);
	source_snapshot_release(&s);

	kill_pidfile(pidfile);
	for (i = 0; i < 50 && run("git ls-remote '%s'", url) == 0; i++)
		usleep(100000);
	rc = fetch(&s, url, cache, "stacks", NULL, false);
	ok(rc < 0 && error_has("fetch git://127.0.0.1"), "daemon stopped: error");
	rc = fetch(&s, url, cache, "stacks", NULL, true);
	ok(rc == 0 && s.offline && !strcmp(s.commit, next), "daemon stopped: offline");
	source_snapshot_release(&s);
	free(first);
	first = next;
out:
	free(url);
	free(cache);
	free(pidfile);
}

/* ---- --verify-signatures ---- */

static char *SW;        /* working repository of the signature tests */
static char *SURL;      /* file:// URL of its bare remote */

/* Commit a new file in SW with extra git options (e.g. signing ones) and
 * push the branch; returns the commit id. */
static char *sig_commit(const char *branch, const char *opts, const char *msg)
{
	static int n;

	run("cd '%s' && (git checkout -q %s 2>/dev/null || git checkout -q -b %s) && "
	    "echo 'n: %d' > stacks/n%d.yaml && git add -A && " GIT " %s commit -q -m '%s' && "
	    "git push -q -f origin %s", SW, branch, branch, n, n, opts, msg, branch);
	n++;
	return capture("git -C '%s' rev-parse %s", SW, branch);
}

/* A copy of commit id with its message changed and its signature kept,
 * pushed as branch: what an attacker who can push but not sign makes. */
static char *sig_tamper(const char *id, const char *branch)
{
	char *bad = capture("cd '%s' && git cat-file commit %s | "
			    "sed 's/^signed/tampered/' | git hash-object -t commit -w --stdin",
			    SW, id);

	run("cd '%s' && git branch -f %s %s && git push -q -f origin %s", SW, branch,
	    bad, branch);
	return bad;
}

static int fetch_verify(struct source_snapshot *s, const char *cache, const char *ref,
			const char *allowed, const char *keyring, bool offline_ok)
{
	struct source_options o;

	memset(&o, 0, sizeof(o));
	o.url = SURL;
	o.cache_dir = cache;
	o.ref = ref;
	o.verify_signatures = true;
	o.allowed_signers = allowed;
	o.gpg_keyring = keyring;
	o.offline_ok = offline_ok;
	return source_fetch(s, &o);
}

static bool refused(const char *id, const char *why)
{
	char *want = xasprintf("refusing commit %.12s: %s", id, why);
	bool r = error_has(want);

	free(want);
	return r;
}

static bool dir_empty(const char *dir)
{
	return run("test -z \"$(ls -A '%s')\"", dir) == 0;
}

static void test_signatures(void)
{
	struct source_snapshot s;
	char *d = xasprintf("%s/sig", T), *cache = xasprintf("%s/sig/cache", T);
	char *allowed = xasprintf("%s/sig/allowed_signers", T);
	char *keyring = xasprintf("%s/sig/keyring.gpg", T);
	char *other_keyring = xasprintf("%s/sig/other.gpg", T);
	char *tmp = xasprintf("%s/sig/tmp", T), *remote = xasprintf("%s/sig/r.git", T);
	char *alice_opts, *mallory_opts, *gpg_opts, *gnupghome, *path = xstrdup(getenv("PATH"));
	char *signed_id, *unsigned_id, *mallory_id, *tampered_id, *gpg_id, *gpg_bad;
	const char *old_tmp = getenv("TMPDIR");
	char *saved_tmp = old_tmp ? xstrdup(old_tmp) : NULL;
	bool have_gpg;
	int rc;

	if (run("command -v ssh-keygen") != 0) {
		skip("ssh-keygen missing (openssh-client)", "commit signatures");
		goto out;
	}
	have_gpg = run("command -v gpg && command -v gpgv") == 0;
	SW = xasprintf("%s/sig/work", T);
	SURL = xasprintf("file://%s", remote);
	run("mkdir -p '%s/stacks' '%s' && git init -q --bare -b main '%s' && "
	    "git init -q -b main '%s' && git -C '%s' remote add origin '%s'",
	    SW, tmp, remote, SW, SW, remote);
	run("cd '%s' && ssh-keygen -q -t ed25519 -N '' -C alice -f alice && "
	    "ssh-keygen -q -t ed25519 -N '' -C mallory -f mallory && "
	    "(echo \"alice@example.com namespaces=\\\"git\\\" $(cat alice.pub)\" > '%s')",
	    d, allowed);
	alice_opts = xasprintf("-c gpg.format=ssh -c user.signingkey=%s/alice.pub -c "
			       "commit.gpgsign=true", d);
	mallory_opts = xasprintf("-c gpg.format=ssh -c user.signingkey=%s/mallory.pub "
				 "-c commit.gpgsign=true", d);
	gpg_opts = NULL;
	if (have_gpg &&
	    run("mkdir -m 700 '%s/gnupg' && GNUPGHOME='%s/gnupg' gpg --batch "
		"--passphrase '' --quick-gen-key 'Alice <alice@example.com>' ed25519 "
		"sign never && GNUPGHOME='%s/gnupg' gpg --batch --export > '%s' && "
		"mkdir -m 700 '%s/gnupg2' && GNUPGHOME='%s/gnupg2' gpg --batch "
		"--passphrase '' --quick-gen-key 'Other <o@example.com>' ed25519 sign "
		"never && (GNUPGHOME='%s/gnupg2' gpg --batch --export > '%s')",
		d, d, d, keyring, d, d, d, other_keyring) != 0)
		have_gpg = false;
	if (have_gpg)
		gpg_opts = xasprintf("-c gpg.format=openpgp -c user.signingkey=alice@example.com "
				     "-c commit.gpgsign=true");
	setenv("TMPDIR", tmp, 1);

	/* main: a signed commit, then an unsigned one pushed on top */
	signed_id = sig_commit("main", alice_opts, "signed by alice");
	rc = fetch_verify(&s, cache, NULL, allowed, NULL, false);
	ok(rc == 0, "a commit signed by an allowed SSH key is accepted");
	if (rc < 0)
		printf("#   %s\n", error_last());
	is_str(s.commit, signed_id, "the signed commit");
	ok(s.signer && !strncmp(s.signer, "alice@example.com with ED25519 key SHA256:", 42),
	   "the signer is named: %s", s.signer ? s.signer : "(null)");
	ok(s.nfiles == 1, "its files are read");
	source_snapshot_release(&s);
	ok(dir_empty(tmp), "no temporary files left");

	unsigned_id = sig_commit("main", "", "unsigned on top");
	rc = fetch_verify(&s, cache, NULL, allowed, NULL, false);
	ok(rc < 0 && refused(unsigned_id, "not signed"),
	   "an unsigned commit on top of a signed one is refused");
	ok(s.nfiles == 0 && !s.signer && !s.commit[0], "nothing returned");
	rc = fetch_verify(&s, cache, "main", allowed, NULL, false);
	ok(rc < 0, "also when named by --ref");
	{
		struct source_options o;

		memset(&o, 0, sizeof(o));
		o.url = SURL;
		o.cache_dir = cache;
		rc = source_fetch(&s, &o);
		ok(rc == 0 && !strcmp(s.commit, unsigned_id) && !s.signer,
		   "without verify_signatures an unsigned commit is fine");
		source_snapshot_release(&s);
	}

	/* offline: the cached commit is checked too */
	run("mv '%s' '%s.away'", remote, remote);
	rc = fetch_verify(&s, cache, NULL, allowed, NULL, true);
	ok(rc < 0 && error_has("cached copy cannot be used either") &&
	   refused(unsigned_id, "not signed"), "offline: an unsigned cached commit is refused");
	rc = fetch_verify(&s, cache, signed_id, allowed, NULL, true);
	ok(rc == 0 && s.offline && s.signer, "offline: a signed cached commit is used");
	source_snapshot_release(&s);
	run("mv '%s.away' '%s'", remote, remote);

	mallory_id = sig_commit("mallory", mallory_opts, "signed by mallory");
	rc = fetch_verify(&s, cache, "mallory", allowed, NULL, false);
	ok(rc < 0 && refused(mallory_id, "signer not allowed: ED25519 key SHA256:") &&
	   error_has("is not in the allowed signers file"),
	   "a commit signed by another SSH key is refused");

	tampered_id = sig_tamper(signed_id, "tampered");
	rc = fetch_verify(&s, cache, "tampered", allowed, NULL, false);
	ok(rc < 0 && refused(tampered_id, "bad signature by 'alice@example.com'"),
	   "a signature over other data is refused");
	rc = fetch_verify(&s, cache, signed_id, NULL, keyring, false);
	ok(rc < 0 && refused(signed_id, "cannot check its SSH signature: no "
			     "--allowed-signers"), "an SSH signature needs allowed signers");
	rc = fetch_verify(&s, cache, signed_id, "/nonexistent/allowed", NULL, false);
	ok(rc < 0 && error_has("cannot read the allowed signers file '/nonexistent/allowed'"),
	   "an unreadable allowed signers file is named");

	setenv("PATH", tmp, 1);
	rc = fetch_verify(&s, cache, signed_id, allowed, NULL, false);
	setenv("PATH", path, 1);
	ok(rc < 0 && error_has("'ssh-keygen' is not installed") &&
	   error_has("install the openssh-client package"),
	   "a missing ssh-keygen names its package");

	if (!have_gpg) {
		skip("gpg or gpgv missing, or no key could be made", "GPG signatures");
		goto done;
	}
	/* git signs with the user's GnuPG home; cara must not need it */
	gnupghome = xasprintf("%s/gnupg", d);
	setenv("GNUPGHOME", gnupghome, 1);
	gpg_id = sig_commit("gpg", gpg_opts, "signed with gpg");
	setenv("GNUPGHOME", tmp, 1);
	rc = fetch_verify(&s, cache, "gpg", NULL, keyring, false);
	ok(rc == 0, "a commit signed by a GPG key of the keyring is accepted");
	if (rc < 0)
		printf("#   %s\n", error_last());
	ok(s.signer && strstr(s.signer, "Alice <alice@example.com> (GPG key "),
	   "the GPG signer is named: %s", s.signer ? s.signer : "(null)");
	source_snapshot_release(&s);
	rc = fetch_verify(&s, cache, "gpg", allowed, other_keyring, false);
	ok(rc < 0 && refused(gpg_id, "signer not allowed: GPG key "),
	   "a GPG key not in the keyring is refused");
	rc = fetch_verify(&s, cache, "gpg", allowed, NULL, false);
	ok(rc < 0 && refused(gpg_id, "cannot check its GPG signature"),
	   "a GPG signature needs a keyring");
	gpg_bad = sig_tamper(gpg_id, "gpgtampered");
	rc = fetch_verify(&s, cache, "gpgtampered", NULL, keyring, false);
	ok(rc < 0 && refused(gpg_bad, "bad signature by GPG key"),
	   "a GPG signature over other data is refused");
	setenv("PATH", tmp, 1);
	rc = fetch_verify(&s, cache, "gpg", NULL, keyring, false);
	setenv("PATH", path, 1);
	ok(rc < 0 && error_has("install the gpgv package"), "a missing gpgv names its package");
	unsetenv("GNUPGHOME");
	free(gnupghome);
	free(gpg_id);
	free(gpg_bad);
done:
	ok(dir_empty(tmp), "no temporary files left after refusals");
	if (saved_tmp)
		setenv("TMPDIR", saved_tmp, 1);
	else
		unsetenv("TMPDIR");
	free(signed_id);
	free(unsigned_id);
	free(mallory_id);
	free(tampered_id);
	free(alice_opts);
	free(mallory_opts);
	free(gpg_opts);
	free(SW);
	free(SURL);
out:
	free(saved_tmp);
	free(path);
	free(d);
	free(cache);
	free(allowed);
	free(keyring);
	free(other_keyring);
	free(tmp);
	free(remote);
}

int main(void)
{
	char templ[] = "/tmp/cara-test-source-XXXXXX";
	char *home;

	test_redact();
	if (!mkdtemp(templ)) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return tap_done();
	}
	T = templ;
	/* keep the user's git configuration out of both git and libgit2 */
	home = xasprintf("%s/home", T);
	mkdir(home, 0700);
	setenv("HOME", home, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("XDG_CONFIG_HOME", home, 1);

	make_fixture();
	test_clone();
	test_paths();
	test_refs();
	test_rewrites();
	test_corrupt();
	test_offline();
	test_cache_dir();
	test_limits();
	test_secrets();
	test_daemon();
	test_signatures();

	run("rm -rf '%s'", T);
	ok(!exists(T), "temporary directory removed");
	free(home);
	free(first);
	free(second);
	free(W);
	free(R);
	free(URL);
	return tap_done();
}
