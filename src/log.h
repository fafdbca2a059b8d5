/*
 * log.h - one line per action on stderr: human ("cara: web: create
 * container web-app") or JSON lines for journald and log shippers.
 * Thread-safe (apply workers log concurrently).
 */
#ifndef CARA_LOG_H
#define CARA_LOG_H

#include "util.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_setup(bool json, bool verbose);
/* Whether progress lines of long steps are wanted: human lines on a
 * terminal (set by log_setup). */
bool log_progress(void);
/* The last error logged ("" if none); the caller frees.  Ends the record. */
char *log_last_error(void);
/* Manifest findings on stderr: FILE:LINE:COL lines, or JSON lines under
 * --log-format json. */
void log_diags(const struct diags *d);
bool log_is_json(void);
/* project may be NULL. */
void log_msg(enum log_level lvl, const char *project, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

#endif
