/*
 * source/signature.c - commit signatures checked with the tools git itself uses:
 * ssh-keygen -Y for SSH signatures (against an allowed_signers file, as
 * git's gpg.ssh.allowedSignersFile) and gpgv for GPG signatures (against a
 * keyring in which every key is trusted, as apt uses it).
 *
 * Invariants: the tools are run with fork/execve (tool.c), never through
 * a shell, with a fixed argument vector; what they read (the signature and the
 * signed bytes) is written to a fresh mkdtemp() directory of mode 0700
 * that is removed afterwards, and that directory is also gpgv's
 * GNUPGHOME, so no GnuPG state of the user cara runs as is read or
 * written.  A verdict is "good" only when the tool exits 0 *and* says so
 * in its output; anything else is a refusal.  Output is capped and a tool
 * that hangs is killed after TOOL_TIMEOUT_S seconds.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include "source/signature.h"
#include "tool.h"
#include "util.h"

#define TOOL_TIMEOUT_S 60
#define TOOL_OUTPUT_MAX (64 << 10)

extern char **environ;

static const char ssh_armor[] = "-----BEGIN SSH SIGNATURE-----";
static const char pgp_armor[] = "-----BEGIN PGP SIGNATURE-----";

/* ---- running a tool ---- */

/* environ without GNUPGHOME and the locale, plus GNUPGHOME=home and
 * LC_ALL=C so that the tools' words are the ones matched here. */
static void tool_env(struct strvec *env, const char *home)
{
	char **e;

	for (e = environ; e && *e; e++)
		if (strncmp(*e, "GNUPGHOME=", 10) && strncmp(*e, "LC_ALL=", 7) &&
		    strncmp(*e, "LANGUAGE=", 9))
			strvec_push(env, *e);
	strvec_push_nodup(env, xasprintf("GNUPGHOME=%s", home));
	strvec_push(env, "LC_ALL=C");
}

/*
 * Run argv[0] (looked up in PATH) with stdin from stdin_path, its stdout
 * and stderr captured into r.  0 once it has exited (whatever its status:
 * the caller judges), -1 when it is missing (naming the package that has
 * it), could not be run or did not finish.
 */
static int run_tool(struct tool_result *r, const char *const *argv,
		    const char *package, const char *stdin_path, const char *home)
{
	struct strvec env = STRVEC_INIT;
	struct tool_opts o = {
		.argv = argv,
		.stdin_path = stdin_path,
		.timeout_ms = TOOL_TIMEOUT_S * 1000,
		.output_max = TOOL_OUTPUT_MAX,
	};
	char *path = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	if (tool_find(&path, argv[0], 0) < 0)
		return error_set("'%s' is not installed (not found in PATH), and "
				 "--verify-signatures needs it: install the %s package",
				 argv[0], package);
	tool_env(&env, home);
	o.path = path;
	o.env = env.v;
	rc = tool_run(r, &o);
	strvec_release(&env);
	free(path);
	return rc;
}

/* The last non-empty line of a tool's output, for messages (caller frees). */
static char *last_line(const struct buf *b)
{
	char *line = tool_last_line(b);

	return line ? line : xstrdup("no output");
}

/* The lines of b other than skip, joined with "; " (NULL if none; caller
 * frees): what a tool said besides its usual refusal. */
static char *other_lines(const struct buf *b, const char *skip)
{
	struct buf o = BUF_INIT;
	const char *p;
	size_t n;

	for (p = buf_cstr(b); *p; p += n + (p[n] != '\0')) {
		n = strcspn(p, "\r\n");
		if (!n || (strlen(skip) == n && !strncmp(p, skip, n)))
			continue;
		if (o.len)
			buf_puts(&o, "; ");
		buf_add(&o, p, n);
	}
	return o.len ? buf_detach(&o) : NULL;
}

/* ---- the private directory ---- */

