/*
 * test-placement.c - the placement decision, table-driven: a project's
 * placement (none, node, nodeSelector, both) against a host's --node and
 * --node-labels, and what it says when the answer is "elsewhere"; then
 * --node-labels parsing and the name and label rules; then the node a
 * Managed volume is pinned to on a Swarm (pin.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pin.h"
#include "placement.h"
#include "tap.h"

struct dcase {
	const char *title;
	bool present;
	const char *node;          /* placement.node */
	const char *selector;      /* placement.nodeSelector as k=v,... */
	const char *host_node;     /* --node */
	const char *host_labels;   /* --node-labels */
	enum placement_verdict want;
	const char *why;           /* for ELSEWHERE */
};

static const struct dcase dcases[] = {
	{ "no placement: every host", false, NULL, NULL, "n1", NULL,
	  PLACEMENT_HERE, NULL },
	{ "no placement, host without a name: here", false, NULL, NULL, NULL, NULL,
	  PLACEMENT_HERE, NULL },
	{ "node matches", true, "n1", NULL, "n1", NULL, PLACEMENT_HERE, NULL },
	{ "node matches without regard to case", true, "Web-1", NULL, "web-1", NULL,
	  PLACEMENT_HERE, NULL },
	{ "node differs", true, "n2", NULL, "n1", NULL, PLACEMENT_ELSEWHERE,
	  "placed on node 'n2' (this host is 'n1')" },
	{ "node, host without a name", true, "n2", NULL, NULL, NULL,
	  PLACEMENT_ELSEWHERE, "placed on node 'n2' (this host has no node name)" },
	{ "node prefix is not the node", true, "n1", NULL, "n10", NULL,
	  PLACEMENT_ELSEWHERE, "placed on node 'n1' (this host is 'n10')" },
	{ "selector matches", true, NULL, "zone=a", "n1", "zone=a,disk=ssd",
	  PLACEMENT_HERE, NULL },
	{ "selector of two, both match", true, NULL, "disk=ssd,zone=a", "n1",
	  "zone=a,disk=ssd", PLACEMENT_HERE, NULL },
	{ "selector value differs", true, NULL, "zone=b", "n1", "zone=a",
	  PLACEMENT_ELSEWHERE, "nodeSelector zone=b: this host's label zone is 'a'" },
	{ "selector value is exact (case)", true, NULL, "zone=A", "n1", "zone=a",
	  PLACEMENT_ELSEWHERE, "nodeSelector zone=A: this host's label zone is 'a'" },
	{ "selector label missing", true, NULL, "gpu=yes", "n1", "zone=a",
	  PLACEMENT_ELSEWHERE, "nodeSelector gpu=yes: this host has no label gpu" },
	{ "selector, host without labels", true, NULL, "zone=a", "n1", NULL,
	  PLACEMENT_ELSEWHERE, "nodeSelector zone=a: this host has no label zone" },
	{ "selector of two, one misses", true, NULL, "zone=a,disk=ssd", "n1",
	  "zone=a,disk=hdd", PLACEMENT_ELSEWHERE,
	  "nodeSelector disk=ssd: this host's label disk is 'hdd'" },
	{ "selector with an empty value matches an empty label", true, NULL, "edge=",
	  "n1", "edge=", PLACEMENT_HERE, NULL },
	{ "node and selector: both match", true, "n1", "zone=a", "n1", "zone=a",
	  PLACEMENT_HERE, NULL },
	{ "node and selector: node misses", true, "n2", "zone=a", "n1", "zone=a",
	  PLACEMENT_ELSEWHERE, "placed on node 'n2' (this host is 'n1')" },
	{ "node and selector: selector misses", true, "n1", "zone=b", "n1", "zone=a",
	  PLACEMENT_ELSEWHERE, "nodeSelector zone=b: this host's label zone is 'a'" },
};

static void test_decide(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dcases); i++) {
		const struct dcase *c = &dcases[i];
		struct project_placement pl;
		struct kvlist labels = { 0 };
		struct placement_host h;
		enum placement_verdict v;
		char *why = NULL;

		memset(&pl, 0, sizeof(pl));
		pl.present = c->present;
		pl.node = c->node ? xstrdup(c->node) : NULL;
		if (c->selector && placement_parse_labels(&pl.selector, c->selector) < 0)
			printf("# bad selector in the table: %s\n", error_last());
		if (c->host_labels && placement_parse_labels(&labels, c->host_labels) < 0)
			printf("# bad labels in the table: %s\n", error_last());
		h.node = c->host_node;
		h.labels = c->host_labels ? &labels : NULL;
		v = placement_decide(&pl, &h, &why);
		ok(v == c->want, "%s: %s", c->title,
		   c->want == PLACEMENT_HERE ? "here" : "elsewhere");
		if (c->why)
			is_str(why ? why : "(null)", c->why, "%s: says why", c->title);
		else
			ok(!why, "%s: no reason when here", c->title);
		free(why);
		ok(placement_decide(&pl, &h, NULL) == c->want, "%s: the same without why",
		   c->title);
		free(pl.node);
		kvlist_release(&pl.selector);
		kvlist_release(&labels);
	}
	ok(placement_decide(NULL, &(struct placement_host){ "n1", NULL }, NULL) ==
	   PLACEMENT_HERE, "no placement at all (NULL): here");
}

