# tests/lib.sh - helpers for integration scripts, in the style of git's t/.
#
#   . "$srcdir/tests/lib.sh"
#   test_expect_success 'title' '
#       body, run by "sh -e" in $TEST_DIR; fails when any command fails
#   '
#   test_done
#
# Every script gets its own sandbox $TEST_DIR and a unique prefix $UNIQ for
# project names ("$UNIQ-web"), so Docker objects never collide with another
# test or a real deployment.  On exit, every container, network and volume
# whose cara.project label starts with $UNIQ is removed, pass or fail, and
# so is the sandbox.
#
# Environment: CARA (binary), srcdir (source tree), CARA_TEST_IMAGE (local
# busybox image).
: "${CARA:?}" "${srcdir:?}"
CARA_TEST_IMAGE=${CARA_TEST_IMAGE:-cara-local/busybox:1}
UNIQ="ct$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')"
TEST_DIR=$(mktemp -d "/tmp/cara-$UNIQ.XXXXXX")
export CARA_STATE_DIR="$TEST_DIR/state"
export CARA_CONFIG="$TEST_DIR/cara.yaml"   # empty: never read /etc/cara
: > "$CARA_CONFIG"
cd "$TEST_DIR" || exit 1   # scripts write their fixtures here
export CARA_SECRETS_DIR="$TEST_DIR/secrets"
export NO_COLOR=1
test_count=0
test_failed=0

cleanup_docker() {
	command -v docker >/dev/null 2>&1 || return 0
	docker version >/dev/null 2>&1 || return 0
	ids=$(docker ps -a --filter label=cara.project --format '{{.ID}} {{.Label "cara.project"}}' |
		awk -v u="$UNIQ" 'index($2, u) == 1 { print $1 }')
	[ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
	nets=$(docker network ls --filter label=cara.project --format '{{.ID}} {{.Label "cara.project"}}' |
		awk -v u="$UNIQ" 'index($2, u) == 1 { print $1 }')
	[ -n "$nets" ] && docker network rm $nets >/dev/null 2>&1
	vols=$(docker volume ls --filter label=cara.project --format '{{.Name}} {{.Label "cara.project"}}' |
		awk -v u="$UNIQ" 'index($2, u) == 1 { print $1 }')
	[ -n "$vols" ] && docker volume rm -f $vols >/dev/null 2>&1
	# the ingress proxy of this test's state (it has no cara.project)
	if [ -f "$CARA_STATE_DIR/state.db" ] && command -v sqlite3 >/dev/null 2>&1; then
		owner=$(sqlite3 "$CARA_STATE_DIR/state.db" \
			"SELECT value FROM meta WHERE key = 'identity'" 2>/dev/null)
		ids=
		[ -n "$owner" ] &&
			ids=$(docker ps -aq --filter label=cara.ingress --filter "label=cara.owner=$owner")
		[ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
	fi
	return 0
}

test_cleanup() {
	cleanup_docker
	[ -n "${TEST_KEEP:-}" ] || rm -rf "$TEST_DIR"
}
trap test_cleanup EXIT
# a signal, or a reader gone (t | head), still runs the cleanup above
trap 'exit 130' INT TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

test_expect_success() {
	title=$1
	body=$2
	test_count=$((test_count + 1))
	if (cd "$TEST_DIR" && eval "set -e; $body") >"$TEST_DIR/.out" 2>&1; then
		echo "ok $test_count - $title"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $title"
		sed 's/^/#   /' "$TEST_DIR/.out" | tail -n 40
	fi
}

test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1 # SKIP $2"
}

test_done() {
	echo "1..$test_count"
	[ "$test_failed" -eq 0 ]
}

# expect_exit CODE cmd...: run cmd, fail unless it exits CODE.
expect_exit() {
	want=$1; shift
	set +e
	"$@"
	got=$?
	set -e
	if [ "$got" -ne "$want" ]; then
		echo "expected exit $want, got $got: $*" >&2
		return 1
	fi
}

# grep for a fixed string in a file, showing the file on failure.
expect_contains() {
	if ! grep -qF -- "$2" "$1"; then
		echo "expected '$2' in $1:" >&2
		sed 's/^/| /' "$1" >&2
		return 1
	fi
}

expect_not_contains() {
	if grep -qF -- "$2" "$1"; then
		echo "did not expect '$2' in $1:" >&2
		sed 's/^/| /' "$1" >&2
		return 1
	fi
}

# docker_state NAME: the container's state ("running", "exited", ...) or "missing"
docker_state() {
	# (docker inspect prints an empty line for a missing container)
	s=$(docker inspect -f '{{.State.Status}}' "$1" 2>/dev/null | tr -d '\n')
	echo "${s:-missing}"
}

# expect_state NAME STATE: the container is in STATE ("missing" for none);
# says what it saw when not.
expect_state() {
	got=$(docker_state "$1")
	if [ "$got" != "$2" ]; then
		echo "expected container $1 to be $2, it is $got" >&2
		return 1
	fi
}

# A service body that exits promptly on SIGTERM (busybox sleep as PID 1 would not).
TRAP_SLEEP="trap 'exit 0' TERM; while :; do sleep 1; done"

# sleeper_project NAME [V]: on stdout, a project of one service "s" that
# idles until SIGTERM (1 s grace), with V as its env V: a new V is a change
# of spec that recreates it.
sleeper_project() {
	cat <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $1}
spec:
  services:
    - name: s
      image: $CARA_TEST_IMAGE
      env: [{name: V, value: "${2:-}"}]
      command: ["sh", "-c", "$TRAP_SLEEP"]
      stopGracePeriod: 1s
EOT
}

# integrity_ok: PRAGMA integrity_check on the state database
integrity_ok() {
	r=$(sqlite3 "$CARA_STATE_DIR/state.db" 'PRAGMA integrity_check;')
	[ "$r" = ok ] || { echo "integrity_check: $r" >&2; return 1; }
}
