#!/bin/sh
# SIGKILL at random moments during apply (cold converge and recreate), 50
# trials (CARA_KILL_TRIALS); after each, a normal pass converges with no orphaned or
# duplicated containers, the Managed volume's data intact and state.db
# sound.  SIGTERM finishes the current step, records and exits 1.
. "$srcdir/tests/lib.sh"

P="$UNIQ-k"
TRIALS=${CARA_KILL_TRIALS:-50}
mkdir -p m

write() {   # write GENERATION
	cat > m/k.yaml <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $P}
spec:
  services:
    - name: db
      image: $CARA_TEST_IMAGE
      env: [{name: GEN, value: "$1"}]
      command: ["sh", "-c", "trap 'exit 0' TERM; touch /tmp/ok; while :; do sleep 1; done"]
      healthcheck: {test: ["CMD-SHELL", "test -f /tmp/ok"], interval: 300ms, timeout: 1s, retries: 5}
      volumeMounts: [{name: data, mountPath: /data}]
    - name: job
      image: $CARA_TEST_IMAGE
      restart: "no"
      env: [{name: GEN, value: "$1"}]
      command: ["sh", "-c", "test -f /data/keep || echo precious > /data/keep"]
      volumeMounts: [{name: data, mountPath: /data}]
      dependsOn: [{service: db, condition: Healthy}]
    - name: web
      image: $CARA_TEST_IMAGE
      env: [{name: GEN, value: "$1"}]
      command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
      dependsOn: [{service: job, condition: Completed}]
  volumes: [{name: data, type: Managed}]
EOT
}

# converged GENERATION: exactly the three containers, right spec, right states
converged() {
	n=$(docker ps -aq --filter label=cara.project=$P | wc -l)
	[ "$n" -eq 3 ] || { echo "expected 3 containers, found $n"; docker ps -a --filter label=cara.project=$P; return 1; }
	expect_state $P-db running && expect_state $P-web running &&
	expect_state $P-job exited &&
	[ "$(docker inspect -f '{{.State.ExitCode}}' $P-job)" = 0 ] || {
		echo "states: db=$(docker_state $P-db) web=$(docker_state $P-web) job=$(docker_state $P-job)"; return 1; }
	for s in db job web; do
		docker inspect -f '{{.Config.Env}}' $P-$s | grep -q "GEN=$1" ||
			{ echo "$s does not have GEN=$1"; return 1; }
	done
	n=$(docker network ls -q --filter label=cara.project=$P | wc -l)
	[ "$n" -eq 1 ] || { echo "expected 1 network, found $n"; return 1; }
}

write 0
test_expect_success 'initial converge' '
	$CARA sync --path m 2>err && converged 0 &&
	docker exec $P-db cat /data/keep | grep -qx precious
'

test_expect_success "SIGKILL during apply, $TRIALS trials, each then converges" '
	i=1
	while [ $i -le $TRIALS ]; do
		write $i
		if [ $((i % 4)) -eq 0 ]; then   # every 4th trial: a cold converge
			docker rm -f $P-db $P-job $P-web >/dev/null 2>&1 || true
			docker network rm cara-$P >/dev/null 2>&1 || true
		fi
		$CARA sync --path m 2>kill.err &
		pid=$!
		delay=$(awk -v s=$i "BEGIN { srand(s * 7919); printf \"%.2f\", rand() * 2.5 }")
		sleep "$delay"
		kill -9 $pid 2>/dev/null || true
		wait $pid 2>/dev/null || true
		$CARA sync --path m 2>after.err || { echo "trial $i (kill after ${delay}s): recovery pass failed"; cat after.err; exit 1; }
		converged $i || { echo "trial $i (kill after ${delay}s) not converged"; cat after.err; exit 1; }
		integrity_ok || { echo "trial $i: state.db damaged"; exit 1; }
		echo "trial $i: killed after ${delay}s, converged"
		i=$((i + 1))
	done
'

test_expect_success 'Managed volume data intact, state.db sound' '
	docker exec $P-db cat /data/keep | grep -qx precious &&
	integrity_ok
'

# A project whose db takes 8 s to become healthy: SIGTERM arrives while the
# pass waits for it.
T="$UNIQ-t"
mkdir -p t
cat > t/t.yaml <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $T}
spec:
  services:
    - name: db
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "trap 'exit 0' TERM; sleep 8; touch /tmp/ok; while :; do sleep 1; done"]
      healthcheck: {test: ["CMD-SHELL", "test -f /tmp/ok"], interval: 500ms, timeout: 1s, retries: 30}
    - name: web
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "$TRAP_SLEEP"]
      dependsOn: [{service: db, condition: Healthy}]
EOT

test_expect_success 'SIGTERM while waiting: the pass stops at once, records, exits 1' '
	$CARA sync --path t --no-prune 2>term.err &
	pid=$!
	i=0; until grep -q "waiting for .db. to be healthy" term.err; do
		i=$((i + 1)); [ $i -lt 100 ] || { cat term.err; false; }; sleep 0.1
	done
	t0=$(date +%s)
	kill -TERM $pid
	set +e; wait $pid; rc=$?; set -e
	cat term.err; echo "exit $rc after $(( $(date +%s) - t0 ))s"
	[ $rc -eq 1 ] && [ $(( $(date +%s) - t0 )) -le 3 ] &&
	expect_contains term.err "interrupted; the next pass continues" &&
	[ "$(sqlite3 "$CARA_STATE_DIR/state.db" "select outcome from passes order by id desc limit 1")" = interrupted ] &&
	expect_state $T-db running && expect_state $T-web created
'

test_expect_success 'the next pass after SIGTERM converges' '
	$CARA sync --path t --no-prune 2>err &&
	expect_state $T-db running && expect_state $T-web running &&
	integrity_ok
'

test_done
