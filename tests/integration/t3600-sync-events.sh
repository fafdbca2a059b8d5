#!/bin/sh
# cara sync waits for Healthy and Completed on the Engine's event stream,
# and polls when the stream is refused or lost on the way.  Each pass runs
# through scripts/engine-proxy.py, which counts the Engine requests and,
# for the fallback, refuses or cuts GET /events.
. "$srcdir/tests/lib.sh"

P="$UNIQ-ev"
mkdir -p m

project() {   # project NAME [DB-CMD] [INIT-CMD]: db (Healthy after about 2 s), init (job), app
	db=${2:-"trap 'exit 0' TERM; sleep 2; touch /tmp/ok; while :; do sleep 1; done"}
	cat > "m/$1.yaml" <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $1}
spec:
  services:
    - name: db
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "$db"]
      stopGracePeriod: 1s
      healthcheck: {test: ["CMD-SHELL", "test -f /tmp/ok"], interval: 1s, timeout: 1s, retries: 30}
    - name: init
      image: $CARA_TEST_IMAGE
      restart: "no"
      command: ["sh", "-c", "${3:-sleep 1}"]
      dependsOn: [{service: db, condition: Healthy}]
    - name: app
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "$TRAP_SLEEP"]
      stopGracePeriod: 1s
      dependsOn: [{service: init, condition: Completed}]
EOT
}

