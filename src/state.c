/*
 * state.c - the SQLite state database.  See state.h.
 *
 * One file, {dir}/state.db (0600, in a 0700 directory we create), in WAL
 * mode so that status and describe read while a pass writes.  The schema
 * is a list of numbered migrations applied at open inside one transaction
 * and counted by PRAGMA user_version; a database from a newer cara is
 * refused rather than guessed at.
 *
 * Invariants:
 * - Every value reaches SQL through a bound parameter; no SQL text is ever
 *   built from a caller's string.  Only names, hashes, phases and messages
 *   are stored: nothing in this API takes a secret value.
 * - A function that needs several statements to be atomic runs them in a
 *   transaction of its own, unless the caller already opened one with
 *   state_begin() (sqlite3_get_autocommit() tells), in which case the
 *   caller's commit or rollback decides.
 * - Growth is bounded: observed snapshots are kept for the last
 *   STATE_KEEP_SNAPSHOTS passes, conditions and events per project up to
 *   STATE_KEEP_CONDITIONS / STATE_KEEP_EVENTS, passes up to
 *   STATE_KEEP_PASSES (always keeping the last converged one, which the
 *   last-success metric reads).
 * - The pass lock is a flock() on {dir}/lock, separate from SQLite's own
 *   locking: it is held for a whole pass, and the kernel drops it when the
 *   process dies, however it dies.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "state.h"

struct state {
	sqlite3 *db;
	char *dir;
	char *path;         /* {dir}/state.db */
	int lockfd;         /* -1 until state_lock() */
	int64_t pass_id;    /* the pass begun on this handle, for phase events */
};

static const char *const migrations[] = {
	/* 1: the initial schema */
	"CREATE TABLE passes ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  command TEXT NOT NULL,"
	"  started INTEGER NOT NULL,"
	"  ended INTEGER NOT NULL DEFAULT 0,"
	"  commit_id TEXT,"
	"  commit_time INTEGER,"
	"  subject TEXT,"
	"  offline INTEGER NOT NULL DEFAULT 0,"
	"  outcome TEXT,"
	"  created INTEGER NOT NULL DEFAULT 0,"
	"  started_n INTEGER NOT NULL DEFAULT 0,"
	"  recreated INTEGER NOT NULL DEFAULT 0,"
	"  removed INTEGER NOT NULL DEFAULT 0,"
	"  failed INTEGER NOT NULL DEFAULT 0,"
	"  torn_down INTEGER NOT NULL DEFAULT 0,"
	"  projects INTEGER NOT NULL DEFAULT 0,"
	"  projects_failed INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX passes_ended ON passes(ended);"
	"CREATE INDEX passes_outcome ON passes(outcome, ended);"
	"CREATE TABLE projects ("
	"  name TEXT PRIMARY KEY,"
	"  spec_hash TEXT,"
	"  phase TEXT,"
	"  reason TEXT,"
	"  message TEXT,"
	"  commit_id TEXT,"
	"  file TEXT,"
	"  has_expire INTEGER NOT NULL DEFAULT 0,"
	"  expire_at INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL,"
	"  updated INTEGER NOT NULL"
	");"
	"CREATE TABLE conditions ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  project TEXT NOT NULL REFERENCES projects(name) ON DELETE CASCADE,"
	"  type TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  reason TEXT,"
	"  message TEXT,"
	"  time INTEGER NOT NULL"
	");"
	"CREATE INDEX conditions_project ON conditions(project, id);"
	/* events outlive their project (forget keeps history) and their
	 * pass (passes are pruned): plain columns, no foreign keys */
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  time INTEGER NOT NULL,"
	"  pass_id INTEGER,"
	"  project TEXT,"
	"  kind TEXT NOT NULL,"
	"  message TEXT"
	");"
	"CREATE INDEX events_project ON events(project, id);"
	/* one row per pass that recorded a snapshot, even an empty one */
	"CREATE TABLE snapshots ("
	"  pass_id INTEGER PRIMARY KEY REFERENCES passes(id) ON DELETE CASCADE"
	");"
	"CREATE TABLE observed_containers ("
	"  pass_id INTEGER NOT NULL REFERENCES snapshots(pass_id) ON DELETE CASCADE,"
	"  docker_id TEXT, name TEXT, project TEXT, service TEXT,"
	"  spec_hash TEXT, spec_fields TEXT, image TEXT, state TEXT, health TEXT,"
	"  exit_code INTEGER NOT NULL DEFAULT 0,"
	"  created INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX observed_containers_pass ON observed_containers(pass_id);"
	"CREATE TABLE observed_networks ("
	"  pass_id INTEGER NOT NULL REFERENCES snapshots(pass_id) ON DELETE CASCADE,"
	"  docker_id TEXT, name TEXT, project TEXT"
	");"
	"CREATE INDEX observed_networks_pass ON observed_networks(pass_id);"
	"CREATE TABLE observed_volumes ("
	"  pass_id INTEGER NOT NULL REFERENCES snapshots(pass_id) ON DELETE CASCADE,"
	"  name TEXT, project TEXT, type TEXT"
	");"
	"CREATE INDEX observed_volumes_pass ON observed_volumes(pass_id);"
	"CREATE TABLE observed_images ("
	"  pass_id INTEGER NOT NULL REFERENCES snapshots(pass_id) ON DELETE CASCADE,"
	"  ref TEXT NOT NULL"
	");"
	"CREATE INDEX observed_images_pass ON observed_images(pass_id);",
	/* 2: the networks each observed container is attached to */
	"ALTER TABLE observed_containers ADD COLUMN networks TEXT;",
	/* 3: ownership: this state's identity, the cara.owner label of each
	 * observed object, and the owners --adopt took projects over from */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE adoptions ("
	"  project TEXT NOT NULL, owner TEXT NOT NULL, time INTEGER NOT NULL,"
	"  PRIMARY KEY (project, owner)"
	");"
	"ALTER TABLE observed_containers ADD COLUMN owner TEXT;"
	"ALTER TABLE observed_networks ADD COLUMN owner TEXT;"
	"ALTER TABLE observed_volumes ADD COLUMN owner TEXT;"
	/* what this state applied before the owner label existed carries no
	 * label: it is adopted once, here, by this state and only by it */
	"INSERT INTO adoptions(project, owner, time)"
	" SELECT name, '', CAST(strftime('%s', 'now') AS INTEGER) FROM projects;",
	/* 4: the type each volume was last declared with (labels are fixed) */
	"CREATE TABLE volume_types ("
	"  name TEXT PRIMARY KEY, project TEXT NOT NULL, type TEXT NOT NULL"
	");",
	/* 5: images: the image each container runs, the id of each local
	 * reference (tags and repo digests), and when each tag was last
	 * checked against its registry (--image-check) */
	"ALTER TABLE observed_containers ADD COLUMN image_id TEXT;"
	"ALTER TABLE observed_images ADD COLUMN image_id TEXT;"
	"CREATE TABLE image_checks ("
	"  ref TEXT PRIMARY KEY, checked INTEGER NOT NULL, digest TEXT"
	");",
	/* 6: ingress: the routes each project's rules made when it was last
	 * valid (an invalid project keeps them), one line a route
	 * (ingress.h route_line) */
	"CREATE TABLE ingress_routes ("
	"  project TEXT NOT NULL, line TEXT NOT NULL, PRIMARY KEY (project, line)"
	");",
	/* 7: a cluster service's tasks and what is wrong with them */
	"ALTER TABLE observed_containers ADD COLUMN tasks TEXT;"
	"ALTER TABLE observed_containers ADD COLUMN problem TEXT;",
	/* 8: whether each observed network is internal (it cannot change on
	 * a network: one that must is made again) */
	"ALTER TABLE observed_networks ADD COLUMN internal INTEGER;",
	/* 9: on a cluster, the node each Managed volume of a project is
	 * pinned to (pin.h): this state's, as every row here is; kept until
	 * the operator drops it (cara state unpin) */
	"CREATE TABLE volume_pins ("
	"  project TEXT NOT NULL, volume TEXT NOT NULL, node_id TEXT NOT NULL,"
	"  hostname TEXT NOT NULL, time INTEGER NOT NULL,"
	"  PRIMARY KEY (project, volume)"
	");",
	/* 10: restarts a pass planned (depends_on restart: true) and did not
	 * see done: written before the pass applies anything, dropped when
	 * the project's apply ends well, so that a pass killed after the
	 * dependency restarted but before the service did still owes it */
	"CREATE TABLE owed_restarts ("
	"  project TEXT NOT NULL, service TEXT NOT NULL, after TEXT NOT NULL,"
	"  time INTEGER NOT NULL, PRIMARY KEY (project, service)"
	");",
};

#define SCHEMA_VERSION ((int)ARRAY_SIZE(migrations))

/* The tables a database must have to be taken for a cara state database. */
static const char *const our_tables[] = {
	"passes", "projects", "conditions", "events", "snapshots",
	"observed_containers", "observed_networks", "observed_volumes",
	"observed_images",
};

/* ---- small SQLite helpers ---- */

/*
 * "state: WHAT: sqlite's message", with the system's reason when SQLite
 * has one: "disk I/O error" alone does not say the disk is full.
 */
static int db_error(sqlite3 *db, const char *what)
{
	int code = sqlite3_errcode(db), sys = sqlite3_system_errno(db);

	if (sys && (code == SQLITE_IOERR || code == SQLITE_CANTOPEN ||
		    code == SQLITE_FULL))
		return error_set("state: %s: %s (%s)", what, sqlite3_errmsg(db),
				 strerror(sys));
	return error_set("state: %s: %s", what, sqlite3_errmsg(db));
}

static int exec(struct state *st, const char *sql, const char *what)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(st->db, what);
	return 0;
}

