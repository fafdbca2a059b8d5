#!/bin/sh
# cara sync on the real dockerd: dependency order (Healthy, Completed),
# idempotence, targeted recreate, repair, pull failure isolation, expireAt,
# prune, invalid manifests, the mass-prune guard and the pass lock.
. "$srcdir/tests/lib.sh"

P="$UNIQ-shop"
Q="$UNIQ-other"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p m

shop() {   # shop [GREETING] [EXTRA-SPEC-LINES]
	cat > m/shop.yaml <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata:
  name: $P
spec:
$2
  services:
    - name: app
      image: $CARA_TEST_IMAGE
      command: ["httpd", "-f", "-p", "8080", "-h", "/var/www"]
      stopGracePeriod: 1s
      env: [{name: GREETING, value: "${1:-hello}"}]
      ports: [{hostIP: 127.0.0.1, hostPort: $PORT, containerPort: 8080}]
      dependsOn: [{service: init, condition: Completed}]
    - name: init
      image: $CARA_TEST_IMAGE
      restart: "no"
      command: ["sh", "-c", "test -f /data/seed || echo seeded > /data/seed"]
      volumeMounts: [{name: data, mountPath: /data}]
      dependsOn: [{service: db, condition: Healthy}]
    - name: db
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1; touch /tmp/ready; while :; do sleep 1; done"]
      healthcheck: {test: ["CMD-SHELL", "test -f /tmp/ready"], interval: 1s, timeout: 1s, retries: 10}
      volumeMounts: [{name: data, mountPath: /data}, {name: scratch, mountPath: /scratch}]
  volumes:
    - {name: data, type: Managed}
    - {name: scratch, type: Ephemeral}
EOT
}

other() {   # other IMAGE
	cat > m/other.yaml <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $Q}
spec:
  services:
    - name: s
      image: $1
      command: ["sh", "-c", "$TRAP_SLEEP"]
      stopGracePeriod: 1s
EOT
}

started_at() { docker inspect -f '{{.State.StartedAt}}' "$1"; }
finished_at() { docker inspect -f '{{.State.FinishedAt}}' "$1"; }
cid() { docker inspect -f '{{.Id}}' "$1" 2>/dev/null || echo none; }
# before A B: timestamp A is earlier than (or equal to) B
before() {
	python3 - "$1" "$2" <<'PY'
import sys, datetime
def p(s):
    s = s.rstrip("Z")
    if "." in s:
        a, b = s.split(".")
        s = a + "." + b[:6]
        return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f")
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S")
sys.exit(0 if p(sys.argv[1]) <= p(sys.argv[2]) else 1)
PY
}
http_get() {
	python3 -c "import urllib.request,sys; print(urllib.request.urlopen('http://127.0.0.1:$PORT/', timeout=5).read().decode())"
}

shop
other "$CARA_TEST_IMAGE"

test_expect_success 'first pass brings up both projects in dependency order' '
	$CARA sync --path m 2>err || { cat err; false; } &&
	expect_state $P-db running &&
	expect_state $P-app running &&
	expect_state $P-init exited &&
	[ "$(docker inspect -f "{{.State.ExitCode}}" $P-init)" = 0 ] &&
	[ "$(docker inspect -f "{{.State.Health.Status}}" $P-db)" = healthy ] &&
	before "$(started_at $P-db)" "$(started_at $P-init)" &&
	before "$(finished_at $P-init)" "$(started_at $P-app)" &&
	expect_state $Q-s running
'

