/*
 * events.h - what the Engine's event stream says of cara's containers,
 * for the waits of one pass (health, jobs).
 *
 * One watcher per pass: a thread with its own Engine connection reads
 * GET /events (docker_events_stream) and keeps, per container name, the
 * latest the stream told of it.  Waiters block on a condition variable
 * until the entry of the name they wait on changes, a deadline passes, or
 * the stream is lost; they never ask the Engine themselves.
 *
 * A stream that could not be opened, failed or ended leaves the watcher
 * down for the rest of the pass: waiters then poll the Engine as they
 * would without it.
 */
#ifndef CARA_EVENTS_H
#define CARA_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/backend.h"
#include "backend/engine/docker.h"

/*
 * The table itself, pure (no locking, no I/O), exposed for
 * tests/unit/test-docker.c.  Entries are found by name; an event of
 * another id than the entry's starts the entry afresh (the name went to a
 * new container: the old one's destroy came before its create).
 */
#define EVENTS_MAX_CONTAINERS 8192

struct events_table {
	struct watch_entry *v;
	size_t n, alloc;
};

/* 0, or -1 when the table holds EVENTS_MAX_CONTAINERS names already. */
int events_table_apply(struct events_table *t, const struct docker_event *ev);
/* The entry of name, or NULL (borrowed: valid until the next apply). */
const struct watch_entry *events_table_find(const struct events_table *t,
						 const char *name);
void events_table_release(struct events_table *t);

struct events;

/*
 * Start the watcher on its own connection (opts; a known API version
 * spares the GET /version), events from since_s (unix seconds) on.  It
 * connects in the background: *out is set even when the Engine will not
 * answer (the watcher then goes down).  -1 (error set, *out NULL) when no
 * thread could start.
 */
int events_start(struct events **out, const struct docker_options *opts,
		 int64_t since_s);
/* End the stream, join the thread, free everything; NULL is fine.
 * Returns the Engine requests the watcher made (the stream is one). */
unsigned long events_stop(struct events *ev);

/*
 * Whether the stream is up now; before it is, block until it is up or
 * down or deadline_ms (monotonic clock) passes.  An event that happens
 * after an up answer is seen by events_wait.
 */
bool events_ready(struct events *ev, int64_t deadline_ms);

/*
 * Block until the entry of name has a seq other than *seq, deadline_ms
 * (monotonic) passes or the stream is down.  *out gets the entry (zeroed
 * with seq 0 when the stream told nothing of name) and *seq its seq.
 * 1 changed, 0 deadline, -1 the stream is down (poll instead).
 */
int events_wait(struct events *ev, const char *name, unsigned long *seq,
		int64_t deadline_ms, struct watch_entry *out);

#endif
