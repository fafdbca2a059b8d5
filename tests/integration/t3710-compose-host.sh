#!/bin/sh
# The host settings of a compose service reach the Engine as
# `docker-compose config` reads them (capabilities, read-only root, tmpfs,
# hostname, init, stop signal, extra hosts, dns, shm size, sysctls,
# ulimits, exposed ports, restart retries, network aliases; tty,
# stdin_open, domainname, pids_limit, oom_score_adj, group_add, links of a
# 2.x file); a change of one recreates only its service; privileged
# settings are refused unless the host allows them; profiles pick the
# services.
. "$srcdir/tests/lib.sh"

P="$UNIQ-host"
mkdir -p "m/$P"

app() {   # app [HOSTNAME] [EXTRA-FIELD-LINE-FOR-a]
	cat > "m/$P/compose.yaml" <<EOT
services:
  a:
    image: $CARA_TEST_IMAGE
    command: ["sh", "-c", "$TRAP_SLEEP"]
    stop_grace_period: 1s
    cap_add: [NET_BIND_SERVICE]
    cap_drop: [MKNOD]
    read_only: true
    tmpfs: [/run]
    hostname: ${1:-box1}
    init: true
    stop_signal: SIGINT
    extra_hosts: ["db.example:10.0.0.5"]
    dns: [9.9.9.9]
    shm_size: 32m
    sysctls: {net.core.somaxconn: "1024"}
    ulimits: {nofile: {soft: 1024, hard: 2048}}
    expose: ["7000", "53/udp"]
    restart: on-failure:3
    networks: {default: {aliases: [alpha, first]}}
${2:-}
  b:
    image: $CARA_TEST_IMAGE
    command: ["sh", "-c", "$TRAP_SLEEP"]
    stop_grace_period: 1s
  dbg:
    image: $CARA_TEST_IMAGE
    command: ["sh", "-c", "$TRAP_SLEEP"]
    stop_grace_period: 1s
    profiles: [debug]
EOT
}
app

cid() { docker inspect -f '{{.Id}}' "$1" 2>/dev/null || echo none; }

