/*
 * test-state.c - the state database: files and modes, migrations, the pass
 * lock (also against a killed holder), passes, observed snapshots and
 * their pruning, project phases with conditions and events, history caps,
 * verbatim strings, integrity, backup and restore.
 *
 * Everything lives in a fresh directory under /tmp, removed at the end.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "builders.h"
#include "state.h"
#include "tap.h"

/* the schema version this cara writes (migrations[] in src/state.c) */
#define SCHEMA_NOW 10
#define SCHEMA_NOW_S "10"

static char tmp[] = "/tmp/cara-test-state.XXXXXX";

static char *path(const char *rel)
{
	return xasprintf("%s/%s", tmp, rel);
}

static int mode_of(const char *p)
{
	struct stat sb;

	return stat(p, &sb) < 0 ? -1 : (int)(sb.st_mode & 07777);
}

static bool exists(const char *p)
{
	struct stat sb;

	return lstat(p, &sb) == 0;
}

static bool has(const char *haystack, const char *needle)
{
	return strstr(haystack, needle) != NULL;
}

/* One integer from the database at dir/state.db, straight through SQLite. */
static long long raw_int(const char *dir, const char *sql)
{
	char *db_path = xasprintf("%s/state.db", dir);
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;

	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	free(db_path);
	return v;
}

static int raw_exec(const char *file, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = -1;

	if (sqlite3_open_v2(file, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) == SQLITE_OK &&
	    sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		rc = 0;
	sqlite3_close(db);
	return rc;
}

static void write_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void test_open(void)
{
	char *dir = path("a/b/state"), *db = path("a/b/state/state.db");
	struct state *st = NULL;
	mode_t old = umask(022);

	is_int(state_open(&st, dir), 0, "open creates a nested state directory");
	umask(old);
	is_int(mode_of(dir), 0700, "state directory is 0700");
	is_int(mode_of(db), 0600, "state.db is 0600");
	is_int(raw_int(dir, "PRAGMA user_version"), SCHEMA_NOW, "schema version after open");
	is_int(raw_int(dir, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
		       " AND name IN ('passes', 'projects', 'conditions', 'events',"
		       " 'observed_containers', 'observed_networks',"
		       " 'observed_volumes', 'observed_images')"), 8, "tables created");
	state_close(st);
	{
		sqlite3 *h = NULL;
		sqlite3_stmt *s = NULL;

		ok(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
		   sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &s, NULL) == SQLITE_OK &&
		   sqlite3_step(s) == SQLITE_ROW &&
		   !strcmp((const char *)sqlite3_column_text(s, 0), "wal"),
		   "the database is in WAL mode");
		sqlite3_finalize(s);
		sqlite3_close(h);
	}
	st = NULL;
	is_int(state_open(&st, dir), 0, "reopen succeeds");
	state_close(st);
	st = NULL;
	is_int(state_open_existing(&st, dir), 0, "open_existing on a migrated database");
	state_close(st);
	is_int(raw_int(dir, "PRAGMA user_version"), SCHEMA_NOW, "reopen migrates nothing twice");
	state_close(NULL);
	free(dir);
	free(db);

	dir = path("trailing/");
	st = NULL;
	is_int(state_open(&st, dir), 0, "a trailing slash is fine");
	state_close(st);
	free(dir);
}

/* A database of schema 1 (before owners): what it had applied is adopted
 * once, by it, and it gets an identity that stays. */
static void test_ownership_upgrade(void)
{
	char *dir = path("aged"), *db = path("aged/state.db");
	struct state *st = NULL;
	struct strvec v = STRVEC_INIT;
	char *id1 = NULL, *id2 = NULL;

	ok(state_open(&st, dir) == 0 &&
	   state_project_upsert(st, "old", "h", NULL, "old.yaml", false, 0) == 0,
	   "a project applied before the upgrade");
	state_close(st);
	st = NULL;
	ok(raw_exec(db, "DROP TABLE meta; DROP TABLE adoptions; DROP TABLE volume_types;"
		    " DROP TABLE volume_pins; DROP TABLE owed_restarts;"
		    " DROP TABLE image_checks; DROP TABLE ingress_routes;"
		    " ALTER TABLE observed_containers DROP COLUMN tasks;"
		    " ALTER TABLE observed_containers DROP COLUMN problem;"
		    " ALTER TABLE observed_containers DROP COLUMN image_id;"
		    " ALTER TABLE observed_images DROP COLUMN image_id;"
		    " ALTER TABLE observed_containers DROP COLUMN owner;"
		    " ALTER TABLE observed_containers DROP COLUMN networks;"
		    " ALTER TABLE observed_networks DROP COLUMN owner;"
		    " ALTER TABLE observed_networks DROP COLUMN internal;"
		    " ALTER TABLE observed_volumes DROP COLUMN owner;"
		    " PRAGMA user_version = 1") == 0, "aged to schema 1");
	ok(state_open(&st, dir) == 0, "schema 1 migrates");
	is_int(raw_int(dir, "PRAGMA user_version"), SCHEMA_NOW, "to the current schema");
	ok(state_adoptions(st, &v) == 0 && v.n == 1 && !strcmp(v.v[0], "old\t"),
	   "its unlabelled objects are adopted by it");
	ok(state_project_upsert(st, "new", "h", NULL, "new.yaml", false, 0) == 0,
	   "a project applied after the upgrade");
	strvec_release(&v);
	ok(state_adoptions(st, &v) == 0 && v.n == 1, "is not adopted without a label");
	ok(state_identity(st, &id1) == 0 && id1 && strlen(id1) == 32 &&
	   strspn(id1, "0123456789abcdef") == 32, "an identity of 32 hex digits");
	ok(state_identity(st, &id2) == 0 && id2 && !strcmp(id1, id2), "made once");
	state_close(st);
	strvec_release(&v);
	free(id1);
	free(id2);
	free(dir);
	free(db);
}

