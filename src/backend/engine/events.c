/*
 * backend/engine/events.c - the pass's watcher of the Engine's event stream.
 *
 * Invariants: the table, the state and every field below the mutex are
 * read and written only under mu; each change broadcasts cond, which
 * waiters sleep on with a deadline (CLOCK_MONOTONIC).  The thread owns
 * its struct docker; the only call other threads make on it is
 * docker_cancel, which is thread-safe.  Once down, the watcher stays
 * down: a stream that came back would replay events a waiter may already
 * have acted on, and polling is correct, only slower.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/engine/events.h"
#include "log.h"
#include "util.h"

/* ---- the table ---- */

static struct watch_entry *table_slot(struct events_table *t,
					   const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].name, name))
			return &t->v[i];
	if (t->n == EVENTS_MAX_CONTAINERS)
		return NULL;
	if (t->n == t->alloc) {
		t->alloc = t->alloc ? t->alloc * 2 : 16;
		t->v = xreallocarray(t->v, t->alloc, sizeof(*t->v));
	}
	memset(&t->v[t->n], 0, sizeof(t->v[t->n]));
	snprintf(t->v[t->n].name, sizeof(t->v[t->n].name), "%s", name);
	return &t->v[t->n++];
}

int events_table_apply(struct events_table *t, const struct docker_event *ev)
{
	struct watch_entry *c = table_slot(t, ev->name);
	unsigned long seq;

	if (!c)
		return -1;
	if (strcmp(c->id, ev->id)) {
		/* the name now belongs to another container */
		seq = c->seq;
		memset(c, 0, sizeof(*c));
		snprintf(c->name, sizeof(c->name), "%s", ev->name);
		snprintf(c->id, sizeof(c->id), "%s", ev->id);
		c->seq = seq;
	}
	switch (ev->kind) {
	case DOCKER_EVENT_CREATE:
		c->state = OBS_CREATED;
		break;
	case DOCKER_EVENT_START:
		c->state = OBS_RUNNING;
		c->health = HEALTH_NONE;   /* the Engine probes afresh */
		c->starts++;
		break;
	case DOCKER_EVENT_DIE:
		c->state = OBS_EXITED;
		c->exit_code = ev->exit_code;
		break;
	case DOCKER_EVENT_HEALTH:
		c->health = obs_health_parse(ev->health);
		break;
	case DOCKER_EVENT_DESTROY:
		c->state = OBS_REMOVED;
		break;
	}
	c->last_ns = ev->time_ns;
	c->seq++;
	return 0;
}

const struct watch_entry *events_table_find(const struct events_table *t,
						 const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].name, name))
			return &t->v[i];
	return NULL;
}

void events_table_release(struct events_table *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* ---- the watcher ---- */

enum watch_state { WATCH_CONNECTING, WATCH_UP, WATCH_DOWN };

struct events {
	struct docker_options opts;
	char *host, *api;          /* copies behind opts */
	int64_t since_s;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	/* under mu */
	struct docker *d;          /* the thread's, once open */
	bool stopping;
	enum watch_state state;
	struct events_table table;
	unsigned long calls;
};

static void on_up(void *arg)
{
	struct events *ev = arg;

	pthread_mutex_lock(&ev->mu);
	if (ev->state == WATCH_CONNECTING)
		ev->state = WATCH_UP;
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->mu);
	log_msg(LOG_DEBUG, NULL, "watching the Engine's events for the waits");
}

static void on_event(void *arg, const struct docker_event *e)
{
	struct events *ev = arg;

	pthread_mutex_lock(&ev->mu);
	if (events_table_apply(&ev->table, e) < 0 && ev->state != WATCH_DOWN) {
		ev->state = WATCH_DOWN;
		log_msg(LOG_DEBUG, NULL, "event stream: more than %d containers; "
			"waits poll the Engine", EVENTS_MAX_CONTAINERS);
	}
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->mu);
}

