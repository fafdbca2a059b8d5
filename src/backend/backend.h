/*
 * backend/ - the targets cara deploys to, behind one operations table.
 *
 *   backend.h   what every backend provides, and what it can do itself
 *               (its capabilities, which the planner asks)
 *   engine/     a Docker Engine: containers on one host
 *
 * The planner sees only struct backend_caps; apply calls a backend only
 * through its operations.
 */
#ifndef CARA_BACKEND_H
#define CARA_BACKEND_H

#include <stdbool.h>

/*
 * What a backend does on its own, so the planner plans only the rest.
 * The Engine: images are pulled by cara, a stopped container is started
 * as it is.
 */
struct backend_caps {
	const char *name;          /* "engine" */
	bool pulls_images;         /* creating a workload fetches its image */
	bool starts_stopped;       /* a stopped workload can be started again */
};

extern const struct backend_caps backend_engine_caps;

#endif