/* Restarts owed: recorded, listed sorted, one row a service, dropped
 * by project. */
static void test_owed_restarts(void)
{
	char *dir = path("owed");
	struct state *st = NULL;
	struct strvec v = STRVEC_INIT;

	ok(state_open(&st, dir) == 0 &&
	   state_owe_restart(st, "shop", "web", "db", 10) == 0 &&
	   state_owe_restart(st, "blog", "app", "cache", 10) == 0 &&
	   state_owe_restart(st, "shop", "web", "queue", 20) == 0 &&
	   state_owe_restart(st, "shop", "api", "db", 20) == 0, "restarts owed");
	ok(state_owed_restarts(st, &v) == 0 && v.n == 3 &&
	   !strcmp(v.v[0], "blog\tapp\tcache") && !strcmp(v.v[1], "shop\tapi\tdb") &&
	   !strcmp(v.v[2], "shop\tweb\tqueue"),
	   "listed sorted, the later debt of a service standing for both");
	strvec_release(&v);
	ok(state_owed_restarts_paid(st, "shop") == 0 &&
	   state_owed_restarts(st, &v) == 0 && v.n == 1 &&
	   !strcmp(v.v[0], "blog\tapp\tcache"), "a project's paid: the others' kept");
	strvec_release(&v);
	state_close(st);
	free(dir);
}

/* Schema 4 to 5: the image columns and the image checks. */
static void test_images_upgrade(void)
{
	char *dir = path("aged4"), *db = path("aged4/state.db");
	struct state *st = NULL;
	struct observed in = OBSERVED_INIT, out = OBSERVED_INIT;
	struct obs_container *c;
	int64_t id = 0, when = -1;

	ok(state_open(&st, dir) == 0, "a new state");
	state_close(st);
	st = NULL;
	ok(raw_exec(db, "DROP TABLE image_checks; DROP TABLE ingress_routes;"
		    " DROP TABLE volume_pins; DROP TABLE owed_restarts;"
		    " ALTER TABLE observed_containers DROP COLUMN tasks;"
		    " ALTER TABLE observed_containers DROP COLUMN problem;"
		    " ALTER TABLE observed_containers DROP COLUMN image_id;"
		    " ALTER TABLE observed_images DROP COLUMN image_id;"
		    " ALTER TABLE observed_networks DROP COLUMN internal;"
		    " PRAGMA user_version = 4") == 0, "aged to schema 4");
	ok(state_open(&st, dir) == 0, "schema 4 migrates");
	is_int(raw_int(dir, "PRAGMA user_version"), SCHEMA_NOW, "to the current schema");
	is_int(state_image_checked(st, "busybox:latest", &when), 0, "ask a check");
	is_int(when, 0, "never checked");
	is_int(state_image_check(st, "busybox:latest", "sha256:aa", 100), 0, "a check");
	is_int(state_image_check(st, "busybox:latest", "sha256:bb", 200), 0, "another");
	ok(state_image_checked(st, "busybox:latest", &when) == 0 && when == 200,
	   "the last check is remembered");
	is_int(raw_int(dir, "SELECT count(*) FROM image_checks"), 1, "one row a tag");

	c = tb_obs_container(&in, "p", "web", "h", "", "running", 0);
	tb_set(&c->image_id, "sha256:1111");
	observed_add_image_id(&in, "reg:5000/web:1", "sha256:1111");
	observed_add_image_id(&in, "reg:5000/web@sha256:d1", "sha256:1111");
	observed_add_image_id(&in, "other@sha256:d2", "sha256:2222");
	ok(state_pass_begin(st, "sync", 1, &id) == 0 &&
	   state_record_observed(st, id, &in) == 0 &&
	   state_load_observed(st, id, &out) == 0, "a snapshot with image ids");
	ok(out.ncontainers == 1 && !strcmp(out.containers[0].image_id, "sha256:1111"),
	   "the container's image id");
	is_str(observed_image_digest(&out, "sha256:1111", "reg:5000/web"), "sha256:d1",
	       "the digest of its image in its repository");
	ok(observed_image_digest(&out, "sha256:1111", "other") == NULL,
	   "none in another repository");
	is_str(observed_image_digest(&out, "sha256:2222", NULL), "sha256:d2",
	       "any repository");
	ok(observed_has_image(&out, "reg:5000/web@sha256:d1"), "a digest reference is local");
	observed_release(&in);
	observed_release(&out);
	state_close(st);
	free(dir);
	free(db);
}

