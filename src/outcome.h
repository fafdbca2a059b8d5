/*
 * outcome.h - how a pass ends: its exit status (part of the interface)
 * and the outcome word recorded in state, metrics and notifications, from
 * what the pass counted.  Pure: the commands decide nothing else.
 */
#ifndef CARA_OUTCOME_H
#define CARA_OUTCOME_H

#include <stdbool.h>
#include <stddef.h>

struct plan;

/* Exit statuses: part of the interface. */
enum {
	EXIT_CONVERGED = 0,
	EXIT_ERROR = 1,
	EXIT_CHANGES = 2,
	EXIT_LOCKED = 3,
	EXIT_PARTIAL = 4,
};

/* What a pass that applied counted. */
struct pass_tally {
	size_t ok, failed;         /* projects that ended well, or not */
	size_t manifest_errors;
	bool mass_refused;         /* the mass-prune guard held the prune */
	bool interrupted;          /* SIGTERM / SIGINT */
	bool state_failed;         /* the state database missed a write */
	bool ingress_failed;       /* the proxy does not serve the routes */
};

/*
 * sync and gc: 0 when every project converged and nothing was refused;
 * trouble (a failed project, an invalid manifest, a refused prune, an
 * ingress proxy that refused its new routes) next
 * to converged projects is a partial success (4), else 1.  An interrupted
 * pass, or one the state could not record, is 1.  *outcome (static):
 * "converged", "partial", "failed" or "interrupted"; a missed state write
 * changes the exit status only (what ran still ran).
 */
int outcome_of_pass(const struct pass_tally *t, const char **outcome);

/*
 * diff and sync --dry-run: 1 with manifest errors, a refused prune or a
 * project whose objects are another state's (what sync would fail on),
 * else 0 for an empty plan and 2 for changes.  *outcome (static):
 * "invalid", "refused", "no-changes" or "changes".
 */
int outcome_of_plan(const struct plan *p, size_t manifest_errors,
		    const char **outcome);

#endif
