#!/bin/sh
# The credentialed transports against real servers on loopback, started
# here and killed on exit, pass or fail: an sshd with its own config, host
# key and authorized_keys in the sandbox, and a smart-HTTP server
# (git-http-server.py in front of git http-backend) that demands Basic
# auth.  Host keys checked against known_hosts and a pin, a key with a
# passphrase, tokens from a file and from the environment, refusals that
# say why, and secrets that reach no output, log or state.
. "$srcdir/tests/lib.sh"

# Under ASan, whole allocation stacks: libgit2's SSH transport leaks on
# each connect (tests/lsan.supp), and only a stack through its caller
# tells that leak apart from one of cara's.
[ -z "${ASAN_OPTIONS:-}" ] || export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"

# Nothing of the machine's own ~/.ssh or agent takes part.
export HOME="$TEST_DIR/home"
unset SSH_AUTH_SOCK
mkdir -p "$HOME/.ssh"

stop_servers() {
	for f in "$TEST_DIR/sshd.pid" "$TEST_DIR/agent.pid" "$TEST_DIR/http.pid"; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
		rm -f "$f"
	done
	return 0
}
trap 'stop_servers; test_cleanup' EXIT

P="$UNIQ-a"
SRV="$TEST_DIR/srv"       # the repositories both servers serve
W="$TEST_DIR/work"
git init -q --bare -b main "$SRV/remote.git"
git init -q -b main "$W"
g() { git -C "$W" -c user.name=t -c user.email=t@localhost "$@"; }
project() {   # project VALUE: the manifest, committed and pushed
	mkdir -p "$W/stacks"
	sleeper_project "$P" "$1" > "$W/stacks/a.yaml"
	g add -A && g commit -q -m "$1" && g push -q "$SRV/remote.git" main
}
project one
head12() { git -C "$SRV/remote.git" rev-parse main | cut -c1-12; }

# no_secret FILE... : none of the files, nor anything under the state
# directory (state.db, its WAL, the cache), holds $SECRET.
no_secret() {
	[ -s "$CARA_STATE_DIR/state.db" ] || { echo "no state.db to search" >&2; return 1; }
	for f in "$@"; do
		expect_not_contains "$f" "$SECRET"
	done
	if grep -rlaF -- "$SECRET" "$CARA_STATE_DIR" >&2; then
		echo "the secret is stored in the files above" >&2
		return 1
	fi
}

# ---- ssh ----

ssh_skip=
if [ ! -x /usr/sbin/sshd ]; then
	ssh_skip="no /usr/sbin/sshd (Debian package openssh-server)"
elif ! $CARA version --verbose | grep -qE '^libgit2 [0-9.]+ \(([^)]*, )?ssh\)'; then
	ssh_skip="this libgit2 was built without ssh ($($CARA version --verbose | grep '^libgit2' | cut -d, -f1-2))"
elif [ "$(id -u)" -ne 0 ]; then
	ssh_skip="the test sshd needs root (privilege separation)"
fi

# start_sshd: an sshd of our own on 127.0.0.1:$SSH_PORT, a free port found
# by trying; public key authentication only, keys from the sandbox.
start_sshd() {
	mkdir -p /run/sshd    # its privilege separation directory, made at boot elsewhere
	for try in 1 2 3 4 5 6 7 8; do
		SSH_PORT=$(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 + 20000 ))
		cat > "$TEST_DIR/sshd_config" <<EOT
ListenAddress 127.0.0.1:$SSH_PORT
AddressFamily inet
HostKey $TEST_DIR/host_key
PidFile $TEST_DIR/sshd.pidfile
AuthorizedKeysFile $TEST_DIR/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers root
UsePAM no
StrictModes no
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
LogLevel VERBOSE
EOT
		: > "$TEST_DIR/sshd.log"
		/usr/sbin/sshd -D -e -f "$TEST_DIR/sshd_config" \
			2>>"$TEST_DIR/sshd.log" </dev/null &
		echo $! > "$TEST_DIR/sshd.pid"
		i=0
		while [ $i -lt 300 ]; do
			grep -q "Server listening on 127.0.0.1 port $SSH_PORT" \
				"$TEST_DIR/sshd.log" && return 0
			kill -0 "$(cat "$TEST_DIR/sshd.pid")" 2>/dev/null || break
			sleep 0.1
			i=$((i + 1))
		done
		stop_servers
	done
	echo "sshd did not start:" >&2
	cat "$TEST_DIR/sshd.log" >&2
	return 1
}