static int write_all(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return error_set("cannot create '%s': %s", path, strerror(errno));
	if (write_full(fd, data, len) < 0) {
		error_set("cannot write '%s': %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return error_set("cannot write '%s': %s", path, strerror(errno));
	return 0;
}

/* A new directory of mode 0700 under $TMPDIR or /tmp; caller frees. */
static int workdir_new(char **out)
{
	const char *base = getenv("TMPDIR");
	char *dir;

	if (!base || *base != '/')
		base = "/tmp";
	dir = xasprintf("%s/cara-sig.XXXXXX", base);
	if (!mkdtemp(dir)) {
		error_set("cannot create a temporary directory in '%s': %s", base,
			  strerror(errno));
		free(dir);
		*out = NULL;
		return -1;
	}
	*out = dir;
	return 0;
}

/* Remove dir and what the tools may have left in it (one level deep;
 * gpgv creates nothing, but a lock file or an empty directory would not
 * stop the removal).  Best effort: it holds only public data. */
static void workdir_remove(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if (!dir)
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && (d = fdopendir(fd))) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
			    unlinkat(fd, de->d_name, 0) < 0 && errno == EISDIR)
				unlinkat(fd, de->d_name, AT_REMOVEDIR);
		closedir(d);
	} else if (fd >= 0) {
		close(fd);
	}
	rmdir(dir);
}

/* ---- SSH: ssh-keygen -Y ---- */

/* "ED25519 key SHA256:..." of the key that made the signature, from
 * check-novalidate (which checks the signature against its own key only).
 * NULL when even that fails: the signature is damaged or not over data. */
static char *ssh_signing_key(const char *dir, char **why)
{
	static const char good[] = "Good \"git\" signature with ";
	char *sig = xasprintf("%s/sig", dir), *data = xasprintf("%s/data", dir);
	const char *argv[] = { "ssh-keygen", "-Y", "check-novalidate", "-n", "git",
			       "-s", sig, NULL };
	struct tool_result r;
	char *key = NULL;
	const char *s;

	*why = NULL;
	if (run_tool(&r, argv, "openssh-client", data, dir) < 0) {
		*why = xstrdup(error_last());
		goto out;
	}
	s = buf_cstr(&r.out);
	if (r.status == 0 && (s = strstr(s, good)))
		key = xstrndup(s + sizeof(good) - 1, strcspn(s + sizeof(good) - 1, "\r\n"));
	else
		*why = last_line(r.err.len ? &r.err : &r.out);
	tool_result_release(&r);
out:
	free(sig);
	free(data);
	return key;
}

static int verify_ssh(char **signer_out, const char *dir, const char *allowed)
{
	static const char good[] = "Good \"git\" signature for ";
	char *sig = xasprintf("%s/sig", dir), *data = xasprintf("%s/data", dir);
	const char *find[] = { "ssh-keygen", "-Y", "find-principals", "-f", allowed,
			       "-s", sig, NULL };
	const char *verify[] = { "ssh-keygen", "-Y", "verify", "-f", allowed,
				 "-I", NULL, "-n", "git", "-s", sig, NULL };
	struct strvec principals = STRVEC_INIT;
	struct tool_result r;
	char *key, *why = NULL, *nv_why = NULL;
	const char *p, *s;
	size_t i, n;
	int rc = -1;

	if (run_tool(&r, find, "openssh-client", NULL, dir) < 0)
		goto out;
	for (p = buf_cstr(&r.out); r.status == 0 && *p; p += n + (p[n] != '\0')) {
		n = strcspn(p, "\r\n");
		if (n)
			strvec_push_nodup(&principals, xstrndup(p, n));
	}
	if (!principals.n) {
		/* "No principal matched." and, for a key that is listed but
		 * not valid now, why not */
		why = other_lines(&r.err, "No principal matched.");
		tool_result_release(&r);
		key = ssh_signing_key(dir, &nv_why);
		if (key)
			error_set("signer not allowed: %s is not in the allowed "
				  "signers file '%s'%s%s%s", key, allowed,
				  why ? " (ssh-keygen: " : "", why ? why : "",
				  why ? ")" : "");
		else
			error_set("bad signature (ssh-keygen: %s), by a key that is "
				  "not in the allowed signers file '%s' either", nv_why,
				  allowed);
		free(key);
		goto out;
	}
	tool_result_release(&r);
	/* as git does: the first principal whose key verifies the signature */
	for (i = 0; i < principals.n; i++) {
		verify[6] = principals.v[i];
		if (run_tool(&r, verify, "openssh-client", data, dir) < 0)
			goto out;
		s = buf_cstr(&r.out);
		if (r.status == 0 && !strncmp(s, good, sizeof(good) - 1)) {
			s += sizeof(good) - 1;
			*signer_out = xstrndup(s, strcspn(s, "\r\n"));
			tool_result_release(&r);
			rc = 0;
			goto out;
		}
		free(why);
		why = last_line(r.err.len ? &r.err : &r.out);
		tool_result_release(&r);
	}
	if (strstr(why, "incorrect signature"))
		error_set("bad signature by '%s': the commit is not what was signed "
			  "(ssh-keygen: %s)", principals.v[0], why);
	else    /* listed, but for another namespace or another time */
		error_set("signer not allowed: the key of '%s' is in '%s' but may "
			  "not sign git commits now (ssh-keygen: %s)", principals.v[0],
			  allowed, why);
out:
	strvec_release(&principals);
	free(why);
	free(nv_why);
	free(sig);
	free(data);
	return rc;
}