static void test_future_version(void)
{
	char *dir = path("future"), *db = path("future/state.db");
	struct state *st = NULL;

	ok(state_open(&st, dir) == 0, "open a database to age");
	state_close(st);
	st = NULL;
	ok(raw_exec(db, "PRAGMA user_version = 99") == 0, "set user_version 99");
	is_int(state_open(&st, dir), -1, "a newer schema is refused");
	ok(st == NULL, "no handle on failure");
	is_str(error_last(), "state.db schema version 99 is newer than this cara (" SCHEMA_NOW_S ")",
	       "the refusal says why");
	is_int(state_open_existing(&st, dir), -1, "open_existing refuses it too");
	is_int(raw_int(dir, "PRAGMA user_version"), 99, "and leaves it alone");
	free(dir);
	free(db);
}

static void test_open_existing_missing(void)
{
	char *dir = path("missing/deeper"), *empty = path("empty"),
	     *empty_db = path("empty/state.db");
	struct state *st = NULL;

	is_int(state_open_existing(&st, dir), ERR_NOTFOUND,
	       "open_existing on a missing directory: ERR_NOTFOUND");
	ok(st == NULL, "no handle");
	ok(has(error_last(), "state.db"), "error names the database: %s", error_last());
	ok(!exists(dir), "the directory was not created");
	free(dir);
	dir = path("missing");
	ok(!exists(dir), "nor its parent");
	ok(mkdir(empty, 0700) == 0, "an empty state directory");
	is_int(state_open_existing(&st, empty), ERR_NOTFOUND,
	       "open_existing with no state.db: ERR_NOTFOUND");
	ok(!exists(empty_db), "state.db was not created");
	free(dir);
	free(empty);
	free(empty_db);
}

static void test_lock(void)
{
	char *dir = path("lock");
	struct state *a = NULL, *b = NULL;
	time_t t0;
	int fds[2];
	pid_t pid;
	char c;
	int status;

	ok(state_open(&a, dir) == 0 && state_open(&b, dir) == 0, "two handles");
	is_int(state_lock(a, 0), 0, "first handle takes the lock");
	is_int(state_lock(a, 0), 0, "taking it again on the same handle is a no-op");
	is_int(state_lock(b, 0), ERR_LOCKED, "second handle: ERR_LOCKED at once");
	ok(has(error_last(), "another cara pass holds the lock on ") &&
	   has(error_last(), dir), "lock error names the directory: %s", error_last());
	t0 = time(NULL);
	is_int(state_lock(b, 1), ERR_LOCKED, "waiting 1s still fails");
	ok(time(NULL) - t0 >= 1, "after waiting");
	ok(has(error_last(), "waited 1s"), "and says it waited: %s", error_last());
	state_close(a);
	a = NULL;
	is_int(state_lock(b, 0), 0, "closing the holder releases the lock");
	state_close(b);
	b = NULL;

	/* a holder killed with SIGKILL leaves no lock behind */
	ok(pipe(fds) == 0, "pipe");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct state *k = NULL;

		close(fds[0]);
		if (state_open(&k, dir) < 0 || state_lock(k, 0) < 0)
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	ok(read(fds[0], &c, 1) == 1, "child holds the lock");
	close(fds[0]);
	ok(state_open(&a, dir) == 0, "open while the child holds it");
	is_int(state_lock(a, 0), ERR_LOCKED, "the child's lock is seen");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child was killed");
	is_int(state_lock(a, 0), 0, "the killed child's lock is gone");
	state_close(a);
	a = NULL;

	/* --wait-lock: a holder that exits while we wait */
	ok(pipe(fds) == 0, "pipe");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct state *k = NULL;

		close(fds[0]);
		if (state_open(&k, dir) < 0 || state_lock(k, 0) < 0)
			_exit(1);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		sleep(1);
		_exit(0);
	}
	close(fds[1]);
	ok(read(fds[0], &c, 1) == 1, "child holds the lock for a second");
	close(fds[0]);
	ok(state_open(&a, dir) == 0, "open");
	is_int(state_lock(a, 10), 0, "waiting gets the lock once the holder exits");
	waitpid(pid, &status, 0);
	state_close(a);
	free(dir);
}