static void *watch(void *arg)
{
	struct events *ev = arg;
	struct docker *d = NULL;
	bool stopping;
	int rc = -1;

	if (docker_open(&d, &ev->opts) == 0) {
		pthread_mutex_lock(&ev->mu);
		ev->d = d;
		stopping = ev->stopping;
		pthread_mutex_unlock(&ev->mu);
		rc = stopping ? 0 : docker_events_stream(d, ev->since_s, on_event,
							 on_up, ev);
	}
	if (rc < 0)
		log_msg(LOG_DEBUG, NULL, "%s; waits poll the Engine", error_last());
	pthread_mutex_lock(&ev->mu);
	ev->state = WATCH_DOWN;
	ev->d = NULL;
	ev->calls = docker_calls(d);
	pthread_cond_broadcast(&ev->cond);
	pthread_mutex_unlock(&ev->mu);
	docker_free(d);
	error_clear();
	return NULL;
}

int events_start(struct events **out, const struct docker_options *opts,
		 int64_t since_s)
{
	struct events *ev = xcalloc(1, sizeof(*ev));
	pthread_condattr_t ca;

	*out = NULL;
	ev->host = opts->host ? xstrdup(opts->host) : NULL;
	ev->api = opts->api ? xstrdup(opts->api) : NULL;
	ev->opts.host = ev->host;
	ev->opts.api = ev->api;
	ev->opts.timeout_ms = opts->timeout_ms;
	ev->since_s = since_s;
	ev->state = WATCH_CONNECTING;
	pthread_mutex_init(&ev->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&ev->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&ev->thread, NULL, watch, ev) != 0) {
		pthread_cond_destroy(&ev->cond);
		pthread_mutex_destroy(&ev->mu);
		free(ev->host);
		free(ev->api);
		free(ev);
		return error_set("cannot start the event watcher: %s",
				 strerror(errno));
	}
	*out = ev;
	return 0;
}

unsigned long events_stop(struct events *ev)
{
	unsigned long calls;

	if (!ev)
		return 0;
	pthread_mutex_lock(&ev->mu);
	ev->stopping = true;
	docker_cancel(ev->d);
	pthread_mutex_unlock(&ev->mu);
	pthread_join(ev->thread, NULL);
	calls = ev->calls;
	events_table_release(&ev->table);
	pthread_cond_destroy(&ev->cond);
	pthread_mutex_destroy(&ev->mu);
	free(ev->host);
	free(ev->api);
	free(ev);
	return calls;
}

/* cond's clock, deadline_ms on the monotonic clock */
static void deadline_ts(struct timespec *ts, int64_t deadline_ms)
{
	ts->tv_sec = (time_t)(deadline_ms / 1000);
	ts->tv_nsec = (long)(deadline_ms % 1000) * 1000000L;
}

bool events_ready(struct events *ev, int64_t deadline_ms)
{
	struct timespec ts;
	bool up;

	deadline_ts(&ts, deadline_ms);
	pthread_mutex_lock(&ev->mu);
	while (ev->state == WATCH_CONNECTING &&
	       pthread_cond_timedwait(&ev->cond, &ev->mu, &ts) != ETIMEDOUT)
		;
	up = ev->state == WATCH_UP;
	pthread_mutex_unlock(&ev->mu);
	return up;
}

int events_wait(struct events *ev, const char *name, unsigned long *seq,
		int64_t deadline_ms, struct watch_entry *out)
{
	const struct watch_entry *c;
	struct timespec ts;
	int rc;

	deadline_ts(&ts, deadline_ms);
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&ev->mu);
	for (;;) {
		if (ev->state == WATCH_DOWN) {
			rc = -1;
			break;
		}
		c = events_table_find(&ev->table, name);
		if (c && c->seq != *seq) {
			rc = 1;
			break;
		}
		if (pthread_cond_timedwait(&ev->cond, &ev->mu, &ts) == ETIMEDOUT) {
			rc = 0;
			break;
		}
	}
	/* found again: the table may have grown while we slept */
	if (rc >= 0 && (c = events_table_find(&ev->table, name))) {
		*out = *c;
		*seq = c->seq;
	}
	pthread_mutex_unlock(&ev->mu);
	return rc;
}
