#!/bin/sh
# SIGKILL at random moments while a pass makes a project network again
# (its `internal` flips each trial: the containers on it go, dependents
# first, then the network; it is made anew and the containers with it),
# 15 trials (CARA_KILL_TRIALS).  After each kill a normal pass converges:
# exactly the three containers, each on exactly its networks, the network
# with the wanted `internal` and only one of its name, the container that
# is not on it never touched, the Managed volume's data intact and
# `cara state check` sound.
. "$srcdir/tests/lib.sh"

P="$UNIQ-nk"
TRIALS=${CARA_KILL_TRIALS:-15}
mkdir -p m

write() {   # write INTERNAL
	cat > m/k.yaml <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $P}
spec:
  networks: [{name: back, internal: $1}]
  volumes: [{name: data, type: Managed}]
  services:
    - name: db
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "test -f /data/keep || echo precious > /data/keep; trap 'exit 0' TERM; touch /tmp/ok; while :; do sleep 1; done"]
      healthcheck: {test: ["CMD-SHELL", "test -f /tmp/ok"], interval: 300ms, timeout: 1s, retries: 5}
      stopGracePeriod: 1s
      networks: [back]
      volumeMounts: [{name: data, mountPath: /data}]
    - name: web
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "$TRAP_SLEEP"]
      stopGracePeriod: 1s
      networks: [default, {name: back, aliases: [api]}]
      dependsOn: [{service: db, condition: Healthy}]
    - name: edge
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "$TRAP_SLEEP"]
      stopGracePeriod: 1s
EOT
}

nets_of() {
	docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$1"
}

# converged INTERNAL EDGE-ID
converged() {
	n=$(docker ps -aq --filter label=cara.project=$P | wc -l)
	[ "$n" -eq 3 ] || { echo "expected 3 containers, found $n"; docker ps -a --filter label=cara.project=$P; return 1; }
	for s in db web edge; do
		expect_state $P-$s running || return 1
	done
	[ "$(nets_of $P-db)" = "cara-${P}_back " ] || { echo "db on: $(nets_of $P-db)"; return 1; }
	[ "$(nets_of $P-web)" = "cara-$P cara-${P}_back " ] || { echo "web on: $(nets_of $P-web)"; return 1; }
	[ "$(nets_of $P-edge)" = "cara-$P " ] || { echo "edge on: $(nets_of $P-edge)"; return 1; }
	[ "$(docker inspect -f '{{.Id}}' $P-edge)" = "$2" ] || { echo "edge was recreated"; return 1; }
	n=$(docker network ls -q --filter label=cara.project=$P | wc -l)
	[ "$n" -eq 2 ] || { echo "expected 2 networks, found $n"; docker network ls --filter label=cara.project=$P; return 1; }
	n=$(docker network ls -q --filter name=^cara-${P}_back\$ | wc -l)
	[ "$n" -eq 1 ] || { echo "expected 1 network cara-${P}_back, found $n"; return 1; }
	got=$(docker network inspect -f '{{.Internal}}' cara-${P}_back)
	[ "$got" = "$1" ] || { echo "cara-${P}_back internal is $got, not $1"; return 1; }
	# the db's endpoint is on the network of that name now, not a removed one
	id=$(docker network inspect -f '{{.Id}}' cara-${P}_back)
	[ "$(docker inspect -f "{{(index .NetworkSettings.Networks \"cara-${P}_back\").NetworkID}}" $P-db)" = "$id" ] ||
		{ echo "db is on an old cara-${P}_back"; return 1; }
	docker exec $P-web ping -c1 -W1 db >/dev/null 2>&1 || { echo "web cannot reach db"; return 1; }
	docker exec $P-db cat /data/keep | grep -qx precious || { echo "volume data lost"; return 1; }
	$CARA state check >check.out 2>&1 || { cat check.out; return 1; }
	expect_exit 0 $CARA diff --path m >diff.out 2>&1 || { cat diff.out; return 1; }
}

write true
test_expect_success 'initial converge' '
	$CARA sync --path m 2>err || { cat err; false; }
	converged true "$(docker inspect -f "{{.Id}}" $P-edge)"
'

test_expect_success "SIGKILL while the network is made again, $TRIALS trials, each then converges" '
	edge=$(docker inspect -f "{{.Id}}" $P-edge)
	i=1 internal=true
	while [ $i -le $TRIALS ]; do
		if [ $internal = true ]; then internal=false; else internal=true; fi
		write $internal
		$CARA sync --path m 2>kill.err &
		pid=$!
		delay=$(awk -v s=$i "BEGIN { srand(s * 7919); printf \"%.2f\", rand() * 4 }")
		sleep "$delay"
		kill -9 $pid 2>/dev/null || true
		wait $pid 2>/dev/null || true
		$CARA sync --path m 2>after.err || { echo "trial $i (kill after ${delay}s): recovery pass failed"; cat kill.err after.err; exit 1; }
		converged $internal "$edge" || { echo "trial $i (kill after ${delay}s) not converged"; cat kill.err after.err; exit 1; }
		integrity_ok || { echo "trial $i: state.db damaged"; exit 1; }
		echo "trial $i: killed after ${delay}s, converged"
		i=$((i + 1))
	done
'

test_done