static void test_passes(void)
{
	char *dir = path("passes");
	struct state *st = NULL;
	struct pass_row r;
	struct pass_counts c = { 1, 2, 3, 4, 5, 6, 7, 8 };
	int64_t id1 = 0, id2 = 0, id3 = 0, t = -1;

	ok(state_open(&st, dir) == 0, "open");
	is_int(state_last_pass(st, &r), ERR_NOTFOUND, "no finished pass yet");
	is_int(state_last_success(st, &t), 0, "last_success with no pass");
	is_int(t, 0, "is 0");
	is_int(state_pass_begin(st, "sync", 1000, &id1), 0, "pass begins");
	ok(id1 > 0, "with an id");
	is_int(state_last_pass(st, &r), ERR_NOTFOUND, "an unfinished pass is not the last");
	is_int(state_pass_source(st, id1, "0123456789abcdef", 990, "it's \"done\"", true),
	       0, "pass source");
	is_int(state_pass_end(st, id1, 1010, "converged", &c), 0, "pass ends");
	is_int(state_last_pass(st, &r), 0, "last pass found");
	is_int(r.id, id1, "id");
	is_int(r.started, 1000, "started");
	is_int(r.ended, 1010, "ended");
	is_str(r.command, "sync", "command");
	is_str(r.commit, "0123456789abcdef", "commit");
	is_str(r.subject, "it's \"done\"", "subject verbatim");
	is_str(r.outcome, "converged", "outcome");
	ok(r.offline, "offline");
	pass_row_release(&r);
	is_int(raw_int(dir, "SELECT created * 10000000 + started_n * 1000000 +"
		       " recreated * 100000 + removed * 10000 + failed * 1000 +"
		       " torn_down * 100 + projects * 10 + projects_failed FROM passes"
		       " WHERE commit_time = 990"), 12345678, "every count stored");
	is_int(state_last_success(st, &t), 0, "last_success");
	is_int(t, 1010, "is when the converged pass ended");

	ok(state_pass_begin(st, "sync", 2000, &id2) == 0 && id2 > id1, "second pass");
	is_int(state_pass_end(st, id2, 2005, "failed", &c), 0, "ends failed");
	ok(state_pass_begin(st, "diff", 3000, &id3) == 0, "third pass, left unfinished");
	is_int(state_last_pass(st, &r), 0, "last pass");
	is_int(r.id, id2, "is the last finished one");
	is_str(r.outcome, "failed", "with its outcome");
	ok(r.commit == NULL && !r.offline, "no source recorded for it");
	pass_row_release(&r);
	state_last_success(st, &t);
	is_int(t, 1010, "a failed pass does not move last_success");
	is_int(state_pass_end(st, 999999, 1, "converged", &c), -1,
	       "ending an unknown pass fails");
	ok(has(error_last(), "999999"), "naming it: %s", error_last());
	state_close(st);
	free(dir);
}

static struct observed sample_observed(int variant)
{
	struct observed o = OBSERVED_INIT;
	struct obs_container *c;

	c = tb_obs_container(&o, "shop", "web", "deadbeef", "env,image", "exited", 137);
	free(c->id);
	c->id = xasprintf("abc%d", variant);
	tb_set(&c->image, "cara-local/busybox:1");
	c->created = 1700000000 + variant;
	c = tb_obs_container(&o, "shop", "db", NULL, NULL, "running", 0);
	tb_set(&c->image, "postgres:16");
	tb_set(&c->image_id, "sha256:pg16");
	c->health = HEALTH_HEALTHY;
	c->created = -5;
	tb_obs_network(&o, "shop");
	tb_obs_net(&o, "shop", "back", true);
	tb_obs_volume(&o, "shop", "data", "Managed");
	tb_obs_volume(&o, "shop", "tmp", "Ephemeral");
	observed_add_image_id(&o, "postgres:16", "sha256:pg16");
	observed_add_image(&o, "busybox");
	return o;
}

static void check_same_container(const struct obs_container *a,
				 const struct obs_container *b, const char *what)
{
	is_str(a->id, b->id, "%s id", what);
	is_str(a->name, b->name, "%s name", what);
	is_str(a->project, b->project, "%s project", what);
	is_str(a->service, b->service, "%s service", what);
	is_str(a->spec_hash, b->spec_hash, "%s spec_hash", what);
	is_str(a->spec_fields, b->spec_fields, "%s spec_fields", what);
	is_str(a->image, b->image, "%s image", what);
	is_int(a->state, b->state, "%s state", what);
	is_int(a->health, b->health, "%s health", what);
	is_int(a->exit_code, b->exit_code, "%s exit_code", what);
	is_int(a->created, b->created, "%s created", what);
	is_str(a->image_id ? a->image_id : "", b->image_id ? b->image_id : "",
	       "%s image_id", what);
}

