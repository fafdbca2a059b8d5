/*
 * report.c - metrics file and webhook.  See report.h.
 *
 * The metrics file is replaced with rename(2) so a scraper never reads a
 * half-written file.  The webhook URL may carry a token: it is never
 * logged, only its host.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "log.h"
#include "phase.h"
#include "report.h"


static const enum action_kind kinds[] = {
	ACTION_CREATE_NETWORK, ACTION_CREATE_VOLUME, ACTION_PULL_IMAGE, ACTION_BUILD_IMAGE,
	ACTION_CREATE_CONTAINER, ACTION_START_CONTAINER, ACTION_RECREATE_CONTAINER,
	ACTION_CONNECT_CONTAINER, ACTION_RETYPE_VOLUME,
	ACTION_REMOVE_CONTAINER, ACTION_REMOVE_NETWORK, ACTION_REMOVE_VOLUME,
	ACTION_UPDATE_CONTAINER, ACTION_RESTART_CONTAINER, ACTION_REMOVE_OBJECT,
};

void report_metrics_text(struct buf *out, const struct pass_summary *s)
{
	size_t i, j;

	buf_puts(out, "# HELP cara_pass_duration_seconds Wall time of the last pass.\n"
		 "# TYPE cara_pass_duration_seconds gauge\n");
	buf_printf(out, "cara_pass_duration_seconds{command=\"%s\"} %.3f\n", s->command,
		   s->duration_s);
	buf_puts(out, "# HELP cara_pass_exit_code Exit status of the last pass.\n"
		 "# TYPE cara_pass_exit_code gauge\n");
	buf_printf(out, "cara_pass_exit_code{command=\"%s\"} %d\n", s->command, s->exit_code);
	buf_puts(out, "# HELP cara_pass_outcome The last pass's outcome (1 for the one it had).\n"
		 "# TYPE cara_pass_outcome gauge\n");
	buf_printf(out, "cara_pass_outcome{command=\"%s\",outcome=\"%s\"} 1\n", s->command,
		   s->outcome);
	buf_puts(out, "# HELP cara_pass_timestamp_seconds When the last pass ended.\n"
		 "# TYPE cara_pass_timestamp_seconds gauge\n");
	buf_printf(out, "cara_pass_timestamp_seconds %lld\n", (long long)s->ended);
	buf_puts(out, "# HELP cara_last_success_timestamp_seconds When a pass last converged.\n"
		 "# TYPE cara_last_success_timestamp_seconds gauge\n");
	buf_printf(out, "cara_last_success_timestamp_seconds %lld\n",
		   (long long)s->last_success);
	buf_puts(out, "# HELP cara_projects Projects by phase.\n"
		 "# TYPE cara_projects gauge\n");
	for (i = 0; i < PHASE_COUNT; i++) {
		size_t n = 0;
		for (j = 0; j < s->nprojects; j++)
			if (s->projects[j].phase &&
			    !strcmp(s->projects[j].phase, phase_name((enum phase)i)))
				n++;
		buf_printf(out, "cara_projects{phase=\"%s\"} %zu\n",
			   phase_name((enum phase)i), n);
	}
	buf_puts(out, "# HELP cara_actions Actions the last pass planned, by kind.\n"
		 "# TYPE cara_actions gauge\n");
	for (i = 0; i < ARRAY_SIZE(kinds); i++) {
		size_t n = 0;
		for (j = 0; s->plan && j < s->plan->nactions; j++)
			if (s->plan->actions[j].kind == kinds[i])
				n++;
		buf_printf(out, "cara_actions{kind=\"%s\"} %zu\n", action_kind_name(kinds[i]), n);
	}
	buf_puts(out, "# HELP cara_source_info The commit the last pass applied.\n"
		 "# TYPE cara_source_info gauge\n");
	buf_printf(out, "cara_source_info{commit=\"%s\"} 1\n", s->commit ? s->commit : "");
}

int report_metrics_write(const char *file, const struct pass_summary *s)
{
	struct buf text = BUF_INIT;
	int rc;

	report_metrics_text(&text, s);
	rc = write_file_atomic(file, text.ptr ? text.ptr : "", text.len, 0644,
			       "metrics file");
	buf_release(&text);
	return rc;
}

void report_notify_json(struct buf *out, const struct pass_summary *s)
{
	struct buf text = BUF_INIT;
	const struct pass_counts *c = s->counts;
	size_t i;

	buf_printf(&text, "cara %s on %s: %s", s->command, s->node ? s->node : "?",
		   s->outcome);
	if (c)
		buf_printf(&text, " (%u created, %u recreated, %u started, %u removed, "
			   "%u failed)", c->created, c->recreated, c->started, c->removed,
			   c->projects_failed);
	if (s->commit && *s->commit)
		buf_printf(&text, " at %.12s", s->commit);
	buf_puts(out, "{\"text\": ");
	buf_json_str(out, buf_cstr(&text));
	buf_puts(out, ", \"node\": ");
	buf_json_str(out, s->node ? s->node : "");
	buf_puts(out, ", \"command\": ");
	buf_json_str(out, s->command);
	buf_puts(out, ", \"outcome\": ");
	buf_json_str(out, s->outcome);
	buf_printf(out, ", \"exitCode\": %d, \"durationSeconds\": %.3f, \"commit\": ",
		   s->exit_code, s->duration_s);
	buf_json_str(out, s->commit ? s->commit : "");
	if (c)
		buf_printf(out, ", \"counts\": {\"created\": %u, \"recreated\": %u, "
			   "\"started\": %u, \"removed\": %u, \"failed\": %u, "
			   "\"tornDown\": %u}", c->created, c->recreated, c->started,
			   c->removed, c->projects_failed, c->torn_down);
	buf_puts(out, ", \"projects\": [");
	for (i = 0; i < s->nprojects; i++) {
		buf_puts(out, i ? ", {\"name\": " : "{\"name\": ");
		buf_json_str(out, s->projects[i].name);
		buf_puts(out, ", \"phase\": ");
		buf_json_str(out, s->projects[i].phase ? s->projects[i].phase : "");
		buf_puts(out, ", \"reason\": ");
		buf_json_str(out, s->projects[i].reason ? s->projects[i].reason : "");
		buf_putc(out, '}');
	}
	buf_puts(out, "]}\n");
	buf_release(&text);
}

static size_t discard(char *p, size_t sz, size_t n, void *u)
{
	(void)p; (void)u;
	return sz * n;
}

int report_notify(const char *url, const struct pass_summary *s)
{
	struct buf body = BUF_INIT;
	struct curl_slist *hdr = NULL;
	CURL *c = curl_easy_init();
	CURLcode cc;
	long status = 0;
	int rc = -1;

	if (!c)
		return error_set("notify: cannot initialise libcurl");
	report_notify_json(&body, s);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	if (!hdr) {
		error_set("notify: out of memory");
		goto out;
	}
	if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDS, buf_cstr(&body)) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body.len) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK) {
		error_set("notify: cannot set up the request");
		goto out;
	}
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		error_set("notify: %s", curl_easy_strerror(cc));
		goto out;
	}
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK ||
	    status >= 300) {
		error_set("notify: webhook answered HTTP %ld", status);
		goto out;
	}
	rc = 0;
out:
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	buf_release(&body);
	return rc;
}
