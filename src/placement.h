/*
 * placement.h - on which host a project runs.  One decision, pure: a
 * project's placement (model.h, struct project_placement) and this
 * host's node name and labels (--node, --node-labels) -> here or
 * elsewhere.  The planner asks it for every valid project of the source; a
 * project placed elsewhere is never applied here, and what it left here is
 * torn down as PlacedElsewhere (counted by the mass-prune guard like a
 * prune).
 *
 * Also the rules for what a node name and a label may be, which the
 * manifest readers and the host settings share.
 */
#ifndef CARA_PLACEMENT_H
#define CARA_PLACEMENT_H

#include "model.h"

enum placement_verdict { PLACEMENT_HERE, PLACEMENT_ELSEWHERE };

/* This host as placement sees it. */
struct placement_host {
	const char *node;              /* --node; NULL: a host without a name */
	const struct kvlist *labels;   /* --node-labels; NULL: none */
};

/*
 * Here or elsewhere.  No placement: here (every host).  node: the host's
 * name equals it, without regard to case.  selector: every pair is one of
 * the host's labels (key and value exact).  Both: both.  With why (may be
 * NULL) and ELSEWHERE, *why is a sentence saying what did not match (the
 * caller frees it); else *why is NULL.
 */
enum placement_verdict
placement_decide(const struct project_placement *pl,
		 const struct placement_host *h, char **why);

/* NULL when s may be a node name (a host name: letters, digits, '.', '-',
 * '_', starting and ending with a letter or digit, at most 253), else why
 * not (static). */
const char *placement_check_node(const char *s);
/* The same for a label key (also '/'; at most 253) and a label value
 * (may be empty; at most 63). */
const char *placement_check_label_key(const char *s);
const char *placement_check_label_value(const char *s);

/*
 * --node-labels "k=v,k2=v2" into out (appended; spaces around items are
 * ignored, empty items dropped).  -1 with error_last() naming the item on
 * a missing '=', a bad key or value, or a key given twice; the message
 * starts with "--node-labels: " (config_load names the variable or the
 * file instead).
 */
int placement_parse_labels(struct kvlist *out, const char *s);

#endif
