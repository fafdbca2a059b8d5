/*
 * state.h - the SQLite state database (one file, WAL, numbered migrations).
 *
 * Holds passes (start, end, commit, outcome, counts), projects (desired
 * spec hash, phase, last commit, expireAt), conditions, the observed
 * snapshot of every pass, and an event history.  Secrets never reach it:
 * callers pass only names, hashes and messages.
 *
 * The lock is a flock() on {dir}/lock, so that a second pass on the same
 * state directory exits at once (or waits) and a killed pass releases it.
 */
#ifndef CARA_STATE_H
#define CARA_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "observed.h"
#include "util.h"

/* How much history the database keeps (older rows are pruned as it grows). */
#define STATE_KEEP_SNAPSHOTS 20       /* observed snapshots: last N passes */
#define STATE_KEEP_PASSES 10000       /* pass rows (the last converged one stays) */
#define STATE_KEEP_CONDITIONS 100     /* per project */
#define STATE_KEEP_EVENTS 1000        /* per project */

struct state;

/* Create dir (0700) and state.db (0600) if needed; migrate. */
int state_open(struct state **out, const char *dir);
/* Read-only use, e.g. status on a directory that may not exist yet:
 * returns ERR_NOTFOUND when there is no database. */
int state_open_existing(struct state **out, const char *dir);
void state_close(struct state *st);

/* Take the pass lock. wait_s 0: fail at once with ERR_LOCKED. */
int state_lock(struct state *st, int wait_s);

int state_begin(struct state *st);      /* BEGIN IMMEDIATE */
int state_commit(struct state *st);
void state_rollback(struct state *st);

struct pass_counts {
	unsigned created, started, recreated, removed, failed, torn_down;
	unsigned projects, projects_failed;
};

int state_pass_begin(struct state *st, const char *command, int64_t now,
		     int64_t *out_id);
int state_pass_source(struct state *st, int64_t pass_id, const char *commit,
		      int64_t commit_time, const char *subject, bool offline);
int state_pass_end(struct state *st, int64_t pass_id, int64_t now,
		   const char *outcome, const struct pass_counts *counts);

/* Replace the snapshot of this pass. */
int state_record_observed(struct state *st, int64_t pass_id,
			  const struct observed *obs);
int state_load_observed(struct state *st, int64_t pass_id,
			struct observed *out);
/* The newest snapshot (what the last pass left: pass_observe_after);
 * ERR_NOTFOUND when none is kept. */
int state_load_last_observed(struct state *st, struct observed *out);

/* Upsert the desired side of a project. */
int state_project_upsert(struct state *st, const char *name,
			 const char *spec_hash, const char *commit,
			 const char *file, bool has_expire, int64_t expire_at);

/*
 * Set a project's phase; when phase or reason changed, append a condition
 * (type "Ready", status "True"/"False") and an event.
 */
int state_project_phase(struct state *st, const char *name, const char *phase,
			const char *reason, const char *message, int64_t now);

int state_event(struct state *st, int64_t pass_id, const char *project,
		const char *kind, const char *message, int64_t now);

/* The commit of the last sync that applied something (NULL: none). */
int state_last_applied_commit(struct state *st, char **out);
/* Names of the projects in the database, sorted; the Terminated ones
 * too when terminated is true. */
int state_projects(struct state *st, bool terminated, struct strvec *out);
/*
 * This state directory's identity (32 hex digits, made once, kept in
 * state.db and so in its backups): the cara.owner label of every object
 * it creates.  *out is the caller's.
 */
int state_identity(struct state *st, char **out);
/* Owners whose objects a project was taken over from (--adopt), as
 * "project\towner" ("" owner: objects without the label). */
int state_adoptions(struct state *st, struct strvec *out);
/* Ingress: every project's recorded routes, one route_line() a string
 * (ingress.h), and the replacement of one project's (NULL or empty:
 * it has none any more). */
int state_ingress_routes(struct state *st, struct strvec *out);
int state_ingress_set_routes(struct state *st, const char *project,
			     const struct strvec *lines);
/* Small values of the state kept in meta (the proxy's: "ingress.*");
 * *out NULL when key is not set. */
int state_meta_get(struct state *st, const char *key, char **out);
int state_meta_set(struct state *st, const char *key, const char *value);
int state_adopt(struct state *st, const char *project, const char *owner,
		int64_t now);
/* The type a volume (Docker name) was last declared with, and all of
 * them as "name\ttype". */
int state_volume_type(struct state *st, const char *name, const char *project,
		      const char *type);
int state_volume_types(struct state *st, struct strvec *out);
/*
 * Restarts for depends_on restart: true that a pass planned and did not
 * see done: every one as "project\tservice\tafter" (after: the dependency
 * that restarted), sorted; one owed, recorded before the pass applies; and
 * every one of project dropped, when its apply ended well.
 */
int state_owed_restarts(struct state *st, struct strvec *out);
int state_owe_restart(struct state *st, const char *project, const char *service,
		      const char *after, int64_t now);
int state_owed_restarts_paid(struct state *st, const char *project);
/*
 * On a cluster, the node each Managed volume is pinned to (pin.h): every
 * pin as "project\tvolume\tnode_id\thostname", sorted; one recorded; one
 * dropped (ERR_NOTFOUND when there is none), which leaves the row with an
 * empty node id and host name: "to be placed afresh".
 */
int state_volume_pins(struct state *st, struct strvec *out);
int state_volume_pin(struct state *st, const char *project, const char *volume,
		     const char *node_id, const char *hostname, int64_t now);
int state_volume_unpin(struct state *st, const char *project, const char *volume);
/* Every pin of project deleted (its data purged: nothing to place again). */
int state_volume_pins_forget(struct state *st, const char *project);
/*
 * When the tag ref was last checked against its registry (--image-check):
 * *out 0 if never; and a check made now, with the digest it found.
 */
int state_image_checked(struct state *st, const char *ref, int64_t *out);
int state_image_check(struct state *st, const char *ref, const char *digest,
		      int64_t now);

struct project_status {
	char *name;
	char *phase;
	char *reason;              /* of the last condition */
	char *message;
	char *commit;
	char *spec_hash;
	char *file;
	bool has_expire;
	int64_t expire_at;
	int64_t created;           /* first seen */
	int64_t updated;           /* last transition */
};

int state_list_projects(struct state *st, struct project_status **out,
			size_t *n);
void project_status_free(struct project_status *v, size_t n);

struct state_condition {
	char *type, *status, *reason, *message;
	int64_t time;
};
struct state_event_row {
	int64_t time;
	int64_t pass_id;
	char *kind, *message;
};
int state_project_conditions(struct state *st, const char *name, size_t limit,
			     struct state_condition **out, size_t *n);
void state_conditions_free(struct state_condition *v, size_t n);
int state_project_events(struct state *st, const char *name, size_t limit,
			 struct state_event_row **out, size_t *n);
void state_events_free(struct state_event_row *v, size_t n);

struct pass_row {
	int64_t id, started, ended;
	char *command, *commit, *subject, *outcome;
	bool offline;
};
/* For tests only. */
/* Last finished pass (ended != 0); 0 found, ERR_NOTFOUND none. */
int state_last_pass(struct state *st, struct pass_row *out);
void pass_row_release(struct pass_row *r);
/* When the last pass with outcome "converged" ended; 0 if none. */
int state_last_success(struct state *st, int64_t *out);

/* "ok" or the integrity_check report (caller frees). */
int state_integrity(struct state *st, char **out);
/* Online backup to file / restore from file (sqlite3 backup API). */
int state_backup(struct state *st, const char *file);
int state_restore(struct state *st, const char *file);

#endif