test_expect_success 'objects carry the names and labels of the design' '
	docker network inspect cara-$P >/dev/null &&
	docker volume inspect cara-$P-data -f "{{index .Labels \"cara.volume.type\"}}" | grep -qx Managed &&
	docker volume inspect cara-$P-scratch -f "{{index .Labels \"cara.volume.type\"}}" | grep -qx Ephemeral &&
	[ "$(docker inspect -f "{{index .Config.Labels \"cara.service\"}}" $P-app)" = app ] &&
	[ "$(docker inspect -f "{{index .Config.Labels \"cara.project\"}}" $P-app)" = $P ] &&
	[ -n "$(docker inspect -f "{{index .Config.Labels \"cara.spec-hash\"}}" $P-app)" ]
'

test_expect_success 'the service answers on its port; services reach each other by name' '
	http_get | grep -q "cara demo" &&
	docker exec $P-db wget -q -O - http://app:8080/ | grep -q "cara demo"
'

test_expect_success 'status: both projects Running' '
	$CARA status >out &&
	grep -E "^$P +Running +ContainersRunning" out &&
	grep -E "^$Q +Running" out
'

test_expect_success 'a second pass changes nothing and creates or starts nothing' '
	for s in app init db; do eval "id_$s=$(cid $P-$s)"; done &&
	$CARA sync --path m 2>err &&
	expect_contains err "0 created, 0 recreated, 0 started, 0 removed" &&
	[ "$(cid $P-app)" = "$id_app" ] && [ "$(cid $P-init)" = "$id_init" ] &&
	[ "$(cid $P-db)" = "$id_db" ] &&
	expect_state $P-init exited
'

test_expect_success 'editing env recreates only that service; the job is not re-run' '
	id_init=$(cid $P-init) && id_db=$(cid $P-db) && id_app=$(cid $P-app) &&
	fin=$(finished_at $P-init) &&
	shop bonjour &&
	$CARA sync --path m 2>err &&
	expect_contains err "1 recreated" &&
	[ "$(cid $P-app)" != "$id_app" ] &&
	[ "$(cid $P-init)" = "$id_init" ] && [ "$(finished_at $P-init)" = "$fin" ] &&
	[ "$(cid $P-db)" = "$id_db" ] &&
	docker inspect -f "{{.Config.Env}}" $P-app | grep -q GREETING=bonjour
'

test_expect_success 'docker stop by hand is repaired' '
	docker stop -t 1 $P-db >/dev/null &&
	$CARA sync --path m 2>err &&
	expect_state $P-db running
'

test_expect_success 'docker pause by hand: the plan says unpause, the same container resumes' '
	# (a service without a healthcheck: dockerd reports a paused one
	# unhealthy, and does not always resume its probes after unpause)
	id_q=$(cid $Q-s) &&
	docker exec $Q-s sh -c "echo kept > /tmp/writable-layer" &&
	docker pause $Q-s >/dev/null &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	expect_contains out "unpause container $Q-s (Paused)" &&
	$CARA sync --path m 2>err &&
	expect_contains err "unpaused container $Q-s" &&
	expect_state $Q-s running && [ "$(cid $Q-s)" = "$id_q" ] &&
	docker exec $Q-s cat /tmp/writable-layer | grep -qx kept &&
	expect_exit 0 $CARA diff --path m >out 2>err
'

test_expect_success 'a project network removed by hand: recreated, containers reconnected in place' '
	id_app=$(cid $P-app) &&
	for c in $P-app $P-db; do docker network disconnect -f cara-$P $c; done &&
	docker network rm cara-$P >/dev/null &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	expect_contains out "connect container $P-app to network cara-$P (NetworkDisconnected)" &&
	$CARA sync --path m 2>err &&
	[ "$(cid $P-app)" = "$id_app" ] &&
	docker inspect -f "{{json .NetworkSettings.Networks}}" $P-app | grep -q "\"cara-$P\"" &&
	docker exec $P-app ping -c 1 -W 2 db >/dev/null &&
	expect_exit 0 $CARA diff --path m >out 2>err
'

test_expect_success 'docker rm by hand is repaired' '
	docker rm -f $P-app >/dev/null &&
	$CARA sync --path m 2>err &&
	expect_state $P-app running
'

test_expect_success 'an image that cannot be pulled fails that project only (exit 4)' '
	other cara-missing.invalid/nothing:1 &&
	id_db=$(cid $P-db) &&
	expect_exit 4 $CARA sync --path m 2>err &&
	expect_contains err "ImagePullError" &&
	$CARA status >out &&
	grep -E "^$Q +Failed +ImagePullError" out &&
	grep -E "^$P +Running" out &&
	[ "$(cid $P-db)" = "$id_db" ] &&
	expect_state $Q-s running
'

test_expect_success 'an invalid manifest prunes nothing and applies nothing' '
	other "$CARA_TEST_IMAGE" && $CARA sync --path m 2>/dev/null &&
	id_q=$(cid $Q-s) &&
	printf "apiVersion: caravanserai/v1\nkind: Project\nmetadata: {name: $Q}\nspec:\n  services: [{name: s, image: \"BAD IMAGE\"}]\n" > m/other.yaml &&
	expect_exit 4 $CARA sync --path m 2>err &&
	expect_contains err "other.yaml:5:" &&
	[ "$(cid $Q-s)" = "$id_q" ] && expect_state $Q-s running
'

test_expect_success 'a file that does not parse at all prunes nothing' '
	printf "this: [is not yaml\n" > m/other.yaml &&
	expect_exit 4 $CARA sync --path m 2>err &&
	expect_state $Q-s running
'

test_expect_success 'sync and diff of one file never prune the projects of other files' '
	other "$CARA_TEST_IMAGE" && $CARA sync --path m 2>/dev/null &&
	id_q=$(cid $Q-s) &&
	expect_exit 0 $CARA diff m/shop.yaml >out 2>err &&
	! grep -q "$Q" out &&
	$CARA sync m/shop.yaml --allow-mass-prune 2>err &&
	[ "$(cid $Q-s)" = "$id_q" ] && expect_state $Q-s running &&
	$CARA sync --path m/shop.yaml --allow-mass-prune 2>err &&
	[ "$(cid $Q-s)" = "$id_q" ]
'

test_expect_success 'removal from the source prunes the project' '
	rm m/other.yaml &&
	$CARA sync --path m --allow-mass-prune 2>err &&
	expect_state $Q-s missing &&
	! docker network inspect cara-$Q >/dev/null 2>&1 &&
	$CARA status >out && grep -E "^$Q +Terminated +RemovedFromSource" out
'

test_expect_success 'the mass-prune guard refuses to remove most projects at once' '
	mkdir -p empty &&
	expect_exit 1 $CARA diff --path empty >out 2>err &&
	expect_contains err "refusing to prune" && ! grep -q teardown out &&
	expect_exit 1 $CARA sync --path empty 2>err &&
	expect_contains err "refusing to prune" &&
	st=$(docker_state $P-app) && echo "$P-app: $st" && [ "$st" = running ]
'

test_expect_success 'expireAt in the past tears the project down, Managed volume kept' '
	shop bonjour "  expireAt: 2020-01-01T00:00:00Z" &&
	$CARA sync --path m 2>err &&
	expect_state $P-app missing && expect_state $P-db missing &&
	expect_state $P-init missing &&
	! docker network inspect cara-$P >/dev/null 2>&1 &&
	! docker volume inspect cara-$P-scratch >/dev/null 2>&1 &&
	docker volume inspect cara-$P-data >/dev/null &&
	$CARA status >out && grep -E "^$P +Terminated +Expired" out
'

test_expect_success 'the Managed volume keeps its data when the project comes back' '
	shop bonjour &&
	$CARA sync --path m 2>err &&
	docker exec $P-db cat /data/seed | grep -qx seeded
'

test_expect_success 'a second pass while one holds the lock exits 3 at once' '
	mkdir -p "$CARA_STATE_DIR" &&
	( flock "$CARA_STATE_DIR/lock" sleep 4 ) &
	sleep 0.5 &&
	start=$(date +%s) &&
	expect_exit 3 $CARA sync --path m 2>err &&
	expect_contains err "lock" &&
	[ $(( $(date +%s) - start )) -lt 3 ] &&
	wait
'

test_expect_success '--wait-lock waits for the other pass' '
	( flock "$CARA_STATE_DIR/lock" sleep 2 ) &
	sleep 0.3 &&
	$CARA sync --path m --wait-lock 20 2>err &&
	wait
'

test_expect_success 'two real passes at once: one converges, the other exits 3' '
	shop salut &&
	( set +e; $CARA sync --path m 2>a.err; echo $? > a.rc ) &
	( set +e; $CARA sync --path m 2>b.err; echo $? > b.rc ) &
	wait &&
	rcs="$(cat a.rc) $(cat b.rc)" && echo "exit codes: $rcs" &&
	case "$rcs" in "0 3"|"3 0") true ;; *) false ;; esac
'

test_expect_success 'dry run prints the plan and changes nothing' '
	shop dry && id_app=$(cid $P-app) &&
	expect_exit 2 $CARA sync --path m --dry-run >out 2>err &&
	expect_contains out "~ container $P-app (changed: env)" &&
	[ "$(cid $P-app)" = "$id_app" ]
'

R="$UNIQ-r"
test_expect_success 'a converged project whose health check fails is named, exit 4' '
	cat > m/r.yaml <<EOT &&
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $R}
spec:
  services:
    - name: s
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "trap '"'"'exit 0'"'"' TERM; touch /tmp/ok; while :; do sleep 1; done"]
      healthcheck: {test: ["CMD-SHELL", "test -f /tmp/ok"], interval: 500ms, timeout: 1s, retries: 1}
      stopGracePeriod: 1s
EOT
	$CARA sync --path m 2>err || { cat err; false; } &&
	docker exec $R-s rm /tmp/ok &&
	i=0 && while [ "$(docker inspect -f "{{.State.Health.Status}}" $R-s)" != unhealthy ]; do
		i=$((i + 1)); [ $i -lt 100 ] || break; sleep 0.1
	done &&
	expect_exit 4 $CARA sync --path m 2>err &&
	expect_contains err "error: $R: HealthcheckFailed: '"'"'s'"'"' is unhealthy" &&
	expect_contains err "2 projects, 0 created, 0 recreated, 0 started, 0 removed, 1 failed" &&
	$CARA status >out && grep -E "^$R +Failed +HealthcheckFailed" out &&
	rm m/r.yaml && $CARA sync --path m --allow-mass-prune 2>err &&
	expect_state $R-s missing
'

test_expect_success 'an on-failure service that exited 0 has finished: not run again, not Failed' '
	mkdir -p of &&
	cat > of/of.yaml <<-EOT &&
	apiVersion: caravanserai/v1
	kind: Project
	metadata: {name: $UNIQ-of}
	spec:
	  services:
	    - name: once
	      image: $CARA_TEST_IMAGE
	      restart: on-failure
	      command: ["sh", "-c", "date +%s%N >> /tmp/runs; exit 0"]
	EOT
	CARA_STATE_DIR="$TEST_DIR/of-state" $CARA sync --path of 2>err &&
	for i in 1 2 3 4 5 6 7 8 9 10; do
		expect_state $UNIQ-of-once exited && break; sleep 0.5
	done &&
	expect_state $UNIQ-of-once exited &&
	fin=$(finished_at $UNIQ-of-once) &&
	CARA_STATE_DIR="$TEST_DIR/of-state" $CARA sync --path of 2>err &&
	expect_not_contains err "started container" &&
	[ "$(finished_at $UNIQ-of-once)" = "$fin" ] &&
	expect_exit 0 env CARA_STATE_DIR="$TEST_DIR/of-state" $CARA diff --path of &&
	CARA_STATE_DIR="$TEST_DIR/of-state" $CARA status >out &&
	! grep -E "^$UNIQ-of +Failed" out
'

test_expect_success 'state.db integrity holds' '
	integrity_ok
'

test_done
