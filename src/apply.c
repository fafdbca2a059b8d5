/*
 * apply.c - carry out a plan on the Engine.
 *
 * A bounded pool of threads takes projects one at a time; each thread has
 * its own Engine connection (a struct docker is not shareable).  Within a
 * project, actions run in plan order, so networks and volumes exist before
 * containers, and services start in dependsOn order; before a container is
 * created or started, its dependencies are waited for.
 *
 * Crash safety: every step is idempotent against the Engine and the next
 * pass re-plans from what it observes, so a pass killed between any two
 * steps leaves nothing the next pass cannot converge from: a container
 * created but not started is started, a recreate interrupted after the
 * remove is a create.  Containers are always created with their labels in
 * the same request, so there is never an unlabelled object of ours.
 */
#include <pthread.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "files.h"
#include "backend/backend.h"
#include "auth.h"
#include "names.h"
#include "phase.h"
#include "log.h"
#include "spec.h"

struct pool {
	const struct plan *plan;
	const struct apply_options *opts;
	struct apply_report *rep;
	pthread_mutex_t mu;
	size_t next;
};

/*
 * --parallel counts the projects that work the Engine at once, not those
 * waiting: a project waiting on the event stream for a dependency makes
 * no call, so it gives its slot to another project until the wait ends.
 * More workers than slots run then, each taking a slot to do anything.
 */
struct slots {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int free;
};

static void slot_take(struct slots *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	while (s->free <= 0)
		pthread_cond_wait(&s->cv, &s->mu);
	s->free--;
	pthread_mutex_unlock(&s->mu);
}