if [ -z "$ssh_skip" ]; then
	ssh-keygen -q -t ed25519 -N '' -C host -f "$TEST_DIR/host_key"
	ssh-keygen -q -t ed25519 -N '' -C other-host -f "$TEST_DIR/other_host_key"
	ssh-keygen -q -t ed25519 -N '' -C client -f "$TEST_DIR/id_client"
	PASSPHRASE="pp-$UNIQ correct horse"
	ssh-keygen -q -t ed25519 -N "$PASSPHRASE" -C locked -f "$TEST_DIR/id_locked"
	ssh-keygen -q -t ed25519 -N '' -C stranger -f "$TEST_DIR/id_stranger"
	cat "$TEST_DIR/id_client.pub" "$TEST_DIR/id_locked.pub" > "$TEST_DIR/authorized_keys"
	printf '%s\n' "$PASSPHRASE" > "$TEST_DIR/passphrase"
	HOST_KEY=$(cut -d' ' -f1,2 "$TEST_DIR/host_key.pub")
	OTHER_HOST_KEY=$(cut -d' ' -f1,2 "$TEST_DIR/other_host_key.pub")
	HOST_FP=$(ssh-keygen -lf "$TEST_DIR/host_key.pub" | cut -d' ' -f2)
	STRANGER_FP=$(ssh-keygen -lf "$TEST_DIR/id_stranger.pub" | cut -d' ' -f2)
	if start_sshd; then
		SSH_URL="ssh://root@127.0.0.1:$SSH_PORT$SRV/remote.git"
		echo "[127.0.0.1]:$SSH_PORT $HOST_KEY" > "$TEST_DIR/known_hosts"
		: > "$TEST_DIR/known_hosts.empty"
		# an agent of our own, for the runs without --ssh-key
		ssh-agent -D -a "$TEST_DIR/agent.sock" >/dev/null 2>&1 </dev/null &
		echo $! > "$TEST_DIR/agent.pid"
		i=0
		while [ ! -S "$TEST_DIR/agent.sock" ] && [ $i -lt 300 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	else
		SSH_URL="ssh://sshd-did-not-start.invalid/"   # every ssh test fails
	fi
fi

ssh_test() {   # ssh_test TITLE BODY
	if [ -n "$ssh_skip" ]; then
		test_skip "$1" "$ssh_skip"
	else
		test_expect_success "$1" "$2"
	fi
}

ssh_test 'ssh: an unknown host key is refused with host and fingerprint; nothing applied' '
	expect_exit 1 $CARA sync --repo "$SSH_URL" --path stacks \
		--ssh-key "$TEST_DIR/id_client" --known-hosts "$TEST_DIR/known_hosts.empty" \
		>out 2>err &&
	expect_contains err "cannot verify the host key of '\''127.0.0.1'\'' ($HOST_FP)" &&
	expect_contains err "is not in $TEST_DIR/known_hosts.empty" &&
	expect_contains err "ssh-keyscan -p $SSH_PORT 127.0.0.1" &&
	expect_contains err "nothing was changed on this host" &&
	expect_state $P-s missing &&
	[ ! -e "$CARA_STATE_DIR/repo" ] &&
	[ "$(sqlite3 "$CARA_STATE_DIR/state.db" "select outcome from passes order by id desc limit 1")" = source-error ]
'

ssh_test 'ssh: with the host key in known_hosts, clone and then fetch' '
	expect_exit 0 $CARA validate --repo "$SSH_URL" --path stacks \
		--ssh-key "$TEST_DIR/id_client" --known-hosts "$TEST_DIR/known_hosts" \
		>out 2>err &&
	expect_contains err "source: commit $(head12)," &&
	expect_contains err "1 file, 1 project" &&
	project two &&
	expect_exit 2 $CARA diff --repo "$SSH_URL" --path stacks \
		--ssh-key "$TEST_DIR/id_client" --known-hosts "$TEST_DIR/known_hosts" \
		>out 2>err &&
	grep -E "source: commit $(head12), [1-9][0-9]* objects fetched" err &&
	expect_not_contains err "re-cloned" &&
	expect_contains out "$P"
'

ssh_test 'ssh: ~/.ssh/known_hosts is the default' '
	echo "[127.0.0.1]:$SSH_PORT $HOST_KEY" > "$HOME/.ssh/known_hosts" &&
	expect_exit 0 $CARA validate --repo "$SSH_URL" --path stacks \
		--ssh-key "$TEST_DIR/id_client" >out 2>err &&
	expect_contains err "source: commit $(head12)"
'

ssh_test 'ssh: a key marked @revoked in ~/.ssh/known_hosts is refused' '
	{ echo "[127.0.0.1]:$SSH_PORT $HOST_KEY" &&
	  echo "@revoked [127.0.0.1]:$SSH_PORT $HOST_KEY"; } > "$HOME/.ssh/known_hosts" &&
	expect_exit 1 $CARA validate --repo "$SSH_URL" --path stacks \
		--ssh-key "$TEST_DIR/id_client" >out 2>err &&
	expect_contains err "($HOST_FP) is marked @revoked in $HOME/.ssh/known_hosts"
'

ssh_test 'ssh: a known_hosts entry for port 22 does not vouch for another port' '
	echo "127.0.0.1 $HOST_KEY" > "$HOME/.ssh/known_hosts" &&
	expect_exit 1 $CARA validate --repo "$SSH_URL" --path stacks \
		--ssh-key "$TEST_DIR/id_client" >out 2>err &&
	expect_contains err "cannot verify the host key of '\''127.0.0.1'\'' ($HOST_FP)" &&
	expect_exit 1 $CARA validate --repo "$SSH_URL" --path stacks \
		--ssh-key "$TEST_DIR/id_client" --known-hosts "$HOME/.ssh/known_hosts" \
		>out 2>err &&
	expect_contains err "cannot verify the host key"
'

ssh_test 'ssh: a host key other than the known one is refused' '
	echo "[127.0.0.1]:$SSH_PORT $OTHER_HOST_KEY" > "$TEST_DIR/known_hosts.other" &&
	expect_exit 1 $CARA validate --repo "$SSH_URL" --path stacks \
		--ssh-key "$TEST_DIR/id_client" --known-hosts "$TEST_DIR/known_hosts.other" \
		>out 2>err &&
	expect_contains err "($HOST_FP) does not match the one in $TEST_DIR/known_hosts.other"
'

ssh_test 'ssh: --host-key-sha256 accepts the right key and refuses another' '
	expect_exit 0 $CARA validate --repo "$SSH_URL" --path stacks \
		--ssh-key "$TEST_DIR/id_client" --known-hosts "$TEST_DIR/known_hosts.empty" \
		--host-key-sha256 "$HOST_FP" >out 2>err &&
	expect_contains err "source: commit $(head12)" &&
	other=$(ssh-keygen -lf "$TEST_DIR/other_host_key.pub" | cut -d" " -f2) &&
	expect_exit 1 $CARA validate --repo "$SSH_URL" --path stacks \
		--ssh-key "$TEST_DIR/id_client" --known-hosts "$TEST_DIR/known_hosts" \
		--host-key-sha256 "$other" >out 2>err &&
	expect_contains err "the host key of '\''127.0.0.1'\'' is $HOST_FP, not the pinned $other"
'

ssh_test 'ssh: a key with a passphrase; the passphrase is never shown or stored' '
	SECRET=$PASSPHRASE &&
	expect_exit 2 $CARA diff --verbose --repo "$SSH_URL" --path stacks \
		--ssh-key "$TEST_DIR/id_locked" --ssh-passphrase-file "$TEST_DIR/passphrase" \
		--known-hosts "$TEST_DIR/known_hosts" >out 2>err &&
	expect_contains err "source: commit $(head12)" &&
	expect_contains out "$P" &&
	no_secret out err &&
	grep -q "Accepted publickey for root .*$(ssh-keygen -lf "$TEST_DIR/id_locked.pub" | cut -d" " -f2)" "$TEST_DIR/sshd.log" &&
	expect_exit 1 $CARA diff --verbose --repo "$SSH_URL" --path stacks \
		--ssh-key "$TEST_DIR/id_locked" --known-hosts "$TEST_DIR/known_hosts" \
		>out 2>err &&
	expect_contains err "passphrase" &&
	printf "%s\n" "wrong-$PASSPHRASE" > "$TEST_DIR/passphrase.wrong" &&
	expect_exit 1 $CARA diff --verbose --repo "$SSH_URL" --path stacks \
		--ssh-key "$TEST_DIR/id_locked" --ssh-passphrase-file "$TEST_DIR/passphrase.wrong" \
		--known-hosts "$TEST_DIR/known_hosts" >out 2>err &&
	expect_contains err "passphrase" &&
	no_secret out err
'

ssh_test 'ssh: a key the server does not accept fails as an authentication error, offered once' '
	expect_exit 1 $CARA validate --repo "$SSH_URL" --path stacks \
		--ssh-key "$TEST_DIR/id_stranger" --known-hosts "$TEST_DIR/known_hosts" \
		>out 2>err &&
	expect_contains err "fetch $SSH_URL: authentication as '\''root'\'' failed: the server refused the ssh key '\''$TEST_DIR/id_stranger'\''" &&
	[ "$(grep -c "Failed publickey for root .*$STRANGER_FP" "$TEST_DIR/sshd.log")" -eq 1 ]
'

ssh_test 'ssh: without a user in the URL the message names the one tried' '
	url="ssh://127.0.0.1:$SSH_PORT$SRV/remote.git" &&
	expect_exit 1 $CARA validate --repo "$url" --path stacks \
		--ssh-key "$TEST_DIR/id_client" --known-hosts "$TEST_DIR/known_hosts" \
		>out 2>err &&
	expect_contains err "authentication as '\''git'\'' failed" &&
	expect_exit 0 $CARA validate --repo "$url" --path stacks --username root \
		--ssh-key "$TEST_DIR/id_client" --known-hosts "$TEST_DIR/known_hosts" \
		>out 2>err
'

ssh_test 'ssh: without --ssh-key the keys of ssh-agent are offered' '
	export SSH_AUTH_SOCK="$TEST_DIR/agent.sock" &&
	ssh-add -q "$TEST_DIR/id_client" 2>/dev/null &&
	expect_exit 0 $CARA validate --repo "$SSH_URL" --path stacks \
		--known-hosts "$TEST_DIR/known_hosts" >out 2>err &&
	expect_contains err "source: commit $(head12)" &&
	ssh-add -D 2>/dev/null && ssh-add -q "$TEST_DIR/id_stranger" 2>/dev/null &&
	expect_exit 1 $CARA validate --repo "$SSH_URL" --path stacks \
		--known-hosts "$TEST_DIR/known_hosts" >out 2>err &&
	ssh-add -D 2>/dev/null &&
	expect_contains err "authentication as '\''root'\'' failed: the server refused every key ssh-agent offered"
'

ssh_test 'ssh: a key file that cannot be read is named' '
	expect_exit 1 $CARA validate --repo "$SSH_URL" --path stacks \
		--ssh-key "$TEST_DIR/no-such-key" --known-hosts "$TEST_DIR/known_hosts" \
		>out 2>err &&
	expect_contains err "cannot read ssh key '\''$TEST_DIR/no-such-key'\''"
'

# ---- smart HTTP with Basic auth ----

http_skip=
command -v python3 >/dev/null 2>&1 || http_skip="no python3"
[ -n "$http_skip" ] || [ -x "$(git --exec-path)/git-http-backend" ] ||
	http_skip="no git http-backend"

TOKEN="tok-$UNIQ-8Jq2xV"
if [ -z "$http_skip" ]; then
	printf '%s\n' "$TOKEN" > "$TEST_DIR/token"
	python3 "$srcdir/tests/integration/git-http-server.py" --root "$SRV" \
		--user deploy --token-file "$TEST_DIR/token" \
		--port-file "$TEST_DIR/http.port" --log "$TEST_DIR/http.log" \
		2>"$TEST_DIR/http.err" </dev/null &
	echo $! > "$TEST_DIR/http.pid"
	i=0
	while [ ! -s "$TEST_DIR/http.port" ] && [ $i -lt 300 ] &&
	      kill -0 "$(cat "$TEST_DIR/http.pid")" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	HTTP_PORT=$(cat "$TEST_DIR/http.port" 2>/dev/null)
	if [ -z "$HTTP_PORT" ]; then
		echo "the http server did not start:" >&2
		cat "$TEST_DIR/http.err" >&2
		HTTP_PORT=1   # every http test fails
	fi
	HTTP_URL="http://127.0.0.1:$HTTP_PORT/remote.git"
fi

http_test() {   # http_test TITLE BODY
	if [ -n "$http_skip" ]; then
		test_skip "$1" "$http_skip"
	else
		test_expect_success "$1" "$2"
	fi
}

# Each http test has a state directory of its own: the ssh tests' cache is
# for another URL.
http_test 'http: --username and --token-file: clone, then fetch' '
	export CARA_STATE_DIR="$TEST_DIR/state-http" SECRET="$TOKEN" &&
	: > "$TEST_DIR/http.log" &&
	expect_exit 0 $CARA validate --verbose --repo "$HTTP_URL" --path stacks \
		--username deploy --token-file "$TEST_DIR/token" >out 2>err &&
	expect_contains err "source: commit $(head12)," &&
	grep -q "^GET /remote.git/info/refs?service=git-upload-pack auth=yes ok=yes status=200" "$TEST_DIR/http.log" &&
	project three &&
	expect_exit 2 $CARA diff --verbose --repo "$HTTP_URL" --path stacks \
		--username deploy --token-file "$TEST_DIR/token" >out2 2>err2 &&
	grep -E "source: commit $(head12), [1-9][0-9]* objects fetched" err2 &&
	expect_not_contains err2 "re-cloned" &&
	expect_contains out2 "$P" &&
	no_secret out err out2 err2
'

http_test 'http: --token-env names the variable that holds the token' '
	export CARA_STATE_DIR="$TEST_DIR/state-http-env" SECRET="$TOKEN" &&
	export DEPLOY_TOKEN="$TOKEN" &&
	expect_exit 2 $CARA diff --verbose --repo "$HTTP_URL" \
		--path stacks --username deploy --token-env DEPLOY_TOKEN >out 2>err &&
	expect_contains err "source: commit $(head12)," &&
	no_secret out err &&
	expect_exit 1 $CARA validate --repo "$HTTP_URL" --path stacks \
		--username deploy --token-env CARA_TEST_UNSET_TOKEN >out 2>err &&
	expect_contains err "environment variable '\''CARA_TEST_UNSET_TOKEN'\'' (token-env) is not set or empty"
'

http_test 'http: a wrong token is refused once, naming the URL and not the token' '
	export CARA_STATE_DIR="$TEST_DIR/state-http-bad" SECRET="wrong-$TOKEN" &&
	printf "%s\n" "$SECRET" > "$TEST_DIR/token.wrong" &&
	: > "$TEST_DIR/http.log" &&
	expect_exit 1 $CARA sync --verbose --repo "$HTTP_URL" --path stacks \
		--username deploy --token-file "$TEST_DIR/token.wrong" >out 2>err &&
	expect_contains err "fetch $HTTP_URL: authentication as '\''deploy'\'' failed: the server refused the token in '\''$TEST_DIR/token.wrong'\''" &&
	[ "$(grep -c "auth=yes ok=no" "$TEST_DIR/http.log")" -eq 1 ] &&
	expect_contains err "nothing was changed on this host" &&
	expect_state $P-s missing &&
	no_secret out err
'

http_test 'http: a FIFO or directory as the token file is refused at once, never waited on' '
	export CARA_STATE_DIR="$TEST_DIR/state-http-fifo" &&
	rm -f "$TEST_DIR/token.fifo" && mkfifo "$TEST_DIR/token.fifo" &&
	expect_exit 1 timeout 20 $CARA validate --repo "$HTTP_URL" --path stacks \
		--username deploy --token-file "$TEST_DIR/token.fifo" >out 2>err &&
	expect_contains err "token file '\''$TEST_DIR/token.fifo'\'' is not a regular file" &&
	expect_exit 1 timeout 20 $CARA validate --repo "$HTTP_URL" --path stacks \
		--username deploy --token-file "$TEST_DIR" >out 2>err &&
	expect_contains err "is not a regular file"
'

http_test 'http: without credentials the message says how to give them' '
	export CARA_STATE_DIR="$TEST_DIR/state-http-none" &&
	expect_exit 1 $CARA validate --repo "$HTTP_URL" --path stacks >out 2>err &&
	expect_contains err "fetch $HTTP_URL: the server asks for credentials: give a token or password with --token-file or --token-env"
'

http_test 'http: credentials in the URL are used, and redacted in every message' '
	export CARA_STATE_DIR="$TEST_DIR/state-http-url" SECRET="$TOKEN" &&
	shown="http://***@127.0.0.1:$HTTP_PORT/remote.git" &&
	expect_exit 2 $CARA diff --verbose --repo "http://deploy:$TOKEN@127.0.0.1:$HTTP_PORT/remote.git" \
		--path stacks >out 2>err &&
	expect_contains err "source: commit $(head12)," &&
	no_secret out err &&
	SECRET="wrong-$TOKEN" &&
	expect_exit 1 $CARA sync --verbose --repo "http://deploy:$SECRET@127.0.0.1:$HTTP_PORT/remote.git" \
		--path stacks >out 2>err &&
	expect_contains err "fetch $shown: authentication failed: the server refused the credentials in the URL" &&
	expect_not_contains err "deploy:" &&
	no_secret out err
'

test_done
