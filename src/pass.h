/*
 * pass.h - the steps every command shares: read the source (a git
 * repository or a local directory), validate, observe the Engine and record
 * the snapshot, plan.  sync, diff and gc are compositions of these.
 */
#ifndef CARA_PASS_H
#define CARA_PASS_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "backend/backend.h"
#include "input/manifest.h"
#include "observed.h"
#include "placement.h"
#include "plan.h"
#include "source/source.h"
#include "state.h"

struct pass {
	struct config *cfg;
	int64_t now;
	struct project_set desired;
	struct diags diags;
	bool source_ok;                 /* the source could be read in full */
	bool includes_held;        /* hold_included ran (pass.c) */
	bool single_file;               /* one manifest file: prunes nothing else */
	bool state_failed;              /* a write to state.db failed: exit 1 */
	bool scratch_cache;             /* fetch into a throw-away cache (validate) */
	char commit[41];                /* "" for a local directory */
	char *subject;
	int64_t commit_time;
	bool offline;
	struct state *st;
	int64_t pass_id;
	const struct backend_ops *ops;   /* the backend: the Engine */
	struct backend *backend;         /* opened by pass_observe */
	/* the backend's capabilities with what its connection negotiated
	 * (caps_of): the planner's, once pass_observe opened it */
	struct backend_caps caps;
	struct observed obs;
	struct plan plan;
	struct strvec known;            /* projects state knows of */
	/* parsing options and what they point to */
	struct manifest_options mopts;
	struct strvec roots;
	struct strvec allow;            /* --interpolate-allow patterns */
	struct strvec profiles;         /* --compose-profiles */
	/* ownership: this state's identity and what it may touch */
	char *owner;
	struct strvec adoptions;        /* "project\towner" taken over earlier */
	struct strvec adopt;            /* --adopt projects */
	struct strvec volume_types;     /* "volume\ttype" last declared */
	struct strvec owed_restarts;    /* "project\tservice\tafter" (state.h) */
	struct strvec image_updates;    /* "ref\tdigest": tags that moved */
	/* this host for placement: --node, --node-labels */
	struct kvlist node_labels;
	struct placement_host host;
};

void pass_init(struct pass *p, struct config *cfg, int64_t now);
void pass_release(struct pass *p);
/* Repo (cfg->repo) or directory (cfg->path); diagnostics in p->diags. */
int pass_read_source(struct pass *p, bool with_secrets);
int pass_open_state(struct pass *p, const char *command, bool lock);
int pass_observe(struct pass *p);
/* After apply changed the host: the pass's snapshot replaced by what is
 * there now, so that `cara status` shows the containers (and digests) the
 * pass left, not those it found.  p->obs (the plan's) is kept. */
int pass_observe_after(struct pass *p);
/*
 * Ask the registries (through the backend) for the digest of every tag
 * the desired projects use whose check is due (--image-check; policy
 * Always: every pass) and that is on the host; the tags whose registry
 * digest is not the local image's go to p->image_updates for the plan.
 * One request a distinct tag; a registry that does not answer is a
 * warning.  record: remember when each tag was checked (not for diff).
 */
void pass_check_images(struct pass *p, bool record);
/*
 * On a cluster: every Managed volume of the valid projects placed here
 * held to its node (pin.h): the pin the state has, or one chosen now and,
 * with record, recorded (not for diff or --dry-run); the services that
 * mount it constrained to node.id==ID and their specs hashed again.  A
 * volume no node can hold makes its project invalid.  After
 * pass_observe, before pass_plan.
 */
int pass_pin_volumes(struct pass *p, bool record);
int pass_plan(struct pass *p, bool gc_only, bool prune);
/* Is project pr placed on this host (placement_decide with --node and
 * --node-labels)? */
bool pass_placed_here(const struct pass *p, const struct project *pr);
/* Print the diagnostics to stderr (text), with a summary line. */
void pass_report_diags(const struct pass *p);
/* The line that sums up a validation on stderr: "2 files, 1 project: 0
 * errors, 1 warning" (validate, convert). */
void pass_report_summary(const struct pass *p);
/* The mass-prune guard's refusal, said once (sync, diff). */
void pass_report_mass_refused(const struct pass *p);
/* Log error_last() for a failed state write and remember it. */
void pass_state_error(struct pass *p, const char *project);
/* End the pass record with an outcome (no-op without state). */
void pass_finish(struct pass *p, const char *outcome,
		 const struct pass_counts *counts);

#endif
