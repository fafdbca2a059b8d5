#!/bin/sh
# Faults: the Docker Engine stopped in the middle of a pass (exit 1 with a
# clear message, the next pass after a restart converges) and a full disk
# under the state directory (a clear error, the previous state intact).
# Runs last: it restarts dockerd.
. "$srcdir/tests/lib.sh"

P="$UNIQ-f"
mkdir -p m
cat > m/f.yaml <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $P}
spec:
  services:
    - name: db
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3; touch /tmp/ok; while :; do sleep 1; done"]
      healthcheck: {test: ["CMD-SHELL", "test -f /tmp/ok"], interval: 1s, timeout: 1s, retries: 20}
    - name: app
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
      dependsOn: [{service: db, condition: Healthy}]
EOT

# Restart it with the arguments it was started with (address pools...).
dockerd_args=$(pidof dockerd >/dev/null && tr '\0' '\n' < /proc/$(pidof dockerd)/cmdline | tail -n +2 | tr '\n' ' ')
start_dockerd() {
	# shellcheck disable=SC2086
	setsid dockerd $dockerd_args >>/var/log/cara-dockerd.log 2>&1 </dev/null &
	i=0
	until docker version >/dev/null 2>&1; do
		i=$((i + 1)); [ $i -lt 60 ] || return 1; sleep 1
	done
}

can_restart=yes
if [ -d /run/systemd/system ] || ! pidof dockerd >/dev/null; then
	can_restart=
fi

if [ -n "$can_restart" ]; then
test_expect_success 'dockerd stopped mid-pass: exit 1, clear message' '
	$CARA sync --path m 2>run.err &
	pid=$!
	sleep 1.5
	kill $(pidof dockerd)
	set +e; wait $pid; rc=$?; set -e
	echo "sync exited $rc"; cat run.err
	i=0; while pidof dockerd >/dev/null && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
	start_dockerd &&
	[ $rc -eq 1 ] &&
	grep -Eq "Engine|docker" run.err
'

test_expect_success 'after dockerd is back, the next pass converges' '
	$CARA sync --path m 2>err &&
	expect_state $P-db running && expect_state $P-app running &&
	[ "$(docker ps -aq --filter label=cara.project=$P | wc -l)" -eq 2 ] &&
	integrity_ok
'
else
test_skip 'dockerd stopped mid-pass' 'dockerd is not ours to restart here'
test_skip 'after dockerd is back, the next pass converges' 'dockerd is not ours to restart here'
fi

if mkdir -p "$TEST_DIR/small" && mount -t tmpfs -o size=1m tmpfs "$TEST_DIR/small" 2>/dev/null; then
test_expect_success 'disk full under the state dir: clear error, previous state intact' '
	trap "umount \"$TEST_DIR/small\" 2>/dev/null" EXIT
	S="$TEST_DIR/small/state" &&
	# a project of its own: the objects of m are the main state'"'"'s
	mkdir -p m3 && sed "s/name: $P}/name: $P-full}/" m/f.yaml > m3/f.yaml &&
	CARA_STATE_DIR=$S $CARA sync --path m3 2>err &&
	before=$(sqlite3 "$S/state.db" "select count(*) from passes") &&
	dd if=/dev/zero of="$TEST_DIR/small/fill" bs=4k count=512 2>/dev/null || true
	set +e; CARA_STATE_DIR=$S $CARA sync --path m3 2>full.err; rc=$?; set -e
	cat full.err; echo "exit $rc"
	rm -f "$TEST_DIR/small/fill"
	[ $rc -eq 1 ] &&
	grep -Eqi "full|space" full.err &&
	[ "$(sqlite3 "$S/state.db" "PRAGMA integrity_check")" = ok ] &&
	after=$(sqlite3 "$S/state.db" "select count(*) from passes where ended != 0") &&
	[ "$after" -ge "$before" ] &&
	CARA_STATE_DIR=$S $CARA sync --path m3 2>err
'

test_expect_success 'disk full in the middle of a pass: exit 1, said so, the next pass records it' '
	# a tmpfs of its own (the test above unmounts its one), and dd bounded
	# so that a missing mount can never fill the real disk
	mkdir -p "$TEST_DIR/small2" &&
	mount -t tmpfs -o size=1m tmpfs "$TEST_DIR/small2" &&
	trap "umount \"$TEST_DIR/small2\" 2>/dev/null" EXIT
	S="$TEST_DIR/small2/state" &&
	mkdir -p m2 && sed "s/name: $P}/name: $P-mid}/" m/f.yaml > m2/f.yaml &&
	CARA_STATE_DIR=$S $CARA sync --path m2 2>err &&
	docker rm -f $P-mid-db $P-mid-app >/dev/null
	(rc=0; CARA_STATE_DIR=$S $CARA sync --path m2 2>mid.err || rc=$?; echo $rc > mid.rc) &
	# the pass waits about 3 s for db to be Healthy: fill the disk then
	sleep 1.5 &&
	dd if=/dev/zero of="$TEST_DIR/small2/fill" bs=4k count=512 2>/dev/null || true
	wait
	cat mid.err; echo "exit $(cat mid.rc)"
	rm -f "$TEST_DIR/small2/fill"
	[ "$(cat mid.rc)" -eq 1 ] &&
	grep -q "could not record what this pass did" mid.err &&
	expect_state $P-mid-app running &&
	CARA_STATE_DIR=$S $CARA sync --path m2 2>err &&
	CARA_STATE_DIR=$S $CARA status >out && grep -E "^$P-mid +Running" out
'
umount "$TEST_DIR/small" 2>/dev/null
else
test_skip 'disk full under the state dir' 'cannot mount a tmpfs here'
test_skip 'disk full in the middle of a pass' 'cannot mount a tmpfs here'
fi

if mkdir -p "$TEST_DIR/ro" && mount --bind "$TEST_DIR/ro" "$TEST_DIR/ro" 2>/dev/null; then
test_expect_success 'a read-only state directory is named as such, for sync and status' '
	trap "umount \"$TEST_DIR/ro\" 2>/dev/null" EXIT
	mkdir -p none &&
	CARA_STATE_DIR="$TEST_DIR/ro" $CARA sync --path none 2>err &&
	mount -o remount,bind,ro "$TEST_DIR/ro" &&
	expect_exit 1 env CARA_STATE_DIR="$TEST_DIR/ro" $CARA status 2>err &&
	expect_contains err "the state directory '"'"'$TEST_DIR/ro'"'"' is on a read-only file system" &&
	expect_exit 1 env CARA_STATE_DIR="$TEST_DIR/ro" $CARA sync --path none 2>err &&
	expect_contains err "is on a read-only file system" &&
	expect_not_contains err "No such file"
'
umount "$TEST_DIR/ro" 2>/dev/null
else
test_skip 'a read-only state directory' 'cannot bind-mount here'
fi

test_done
