#!/bin/sh
# The same compose file brought up twice, once with `docker-compose up -d`
# (Debian's 1.29.2, the peer) and once with `cara sync`, one after the other
# (they would publish the same ports): the two sets of containers, read back
# with docker inspect, are the same in image, command, entrypoint, env,
# mounts, ports, healthcheck, restart policy, resources (memory and its
# reservation and swap limit, CPUs and CPU shares), user, capabilities,
# host settings (tty, stdin_open, domainname, pids_limit, oom_score_adj,
# group_add, dns_search and dns_opt too), networks (which, internal or
# not) and the aliases on each.
#
# The documented differences, and only those, are normalised:
# - names: docker-compose's PROJECT_SERVICE_1, PROJECT_VOLUME,
#   PROJECT_default and PROJECT_NET are cara's PROJECT-SERVICE,
#   cara-PROJECT-VOLUME, cara-PROJECT and cara-PROJECT_NET (cara-manifest(5)
#   NAMES); an external network is its own name in both;
# - labels: com.docker.compose.* against cara.*; the labels the file sets
#   must be on both;
# - network aliases: both give the service name; docker-compose adds the
#   container's short id and cara the container name, which are dropped;
# - StopTimeout: docker-compose leaves it unset for the default 10 s,
#   cara writes 10;
# - a long-syntax tmpfs volume: a tmpfs Mount in docker-compose, a
#   HostConfig.Tmpfs entry in cara: the same mount in the container (rw,
#   nosuid, nodev, noexec), so the Mount is compared as a Tmpfs entry;
# - Hostname, where the file sets none: each container's own short id;
# - container_name: docker-compose names the container so, cara keeps
#   PROJECT-SERVICE and makes it an alias of the service on its networks:
#   dropped from the aliases, and shown resolved from another container
#   on both sides.
. "$srcdir/tests/lib.sh"

command -v docker-compose >/dev/null 2>&1 || {
	test_skip 'cara sync gives the containers docker-compose up -d gives' 'no docker-compose'
	test_done; exit; }

P="$UNIQ-cmp"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ROOT="$TEST_DIR/root"
mkdir -p "m/$P" "$ROOT/www"
echo "side by side" > "$ROOT/www/index.html"
cleanup_compose() {
	(cd "$TEST_DIR/m/$P" 2>/dev/null && docker-compose -p "$P" down -v) >/dev/null 2>&1
	test_cleanup
	docker network rm "$P-ext" >/dev/null 2>&1
}
trap cleanup_compose EXIT

export CARA_HOSTPATH_ROOTS="$ROOT" CARA_ALLOW_PRIVILEGED=1 T3760_LEVEL=debug

cat > "m/$P/compose.yaml" <<EOT
x-base: &base
  image: $CARA_TEST_IMAGE
  stop_grace_period: 2s