static void test_observed(void)
{
	char *dir = path("observed");
	struct state *st = NULL;
	struct observed in = sample_observed(1), in2 = sample_observed(2);
	struct observed out = OBSERVED_INIT, empty = OBSERVED_INIT;
	int64_t id = 0, other = 0, ids[STATE_KEEP_SNAPSHOTS + 5];
	size_t i;
	int okload = 0;

	ok(state_open(&st, dir) == 0 && state_pass_begin(st, "sync", 1, &id) == 0,
	   "open and begin a pass");
	is_int(state_record_observed(st, id, &in), 0, "record the snapshot");
	is_int(state_load_observed(st, id, &out), 0, "load it back");
	is_int(out.ncontainers, 2, "two containers");
	if (out.ncontainers == 2) {
		check_same_container(&out.containers[0], &in.containers[0], "container 0");
		check_same_container(&out.containers[1], &in.containers[1], "container 1");
	}
	is_int(out.nnetworks, 2, "two networks");
	if (out.nnetworks == 2) {
		is_str(out.networks[0].id, "net-shop", "network id");
		is_str(out.networks[0].name, "cara-shop", "network name");
		is_str(out.networks[0].project, "shop", "network project");
		is_int(out.networks[0].internal, -1, "not known whether internal: -1");
		is_str(out.networks[1].name, "cara-shop_back", "second network name");
		is_int(out.networks[1].internal, 1, "internal round-trips");
	}
	is_int(out.nvolumes, 2, "two volumes");
	if (out.nvolumes == 2) {
		is_str(out.volumes[0].name, "cara-shop-data", "volume 0 name");
		is_str(out.volumes[0].type, "Managed", "volume 0 type");
		is_str(out.volumes[1].name, "cara-shop-tmp", "volume 1 name");
		is_str(out.volumes[1].project, "shop", "volume 1 project");
		is_str(out.volumes[1].type, "Ephemeral", "volume 1 type");
	}
	is_int(out.nimages, 2, "two images");
	if (out.nimages == 2) {
		is_str(out.images[0], "busybox:latest", "images sorted, normalized");
		is_str(out.images[1], "postgres:16", "second image");
	}
	ok(observed_has_image(&out, "busybox"), "loaded snapshot can bisect images");
	is_str(observed_image_id(&out, "postgres:16"), "sha256:pg16",
	       "an image's id round-trips");
	ok(observed_image_id(&out, "busybox") == NULL, "an unknown id is NULL");
	observed_release(&out);

	is_int(state_record_observed(st, id, &in2), 0, "record again: replaces");
	is_int(state_load_observed(st, id, &out), 0, "load");
	ok(out.ncontainers == 2 && !strcmp(out.containers[0].id, "abc2") &&
	   out.nvolumes == 2 && out.nimages == 2, "only the new snapshot is there");
	observed_release(&out);
	is_int(raw_int(dir, "SELECT count(*) FROM observed_containers"), 2,
	       "no rows left from the replaced snapshot");

	/* inside the caller's transaction, the caller's rollback wins */
	ok(state_pass_begin(st, "sync", 2, &other) == 0, "another pass");
	ok(state_begin(st) == 0, "begin");
	is_int(state_record_observed(st, other, &in), 0, "record inside a transaction");
	state_rollback(st);
	is_int(state_load_observed(st, other, &out), ERR_NOTFOUND,
	       "rolled back with the caller's transaction");
	is_int(state_record_observed(st, other, &empty), 0, "an empty snapshot");
	is_int(state_load_observed(st, other, &out), 0, "loads");
	ok(out.ncontainers == 0 && out.nnetworks == 0 && out.nvolumes == 0 &&
	   out.nimages == 0, "and is empty");
	observed_release(&out);
	is_int(state_record_observed(st, 424242, &in), -1,
	       "a snapshot for an unknown pass is refused");

	/* only the last STATE_KEEP_SNAPSHOTS snapshots are kept */
	for (i = 0; i < ARRAY_SIZE(ids); i++)
		if (state_pass_begin(st, "sync", 10 + (int64_t)i, &ids[i]) < 0 ||
		    state_record_observed(st, ids[i], &in) < 0)
			break;
	is_int(i, ARRAY_SIZE(ids), "recorded %zu snapshots", ARRAY_SIZE(ids));
	is_int(state_load_observed(st, id, &out), ERR_NOTFOUND, "the oldest is pruned");
	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		int r = state_load_observed(st, ids[i], &out);

		observed_release(&out);
		if (i < 5 ? r == ERR_NOTFOUND : r == 0)
			okload++;
	}
	is_int(okload, ARRAY_SIZE(ids), "the first 5 pruned, the last %d kept",
	       STATE_KEEP_SNAPSHOTS);
	is_int(raw_int(dir, "SELECT count(*) FROM observed_containers"),
	       2 * STATE_KEEP_SNAPSHOTS, "object rows pruned along");
	is_int(raw_int(dir, "SELECT count(*) FROM observed_images"),
	       2 * STATE_KEEP_SNAPSHOTS, "image rows pruned along");

	observed_release(&in);
	observed_release(&in2);
	state_close(st);
	free(dir);
}

