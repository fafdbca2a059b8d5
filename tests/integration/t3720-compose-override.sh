#!/bin/sh
# A compose project with an override file beside it syncs to what
# `docker-compose -f compose.yaml -f compose.override.yaml config` says the
# two mean (environment, ports, command); changing only the override
# recreates the service it changes and no other.
. "$srcdir/tests/lib.sh"

P="$UNIQ-ovr"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "m/$P"

cat > "m/$P/compose.yaml" <<EOT
services:
  web:
    image: $CARA_TEST_IMAGE
    command: ["sh", "-c", "exit 1"]
    stop_grace_period: 1s
    environment: {A: base, B: base}
    ports: ["127.0.0.1:$PORT:8080"]
  other:
    image: $CARA_TEST_IMAGE
    command: ["sh", "-c", "$TRAP_SLEEP"]
    stop_grace_period: 1s
EOT

over() {   # over VALUE-OF-B
	cat > "m/$P/compose.override.yaml" <<EOT
services:
  web:
    command: ["sh", "-c", "$TRAP_SLEEP"]
    environment: [B=$1, C=over]
    ports: ["127.0.0.1:$PORT:8080", "127.0.0.1::9090/udp"]
EOT
}
over one

cid() { docker inspect -f '{{.Id}}' "$1" 2>/dev/null || echo none; }

# Each container against what docker-compose makes of the two files.
same_as_compose() {
	(cd "m/$P" && docker-compose -f compose.yaml -f compose.override.yaml config) > config.yaml &&
	python3 - "$P" config.yaml <<'PY'
import json, subprocess, sys, yaml
project, cfg = sys.argv[1], yaml.safe_load(open(sys.argv[2]))
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
    check(name + " command", conf["Cmd"], s["command"])
    got = sorted((k, b["HostIp"], b["HostPort"] not in ("", "0"))
                 for k, v in (host["PortBindings"] or {}).items() for b in v)
    want = []
    for p in s.get("ports", []):   # "IP:[HOST]:PORT[/PROTO]" as written
        ip, hp, rest = p.split(":")
        cp, _, proto = rest.partition("/")
        want.append(("%s/%s" % (cp, proto or "tcp"), ip, hp != ""))
    want.sort()
    check(name + " ports", got, want)
print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

test_expect_success 'sync merges the override into the project' '
	$CARA sync --path m 2>err || { cat err; false; } &&
	expect_state $P-web running && expect_state $P-other running &&
	docker inspect -f "{{.Config.Env}}" $P-web >env &&
	expect_contains env "A=base" && expect_contains env "B=one" &&
	expect_contains env "C=over"
'

test_expect_success 'the containers are what docker-compose config says the two files mean' '
	same_as_compose
'

test_expect_success 'a second pass changes nothing' '
	expect_exit 0 $CARA diff --path m >out 2>err &&
	$CARA sync --path m 2>err &&
	expect_contains err "0 created, 0 recreated, 0 started, 0 removed"
'

test_expect_success 'changing only the override recreates the service it changes' '
	id_web=$(cid $P-web) && id_other=$(cid $P-other) &&
	over two &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	$CARA sync --path m 2>err &&
	expect_contains err "1 recreated" &&
	[ "$(cid $P-web)" != "$id_web" ] && [ "$(cid $P-other)" = "$id_other" ] &&
	docker inspect -f "{{.Config.Env}}" $P-web | grep -q "B=two" &&
	same_as_compose
'

test_expect_success 'an error in the override names its file and line' '
	printf "services:\n  web:\n    restart: sometimes\n" > m/$P/compose.override.yaml &&
	expect_exit 1 $CARA validate m >out 2>err &&
	expect_contains err "$P/compose.override.yaml:3:14:"
'

test_expect_success 'removing the compose file prunes the project' '
	rm m/$P/compose.yaml m/$P/compose.override.yaml &&
	$CARA sync --path m --allow-mass-prune 2>err &&
	expect_state $P-web missing && expect_state $P-other missing
'

test_expect_success 'an included compose file stays part of its includer while the includer cannot be read' '
	I="$UNIQ-inc" D="$UNIQ-db" &&
	mkdir -p mi/$I mi/$D &&
	cat >mi/$I/compose.yaml <<-EOT &&
	include:
	  - ../$D/compose.yaml
	services:
	  web: {image: $CARA_TEST_IMAGE, command: ["sh", "-c", "$TRAP_SLEEP"], stop_grace_period: 1s}
	EOT
	cat >mi/$D/compose.yaml <<-EOT &&
	services:
	  db: {image: $CARA_TEST_IMAGE, command: ["sh", "-c", "$TRAP_SLEEP"], stop_grace_period: 1s}
	EOT
	$CARA sync --path mi 2>err || { cat err; false; } &&
	expect_state $I-web running && expect_state $I-db running &&
	echo "services: [" >>mi/$I/compose.yaml &&
	expect_exit 1 $CARA sync --path mi >out 2>err &&
	expect_contains err "$D/compose.yaml was included by another compose file" &&
	! docker inspect $D-db >/dev/null 2>&1 &&
	expect_state $I-web running && expect_state $I-db running &&
	sed -i "\$d" mi/$I/compose.yaml &&
	$CARA sync --path mi 2>err || { cat err; false; } &&
	expect_contains err " 0 created, 0 recreated, 0 started, 0 removed, 0 failed" &&
	expect_state $I-web running && expect_state $I-db running
'

test_done
