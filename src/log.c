/*
 * log.c - action log lines on stderr.  Human lines look like
 *   cara: demo-shop: create container demo-shop-web
 * and JSON lines carry time, level, project and message for journald and
 * log shippers.  A mutex keeps lines from concurrent workers whole.
 *
 * Progress of long steps (waiting for health, for a job, an image pull) is
 * worth a line every few seconds to a person at a terminal, and noise in a
 * journal: log_progress() says whether to write it (human format, stderr a
 * terminal).
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static bool log_json;
static struct buf last_error;   /* the last LOG_ERROR message, under log_lock */
static bool log_verbose;
static bool log_tty;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_setup(bool json, bool verbose)
{
	log_json = json;
	log_verbose = verbose;
	log_tty = !json && isatty(STDERR_FILENO) == 1;
}

bool log_progress(void)
{
	return log_tty;
}

/* The start of a JSON log line: {"time":...,"level":... */
static void json_head(struct buf *line, const char *level)
{
	char ts[21];

	format_rfc3339((int64_t)time(NULL), ts);
	buf_puts(line, "{\"time\":");
	buf_json_str(line, ts);
	buf_puts(line, ",\"level\":");
	buf_json_str(line, level);
}

void log_msg(enum log_level lvl, const char *project, const char *fmt, ...)
{
	static const char *names[] = { "debug", "info", "warning", "error" };
	struct buf msg = BUF_INIT, line = BUF_INIT;
	va_list ap;

	if (lvl == LOG_DEBUG && !log_verbose)
		return;
	va_start(ap, fmt);
	buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (log_json) {
		json_head(&line, names[lvl]);
		if (project) {
			buf_puts(&line, ",\"project\":");
			buf_json_str(&line, project);
		}
		buf_puts(&line, ",\"msg\":");
		buf_json_str(&line, buf_cstr(&msg));
		buf_puts(&line, "}\n");
	} else {
		buf_puts(&line, "cara: ");
		if (lvl == LOG_WARN || lvl == LOG_ERROR)
			buf_printf(&line, "%s: ", names[lvl]);
		if (project)
			buf_printf(&line, "%s: ", project);
		buf_text_safe(&line, buf_cstr(&msg));
		buf_putc(&line, '\n');
	}
	pthread_mutex_lock(&log_lock);
	if (lvl == LOG_ERROR) {
		buf_reset(&last_error);
		buf_puts(&last_error, buf_cstr(&msg));
	}
	fputs(buf_cstr(&line), stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
	buf_release(&msg);
	buf_release(&line);
}

char *log_last_error(void)
{
	char *s;

	pthread_mutex_lock(&log_lock);
	s = xstrdup(buf_cstr(&last_error));
	buf_release(&last_error);
	pthread_mutex_unlock(&log_lock);
	return s;
}

void log_diags(const struct diags *d)
{
	struct buf out = BUF_INIT;
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];

		if (!log_json) {
			diag_format(&out, g);
			buf_putc(&out, '\n');
			continue;
		}
		/* --log-format json: every stderr line is JSON, findings too */
		json_head(&out, g->severity == DIAG_ERROR ? "error" : "warning");
		buf_puts(&out, ",\"file\":");
		buf_json_str(&out, g->file);
		buf_printf(&out, ",\"line\":%d,\"column\":%d,\"field\":", g->line, g->col);
		buf_json_str(&out, g->path);
		buf_puts(&out, ",\"msg\":");
		buf_json_str(&out, g->message);
		buf_puts(&out, "}\n");
	}
	pthread_mutex_lock(&log_lock);
	fputs(buf_cstr(&out), stderr);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
	buf_release(&out);
}

bool log_is_json(void)
{
	return log_json;
}