static void test_projects(void)
{
	char *dir = path("projects");
	struct state *st = NULL;
	struct strvec known = STRVEC_INIT;
	struct project_status *v = NULL;
	struct state_condition *c = NULL;
	struct state_event_row *e = NULL;
	size_t n = 0, nc = 0, ne = 0;
	int64_t pid = 0, created;

	ok(state_open(&st, dir) == 0, "open");
	ok(state_pass_begin(st, "sync", 50, &pid) == 0, "a pass");
	is_int(state_project_upsert(st, "web", "h1", "c1", "apps/web.yaml", true, 5000), 0,
	       "upsert web");
	is_int(state_project_upsert(st, "api", "h2", NULL, "apps/api.yaml", false, 77), 0,
	       "upsert api");
	is_int(state_list_projects(st, &v, &n), 0, "list");
	is_int(n, 2, "two projects");
	if (n == 2) {
		is_str(v[0].name, "api", "sorted by name");
		ok(v[0].commit == NULL && !v[0].has_expire && v[0].expire_at == 0,
		   "api: no commit, no expiry");
		ok(v[0].phase == NULL && v[0].reason == NULL, "no phase yet");
		is_str(v[1].name, "web", "web second");
		is_str(v[1].spec_hash, "h1", "spec hash");
		is_str(v[1].commit, "c1", "commit");
		is_str(v[1].file, "apps/web.yaml", "file");
		ok(v[1].has_expire && v[1].expire_at == 5000, "expiry");
		ok(v[1].created > 0 && v[1].updated == v[1].created, "created = updated");
	}
	created = n == 2 ? v[1].created : 0;
	project_status_free(v, n);

	is_int(state_project_phase(st, "web", "Pending", "Reconciling",
				   "applying changes", 100), 0, "web Pending");
	is_int(state_project_phase(st, "web", "Pending", "Reconciling",
				   "still applying", 101), 0, "same phase, new message");
	ok(state_project_conditions(st, "web", 0, &c, &nc) == 0 && nc == 1,
	   "one condition: a message change is no transition");
	if (nc == 1) {
		is_str(c[0].type, "Ready", "condition type");
		is_str(c[0].status, "False", "Pending is not ready");
		is_str(c[0].reason, "Reconciling", "reason");
		is_str(c[0].message, "applying changes", "message");
		is_int(c[0].time, 100, "time");
	}
	state_conditions_free(c, nc);
	ok(state_project_events(st, "web", 0, &e, &ne) == 0 && ne == 1, "one event");
	if (ne == 1) {
		is_str(e[0].kind, "Phase", "event kind");
		is_str(e[0].message, "Pending: Reconciling: applying changes", "event message");
		is_int(e[0].pass_id, pid, "event carries the current pass");
	}
	state_events_free(e, ne);
	ok(state_list_projects(st, &v, &n) == 0 && n == 2, "list");
	if (n == 2) {
		is_str(v[1].message, "still applying", "message updated anyway");
		is_int(v[1].updated, 100, "updated is the transition time");
		is_int(v[1].created, created, "created unchanged");
	}
	project_status_free(v, n);

	is_int(state_project_phase(st, "web", "Running", "ContainersRunning",
				   "2 services up to date", 102), 0, "web Running");
	is_int(state_project_phase(st, "web", "Failed", "HealthcheckFailed",
				   "'web' is unhealthy", 103), 0, "web Failed");
	is_int(state_project_phase(st, "web", "Failed", "ContainerExited",
				   "'web' is exited", 104), 0, "same phase, other reason");
	ok(state_project_conditions(st, "web", 0, &c, &nc) == 0 && nc == 4,
	   "four conditions");
	if (nc == 4) {
		is_str(c[0].reason, "ContainerExited", "newest first");
		is_str(c[2].status, "True", "Running is ready");
		is_str(c[3].reason, "Reconciling", "oldest last");
	}
	state_conditions_free(c, nc);
	ok(state_project_conditions(st, "web", 2, &c, &nc) == 0 && nc == 2 &&
	   !strcmp(c[0].reason, "ContainerExited") &&
	   !strcmp(c[1].reason, "HealthcheckFailed"), "limit 2: the two newest");
	state_conditions_free(c, nc);
	ok(state_project_events(st, "web", 0, &e, &ne) == 0 && ne == 4, "four events");
	if (ne == 4)
		is_str(e[2].message, "Pending -> Running: ContainersRunning: "
		       "2 services up to date", "transition event message");
	state_events_free(e, ne);
	is_int(state_event(st, pid, "web", "InvalidManifest", "manifest invalid", 105), 0,
	       "a plain event");
	is_int(state_event(st, 0, NULL, "Note", "pass-wide", 105), 0,
	       "an event with no pass and no project");
	ok(state_project_events(st, "web", 1, &e, &ne) == 0 && ne == 1 &&
	   !strcmp(e[0].kind, "InvalidManifest") && e[0].time == 105,
	   "limit 1: the newest event");
	state_events_free(e, ne);

	/* a phase for a project never upserted creates it */
	is_int(state_project_phase(st, "ghost", "Terminating", "RemovedFromSource",
				   "tearing down", 110), 0, "phase for an unknown project");
	ok(state_projects(st, false, &known) == 0 && known.n == 3 &&
	   !strcmp(known.v[0], "api") && !strcmp(known.v[1], "ghost") &&
	   !strcmp(known.v[2], "web"), "known projects, sorted");
	strvec_release(&known);
	is_int(state_project_phase(st, "ghost", "Terminated", "RemovedFromSource",
				   "no objects left", 111), 0, "ghost Terminated");
	ok(state_projects(st, false, &known) == 0 && known.n == 2 &&
	   !strvec_has(&known, "ghost"), "Terminated projects are not known");
	strvec_release(&known);
	ok(state_list_projects(st, &v, &n) == 0 && n == 3, "but still listed");
	project_status_free(v, n);

	is_int(state_project_upsert(st, "web", "h9", "c9", "apps/web2.yaml", false, 0), 0,
	       "upsert web again");
	ok(state_list_projects(st, &v, &n) == 0 && n == 3 && !strcmp(v[2].spec_hash, "h9") &&
	   !strcmp(v[2].phase, "Failed") && !v[2].has_expire && v[2].created == created,
	   "desired side updated, phase and created kept");
	project_status_free(v, n);

	state_close(st);
	free(dir);
}

