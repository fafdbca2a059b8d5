/*
 * input/schema.h - what every reader of input/ uses to turn a YAML tree
 * into the model: a context that files findings under the field path of
 * the node at hand, typed getters that interpolate ${VAR} (with cara's
 * rules on which variables a manifest may read) and report their own
 * problems, and a walker that converts a mapping against a table of
 * fields, warning about unknown ones with a suggestion.  Private to
 * input/.
 */
#ifndef CARA_INPUT_SCHEMA_H
#define CARA_INPUT_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "input/manifest.h"
#include "input/yaml.h"

struct source_snapshot;

#define MAX_FINDINGS 200        /* per file, then one line saying how many more */

/* One file being read. */
struct pctx {
	struct project_set *set;
	const char *file;
	const struct manifest_options *opts;
	struct diags *d;
	bool bad;                 /* an error named the project being converted */
	struct buf path;          /* field path of the node being converted */
	size_t nfindings;
	size_t hidden, hidden_errors;
	/* Compose files: interpolation as compose does it (bare $VAR,
	 * ${VAR:+alt}, an unset variable is empty with a warning), variables
	 * from the environment, then from dotenv (the .env beside the file,
 * sorted by key, one entry each);
	 * unknown fields are errors ("not supported by cara"). */
	bool compose;
	const struct kvlist *dotenv;
	const struct source_snapshot *snap;
	size_t ndocs;
	void *reader;             /* the reader's own state */
	const char *conflict;     /* another compose file in the same directory */
	/* Compose files: within x-cara (cara's own fields), unknown fields
	 * are warned about with a suggestion, as in a Project. */
	bool cara_fields;
};

typedef void field_fn(struct pctx *c, const struct ynode *v, void *obj);

enum ftype {
	F_FN,      /* fn(c, value, obj) */
	F_LIST,    /* fn(c, item, obj) for each item of a list */
	F_MAP,     /* the fields `sub` of a nested mapping, into the same obj */
	F_STR,     /* char * member, checked by `check` when set */
	F_PATH,    /* char * member holding an absolute path */
	F_INT,     /* int member in [min, max] */
	F_BOOL,    /* bool member */
	F_MS,      /* int64_t member: a duration in milliseconds */
	F_SKIP,    /* read elsewhere */
};

struct field {
	const char *key;           /* NULL ends a table */
	enum ftype type;
	bool required;
	size_t off;
	field_fn *fn;
	const struct field *sub;
	const char *(*check)(const char *s);
	const char *what;          /* for check's message: "service name" */
	int min, max;
};

#define FN(k, f, req) { .key = k, .type = F_FN, .fn = f, .required = req }
#define LIST(k, f, req) { .key = k, .type = F_LIST, .fn = f, .required = req }
#define MAP(k, s, req) { .key = k, .type = F_MAP, .sub = s, .required = req }
#define STR(k, T, m, req) { .key = k, .type = F_STR, .off = offsetof(T, m), .required = req }
#define NAME(k, T, m, chk, w) { .key = k, .type = F_STR, .off = offsetof(T, m), \
				.required = true, .check = chk, .what = w }
#define PATH(k, T, m, req) { .key = k, .type = F_PATH, .off = offsetof(T, m), .required = req }
#define INT(k, T, m, lo, hi, req) { .key = k, .type = F_INT, .off = offsetof(T, m), \
				    .min = lo, .max = hi, .required = req }
#define BOOL(k, T, m) { .key = k, .type = F_BOOL, .off = offsetof(T, m) }
#define MS(k, T, m) { .key = k, .type = F_MS, .off = offsetof(T, m) }
#define SKIP(k, req) { .key = k, .type = F_SKIP, .required = req }
#define END { .key = NULL }

#define MAX_FIELDS 64           /* keys of one table */

/* Findings at node n (or at line, col for the whole file: no project of
 * it can be trusted, so the set becomes incomplete). */
