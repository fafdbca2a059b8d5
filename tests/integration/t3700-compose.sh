#!/bin/sh
# A compose file in a directory source is one project: the containers
# carry what `docker-compose config` says the file means (env from .env
# and env_file, command, ports, mounts, restart policy, healthcheck); a
# change recreates only the changed service; removing the file prunes it.
. "$srcdir/tests/lib.sh"

P="$UNIQ-web"              # the directory's name is the project's
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ROOT="$TEST_DIR/root"
mkdir -p "m/$P" "$ROOT/www"
echo "compose demo" > "$ROOT/www/index.html"
export CARA_HOSTPATH_ROOTS="$ROOT"
export T3700_GREETING=hello

app() {   # app [WEB-EXTRA-ENV]
	cat > "m/$P/compose.yaml" <<EOT
x-stop: &stop
  stop_grace_period: 1s
services:
  web:
    <<: *stop
    image: $CARA_TEST_IMAGE
    command: httpd -f -p 8080 -h '/srv/www'
    environment:
      GREETING: \${T3700_GREETING}
      FROM_DOTENV: \${DOT:-none}
      EXTRA: "${1:-one}"
    env_file: web.env
    ports: ["127.0.0.1:$PORT:8080", "9999/udp"]
    volumes: ["$ROOT/www:/srv/www:ro", "data:/data"]
    restart: unless-stopped
    depends_on:
      db: {condition: service_healthy}
  db:
    <<: *stop
    image: $CARA_TEST_IMAGE
    entrypoint: ["sh", "-c"]
    command: ["trap 'exit 0' TERM; touch /tmp/ready; while :; do sleep 1; done"]
    healthcheck:
      test: ["CMD-SHELL", "test -f /tmp/ready"]
      interval: 1s
      timeout: 1s
      retries: 10
      start_period: 2s
    restart: always
    volumes: [data:/data]
volumes:
  data:
EOT
}
app
printf 'DOT=from-dotenv\n' > "m/$P/.env"
printf '# env_file\nFILE_VAR=from file\nGREETING=overridden\n' > "m/$P/web.env"

cid() { docker inspect -f '{{.Id}}' "$1" 2>/dev/null || echo none; }