/* ---- GPG: gpgv ---- */

/* Field i (0-based, after the keyword) of a status line's arguments. */
static char *status_field(const char *args, int i)
{
	size_t n;

	while (i-- > 0 && *args) {
		args += strcspn(args, " ");
		args += strspn(args, " ");
	}
	n = strcspn(args, " ");
	return n ? xstrndup(args, n) : NULL;
}

struct gpg_status {
	char *good_uid, *good_keyid, *fpr, *primary_fpr;
	char *bad, *nokey, *expkey, *revkey, *expsig;
};

static void gpg_status_release(struct gpg_status *g)
{
	free(g->good_uid);
	free(g->good_keyid);
	free(g->fpr);
	free(g->primary_fpr);
	free(g->bad);
	free(g->nokey);
	free(g->expkey);
	free(g->revkey);
	free(g->expsig);
}

static void set_once(char **field, char *value)
{
	if (*field)
		free(value);
	else
		*field = value;
}

static void gpg_parse(struct gpg_status *g, const char *text)
{
	static const char prefix[] = "[GNUPG:] ";
	const char *line, *args;
	size_t n, kw;

	memset(g, 0, sizeof(*g));
	for (line = text; *line; line += n + (line[n] != '\0')) {
		n = strcspn(line, "\n");
		if (strncmp(line, prefix, sizeof(prefix) - 1))
			continue;
		args = line + sizeof(prefix) - 1;
		kw = strcspn(args, " \n");
		if (args[kw] == ' ')
			args += kw + 1;
		else
			args += kw;
#define KW(s) (kw == sizeof(s) - 1 && !strncmp(line + sizeof(prefix) - 1, s, kw))
		if (KW("GOODSIG")) {
			size_t id = strcspn(args, " \n");

			set_once(&g->good_keyid, xstrndup(args, id));
			args += id + (args[id] == ' ');
			set_once(&g->good_uid, xstrndup(args, strcspn(args, "\n")));
		} else if (KW("VALIDSIG")) {
			char *line_copy = xstrndup(args, strcspn(args, "\n"));

			set_once(&g->fpr, status_field(line_copy, 0));
			set_once(&g->primary_fpr, status_field(line_copy, 9));
			free(line_copy);
		} else if (KW("BADSIG")) {
			set_once(&g->bad, xstrndup(args, strcspn(args, "\n")));
		} else if (KW("NO_PUBKEY") || KW("ERRSIG")) {
			set_once(&g->nokey, xstrndup(args, strcspn(args, " \n")));
		} else if (KW("EXPKEYSIG")) {
			set_once(&g->expkey, xstrndup(args, strcspn(args, "\n")));
		} else if (KW("REVKEYSIG")) {
			set_once(&g->revkey, xstrndup(args, strcspn(args, "\n")));
		} else if (KW("EXPSIG")) {
			set_once(&g->expsig, xstrndup(args, strcspn(args, "\n")));
		}
#undef KW
	}
}