/*
 * Bind parameters 1..n by a type string: 's' text (NULL binds NULL),
 * 'i' int, 'l' int64_t, 'z' int64_t bound as NULL when 0.  The values
 * must outlive the statement's last step (SQLITE_STATIC).
 */
static int bindv(sqlite3_stmt *s, const char *types, va_list ap)
{
	int i, rc = SQLITE_OK;
	const char *str;
	int64_t l;

	for (i = 0; types[i] && rc == SQLITE_OK; i++) {
		switch (types[i]) {
		case 's':
			str = va_arg(ap, const char *);
			rc = str ? sqlite3_bind_text(s, i + 1, str, -1, SQLITE_STATIC) :
			     sqlite3_bind_null(s, i + 1);
			break;
		case 'i':
			rc = sqlite3_bind_int(s, i + 1, va_arg(ap, int));
			break;
		case 'l':
			rc = sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
			break;
		case 'z':
			l = va_arg(ap, int64_t);
			rc = l ? sqlite3_bind_int64(s, i + 1, l) : sqlite3_bind_null(s, i + 1);
			break;
		default:
			rc = SQLITE_MISUSE;
		}
	}
	return rc;
}

/* Prepare sql and bind its parameters; on failure *out is NULL. */
static int vquery(struct state *st, sqlite3_stmt **out, const char *what,
		  const char *sql, const char *types, va_list ap)
{
	*out = NULL;
	if (sqlite3_prepare_v2(st->db, sql, -1, out, NULL) != SQLITE_OK)
		return db_error(st->db, what);
	if (bindv(*out, types, ap) != SQLITE_OK) {
		db_error(st->db, what);
		sqlite3_finalize(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int query(struct state *st, sqlite3_stmt **out, const char *what,
		 const char *sql, const char *types, ...)
{
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = vquery(st, out, what, sql, types, ap);
	va_end(ap);
	return rc;
}

/* Step sql to its end, handing each row to fn (may be NULL). */
typedef void (*row_fn_t)(sqlite3_stmt *s, void *arg);

static int vrows(struct state *st, const char *what, const char *sql,
		 const char *types, va_list ap, row_fn_t fn, void *arg)
{
	sqlite3_stmt *s;
	int rc;

	if (vquery(st, &s, what, sql, types, ap) < 0)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (fn)
			fn(s, arg);
	if (rc != SQLITE_DONE)
		db_error(st->db, what);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Run a statement that returns no rows we need. */
static int run(struct state *st, const char *what, const char *sql,
	       const char *types, ...)
{
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = vrows(st, what, sql, types, ap, NULL, NULL);
	va_end(ap);
	return rc;
}

static void push_text(sqlite3_stmt *s, void *arg)
{
	strvec_push(arg, (const char *)sqlite3_column_text(s, 0));
}

/* The first column of every row, as strings, appended to out. */
static int column_list(struct state *st, struct strvec *out, const char *what,
		       const char *sql, const char *types, ...)
{
	va_list ap;
	int rc;

	va_start(ap, types);
	rc = vrows(st, what, sql, types, ap, push_text, out);
	va_end(ap);
	return rc;
}

struct first_int {
	int64_t *out;
	bool seen;
};

static void take_first_int(sqlite3_stmt *s, void *arg)
{
	struct first_int *f = arg;

	if (!f->seen)
		*f->out = sqlite3_column_int64(s, 0);
	f->seen = true;
}

/* First column of the first row as an integer; 0 for no row or NULL. */
static int scalar(struct state *st, int64_t *out, const char *what,
		  const char *sql, const char *types, ...)
{
	struct first_int f = { out, false };
	va_list ap;
	int rc;

	*out = 0;
	va_start(ap, types);
	rc = vrows(st, what, sql, types, ap, take_first_int, &f);
	va_end(ap);
	return rc;
}

/* A text column, copied; NULL stays NULL. */
static char *col_str(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? xstrdup((const char *)t) : NULL;
}

/* A text column, copied; NULL becomes "" (the observed structs need strings). */
static char *col_str_nn(sqlite3_stmt *s, int i)
{
	char *v = col_str(s, i);

	return v ? v : xstrdup("");
}

static bool str_eq(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

/* SQLite's LIMIT: -1 means none. */
static int64_t sql_limit(size_t limit)
{
	return !limit ? -1 : limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
}

/*
 * Start a transaction unless the caller has one open; *own says whether
 * tx_leave() must end it.
 */
static int tx_enter(struct state *st, bool *own)
{
	*own = sqlite3_get_autocommit(st->db) != 0;
	if (*own && exec(st, "BEGIN IMMEDIATE", "cannot begin a transaction") < 0) {
		*own = false;
		return -1;
	}
	return 0;
}

/* End the transaction tx_enter() began: commit when rc is 0, else roll back. */
static int tx_leave(struct state *st, bool own, int rc)
{
	if (!own)
		return rc;
	if (rc == 0 && exec(st, "COMMIT", "cannot commit") == 0)
		return 0;
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* ---- open, migrate, close ---- */

/* mkdir -p; a directory we create last is made 0700 whatever the umask. */
static int make_dirs(const char *dir)
{
	char *p = xstrdup(dir);
	size_t len = strlen(p), i;
	struct stat sb;
	bool last;
	int rc = -1;

	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	for (i = 1; i <= len; i++) {
		last = i == len;
		if (!last && (p[i] != '/' || p[i - 1] == '/'))
			continue;
		p[i] = '\0';
		if (stat(p, &sb) < 0) {
			if (mkdir(p, last ? 0700 : 0755) < 0 && errno != EEXIST) {
				error_set("state: cannot create directory '%s': %s", p,
					  strerror(errno));
				goto out;
			}
			if (last && chmod(p, 0700) < 0) {
				error_set("state: cannot chmod '%s': %s", p,
					  strerror(errno));
				goto out;
			}
		}
		if (!last)
			p[i] = '/';
	}
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		error_set("state: '%s' is not a directory", dir);
		goto out;
	}
	rc = 0;
out:
	free(p);
	return rc;
}

/* Create the database file 0600 before SQLite does (it would use 0644). */
static int make_db_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	struct stat sb;

	if (fd < 0)
		return error_set("state: cannot create '%s': %s", path, strerror(errno));
	if (fstat(fd, &sb) < 0 ||
	    ((sb.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0)) {
		error_set("state: cannot chmod '%s': %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int user_version(struct state *st, int64_t *out)
{
	return scalar(st, out, "cannot read the schema version", "PRAGMA user_version", "");
}

static int migrate(struct state *st)
{
	int64_t v;
	bool own = false;
	int rc = -1;

	if (user_version(st, &v) < 0)
		return -1;
	if (v == SCHEMA_VERSION)
		return 0;
	if (v < SCHEMA_VERSION) {
		if (tx_enter(st, &own) < 0)
			return -1;
		/* another process may have migrated while we waited */
		if (user_version(st, &v) < 0)
			goto out;
	}
	if (v > SCHEMA_VERSION) {
		error_set("state.db schema version %lld is newer than this cara (%d)",
			  (long long)v, SCHEMA_VERSION);
		goto out;
	}
	for (; v < SCHEMA_VERSION; v++) {
		char *sql = xasprintf("PRAGMA user_version = %d", (int)v + 1);
		int r = exec(st, migrations[v], "cannot migrate the schema");

		if (!r)
			r = exec(st, sql, "cannot set the schema version");
		free(sql);
		if (r < 0)
			goto out;
	}
	rc = 0;
out:
	return tx_leave(st, own, rc);
}

static int configure(struct state *st)
{
	static const char *const pragmas[] = {
		"PRAGMA foreign_keys = ON",
		"PRAGMA journal_mode = WAL",
		"PRAGMA synchronous = NORMAL",
	};
	size_t i;

	sqlite3_busy_timeout(st->db, 5000);
	for (i = 0; i < ARRAY_SIZE(pragmas); i++) {
		if (sqlite3_exec(st->db, pragmas[i], NULL, NULL, NULL) != SQLITE_OK) {
			char *what = xasprintf("cannot open '%s' (%s)", st->path,
					       pragmas[i]);

			db_error(st->db, what);
			free(what);
			return -1;
		}
	}
	return 0;
}

static int open_db(struct state **out, const char *dir, bool create)
{
	struct state *st = xcalloc(1, sizeof(*st));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX;
	struct stat sb;
	int rc = -1;

	*out = NULL;
	st->lockfd = -1;
	st->dir = xstrdup(dir);
	st->path = xasprintf("%s/state.db", dir);
	if (create && make_dirs(dir) < 0)
		goto fail;
	/* SQLite's own word for it would be "No such file or directory" (it
	 * cannot make the -wal and -shm files): say what is wrong */
	if (access(dir, W_OK) < 0 && (errno == EROFS || errno == EACCES)) {
		error_set("state: the state directory '%s' is %s: cara records every "
			  "pass there and needs to write to it", dir,
			  errno == EROFS ? "on a read-only file system" :
			  "not writable by this user");
		goto fail;
	}
	if (create) {
		if (make_db_file(st->path) < 0)
			goto fail;
	} else if (stat(st->path, &sb) < 0) {
		rc = errno == ENOENT ? ERR_NOTFOUND : -1;
		error_set("state: cannot open '%s': %s", st->path, strerror(errno));
		goto fail;
	}
	if (sqlite3_open_v2(st->path, &st->db, flags, NULL) != SQLITE_OK) {
		if (st->db)
			error_set("state: cannot open '%s': %s", st->path,
				  sqlite3_errmsg(st->db));
		else
			error_set("state: cannot open '%s': out of memory", st->path);
		goto fail;
	}
	if (configure(st) < 0 || migrate(st) < 0)
		goto fail;
	*out = st;
	return 0;
fail:
	state_close(st);
	return rc;
}

int state_open(struct state **out, const char *dir)
{
	return open_db(out, dir, true);
}

int state_open_existing(struct state **out, const char *dir)
{
	return open_db(out, dir, false);
}

void state_close(struct state *st)
{
	if (!st)
		return;
	if (st->db)
		sqlite3_close(st->db);
	if (st->lockfd >= 0)
		close(st->lockfd);
	free(st->dir);
	free(st->path);
	free(st);
}

/* ---- the pass lock ---- */

int state_lock(struct state *st, int wait_s)
{
	char *file;
	struct timespec now, deadline, nap = { 0, 100 * 1000 * 1000 };
	int fd;

	if (st->lockfd >= 0)
		return 0;
	file = xasprintf("%s/lock", st->dir);
	fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		error_set("state: cannot open '%s': %s", file, strerror(errno));
		free(file);
		return -1;
	}
	free(file);
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += wait_s > 0 ? wait_s : 0;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			error_set("state: cannot lock '%s/lock': %s", st->dir,
				  strerror(errno));
			close(fd);
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > deadline.tv_sec ||
		    (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) {
			if (wait_s > 0)
				error_set("another cara pass holds the lock on %s "
					  "(waited %ds)", st->dir, wait_s);
			else
				error_set("another cara pass holds the lock on %s",
					  st->dir);
			close(fd);
			return ERR_LOCKED;
		}
		nanosleep(&nap, NULL);
	}
	st->lockfd = fd;
	return 0;
}

/* ---- transactions ---- */

int state_begin(struct state *st)
{
	return exec(st, "BEGIN IMMEDIATE", "cannot begin a transaction");
}

int state_commit(struct state *st)
{
	if (exec(st, "COMMIT", "cannot commit") == 0)
		return 0;
	/* leave the handle usable: a failed COMMIT keeps the transaction */
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

void state_rollback(struct state *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- passes ---- */

int state_pass_begin(struct state *st, const char *command, int64_t now,
		     int64_t *out_id)
{
	bool own;
	int rc = -1;

	if (tx_enter(st, &own) < 0)
		return -1;
	if (run(st, "cannot record the pass",
		"INSERT INTO passes(command, started) VALUES(?1, ?2)", "sl",
		command, now) < 0)
		goto out;
	*out_id = sqlite3_last_insert_rowid(st->db);
	if (run(st, "cannot prune old passes",
		"DELETE FROM passes WHERE id <= ?1 - ?2 AND id IS NOT"
		" (SELECT id FROM passes WHERE outcome = 'converged'"
		"  ORDER BY ended DESC, id DESC LIMIT 1)", "ll",
		*out_id, (int64_t)STATE_KEEP_PASSES) < 0)
		goto out;
	rc = 0;
out:
	rc = tx_leave(st, own, rc);
	if (!rc)
		st->pass_id = *out_id;
	return rc;
}

int state_pass_source(struct state *st, int64_t pass_id, const char *commit,
		      int64_t commit_time, const char *subject, bool offline)
{
	return run(st, "cannot record the pass source",
		   "UPDATE passes SET commit_id = ?2, commit_time = ?3, subject = ?4,"
		   " offline = ?5 WHERE id = ?1", "lslsi",
		   pass_id, commit, commit_time, subject, (int)offline);
}

int state_pass_end(struct state *st, int64_t pass_id, int64_t now,
		   const char *outcome, const struct pass_counts *c)
{
	if (run(st, "cannot record the end of the pass",
		"UPDATE passes SET ended = ?2, outcome = ?3, created = ?4,"
		" started_n = ?5, recreated = ?6, removed = ?7, failed = ?8,"
		" torn_down = ?9, projects = ?10, projects_failed = ?11"
		" WHERE id = ?1", "llsllllllll", pass_id, now, outcome,
		(int64_t)c->created, (int64_t)c->started, (int64_t)c->recreated,
		(int64_t)c->removed, (int64_t)c->failed, (int64_t)c->torn_down,
		(int64_t)c->projects, (int64_t)c->projects_failed) < 0)
		return -1;
	if (sqlite3_changes(st->db) == 0)
		return error_set("state: cannot record the end of pass %lld: no such pass",
				 (long long)pass_id);
	return 0;
}

int state_last_pass(struct state *st, struct pass_row *out)
{
	sqlite3_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	if (query(st, &s, "cannot read the last pass",
		  "SELECT id, started, ended, command, commit_id, subject, outcome,"
		  " offline FROM passes WHERE ended != 0"
		  " ORDER BY ended DESC, id DESC LIMIT 1", "") < 0)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(s, 0);
		out->started = sqlite3_column_int64(s, 1);
		out->ended = sqlite3_column_int64(s, 2);
		out->command = col_str(s, 3);
		out->commit = col_str(s, 4);
		out->subject = col_str(s, 5);
		out->outcome = col_str(s, 6);
		out->offline = sqlite3_column_int(s, 7) != 0;
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = ERR_NOTFOUND;
		error_set("state: no pass has finished yet");
	} else {
		rc = db_error(st->db, "cannot read the last pass");
	}
	sqlite3_finalize(s);
	return rc;
}

void pass_row_release(struct pass_row *r)
{
	free(r->command);
	free(r->commit);
	free(r->subject);
	free(r->outcome);
	memset(r, 0, sizeof(*r));
}

int state_last_applied_commit(struct state *st, char **out)
{
	struct strvec v = STRVEC_INIT;
	int rc;

	rc = column_list(st, &v, "cannot read the last applied commit",
			 "SELECT commit_id FROM passes WHERE command = 'sync' AND ended != 0"
			 " AND commit_id IS NOT NULL AND outcome IN ('converged', 'partial')"
			 " ORDER BY id DESC LIMIT 1", "");
	*out = v.n ? xstrdup(v.v[0]) : NULL;
	strvec_release(&v);
	return rc;
}

int state_last_success(struct state *st, int64_t *out)
{
	return scalar(st, out, "cannot read the last successful pass",
		      "SELECT max(ended) FROM passes"
		      " WHERE outcome = 'converged' AND ended != 0", "");
}

/* ---- observed snapshots ---- */

static int record_containers(struct state *st, int64_t pass_id,
			     const struct observed *obs)
{
	sqlite3_stmt *s;
	size_t i;
	int rc = SQLITE_DONE;

	if (query(st, &s, "cannot record the observed containers",
		  "INSERT INTO observed_containers(pass_id, docker_id, name, project,"
		  " service, spec_hash, spec_fields, image, state, health, exit_code,"
		  " created, networks, owner, image_id, tasks, problem) VALUES(?1, ?2,"
		  " ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
		  "l", pass_id) < 0)
		return -1;
	for (i = 0; i < obs->ncontainers && rc == SQLITE_DONE; i++) {
		const struct obs_container *c = &obs->containers[i];
		const char *v[] = { c->id, c->name, c->project, c->service,
				    c->spec_hash, c->spec_fields, c->image,
				    obs_state_name(c->state),
				    obs_health_name(c->health) };
		size_t k;

		for (k = 0; k < ARRAY_SIZE(v); k++)
			if (v[k])
				sqlite3_bind_text(s, (int)k + 2, v[k], -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(s, (int)k + 2);
		sqlite3_bind_int(s, 11, c->exit_code);
		sqlite3_bind_int64(s, 12, c->created);
		if (c->networks)
			sqlite3_bind_text(s, 13, c->networks, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 13);
		sqlite3_bind_text(s, 14, c->owner ? c->owner : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(s, 15, c->image_id ? c->image_id : "", -1,
				  SQLITE_STATIC);
		if (c->tasks)
			sqlite3_bind_text(s, 16, c->tasks, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 16);
		if (c->problem)
			sqlite3_bind_text(s, 17, c->problem, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 17);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
	}
	if (rc != SQLITE_DONE)
		db_error(st->db, "cannot record the observed containers");
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Insert rows of up to ROW_COLS strings each, given by a callback. */
#define ROW_COLS 5
typedef void (*row_fn)(const struct observed *obs, size_t i, const char *v[ROW_COLS]);

static void network_row(const struct observed *obs, size_t i, const char *v[ROW_COLS])
{
	v[0] = obs->networks[i].id;
	v[1] = obs->networks[i].name;
	v[2] = obs->networks[i].project;
	v[3] = obs->networks[i].owner ? obs->networks[i].owner : "";
	v[4] = obs->networks[i].internal < 0 ? NULL :
	       obs->networks[i].internal ? "1" : "0";
}

static void volume_row(const struct observed *obs, size_t i, const char *v[ROW_COLS])
{
	v[0] = obs->volumes[i].name;
	v[1] = obs->volumes[i].project;
	v[2] = obs->volumes[i].type;
	v[3] = obs->volumes[i].owner ? obs->volumes[i].owner : "";
	v[4] = NULL;
}

static void image_row(const struct observed *obs, size_t i, const char *v[ROW_COLS])
{
	v[0] = obs->images[i];
	v[1] = obs->image_ids ? obs->image_ids[i] : "";
	v[2] = v[3] = v[4] = NULL;
}

static int record_rows(struct state *st, int64_t pass_id, const struct observed *obs,
		       const char *what, const char *sql, size_t n, int ncols,
		       row_fn fn)
{
	sqlite3_stmt *s;
	size_t i;
	int k, rc = SQLITE_DONE;

	if (query(st, &s, what, sql, "l", pass_id) < 0)
		return -1;
	for (i = 0; i < n && rc == SQLITE_DONE; i++) {
		const char *v[ROW_COLS];

		fn(obs, i, v);
		for (k = 0; k < ncols; k++)
			if (v[k])
				sqlite3_bind_text(s, k + 2, v[k], -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(s, k + 2);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
	}
	if (rc != SQLITE_DONE)
		db_error(st->db, what);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int state_record_observed(struct state *st, int64_t pass_id,
			  const struct observed *obs)
{
	bool own;
	int rc = -1;

	if (tx_enter(st, &own) < 0)
		return -1;
	/* deleting the snapshot row cascades to its object rows */
	if (run(st, "cannot replace the observed snapshot",
		"DELETE FROM snapshots WHERE pass_id = ?1", "l", pass_id) < 0 ||
	    run(st, "cannot record the observed snapshot",
		"INSERT INTO snapshots(pass_id) VALUES(?1)", "l", pass_id) < 0 ||
	    record_containers(st, pass_id, obs) < 0 ||
	    record_rows(st, pass_id, obs, "cannot record the observed networks",
			"INSERT INTO observed_networks(pass_id, docker_id, name, project,"
			" owner, internal) VALUES(?1, ?2, ?3, ?4, ?5, ?6)", obs->nnetworks, 5,
			network_row) < 0 ||
	    record_rows(st, pass_id, obs, "cannot record the observed volumes",
			"INSERT INTO observed_volumes(pass_id, name, project, type, owner)"
			" VALUES(?1, ?2, ?3, ?4, ?5)", obs->nvolumes, 4, volume_row) < 0 ||
	    record_rows(st, pass_id, obs, "cannot record the observed images",
			"INSERT INTO observed_images(pass_id, ref, image_id)"
			" VALUES(?1, ?2, ?3)", obs->nimages, 2, image_row) < 0)
		goto out;
	if (run(st, "cannot prune old snapshots",
		"DELETE FROM snapshots WHERE pass_id NOT IN (SELECT pass_id"
		" FROM snapshots ORDER BY pass_id DESC LIMIT ?1)", "l",
		(int64_t)STATE_KEEP_SNAPSHOTS) < 0)
		goto out;
	rc = 0;
out:
	return tx_leave(st, own, rc);
}

static int load_containers(struct state *st, int64_t pass_id, struct observed *out)
{
	sqlite3_stmt *s;
	int rc;

	if (query(st, &s, "cannot load the observed containers",
		  "SELECT docker_id, name, project, service, spec_hash, spec_fields,"
		  " image, state, health, exit_code, created, networks, owner, image_id,"
		  " tasks, problem FROM observed_containers"
		  " WHERE pass_id = ?1 ORDER BY rowid", "l", pass_id) < 0)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct obs_container *c = observed_add_container(out);

		c->id = col_str_nn(s, 0);
		c->name = col_str_nn(s, 1);
		c->project = col_str_nn(s, 2);
		c->service = col_str_nn(s, 3);
		c->spec_hash = col_str_nn(s, 4);
		c->spec_fields = col_str_nn(s, 5);
		c->image = col_str_nn(s, 6);
		c->state = obs_state_parse((const char *)sqlite3_column_text(s, 7));
		c->health = obs_health_parse((const char *)sqlite3_column_text(s, 8));
		c->exit_code = sqlite3_column_int(s, 9);
		c->created = sqlite3_column_int64(s, 10);
		if (sqlite3_column_type(s, 11) != SQLITE_NULL)
			c->networks = col_str_nn(s, 11);
		c->owner = col_str_nn(s, 12);
		c->image_id = col_str_nn(s, 13);
		if (sqlite3_column_type(s, 14) != SQLITE_NULL)
			c->tasks = col_str_nn(s, 14);
		if (sqlite3_column_type(s, 15) != SQLITE_NULL)
			c->problem = col_str_nn(s, 15);
	}
	if (rc != SQLITE_DONE)
		db_error(st->db, "cannot load the observed containers");
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int load_others(struct state *st, int64_t pass_id, struct observed *out)
{
	sqlite3_stmt *s;
	int rc;

	if (query(st, &s, "cannot load the observed snapshot",
		  "SELECT 'n' AS k, docker_id, name, project, owner, rowid AS r,"
		  " internal FROM observed_networks WHERE pass_id = ?1"
		  " UNION ALL SELECT 'v', name, project, type, owner, rowid, NULL"
		  " FROM observed_volumes WHERE pass_id = ?1"
		  " UNION ALL SELECT 'i', ref, image_id, NULL, NULL, rowid, NULL"
		  " FROM observed_images WHERE pass_id = ?1 ORDER BY k, r",
		  "l", pass_id) < 0)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(s, 0);
		struct obs_network *n;
		struct obs_volume *v;

		if (kind[0] == 'n') {
			n = observed_add_network(out);
			n->id = col_str_nn(s, 1);
			n->name = col_str_nn(s, 2);
			n->project = col_str_nn(s, 3);
			n->owner = col_str_nn(s, 4);
			if (sqlite3_column_type(s, 6) != SQLITE_NULL)
				n->internal = sqlite3_column_int(s, 6) != 0;
		} else if (kind[0] == 'v') {
			v = observed_add_volume(out);
			v->name = col_str_nn(s, 1);
			v->project = col_str_nn(s, 2);
			v->type = col_str_nn(s, 3);
			v->owner = col_str_nn(s, 4);
		} else {
			observed_add_image_id(out, (const char *)sqlite3_column_text(s, 1),
					      (const char *)sqlite3_column_text(s, 2));
		}
	}
	if (rc != SQLITE_DONE)
		db_error(st->db, "cannot load the observed snapshot");
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

int state_load_observed(struct state *st, int64_t pass_id, struct observed *out)
{
	int64_t found;

	if (scalar(st, &found, "cannot load the observed snapshot",
		   "SELECT count(*) FROM snapshots WHERE pass_id = ?1", "l",
		   pass_id) < 0)
		return -1;
	if (!found) {
		error_set("state: no observed snapshot for pass %lld", (long long)pass_id);
		return ERR_NOTFOUND;
	}
	if (load_containers(st, pass_id, out) < 0 ||
	    load_others(st, pass_id, out) < 0) {
		observed_release(out);
		return -1;
	}
	observed_sort(out);
	return 0;
}

int state_load_last_observed(struct state *st, struct observed *out)
{
	int64_t pass_id;

	if (scalar(st, &pass_id, "cannot load the observed snapshot",
		   "SELECT coalesce(max(pass_id), 0) FROM snapshots", "") < 0)
		return -1;
	if (!pass_id) {
		error_set("state: no observed snapshot");
		return ERR_NOTFOUND;
	}
	return state_load_observed(st, pass_id, out);
}

/* ---- projects ---- */

int state_project_upsert(struct state *st, const char *name,
			 const char *spec_hash, const char *commit,
			 const char *file, bool has_expire, int64_t expire_at)
{
	return run(st, "cannot record the project",
		   "INSERT INTO projects(name, spec_hash, commit_id, file, has_expire,"
		   " expire_at, created, updated) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)"
		   " ON CONFLICT(name) DO UPDATE SET spec_hash = excluded.spec_hash,"
		   " commit_id = excluded.commit_id, file = excluded.file,"
		   " has_expire = excluded.has_expire, expire_at = excluded.expire_at",
		   "ssssill", name, spec_hash, commit, file, (int)has_expire,
		   has_expire ? expire_at : (int64_t)0, (int64_t)time(NULL));
}

/* Keep the newest `keep` rows of a project in table (events or conditions). */
static int prune_history(struct state *st, const char *name, bool events,
			 int64_t keep)
{
	const char *sql = events ?
		"DELETE FROM events WHERE project IS ?1 AND id < (SELECT id FROM"
		" events WHERE project IS ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)" :
		"DELETE FROM conditions WHERE project = ?1 AND id < (SELECT id FROM"
		" conditions WHERE project = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)";

	return run(st, "cannot prune the history", sql, "sl", name, keep - 1);
}

static int insert_event(struct state *st, int64_t pass_id, const char *project,
			const char *kind, const char *message, int64_t now)
{
	if (run(st, "cannot record the event",
		"INSERT INTO events(time, pass_id, project, kind, message)"
		" VALUES(?1, ?2, ?3, ?4, ?5)", "lzsss", now, pass_id, project,
		kind, message) < 0)
		return -1;
	return prune_history(st, project, true, STATE_KEEP_EVENTS);
}

/* The condition and the event of a phase transition. */
static int record_transition(struct state *st, const char *name,
			     const char *old_phase, const char *phase,
			     const char *reason, const char *message, int64_t now)
{
	struct buf ev = BUF_INIT;
	int rc = -1;

	if (run(st, "cannot record the condition",
		"INSERT INTO conditions(project, type, status, reason, message, time)"
		" VALUES(?1, 'Ready', ?2, ?3, ?4, ?5)", "ssssl", name,
		phase && !strcmp(phase, "Running") ? "True" : "False", reason, message, now) < 0 ||
	    prune_history(st, name, false, STATE_KEEP_CONDITIONS) < 0)
		goto out;
	if (old_phase)
		buf_printf(&ev, "%s -> ", old_phase);
	buf_puts(&ev, phase ? phase : "-");
	if (reason && *reason)
		buf_printf(&ev, ": %s", reason);
	if (message && *message)
		buf_printf(&ev, ": %s", message);
	rc = insert_event(st, st->pass_id, name, "Phase", buf_cstr(&ev), now);
out:
	buf_release(&ev);
	return rc;
}

int state_project_phase(struct state *st, const char *name, const char *phase,
			const char *reason, const char *message, int64_t now)
{
	sqlite3_stmt *s = NULL;
	char *old_phase = NULL, *old_reason = NULL;
	bool own, exists = false, changed;
	int rc = -1, r;

	if (tx_enter(st, &own) < 0)
		return -1;
	if (query(st, &s, "cannot read the project",
		  "SELECT phase, reason FROM projects WHERE name = ?1", "s", name) < 0)
		goto out;
	r = sqlite3_step(s);
	if (r == SQLITE_ROW) {
		exists = true;
		old_phase = col_str(s, 0);
		old_reason = col_str(s, 1);
	} else if (r != SQLITE_DONE) {
		db_error(st->db, "cannot read the project");
		goto out;
	}
	changed = !exists || !str_eq(old_phase, phase) || !str_eq(old_reason, reason);
	if (!exists)
		r = run(st, "cannot record the project phase",
			"INSERT INTO projects(name, phase, reason, message, created,"
			" updated) VALUES(?1, ?2, ?3, ?4, ?5, ?5)", "ssssl",
			name, phase, reason, message, now);
	else
		r = run(st, "cannot record the project phase",
			"UPDATE projects SET phase = ?2, reason = ?3, message = ?4,"
			" updated = CASE WHEN ?6 THEN ?5 ELSE updated END"
			" WHERE name = ?1", "ssssli",
			name, phase, reason, message, now, (int)changed);
	if (r < 0)
		goto out;
	if (changed && record_transition(st, name, old_phase, phase, reason,
					 message, now) < 0)
		goto out;
	rc = 0;
out:
	sqlite3_finalize(s);
	free(old_phase);
	free(old_reason);
	return tx_leave(st, own, rc);
}

int state_event(struct state *st, int64_t pass_id, const char *project,
		const char *kind, const char *message, int64_t now)
{
	bool own;

	if (tx_enter(st, &own) < 0)
		return -1;
	return tx_leave(st, own, insert_event(st, pass_id, project, kind, message,
					      now));
}

/* ---- ownership ---- */

int state_identity(struct state *st, char **out)
{
	unsigned char raw[16];
	char hex[33];
	sqlite3_stmt *s;
	bool own;
	size_t i;
	int rc;

	*out = NULL;
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return error_set("state: cannot make an identity: %s", strerror(errno));
	for (i = 0; i < sizeof(raw); i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	/* made once: a second process racing here keeps the first one's */
	if (tx_enter(st, &own) < 0)
		return -1;
	rc = run(st, "cannot record the state identity",
		 "INSERT OR IGNORE INTO meta(key, value) VALUES('identity', ?1)", "s", hex);
	rc = tx_leave(st, own, rc);
	if (rc < 0)
		return -1;
	if (query(st, &s, "cannot read the state identity",
		  "SELECT value FROM meta WHERE key = 'identity'", "") < 0)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*out = col_str(s, 0);
	else
		db_error(st->db, "cannot read the state identity");
	sqlite3_finalize(s);
	return *out ? 0 : -1;
}

int state_volume_type(struct state *st, const char *name, const char *project,
		      const char *type)
{
	return run(st, "cannot record a volume type",
		   "INSERT INTO volume_types(name, project, type) VALUES(?1, ?2, ?3)"
		   " ON CONFLICT(name) DO UPDATE SET project = ?2, type = ?3",
		   "sss", name, project, type);
}

int state_volume_types(struct state *st, struct strvec *out)
{
	return column_list(st, out, "cannot list the volume types",
			   "SELECT name || char(9) || type FROM volume_types ORDER BY 1", "");
}

int state_owed_restarts(struct state *st, struct strvec *out)
{
	return column_list(st, out, "cannot list the owed restarts",
			   "SELECT project || char(9) || service || char(9) || after"
			   " FROM owed_restarts ORDER BY 1", "");
}

int state_owe_restart(struct state *st, const char *project, const char *service,
		      const char *after, int64_t now)
{
	return run(st, "cannot record an owed restart",
		   "INSERT INTO owed_restarts(project, service, after, time)"
		   " VALUES(?1, ?2, ?3, ?4) ON CONFLICT(project, service) DO UPDATE"
		   " SET after = ?3, time = ?4", "sssl", project, service, after, now);
}

int state_owed_restarts_paid(struct state *st, const char *project)
{
	return run(st, "cannot drop the owed restarts",
		   "DELETE FROM owed_restarts WHERE project = ?1", "s", project);
}

int state_volume_pins(struct state *st, struct strvec *out)
{
	return column_list(st, out, "cannot list the volume pins",
			   "SELECT project || char(9) || volume || char(9) || node_id ||"
			   " char(9) || hostname FROM volume_pins ORDER BY 1", "");
}

int state_volume_pin(struct state *st, const char *project, const char *volume,
		     const char *node_id, const char *hostname, int64_t now)
{
	return run(st, "cannot record a volume pin",
		   "INSERT INTO volume_pins(project, volume, node_id, hostname, time)"
		   " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(project, volume) DO UPDATE"
		   " SET node_id = ?3, hostname = ?4, time = ?5",
		   "ssssl", project, volume, node_id, hostname, now);
}

int state_volume_unpin(struct state *st, const char *project, const char *volume)
{
	/* kept, emptied: the next pass places it afresh, not where its
	 * services are held now (which is what it does without a row) */
	if (run(st, "cannot drop a volume pin",
		"UPDATE volume_pins SET node_id = '', hostname = ''"
		" WHERE project = ?1 AND volume = ?2 AND node_id != ''",
		"ss", project, volume) < 0)
		return -1;
	if (sqlite3_changes(st->db) == 0) {
		error_set("state: volume '%s' of project '%s' is not pinned", volume,
			  project);
		return ERR_NOTFOUND;
	}
	return 0;
}

int state_volume_pins_forget(struct state *st, const char *project)
{
	return run(st, "cannot forget the volume pins",
		   "DELETE FROM volume_pins WHERE project = ?1", "s", project);
}

int state_image_checked(struct state *st, const char *ref, int64_t *out)
{
	return scalar(st, out, "cannot read when an image was checked",
		      "SELECT coalesce(max(checked), 0) FROM image_checks WHERE ref = ?1",
		      "s", ref);
}

int state_image_check(struct state *st, const char *ref, const char *digest,
		      int64_t now)
{
	return run(st, "cannot record an image check",
		   "INSERT INTO image_checks(ref, checked, digest) VALUES(?1, ?2, ?3)"
		   " ON CONFLICT(ref) DO UPDATE SET checked = ?2, digest = ?3",
		   "sls", ref, now, digest);
}

int state_ingress_routes(struct state *st, struct strvec *out)
{
	return column_list(st, out, "cannot list the ingress routes",
			   "SELECT line FROM ingress_routes ORDER BY project, line", "");
}

int state_ingress_set_routes(struct state *st, const char *project,
			     const struct strvec *lines)
{
	bool own;
	size_t i;
	int rc;

	if (tx_enter(st, &own) < 0)
		return -1;
	rc = run(st, "cannot record the ingress routes",
		 "DELETE FROM ingress_routes WHERE project = ?1", "s", project);
	for (i = 0; rc == 0 && lines && i < lines->n; i++)
		rc = run(st, "cannot record the ingress routes",
			 "INSERT OR IGNORE INTO ingress_routes(project, line) VALUES(?1, ?2)",
			 "ss", project, lines->v[i]);
	return tx_leave(st, own, rc);
}

int state_meta_get(struct state *st, const char *key, char **out)
{
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	if (query(st, &s, "cannot read the state's settings",
		  "SELECT value FROM meta WHERE key = ?1", "s", key) < 0)
		return -1;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*out = col_str(s, 0);
	else if (rc != SQLITE_DONE)
		rc = db_error(st->db, "cannot read the state's settings");
	sqlite3_finalize(s);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int state_meta_set(struct state *st, const char *key, const char *value)
{
	return run(st, "cannot record the state's settings",
		   "INSERT INTO meta(key, value) VALUES(?1, ?2)"
		   " ON CONFLICT(key) DO UPDATE SET value = ?2", "ss", key, value);
}

int state_adoptions(struct state *st, struct strvec *out)
{
	return column_list(st, out, "cannot list the adoptions",
			   "SELECT project || char(9) || owner FROM adoptions ORDER BY 1", "");
}

int state_adopt(struct state *st, const char *project, const char *owner,
		int64_t now)
{
	return run(st, "cannot record the adoption",
		   "INSERT OR IGNORE INTO adoptions(project, owner, time)"
		   " VALUES(?1, ?2, ?3)", "ssl", project, owner, now);
}

int state_projects(struct state *st, bool terminated, struct strvec *out)
{
	return column_list(st, out, "cannot list the projects",
			   "SELECT name FROM projects WHERE ?1 OR phase IS NOT 'Terminated'"
			   " ORDER BY name", "i", (int)terminated);
}

int state_list_projects(struct state *st, struct project_status **out, size_t *n)
{
	struct project_status *v = NULL;
	size_t len = 0, cap = 0;
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	if (query(st, &s, "cannot list the projects",
		  "SELECT name, phase, reason, message, commit_id, spec_hash, file,"
		  " has_expire, expire_at, created, updated FROM projects"
		  " ORDER BY name", "") < 0)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct project_status *p;

		GROW(v, cap, len + 1);
		p = &v[len++];
		p->name = col_str(s, 0);
		p->phase = col_str(s, 1);
		p->reason = col_str(s, 2);
		p->message = col_str(s, 3);
		p->commit = col_str(s, 4);
		p->spec_hash = col_str(s, 5);
		p->file = col_str(s, 6);
		p->has_expire = sqlite3_column_int(s, 7) != 0;
		p->expire_at = sqlite3_column_int64(s, 8);
		p->created = sqlite3_column_int64(s, 9);
		p->updated = sqlite3_column_int64(s, 10);
	}
	if (rc != SQLITE_DONE)
		db_error(st->db, "cannot list the projects");
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		project_status_free(v, len);
		return -1;
	}
	*out = v;
	*n = len;
	return 0;
}

void project_status_free(struct project_status *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].phase);
		free(v[i].reason);
		free(v[i].message);
		free(v[i].commit);
		free(v[i].spec_hash);
		free(v[i].file);
	}
	free(v);
}

int state_project_conditions(struct state *st, const char *name, size_t limit,
			     struct state_condition **out, size_t *n)
{
	struct state_condition *v = NULL;
	size_t len = 0, cap = 0;
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	if (query(st, &s, "cannot read the conditions",
		  "SELECT type, status, reason, message, time FROM conditions"
		  " WHERE project = ?1 ORDER BY id DESC LIMIT ?2", "sl",
		  name, sql_limit(limit)) < 0)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct state_condition *c;

		GROW(v, cap, len + 1);
		c = &v[len++];
		c->type = col_str_nn(s, 0);
		c->status = col_str_nn(s, 1);
		c->reason = col_str_nn(s, 2);
		c->message = col_str(s, 3);
		c->time = sqlite3_column_int64(s, 4);
	}
	if (rc != SQLITE_DONE)
		db_error(st->db, "cannot read the conditions");
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		state_conditions_free(v, len);
		return -1;
	}
	*out = v;
	*n = len;
	return 0;
}

void state_conditions_free(struct state_condition *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].type);
		free(v[i].status);
		free(v[i].reason);
		free(v[i].message);
	}
	free(v);
}

int state_project_events(struct state *st, const char *name, size_t limit,
			 struct state_event_row **out, size_t *n)
{
	struct state_event_row *v = NULL;
	size_t len = 0, cap = 0;
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	*n = 0;
	if (query(st, &s, "cannot read the events",
		  "SELECT time, pass_id, kind, message FROM events"
		  " WHERE project = ?1 ORDER BY id DESC LIMIT ?2", "sl",
		  name, sql_limit(limit)) < 0)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct state_event_row *e;

		GROW(v, cap, len + 1);
		e = &v[len++];
		e->time = sqlite3_column_int64(s, 0);
		e->pass_id = sqlite3_column_int64(s, 1);
		e->kind = col_str_nn(s, 2);
		e->message = col_str(s, 3);
	}
	if (rc != SQLITE_DONE)
		db_error(st->db, "cannot read the events");
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		state_events_free(v, len);
		return -1;
	}
	*out = v;
	*n = len;
	return 0;
}

void state_events_free(struct state_event_row *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].kind);
		free(v[i].message);
	}
	free(v);
}

