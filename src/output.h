/*
 * output.h - human and JSON renderings of diagnostics, plans and status.
 * Everything is rendered into a struct buf; callers write it to stdout.
 */
#ifndef CARA_OUTPUT_H
#define CARA_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "ingress.h"
#include "observed.h"
#include "plan.h"
#include "state.h"
#include "util.h"

/* Should we colour? isatty(fd) && NO_COLOR unset && !no_color. */
bool output_use_color(int fd, bool no_color);

void output_diags_json(struct buf *out, const struct diags *d);

/* Plan grouped by project with +/~/- marks; secret values never appear. */
void output_plan_text(struct buf *out, const struct plan *p, bool color);
/* routes: the route changes (proxy_diff lines, "+ route ..."), or NULL. */
void output_plan_json(struct buf *out, const struct plan *p,
		      const struct strvec *routes);

void output_status_table(struct buf *out, const struct project_status *v,
			 size_t n, int64_t now);
/* obs (NULL: none kept) gives each project's {service, image, digest};
 * routes (NULL: none) its routes, served when among served's lines. */
/*
 * After the projects, on a cluster: one line a service (PROJECT SERVICE
 * STATE TASKS: replicas running, their nodes, the tasks that do not run
 * by state) and its problem below it, from the newest snapshot, for the
 * projects v[0..n) of this state.  Nothing when no such workload has
 * tasks (the Engine).
 */
void output_services_table(struct buf *out, const struct observed *obs,
			   const struct project_status *v, size_t n);
void output_status_json(struct buf *out, const struct project_status *v,
			size_t n, const struct observed *obs,
			const struct routes *routes, const struct strvec *served);

/* Write buf to stdout, flush, check for errors (a full disk is an error). */
int output_write_stdout(const struct buf *b);
/* Has anything been written with output_write_stdout()? */
bool output_stdout_written(void);

#endif
