/*
 * yaml_out.h - writing YAML by hand: block mappings and sequences with
 * scalars quoted exactly when a YAML reader (1.1 or 1.2) could take them
 * for anything but the same string.  For `cara convert`.
 */
#ifndef CARA_YAML_OUT_H
#define CARA_YAML_OUT_H

#include <stdbool.h>

#include "util.h"

/* Would s, written plain, read back as the same string in any YAML? */
bool yaml_out_plain_ok(const char *s);
/* Append s as a scalar: plain when yaml_out_plain_ok, else double-quoted
 * with escapes (control characters, line separators, non-characters). */
void yaml_out_scalar(struct buf *out, const char *s);

#endif
