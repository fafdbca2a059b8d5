/*
 * test-util.c - buffers, durations, timestamps, sizes, base64, sha256,
 * the tar of a build context (files_tar, read back by tar(1)).
 */
/* Fixtures are made and removed with shell commands (see banned.h). */
#define CARA_BANNED_ALLOW_SHELL
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <errno.h>

#include "config.h"
#include "files.h"
#include "tap.h"
#include "util.h"

static void test_base64(void)
{
	/* RFC 4648 section 10, plus bytes that differ between the alphabets */
	static const struct {
		const char *in; size_t n; unsigned flags; const char *out;
	} enc[] = {
		{ "", 0, 0, "" },
		{ "f", 1, 0, "Zg==" },
		{ "fo", 2, 0, "Zm8=" },
		{ "foo", 3, 0, "Zm9v" },
		{ "foob", 4, 0, "Zm9vYg==" },
		{ "fooba", 5, 0, "Zm9vYmE=" },
		{ "foobar", 6, 0, "Zm9vYmFy" },
		{ "f", 1, BASE64_NOPAD, "Zg" },
		{ "fo", 2, BASE64_NOPAD, "Zm8" },
		{ "foo", 3, BASE64_NOPAD, "Zm9v" },
		{ "\xfb\xff\xbf", 3, 0, "+/+/" },
		{ "\xfb\xff\xbf", 3, BASE64_URL, "-_-_" },
		{ "\xfb\xff", 2, BASE64_URL, "-_8=" },
		{ "\xfb\xff", 2, BASE64_URL | BASE64_NOPAD, "-_8" },
	};
	static const struct {
		const char *in; unsigned flags; int rc; const char *out; size_t n;
	} dec[] = {
		{ "", 0, 0, "", 0 },
		{ "Zg==", 0, 0, "f", 1 },
		{ "Zg", 0, 0, "f", 1 },              /* padding is optional */
		{ "Zm8=", 0, 0, "fo", 2 },
		{ "Zm9vYmFy", 0, 0, "foobar", 6 },
		{ "+/+/", 0, 0, "\xfb\xff\xbf", 3 },
		{ "-_-_", BASE64_URL, 0, "\xfb\xff\xbf", 3 },
		{ "+/-_", BASE64_URL, 0, "\xfb\xff\xbf", 3 },  /* either, when asked */
		{ "-_-_", 0, -1, NULL, 0 },          /* URL-safe only when asked */
		{ "Zm9v!", 0, -1, NULL, 0 },         /* not in the alphabet */
		{ "Zm=9", 0, -1, NULL, 0 },          /* '=' only at the end */
		{ "Zm9vY", 0, -1, NULL, 0 },         /* 4k+1 characters */
		{ "Z===", 0, -1, NULL, 0 },
		{ "Zm 9", 0, -1, NULL, 0 },
	};
	struct buf b = BUF_INIT;
	size_t i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(enc); i++) {
		buf_reset(&b);
		base64_encode(&b, enc[i].in, enc[i].n, enc[i].flags);
		is_str(buf_cstr(&b), enc[i].out, "base64 encode #%zu (flags %u)", i,
		       enc[i].flags);
	}
	for (i = 0; i < ARRAY_SIZE(dec); i++) {
		buf_reset(&b);
		rc = base64_decode(&b, dec[i].in, strlen(dec[i].in), dec[i].flags);
		is_int(rc, dec[i].rc, "base64 decode '%s' (flags %u)", dec[i].in,
		       dec[i].flags);
		if (!rc)
			ok(b.len == dec[i].n && !memcmp(buf_cstr(&b), dec[i].out, b.len),
			   "base64 decode '%s': the bytes", dec[i].in);
	}
	/* the length bounds what is read: a NUL inside it is a bad character */
	buf_reset(&b);
	is_int(base64_decode(&b, "Zm\0v", 4, 0), -1, "base64 decode: NUL refused");
	buf_reset(&b);
	is_int(base64_decode(&b, "Zm9vYmFy", 4, 0), 0, "base64 decode: n bounds");
	is_int((int)b.len, 3, "base64 decode: only n characters read");
	buf_release(&b);
}

static void test_sha256(void)
{
	static const struct { const char *in; const char *hex; } v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	char out[65];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		sha256_hex(v[i].in, strlen(v[i].in), out);
		is_str(out, v[i].hex, "sha256 of '%.10s'", v[i].in);
	}
	{
		/* one million 'a': crosses many blocks */
		char *m = malloc(1000000);
		memset(m, 'a', 1000000);
		sha256_hex(m, 1000000, out);
		is_str(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
		       "sha256 of a million 'a'");
		free(m);
	}
}