/* ---- integrity, backup, restore ---- */

/* PRAGMA integrity_check of db: "ok" or its report, one problem a line. */
static int integrity(sqlite3 *db, char **out)
{
	struct buf b = BUF_INIT;
	sqlite3_stmt *s = NULL;
	int rc;

	*out = NULL;
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK)
		return db_error(db, "cannot check integrity");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *line = (const char *)sqlite3_column_text(s, 0);

		if (b.len)
			buf_putc(&b, '\n');
		buf_puts(&b, line ? line : "");
	}
	if (rc != SQLITE_DONE) {
		db_error(db, "cannot check integrity");
		sqlite3_finalize(s);
		buf_release(&b);
		return -1;
	}
	sqlite3_finalize(s);
	*out = buf_detach(&b);
	return 0;
}

int state_integrity(struct state *st, char **out)
{
	return integrity(st->db, out);
}

/* Copy all of src into dst with the backup API, retrying while busy. */
static int copy_db(sqlite3 *dst, sqlite3 *src, const char *what)
{
	sqlite3_backup *bk = sqlite3_backup_init(dst, "main", src, "main");
	int rc, tries = 0;

	if (!bk)
		return db_error(dst, what);
	do {
		rc = sqlite3_backup_step(bk, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(100);
	} while ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && ++tries < 100);
	/* finish leaves the step's error on the destination handle */
	if (sqlite3_backup_finish(bk) != SQLITE_OK || rc != SQLITE_DONE)
		return db_error(dst, what);
	return 0;
}

