/*
 * output.c - renderings for people (tables, +/~/- plans, colour on a
 * terminal unless NO_COLOR) and for machines (JSON).  Nothing here does
 * I/O except output_write_stdout(); secret values never reach this module,
 * only names and field groups.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "output.h"

bool output_use_color(int fd, bool no_color)
{
	const char *nc = getenv("NO_COLOR");

	if (no_color || (nc && *nc))
		return false;
	return isatty(fd) == 1;
}

void output_diags_text(struct buf *out, const struct diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		diag_format(out, &d->v[i]);
		buf_putc(out, '\n');
	}
}

void output_diags_json(struct buf *out, const struct diags *d)
{
	size_t i;

	buf_putc(out, '[');
	for (i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];

		buf_puts(out, i ? ",\n  {" : "\n  {");
		buf_puts(out, "\"severity\": ");
		buf_json_str(out, g->severity == DIAG_ERROR ? "error" : "warning");
		buf_puts(out, ", \"file\": ");
		buf_json_str(out, g->file);
		buf_printf(out, ", \"line\": %d, \"column\": %d, \"field\": ", g->line,
			   g->col);
		buf_json_str(out, g->path);
		buf_puts(out, ", \"message\": ");
		buf_json_str(out, g->message);
		buf_putc(out, '}');
	}
	buf_puts(out, d->n ? "\n]\n" : "]\n");
}

int output_write_stdout(const struct buf *b)
{
	if (b->len && fwrite(b->ptr, 1, b->len, stdout) != b->len)
		return error_set("cannot write to standard output");
	if (fflush(stdout) != 0 || ferror(stdout))
		return error_set("cannot write to standard output");
	return 0;
}