static void test_history_caps(void)
{
	char *dir = path("caps");
	struct state *st = NULL;
	struct state_condition *c = NULL;
	struct state_event_row *e = NULL;
	size_t n = 0, i;
	int bad = 0;

	ok(state_open(&st, dir) == 0, "open");
	ok(state_begin(st) == 0, "one transaction for many writes");
	for (i = 0; i < STATE_KEEP_EVENTS + 10 && !bad; i++) {
		char *m = xasprintf("event %zu", i);

		bad = state_event(st, 0, "cap", "Note", m, (int64_t)i) < 0;
		free(m);
	}
	for (i = 0; i < STATE_KEEP_CONDITIONS + 5 && !bad; i++)
		bad = state_project_phase(st, "cap", i % 2 ? "Running" : "Failed",
					  "R", NULL, (int64_t)i) < 0;
	ok(!bad, "all writes succeed");
	is_int(state_commit(st), 0, "commit");
	ok(state_project_events(st, "cap", 0, &e, &n) == 0, "events");
	is_int(n, STATE_KEEP_EVENTS, "events capped per project");
	if (n)
		is_str(e[0].message, "Running -> Failed: R", "newest kept");
	state_events_free(e, n);
	ok(state_project_conditions(st, "cap", 0, &c, &n) == 0, "conditions");
	is_int(n, STATE_KEEP_CONDITIONS, "conditions capped per project");
	if (n)
		is_int(c[n - 1].time, 5, "the oldest kept is the 6th");
	state_conditions_free(c, n);
	state_close(st);
	free(dir);
}

static void test_verbatim(void)
{
	static const char *const names[] = {
		"x'); DROP TABLE projects;--",
		"\"quoted\" and 'single'",
		"unicod\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x9a\x80",
		"percent %s %n backslash \\ ",
	};
	char *dir = path("verbatim");
	struct state *st = NULL;
	struct project_status *v = NULL;
	struct state_event_row *e = NULL;
	size_t n = 0, ne = 0, i, j;
	int found = 0;

	ok(state_open(&st, dir) == 0, "open");
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		ok(state_project_upsert(st, names[i], names[i], names[i], names[i], false, 0)
		   == 0 && state_project_phase(st, names[i], "Running", names[i],
					       names[i], 1) == 0,
		   "store '%s'", names[i]);
	}
	ok(state_list_projects(st, &v, &n) == 0 && n == ARRAY_SIZE(names), "all listed");
	for (i = 0; i < ARRAY_SIZE(names); i++)
		for (j = 0; j < n; j++)
			if (!strcmp(v[j].name, names[i]) &&
			    !strcmp(v[j].spec_hash, names[i]) &&
			    !strcmp(v[j].commit, names[i]) && !strcmp(v[j].file, names[i]) &&
			    !strcmp(v[j].reason, names[i]) && !strcmp(v[j].message, names[i]))
				found++;
	is_int(found, ARRAY_SIZE(names), "every field read back verbatim");
	project_status_free(v, n);
	ok(state_project_events(st, names[0], 0, &e, &ne) == 0 && ne == 1 &&
	   has(e[0].message, names[0]), "event message verbatim");
	state_events_free(e, ne);
	is_int(raw_int(dir, "SELECT count(*) FROM sqlite_master WHERE name = 'projects'"),
	       1, "the projects table survived");
	state_close(st);
	free(dir);
}

static void test_backup_restore(void)
{
	char *dir = path("br"), *bk = path("backup.db"), *bk_tmp = path("backup.db.tmp"),
	     *junk = path("junk.txt"), *foreign = path("foreign.db"),
	     *newer = path("newer.db"), *nope = path("nope.db");
	struct state *st = NULL, *other = NULL;
	struct project_status *v = NULL;
	struct strvec known = STRVEC_INIT;
	char *report = NULL;
	size_t n = 0;
	int64_t id;

	ok(state_open(&st, dir) == 0, "open");
	ok(state_project_upsert(st, "keep", "h", NULL, "f", false, 0) == 0 &&
	   state_project_phase(st, "keep", "Running", "ContainersRunning", "ok", 1) == 0 &&
	   state_pass_begin(st, "sync", 1, &id) == 0, "some state");
	is_int(state_integrity(st, &report), 0, "integrity check runs");
	is_str(report, "ok", "integrity ok");
	free(report);
	report = NULL;

	is_int(state_backup(st, bk), 0, "backup");
	is_int(mode_of(bk), 0600, "backup file is 0600");
	ok(!exists(bk_tmp), "no temporary file left");
	{
		char *wal = xasprintf("%s-wal", bk);

		ok(!exists(wal), "the backup is one file, no WAL beside it");
		free(wal);
	}

	ok(state_project_upsert(st, "after", "h", NULL, "f", false, 0) == 0,
	   "a change after the backup");
	ok(state_open(&other, dir) == 0 && state_lock(other, 0) == 0,
	   "another handle holds the lock");
	is_int(state_restore(st, bk), ERR_LOCKED, "restore needs the lock");
	state_close(other);
	other = NULL;
	is_int(state_lock(st, 0), 0, "lock");
	is_int(state_restore(st, bk), 0, "restore");
	ok(state_projects(st, false, &known) == 0 && known.n == 1 &&
	   !strcmp(known.v[0], "keep"), "the change after the backup is gone");
	strvec_release(&known);
	ok(state_integrity(st, &report) == 0 && !strcmp(report, "ok"),
	   "integrity ok after restore");
	free(report);
	report = NULL;
	ok(state_open_existing(&other, dir) == 0 &&
	   state_list_projects(other, &v, &n) == 0 && n == 1 &&
	   !strcmp(v[0].name, "keep"), "another handle sees the restored state");
	project_status_free(v, n);
	state_close(other);
	other = NULL;
	is_int(state_pass_begin(st, "sync", 2, &id), 0, "passes go on after restore");

	write_file(junk, "this is not a database, just text long enough to be "
		   "mistaken for nothing at all by anybody reading it\n");
	is_int(state_restore(st, junk), -1, "restoring a text file is refused");
	ok(has(error_last(), "not a cara state database"), "says so: %s", error_last());
	ok(raw_exec(foreign, "CREATE TABLE t(x); INSERT INTO t VALUES(1)") == 0,
	   "a foreign SQLite database");
	is_int(state_restore(st, foreign), -1, "restoring it is refused");
	ok(has(error_last(), "not a cara state database"), "says so: %s", error_last());
	is_int(state_backup(st, newer), 0, "another backup");
	ok(raw_exec(newer, "PRAGMA user_version = 99") == 0, "made newer");
	is_int(state_restore(st, newer), -1, "restoring a newer schema is refused");
	ok(has(error_last(), "newer than this cara"), "says so: %s", error_last());
	is_int(state_restore(st, nope), -1, "restoring a missing file fails");
	ok(!exists(nope), "and does not create it");
	ok(state_projects(st, false, &known) == 0 && known.n == 1 &&
	   !strcmp(known.v[0], "keep"), "live state unchanged by refused restores");
	strvec_release(&known);
	ok(state_integrity(st, &report) == 0 && !strcmp(report, "ok"), "integrity ok");
	free(report);
	is_int(state_backup(st, "/nonexistent-dir/x.db"), -1,
	       "backup into a missing directory fails");
	ok(has(error_last(), "/nonexistent-dir/x.db"), "naming the file: %s", error_last());
	state_close(st);
	free(dir);
	free(bk);
	free(bk_tmp);
	free(junk);
	free(foreign);
	free(newer);
	free(nope);
}