static int fsync_file(const char *file)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 || fsync(fd) < 0)
		rc = error_set("state: cannot sync '%s': %s", file, strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

int state_backup(struct state *st, const char *file)
{
	char *tmp = xasprintf("%s.tmp", file);
	sqlite3 *dst = NULL;
	int fd, rc = -1;

	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		error_set("state: cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	close(fd);
	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		error_set("state: cannot open '%s': %s", tmp,
			  dst ? sqlite3_errmsg(dst) : "out of memory");
		goto out;
	}
	if (copy_db(dst, st->db, "cannot back up the state database") < 0)
		goto out;
	/* a backup is one self-contained file, not a WAL database */
	if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		db_error(dst, "cannot finish the backup");
		goto out;
	}
	if (sqlite3_close(dst) != SQLITE_OK) {
		db_error(dst, "cannot finish the backup");
		goto out;
	}
	dst = NULL;
	if (fsync_file(tmp) < 0)
		goto out;
	if (rename(tmp, file) < 0) {
		error_set("state: cannot rename '%s' to '%s': %s", tmp, file,
			  strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (dst)
		sqlite3_close(dst);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

/* Is src a sound cara state database this cara can read? */
static int check_restore_source(sqlite3 *src, const char *file)
{
	sqlite3_stmt *s = NULL;
	char *report = NULL;
	int64_t version = 0, ntables = 0;
	size_t i;
	int rc = -1;

	if (sqlite3_prepare_v2(src, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW) {
		error_set("state: '%s' is not a cara state database: %s", file,
			  sqlite3_errmsg(src));
		goto out;
	}
	version = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	s = NULL;
	if (version > SCHEMA_VERSION) {
		error_set("state: '%s' has schema version %lld, newer than this cara (%d)",
			  file, (long long)version, SCHEMA_VERSION);
		goto out;
	}
	if (sqlite3_prepare_v2(src, "SELECT count(*) FROM sqlite_master"
			       " WHERE type = 'table' AND name = ?1", -1, &s,
			       NULL) != SQLITE_OK) {
		db_error(src, "cannot read the backup");
		goto out;
	}
	for (i = 0; i < ARRAY_SIZE(our_tables); i++) {
		sqlite3_bind_text(s, 1, our_tables[i], -1, SQLITE_STATIC);
		if (sqlite3_step(s) != SQLITE_ROW) {
			db_error(src, "cannot read the backup");
			goto out;
		}
		ntables += sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
	}
	if (version < 1 || ntables != (int64_t)ARRAY_SIZE(our_tables)) {
		error_set("state: '%s' is not a cara state database", file);
		goto out;
	}
	if (integrity(src, &report) < 0)
		goto out;
	if (strcmp(report, "ok")) {
		error_set("state: '%s' fails the integrity check: %s", file, report);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(s);
	free(report);
	return rc;
}

int state_restore(struct state *st, const char *file)
{
	sqlite3 *src = NULL;
	struct stat sb;
	int rc = -1;

	/* no pass may run while the database is replaced under it */
	if (st->lockfd < 0 && (rc = state_lock(st, 0)) < 0)
		return rc;
	rc = -1;
	if (stat(file, &sb) < 0) {
		error_set("state: cannot restore from '%s': %s", file, strerror(errno));
		goto out;
	}
	if (sqlite3_open_v2(file, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		error_set("state: cannot open '%s': %s", file,
			  src ? sqlite3_errmsg(src) : "out of memory");
		goto out;
	}
	if (check_restore_source(src, file) < 0 ||
	    copy_db(st->db, src, "cannot restore the state database") < 0)
		goto out;
	st->pass_id = 0;
	if (migrate(st) < 0)
		goto out;
	rc = 0;
out:
	if (src)
		sqlite3_close(src);
	return rc;
}