static void test_durations(void)
{
	static const struct { const char *in; int ok; int64_t ms; } v[] = {
		{ "10s", 0, 10000 }, { "500ms", 0, 500 }, { "1m30s", 0, 90000 },
		{ "1h", 0, 3600000 }, { "1.5s", 0, 1500 }, { "30", 0, 30000 },
		{ "2m", 0, 120000 }, { "", -1, 0 }, { "10x", -1, 0 }, { "s", -1, 0 },
		{ "-1s", -1, 0 }, { "1s ", -1, 0 }, { "abc", -1, 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		int64_t ms = -7;
		int rc = parse_duration_ms(v[i].in, &ms);
		ok(rc == v[i].ok && (rc || ms == v[i].ms), "duration '%s' -> %d %lld",
		   v[i].in, rc, (long long)ms);
	}
}

static void test_rfc3339(void)
{
	static const struct { const char *in; int ok; int64_t t; } v[] = {
		{ "1970-01-01T00:00:00Z", 0, 0 },
		{ "2026-12-01T00:00:00Z", 0, 1796083200 },
		{ "2026-12-01T02:00:00+02:00", 0, 1796083200 },
		{ "2026-11-30T19:00:00-05:00", 0, 1796083200 },
		{ "2026-12-01T00:00:00.123Z", 0, 1796083200 },
		{ "2024-02-29T00:00:00Z", 0, 1709164800 },
		{ "2023-02-29T00:00:00Z", -1, 0 },
		{ "2026-13-01T00:00:00Z", -1, 0 },
		{ "2026-12-01", -1, 0 },
		{ "2026-12-01T00:00:00", -1, 0 },
		{ "tomorrow", -1, 0 },
		{ "2026-12-01T25:00:00Z", -1, 0 },
	};
	char out[21];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		int64_t t = -7;
		int rc = parse_rfc3339(v[i].in, &t);
		ok(rc == v[i].ok && (rc || t == v[i].t), "rfc3339 '%s' -> %d %lld",
		   v[i].in, rc, (long long)t);
	}
	format_rfc3339(1796083200, out);
	is_str(out, "2026-12-01T00:00:00Z", "format_rfc3339");
}

static void test_memory(void)
{
	int64_t b;

	ok(!parse_memory("512m", &b) && b == 512LL << 20, "memory 512m");
	ok(!parse_memory("1g", &b) && b == 1LL << 30, "memory 1g");
	ok(!parse_memory("64MiB", &b) && b == 64LL << 20, "memory 64MiB");
	ok(!parse_memory("1048576", &b) && b == 1048576, "memory bytes");
	ok(parse_memory("lots", &b) < 0, "memory 'lots' refused");
	ok(parse_memory("1t", &b) < 0, "memory unknown suffix refused");
}

static void test_buf(void)
{
	struct buf b = BUF_INIT;
	struct strvec sv = STRVEC_INIT;
	char *s;

	is_str(buf_cstr(&b), "", "empty buf reads as \"\"");
	buf_printf(&b, "%s-%d", "x", 42);
	buf_json_str(&b, "a\"b\\c\n\x01");
	is_str(buf_cstr(&b), "x-42\"a\\\"b\\\\c\\n\\u0001\"", "printf and json escaping");
	s = buf_detach(&b);
	ok(b.ptr == NULL && b.len == 0, "detach leaves buf empty");
	free(s);
	strvec_push(&sv, "a");
	strvec_push(&sv, "b");
	ok(sv.n == 2 && strvec_has(&sv, "b") && !strvec_has(&sv, "c") && !sv.v[2],
	   "strvec push/has, NULL-terminated");
	strvec_release(&sv);
}

static void test_errors_and_diags(void)
{
	struct diags d = DIAGS_INIT;
	struct buf b = BUF_INIT;
	long long v;

	error_set("cannot open '%s'", "x.yaml");
	is_str(error_last(), "cannot open 'x.yaml'", "error_set sets");
	error_clear();
	is_str(error_last(), "unknown error", "cleared error");

	diags_add(&d, DIAG_ERROR, "b.yaml", 3, 1, "spec", "bad");
	diags_add(&d, DIAG_WARNING, "a.yaml", 9, 2, "metadata.labelz", "unknown field");
	diags_add(&d, DIAG_ERROR, "a.yaml", 2, 5, "", "syntax");
	diags_sort(&d);
	diag_format(&b, &d.v[0]);
	is_str(buf_cstr(&b), "a.yaml:2:5: syntax", "diag without path");
	buf_reset(&b);
	diag_format(&b, &d.v[1]);
	is_str(buf_cstr(&b), "a.yaml:9:2: warning: metadata.labelz: unknown field",
	       "warning format");
	ok(d.nerrors == 2 && d.nwarnings == 1, "diag counts");
	buf_release(&b);
	diags_release(&d);

	ok(!parse_ll("42", 0, 100, &v) && v == 42, "parse_ll ok");
	ok(parse_ll("42x", 0, 100, &v) < 0, "parse_ll trailing junk");
	ok(parse_ll("101", 0, 100, &v) < 0, "parse_ll out of range");
	ok(parse_ll(" 1", 0, 100, &v) < 0, "parse_ll leading space");
}

