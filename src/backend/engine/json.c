/*
 * backend/engine/json.c - JSON in and out of the Engine: building request
 * bodies, reading answers, and the streamed forms (a list read element by
 * element, a pull's progress lines).
 */
#include "backend/engine/internal.h"

/* ---- JSON helpers: building ---- */

/*
 * jansson refuses keys and strings that are not UTF-8, and so does the
 * Engine; *bad records it and the request is not sent.
 */
void jset(json_t *o, const char *k, json_t *v, bool *bad)
{
	if (!v || json_object_set_new(o, k, v) < 0)
		*bad = true;
}

void jpush(json_t *a, json_t *v, bool *bad)
{
	if (!v || json_array_append_new(a, v) < 0)
		*bad = true;
}

json_t *jstr(const char *s)
{
	return json_string(s ? s : "");
}

json_t *jstrvec(const struct strvec *sv, bool *bad)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < sv->n; i++)
		jpush(a, jstr(sv->v[i]), bad);
	return a;
}

/* A label object {"k": "v"}. */
/* cara.project, cara.owner (when owner is not NULL) and one more pair. */
json_t *jlabels(const char *project, const char *owner, const char *k2,
		       const char *v2, bool *bad)
{
	json_t *o = json_object();

	jset(o, LABEL_PROJECT, jstr(project), bad);
	if (owner && *owner)
		jset(o, LABEL_OWNER, jstr(owner), bad);
	if (k2)
		jset(o, k2, jstr(v2), bad);
	return o;
}

/* Serialise and free root; NULL (error set) when it could not be built. */
char *jdump(json_t *root, bool bad, const char *what)
{
	char *s = NULL;

	if (!bad)
		s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!s)
		error_set("docker: %s: a name or value is not valid UTF-8", what);
	return s;
}

/* ---- JSON helpers: reading ---- */