static void test_parse_labels(void)
{
	struct kvlist l = { 0 };
	struct {
		const char *in, *err;
	} bad[] = {
		{ "zone", "--node-labels: 'zone' is not KEY=VALUE" },
		{ "=a", "--node-labels: label key '': empty" },
		{ "zo ne=a", "--node-labels: label key 'zo ne': only letters" },
		{ "zone=a b", "--node-labels: value 'a b' of label zone: only letters" },
		{ "zone=a,zone=b", "--node-labels: label zone is given twice" },
		{ "-zone=a", "--node-labels: label key '-zone': must start and end" },
		{ "zone=a/b", "--node-labels: value 'a/b' of label zone: only letters" },
	};
	size_t i;

	ok(placement_parse_labels(&l, " zone=a , disk=ssd,,example.com/tier=db ") == 0 &&
	   l.n == 3 && !strcmp(l.v[0].key, "zone") && !strcmp(l.v[0].value, "a") &&
	   !strcmp(l.v[1].key, "disk") && !strcmp(l.v[1].value, "ssd") &&
	   !strcmp(l.v[2].key, "example.com/tier") && !strcmp(l.v[2].value, "db"),
	   "--node-labels: items trimmed, empty ones dropped, a prefixed key");
	kvlist_release(&l);
	ok(placement_parse_labels(&l, "") == 0 && l.n == 0 &&
	   placement_parse_labels(&l, NULL) == 0 && l.n == 0, "empty and NULL: no labels");
	ok(placement_parse_labels(&l, "edge=") == 0 && l.n == 1 && !*l.v[0].value,
	   "a label with an empty value");
	kvlist_release(&l);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int rc = placement_parse_labels(&l, bad[i].in);

		ok(rc < 0 && !strncmp(error_last(), bad[i].err, strlen(bad[i].err)),
		   "--node-labels '%s' refused: %s", bad[i].in, bad[i].err);
		if (rc == 0 || strncmp(error_last(), bad[i].err, strlen(bad[i].err)))
			printf("#   got: %s\n", rc < 0 ? error_last() : "accepted");
		kvlist_release(&l);
	}
}

static void test_checks(void)
{
	char longname[300];

	ok(!placement_check_node("node1") && !placement_check_node("web-1.example.com") &&
	   !placement_check_node("Host_2"), "node names: host names");
	ok(placement_check_node("") && placement_check_node("-a") &&
	   placement_check_node("a.") && placement_check_node("a b") &&
	   placement_check_node("a/b"), "node names: empty, bad ends, space, '/' refused");
	memset(longname, 'a', 254);
	longname[254] = '\0';
	ok(placement_check_node(longname) != NULL, "a node name of 254 refused");
	longname[253] = '\0';
	ok(placement_check_node(longname) == NULL, "253 accepted");
	ok(placement_check_label_key(longname) == NULL &&
	   !placement_check_label_key("example.com/zone"), "label keys");
	longname[64] = '\0';
	ok(placement_check_label_value(longname) != NULL, "a label value of 64 refused");
	longname[63] = '\0';
	ok(!placement_check_label_value(longname) && !placement_check_label_value(""),
	   "63 and empty accepted");
}

static void node_set(struct backend_node *n, const char *id, const char *host,
		     const char *role, bool ready, bool active, const char *labels)
{
	memset(n, 0, sizeof(*n));
	n->id = xstrdup(id);
	n->hostname = xstrdup(host);
	n->role = xstrdup(role);
	n->os = xstrdup("linux");
	n->arch = xstrdup("x86_64");
	n->ready = ready;
	n->active = active;
	if (labels)
		strvec_push(&n->labels, labels);
	strvec_push(&n->engine_labels, "disk=ssd");
}