services:
  web:
    <<: *base
    command: httpd -f -p 8080 -h /srv/www
    environment:
      LEVEL: \${T3760_LEVEL}
      FROM_DOTENV: \${DOT:-none}
    env_file: web.env
    ports: ["127.0.0.1:$PORT:8080", "127.0.0.1::9090/udp"]
    expose: ["7070"]
    volumes:
      - $ROOT/www:/srv/www:ro
      - data:/data
      - type: tmpfs
        target: /scratch
    restart: unless-stopped
    labels: {team: shop, tier: front}
    mem_limit: 64m
    cpus: 0.5
    mem_reservation: 32m
    memswap_limit: 128m
    cpu_shares: 512
    user: "65534:65534"
    working_dir: /srv
    cap_drop: [ALL]
    cap_add: [NET_BIND_SERVICE]
    hostname: webhost
    extra_hosts: ["db.example:10.1.2.3"]
    init: true
    read_only: true
    tmpfs: [/run]
    ulimits: {nofile: {soft: 1024, hard: 2048}}
    sysctls: {net.core.somaxconn: 1024}
    shm_size: 16m
    tty: true
    stdin_open: true
    domainname: shop.internal
    pids_limit: 100
    oom_score_adj: 250
    group_add: ["4242"]
    dns_search: [shop.internal, example.org]
    dns_opt: ["ndots:2"]
    devices: ["/dev/zero:/dev/cara-zero:rw"]
    logging:
      driver: json-file
      options: {max-size: 1m, max-file: "2"}
    networks:
      default: {aliases: [www, front]}
      back: {aliases: [api]}
      shared:
    depends_on:
      db: {condition: service_healthy}
  db:
    <<: *base
    container_name: $P-olddb
    entrypoint: ["sh", "-c"]
    command: ["trap 'exit 0' TERM; touch /tmp/ready; while :; do sleep 1; done"]
    healthcheck:
      test: ["CMD-SHELL", "test -f /tmp/ready"]
      interval: 1s
      timeout: 1s
      retries: 10
      start_period: 2s
    restart: on-failure:3
    stop_signal: SIGINT
    deploy:
      resources:
        limits: {memory: 32m}
        reservations: {memory: 16m}
    memswap_limit: -1
    volumes: [data:/data]
    networks: [back]
volumes:
  data:
networks:
  back:
    internal: true
  shared:
    external: true
    name: $P-ext
EOT
docker network create "$P-ext" >/dev/null
printf 'DOT=from-dotenv\n' > "m/$P/.env"
printf 'FILE_VAR=from file\n' > "m/$P/web.env"

# inspect KIND: one JSON object per service, the fields compared, with the
# documented differences normalised
inspect() {
	python3 - "$1" "$P" <<'PY'
import json, subprocess, sys
kind, project = sys.argv[1], sys.argv[2]
out = {}
for svc in ("web", "db"):
    name = "%s_%s_1" % (project, svc) if kind == "compose" else "%s-%s" % (project, svc)
    if kind == "compose" and svc == "db":   # its container_name
        name = project + "-olddb"
    c = json.loads(subprocess.check_output(["docker", "inspect", name]))[0]
    conf, host = c["Config"], c["HostConfig"]
    vol = (lambda v: v[len(project) + 1:]) if kind == "compose" else \
          (lambda v: v[len("cara-" + project) + 1:])
    tmpfs = dict(host.get("Tmpfs") or {})
    tmpfs.update({m["Destination"]: "" for m in c["Mounts"] if m["Type"] == "tmpfs"})
    mounts = sorted((m["Type"], vol(m["Name"]) if m["Type"] == "volume" else m["Source"],
                     m["Destination"], m["RW"]) for m in c["Mounts"] if m["Type"] != "tmpfs")
    drop = {c["Id"][:12], c["Name"].lstrip("/"), project + "-olddb"}
    own = project + "_" if kind == "compose" else "cara-" + project
    def net(n):   # the network's name in the file
        if n == own or n == own + "default":
            return "default"
        if kind != "compose" and n.startswith(own + "_"):
            return n[len(own) + 1:]
        return n[len(own):] if kind == "compose" and n.startswith(own) else n
    networks = {}
    for n, ep in c["NetworkSettings"]["Networks"].items():
        internal = json.loads(subprocess.check_output(
            ["docker", "network", "inspect", "-f", "{{json .Internal}}", n]))
        networks[net(n)] = (internal, sorted(a for a in (ep["Aliases"] or [])
                                             if a not in drop))
    labels = {k: v for k, v in (conf["Labels"] or {}).items()
              if not k.startswith(("com.docker.compose.", "cara."))}
    ports = {k: sorted((b["HostIp"], b["HostPort"] if b["HostPort"] not in ("", "0") else "any")
                       for b in (v or []))
             for k, v in (host.get("PortBindings") or {}).items()}
    out[svc] = {
        "image": conf["Image"], "cmd": conf["Cmd"], "entrypoint": conf["Entrypoint"],
        "env": sorted(conf["Env"]), "user": conf["User"], "workdir": conf["WorkingDir"],
        "hostname": "id" if conf["Hostname"] == c["Id"][:12] else conf["Hostname"], "exposed": sorted(conf.get("ExposedPorts") or {}),
        "health": conf.get("Healthcheck"), "stop_signal": conf.get("StopSignal"),
        "stop_timeout": conf.get("StopTimeout") or 10,
        "labels": labels, "mounts": mounts, "ports": ports,
        "restart": host.get("RestartPolicy"), "memory": host.get("Memory"),
        "nano_cpus": host.get("NanoCpus"),
        "mem_reservation": host.get("MemoryReservation"),
        "memswap": host.get("MemorySwap"), "cpu_shares": host.get("CpuShares"), "cap_add": host.get("CapAdd"), "cap_drop": host.get("CapDrop"),
        "extra_hosts": host.get("ExtraHosts"), "init": host.get("Init"),
        "read_only": host.get("ReadonlyRootfs"), "tmpfs": tmpfs,
        "ulimits": host.get("Ulimits"), "sysctls": host.get("Sysctls"), "shm": host.get("ShmSize"),
        "privileged": host.get("Privileged"),
        "devices": host.get("Devices"), "log": host.get("LogConfig"),
        "networks": networks,
        "tty": conf.get("Tty"), "stdin": conf.get("OpenStdin"),
        "domainname": conf.get("Domainname"), "pids": host.get("PidsLimit"),
        "oom": host.get("OomScoreAdj"), "groups": host.get("GroupAdd"),
        "dns_search": host.get("DnsSearch"), "dns_opt": host.get("DnsOptions"),
    }
json.dump(out, sys.stdout, indent=1, sort_keys=True)
print()
PY
}