void perr(struct pctx *c, const struct ynode *n, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
void pwarn(struct pctx *c, const struct ynode *n, const char *fmt, ...)
	PRINTF_LIKE(3, 4);
void file_error(struct pctx *c, int line, int col, const char *fmt, ...)
	PRINTF_LIKE(4, 5);

/* The field path: push a key or an index (returns the old length), pop. */
size_t path_key(struct pctx *c, const char *key);
size_t path_index(struct pctx *c, size_t i);
void path_pop(struct pctx *c, size_t old);

/* The value of ${name} (borrowed; NULL when unset or refused, which is
 * reported at n). */
const char *pctx_lookup_var(struct pctx *c, const struct ynode *n,
			    const char *name);

/* Scalars, interpolated; each reports its own problem and returns
 * NULL / false.  get_str's result is the caller's. */
char *get_str(struct pctx *c, const struct ynode *n);
bool get_int(struct pctx *c, const struct ynode *n, long long min,
	     long long max, long long *out);
bool get_bool(struct pctx *c, const struct ynode *n, bool *out);
bool get_duration(struct pctx *c, const struct ynode *n, int64_t *out);
bool get_strlist(struct pctx *c, const struct ynode *n, struct strvec *out);
/* A mapping, or a list of "key=value" (input/hostcfg.c). */
void get_kv_pairs(struct pctx *c, const struct ynode *v, struct kvlist *l);
/* A mapping of strings (labels, annotations) into l; with service_labels,
 * keys starting with "cara." are refused. */
void get_kvlist(struct pctx *c, const struct ynode *n, struct kvlist *l,
		bool service_labels);
/* t is one of names[0..n) (exact): its index; else an error with the
 * closest name. */
bool pick(struct pctx *c, const struct ynode *v, const char *t,
	  const char *const *names, size_t n, const char *what, size_t *out);

/*
 * Convert mapping n with the fields f into obj.  Null values count as
 * absent.  Returns false when n is not a mapping.
 */
bool walk_map(struct pctx *c, const struct ynode *n, const struct field *f,
	      void *obj);
/* Call item(c, node, obj) for each element of list n. */
void walk_list(struct pctx *c, const struct ynode *n, field_fn *item, void *obj);

/* Field readers both formats share (caravan.c): obj is a struct port
 * (host IP, protocol), a struct healthcheck (test: list or string) or a
 * struct service (memory, cpus, restart); read_hc_start_interval keeps
 * where the value is, for the planner's refusal on an older Engine. */
field_fn read_host_ip, read_protocol, read_hc_test, read_hc_start_interval,
	 read_memory, read_cpus, read_restart, read_pull_policy,
	 read_memory_reservation, read_memory_swap, read_cpu_shares;
/* A memory size of at least Docker's minimum, CPUs as billionths: false
 * (and an error at v) when v is not one, *out then untouched. */
bool get_memory(struct pctx *c, const struct ynode *v, int64_t *out);
bool get_cpus(struct pctx *c, const struct ynode *v, int64_t *out);
void check_memory(struct pctx *c, const struct service *s,
		  const struct ynode *swap_at, const char *swap_key,
		  const struct ynode *rsv_at, const char *rsv_key);
/* Project fields both formats share (caravan.c; a compose file's x-cara):
 * obj is a struct project; read_ingress_item reads one list item. */
field_fn read_expire_at, read_ingress_item, read_project_labels,
	 read_project_annotations, read_placement;
/* The host settings (input/hostcfg.c); obj is a struct service. */
field_fn read_cap_add, read_cap_drop, read_privileged, read_security_opt,
	 read_init, read_tmpfs, read_hostname, read_stop_signal,
	 read_extra_hosts, read_dns, read_shm_size, read_sysctls, read_ulimits,
	 read_expose, read_aliases,
	 read_devices, read_logging, read_domainname, read_pids_limit,
	 read_oom_score_adj, read_group_add, read_dns_search, read_dns_opt;
/* A limit on processes (1 and up; -1 and 0, no limit, refused): false
 * (and an error at v) when v is not one, *out then untouched. */
bool get_pids_limit(struct pctx *c, const struct ynode *v, int64_t *out);
/* A network a service joins (obj: a struct service_net): its name and
 * aliases; service_add_net() adds one to a service at n's position. */
field_fn read_net_name, read_net_aliases;
struct service_net *service_add_net(struct service *s, const struct ynode *n);
/* The fields a cluster backend honours (input/cluster.c); obj is a
 * struct service.  read_service_placement reads {constraints: [...]}. */
field_fn read_replicas, read_mode, read_compose_mode, read_endpoint_mode,
	 read_constraints, read_service_placement, read_update_config,
	 read_rollback_config, read_compose_update_config,
	 read_compose_rollback_config, read_cpus_reservation;
/* NULL when c is a placement constraint Swarm understands, else why not. */
const char *manifest_check_constraint(const char *c);

/* A secret name and key are each one path component that is not hidden
 * (a secretKeyRef's, a compose secret's): NULL, or why not. */
const char *input_check_secret_part(const char *s);

/* Files of the source (input/repofile.c).  input_dir_of: the directory
 * part of path with its '/' ("" at the top); input_join_rel: dir + rel
 * normalised, NULL when it leaves the source (both the caller's). */
char *input_dir_of(const char *path);
char *input_join_rel(const char *dir, const char *rel);
/* Make v a File volume of the source path rel (relative to the directory
 * of the file `at` is written in: at->file, else c->file): a regular file
 * of c->snap, or a directory of them; false with the error at `at` when
 * it is absolute, leaves the source, is or holds a symbolic link, or is
 * not in the source. */
bool input_file_volume(struct pctx *c, const struct ynode *at,
		       struct volume *v, const char *rel);
/* Sort v's files and set v->digest ("sha256-HEX" of layout, mode, data). */
void files_digest(struct volume *v);
/*
 * .dockerignore (input/repofile.c): patterns, one a line ('#' comments,
 * '!' exceptions, '**' any number of directories), the last that matches
 * a path or one of its parent directories deciding.  Does the file at
 * path (relative to the context) stay out of the build context?
 */
bool dockerignore_excludes(const struct strvec *patterns, const char *path);
/* The images a Dockerfile's FROM lines name, with ":latest" where no tag
 * or digest is written; not a stage of its own, not one with a ${ARG}, not
 * scratch. */
void dockerfile_from_images(const char *text, size_t len, struct strvec *out);
/* The patterns of a .dockerignore's text (cleaned; '!' kept in front). */
void dockerignore_parse(const char *text, size_t len, struct strvec *out);

/*
 * A project a reader has filled (*p is taken): checked as a whole and
 * added to the set, invalid when an error named it (c->bad); one that
 * could not be named (its name reported as required or invalid) is freed
 * and makes the set incomplete, so nothing is pruned on its account.
 */
void reader_add_project(struct pctx *c, struct project *p);

/* The readers: one document each.  compose_read_document reads c->file
 * as a compose project (input/compose.c); c->snap, when set, holds its
 * sibling files (.env, env_file).  It resolves merge keys in root's tree,
 * which it may therefore change. */
void caravan_read_document(struct pctx *c, const struct ynode *root);
void compose_read_document(struct pctx *c, struct ynode *root);

/* input/compose.c: merge keys resolved in n's tree (paths of the source:
 * input_dir_of and input_join_rel, input/repofile.c). */
void compose_merge_keys(struct pctx *c, struct ynode *n);

/*
 * input/merge.c: the files of c->file's compose project merged into
 * root, as compose merges them: its includes, its services' extends, then
 * the override file beside it (compose_override_names, of its family).
 * Nodes from other files name them (ynode.file).
 */
#define COMPOSE_OVERRIDE_NAMES 4
#define COMPOSE_MAX_FILES 64                 /* parsed per project */
#define COMPOSE_MAX_NODES ((size_t)1 << 20)  /* parsed or copied per project */
/* compose.override.yaml, .yml (for compose.*), then docker-compose.* */
extern const char *const compose_override_names[COMPOSE_OVERRIDE_NAMES];
int compose_override_rank(const char *name);
void compose_assemble(struct pctx *c, struct ynode *root);

#endif
