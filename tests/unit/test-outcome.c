/*
 * test-outcome.c - the exit status scripts act on, and the outcome word
 * state, metrics and notifications record, for every way a pass ends.
 */
#include <stdlib.h>
#include <string.h>

#include "builders.h"
#include "outcome.h"
#include "phase.h"
#include "plan.h"
#include "tap.h"

static int pass_rc(size_t ok, size_t failed, size_t errors, bool mass,
		   bool interrupted, bool state_failed, const char **word)
{
	struct pass_tally t = {
		.ok = ok, .failed = failed, .manifest_errors = errors,
		.mass_refused = mass, .interrupted = interrupted,
		.state_failed = state_failed,
	};

	return outcome_of_pass(&t, word);
}

static void test_pass(void)
{
	const char *w;

	is_int(pass_rc(3, 0, 0, false, false, false, &w), EXIT_CONVERGED, "all converged: 0");
	is_str(w, "converged", "... converged");
	is_int(pass_rc(0, 0, 0, false, false, false, &w), EXIT_CONVERGED, "nothing to do: 0");
	is_int(pass_rc(2, 1, 0, false, false, false, &w), EXIT_PARTIAL, "one failed of three: 4");
	is_str(w, "partial", "... partial");
	is_int(pass_rc(0, 2, 0, false, false, false, &w), EXIT_ERROR, "all failed: 1");
	is_str(w, "failed", "... failed");
	is_int(pass_rc(2, 0, 1, false, false, false, &w), EXIT_PARTIAL,
	       "an invalid manifest next to converged projects: 4");
	is_int(pass_rc(0, 0, 1, false, false, false, &w), EXIT_ERROR,
	       "only invalid manifests: 1");
	is_int(pass_rc(5, 0, 0, true, false, false, &w), EXIT_PARTIAL,
	       "a refused mass prune is trouble: 4");
	is_int(pass_rc(3, 0, 0, false, true, false, &w), EXIT_ERROR, "interrupted: 1");
	is_str(w, "interrupted", "... interrupted");
	is_int(pass_rc(3, 0, 0, false, false, true, &w), EXIT_ERROR,
	       "state write failed: 1");
	is_str(w, "converged", "... but what ran is still recorded as converged");
}

static void test_plan(void)
{
	struct plan p = PLAN_INIT;
	const char *w;

	is_int(outcome_of_plan(&p, 0, &w), EXIT_CONVERGED, "empty plan: 0");
	is_str(w, "no-changes", "... no-changes");
	is_int(outcome_of_plan(&p, 2, &w), EXIT_ERROR, "manifest errors: 1");
	is_str(w, "invalid", "... invalid");
	tb_plan_project(&p, "a", VERDICT_APPLY, CAUSE_MISSING, 0);
	tb_plan_action(&p, ACTION_CREATE_NETWORK, CAUSE_MISSING, "a", NULL, "a");
	p.projects[0].count = 1;
	is_int(outcome_of_plan(&p, 0, &w), EXIT_CHANGES, "changes: 2");
	is_str(w, "changes", "... changes");
	tb_plan_project(&p, "b", VERDICT_REFUSED, CAUSE_MISSING, 1);
	is_int(outcome_of_plan(&p, 0, &w), EXIT_ERROR, "another state's project: 1");
	is_str(w, "refused", "... refused");
	p.projects[1].verdict = VERDICT_CONVERGED;
	p.mass_refused = true;
	is_int(outcome_of_plan(&p, 0, &w), EXIT_ERROR, "a refused mass prune: 1");
	plan_release(&p);
}

/* One name a reason, CamelCase, none twice: what state, status and alerts key on. */
static void test_reasons(void)
{
	size_t i, k;
	bool named = true, unique = true;

	for (i = 0; i < REASON_COUNT; i++) {
		const char *n = reason_name((enum reason)i);

		named &= strcmp(n, "Unknown") && n[0] >= 'A' && n[0] <= 'Z';
		for (k = 0; k < i; k++)
			unique &= strcmp(n, reason_name((enum reason)k)) != 0;
	}
	ok(named, "every reason has a CamelCase name");
	ok(unique, "no two reasons share a name");
	is_str(reason_name(REASON_IMAGE_PULL_ERROR), "ImagePullError", "ImagePullError");
	is_str(reason_name((enum reason)REASON_COUNT), "Unknown", "out of range: Unknown");
}

int main(void)
{
	test_reasons();
	test_pass();
	test_plan();
	return tap_done();
}