const char *jget_str(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

long long jget_int(const json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? json_integer_value(v) : 0;
}

char *jdup(const json_t *o, const char *k)
{
	const char *s = jget_str(o, k);

	return xstrdup(s ? s : "");
}

void docker_pull_progress_init(struct docker_pull_progress *p)
{
	memset(p, 0, sizeof(*p));
	buf_init(&p->line);
}

void docker_pull_progress_release(struct docker_pull_progress *p)
{
	size_t i;

	buf_release(&p->line);
	free(p->error);
	p->error = NULL;
	for (i = 0; i < p->nlayers; i++)
		free(p->layers[i].id);
	free(p->layers);
	p->layers = NULL;
	p->nlayers = p->alloc = 0;
}

static struct docker_pull_layer *pull_layer(struct docker_pull_progress *p,
					    const char *id)
{
	struct docker_pull_layer *l;
	size_t i;

	for (i = 0; i < p->nlayers; i++)
		if (!strcmp(p->layers[i].id, id))
			return &p->layers[i];
	if (p->nlayers == p->alloc) {
		p->alloc = p->alloc ? p->alloc * 2 : 8;
		p->layers = xreallocarray(p->layers, p->alloc, sizeof(*p->layers));
	}
	l = &p->layers[p->nlayers++];
	memset(l, 0, sizeof(*l));
	l->id = xstrdup(id);
	return l;
}

/*
 * A layer's line: {"status":"Downloading","progressDetail":{"current":N,
 * "total":M},"id":"a1b2"}, then "Download complete", "Extracting", "Pull
 * complete"; "Already exists" for one that is there.  Lines that name the
 * image rather than a layer ("Pulling from library/busybox", id "1")
 * come before any layer line and say no "Pulling fs layer".
 */
static void progress_layer(struct docker_pull_progress *p, const json_t *j)
{
	const char *status = jget_str(j, "status"), *id = jget_str(j, "id");
	const json_t *detail = json_object_get(j, "progressDetail");
	struct docker_pull_layer *l;

	if (!status || !id)
		return;
	if (!strcmp(status, "Pulling fs layer") || !strcmp(status, "Waiting")) {
		pull_layer(p, id);
	} else if (!strcmp(status, "Downloading")) {
		l = pull_layer(p, id);
		if (jget_int(detail, "total") > 0)
			l->total = (int64_t)jget_int(detail, "total");
		if (jget_int(detail, "current") >= 0)
			l->current = (int64_t)jget_int(detail, "current");
	} else if (!strcmp(status, "Download complete") ||
		   !strcmp(status, "Verifying Checksum")) {
		l = pull_layer(p, id);
		if (l->total)
			l->current = l->total;
	} else if (!strcmp(status, "Pull complete") ||
		   !strcmp(status, "Already exists")) {
		l = pull_layer(p, id);
		if (l->total)
			l->current = l->total;
		l->done = true;
	}
}

void docker_pull_progress_summary(const struct docker_pull_progress *p,
				  struct buf *out)
{
	int64_t current = 0, total = 0;
	size_t i, done = 0;

	if (!p->nlayers) {
		buf_puts(out, "starting");
		return;
	}
	for (i = 0; i < p->nlayers; i++) {
		done += p->layers[i].done;
		current += p->layers[i].current;
		total += p->layers[i].total;
	}
	buf_printf(out, "%zu of %zu layer%s", done, p->nlayers,
		   p->nlayers == 1 ? "" : "s");
	if (total)
		buf_printf(out, ", %.1f of %.1f MB", (double)current / 1e6,
			   (double)total / 1e6);
}

/* Drop the first n bytes of a buffer. */
static void buf_consume(struct buf *b, size_t n)
{
	if (!n)
		return;
	memmove(b->ptr, b->ptr + n, b->len - n);
	b->len -= n;
	b->ptr[b->len] = '\0';
}

/* One progress line; anything but a JSON object with an error is progress. */
static void progress_line(struct docker_pull_progress *p, const char *line,
			  size_t len)
{
	json_t *j;
	const char *err;

	if (!len)
		return;
	j = json_loadb(line, len, 0, NULL);
	err = jget_str(j, "error");
	if (!err)
		err = jget_str(json_object_get(j, "errorDetail"), "message");
	if (err) {
		free(p->error);
		p->error = xstrdup(err);
	} else if (json_is_object(j)) {
		progress_layer(p, j);
	}
	json_decref(j);
}

int docker_pull_progress_feed(struct docker_pull_progress *p, const char *data,
			      size_t len, size_t max)
{
	size_t used = 0;
	const char *nl;

	if (p->line.len > max || len > max - p->line.len)
		return -1;
	buf_add(&p->line, data, len);
	while (used < p->line.len &&
	       (nl = memchr(p->line.ptr + used, '\n', p->line.len - used))) {
		progress_line(p, p->line.ptr + used,
			      (size_t)(nl - p->line.ptr) - used);
		used = (size_t)(nl - p->line.ptr) + 1;
	}
	buf_consume(&p->line, used);
	return 0;
}

int docker_pull_progress_finish(struct docker_pull_progress *p)
{
	struct buf msg = BUF_INIT;

	progress_line(p, p->line.ptr, p->line.len);
	buf_reset(&p->line);
	if (!p->error)
		return 0;
	engine_put_message(&msg, p->error, strlen(p->error));
	free(p->error);
	p->error = buf_detach(&msg);
	return -1;
}

/* ---- pure helpers: the elements of a JSON array ---- */

enum { ITEMS_START, ITEMS_FIRST, ITEMS_IN, ITEMS_AFTER, ITEMS_NEXT, ITEMS_END };

void docker_json_items_init(struct docker_json_items *it,
			    int (*fn)(void *arg, const char *item, size_t len),
			    void *arg)
{
	memset(it, 0, sizeof(*it));
	it->fn = fn;
	it->arg = arg;
	it->state = ITEMS_START;
}

void docker_json_items_release(struct docker_json_items *it)
{
	buf_release(&it->item);
	free(it->error);
	it->error = NULL;
}

static int items_fail(struct docker_json_items *it, const char *why)
{
	if (!it->error)
		it->error = xstrdup(why);
	return -1;
}

/* The element ends with p[0..n): hand it over whole. */
static int items_emit(struct docker_json_items *it, const char *p, size_t n,
		      size_t max)
{
	int rc;

	if (it->item.len) {
		if (n > max - it->item.len)
			return items_fail(it, "a list element is too large");
		buf_add(&it->item, p, n);
		rc = it->fn(it->arg, it->item.ptr, it->item.len);
		buf_reset(&it->item);
	} else {
		rc = it->fn(it->arg, p, n);   /* whole in this chunk: no copy */
	}
	if (rc < 0)
		return items_fail(it, error_last());
	it->count++;
	return 0;
}

static bool json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int docker_json_items_feed(struct docker_json_items *it, const char *data,
			   size_t len, size_t max)
{
	size_t i, from = 0;        /* data[from..i) belongs to the element */
	char c;

	if (it->error)
		return -1;
	for (i = 0; i < len; i++) {
		c = data[i];
		if (it->state != ITEMS_IN) {
			if (json_space(c))
				continue;
			switch (it->state) {
			case ITEMS_START:
				if (c != '[')
					return items_fail(it, "not a JSON array");
				it->state = ITEMS_FIRST;
				continue;
			case ITEMS_FIRST:
				if (c == ']') {
					it->state = ITEMS_END;
					continue;
				}
				break;
			case ITEMS_AFTER:
				if (c == ',') {
					it->state = ITEMS_NEXT;
					continue;
				}
				if (c == ']') {
					it->state = ITEMS_END;
					continue;
				}
				return items_fail(it, "',' or ']' expected after an element");
			case ITEMS_NEXT:
				if (c == ']' || c == ',')
					return items_fail(it, "an element expected after ','");
				break;
			default:
				return items_fail(it, "data after the end of the array");
			}
			it->state = ITEMS_IN;
			it->depth = 0;
			it->in_string = it->escape = false;
			from = i;
		}
		if (it->in_string) {
			if (it->escape)
				it->escape = false;
			else if (c == '\\')
				it->escape = true;
			else if (c == '"') {
				it->in_string = false;
				if (!it->depth) {
					if (items_emit(it, data + from, i + 1 - from, max) < 0)
						return -1;
					it->state = ITEMS_AFTER;
				}
			}
			continue;
		}
		switch (c) {
		case '"':
			it->in_string = true;
			break;
		case '{':
		case '[':
			it->depth++;
			break;
		case '}':
		case ']':
			if (!it->depth) {
				/* a number, true, false or null ends at the array's end */
				if (c == '}')
					return items_fail(it, "unbalanced '}'");
				if (items_emit(it, data + from, i - from, max) < 0)
					return -1;
				it->state = ITEMS_END;
			} else if (!--it->depth) {
				if (items_emit(it, data + from, i + 1 - from, max) < 0)
					return -1;
				it->state = ITEMS_AFTER;
			}
			break;
		case ',':
			if (!it->depth) {
				if (items_emit(it, data + from, i - from, max) < 0)
					return -1;
				it->state = ITEMS_NEXT;
			}
			break;
		default:
			if (!it->depth && json_space(c)) {
				if (items_emit(it, data + from, i - from, max) < 0)
					return -1;
				it->state = ITEMS_AFTER;
			}
			break;
		}
	}
	if (it->state == ITEMS_IN) {
		if (len - from > max - it->item.len)
			return items_fail(it, "a list element is too large");
		buf_add(&it->item, data + from, len - from);
	}
	return 0;
}

int docker_json_items_finish(struct docker_json_items *it)
{
	if (it->error)
		return -1;
	if (it->state == ITEMS_START)
		return items_fail(it, "an empty answer where a JSON array was expected");
	if (it->state != ITEMS_END)
		return items_fail(it, "the list ends before its closing ']'");
	return 0;
}
