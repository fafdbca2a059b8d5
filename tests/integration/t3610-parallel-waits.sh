#!/bin/sh
# --parallel counts the projects working the Engine, not those waiting: a
# project waiting on the event stream for a Healthy dependency gives its
# turn to the next project, so with --parallel 1 a second project is
# brought up while the first one waits.  Without the stream (refused by a
# proxy) a wait keeps its turn and the projects go one after the other.
. "$srcdir/tests/lib.sh"

A="$UNIQ-a"
B="$UNIQ-b"
mkdir -p m

project() {   # project NAME: db Healthy after about 3 s, then app
	cat > "m/$1.yaml" <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $1}
spec:
  services:
    - name: db
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3; touch /tmp/ok; while :; do sleep 1; done"]
      stopGracePeriod: 1s
      healthcheck: {test: ["CMD-SHELL", "test -f /tmp/ok"], interval: 1s, timeout: 1s, retries: 30}
    - name: app
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "$TRAP_SLEEP"]
      stopGracePeriod: 1s
      dependsOn: [{service: db, condition: Healthy}]
EOT
}

proxy_pid=
trap '[ -z "$proxy_pid" ] || kill "$proxy_pid" 2>/dev/null; test_cleanup' EXIT

# line N of the log that says MSG for project P ("" when none)
line_of() {
	grep -n "$1.*$2" err | head -n 1 | cut -d: -f1
}

test_expect_success 'with --parallel 1, the second project starts while the first waits' '
	project "$A" && project "$B" &&
	$CARA sync --path m --no-prune --parallel 1 --verbose 2>err &&
	expect_state "$A-app" running && expect_state "$B-app" running &&
	wa=$(line_of "$A" "waiting on events for .db. to be healthy") &&
	cb=$(line_of "$B" "created container $B-db") &&
	sa=$(line_of "$A" "started container $A-app") &&
	test -n "$wa" && test -n "$cb" && test -n "$sa" &&
	{ [ "$wa" -lt "$cb" ] && [ "$cb" -lt "$sa" ] ||
	  { echo "expected $A waiting ($wa) < $B created ($cb) < $A app started ($sa)"; cat err; false; }; }
'

test_expect_success 'without the event stream a wait keeps its turn: one project after the other' '
	cleanup_docker &&
	python3 "$srcdir/scripts/engine-proxy.py" "$TEST_DIR/engine.sock" \
		/var/run/docker.sock "$TEST_DIR/calls" --cut-events 0 &
	proxy_pid=$!
	i=0; while [ ! -S engine.sock ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	DOCKER_HOST="unix://$TEST_DIR/engine.sock" $CARA sync --path m --no-prune \
		--parallel 1 --verbose 2>err &&
	expect_state "$A-app" running && expect_state "$B-app" running &&
	sa=$(line_of "$A" "started container $A-app") &&
	cb=$(line_of "$B" "created container $B-db") &&
	{ [ "$sa" -lt "$cb" ] ||
	  { echo "expected $A app started ($sa) before $B db created ($cb)"; cat err; false; }; }
'

test_done
