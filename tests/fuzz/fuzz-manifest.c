/*
 * fuzz-manifest.c - libFuzzer target: any bytes through the manifest
 * parser and validator, as one file of a source (a Project file, then a
 * compose file), then the queries the
 * planner makes.  Findings are expected; crashes, leaks, hangs and
 * sanitizer reports are not.
 *
 *   make tests/fuzz/fuzz-manifest CC=clang   (see tests/integration/t9500-fuzz.sh)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "input/manifest.h"

/* A fixed environment, so a run does not depend on the fuzzer's own. */
static const char *fuzz_getenv(const char *name, void *ctx)
{
	(void)ctx;
	if (!strcmp(name, "TAG"))
		return "1.2";
	if (!strcmp(name, "EMPTY"))
		return "";
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const roots[] = { "/srv/cara" };
	struct project_set set = PROJECT_SET_INIT;
	struct diags d = DIAGS_INIT;
	struct manifest_options opts;
	struct buf b = BUF_INIT;
	size_t i, j, *order;

	memset(&opts, 0, sizeof(opts));
	opts.getenv = fuzz_getenv;
	opts.hostpath_roots = roots;
	opts.nhostpath_roots = 1;
	opts.ingress_env = "test";
	opts.base_domain = "example.com";
	opts.max_file_bytes = 1 << 20;

	/* the same bytes as a Project file and as a compose file */
	manifest_parse_buffer(&set, "fuzz.yaml", (const char *)data, size, &opts, &d);
	manifest_parse_buffer(&set, "app/compose.yaml", (const char *)data, size,
			      &opts, &d);
	manifest_validate_set(&set, &d);
	diags_sort(&d);
	for (i = 0; i < d.n; i++) {
		diag_format(&b, &d.v[i]);
		buf_putc(&b, '\n');
	}
	for (i = 0; i < set.n; i++) {
		const struct project *p = &set.v[i];

		if (project_set_find(&set, p->name) == NULL)
			abort();
		order = xcalloc(p->nservices + 1, sizeof(*order));
		project_service_order(p, order);
		for (j = 0; j < p->nservices; j++)
			if (order[j] >= p->nservices ||
			    !project_find_service(p, p->services[order[j]].name))
				abort();
		for (j = 0; j < p->nvolumes; j++)
			if (!project_find_volume(p, p->volumes[j].name))
				abort();
		free(order);
	}
	buf_release(&b);
	diags_release(&d);
	project_set_release(&set);
	error_clear();
	return 0;
}
