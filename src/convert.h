/*
 * convert.h - a Project of the model written back as a caravanserai/v1
 * manifest (`cara convert`): every field the model holds, in the
 * manifest's spelling, a field at its default left out.
 */
#ifndef CARA_CONVERT_H
#define CARA_CONVERT_H

#include "model.h"
#include "util.h"

/*
 * Append p as one YAML document (without the "---" line).  Reading it
 * back with the same options gives the same model, positions aside.
 * Values are written as cara resolved them (${VAR} interpolated, '$'
 * written as "$$" so nothing is interpolated again); a secret is its
 * valueFrom.secretKeyRef, never a value.
 */
void convert_write_project(struct buf *out, const struct project *p);

#endif
