/*
 * backend/engine/stream.c - the Engine's event stream (GET /events): one
 * line an event, parsed as it arrives (events.c keeps what it says).
 */
#include "backend/engine/internal.h"

/* ---- events ---- */

int docker_time_ns(const char *s, int64_t *out_ns)
{
	int64_t secs, frac = 0;
	const char *p;
	int digits = 0;

	if (parse_rfc3339(s, &secs) < 0)
		return -1;
	/* parse_rfc3339 checked the shape: a fraction follows the seconds */
	p = s + 19;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			if (digits < 9) {
				frac = frac * 10 + (*p - '0');
				digits++;
			}
	for (; digits < 9; digits++)
		frac *= 10;
	if (secs > INT64_MAX / 1000000000 - 1 || secs < INT64_MIN / 1000000000 + 1)
		return -1;
	*out_ns = secs * 1000000000 + frac;
	return 0;
}

int docker_event_parse(struct docker_event *out, const char *line, size_t len)
{
	static const struct {
		const char *action;
		enum docker_event_kind kind;
	} kinds[] = {
		{ "create", DOCKER_EVENT_CREATE },
		{ "start", DOCKER_EVENT_START },
		{ "die", DOCKER_EVENT_DIE },
		{ "destroy", DOCKER_EVENT_DESTROY },
	};
	json_error_t je;
	json_t *j = json_loadb(line, len, 0, &je), *actor, *attrs;
	const char *type, *action, *id, *name, *code;
	long long ns;
	size_t i;
	int rc = 1;

	memset(out, 0, sizeof(*out));
	if (!j || !json_is_object(j)) {
		rc = error_set("docker: events: unreadable event message: %s",
			       j ? "not an object" : je.text);
		goto out;
	}
	actor = json_object_get(j, "Actor");
	attrs = json_object_get(actor, "Attributes");
	type = jget_str(j, "Type");
	action = jget_str(j, "Action");
	id = jget_str(actor, "ID");
	name = jget_str(attrs, "name");
	if (!type || !action || !id || !name) {
		rc = error_set("docker: events: an event message without Type, "
			       "Action, Actor.ID or its name");
		goto out;
	}
	if (strcmp(type, "container") || strlen(id) >= sizeof(out->id) ||
	    strlen(name) >= sizeof(out->name))
		goto out;
	if (!strncmp(action, "health_status: ", 15)) {
		if (strlen(action + 15) >= sizeof(out->health))
			goto out;
		out->kind = DOCKER_EVENT_HEALTH;
		snprintf(out->health, sizeof(out->health), "%s", action + 15);
	} else {
		for (i = 0; i < ARRAY_SIZE(kinds) && strcmp(action, kinds[i].action); i++)
			;
		if (i == ARRAY_SIZE(kinds))
			goto out;
		out->kind = kinds[i].kind;
	}
	if (out->kind == DOCKER_EVENT_DIE) {
		long long c;

		code = jget_str(attrs, "exitCode");
		if (!code || parse_ll(code, INT32_MIN, INT32_MAX, &c) < 0) {
			rc = error_set("docker: events: a die event without its "
				       "exitCode");
			goto out;
		}
		out->exit_code = (int)c;
	}
	snprintf(out->id, sizeof(out->id), "%s", id);
	snprintf(out->name, sizeof(out->name), "%s", name);
	ns = jget_int(j, "timeNano");
	out->time_ns = ns > 0 ? ns : jget_int(j, "time") * 1000000000LL;
	rc = 0;
out:
	json_decref(j);
	return rc;
}

int docker_events_stream(struct docker *d, int64_t since_s,
			 void (*fn)(void *arg, const struct docker_event *ev),
			 void (*up)(void *arg), void *arg)
{
	static const char filters[] =
		"{\"type\":[\"container\"],\"label\":[\"" LABEL_PROJECT "\"],"
		"\"event\":[\"create\",\"start\",\"die\",\"destroy\",\"health_status\"]}";
	struct req r = { .method = "GET", .endless = true, .cancellable = true };
	const char *what = "watch events";
	struct buf path = BUF_INIT;
	bool cancelled;
	long code;
	int rc = -1;

	buf_printf(&path, "/events?since=%lld&filters=", (long long)since_s);
	docker_url_escape(&path, filters, false);
	r.path = buf_cstr(&path);
	d->ev_fn = fn;
	d->ev_up = up;
	d->ev_arg = arg;
	d->ev_upped = d->ev_bad = false;
	buf_reset(&d->ev_line);
	rc = engine_perform(d, &r, what, &code);
	pthread_mutex_lock(&d->cancel_mu);
	cancelled = d->cancelled;
	pthread_mutex_unlock(&d->cancel_mu);
	if (cancelled) {
		rc = 0;
		goto out;
	}
	if (d->ev_bad) {
		char *why = xstrdup(error_last());

		rc = error_set("docker: %s: %s", what, why);
		free(why);
		goto out;
	}
	if (rc < 0)
		goto out;
	if (code != 200)
		rc = engine_http_error(d, what, code);
	else
		rc = error_set("docker: %s: the Engine ended the stream", what);
out:
	d->ev_fn = NULL;
	d->ev_up = NULL;
	buf_release(&d->ev_line);
	buf_release(&path);
	return rc < 0 ? -1 : 0;
}
