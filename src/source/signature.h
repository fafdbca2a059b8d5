/*
 * signature.h - check a commit's signature against the signers an operator
 * allows (--verify-signatures): SSH signatures with ssh-keygen and an
 * allowed_signers file, GPG signatures with gpgv and a keyring of trusted
 * public keys.  The caller hands over the signature and the bytes it
 * signs (source/git.c takes both out of the commit object); no git type
 * crosses this interface.
 */
#ifndef CARA_SIGNATURE_H
#define CARA_SIGNATURE_H

#include <stddef.h>

struct signature_keys {
	const char *allowed_signers; /* ssh-keygen allowed_signers file; NULL: none */
	const char *gpg_keyring;     /* keyring for gpgv (gpg --export); NULL: none */
};

/*
 * Verify the armored signature sig (-----BEGIN SSH SIGNATURE----- or
 * -----BEGIN PGP SIGNATURE-----) over data.  0 with *signer_out, a new
 * string the caller frees, saying who signed ("alice@example.com with
 * ED25519 key SHA256:..." or "Alice <a@example.com> (GPG key 4599...)").
 * -1 with error_last() saying why not, in words that follow "refusing
 * commit X: " (signer not allowed, bad signature, no keys configured for
 * that kind of signature, ssh-keygen or gpgv missing and which package has
 * it).  The tools run without a shell, on copies in a private temporary
 * directory that is removed before returning.
 */
int signature_verify(char **signer_out, const char *sig, size_t siglen,
		     const char *data, size_t len, const struct signature_keys *keys);

#endif
