/*
 * outcome.c - exit status and outcome word of a pass (outcome.h).
 */
#include "outcome.h"
#include "plan.h"

int outcome_of_pass(const struct pass_tally *t, const char **outcome)
{
	int rc;

	if (t->interrupted)
		rc = EXIT_ERROR;
	else if (!t->failed && !t->mass_refused && !t->manifest_errors &&
		 !t->ingress_failed)
		rc = EXIT_CONVERGED;
	else
		rc = t->ok ? EXIT_PARTIAL : EXIT_ERROR;
	*outcome = t->interrupted ? "interrupted" : rc == EXIT_CONVERGED ? "converged" :
		   rc == EXIT_PARTIAL ? "partial" : "failed";
	return t->state_failed ? EXIT_ERROR : rc;
}

int outcome_of_plan(const struct plan *p, size_t manifest_errors,
		    const char **outcome)
{
	size_t i;

	if (manifest_errors) {
		*outcome = "invalid";
		return EXIT_ERROR;
	}
	for (i = 0; i < p->nprojects; i++)
		if (p->projects[i].verdict == VERDICT_REFUSED)
			break;
	if (p->mass_refused || i < p->nprojects) {
		*outcome = "refused";
		return EXIT_ERROR;
	}
	*outcome = plan_is_empty(p) ? "no-changes" : "changes";
	return plan_is_empty(p) ? EXIT_CONVERGED : EXIT_CHANGES;
}