same_as_compose() {
	(cd "m/$P" && docker-compose config) > config.yaml &&
	python3 - "$P" config.yaml <<'PY'
import json, subprocess, sys, yaml
project, cfg = sys.argv[1], yaml.safe_load(open(sys.argv[2]))
bad = []
def check(what, got, want):
    if got != want:
        bad.append("%s: cara %r, compose %r" % (what, got, want))
def caps(l):
    return sorted(x if x.startswith("CAP_") else "CAP_" + x for x in l or [])
s = cfg["services"]["a"]
c = json.loads(subprocess.check_output(["docker", "inspect", project + "-a"]))[0]
conf, host = c["Config"], c["HostConfig"]
check("CapAdd", caps(host["CapAdd"]), caps(s["cap_add"]))
check("CapDrop", caps(host["CapDrop"]), caps(s["cap_drop"]))
check("ReadonlyRootfs", host["ReadonlyRootfs"], s["read_only"])
check("Tmpfs", sorted(host["Tmpfs"] or {}), sorted(s["tmpfs"]))
check("Hostname", conf["Hostname"], s["hostname"])
check("Init", host["Init"], s["init"])
check("StopSignal", conf["StopSignal"], s["stop_signal"])
check("ExtraHosts", host["ExtraHosts"], s["extra_hosts"])
check("Dns", host["Dns"], s["dns"])
check("ShmSize", host["ShmSize"], 32 * 1024 * 1024 if s["shm_size"] == "32m" else s["shm_size"])
check("Sysctls", host["Sysctls"], {k: str(v) for k, v in s["sysctls"].items()})
check("Ulimits", [(u["Name"], u["Soft"], u["Hard"]) for u in host["Ulimits"]],
      [(k, v["soft"], v["hard"]) for k, v in s["ulimits"].items()])
want = set(p if "/" in p else p + "/tcp" for p in map(str, s["expose"]))
check("ExposedPorts", set(conf["ExposedPorts"] or {}), want)
pol, n = s["restart"].split(":")
check("RestartPolicy", (host["RestartPolicy"]["Name"],
                        host["RestartPolicy"]["MaximumRetryCount"]), (pol, int(n)))
net = c["NetworkSettings"]["Networks"]["cara-" + project]
al = s["networks"]["default"]["aliases"]
check("Aliases", [x for x in net["Aliases"] if x in al + ["a"]], ["a"] + al)
if bad:
    print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

test_expect_success 'sync: the Engine gets every host setting as compose reads it' '
	$CARA sync --path m 2>err || { cat err; false; } &&
	expect_state $P-a running && expect_state $P-b running &&
	same_as_compose 2>diffs || { cat diffs; false; }
'

test_expect_success 'a service of a profile not enabled is not created' '
	expect_state $P-dbg missing
'

test_expect_success 'a second pass changes nothing' '
	$CARA sync --path m 2>err &&
	expect_contains err "0 created, 0 recreated, 0 started, 0 removed"
'

test_expect_success 'a changed host setting recreates only its service, and diff names it' '
	id_a=$(cid $P-a) && id_b=$(cid $P-b) &&
	app box2 &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	expect_contains out "hostname" &&
	$CARA sync --path m 2>err &&
	expect_contains err "1 recreated" &&
	[ "$(cid $P-a)" != "$id_a" ] && [ "$(cid $P-b)" = "$id_b" ] &&
	[ "$(docker inspect -f "{{.Config.Hostname}}" $P-a)" = box2 ] &&
	same_as_compose 2>diffs || { cat diffs; false; }
'

for f in "cap_add: [NET_BIND_SERVICE, CHOWN]" "cap_drop: [MKNOD, NET_RAW]" \
	 "read_only: false" "tmpfs: [/run, /tmp]" "init: false" "stop_signal: SIGQUIT" \
	 "extra_hosts: [\"db.example:10.0.0.6\"]" "dns: [1.1.1.1]" "shm_size: 16m" \
	 "sysctls: {net.core.somaxconn: \"512\"}" "ulimits: {nofile: 512}" \
	 "expose: [\"7001\"]" "restart: on-failure:4" \
	 "networks: {default: {aliases: [alpha]}}"; do
	key=${f%%:*}
	test_expect_success "a change of $key recreates only its service" '
		id_a=$(cid $P-a) && id_b=$(cid $P-b) &&
		app box2 &&
		sed "/^  a:/,/^  b:/{/^    $key:/d}" m/$P/compose.yaml >c.yaml &&
		sed "s|^  a:|  a:\n    $f|" c.yaml >m/$P/compose.yaml &&
		$CARA sync --path m 2>err || { cat err; false; } &&
		expect_contains err "1 recreated" &&
		[ "$(cid $P-a)" != "$id_a" ] && [ "$(cid $P-b)" = "$id_b" ]
	'
done

test_expect_success 'privileged settings are refused without --allow-privileged; nothing applied or pruned' '
	app box2 && $CARA sync --path m 2>err &&
	id_a=$(cid $P-a) && id_b=$(cid $P-b) &&
	app box3 "    privileged: true" &&
	expect_exit 1 $CARA sync --path m 2>err &&
	expect_contains err "$P/compose.yaml:21:17: services.a.privileged: a privileged container has root power over the host: needs --allow-privileged on this host" &&
	[ "$(cid $P-a)" = "$id_a" ] && [ "$(cid $P-b)" = "$id_b" ] &&
	app box3 &&
	sed "s/NET_BIND_SERVICE\]/NET_BIND_SERVICE, SYS_ADMIN]/" m/$P/compose.yaml >c.yaml &&
	cp c.yaml m/$P/compose.yaml &&
	expect_exit 1 $CARA sync --path m 2>err &&
	expect_contains err "$P/compose.yaml:6:33: services.a.cap_add[1]: capability SYS_ADMIN is outside Docker" &&
	[ "$(cid $P-a)" = "$id_a" ] && [ "$(cid $P-b)" = "$id_b" ]
'

# (this test host's dockerd may lack capabilities, so privileged itself
# is only validated; NET_ADMIN is applied)
test_expect_success 'and accepted with it' '
	app box3 "    privileged: true" &&
	$CARA validate --allow-privileged m >out 2>err || { cat err; false; } &&
	app box3 &&
	sed "s/NET_BIND_SERVICE\]/NET_BIND_SERVICE, NET_ADMIN]/" m/$P/compose.yaml >c.yaml &&
	cp c.yaml m/$P/compose.yaml &&
	CARA_ALLOW_PRIVILEGED=true $CARA sync --path m 2>err || { cat err; false; } &&
	docker inspect -f "{{.HostConfig.CapAdd}}" $P-a | grep -q NET_ADMIN
'

test_expect_success 'enabling a profile creates its service; disabling it prunes it' '
	$CARA sync --path m --allow-privileged --compose-profiles debug 2>err &&
	expect_state $P-dbg running &&
	$CARA sync --path m --allow-privileged 2>err &&
	expect_state $P-dbg missing && expect_state $P-a running
'

test_expect_success 'cleanup: removing the file prunes the project' '
	rm m/$P/compose.yaml &&
	$CARA sync --path m --allow-mass-prune 2>err &&
	expect_state $P-a missing && expect_state $P-b missing
'


# the fields of 2.x files and game servers: a second project
W="$UNIQ-wild"
wild() {   # wild [TTY] [EXTRA-FIELD-LINE-FOR-app]
	mkdir -p "m/$W"
	cat > "m/$W/docker-compose.yml" <<EOT
version: "2.4"
services:
  app:
    image: $CARA_TEST_IMAGE
    entrypoint: ""
    command: ["sh", "-c", "$TRAP_SLEEP"]
    stop_grace_period: 1s
    tty: ${1:-true}
    stdin_open: true
    domainname: example.internal
    pids_limit: 64
    oom_score_adj: 200
    group_add: ["1234", nogroup]
    scale: 1
${2:-}
  web:
    image: $CARA_TEST_IMAGE
    command: ["sh", "-c", "$TRAP_SLEEP"]
    stop_grace_period: 1s
    links: ["app:backend"]
EOT
}

wild_as_compose() {
	(cd "m/$W" && docker-compose config) > wconfig.yaml &&
	python3 - "$W" wconfig.yaml <<'PY'
import json, subprocess, sys, yaml
project, cfg = sys.argv[1], yaml.safe_load(open(sys.argv[2]))
bad = []
def check(what, got, want):
    if got != want:
        bad.append("%s: cara %r, compose %r" % (what, got, want))
s = cfg["services"]["app"]
c = json.loads(subprocess.check_output(["docker", "inspect", project + "-app"]))[0]
conf, host = c["Config"], c["HostConfig"]
check("Tty", conf["Tty"], s["tty"])
check("OpenStdin", conf["OpenStdin"], s["stdin_open"])
check("Domainname", conf["Domainname"], s["domainname"])
check("PidsLimit", host["PidsLimit"], s["pids_limit"])
check("OomScoreAdj", host["OomScoreAdj"], s["oom_score_adj"])
check("GroupAdd", host["GroupAdd"], [str(g) for g in s["group_add"]])
# a link's alias: one more name of its target on the project network
net = c["NetworkSettings"]["Networks"]["cara-" + project]
alias = cfg["services"]["web"]["links"][0].split(":")[1]
check("Aliases", alias in net["Aliases"], True)
if bad:
    print("\n".join(bad), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

test_expect_success 'a 2.x file: tty, stdin_open, domainname, pids_limit, oom_score_adj, group_add as compose reads them' '
	wild &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	expect_state $W-app running && expect_state $W-web running &&
	wild_as_compose 2>diffs || { cat diffs; false; }
'

test_expect_success 'links: the linking service reaches its target by the alias' '
	ip=$(docker inspect -f "{{(index .NetworkSettings.Networks \"cara-$W\").IPAddress}}" $W-app) &&
	[ -n "$ip" ] &&
	docker exec $W-web nslookup backend >ns 2>&1 || { cat ns; false; } &&
	expect_contains ns "$ip"
'

test_expect_success 'a second pass changes nothing; a change of tty recreates only its service' '
	$CARA sync --path m 2>err &&
	expect_contains err "0 created, 0 recreated, 0 started, 0 removed" &&
	id_app=$(cid $W-app) && id_web=$(cid $W-web) &&
	wild false &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	expect_contains out "tty" &&
	$CARA sync --path m 2>err &&
	expect_contains err "1 recreated" &&
	[ "$(cid $W-app)" != "$id_app" ] && [ "$(cid $W-web)" = "$id_web" ] &&
	[ "$(docker inspect -f "{{.Config.Tty}}" $W-app)" = false ]
'

for f in "domainname: other.internal" "pids_limit: 128" "oom_score_adj: 300" \
	 "group_add: [\"1234\"]"; do
	key=${f%%:*}
	test_expect_success "a change of $key recreates only its service" '
		id_app=$(cid $W-app) && id_web=$(cid $W-web) &&
		wild false &&
		sed "/^  app:/,/^  web:/{/^    $key:/d}" m/$W/docker-compose.yml >c.yaml &&
		sed "s|^  app:|  app:\n    $f|" c.yaml >m/$W/docker-compose.yml &&
		$CARA sync --path m 2>err || { cat err; false; } &&
		expect_contains err "1 recreated" &&
		[ "$(cid $W-app)" != "$id_app" ] && [ "$(cid $W-web)" = "$id_web" ]
	'
done

# (this test host's dockerd may not lower a score: with the allowance the
# file is only validated)
test_expect_success 'a negative oom_score_adj is refused without --allow-privileged, nothing applied; valid with it' '
	wild false && $CARA sync --path m 2>err &&
	id_app=$(cid $W-app) &&
	sed "s/oom_score_adj: 200/oom_score_adj: -900/" m/$W/docker-compose.yml >c.yaml &&
	cp c.yaml m/$W/docker-compose.yml &&
	expect_exit 1 $CARA sync --path m 2>err &&
	expect_contains err "$W/docker-compose.yml:12:20: services.app.oom_score_adj: an OOM score adjustment of -900 makes the kernel kill the host" &&
	[ "$(cid $W-app)" = "$id_app" ] && expect_state $W-web running &&
	$CARA validate --allow-privileged m >out 2>err || { cat err; false; }
'

test_expect_success 'cleanup: removing the 2.x file prunes its project' '
	rm m/$W/docker-compose.yml &&
	$CARA sync --path m --allow-mass-prune 2>err &&
	expect_state $W-app missing && expect_state $W-web missing
'

test_done
