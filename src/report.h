/*
 * report.h - publishing a pass's outcome: a Prometheus text file for
 * node_exporter's textfile collector (written atomically), and a JSON
 * webhook (with a Slack-compatible "text") when a pass changed something
 * or failed.  Neither may fail the pass: errors are logged and returned.
 */
#ifndef CARA_REPORT_H
#define CARA_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "plan.h"
#include "state.h"

struct pass_summary {
	const char *node;
	const char *command;          /* "sync", "gc" */
	const char *outcome;          /* "converged", "partial", "failed", ... */
	int exit_code;
	const char *commit;           /* "" for a local directory */
	double duration_s;
	int64_t ended;
	int64_t last_success;         /* 0: never */
	const struct pass_counts *counts;
	const struct plan *plan;      /* for actions by kind; may be NULL */
	const struct project_status *projects; /* from state after the pass */
	size_t nprojects;
	bool changed;                 /* any action taken */
};

/* Render the Prometheus text (exposed for tests). */
void report_metrics_text(struct buf *out, const struct pass_summary *s);
/* Write it to file atomically (temp file in the same dir, fsync, rename). */
int report_metrics_write(const char *file, const struct pass_summary *s);
/* Render the webhook body (exposed for tests). */
void report_notify_json(struct buf *out, const struct pass_summary *s);
/* POST it to url with a 10 s timeout; HTTP status >= 300 is an error. */
int report_notify(const char *url, const struct pass_summary *s);

#endif