static void test_pins(void)
{
	struct backend_node *n = xcalloc(4, sizeof(*n));
	struct strvec c1 = STRVEC_INIT, c2 = STRVEC_INIT, pinned = STRVEC_INIT;
	const struct strvec *cons[2] = { &c1, &c2 };
	char *why = NULL, *c;
	struct volume v;

	node_set(&n[0], "idb", "node-b", "worker", true, true, "zone=a");
	node_set(&n[1], "ida", "node-a", "manager", true, true, NULL);
	node_set(&n[2], "idc", "node-c", "worker", false, true, "zone=b");
	node_set(&n[3], "idd", "node-d", "worker", true, false, "zone=b");

	ok(pin_node_matches(&n[0], "node.role==worker"), "role matches");
	ok(pin_node_matches(&n[0], "node.role == WORKER"), "spaces, any case");
	ok(!pin_node_matches(&n[1], "node.role==worker"), "a manager is not a worker");
	ok(pin_node_matches(&n[1], "node.role!=worker"), "!=");
	ok(pin_node_matches(&n[0], "node.labels.zone==a"), "a node label");
	ok(!pin_node_matches(&n[1], "node.labels.zone==a"), "a label it lacks is ''");
	ok(pin_node_matches(&n[1], "node.labels.zone!=a"), "so != holds");
	ok(!pin_node_matches(&n[0], "node.labels.zon==a"), "a label name is exact");
	ok(pin_node_matches(&n[0], "engine.labels.disk==ssd"), "an engine label");
	ok(pin_node_matches(&n[0], "node.hostname==node-b") &&
	   pin_node_matches(&n[0], "node.id==idb") &&
	   !pin_node_matches(&n[0], "node.id==id"), "host name and id, in full");
	ok(pin_node_matches(&n[0], "node.platform.os==linux"), "platform");

	is_int(pin_choose(n, 4, cons, 2, &pinned, &why), 1,
	       "no constraints: the first ready, active node by name");
	ok(why == NULL, "no why");
	strvec_push(&pinned, "ida");
	is_int(pin_choose(n, 4, cons, 2, &pinned, &why), 0,
	       "the one holding fewer pins goes first");
	strvec_push(&pinned, "idb");
	is_int(pin_choose(n, 4, cons, 2, &pinned, &why), 1, "a tie again: by name");
	strvec_push(&c1, "node.role==worker");
	is_int(pin_choose(n, 4, cons, 2, &pinned, &why), 0,
	       "a service's constraint is honoured (down and drained nodes are not "
	       "candidates)");
	strvec_push(&c2, "node.labels.zone==b");
	is_int(pin_choose(n, 4, cons, 2, &pinned, &why), -1,
	       "every service's: none fits both");
	ok(why && !strcmp(why, "none of the 2 ready, active nodes satisfies the "
			  "placement constraints of the services that mount it"),
	   "why: %s", why ? why : "(null)");
	free(why);
	n[0].ready = n[1].ready = false;
	is_int(pin_choose(n, 4, cons, 0, &pinned, &why), -1, "no node ready");
	ok(why && !strcmp(why, "no node of the Swarm is ready and active"),
	   "why: %s", why ? why : "(null)");
	free(why);

	memset(&v, 0, sizeof(v));
	v.type = VOLUME_MANAGED;
	ok(pin_wanted(&v, NULL), "a Managed volume is pinned");
	strvec_release(&c1);
	strvec_push(&c1, "nfs");
	ok(pin_wanted(&v, &c1), "its driver (local) is not among the shared ones");
	strvec_push(&c1, "local");
	ok(!pin_wanted(&v, &c1), "now it is: not pinned");
	v.type = VOLUME_EPHEMERAL;
	ok(!pin_wanted(&v, NULL), "an Ephemeral volume is not pinned");
	c = pin_constraint("abc");
	is_str(c, "node.id==abc", "the constraint");
	free(c);
	backend_nodes_free(n, 4);
	strvec_release(&c1);
	strvec_release(&c2);
	strvec_release(&pinned);
}

/* A state pin row read as views into it, and what is not one. */
static void test_pin_rows(void)
{
	struct pin_row r;

	ok(pin_row_of("shop\tdata\tn1id\tnode-1", "shop", &r) &&
	   r.nvolume == 4 && !strncmp(r.volume, "data", 4) && r.nid == 4 &&
	   !strncmp(r.id, "n1id", 4) && !strcmp(r.host, "node-1"),
	   "a pin row: volume, node id and host");
	ok(pin_row_of("shop\tdata\tn1id\tnode-1", NULL, &r), "  any project's");
	ok(!pin_row_of("shop\tdata\tn1id\tnode-1", "sho", &r) &&
	   !pin_row_of("shop\tdata\tn1id\tnode-1", "shop2", &r),
	   "  not another project's, a prefix neither");
	ok(pin_row_of("shop\tdata\t\t", "shop", &r) && !r.nid && !*r.host,
	   "a dropped pin: empty id and host");
	ok(!pin_row_of("shop\tdata\tn1id", "shop", &r) && !pin_row_of("shop", NULL, &r),
	   "a row of fewer fields is none");
}

int main(void)
{
	test_decide();
	test_parse_labels();
	test_checks();
	test_pins();
	test_pin_rows();
	return tap_done();
}
