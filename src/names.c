/*
 * names.c - Docker object names (names.h).
 */
#include <string.h>

#include "names.h"
#include "util.h"

char *name_network(const char *project)
{
	return xasprintf(NAME_PREFIX "%s", project);
}

char *name_project_network(const char *project, const char *n)
{
	if (!n || !strcmp(n, "default"))
		return name_network(project);
	return xasprintf(NAME_PREFIX "%s_%s", project, n);
}

char *name_container(const char *project, const char *service)
{
	return xasprintf("%s-%s", project, service);
}

char *name_volume(const char *project, const char *volume)
{
	return xasprintf(NAME_PREFIX "%s-%s", project, volume);
}

char *name_ingress_proxy(const char *owner)
{
	return xasprintf(NAME_PREFIX "ingress-%.12s", owner && *owner ? owner : "local");
}
