/*
 * pin.h - on which node of a cluster (--backend swarm) a Managed volume
 * lives.  A Managed volume is a node's local Docker volume: a task
 * rescheduled elsewhere would find an empty one.  So the first pass that
 * places it picks a node (pin_choose, pure), records the pin in the state
 * (state_volume_pin) and constrains every service that mounts it with
 * node.id==ID; later passes read the pin back and never move it: only the
 * operator does (cara state unpin PROJECT VOLUME, doc/operations.md).
 *
 * Not pinned: Ephemeral volumes (scratch space: a rescheduled task may
 * start with an empty one) and volumes whose driver the host names as
 * shared (--swarm-shared-volume-drivers: the data follows the task).
 */
#ifndef CARA_PIN_H
#define CARA_PIN_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/backend.h"
#include "model.h"

/*
 * Does node n satisfy the placement constraint c ("node.role==worker",
 * "node.labels.zone != a"; manifest_check_constraint's syntax)?  As Swarm
 * matches: values without regard to case, a label the node lacks is "".
 * An attribute this cara does not know matches (Swarm decides).
 */
bool pin_node_matches(const struct backend_node *n, const char *c);

/*
 * The node a new pin goes to, among nodes[0..n): one that is ready and
 * active and satisfies every constraint of every service that mounts the
 * volume (cons[0..ncons)), holding the fewest pins already (pinned: the
 * node ids of the state's pins, one entry a pin), ties by host name then
 * id.  Its index, or -1 with *why a sentence saying why none fits (the
 * caller frees).
 */
long pin_choose(const struct backend_node *nodes, size_t n,
		const struct strvec *const *cons, size_t ncons,
		const struct strvec *pinned, char **why);

/* The driver a Managed volume of cara is made with ("local": cara sets
 * none). */
const char *pin_volume_driver(const struct volume *v);

/* Is v pinned on a cluster: Managed, its driver not among shared
 * (the --swarm-shared-volume-drivers list)? */
bool pin_wanted(const struct volume *v, const struct strvec *shared);

/* The constraint that holds a service to node id (caller frees). */
char *pin_constraint(const char *node_id);

/*
 * A row of state_volume_pins, "project\tvolume\tnode-id\thost", as views
 * into it (lengths, not copies; host runs to the row's end): false when
 * the row is not project's (NULL: any project's) or not such a row.  A
 * pin dropped by cara state unpin has an empty id and host.
 */
struct pin_row {
	const char *volume, *id, *host;
	size_t nvolume, nid;
};
bool pin_row_of(const char *row, const char *project, struct pin_row *out);

#endif