static void slot_give(struct slots *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->free++;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static bool stopping(const struct apply_options *o)
{
	return o->stop && *o->stop;
}

static void fail(struct apply_result *r, enum reason why, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
static void fail(struct apply_result *r, enum reason why, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	r->failed = true;
	r->phase = phase_name(PHASE_FAILED);
	r->reason = reason_name(why);
	free(r->message);
	r->message = buf_detach(&b);
	log_msg(LOG_ERROR, r->project, "%s: %s", r->reason, r->message);
}

/* SIGTERM or SIGINT: leave the rest of the project to the next pass. */
static void interrupt(struct apply_result *r)
{
	r->interrupted = true;
	log_msg(LOG_WARN, r->project, "interrupted; the next pass continues");
}

/* Longest sensible wait for a service to become healthy. */
static long health_wait_ms(const struct service *s, long cap_s)
{
	int64_t interval = s->health.interval_ms ? s->health.interval_ms : 30000;
	int64_t timeout = s->health.timeout_ms ? s->health.timeout_ms : 30000;
	int64_t retries = s->health.retries ? s->health.retries : 3;
	int64_t ms = s->health.start_period_ms + (interval + timeout) * (retries + 1);

	if (ms > (int64_t)cap_s * 1000)
		ms = (int64_t)cap_s * 1000;
	return (long)ms;
}

/*
 * How long after its container starts a service's first health probe can
 * report: the Engine runs it one interval after the start, or, during a
 * start period, one start interval (5 s unless set, Engine 25 and later)
 * after it.  0 when the manifest leaves the interval to the image or the
 * Engine.
 */
static int64_t first_probe_ms(const struct service *s)
{
	int64_t iv = s->health.interval_ms;

	if (!s->health.present || iv <= 0)
		return 0;
	if (s->health.start_period_ms > 0 && iv > 5000)
		return 5000;
	return iv;
}

/* Sleep ms in short slices, returning early once a stop was asked for. */
static void nap(const struct apply_options *o, int64_t ms)
{
	int64_t end = monotonic_ms() + ms, left;

	while (!stopping(o) && (left = end - monotonic_ms()) > 0)
		usleep((useconds_t)(left < 250 ? left : 250) * 1000);
}

/* How often a person at a terminal hears about a step still going on. */
#define PROGRESS_EVERY_MS 5000
/* How long a wait on events sleeps at most before it looks at the stop
 * flag (a signal handler cannot wake a condition variable). */
#define STOP_CHECK_MS 250

/*
 * What this pass did to each service of a project (one slot a service):
 * when it started it, and the id of a container it created while the
 * event stream was up, so that every event of that container is in the
 * watcher's table and a wait needs not ask the Engine at all.
 */
struct started {
	int64_t at;                /* monotonic ms before the start; 0: none */
	char id[72];               /* "": not created under the stream */
};

/* The earliest of a and b, ignoring b when 0. */
static int64_t earliest(int64_t a, int64_t b)
{
	return b && b < a ? b : a;
}

/*
 * Wait on the event stream for the job `name` to exit.  Returns as
 * docker_container_wait (0 exited, with *out_exit; 1 still running after
 * the health timeout; -1 error), 2 when the stream is not there (poll
 * instead, for what is left of the timeout in *out_left_ms), 3 when a
 * stop was asked for.  id: the container's when this pass created it under
 * the stream; else its state is read once, after the stream is up, and
 * only its events from that run on count.
 */
static int wait_job_events(struct backend *b, const struct project *p,
			   const char *name, const char *job, const char *id,
			   const struct apply_options *o, int *out_exit,
			   int64_t *out_left_ms)
{
	int64_t start = monotonic_ms(), total = (int64_t)o->health_timeout_s * 1000;
	int64_t end = start + total, note = start + PROGRESS_EVERY_MS, since_ns = 0;
	struct watch_entry c;
	struct workload_state cs;
	unsigned long seq = 0;
	char want[72];
	int w;

	*out_exit = 0;
	*out_left_ms = total;
	snprintf(want, sizeof(want), "%s", id ? id : "");
	if (!want[0]) {
		if (!o->backend->watch_ready(o->watch, earliest(end, start + PROGRESS_EVERY_MS)))
			return 2;
		if (b->ops->workload_state(b, name, &cs) < 0)
			return -1;
		/* as POST /wait?condition=not-running: done unless it runs */
		if (!obs_state_up(cs.state)) {
			*out_exit = cs.exit_code;
			return 0;
		}
		snprintf(want, sizeof(want), "%s", cs.id);
		since_ns = cs.started_ns;
	}
	log_msg(LOG_DEBUG, p->name, "waiting on events for job '%s'", job);
	for (;;) {
		w = o->backend->watch_wait(o->watch, name, &seq,
				earliest(monotonic_ms() + STOP_CHECK_MS, end), &c);
		if (w < 0) {
			*out_left_ms = end - monotonic_ms();
			return 2;
		}
		if (c.seq && !strcmp(c.id, want) && c.last_ns >= since_ns) {
			if (c.state == OBS_EXITED) {
				*out_exit = c.exit_code;
				return 0;
			}
			if (c.state == OBS_REMOVED)
				/* the Engine's own words for a container gone */
				return b->ops->workload_state(b, name, &cs) < 0 ? -1 :
				       error_set("docker: wait for container '%s': "
						 "removed while waiting", name);
		}
		if (stopping(o))
			return 3;
		if (monotonic_ms() >= end)
			return 1;
		if (log_progress() && monotonic_ms() >= note) {
			log_msg(LOG_INFO, p->name, "still waiting for job '%s' to "
				"complete (%llds)", job,
				(long long)(monotonic_ms() - start) / 1000);
			note += PROGRESS_EVERY_MS;
		}
	}
}

/*
 * Wait for the container `name` of `job` to exit, as docker_container_wait
 * (1 when it is still running after total ms).  On a terminal the wait
 * is cut in slices, each ending with a line saying it is still going on.
 */
static int wait_job(struct backend *b, const struct project *p, const char *name,
		    const char *job, int64_t total, int *out_exit)
{
	int64_t start = monotonic_ms();
	int64_t left, slice;
	int w;

	if (!log_progress())
		return b->ops->workload_wait_exit(b, name, (long)total, out_exit);
	for (;;) {
		left = total - (monotonic_ms() - start);
		slice = left < PROGRESS_EVERY_MS ? left : PROGRESS_EVERY_MS;
		if (slice <= 0)
			return 1;
		if ((w = b->ops->workload_wait_exit(b, name, (long)slice, out_exit)) != 1)
			return w;
		if (monotonic_ms() - start >= total)
			return 1;
		log_msg(LOG_INFO, p->name, "still waiting for job '%s' to complete "
			"(%llds)", job, (long long)(monotonic_ms() - start) / 1000);
	}
}

/*
 * The Healthy rule on a state read from the Engine: 0 healthy, 1 not
 * yet, -1 never (r filled with HealthcheckFailed or DependencyFailed).
 */
static int health_verdict(const struct workload_state *cs, const char *dep,
			  const char *svc, struct apply_result *r)
{
	if (cs->health == HEALTH_HEALTHY)
		return 0;
	if (cs->health == HEALTH_UNHEALTHY) {
		fail(r, REASON_HEALTHCHECK_FAILED, "'%s' is unhealthy; '%s' not started",
		     dep, svc);
		return -1;
	}
	if (cs->state != OBS_RUNNING && cs->state != OBS_RESTARTING) {
		fail(r, REASON_DEPENDENCY_FAILED, "'%s' is %s (exit code %d) before "
		     "becoming healthy", dep, obs_state_name(cs->state), cs->exit_code);
		return -1;
	}
	return 1;
}

/* One wait for Healthy, shared by its event and its poll halves. */
struct health_wait {
	const struct project *p;
	const struct service *s, *ds;   /* the dependent, the dependency */
	const char *name;               /* ds's container */
	int64_t start, deadline, note;
	char health[16];                /* the last known, for progress lines */
};

/* A line every PROGRESS_EVERY_MS on a terminal. */
static void health_note(struct health_wait *hw)
{
	if (!log_progress() || monotonic_ms() < hw->note)
		return;
	log_msg(LOG_INFO, hw->p->name, "still waiting for '%s' to be healthy "
		"(%llds, health: %s)", hw->ds->name,
		(long long)(monotonic_ms() - hw->start) / 1000,
		hw->health[0] ? hw->health : "none yet");
	hw->note += PROGRESS_EVERY_MS;
}

/*
 * Wait for Healthy on the event stream: 0 healthy, -1 failed or
 * interrupted (r filled), 1 the stream is not there (poll instead).  With
 * id, the container this pass created under the stream, no state is read
 * unless it dies; else it is read once, after the stream is up, and only
 * events of that run on count.  Health within one run never goes back to
 * starting, so an event of the run that happened before the read cannot
 * say more than the read did.  A die is checked with the Engine: the
 * container may be restarting, and the failure names its state.
 */
static int wait_healthy_events(struct backend *b, struct health_wait *hw,
			       const char *id, const struct apply_options *o,
			       struct apply_result *r)
{
	struct watch_entry c;
	struct workload_state cs;
	unsigned long seq = 0;
	int64_t since_ns = 0;
	char want[72];
	int v;

	snprintf(want, sizeof(want), "%s", id ? id : "");
	if (hw->ds->health.present)
		snprintf(hw->health, sizeof(hw->health), "starting");
	if (!want[0]) {
		if (!o->backend->watch_ready(o->watch, earliest(hw->deadline,
						      monotonic_ms() + PROGRESS_EVERY_MS)))
			return 1;
		if (b->ops->workload_state(b, hw->name, &cs) < 0) {
			fail(r, REASON_DEPENDENCY_FAILED, "'%s' needs '%s' healthy: %s",
			     hw->s->name, hw->ds->name, error_last());
			return -1;
		}
		if ((v = health_verdict(&cs, hw->ds->name, hw->s->name, r)) <= 0)
			return v;
		snprintf(hw->health, sizeof(hw->health), "%s", obs_health_name(cs.health));
		snprintf(want, sizeof(want), "%s", cs.id);
		since_ns = cs.started_ns;
	}
	log_msg(LOG_DEBUG, hw->p->name, "waiting on events for '%s' to be healthy",
		hw->ds->name);
	for (;;) {
		if (o->backend->watch_wait(o->watch, hw->name, &seq,
				earliest(monotonic_ms() + STOP_CHECK_MS, hw->deadline + 1),
				&c) < 0)
			return 1;
		if (c.seq && !strcmp(c.id, want) && c.last_ns >= since_ns) {
			if (c.health != HEALTH_NONE)
				snprintf(hw->health, sizeof(hw->health), "%s",
					 obs_health_name(c.health));
			if (c.state == OBS_RUNNING && c.health == HEALTH_HEALTHY)
				return 0;
			if (c.health == HEALTH_UNHEALTHY && c.state != OBS_EXITED &&
			    c.state != OBS_REMOVED) {
				fail(r, REASON_HEALTHCHECK_FAILED, "'%s' is unhealthy; '%s' not "
				     "started", hw->ds->name, hw->s->name);
				return -1;
			}
			if (c.state == OBS_EXITED || c.state == OBS_REMOVED) {
				if (b->ops->workload_state(b, hw->name, &cs) < 0) {
					fail(r, REASON_DEPENDENCY_FAILED, "'%s' needs '%s' healthy: %s",
					     hw->s->name, hw->ds->name, error_last());
					return -1;
				}
				if ((v = health_verdict(&cs, hw->ds->name, hw->s->name, r)) <= 0)
					return v;
				/* restarting: its next run's events */
				since_ns = c.last_ns + 1;
			}
		}
		if (monotonic_ms() > hw->deadline) {
			fail(r, REASON_HEALTHCHECK_FAILED, "'%s' not healthy in time; '%s' "
			     "not started", hw->ds->name, hw->s->name);
			return -1;
		}
		if (stopping(o)) {
			interrupt(r);
			return -1;
		}
		health_note(hw);
	}
}

/*
 * Wait for Healthy by reading the container's state again and again.
 * started_at: when this pass started ds, 0 if it did not.
 */
static int wait_healthy_poll(struct backend *b, struct health_wait *hw,
			     int64_t started_at, const struct apply_options *o,
			     struct apply_result *r)
{
	const struct service *ds = hw->ds;
	struct workload_state cs;
	int64_t quiet_until = 0, iv;
	int v;

	/* started by this pass: no probe can report before the first one */
	if (started_at && first_probe_ms(ds))
		quiet_until = started_at + first_probe_ms(ds);
	for (;;) {
		if (b->ops->workload_state(b, hw->name, &cs) < 0) {
			fail(r, REASON_DEPENDENCY_FAILED, "'%s' needs '%s' healthy: %s",
			     hw->s->name, ds->name, error_last());
			return -1;
		}
		if ((v = health_verdict(&cs, ds->name, hw->s->name, r)) <= 0)
			return v;
		snprintf(hw->health, sizeof(hw->health), "%s", obs_health_name(cs.health));
		if (monotonic_ms() > hw->deadline) {
			fail(r, REASON_HEALTHCHECK_FAILED, "'%s' not healthy in time; '%s' "
			     "not started", ds->name, hw->s->name);
			return -1;
		}
		if (stopping(o)) {
			interrupt(r);
			return -1;
		}
		health_note(hw);
		/*
		 * Until the first probe can have run, look only for a
		 * container that died (every 5 s); then poll at a
		 * fraction of the check interval, bounded.
		 */
		iv = ds->health.interval_ms ? ds->health.interval_ms / 4 : 250;
		if (iv < 50)
			iv = 50;
		if (iv > 1000)
			iv = 1000;
		if (quiet_until - monotonic_ms() > iv) {
			iv = quiet_until - monotonic_ms();
			if (iv > PROGRESS_EVERY_MS)
				iv = PROGRESS_EVERY_MS;
		}
		nap(o, iv);
	}
}

/*
 * Wait until dependency `dep` of project p holds.  0 ok, -1 failed (r is
 * filled with DependencyFailed or HealthcheckFailed).  The waits use the
 * pass's event stream while it is there and poll the Engine when it is not
 * (or is lost on the way).
 */
static int wait_dependency(struct backend *b, const struct project *p,
			   const struct service *s, const struct dependency *dep,
			   const struct started *st, const struct apply_options *o,
			   struct apply_result *r)
{
	const struct service *ds = project_find_service(p, dep->service);
	char *name = name_container(p->name, dep->service);
	const struct started *dst = st && ds ? &st[ds - p->services] : NULL;
	struct workload_state cs;
	struct health_wait hw;
	int64_t left;
	int rc = -1, exit_code = 0, w;

	if (!ds) {
		fail(r, REASON_DEPENDENCY_FAILED, "service '%s' depends on unknown '%s'",
		     s->name, dep->service);
		goto out;
	}
	switch (dep->condition) {
	case DEP_STARTED:
		if (b->ops->workload_state(b, name, &cs) < 0) {
			fail(r, REASON_DEPENDENCY_FAILED, "'%s' needs '%s' started: %s",
			     s->name, dep->service, error_last());
			goto out;
		}
		if (cs.state != OBS_RUNNING &&
		    !(ds->restart == RESTART_NO && cs.state == OBS_EXITED &&
		      cs.exit_code == 0)) {
			fail(r, REASON_DEPENDENCY_FAILED, "'%s' needs '%s' started, but it is %s",
			     s->name, dep->service, obs_state_name(cs.state));
			goto out;
		}
		break;
	case DEP_COMPLETED:
		log_msg(LOG_INFO, p->name, "waiting for job '%s' to complete", dep->service);
		w = 2;
		left = (int64_t)o->health_timeout_s * 1000;
		if (o->watch)
			w = wait_job_events(b, p, name, dep->service,
					    dst && dst->id[0] ? dst->id : NULL, o,
					    &exit_code, &left);
		if (w == 3) {
			interrupt(r);
			goto out;
		}
		if (w == 2)
			w = left > 0 ? wait_job(b, p, name, dep->service, left,
						&exit_code) : 1;
		if (w < 0) {
			fail(r, REASON_DEPENDENCY_FAILED, "'%s' needs job '%s' completed: %s",
			     s->name, dep->service, error_last());
			goto out;
		}
		if (w == 1) {
			fail(r, REASON_DEPENDENCY_FAILED, "job '%s' did not complete within %lds",
			     dep->service, o->health_timeout_s);
			goto out;
		}
		if (exit_code != 0) {
			fail(r, REASON_DEPENDENCY_FAILED, "job '%s' exited with code %d",
			     dep->service, exit_code);
			goto out;
		}
		break;
	case DEP_HEALTHY:
		log_msg(LOG_INFO, p->name, "waiting for '%s' to be healthy", dep->service);
		memset(&hw, 0, sizeof(hw));
		hw.p = p;
		hw.s = s;
		hw.ds = ds;
		hw.name = name;
		hw.start = monotonic_ms();
		hw.deadline = hw.start + health_wait_ms(ds, o->health_timeout_s);
		hw.note = hw.start + PROGRESS_EVERY_MS;
		w = 1;
		if (o->watch)
			w = wait_healthy_events(b, &hw, dst && dst->id[0] ? dst->id : NULL,
						o, r);
		if (w == 1) {
			if (o->watch)
				log_msg(LOG_DEBUG, p->name, "no event stream: polling "
					"'%s' for health", ds->name);
			w = wait_healthy_poll(b, &hw, dst ? dst->at : 0, o, r);
		}
		if (w < 0)
			goto out;
		break;
	}
	rc = 0;
out:
	free(name);
	return rc;
}

/*
 * The real path to bind for a HostPath volume, resolved at the moment of
 * use under the allowed root without following links: a container that
 * can write in the root must not be able to plant `esc -> /` for another
 * project to mount.  NULL with error_last() when refused.
 */
static char *host_path_source(const struct apply_options *o, const char *path)
{
	char *real = NULL;
	size_t i;

	error_set("'%s' is under none of the allowed roots", path);
	for (i = 0; i < o->nhostpath_roots && !real; i++) {
		real = path_resolve_beneath(o->hostpath_roots[i], path);
		if (!real && errno != EXDEV)
			return NULL;
	}
	return real;
}

/*
 * The absolute path of secret file m that a bind mounts (caller frees),
 * once it reads as a secret (a regular file within the size cap; scratch
 * holds its value for that moment and is wiped); NULL with error_last().
 */
static char *secret_bind_source(const struct apply_options *o,
				const struct secret_mount *m, struct buf *scratch)
{
	char *path, *real = NULL;
	int rc;

	rc = secret_read_file(o->secrets_dir, m->secret_name, m->secret_key,
			      scratch);
	buf_wipe(scratch);
	if (rc < 0)
		return NULL;
	path = secret_path(o->secrets_dir, m->secret_name, m->secret_key);
	if (!(real = realpath(path, NULL)))
		error_set("secret '%s/%s' in '%s': %s", m->secret_name,
			  m->secret_key, o->secrets_dir, strerror(errno));
	free(path);
	return real;
}

/*
 * An External volume or network must be there before a container uses
 * it: the Engine would create a missing volume empty (and unlabelled) in
 * silence, and cara never makes either.
 */
static int external_check(struct backend *b, const struct service *s,
			  bool network, const char *name, struct apply_result *r)
{
	const char *kind = network ? "network" : "volume";
	int rc = network ? b->ops->network_exists(b, name) :
			   b->ops->volume_exists(b, name);

	if (rc == ERR_NOTFOUND)
		fail(r, network ? REASON_NETWORK_MISSING : REASON_VOLUME_MISSING,
		     "service '%s': external %s '%s' does not exist (cara never "
		     "creates an External %s: docker %s create %s)", s->name, kind,
		     name, kind, kind, name);
	else if (rc < 0)
		fail(r, REASON_RECONCILE_ERROR, "service '%s': %s", s->name,
		     error_last());
	return rc < 0 ? -1 : 0;
}

/*
 * The External volumes and networks s needs are there (the snapshot lists
 * cara's own only): asked before a container is made, and before the old
 * one is removed, so that a missing one is named and leaves it running.
 */
static int externals_present(struct backend *b, const struct project *p,
			     const struct service *s, struct apply_result *r)
{
	const struct strvec *al;
	size_t i;
	int rc = 0;

	for (i = 0; i < s->nmounts && rc == 0; i++) {
		const struct volume *v = project_find_volume(p, s->mounts[i].name);
		char *n;

		if (!v || v->type != VOLUME_EXTERNAL)
			continue;
		n = volume_docker_name(p->name, v);
		rc = external_check(b, s, false, n, r);
		free(n);
	}
	for (i = 0; i < network_joins(s) && rc == 0; i++) {
		const char *key = network_join(s, i, &al);
		char *n;

		if (!network_is_external(p, key))
			continue;
		n = network_docker_name(p, key);
		rc = external_check(b, s, true, n, r);
		free(n);
	}
	return rc;
}

/* The aliases s has on the network whose Docker name is dname. */
static const struct strvec *join_aliases(const struct project *p,
					 const struct service *s, const char *dname)
{
	const struct strvec *al = NULL, *found = NULL;
	size_t k;

	for (k = 0; k < network_joins(s) && !found; k++) {
		char *n = network_docker_name(p, network_join(s, k, &al));

		if (!strcmp(n, dname))
			found = al;
		free(n);
	}
	return found;
}

/*
 * Create (not start) the container of service s; with update, have the
 * backend update the existing one in place to the same spec instead
 * (caps.updates_in_place).  The caller has asked for its External volumes
 * and networks (externals_present).
 */
static int make_container(struct backend *b, const struct project *p,
			  const struct service *s, struct started *st,
			  const struct apply_options *o, struct apply_result *r,
			  bool update)
{
	struct workload_spec cs;
	struct strvec env = STRVEC_INIT;
	struct kv *labels = NULL;
	struct workload_mount *mounts = NULL;
	struct buf secret = BUF_INIT;
	struct buf *shipped = NULL;    /* the secrets' bytes, for a cluster */
	char *name = name_container(p->name, s->name);
	size_t nnets = network_joins(s);
	struct workload_net *nets = xcalloc(nnets, sizeof(*nets));
	char **net_names = xcalloc(nnets, sizeof(*net_names));
	char *id = NULL;
	char **vol_names = NULL;
	size_t i, nl = 0;
	int rc = -1;
	/* up before the create: every event of the container is seen */
	bool watched = o->watch && o->backend->watch_ready(o->watch, 0);

	mounts = xcalloc(s->nmounts + s->nsecrets + 1, sizeof(*mounts));
	vol_names = xcalloc(s->nmounts + s->nsecrets + 1, sizeof(*vol_names));
	for (i = 0; i < s->nmounts; i++) {
		const struct volume *v = project_find_volume(p, s->mounts[i].name);

		mounts[i].target = s->mounts[i].mount_path;
		mounts[i].read_only = s->mounts[i].read_only;
		if (v && v->type == VOLUME_FILE) {
			/* put in place by apply_project before any action */
			mounts[i].type = "bind";
			mounts[i].read_only = true;
			vol_names[i] = files_path(o->files_dir, v);
			/* the nodes have no copy: the backend ships the files */
			if (b->ops->caps->cluster)
				mounts[i].files = v;
		} else if (v && v->type == VOLUME_HOSTPATH) {
			mounts[i].type = "bind";
			if (!(vol_names[i] = host_path_source(o, v->host_path))) {
				fail(r, REASON_HOSTPATH_REFUSED, "service '%s': hostPath %s "
				     "(cara never creates or follows links for a HostPath)",
				     s->name, error_last());
				goto out;
			}
		} else if (v && v->type == VOLUME_EXTERNAL) {
			/* asked for by the caller (externals_present) */
			mounts[i].type = "volume";
			vol_names[i] = volume_docker_name(p->name, v);
		} else {
			mounts[i].type = "volume";
			vol_names[i] = name_volume(p->name, s->mounts[i].name);
		}
		mounts[i].source = vol_names[i];
	}
	for (i = 0; i < s->nsecrets; i++) {
		struct workload_mount *wm = &mounts[s->nmounts + i];

		/* the file itself, bound read-only: its value is never copied,
		 * logged or stored (the spec hash holds sha256 of it) */
		if (!(vol_names[s->nmounts + i] = secret_bind_source(o, &s->secrets[i],
								     &secret))) {
			fail(r, REASON_SECRET_MISSING, "service '%s': %s", s->name,
			     error_last());
			goto out;
		}
		wm->type = "bind";
		wm->source = vol_names[s->nmounts + i];
		wm->target = s->secrets[i].target;
		wm->read_only = true;
		if (b->ops->caps->cluster) {
			/* the nodes have no secrets directory: the bytes go to
			 * the backend (wiped below) */
			if (!shipped)
				shipped = xcalloc(s->nsecrets, sizeof(*shipped));
			if (secret_read_file(o->secrets_dir, s->secrets[i].secret_name,
					     s->secrets[i].secret_key, &shipped[i]) < 0) {
				fail(r, REASON_SECRET_MISSING, "service '%s': %s", s->name,
				     error_last());
				goto out;
			}
			wm->secret = &shipped[i];
		}
	}
	for (i = 0; i < s->nenv; i++) {
		const struct env_var *e = &s->env[i];

		if (e->secret_name) {
			buf_reset(&secret);
			if (secret_read(o->secrets_dir, e->secret_name, e->secret_key,
					&secret) < 0) {
				fail(r, REASON_SECRET_MISSING, "service '%s': %s", s->name,
				     error_last());
				goto out;
			}
			strvec_push_nodup(&env, xasprintf("%s=%s", e->name, buf_cstr(&secret)));
		} else {
			strvec_push_nodup(&env, xasprintf("%s=%s", e->name,
							  e->value ? e->value : ""));
		}
	}
	labels = xcalloc(s->labels.n + 5, sizeof(*labels));
	for (i = 0; i < s->labels.n; i++)
		labels[nl++] = s->labels.v[i];
	labels[nl].key = LABEL_PROJECT; labels[nl++].value = p->name;
	if (o->owner && *o->owner) {
		labels[nl].key = LABEL_OWNER;
		labels[nl++].value = (char *)o->owner;
	}
	labels[nl].key = LABEL_SERVICE; labels[nl++].value = s->name;
	labels[nl].key = LABEL_SPEC_HASH; labels[nl++].value = s->spec_hash ? s->spec_hash : "";
	labels[nl].key = LABEL_SPEC_FIELDS; labels[nl++].value = s->spec_fields ? s->spec_fields : "";
	memset(&cs, 0, sizeof(cs));
	cs.name = name;
	cs.image = s->image;
	cs.cmd = s->has_command ? &s->command : NULL;
	cs.entrypoint = s->has_entrypoint ? &s->entrypoint : NULL;
	cs.working_dir = s->working_dir;
	cs.user = s->user;
	cs.env = &env;
	cs.labels = labels;
	cs.nlabels = nl;
	cs.mounts = mounts;
	cs.nmounts = s->nmounts + s->nsecrets;
	cs.ports = s->ports;
	cs.nports = s->nports;
	cs.health = s->health.present ? &s->health : NULL;
	cs.restart = restart_policy_name(s->restart);
	cs.stop_timeout_s = s->stop_grace_ms < 0 ? -1 :
			    (int)((s->stop_grace_ms + 999) / 1000);
	cs.memory_bytes = s->memory_bytes;
	cs.nano_cpus = s->nano_cpus;
	cs.memory_reservation_bytes = s->memory_reservation_bytes;
	cs.memory_swap_bytes = s->memory_swap_bytes;
	cs.cpu_shares = s->cpu_shares;
	cs.nano_cpus_reservation = s->nano_cpus_reservation;
	for (i = 0; i < nnets; i++) {
		net_names[i] = network_docker_name(p, network_join(s, i,
								   &nets[i].aliases));
		nets[i].name = net_names[i];
	}
	cs.nets = nets;
	cs.nnets = nnets;
	cs.alias = s->name;
	cs.restart_retries = s->restart == RESTART_ON_FAILURE ? s->restart_retries : 0;
	cs.cap_add = &s->cap_add;
	cs.cap_drop = &s->cap_drop;
	cs.tmpfs = &s->tmpfs;
	cs.extra_hosts = &s->extra_hosts;
	cs.dns = &s->dns;
	cs.security_opt = &s->security_opt;
	cs.devices = &s->devices;
	cs.log_driver = s->log_driver;
	cs.log_opts = &s->log_opts;
	cs.expose = &s->expose;
	cs.privileged = s->privileged;
	cs.read_only = s->read_only;
	cs.has_init = s->has_init;
	cs.init = s->init;
	cs.hostname = s->hostname;
	cs.stop_signal = s->stop_signal;
	cs.shm_bytes = s->shm_bytes;
	cs.sysctls = &s->sysctls;
	cs.ulimits = s->ulimits;
	cs.nulimits = s->nulimits;
	cs.tty = s->tty;
	cs.stdin_open = s->stdin_open;
	cs.domainname = s->domainname;
	cs.pids_limit = s->pids_limit;
	cs.has_oom_score_adj = s->has_oom_score_adj;
	cs.oom_score_adj = s->oom_score_adj;
	cs.group_add = &s->group_add;
	cs.dns_search = &s->dns_search;
	cs.dns_opt = &s->dns_opt;
	cs.replicas = s->has_replicas ? s->replicas : -1;
	cs.global = s->global;
	cs.job = s->restart == RESTART_NO;
	cs.endpoint_mode = s->endpoint_mode;
	cs.constraints = &s->constraints;
	cs.preferences = &s->preferences;
	cs.update = s->update.set ? &s->update : NULL;
	cs.rollback = s->rollback.set ? &s->rollback : NULL;
	if (update) {
		if (!b->ops->workload_update) {
			fail(r, REASON_RECONCILE_ERROR, "backend %s updates nothing in "
			     "place", b->ops->name);
			goto out;
		}
		if ((rc = b->ops->workload_update(b, &cs)) < 0) {
			fail(r, rc == ERR_ROLLED_BACK ? REASON_ROLLED_BACK :
			     REASON_RECONCILE_ERROR, "%s", error_last());
			rc = -1;
			goto out;
		}
		log_msg(LOG_INFO, p->name, "updated service %s", name);
		rc = 0;
		goto out;
	}
	if (b->ops->workload_create(b, &cs, &id) < 0) {
		fail(r, REASON_RECONCILE_ERROR, "%s", error_last());
		goto out;
	}
	log_msg(LOG_INFO, p->name, "created container %s", name);
	if (st)
		snprintf(st[s - p->services].id, sizeof(st->id), "%s",
			 watched ? id : "");
	rc = 0;
out:
	for (i = 0; i < s->nmounts + s->nsecrets; i++)
		free(vol_names[i]);
	free(vol_names);
	free(mounts);
	free(labels);
	free(id);
	/* secret values were in env: wipe before freeing */
	for (i = 0; i < env.n; i++)
		memset(env.v[i], 0, strlen(env.v[i]));
	strvec_release(&env);
	if (secret.ptr)
		memset(secret.ptr, 0, secret.cap);
	buf_release(&secret);
	for (i = 0; shipped && i < s->nsecrets; i++) {
		buf_wipe(&shipped[i]);
		buf_release(&shipped[i]);
	}
	free(shipped);
	for (i = 0; i < nnets; i++)
		free(net_names[i]);
	free(net_names);
	free(nets);
	free(name);
	return rc;
}

static int create_container(struct backend *b, const struct project *p,
			    const struct service *s, struct started *st,
			    const struct apply_options *o, struct apply_result *r)
{
	if (externals_present(b, p, s, r) < 0)
		return -1;
	return make_container(b, p, s, st, o, r, false);
}

/*
 * Start service s once its dependencies hold.  st (one slot a service of
 * p, or NULL) keeps when each service was started by this pass, taken
 * before the call so that it is never later than the Engine's.
 */
/* Until every dependency of s is as its condition asks. */
static int wait_dependencies(struct backend *b, const struct project *p,
			     const struct service *s, const struct started *st,
			     const struct apply_options *o, struct apply_result *r)
{
	size_t i;
	int w;

	for (i = 0; i < s->ndeps; i++) {
		/* a wait on the stream makes no Engine call: give the slot */
		bool idle = s->deps[i].condition != DEP_STARTED && o->slots &&
			    o->watch && o->backend->watch_ready(o->watch, 0);

		if (idle)
			slot_give(o->slots);
		w = wait_dependency(b, p, s, &s->deps[i], st, o, r);
		if (idle)
			slot_take(o->slots);
		if (w < 0)
			return -1;
	}
	return 0;
}

/*
 * Start s's container once its dependencies are as their conditions ask.
 * after non-NULL: a restart, because its dependency `after`, named with
 * restart: true, was (re)started: stopped only once that dependency is
 * ready again, so it serves until then.
 */
static int start_or_restart(struct backend *b, const struct project *p,
			    const struct service *s, const char *after,
			    struct started *st, const struct apply_options *o,
			    struct apply_result *r)
{
	char *name = name_container(p->name, s->name);
	int64_t t;
	int rc = -1;

	if (wait_dependencies(b, p, s, st, o, r) < 0)
		goto out;
	t = monotonic_ms();
	if ((after && b->ops->workload_stop(b, name, -1) < 0) ||
	    b->ops->workload_start(b, name) < 0) {
		fail(r, REASON_RECONCILE_ERROR, "%s", error_last());
		goto out;
	}
	if (st)
		st[s - p->services].at = t;
	if (after)
		log_msg(LOG_INFO, p->name, "restarted container %s after %s", name, after);
	else
		log_msg(LOG_INFO, p->name, "started container %s", name);
	rc = 0;
out:
	free(name);
	return rc;
}

static int start_service(struct backend *b, const struct project *p,
			 const struct service *s, struct started *st,
			 const struct apply_options *o, struct apply_result *r)
{
	return start_or_restart(b, p, s, NULL, st, o, r);
}

/* A paused container resumes as it was: same processes, same writable layer. */
static int unpause_service(struct backend *b, const struct project *p,
			   const struct service *s, struct started *st,
			   struct apply_result *r)
{
	char *name = name_container(p->name, s->name);
	int rc = -1;

	if (b->ops->workload_resume(b, name) < 0) {
		fail(r, REASON_RECONCILE_ERROR, "%s", error_last());
		goto out;
	}
	if (st)
		st[s - p->services].at = monotonic_ms();
	log_msg(LOG_INFO, p->name, "unpaused container %s", name);
	rc = 0;
out:
	free(name);
	return rc;
}

static int remove_container(struct backend *b, const char *project,
			    const char *name, struct apply_result *r)
{
	/* -1: the container's own StopTimeout (its stopGracePeriod) applies;
	 * a failed stop is not fatal, the forced remove below kills it */
	if (b->ops->workload_stop(b, name, -1) < 0)
		log_msg(LOG_DEBUG, project, "stop %s: %s", name, error_last());
	if (b->ops->workload_remove(b, name, true) < 0) {
		fail(r, REASON_RECONCILE_ERROR, "%s", error_last());
		return -1;
	}
	log_msg(LOG_INFO, project, "removed container %s", name);
	return 0;
}

enum start_kind { START_PLAIN, START_UNPAUSE, START_FRESH };

/* How to bring a container up, from its state now (not at planning):
 * a paused one is unpaused, a dead one cannot start and is replaced. */
static enum start_kind start_kind(struct backend *b, const char *name)
{
	struct workload_state cs;

	if (b->ops->workload_state(b, name, &cs) < 0)
		return START_PLAIN;
	if (cs.state == OBS_PAUSED)
		return START_UNPAUSE;
	return cs.state == OBS_DEAD ? START_FRESH : START_PLAIN;
}

/* After the actions: did the services we touched stay up? */
static void check_running(struct backend *b, const struct plan *plan,
			  const struct plan_project *pp, struct apply_result *r)
{
	size_t i;

	for (i = pp->first; i < pp->first + pp->count && !r->failed; i++) {
		const struct plan_action *a = &plan->actions[i];
		struct workload_state cs;

		if (!a->svc || !action_starts(a))
			continue;
		if (b->ops->workload_state(b, a->object, &cs) < 0) {
			fail(r, REASON_CONTAINER_MISSING, "%s", error_last());
			return;
		}
		{
			/* the planner's rule: an on-failure service that exited 0
			 * at once has finished, as a job has */
			struct obs_container now;

			memset(&now, 0, sizeof(now));
			now.state = cs.state;
			now.exit_code = cs.exit_code;
			if (plan_service_finished(a->svc, &now))
				continue;
		}
		if (a->svc->restart == RESTART_NO) {
			if (cs.state == OBS_EXITED && cs.exit_code != 0)
				fail(r, REASON_CONTAINER_EXITED, "job '%s' exited with code %d",
				     a->svc->name, cs.exit_code);
			continue;
		}
		if (cs.state == OBS_RESTARTING || cs.restart_count > 0)
			fail(r, REASON_CONTAINER_CRASHED, "'%s' is restarting (exit code %d)",
			     a->svc->name, cs.exit_code);
		else if (cs.state == OBS_EXITED || cs.state == OBS_DEAD)
			fail(r, REASON_CONTAINER_EXITED, "'%s' exited with code %d%s",
			     a->svc->name, cs.exit_code, cs.oom_killed ? " (out of memory)" : "");
	}
}

struct pull_ctx {
	const char *project, *image;
};

/* On a terminal, how far a long pull got. */
static void pull_note(void *arg, const char *summary)
{
	const struct pull_ctx *pc = arg;

	log_msg(LOG_INFO, pc->project, "still pulling image %s: %s", pc->image,
		summary);
}

/*
 * A digest reference is used only when the local image has that digest:
 * after a pull, and before saying a Never image is missing (a local image
 * of the repository with another digest is named, with both digests).
 * 0 ok (ref names no digest, or the image has it), -1 failed (r filled).
 * An image the planner found locally under "repo@sha256:..." has it by
 * construction: its RepoDigests hold that very reference.
 */
static int verify_digest(struct backend *b, const char *ref, struct apply_result *r)
{
	struct observed imgs = OBSERVED_INIT;
	char *why = NULL;
	int rc = 0;

	if (!image_ref_digest(ref) || !b->ops->images)
		return 0;
	if (b->ops->images(b, &imgs) < 0) {
		fail(r, REASON_IMAGE_PULL_ERROR, "image %s: cannot check its digest: %s",
		     ref, error_last());
		rc = -1;
	} else if ((why = observed_digest_mismatch(&imgs, ref))) {
		fail(r, REASON_IMAGE_PULL_ERROR, "%s: nothing is created from it", why);
		rc = -1;
	}
	free(why);
	observed_release(&imgs);
	return rc;
}

/*
 * Pull ref with the credentials for its registry (none: anonymous).  A
 * refusal names the registry and where the credentials came from, or
 * that there were none; never the credentials.
 */
static int pull_image(struct backend *b, const char *project, const char *ref,
		      const struct apply_options *o, struct apply_result *r)
{
	struct pull_ctx pc = { project, ref };
	struct auth_creds c;
	struct buf msg = BUF_INIT;
	int rc;

	log_msg(LOG_INFO, project, "pulling image %s", ref);
	if ((rc = auth_lookup(&c, o->registry_auth_file, ref)) < 0) {
		fail(r, REASON_IMAGE_PULL_ERROR, "pull %s: %s", ref, error_last());
		goto out;
	}
	if (c.from)
		log_msg(LOG_DEBUG, project, "credentials for %s from %s", c.registry,
			c.from);
	rc = b->ops->image_pull(b, ref, c.header.len ? buf_cstr(&c.header) : NULL,
			       log_progress() ? pull_note : NULL, &pc);
	if (rc == ERR_REFUSED) {
		auth_refused_message(&msg, &c, error_last());
		fail(r, REASON_IMAGE_PULL_ERROR, "pull %s: %s", ref, buf_cstr(&msg));
	} else if (rc < 0 && auth_untrusted_message(&msg, &c, error_last())) {
		fail(r, REASON_IMAGE_PULL_ERROR, "pull %s: %s", ref, buf_cstr(&msg));
	} else if (rc < 0) {
		fail(r, REASON_IMAGE_PULL_ERROR, "%s", error_last());
	} else {
		rc = verify_digest(b, ref, r);
	}
out:
	auth_creds_release(&c);
	buf_release(&msg);
	return rc;
}

/*
 * Each distinct reference is pulled at most once a pass: projects run in
 * parallel and several may want the same missing image.  The first to ask
 * pulls it; the others wait for that pull (giving their slot back, as a
 * dependency wait does) and take its outcome, a failure with the same
 * message.  Entries are found by index: the array may move as it grows.
 */
struct pull_entry {
	char *ref;
	bool done;
	int rc;
	char *message;       /* of a failed pull */
};

struct pulls {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pull_entry *v;
	size_t n, cap;
};

static int pull_once(struct backend *b, const char *project, const char *ref,
		     const struct apply_options *o, struct apply_result *r);

/*
 * The FROM images of a build that are not on the host, pulled by cara
 * (its credentials, its messages, once a pass) so the builder finds them;
 * those there already are used as they are (IfNotPresent).
 */
static int pull_build_bases(struct backend *b, const struct project *p,
			    const struct build *bd, const struct apply_options *o,
			    struct apply_result *r)
{
	struct observed local;
	size_t i;
	int rc = 0;

	if (!bd->from.n)
		return 0;
	memset(&local, 0, sizeof(local));
	if (b->ops->images(b, &local) < 0) {
		fail(r, REASON_BUILD_FAILED, "%s", error_last());
		observed_release(&local);
		return -1;
	}
	observed_sort(&local);
	for (i = 0; i < bd->from.n && rc == 0; i++)
		if (!observed_has_image(&local, bd->from.v[i]))
			rc = pull_once(b, p->name, bd->from.v[i], o, r);
	observed_release(&local);
	return rc;
}

/* The image of s's build, from a tar of its context (Failed BuildFailed
 * when a step fails; the containers of s are then not touched). */
static int build_image(struct backend *b, const struct project *p,
		       const struct service *s, const struct apply_options *o,
		       struct apply_result *r)
{
	const struct build *bd = s->build;
	struct image_build_spec spec = { 0 };
	struct buf tar = BUF_INIT;
	int64_t t0 = monotonic_ms();
	int rc;

	if (!b->ops->image_build) {
		fail(r, REASON_BUILD_FAILED, "service %s has a build: the %s backend "
		     "builds no images (push the image to a registry)", s->name,
		     b->ops->name);
		return -1;
	}
	if (pull_build_bases(b, p, bd, o, r) < 0)
		return -1;
	if (files_tar(&tar, bd->context->files, bd->context->nfiles) < 0) {
		fail(r, REASON_BUILD_FAILED, "service %s: %s", s->name, error_last());
		buf_release(&tar);
		return -1;
	}
	spec.tag = s->image;
	spec.also_tag = bd->tag;
	spec.dockerfile = bd->dockerfile;
	spec.target = bd->target;
	spec.args = &bd->args;
	spec.project = p->name;
	spec.tar = tar.ptr;
	spec.tar_len = tar.len;
	log_msg(LOG_INFO, p->name, "building image %s for service %s (%zu files, "
		"%zu bytes)", s->image, s->name, bd->context->nfiles, tar.len);
	rc = b->ops->image_build(b, &spec);
	buf_release(&tar);
	if (rc < 0) {
		fail(r, REASON_BUILD_FAILED, "service %s: %s", s->name, error_last());
		return -1;
	}
	log_msg(LOG_INFO, p->name, "built image %s in %.1f s", s->image,
		(double)(monotonic_ms() - t0) / 1000.0);
	return 0;
}

static int pull_once(struct backend *b, const char *project, const char *ref,
		     const struct apply_options *o, struct apply_result *r)
{
	struct pulls *pt = o->pulls;
	size_t i;
	int rc;

	if (!pt)
		return pull_image(b, project, ref, o, r);
	pthread_mutex_lock(&pt->mu);
	for (i = 0; i < pt->n && strcmp(pt->v[i].ref, ref); i++)
		;
	if (i < pt->n) {
		if (!pt->v[i].done) {
			log_msg(LOG_INFO, project, "waiting for the pull of image %s "
				"another project started", ref);
			slot_give(o->slots);
			while (!pt->v[i].done)
				pthread_cond_wait(&pt->cv, &pt->mu);
			pthread_mutex_unlock(&pt->mu);
			slot_take(o->slots);
			pthread_mutex_lock(&pt->mu);
		}
		rc = pt->v[i].rc;
		if (rc < 0)
			fail(r, REASON_IMAGE_PULL_ERROR, "%s", pt->v[i].message ?
			     pt->v[i].message : "pull failed");
		else
			log_msg(LOG_DEBUG, project, "image %s already pulled in this "
				"pass", ref);
		pthread_mutex_unlock(&pt->mu);
		return rc;
	}
	GROW(pt->v, pt->cap, pt->n + 1);
	memset(&pt->v[pt->n], 0, sizeof(pt->v[pt->n]));
	pt->v[pt->n++].ref = xstrdup(ref);
	pthread_mutex_unlock(&pt->mu);

	rc = pull_image(b, project, ref, o, r);

	pthread_mutex_lock(&pt->mu);
	pt->v[i].rc = rc < 0 ? rc : 0;
	if (rc < 0 && r->message)
		pt->v[i].message = xstrdup(r->message);
	pt->v[i].done = true;
	pthread_cond_broadcast(&pt->cv);
	pthread_mutex_unlock(&pt->mu);
	return rc;
}

static void pulls_release(struct pulls *pt)
{
	size_t i;

	for (i = 0; i < pt->n; i++) {
		free(pt->v[i].ref);
		free(pt->v[i].message);
	}
	free(pt->v);
	pthread_cond_destroy(&pt->cv);
	pthread_mutex_destroy(&pt->mu);
}

/*
 * dockerd does the iptables work of creating and removing a network one
 * network at a time (the xtables lock), slower as networks add up.  Many
 * workers asking at once would queue inside dockerd and run into the
 * Engine timeout; they queue here instead, so the timeout measures the
 * Engine's work alone.  Once a network call has had no answer within the
 * timeout, the calls queued behind it fail at once instead of waiting a
 * timeout each.
 */
static pthread_mutex_t network_lock = PTHREAD_MUTEX_INITIALIZER;
static bool network_unanswered;

static int network_op(struct backend *b, const struct apply_options *o,
		      const char *name, const char *project, bool internal)
{
	int64_t t;
	int rc;

	pthread_mutex_lock(&network_lock);
	if (network_unanswered) {
		rc = error_set("docker: network '%s' not %s: an earlier network "
			       "request had no answer within %ld ms", name,
			       project ? "created" : "removed", o->docker_timeout_ms);
	} else {
		t = monotonic_ms();
		rc = project ? b->ops->network_ensure(b, name, project, o->owner,
						      internal)
			     : b->ops->network_remove(b, name);
		if (rc < 0 && o->docker_timeout_ms > 0 &&
		    monotonic_ms() - t >= o->docker_timeout_ms)
			network_unanswered = true;
	}
	pthread_mutex_unlock(&network_lock);
	return rc;
}

static void apply_actions(struct backend *b, const struct plan *plan,
			  const struct plan_project *pp, struct started *st,
			  const struct apply_options *o, struct apply_result *r)
{
	size_t i;
	bool teardown = pp->verdict == VERDICT_TEARDOWN;
	int rc = 0;

	for (i = pp->first; i < pp->first + pp->count; i++) {
		const struct plan_action *a = &plan->actions[i];

		if (stopping(o)) {
			interrupt(r);
			return;
		}
		switch (a->kind) {
		case ACTION_CREATE_NETWORK:
			if ((rc = network_op(b, o, a->object, pp->name,
					     a->net && a->net->internal)) < 0)
				goto engine_error;
			log_msg(LOG_INFO, pp->name, "created network %s", a->object);
			break;
		case ACTION_CREATE_VOLUME: {
			const struct volume *v = NULL;
			size_t k;
			for (k = 0; pp->proj && k < pp->proj->nvolumes; k++) {
				char *n = name_volume(pp->name, pp->proj->volumes[k].name);
				if (!strcmp(n, a->object))
					v = &pp->proj->volumes[k];
				free(n);
			}
			if ((rc = b->ops->volume_ensure(b, a->object, pp->name,
						       volume_type_name(v ? v->type :
								VOLUME_EPHEMERAL),
						       o->owner)) < 0)
				goto engine_error;
			log_msg(LOG_INFO, pp->name, "created volume %s", a->object);
			break;
		}
		case ACTION_PULL_IMAGE:
			if (a->svc && a->svc->pull_policy == PULL_NEVER) {
				if (verify_digest(b, a->object, r) < 0)
					return;
				fail(r, REASON_IMAGE_PULL_ERROR, "image %s is not on the host "
				     "and service %s has imagePullPolicy Never: it is "
				     "not pulled", a->object, a->svc->name);
				return;
			}
			if (pull_once(b, pp->name, a->object, o, r) < 0)
				return;
			break;
		case ACTION_BUILD_IMAGE:
			if (build_image(b, a->proj, a->svc, o, r) < 0)
				return;
			break;
		case ACTION_CREATE_CONTAINER:
			if (create_container(b, a->proj, a->svc, st, o, r) < 0 ||
			    start_service(b, a->proj, a->svc, st, o, r) < 0)
				return;
			r->created++;
			break;
		case ACTION_START_CONTAINER: {
			enum start_kind k = start_kind(b, a->object);

			/* dead: a start cannot help, a new one can */
			if (k == START_FRESH &&
			    (remove_container(b, pp->name, a->object, r) < 0 ||
			     create_container(b, a->proj, a->svc, st, o, r) < 0))
				return;
			if ((k == START_UNPAUSE ?
			     unpause_service(b, a->proj, a->svc, st, r) :
			     start_service(b, a->proj, a->svc, st, o, r)) < 0)
				return;
			r->started++;
			break;
		}
		case ACTION_RESTART_CONTAINER:
			if (start_or_restart(b, a->proj, a->svc, a->changed.n ?
					     a->changed.v[0] : "a dependency", st, o, r) < 0)
				return;
			r->started++;
			break;
		case ACTION_RETYPE_VOLUME:
			/* labels cannot change: the pass records the type, and
			 * teardown obeys it */
			log_msg(LOG_INFO, pp->name, "volume %s is now %s (its Docker "
				"label stays %s; teardown obeys the declared type)",
				a->object, a->changed.v[1], a->changed.v[0]);
			break;
		case ACTION_CONNECT_CONTAINER:
			if (b->ops->network_connect(b, a->network, a->object, a->svc->name,
						    join_aliases(a->proj, a->svc,
								 a->network)) < 0) {
				fail(r, REASON_RECONCILE_ERROR, "%s", error_last());
				return;
			}
			log_msg(LOG_INFO, pp->name, "connected container %s to network "
				"%s again", a->object, a->network);
			break;
		case ACTION_RECREATE_CONTAINER:
			/* what it needs is there before the old one goes */
			if (externals_present(b, a->proj, a->svc, r) < 0 ||
			    remove_container(b, pp->name, a->object, r) < 0 ||
			    make_container(b, a->proj, a->svc, st, o, r, false) < 0 ||
			    start_service(b, a->proj, a->svc, st, o, r) < 0)
				return;
			r->recreated++;
			break;
		case ACTION_UPDATE_CONTAINER:
			if (externals_present(b, a->proj, a->svc, r) < 0 ||
			    make_container(b, a->proj, a->svc, st, o, r, true) < 0)
				return;
			r->recreated++;
			break;
		case ACTION_REMOVE_CONTAINER:
			if (remove_container(b, pp->name, a->object, r) < 0)
				return;
			r->removed++;
			break;
		case ACTION_REMOVE_NETWORK:
			if (network_op(b, o, a->object_id ? a->object_id
				       : a->object, NULL, false) < 0) {
				/* one no service joins, still used by a container
				 * cara did not put there: kept, tried next pass */
				if (a->cause == CAUSE_NETWORK_UNUSED) {
					log_msg(LOG_WARN, pp->name, "network %s is not "
						"removed yet: %s", a->object, error_last());
					break;
				}
				goto engine_error;
			}
			log_msg(LOG_INFO, pp->name, "removed network %s", a->object);
			break;
		case ACTION_REMOVE_VOLUME:
			if (b->ops->volume_remove(b, a->object) < 0)
				goto engine_error;
			log_msg(LOG_INFO, pp->name, "removed volume %s", a->object);
			break;
		case ACTION_REMOVE_OBJECT:
			/* housekeeping, not the project's convergence: one still
			 * in use (by a service cara does not know) is kept and
			 * tried again next pass */
			if (!b->ops->object_remove)
				break;
			if (b->ops->object_remove(b, a->object_kind, a->object_id) < 0) {
				log_msg(LOG_WARN, pp->name, "%s %s is not removed yet: %s",
					obs_object_kind_name(a->object_kind), a->object,
					error_last());
				error_clear();
				break;
			}
			log_msg(LOG_INFO, pp->name, "removed %s %s (%s)",
				obs_object_kind_name(a->object_kind), a->object,
				action_cause_name(a->cause));
			break;
		}
		if (r->interrupted)
			return;
	}
	if (teardown) {
		r->phase = phase_name(PHASE_TERMINATED);
		r->reason = action_cause_name(pp->cause);
		r->message = xasprintf("torn down: %s", action_cause_name(pp->cause));
		return;
	}
	check_running(b, plan, pp, r);
	if (!r->failed) {
		r->phase = phase_name(PHASE_RUNNING);
		r->reason = reason_name(REASON_CONTAINERS_RUNNING);
		r->message = phase_running_message(pp->proj);
	}
	return;
engine_error:
	/* a network or volume of the name that is someone else's: not used */
	fail(r, rc == ERR_FOREIGN ? REASON_OWNED_ELSEWHERE : REASON_RECONCILE_ERROR, "%s",
	     error_last());
}

static void apply_project(struct backend *b, const struct plan *plan,
			  const struct plan_project *pp,
			  const struct apply_options *o, struct apply_result *r)
{
	struct started *st = NULL;

	/* the copies of source files first: a disk too full for them fails
	 * the project before anything is removed, and the containers keep
	 * the copies they mount (a cluster's nodes mount none: the backend
	 * ships the files itself) */
	if (pp->proj && pp->verdict == VERDICT_APPLY && !b->ops->caps->cluster &&
	    files_materialise(o->files_dir, pp->proj) < 0) {
		fail(r, REASON_RECONCILE_ERROR, "%s", error_last());
		return;
	}
	st = pp->proj && pp->proj->nservices ?
		xcalloc(pp->proj->nservices, sizeof(*st)) : NULL;
	apply_actions(b, plan, pp, st, o, r);
	free(st);
}

static void *worker(void *arg)
{
	struct pool *pl = arg;
	const struct backend_ops *ops = pl->opts->backend;
	struct backend_options bopts = { pl->opts->docker_host, pl->opts->docker_timeout_ms,
					 pl->opts->docker_api };
	struct backend *b = NULL;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&pl->mu);
		i = pl->next++;
		pthread_mutex_unlock(&pl->mu);
		if (i >= pl->plan->nprojects)
			break;
		if (!pl->plan->projects[i].count)
			continue;
		slot_take(pl->opts->slots);
		if (!b && ops->open(&b, &bopts) < 0)
			fail(&pl->rep->results[i], REASON_RECONCILE_ERROR, "%s", error_last());
		else
			apply_project(b, pl->plan, &pl->plan->projects[i], pl->opts,
				      &pl->rep->results[i]);
		slot_give(pl->opts->slots);
	}
	if (b) {
		pthread_mutex_lock(&pl->mu);
		pl->rep->engine_calls += ops->calls(b);
		pthread_mutex_unlock(&pl->mu);
	}
	ops->close(b);
	error_clear();
	return NULL;
}

