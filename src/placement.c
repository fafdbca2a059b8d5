/*
 * placement.c - the placement decision (placement.h).
 *
 * Pure: no I/O, no clock, no globals.  The planner calls it once per
 * valid project per pass; everything a host does differently because of
 * placement follows from this one function.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "placement.h"
#include "util.h"

static const char *host_label(const struct placement_host *h, const char *key)
{
	size_t i;

	for (i = 0; h->labels && i < h->labels->n; i++)
		if (!strcmp(h->labels->v[i].key, key))
			return h->labels->v[i].value;
	return NULL;
}

enum placement_verdict
placement_decide(const struct project_placement *pl,
		 const struct placement_host *h, char **why)
{
	size_t i;

	if (why)
		*why = NULL;
	if (!pl || !pl->present)
		return PLACEMENT_HERE;
	if (pl->node && (!h->node || strcasecmp(pl->node, h->node))) {
		if (why)
			*why = h->node ?
			       xasprintf("placed on node '%s' (this host is '%s')",
					 pl->node, h->node) :
			       xasprintf("placed on node '%s' (this host has no "
					 "node name)", pl->node);
		return PLACEMENT_ELSEWHERE;
	}
	for (i = 0; i < pl->selector.n; i++) {
		const struct kv *want = &pl->selector.v[i];
		const char *have = host_label(h, want->key);

		if (have && !strcmp(have, want->value))
			continue;
		if (why)
			*why = have ?
			       xasprintf("nodeSelector %s=%s: this host's label %s "
					 "is '%s'", want->key, want->value,
					 want->key, have) :
			       xasprintf("nodeSelector %s=%s: this host has no "
					 "label %s", want->key, want->value,
					 want->key);
		return PLACEMENT_ELSEWHERE;
	}
	return PLACEMENT_HERE;
}

static bool all_of(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(extra, *s))
			return false;
	return true;
}

static bool alnum_ends(const char *s)
{
	size_t n = strlen(s);

	return n && isalnum((unsigned char)s[0]) && isalnum((unsigned char)s[n - 1]);
}

const char *placement_check_node(const char *s)
{
	if (!*s)
		return "empty";
	if (strlen(s) > 253)
		return "longer than 253 characters";
	if (!all_of(s, ".-_"))
		return "only letters, digits, '.', '-' and '_' are allowed";
	if (!alnum_ends(s))
		return "must start and end with a letter or digit";
	return NULL;
}

const char *placement_check_label_key(const char *s)
{
	if (!*s)
		return "empty";
	if (strlen(s) > 253)
		return "longer than 253 characters";
	if (!all_of(s, ".-_/"))
		return "only letters, digits, '.', '-', '_' and '/' are allowed";
	if (!alnum_ends(s))
		return "must start and end with a letter or digit";
	return NULL;
}

const char *placement_check_label_value(const char *s)
{
	if (strlen(s) > 63)
		return "longer than 63 characters";
	if (!all_of(s, ".-_"))
		return "only letters, digits, '.', '-' and '_' are allowed";
	if (*s && !alnum_ends(s))
		return "must start and end with a letter or digit";
	return NULL;
}

static char *trimmed(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

int placement_parse_labels(struct kvlist *out, const char *s)
{
	size_t i, n;

	while (s && *s) {
		char *item, *eq, *key, *value;
		const char *why;
		int rc = 0;

		n = strcspn(s, ",");
		item = trimmed(s, n);
		s += n;
		if (*s)
			s++;
		if (!*item) {
			free(item);
			continue;
		}
		if (!(eq = strchr(item, '='))) {
			rc = error_set("--node-labels: '%.64s' is not KEY=VALUE", item);
			free(item);
			return rc;
		}
		key = trimmed(item, (size_t)(eq - item));
		value = trimmed(eq + 1, strlen(eq + 1));
		if ((why = placement_check_label_key(key)))
			rc = error_set("--node-labels: label key '%.64s': %s", key, why);
		else if ((why = placement_check_label_value(value)))
			rc = error_set("--node-labels: value '%.64s' of label %s: %s",
				       value, key, why);
		for (i = 0; !rc && i < out->n; i++)
			if (!strcmp(out->v[i].key, key))
				rc = error_set("--node-labels: label %s is given twice",
					       key);
		free(item);
		if (rc) {
			free(key);
			free(value);
			return rc;
		}
		GROW(out->v, out->cap, out->n + 1);
		memset(&out->v[out->n], 0, sizeof(out->v[out->n]));
		out->v[out->n].key = key;
		out->v[out->n].value = value;
		out->n++;
	}
	return 0;
}