static void test_path_clean(void)
{
	static const char *const cases[][2] = {
		{ "/", "/" }, { "//", "/" }, { "/d", "/d" }, { "/d/", "/d" },
		{ "//d//e/", "/d/e" }, { "/d/./e", "/d/e" }, { "/d/..", "/" },
		{ "/d/../e", "/e" }, { "/../..", "/" }, { "/a/b/../../c/.", "/c" },
		{ "/..d/.e", "/..d/.e" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *c = path_clean(cases[i][0]);
		is_str(c, cases[i][1], "path_clean(\"%s\")", cases[i][0]);
		free(c);
	}
}

static void test_env_patterns(void)
{
	ok(!env_pattern_check("APP_*") && !env_pattern_check("TAG") &&
	   env_pattern_check("*") && env_pattern_check("A*B") &&
	   env_pattern_check("9X") && env_pattern_check(""), "env_pattern_check");
	ok(env_pattern_match("APP_*", "APP_X") && env_pattern_match("APP_*", "APP_") &&
	   !env_pattern_match("APP_*", "APP") && env_pattern_match("TAG", "TAG") &&
	   !env_pattern_match("TAG", "TAGS"), "env_pattern_match");
}

static void test_read_regular_file(void)
{
	char dir[] = "/tmp/cara-test-util-XXXXXX", *f, *fifo;
	struct buf b = BUF_INIT;
	FILE *fp;

	if (!ok(mkdtemp(dir) != NULL, "temp dir"))
		return;
	f = xasprintf("%s/f", dir);
	fifo = xasprintf("%s/fifo", dir);
	fp = fopen(f, "w");
	fputs("0123456789", fp);
	fclose(fp);
	ok(read_regular_file(f, 10, &b) == 0 && b.len == 10, "a file at the cap is read");
	ok(read_regular_file(f, 9, &b) < 0 && errno == EFBIG && b.len == 0,
	   "a file over the cap: EFBIG, nothing kept");
	ok(read_regular_file(dir, 100, &b) < 0 && errno == EINVAL, "a directory: EINVAL");
	ok(mkfifo(fifo, 0600) == 0 && read_regular_file(fifo, 100, &b) < 0 &&
	   errno == EINVAL, "a FIFO without a writer: EINVAL at once");
	ok(read_regular_file("/dev/zero", 100, &b) < 0 && errno == EINVAL,
	   "a device: EINVAL");
	unlink(fifo);
	unlink(f);
	rmdir(dir);
	free(f);
	free(fifo);
	buf_release(&b);
}

static void test_path_resolve_beneath(void)
{
	char dir[] = "/tmp/cara-test-util-XXXXXX";
	char *root, *cmd, *r, *want;

	if (!ok(mkdtemp(dir) != NULL, "temp dir"))
		return;
	root = xasprintf("%s/root", dir);
	cmd = xasprintf("mkdir -p %s/root/a/b %s/real/x && ln -s / %s/root/esc && "
			"ln -s b %s/root/a/lb && ln -s %s/real %s/link && "
			"touch %s/root/a/f", dir, dir, dir, dir, dir, dir, dir);
	ok(system(cmd) == 0, "tree made");
	free(cmd);

	want = xasprintf("%s/a/b", root);
	r = path_resolve_beneath(root, want);
	is_str(r, want, "a plain directory resolves to itself");
	free(r);
	free(want);
	r = xasprintf("%s/a//b/", root);
	want = path_resolve_beneath(root, r);
	ok(want && !strcmp(want + strlen(want) - 4, "/a/b"), "written loosely, cleaned");
	free(want);
	free(r);
	r = xasprintf("%s/esc/etc", root);
	ok(!path_resolve_beneath(root, r) && strstr(error_last(), "/esc' is a symbolic link"),
	   "a link to / below the root is refused");
	free(r);
	r = xasprintf("%s/a/lb", root);
	ok(!path_resolve_beneath(root, r) && strstr(error_last(), "symbolic link"),
	   "even a link that stays inside is refused");
	free(r);
	r = xasprintf("%s/a/missing", root);
	ok(!path_resolve_beneath(root, r) && strstr(error_last(), "does not exist"),
	   "a missing directory is refused");
	free(r);
	r = xasprintf("%s/a/f/x", root);
	ok(!path_resolve_beneath(root, r) && strstr(error_last(), "not a directory"),
	   "a file in the middle is refused");
	free(r);
	r = xasprintf("%s/other", dir);
	ok(!path_resolve_beneath(root, r) && errno == EXDEV, "a path outside: EXDEV");
	free(r);
	free(root);
	root = xasprintf("%s/link", dir);
	r = xasprintf("%s/link/x", dir);
	want = path_resolve_beneath(root, r);
	ok(want && strstr(want, "/real/x") && !strstr(want, "/link"),
	   "the root may be a link: the real path is returned");
	free(want);
	free(r);
	free(root);
	cmd = xasprintf("rm -rf %s", dir);
	ok(system(cmd) == 0, "cleaned up");
	free(cmd);
}

static void test_image_check(void)
{
	int64_t v = 99;

	ok(config_parse_image_check("never", &v) == 0 && v == -1, "--image-check never");
	ok(config_parse_image_check(NULL, &v) == 0 && v == -1, "unset is never");
	ok(config_parse_image_check("always", &v) == 0 && v == 0, "always");
	ok(config_parse_image_check("30m", &v) == 0 && v == 1800, "30m");
	ok(config_parse_image_check("1h30m", &v) == 0 && v == 5400, "1h30m");
	is_int(config_parse_image_check("sometimes", &v), -1, "a word is refused");
	ok(strstr(error_last(), "'sometimes' is not never, always or a duration") != NULL,
	   "saying what it takes: %s", error_last());
	is_int(config_parse_image_check("500ms", &v), -1, "less than a second is refused");
}


static void test_files_tar(void)
{
	char longp[300], longer[300], dir[] = "/tmp/cara-tar.XXXXXX", *cmd;
	struct file_entry f[4];
	struct buf tar = BUF_INIT, name = BUF_INIT;
	FILE *fp;
	int rc;

	/* a long path: 120 bytes of directories, then the name */
	memset(longp, 'd', 120);
	longp[60] = '/';
	longp[120] = '/';
	memcpy(longp + 121, "file.txt", 9);
	memset(longer, 'x', 270);
	longer[270] = '\0';
	memset(f, 0, sizeof(f));
	f[0].path = "Dockerfile"; f[0].data = "FROM busybox\n"; f[0].len = 13;
	f[1].path = "bin/run.sh"; f[1].data = "#!/bin/sh\n"; f[1].len = 10; f[1].exec = true;
	f[2].path = longp; f[2].data = "long"; f[2].len = 4;
	f[3].path = "empty"; f[3].data = ""; f[3].len = 0;
	ok(files_tar(&tar, f, 4) == 0 && tar.len % 512 == 0, "a tar of four files");
	ok(mkdtemp(dir) != NULL, "a directory to read it back in");
	buf_printf(&name, "%s/c.tar", dir);
	fp = fopen(buf_cstr(&name), "wb");
	ok(fp && fwrite(tar.ptr, 1, tar.len, fp) == tar.len, "  written");
	if (fp)
		fclose(fp);
	cmd = xasprintf("cd %s && tar -xf c.tar && test \"$(cat Dockerfile)\" = 'FROM busybox' "
			"&& test -x bin/run.sh && test ! -x Dockerfile && test \"$(cat %s)\" = long "
			"&& test -f empty && test ! -s empty", dir, longp);
	rc = system(cmd);
	ok(rc == 0, "tar(1) reads it back: contents, modes, a 129-byte path");
	free(cmd);
	buf_reset(&tar);
	ok(files_tar(&tar, f, 4) == 0, "the same files again");
	{
		struct buf again = BUF_INIT;

		files_tar(&again, f, 4);
		ok(again.len == tar.len && !memcmp(again.ptr, tar.ptr, tar.len),
		   "  the same bytes (no time, no owner in it)");
		buf_release(&again);
	}
	f[0].path = longer;
	buf_reset(&tar);
	ok(files_tar(&tar, f, 1) < 0 && strstr(error_last(), "too long"),
	   "a path past 255 bytes is refused");
	cmd = xasprintf("rm -rf %s", dir);
	ok(system(cmd) == 0, "cleaned up");
	free(cmd);
	buf_release(&tar);
	buf_release(&name);
}

int main(void)
{
	test_files_tar();
	test_image_check();
	test_path_resolve_beneath();
	test_path_clean();
	test_env_patterns();
	test_read_regular_file();
	test_base64();
	test_sha256();
	test_durations();
	test_rfc3339();
	test_memory();
	test_buf();
	test_errors_and_diags();
	return tap_done();
}
