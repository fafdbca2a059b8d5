/*
 * auth.h - registry credentials for image pulls (the Engine's, and any
 * backend's that pulls with X-Registry-Auth): read where operators keep
 * them (the Docker CLI's config.json, or a file of the same format given
 * with --registry-auth-file), matched to an image reference's registry
 * the way the Docker CLI matches them, and turned into the header value.
 *
 * Credentials are secrets: every buffer that held one is wiped, and no
 * message, log line or state row carries one.
 */
#ifndef CARA_AUTH_H
#define CARA_AUTH_H

#include "util.h"

/* Docker Hub's name, as auth_registry_of and auth_key_host give it. */
#define AUTH_HUB "docker.io"
/* ... and the key the Docker CLI writes for it in config.json. */
#define AUTH_HUB_KEY "https://index.docker.io/v1/"

/* The credentials of one registry for one pull. */
struct auth_creds {
	char *registry;     /* "127.0.0.1:5000", AUTH_HUB */
	char *config;       /* the file read (or looked for): for messages */
	bool given;         /* config is the --registry-auth-file */
	char *from;         /* where the credentials came from: the file, or
			     * "docker-credential-NAME"; NULL when none */
	struct buf header;  /* X-Registry-Auth value; empty: anonymous. Secret */
};

/*
 * The registry of an image reference: AUTH_HUB for a reference without a
 * domain and for Hub's aliases (docker.io, index.docker.io,
 * registry-1.docker.io), else the domain as written ("host:5000",
 * "localhost", "ghcr.io"), lower-cased.  Caller frees.
 */
char *auth_registry_of(const char *ref);
/*
 * A config.json key as a registry name: scheme ("https://", "http://")
 * and path dropped, lower-cased, Hub's aliases and AUTH_HUB_KEY as
 * AUTH_HUB.  Caller frees.
 */
char *auth_key_host(const char *key);

/*
 * Append the X-Registry-Auth value (base64url of the JSON
 * {"username","password","serveraddress"}, or {"identitytoken",
 * "serveraddress"} when token is not NULL) to out, a buffer the caller
 * wipes.
 */
void auth_header_encode(struct buf *out, const char *username,
			const char *password, const char *token,
			const char *serveraddress);

/*
 * Find the credentials for pulling ref.  file: the --registry-auth-file
 * (it must exist), or NULL for the Docker CLI's config of the user running
 * cara ($DOCKER_CONFIG/config.json, else ~/.docker/config.json; a missing
 * one means none).  0 with *out filled (header empty when there are none
 * for that registry: an anonymous pull), or -1 with error_last() naming
 * the file or the credential helper and why (not JSON, too large, not a
 * regular file, a helper that failed, hung or said too much); *out is
 * then still to be released.
 */
int auth_lookup(struct auth_creds *out, const char *file, const char *ref);
/* Wipe the header and free the rest; the struct may be reused. */
void auth_creds_release(struct auth_creds *c);

/*
 * The message for a pull the registry refused (the Engine's text in
 * engine_msg, which is not repeated): the credentials were refused, or
 * none were found and how to give some.
 */
void auth_refused_message(struct buf *out, const struct auth_creds *c,
			  const char *engine_msg);
/*
 * If engine_msg says the registry's TLS certificate is not trusted (x509),
 * append to out what that means and where the Engine looks for the CA,
 * and return true; else false, out untouched.
 */
bool auth_untrusted_message(struct buf *out, const struct auth_creds *c,
			    const char *engine_msg);

#endif