/* Whether some container the plan starts waits for Healthy or Completed. */
static bool plan_waits(const struct plan *plan)
{
	size_t i, k;

	for (i = 0; i < plan->nactions; i++) {
		const struct plan_action *a = &plan->actions[i];

		if (!a->svc || !action_starts(a))
			continue;
		for (k = 0; k < a->svc->ndeps; k++)
			if (a->svc->deps[k].condition != DEP_STARTED)
				return true;
	}
	return false;
}

int apply_plan(struct apply_report *out, const struct plan *plan,
	       const struct apply_options *opts_in)
{
	struct apply_options o = *opts_in, *opts = &o;
	struct backend_options eo = { o.docker_host, o.docker_timeout_ms, o.docker_api };
	struct slots slots;
	struct pulls pulls;
	int parallel = o.parallel > 0 ? o.parallel : 1;
	struct pool pl;
	pthread_t th[64];
	size_t i, nth = 0, want;

	memset(out, 0, sizeof(*out));
	out->n = plan->nprojects;
	out->results = xcalloc(plan->nprojects ? plan->nprojects : 1,
			       sizeof(*out->results));
	for (i = 0; i < plan->nprojects; i++)
		out->results[i].project = plan->projects[i].name;
	memset(&pl, 0, sizeof(pl));
	pl.plan = plan;
	pl.opts = opts;
	pl.rep = out;
	network_unanswered = false;
	/*
	 * The watcher connects while the first steps run; since a second
	 * before now, in case the Engine's clock is a little behind.  Without
	 * it (no thread) the waits poll.
	 */
	if (!o.backend)
		o.backend = &backend_engine;
	o.watch = NULL;
	if (plan_waits(plan) &&
	    o.backend->watch_start(&o.watch, &eo, (int64_t)time(NULL) - 1) < 0)
		log_msg(LOG_DEBUG, NULL, "%s; waits poll the Engine", error_last());
	pthread_mutex_init(&pl.mu, NULL);
	memset(&pulls, 0, sizeof(pulls));
	pthread_mutex_init(&pulls.mu, NULL);
	pthread_cond_init(&pulls.cv, NULL);
	o.pulls = &pulls;
	want = 0;
	for (i = 0; i < plan->nprojects; i++)
		if (plan->projects[i].count)
			want++;
	o.slots = NULL;
	if (o.watch && want > (size_t)parallel) {
		/* waits give their slot back: a worker a project, up to the cap */
		pthread_mutex_init(&slots.mu, NULL);
		pthread_cond_init(&slots.cv, NULL);
		slots.free = parallel;
		o.slots = &slots;
	} else if (want > (size_t)parallel) {
		want = (size_t)parallel;
	}
	if (want > ARRAY_SIZE(th))
		want = ARRAY_SIZE(th);
	for (i = 0; i < want; i++) {
		if (pthread_create(&th[nth], NULL, worker, &pl) != 0)
			break;
		nth++;
	}
	if (want && !nth)
		worker(&pl);        /* no thread could start: do it here */
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	out->engine_calls += o.backend->watch_stop(o.watch);
	if (o.slots) {
		pthread_cond_destroy(&slots.cv);
		pthread_mutex_destroy(&slots.mu);
	}
	pulls_release(&pulls);
	pthread_mutex_destroy(&pl.mu);
	return 0;
}

void apply_report_release(struct apply_report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->results[i].message);
	free(r->results);
	memset(r, 0, sizeof(*r));
}
