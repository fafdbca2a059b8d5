#!/bin/sh
# --verify-signatures on a git repository: commits signed with an SSH key of
# the allowed signers file or a GPG key of the keyring are applied; an
# unsigned commit, one signed by another key and a signature over other
# data are refused (exit 1, nothing changed, the pass recorded as a source
# error); flags, CARA_* variables and file keys; off by default.
. "$srcdir/tests/lib.sh"

for tool in ssh-keygen gpg gpgv; do
	if ! command -v $tool >/dev/null 2>&1; then
		test_skip 'commit signatures' "$tool missing"
		test_done
		exit 0
	fi
done

P="$UNIQ-s"
R="$TEST_DIR/remote.git"
W="$TEST_DIR/work"
K="$TEST_DIR/keys"
URL="file://$R"
git init -q --bare -b main "$R"
git init -q -b main "$W"
mkdir -p "$K" "$W/stacks"
g() { git -C "$W" -c user.name=t -c user.email=t@localhost "$@"; }
# commit_as KEY MESSAGE: commit everything, signed with the SSH key KEY
# ("-" for no signature), push, print the commit id
commit_as() {
	g add -A
	if [ "$1" = - ]; then
		g commit -q -m "$2"
	else
		g -c gpg.format=ssh -c user.signingkey="$K/$1.pub" commit -q -S -m "$2"
	fi
	g push -q -f origin HEAD
	g rev-parse HEAD
}
project() {   # project VALUE
	sleeper_project "$P" "$1" > "$W/stacks/s.yaml"
}
short() { echo "$1" | cut -c1-12; }
env_of() { docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$P-s" | sed -n 's/^V=//p'; }

ssh-keygen -q -t ed25519 -N '' -C alice -f "$K/alice"
ssh-keygen -q -t ed25519 -N '' -C mallory -f "$K/mallory"
echo "alice@example.com namespaces=\"git\" $(cat "$K/alice.pub")" > "$K/allowed_signers"
export GNUPGHOME="$TEST_DIR/gnupg"   # for git and gpg here; cara uses its own
mkdir -m 700 "$GNUPGHOME"
gpg --batch -q --passphrase '' --quick-gen-key 'Alice <alice@example.com>' ed25519 sign never 2>/dev/null
gpg --batch -q --export > "$K/keyring.gpg"
: > "$K/empty.gpg"
g remote add origin "$R"
project zero
unsigned=$(commit_as - "unsigned start")
SSH="--verify-signatures --allowed-signers $K/allowed_signers"

test_expect_success 'off by default: an unsigned commit is applied as ever' '
	expect_exit 0 $CARA validate --repo "$URL" --path stacks 2>err &&
	expect_not_contains err "signed" &&
	$CARA config --output json >cfg &&
	grep -q "\"key\": \"verify-signatures\", \"value\": \"false\", \"origin\": \"default\"" cfg
'

test_expect_success '--verify-signatures without keys is a configuration error' '
	expect_exit 1 $CARA validate --repo "$URL" --verify-signatures 2>err &&
	expect_contains err "--verify-signatures needs the keys to trust" &&
	expect_contains err "--allowed-signers" && expect_contains err "--gpg-keyring"
'

test_expect_success 'an unsigned commit is refused' '
	expect_exit 1 $CARA validate --repo "$URL" --path stacks $SSH 2>err &&
	expect_contains err "refusing commit $(short $unsigned): not signed"
'

test_expect_success 'signed by an allowed SSH key: sync applies it and logs the signer' '
	project one && signed=$(commit_as alice "signed by alice") &&
	echo "$signed" >signed &&
	$CARA sync --repo "$URL" --path stacks $SSH 2>err &&
	expect_contains err "source: commit $(short $signed) is signed by alice@example.com with ED25519 key SHA256:" &&
	expect_state $P-s running && [ "$(env_of)" = one ]
'

test_expect_success 'an unsigned commit on top: sync refuses it, nothing changes' '
	signed=$(cat signed) &&
	id=$(docker inspect -f "{{.Id}}" $P-s) &&
	project two && top=$(commit_as - "unsigned on top") &&
	expect_exit 1 $CARA sync --repo "$URL" --path stacks $SSH 2>err &&
	expect_contains err "refusing commit $(short $top): not signed" &&
	expect_contains err "nothing was changed on this host" &&
	[ "$(docker inspect -f "{{.Id}}" $P-s)" = "$id" ] && [ "$(env_of)" = one ] &&
	[ "$(sqlite3 "$CARA_STATE_DIR/state.db" "select outcome from passes order by id desc limit 1")" = source-error ] &&
	$CARA status >out &&
	grep -E "^$P +Running +ContainersRunning +$(echo $signed | cut -c1-7)" out
'

test_expect_success 'with --offline-ok the cached tip is checked as well' '
	mv "$R" "$R.away" &&
	expect_exit 1 $CARA diff --repo "$URL" --path stacks $SSH --offline-ok >out 2>err &&
	expect_contains err "cached copy cannot be used either" &&
	expect_contains err "not signed" &&
	mv "$R.away" "$R"
'

test_expect_success 'signed by a key not among the allowed signers: refused' '
	project three && bad=$(commit_as mallory "signed by mallory") &&
	fp=$(ssh-keygen -lf "$K/mallory.pub" | cut -d" " -f2) &&
	expect_exit 1 $CARA diff --repo "$URL" --path stacks $SSH >out 2>err &&
	expect_contains err "refusing commit $(short $bad): signer not allowed: ED25519 key $fp is not in the allowed signers file" &&
	! test -s out
'

test_expect_success 'a signature over other data (a rewritten message): refused' '
	signed=$(cat signed) &&
	forged=$(git -C "$W" cat-file commit $signed | sed "s/^signed by alice/signed by alice, honest/" |
		git -C "$W" hash-object -t commit -w --stdin) &&
	g push -q -f origin $forged:refs/heads/forged &&
	expect_exit 1 $CARA validate --repo "$URL" --path stacks --ref forged $SSH 2>err &&
	expect_contains err "refusing commit $(short $forged): bad signature by '\''alice@example.com'\''" &&
	expect_exit 0 $CARA validate --repo "$URL" --path stacks --ref $signed $SSH
'

test_expect_success 'CARA_* variables and file keys turn it on too' '
	expect_exit 1 env CARA_VERIFY_SIGNATURES=true CARA_ALLOWED_SIGNERS="$K/allowed_signers" \
		$CARA validate --repo "$URL" --path stacks 2>err &&
	expect_contains err "signer not allowed" &&
	printf "verifySignatures: true\nallowedSigners: %s\ngpgKeyring: %s\n" \
		"$K/allowed_signers" "$K/keyring.gpg" >"$CARA_CONFIG" &&
	$CARA config >cfg &&
	grep -E "^verify-signatures +true +file" cfg &&
	grep -E "^allowed-signers +$K/allowed_signers +file" cfg &&
	grep -E "^gpg-keyring +$K/keyring.gpg +file" cfg &&
	expect_exit 1 $CARA validate --repo "$URL" --path stacks 2>err &&
	expect_contains err "signer not allowed" &&
	expect_exit 0 $CARA validate --repo "$URL" --path stacks --no-verify-signatures &&
	: >"$CARA_CONFIG"
'

test_expect_success 'signed by a GPG key of the keyring: applied, the signer logged' '
	project four && g -c user.signingkey=alice@example.com commit -qam "gpg signed" -S &&
	g push -q origin HEAD && gpgc=$(g rev-parse HEAD) &&
	expect_exit 1 $CARA validate --repo "$URL" --path stacks --verify-signatures \
		--gpg-keyring "$K/empty.gpg" 2>err &&
	expect_contains err "refusing commit $(short $gpgc): signer not allowed: GPG key" &&
	expect_exit 1 $CARA validate --repo "$URL" --path stacks $SSH 2>err &&
	expect_contains err "cannot check its GPG signature: no --gpg-keyring" &&
	mkdir tmp &&
	TMPDIR="$TEST_DIR/tmp" GNUPGHOME=/nonexistent $CARA sync --repo "$URL" \
		--path stacks $SSH --gpg-keyring "$K/keyring.gpg" 2>err &&
	expect_contains err "source: commit $(short $gpgc) is signed by Alice <alice@example.com> (GPG key " &&
	[ "$(env_of)" = four ] &&
	test -z "$(ls -A tmp)"
'

test_expect_success 'a force-push back to an older signed commit is refused, unless --allow-rewind' '
	signed=$(cat signed) && gpgc=$(g rev-parse HEAD) &&
	g push -q -f origin $signed:main &&
	GPG="--gpg-keyring $K/keyring.gpg" &&
	expect_exit 1 env GNUPGHOME=/nonexistent $CARA sync --repo "$URL" --path stacks $SSH $GPG 2>err &&
	expect_contains err "refusing commit $(short $signed): it does not descend from $(short $gpgc)" &&
	[ "$(env_of)" = four ] &&
	expect_exit 0 $CARA validate --repo "$URL" --path stacks $SSH &&
	GNUPGHOME=/nonexistent $CARA sync --repo "$URL" --path stacks $SSH $GPG --allow-rewind 2>err &&
	expect_contains err "does not descend from $(short $gpgc), the last commit applied: accepted (--allow-rewind)" &&
	[ "$(env_of)" = one ] &&
	[ "$(sqlite3 "$CARA_STATE_DIR/state.db" "select count(*) from events where kind = '"'"'Rewind'"'"'")" = 1 ] &&
	GNUPGHOME=/nonexistent $CARA sync --repo "$URL" --path stacks $SSH $GPG 2>err
'

test_done