static int verify_gpg(char **signer_out, const char *dir, const char *keyring)
{
	char *sig = xasprintf("%s/sig", dir), *data = xasprintf("%s/data", dir);
	char *abs = NULL, *why = NULL;
	const char *argv[] = { "gpgv", "--status-fd", "1", "--keyring", NULL, sig,
			       data, NULL };
	struct gpg_status g;
	struct tool_result r;
	int rc = -1;

	memset(&g, 0, sizeof(g));
	/* gpgv looks a name without a '/' up in GNUPGHOME: give it a path */
	abs = realpath(keyring, NULL);
	if (!abs) {
		error_set("cannot read the GPG keyring '%s': %s", keyring, strerror(errno));
		goto out;
	}
	argv[4] = abs;
	if (run_tool(&r, argv, "gpgv", NULL, dir) < 0)
		goto out;
	gpg_parse(&g, buf_cstr(&r.out));
	why = last_line(&r.err);
	if (r.status == 0 && g.good_keyid && g.fpr && !g.bad && !g.nokey &&
	    !g.expkey && !g.revkey && !g.expsig) {
		*signer_out = xasprintf("%s (GPG key %s)", g.good_uid ? g.good_uid : "",
					g.primary_fpr ? g.primary_fpr : g.fpr);
		rc = 0;
	} else if (g.bad) {
		error_set("bad signature by GPG key %s: the commit is not what "
			  "was signed", g.bad);
	} else if (g.nokey) {
		error_set("signer not allowed: GPG key %s is not in the keyring '%s'",
			  g.nokey, keyring);
	} else if (g.revkey) {
		error_set("signer not allowed: the GPG key %s is revoked", g.revkey);
	} else if (g.expkey) {
		error_set("signer not allowed: the GPG key %s has expired", g.expkey);
	} else if (g.expsig) {
		error_set("bad signature: the GPG signature by %s has expired", g.expsig);
	} else {
		error_set("bad signature: gpgv could not verify it (exit %d: %s)",
			  r.status, why);
	}
	tool_result_release(&r);
out:
	gpg_status_release(&g);
	free(why);
	free(abs);
	free(sig);
	free(data);
	return rc;
}

/* ---- entry point ---- */

static bool starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !memcmp(s, prefix, n);
}

static int readable(const char *file, const char *what)
{
	struct stat st;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return error_set("cannot read the %s '%s': %s", what, file,
				 strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return error_set("the %s '%s' is not a regular file", what, file);
	}
	close(fd);
	return 0;
}

int signature_verify(char **signer_out, const char *sig, size_t siglen,
		     const char *data, size_t len, const struct signature_keys *keys)
{
	bool ssh = starts_with(sig, siglen, ssh_armor);
	bool gpg = starts_with(sig, siglen, pgp_armor);
	char *dir = NULL, *path;
	int rc = -1;

	*signer_out = NULL;
	if (!ssh && !gpg)
		return error_set("cannot check its signature: it is neither an SSH "
				 "nor a GPG signature (x509 signatures are not supported)");
	if (ssh && !keys->allowed_signers)
		return error_set("cannot check its SSH signature: no "
				 "--allowed-signers file is configured");
	if (gpg && !keys->gpg_keyring)
		return error_set("cannot check its GPG signature: no --gpg-keyring "
				 "is configured");
	if (ssh ? readable(keys->allowed_signers, "allowed signers file") < 0 :
		  readable(keys->gpg_keyring, "GPG keyring") < 0)
		return -1;
	if (workdir_new(&dir) < 0)
		return -1;
	path = xasprintf("%s/sig", dir);
	rc = write_all(path, sig, siglen);
	free(path);
	if (rc == 0) {
		path = xasprintf("%s/data", dir);
		rc = write_all(path, data, len);
		free(path);
	}
	if (rc == 0)
		rc = ssh ? verify_ssh(signer_out, dir, keys->allowed_signers) :
			   verify_gpg(signer_out, dir, keys->gpg_keyring);
	workdir_remove(dir);
	free(dir);
	return rc;
}
