#!/bin/sh
# --metrics-file writes a Prometheus text file atomically, with every
# metric; --notify-url posts a JSON summary to a webhook (a listener this
# test starts on loopback); a failing webhook never fails the pass.  Log
# lines: JSON for shippers; on a terminal, progress of long waits.
. "$srcdir/tests/lib.sh"

P="$UNIQ-rep"
mkdir -p m
sleeper_project "$P" > m/p.yaml

# a one-shot webhook listener: writes the first POST body to $1, answers $2
listen() {
	python3 - "$1" "$2" <<'PY' >/dev/null 2>&1 &
import http.server, sys, socket
out, status = sys.argv[1], int(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        open(out, "wb").write(body)
        self.send_response(status); self.end_headers()
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(out + ".port", "w").write(str(s.server_address[1]))
s.timeout = 30
s.handle_request()
PY
	i=0; while [ ! -s "$1.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	cat "$1.port"
}

test_expect_success 'metrics file: every metric present, parsed back' '
	$CARA sync --path m --metrics-file "$TEST_DIR/cara.prom" 2>err &&
	for m in cara_pass_duration_seconds cara_pass_exit_code cara_pass_outcome \
		cara_pass_timestamp_seconds cara_last_success_timestamp_seconds \
		cara_projects cara_actions cara_source_info; do
		grep -q "^$m" cara.prom || { echo "missing $m"; exit 1; }
	done &&
	grep -q "^cara_projects{phase=\"Running\"} [1-9]" cara.prom &&
	grep -q "^cara_actions{kind=\"create-container\"} 1" cara.prom &&
	grep -q "^cara_pass_outcome{command=\"sync\",outcome=\"converged\"} 1" cara.prom &&
	python3 - cara.prom <<PY
import re, sys
for line in open(sys.argv[1]):
    if line.startswith("#"): continue
    assert re.match(r"^[a-z_]+(\{[^}]*\})? -?[0-9.e+]+$", line.strip()), line
PY
'

test_expect_success 'metrics file is replaced atomically (no temp file left)' '
	ino1=$(stat -c %i cara.prom) &&
	$CARA sync --path m --metrics-file "$TEST_DIR/cara.prom" 2>err &&
	ino2=$(stat -c %i cara.prom) && [ "$ino1" != "$ino2" ] &&
	[ -z "$(ls "$TEST_DIR" | grep "cara.prom.tmp")" ]
'

test_expect_success 'a pass that changes something posts a JSON summary' '
	docker rm -f $P-s >/dev/null &&
	port=$(listen "$TEST_DIR/hook.json" 200) &&
	$CARA sync --path m --notify-url "http://127.0.0.1:$port/hook" 2>err &&
	wait &&
	python3 -c "import json; d=json.load(open(\"hook.json\")); \
assert d[\"outcome\"]==\"converged\" and d[\"counts\"][\"created\"]==1, d; \
assert \"text\" in d and \"$P\" in [p[\"name\"] for p in d[\"projects\"]]"
'

test_expect_success 'a failing webhook does not fail the pass' '
	docker rm -f $P-s >/dev/null &&
	port=$(listen "$TEST_DIR/hook2.json" 500) &&
	$CARA sync --path m --notify-url "http://127.0.0.1:$port/hook" 2>err &&
	wait &&
	expect_contains err "HTTP 500" &&
	expect_state $P-s running
'

test_expect_success 'an unreachable webhook does not fail the pass either' '
	docker rm -f $P-s >/dev/null &&
	$CARA sync --path m --notify-url "http://127.0.0.1:1/hook" 2>err &&
	expect_contains err "notify:"
'

test_expect_success 'json log lines' '
	docker rm -f $P-s >/dev/null &&
	$CARA sync --path m --log-format json 2>err &&
	python3 -c "import json,sys; [json.loads(l) for l in open(\"err\") if l.strip()]" &&
	expect_contains err "\"project\":\"$P\""
'

# Long waits (health, a job) report progress on a terminal, not in a log.
mkdir -p slow
cat > slow/p.yaml <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $P-slow}
spec:
  services:
    - name: db
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "trap 'exit 0' TERM; sleep 6; touch /tmp/ok; while :; do sleep 1; done"]
      healthcheck: {test: ["CMD-SHELL", "test -f /tmp/ok"], interval: 1s, timeout: 1s, retries: 30}
    - name: init
      image: $CARA_TEST_IMAGE
      restart: "no"
      command: ["sleep", "6"]
      dependsOn: [{service: db, condition: Healthy}]
    - name: app
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "$TRAP_SLEEP"]
      dependsOn: [{service: init, condition: Completed}]
EOT

test_expect_success 'on a terminal, long waits show progress' '
	script -qec "$CARA sync --path slow --no-prune" /dev/null >tty.out 2>&1 ||
		{ cat tty.out; false; } &&
	expect_contains tty.out "still waiting for '"'"'db'"'"' to be healthy (5s, health: " &&
	expect_contains tty.out "still waiting for job '"'"'init'"'"' to complete (5s)" &&
	expect_state $P-slow-app running
'

test_expect_success 'without a terminal, no progress lines' '
	docker rm -f $P-slow-db $P-slow-init $P-slow-app >/dev/null &&
	$CARA sync --path slow --no-prune 2>err &&
	expect_contains err "waiting for job '"'"'init'"'"' to complete" &&
	expect_not_contains err "still waiting" &&
	expect_state $P-slow-app running
'

test_done