/* A Managed volume's node on a cluster: recorded once, kept, dropped. */
static void test_volume_pins(void)
{
	char *dir = path("pins");
	struct state *st = NULL;
	struct strvec v = STRVEC_INIT;

	ok(state_open(&st, dir) == 0, "pins: open");
	is_int(state_volume_pins(st, &v), 0, "no pins");
	is_int(v.n, 0, "none yet");
	is_int(state_volume_pin(st, "shop", "data", "id2", "node2", 10), 0, "pin shop/data");
	is_int(state_volume_pin(st, "blog", "db", "id3", "node3", 11), 0, "pin blog/db");
	is_int(state_volume_pin(st, "shop", "logs", "id2", "node2", 12), 0, "pin shop/logs");
	strvec_release(&v);
	is_int(state_volume_pins(st, &v), 0, "list");
	is_int(v.n, 3, "three pins");
	if (v.n == 3) {
		is_str(v.v[0], "blog\tdb\tid3\tnode3", "sorted, project first");
		is_str(v.v[1], "shop\tdata\tid2\tnode2", "with node id and host name");
	}
	is_int(state_volume_unpin(st, "shop", "data"), 0, "unpin");
	is_int(state_volume_unpin(st, "shop", "data"), ERR_NOTFOUND, "twice: not pinned");
	ok(has(error_last(), "volume 'data' of project 'shop' is not pinned"),
	   "says so: %s", error_last());
	is_int(state_volume_unpin(st, "shop", "nothing"), ERR_NOTFOUND, "never pinned");
	strvec_release(&v);
	is_int(state_volume_pins(st, &v), 0, "list again");
	is_int(v.n, 3, "the others stay");
	if (v.n == 3)
		is_str(v.v[1], "shop\tdata\t\t", "the dropped one: to be placed afresh");
	is_int(state_volume_pin(st, "shop", "data", "id3", "node3", 13), 0, "pinned again");
	strvec_release(&v);
	is_int(state_volume_pins(st, &v), 0, "list");
	if (v.n == 3)
		is_str(v.v[1], "shop\tdata\tid3\tnode3", "the new node");
	strvec_release(&v);
	/* a purge: every pin of the project goes, no row left to place */
	is_int(state_volume_pins_forget(st, "shop"), 0, "forget shop's pins");
	is_int(state_volume_pins_forget(st, "shop"), 0, "twice: nothing to do");
	is_int(state_volume_pins(st, &v), 0, "list");
	is_int(v.n, 1, "only the other project's pin stays");
	if (v.n == 1)
		is_str(v.v[0], "blog\tdb\tid3\tnode3", "blog/db, as it was");
	strvec_release(&v);
	state_close(st);
	free(dir);
}

static void test_not_a_database(void)
{
	char *dir = path("notdb"), *db = path("notdb/state.db");
	struct state *st = NULL;

	ok(mkdir(dir, 0700) == 0, "a state directory");
	write_file(db, "garbage garbage garbage garbage garbage garbage garbage garbage "
		   "garbage garbage garbage garbage garbage garbage\n");
	is_int(state_open(&st, dir), -1, "a state.db that is not a database");
	ok(has(error_last(), "state: ") && has(error_last(), db),
	   "error names it: %s", error_last());
	free(dir);
	free(db);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(p);
}

int main(void)
{
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	test_open();
	test_future_version();
	test_ownership_upgrade();
	test_images_upgrade();
	test_owed_restarts();
	test_open_existing_missing();
	test_lock();
	test_passes();
	test_observed();
	test_projects();
	test_history_caps();
	test_verbatim();
	test_backup_restore();
	test_not_a_database();
	test_volume_pins();
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	ok(!exists(tmp), "temporary directory removed");
	return tap_done();
}