# Compare each container with what docker-compose makes of the file.
same_as_compose() {
	(cd "m/$P" && docker-compose config) > config.yaml &&
	python3 - "$P" config.yaml <<'PY'
import json, re, shlex, subprocess, sys, yaml
project, cfg = sys.argv[1], yaml.safe_load(open(sys.argv[2]))
def ns(d):
    m = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", d)
    return (int(m.group(1) or 0) * 60 + int(m.group(2) or 0)) * 10**9
def words(v):
    return shlex.split(v) if isinstance(v, str) else v
bad = []
def check(what, got, want):
    if got != want:
        bad.append("%s: cara %r, compose %r" % (what, got, want))
for name, s in cfg["services"].items():
    c = json.loads(subprocess.check_output(
        ["docker", "inspect", "%s-%s" % (project, name)]))[0]
    conf, host = c["Config"], c["HostConfig"]
    env = dict(e.split("=", 1) for e in conf["Env"])
    for k, v in (s.get("environment") or {}).items():
        check(name + " env " + k, env.get(k), v)
    if "command" in s:
        check(name + " command", conf["Cmd"], words(s["command"]))
    if "entrypoint" in s:
        check(name + " entrypoint", conf["Entrypoint"], words(s["entrypoint"]))
    check(name + " restart", host["RestartPolicy"]["Name"], s.get("restart", "no"))
    got = {k: [(b["HostIp"], b["HostPort"]) for b in v]
           for k, v in (host["PortBindings"] or {}).items()}
    for p in s.get("ports", []):
        if isinstance(p, str):
            ip, hp, rest = p.split(":")
            cp, proto = rest.split("/")
            k = "%s/%s" % (cp, proto)
            check(name + " port " + k, got.get(k), [(ip, hp)])
        else:   # an ephemeral host port
            k = "%d/%s" % (p["target"], p.get("protocol", "tcp"))
            check(name + " port " + k, [b[1] in ("", "0") for b in got.get(k, [])],
                  [True])
    mounts = {m["Destination"]: m for m in c["Mounts"]}
    for v in s.get("volumes", []):
        src, dst, mode = v.split(":")
        m = mounts.get(dst, {})
        if src.startswith("/"):
            check(name + " bind " + dst, (m.get("Type"), m.get("Source")), ("bind", src))
        else:
            check(name + " volume " + dst, (m.get("Type"), m.get("Name")),
                  ("volume", "cara-%s-%s" % (project, src)))
        check(name + " rw " + dst, m.get("RW"), mode == "rw")
    h = s.get("healthcheck")
    if h:
        hc = conf.get("Healthcheck") or {}
        check(name + " health test", hc.get("Test"), h["test"])
        for k, dk in (("interval", "Interval"), ("timeout", "Timeout"),
                      ("start_period", "StartPeriod")):
            if k in h:
                check(name + " health " + k, hc.get(dk), ns(h[k]))
        check(name + " health retries", hc.get("Retries"), h.get("retries"))
    check(name + " stop grace", conf.get("StopTimeout"), 1)
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

test_expect_success 'sync brings up the compose project, db healthy before web' '
	$CARA sync --path m 2>err || { cat err; false; } &&
	expect_state $P-db running &&
	expect_state $P-web running &&
	[ "$(docker inspect -f "{{.State.Health.Status}}" $P-db)" = healthy ] &&
	[ "$(docker inspect -f "{{index .Config.Labels \"cara.project\"}}" $P-web)" = $P ]
'

test_expect_success 'the containers are what docker-compose config says the file means' '
	same_as_compose &&
	docker inspect -f "{{.Config.Env}}" $P-web >env &&
	expect_contains env "GREETING=hello" &&
	expect_contains env "FILE_VAR=from file" &&
	expect_contains env "FROM_DOTENV=from-dotenv" &&
	python3 -c "import urllib.request; print(urllib.request.urlopen(\"http://127.0.0.1:$PORT/\", timeout=5).read().decode())" |
		grep -q "compose demo"
'

test_expect_success 'a second pass changes nothing' '
	expect_exit 0 $CARA diff --path m >out 2>err &&
	$CARA sync --path m 2>err &&
	expect_contains err "0 created, 0 recreated, 0 started, 0 removed"
'

test_expect_success 'a change to one service recreates only that service' '
	id_web=$(cid $P-web) && id_db=$(cid $P-db) &&
	app two &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	$CARA sync --path m 2>err &&
	expect_contains err "1 recreated" &&
	[ "$(cid $P-web)" != "$id_web" ] && [ "$(cid $P-db)" = "$id_db" ] &&
	docker inspect -f "{{.Config.Env}}" $P-web | grep -q EXTRA=two &&
	same_as_compose
'

test_expect_success 'a field cara cannot honour is refused and nothing is touched' '
	id_web=$(cid $P-web) &&
	cp m/$P/compose.yaml keep.yaml &&
	sed "s/^  web:/  web:\n    network_mode: host/" keep.yaml > m/$P/compose.yaml &&
	expect_exit 1 $CARA validate m >out 2>err &&
	expect_contains err "compose.yaml:" &&
	expect_contains err "services.web.network_mode: not supported by cara: network_mode" &&
	expect_exit 1 $CARA sync --path m 2>err &&
	[ "$(cid $P-web)" = "$id_web" ] && expect_state $P-web running &&
	cp keep.yaml m/$P/compose.yaml
'

test_expect_success 'removing the compose file prunes the project and its state' '
	rm m/$P/compose.yaml &&
	$CARA sync --path m --allow-mass-prune 2>err &&
	expect_state $P-web missing && expect_state $P-db missing &&
	! docker network inspect cara-$P >/dev/null 2>&1 &&
	$CARA status >out && grep -E "^$P +Terminated +RemovedFromSource" out
'

E="$UNIQ-exp"
exp_app() {   # exp_app [X-CARA-LINE]
	mkdir -p "m/$E" &&
	cat > "m/$E/compose.yaml" <<EOT
services:
  app:
    image: $CARA_TEST_IMAGE
    command: ["sh", "-c", "$TRAP_SLEEP"]
    stop_grace_period: 1s
${1:+x-cara:
  $1}
EOT
}

test_expect_success 'x-cara expireAt in the past tears a compose project down as Expired' '
	exp_app &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	expect_state $E-app running &&
	exp_app "expireAt: 2020-01-01T00:00:00Z" &&
	$CARA validate m >out 2>err || { cat err; false; } &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	expect_state $E-app missing &&
	! docker network inspect cara-$E >/dev/null 2>&1 &&
	$CARA status >out && grep -E "^$E +Terminated +Expired" out
'

S="$UNIQ-sec"
sec_app() {
	mkdir -p "m/$S" &&
	cat > "m/$S/compose.yaml" <<EOT
services:
  app:
    image: $CARA_TEST_IMAGE
    command: ["sh", "-c", "$TRAP_SLEEP"]
    stop_grace_period: 1s
    secrets: [db_pass, {source: tok, target: token}]
secrets:
  db_pass: {external: true}
  tok:
    x-cara-secret: {name: $S-shared, key: api-token}
EOT
}

test_expect_success 'a compose secret missing from the secrets directory fails the project' '
	sec_app &&
	expect_exit 1 $CARA sync --path m >out 2>err &&
	expect_contains err "secret '"'"'$S/db_pass'"'"' not found" &&
	expect_state $S-app missing &&
	$CARA status >out && grep -E "^$S +Failed +SecretMissing" out
'

test_expect_success 'compose secrets are read-only files of the secrets directory at /run/secrets' '
	mkdir -p "$CARA_SECRETS_DIR/$S" "$CARA_SECRETS_DIR/$S-shared" &&
	printf "pw-%s-one" "$UNIQ" > "$CARA_SECRETS_DIR/$S/db_pass" &&
	printf "tok-%s\n" "$UNIQ" > "$CARA_SECRETS_DIR/$S-shared/api-token" &&
	$CARA sync --path m >out 2>err || { cat err; false; } &&
	expect_state $S-app running &&
	[ "$(docker exec $S-app cat /run/secrets/db_pass)" = "pw-$UNIQ-one" ] &&
	[ "$(docker exec $S-app cat /run/secrets/token)" = "tok-$UNIQ" ] &&
	! docker exec $S-app sh -c "echo x > /run/secrets/db_pass" 2>/dev/null &&
	[ "$(docker inspect -f "{{range .Mounts}}{{if eq .Destination \"/run/secrets/db_pass\"}}{{.RW}}{{end}}{{end}}" $S-app)" = false ] &&
	$CARA sync --path m 2>err && expect_contains err "0 recreated"
'

test_expect_success 'a changed secret value recreates the service and is logged nowhere' '
	id=$(cid $S-app) &&
	printf "pw-%s-two" "$UNIQ" > "$CARA_SECRETS_DIR/$S/db_pass" &&
	$CARA sync --path m >out 2>err || { cat err; false; } &&
	expect_contains err "1 recreated" &&
	[ "$(cid $S-app)" != "$id" ] &&
	[ "$(docker exec $S-app cat /run/secrets/db_pass)" = "pw-$UNIQ-two" ] &&
	$CARA status >>out 2>>err && $CARA describe $S >>out 2>>err &&
	! grep -a "pw-$UNIQ" out err &&
	! grep -a -r "pw-$UNIQ" "$CARA_STATE_DIR" &&
	! grep -a -r "tok-$UNIQ" "$CARA_STATE_DIR" out err &&
	! docker inspect $S-app | grep -a "pw-$UNIQ"
'

test_expect_success 'removing the secrets project prunes it' '
	rm -r "m/$S" &&
	$CARA sync --path m --allow-mass-prune 2>err &&
	expect_state $S-app missing
'

# external: true: a volume made outside cara, mounted by its real name,
# never created and never removed (the test removes it, pass or fail).
X="$UNIQ-xv"
XV="$UNIQ-ext"
trap 'cleanup_docker; docker volume rm -f "$XV" "$UNIQ-nope" >/dev/null 2>&1; test_cleanup' EXIT
ext_app() {   # ext_app VOLUME-NAME
	mkdir -p "m/$X" &&
	cat > "m/$X/compose.yaml" <<EOT
services:
  app:
    image: $CARA_TEST_IMAGE
    command: ["sh", "-c", "$TRAP_SLEEP"]
    stop_grace_period: 1s
    volumes: ["shared:/shared"]
volumes:
  shared:
    external: true
    name: $1
EOT
}

test_expect_success 'an external volume is mounted by its real name, not created' '
	docker volume create "$XV" >/dev/null &&
	ext_app "$XV" &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	expect_state $X-app running &&
	docker inspect -f "{{range .Mounts}}{{.Name}} {{end}}" $X-app >out &&
	expect_contains out "$XV" &&
	docker exec $X-app sh -c "echo kept > /shared/f" &&
	! docker volume inspect cara-$X-shared >/dev/null 2>&1 &&
	! docker volume ls -q --filter label=cara.project | grep -qx "$XV" &&
	expect_exit 0 $CARA diff --path m >out 2>err
'

test_expect_success 'a teardown with --purge-volumes keeps the external volume and its data' '
	rm -r m/$X &&
	$CARA sync --path m --allow-mass-prune --purge-volumes 2>err ||
		{ cat err; false; } &&
	expect_state $X-app missing &&
	$CARA status >out && grep -E "^$X +Terminated +RemovedFromSource" out &&
	docker volume inspect "$XV" >/dev/null &&
	docker run --rm -v "$XV:/v" $CARA_TEST_IMAGE cat /v/f >out &&
	[ "$(cat out)" = kept ]
'

test_expect_success 'a missing external volume fails the project and names it' '
	ext_app "$UNIQ-nope" &&
	expect_exit 1 $CARA sync --path m >out 2>err &&
	expect_contains err "external volume '"'"'$UNIQ-nope'"'"' does not exist" &&
	expect_state $X-app missing &&
	! docker volume inspect "$UNIQ-nope" >/dev/null 2>&1 &&
	$CARA status >out && grep -E "^$X +Failed +VolumeMissing" out
'

test_expect_success 'a volume cara makes is refused as external' '
	ext_app "cara-$P-data" &&
	expect_exit 1 $CARA validate m >out 2>err &&
	expect_contains err "volumes.shared.name: external volume" &&
	expect_contains err "names starting with '"'"'cara-'"'"'" &&
	rm -r m/$X
'

# depends_on restart: true: web restarts (same container, started again)
# after cara recreates db; side, without restart, is left running
R="$UNIQ-rs"
restart_app() {   # restart_app GENERATION [SECONDS db takes to be ready]
	mkdir -p "m/$R"
	cat > "m/$R/compose.yaml" <<EOT
x-svc: &svc
  image: $CARA_TEST_IMAGE
  command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
services:
  db:
    <<: *svc
    command: ["sh", "-c", "trap 'exit 0' TERM; sleep ${2:-0}; touch /tmp/ok; while :; do sleep 1; done"]
    environment: {GEN: "$1"}
    healthcheck: {test: ["CMD", "test", "-f", "/tmp/ok"], interval: 1s, timeout: 1s, retries: 10}
  web:
    <<: *svc
    depends_on:
      db: {condition: service_healthy, restart: true}
  side:
    <<: *svc
    depends_on: [db]
EOT
}
started_at() { docker inspect -f '{{.State.StartedAt}}' "$1"; }

test_expect_success 'depends_on restart: true restarts the service after cara recreates its dependency' '
	restart_app 1 &&
	{ $CARA sync --path m --allow-mass-prune 2>err || { cat err; false; }; } &&
	web_id=$(docker inspect -f "{{.Id}}" $R-web) &&
	web_at=$(started_at $R-web) && side_at=$(started_at $R-side) &&
	restart_app 2 &&
	expect_exit 2 $CARA diff --path m >out &&
	expect_contains out "> restart container $R-web (DependencyRestarted: db)" &&
	! grep -q "$R-side" out &&
	{ $CARA sync --path m 2>err || { cat err; false; }; } &&
	expect_contains err "restarted container $R-web after db" &&
	[ "$(docker inspect -f "{{.Id}}" $R-web)" = "$web_id" ] &&
	expect_state $R-web running &&
	{ [ "$(started_at $R-web)" != "$web_at" ] &&
	  [ "$(started_at $R-side)" = "$side_at" ] || {
		echo "web $web_at -> $(started_at $R-web), side $side_at -> $(started_at $R-side)"; false; }; } &&
	# started again after db was recreated and healthy
	python3 -c "import sys; sys.exit(0 if sys.argv[1] > sys.argv[2] else 1)" \
		"$(started_at $R-web)" "$(started_at $R-db)"
'

# The restart is owed from before db is recreated: a pass killed while it
# waits for the new db (so web was not restarted) leaves it to the next.
test_expect_success 'a pass killed after the dependency was recreated: the next pass restarts the service' '
	web_at=$(started_at $R-web) && db_id=$(docker inspect -f "{{.Id}}" $R-db) &&
	restart_app 3 4 &&
	{ $CARA sync --path m 2>kill.err & pid=$!; } &&
	i=0 && while :; do
		id=$(docker inspect -f "{{.Id}} {{.State.Running}}" $R-db 2>/dev/null) || id=
		case "$id" in "$db_id "*|"") ;; *" true") break ;; esac
		i=$((i + 1)) && [ $i -lt 200 ] || { echo "db was not recreated"; cat kill.err; false; }
		sleep 0.1
	done &&
	kill -9 $pid && { wait $pid; true; } &&
	{ [ "$(started_at $R-web)" = "$web_at" ] || {
		echo "web restarted before the kill: the test missed its window"; cat kill.err; false; }; } &&
	expect_exit 2 $CARA diff --path m >out &&
	expect_contains out "> restart container $R-web (DependencyRestarted: db)" &&
	{ $CARA sync --path m 2>err || { cat err; false; }; } &&
	expect_contains err "restarted container $R-web after db" &&
	python3 -c "import sys; sys.exit(0 if sys.argv[1] > sys.argv[2] else 1)" \
		"$(started_at $R-web)" "$(started_at $R-db)"
'

test_expect_success 'a pass after the restart restarts nothing' '
	$CARA diff --path m >out; [ $? -le 2 ] &&
	! grep -q "$R" out &&
	rm -r m/$R && { $CARA sync --path m --allow-mass-prune 2>err || { cat err; false; }; } &&
	expect_state $R-web missing
'

# healthcheck start_interval needs API 1.44 (Docker Engine 25): an older
# Engine would drop it, so the project fails, EngineTooOld, with nothing of
# it changed, while the others converge. In a state of its own: --path si
# is not the source of the projects above.
SI="$UNIQ-si"
SN="$UNIQ-sinew"
SO="$UNIQ-siok"
API=$(docker version --format '{{.Server.APIVersion}}')
si_app() {   # si_app DIR PROJECT [START_INTERVAL]
	mkdir -p "$1/$2" &&
	cat > "$1/$2/compose.yaml" <<EOT
services:
  app:
    image: $CARA_TEST_IMAGE
    command: ["sh", "-c", "$TRAP_SLEEP"]
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "true"]
      interval: 1s
      start_period: 5s
${3:+      start_interval: $3}
EOT
}
si() { CARA_STATE_DIR="$TEST_DIR/si-state" $CARA "$@"; }

if [ "${API#1.}" -lt 44 ] 2>/dev/null; then
	test_expect_success "start_interval on API $API: the old version runs on, the project fails EngineTooOld" '
		si_app si $SI && si_app si $SO &&
		si sync --path si 2>err || { cat err; false; } &&
		expect_state $SI-app running && old=$(cid $SI-app) &&
		si_app si $SI 500ms && si_app si $SN 2s &&
		si validate si 2>err || { cat err; false; } &&
		expect_exit 1 si diff --path si >out 2>err &&
		expect_contains out "$SI (EngineTooOld: healthcheck startInterval (compose: start_interval) of service '"'"'app'"'"' ($SI/compose.yaml:" &&
		expect_contains err "EngineTooOld" &&
		expect_contains err "needs Docker Engine 25 or newer (API 1.44); this Engine speaks API $API" &&
		expect_not_contains out "container $SI-app" &&
		expect_exit 1 si diff --path si --output json >out 2>err &&
		expect_contains out "\"name\": \"$SN\", \"verdict\": \"refused\", \"reason\": \"EngineTooOld\"" &&
		expect_exit 4 si sync --path si >out 2>err &&
		expect_contains err "$SI: EngineTooOld: healthcheck startInterval" &&
		expect_contains err "$SN: EngineTooOld" &&
		expect_state $SI-app running && [ "$(cid $SI-app)" = "$old" ] &&
		expect_state $SN-app missing && expect_state $SO-app running &&
		si status >out && grep -E "^$SI +Failed +EngineTooOld" out &&
		grep -E "^$SN +Failed +EngineTooOld" out && grep -E "^$SO +Running" out &&
		rm -r si/$SN && si_app si $SI &&
		si sync --path si 2>err || { cat err; false; } &&
		[ "$(cid $SI-app)" = "$old" ]
	'
else
	test_skip "start_interval refused on an Engine older than API 1.44" "the Engine speaks $API"
fi

test_done