# resolves CONTAINER NAME: NAME has an address in CONTAINER (busybox
# nslookup exits 0 either way; a trailing dot skips the search domains)
resolves() {
	docker exec "$1" nslookup "$2." >ns.log 2>&1
	grep -q "^Name:" ns.log || { echo "$2 does not resolve in $1:"; cat ns.log; false; }
}

test_expect_success 'docker-compose up -d brings the file up (the peer)' '
	(cd m/$P && docker-compose -p $P up -d) >up.log 2>&1 || { cat up.log; false; } &&
	{ inspect compose >compose.json; ok=$?; } &&
	{ resolves ${P}_web_1 $P-olddb || ok=1; } &&
	(cd m/$P && docker-compose -p $P down -v) >down.log 2>&1 || { cat down.log; false; } &&
	[ $ok = 0 ]
'

test_expect_success 'cara sync brings the same file up' '
	$CARA sync --path m 2>err || { cat err; false; } &&
	expect_state $P-web running && expect_state $P-db running &&
	python3 -c "import urllib.request; print(urllib.request.urlopen(\"http://127.0.0.1:$PORT/\", timeout=5).read().decode())" |
		grep -q "side by side" &&
	inspect cara >cara.json &&
	resolves $P-web $P-olddb
'

test_expect_success 'the two sets of containers are the same, field by field' '
	python3 - compose.json cara.json <<-PY
	import json, sys
	a, b = (json.load(open(f)) for f in sys.argv[1:3])
	bad = ["%s.%s: docker-compose %r, cara %r" % (s, k, a[s][k], b[s].get(k))
	       for s in a for k in a[s] if a[s][k] != b[s].get(k)]
	print("\n".join(bad), file=sys.stderr)
	sys.exit(1 if bad else 0)
	PY
'

test_expect_success 'the comparison sees a difference: a changed field shows' '
	sed "s/mem_limit: 64m/mem_limit: 96m/" m/$P/compose.yaml >c2 && mv c2 m/$P/compose.yaml &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	inspect cara >cara2.json &&
	! cmp -s compose.json cara2.json &&
	grep -q "\"memory\": 100663296" cara2.json
'

test_done