proxy_pid=
proxy() {   # proxy [--cut-events S]: a counting proxy on $TEST_DIR/engine.sock
	stop_proxy
	rm -f engine.sock
	python3 "$srcdir/scripts/engine-proxy.py" "$TEST_DIR/engine.sock" \
		/var/run/docker.sock "$TEST_DIR/calls" "$@" &
	proxy_pid=$!
	i=0; while [ ! -S engine.sock ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}
stop_proxy() {
	[ -z "$proxy_pid" ] || kill "$proxy_pid" 2>/dev/null || true
	proxy_pid=
}
trap 'stop_proxy; test_cleanup' EXIT

# sync_via NAME [--cut-events S]: sync project NAME alone through the proxy
sync_via() {
	name=$1; shift
	proxy "$@"
	[ -f "m/$name.yaml" ] || { rm -f m/*.yaml && project "$name"; }
	DOCKER_HOST="unix://$TEST_DIR/engine.sock" $CARA sync --path m --no-prune \
		--verbose 2>"$name.err" || { cat "$name.err"; stop_proxy; return 1; }
	sleep 0.2   # the proxy counts as it forwards
	cp calls "$name.calls"
	stop_proxy
	sed -n "s/.* \([0-9][0-9]*\) Engine API calls.*/\1/p" "$name.err" > "$name.own"
	echo "$name: $(cat "$name.calls") Engine requests (cara counted $(cat "$name.own"))"
}

up_in_order() {   # up_in_order NAME
	expect_state "$1-db" running &&
	expect_state "$1-init" exited &&
	expect_state "$1-app" running &&
	[ "$(docker inspect -f '{{.State.Health.Status}}' "$1-db")" = healthy ] &&
	[ "$(docker inspect -f '{{.State.ExitCode}}' "$1-init")" = 0 ]
}

test_expect_success 'the waits follow the event stream' '
	sync_via $P-a &&
	up_in_order $P-a &&
	expect_contains $P-a.err "waiting on events for '"'"'db'"'"' to be healthy" &&
	expect_contains $P-a.err "waiting on events for job '"'"'init'"'"'" &&
	expect_not_contains $P-a.err "polling" &&
	[ "$(cat $P-a.calls)" = "$(cat $P-a.own)" ]
'

# (the gap includes the Engine starting init: seconds on a loaded host)
test_expect_success 'init starts soon after db is healthy' '
	python3 - $P-a-db $P-a-init <<-PY
	import json, subprocess, sys, datetime
	def t(s):
	    s = s.rstrip("Z"); a, _, b = s.partition(".")
	    return datetime.datetime.strptime(a, "%Y-%m-%dT%H:%M:%S").timestamp() + float("0." + (b or "0"))
	db = json.loads(subprocess.check_output(["docker", "inspect", sys.argv[1]]))[0]
	init = json.loads(subprocess.check_output(["docker", "inspect", sys.argv[2]]))[0]
	ok = [t(l["End"]) for l in db["State"]["Health"]["Log"] if l["ExitCode"] == 0]
	gap = t(init["State"]["StartedAt"]) - min(ok)
	print("db healthy to init started: %.3f s" % gap)
	sys.exit(0 if 0 <= gap < 5 else 1)
	PY
'

test_expect_success 'refused stream: the pass converges by polling' '
	sync_via $P-b --cut-events 0 &&
	up_in_order $P-b &&
	expect_contains $P-b.err "events refused by engine-proxy" &&
	expect_contains $P-b.err "no event stream: polling '"'"'db'"'"' for health" &&
	expect_not_contains $P-b.err "waiting on events"
'

test_expect_success 'waiting on events takes fewer Engine calls than polling' '
	[ "$(cat $P-a.calls)" -lt "$(cat $P-b.calls)" ]
'

test_expect_success 'stream lost during the health wait: polling takes over' '
	rm -f m/*.yaml && project $P-c "trap '"'"'exit 0'"'"' TERM; sleep 8; touch /tmp/ok; while :; do sleep 1; done" &&
	sync_via $P-c --cut-events 3 &&
	up_in_order $P-c &&
	expect_contains $P-c.err "waiting on events for '"'"'db'"'"' to be healthy" &&
	expect_contains $P-c.err "docker: watch events: " &&
	expect_contains $P-c.err "; waits poll the Engine" &&
	expect_contains $P-c.err "no event stream: polling '"'"'db'"'"' for health"
'

# fail_twice NAME CMD...: the error lines of a failing pass of m/ on events
# (NAME.ev) and polling (NAME.poll), its containers removed in between
fail_twice() {
	name=$1; shift
	for how in ev poll; do
		if [ $how = ev ]; then proxy; else proxy --cut-events 0; fi
		! DOCKER_HOST="unix://$TEST_DIR/engine.sock" $CARA sync --path m \
			--no-prune --verbose 2>"$name.$how.err" || return 1
		stop_proxy
		grep "error:" "$name.$how.err" > "$name.$how"
		docker rm -f $name-db $name-init $name-app >/dev/null
	done
	cat "$name.ev"
	cmp "$name.ev" "$name.poll"
}

test_expect_success 'a db that dies before healthy: the same failure on events as polling' '
	rm -f m/*.yaml && project $P-e "sleep 1; exit 3" &&
	fail_twice $P-e &&
	expect_contains $P-e.ev.err "waiting on events for '"'"'db'"'"' to be healthy" &&
	expect_contains $P-e.poll.err "polling '"'"'db'"'"' for health" &&
	expect_contains $P-e.ev "'"'"'db'"'"' is unhealthy; '"'"'init'"'"' not started"
'

test_expect_success 'a job that fails: the same failure on events as polling' '
	rm -f m/*.yaml && project $P-f "" "exit 4" &&
	fail_twice $P-f &&
	expect_contains $P-f.ev.err "waiting on events for job '"'"'init'"'"'" &&
	expect_contains $P-f.ev "DependencyFailed: job '"'"'init'"'"' exited with code 4"
'

test_expect_success 'a pass without waits opens no stream' '
	proxy && rm -f m/*.yaml && sleeper_project $P-d > m/d.yaml &&
	DOCKER_HOST="unix://$TEST_DIR/engine.sock" $CARA sync --path m --no-prune \
		--verbose 2>d.err && stop_proxy &&
	expect_state $P-d-s running &&
	expect_not_contains d.err "events"
'

test_done
