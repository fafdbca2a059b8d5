# tests/lib-nodes.sh - several Docker "hosts" on this one machine, for the
# tests of what crosses hosts (Swarm, placement).  Sourced after tests/lib.sh.
#
#   nodes_up N        a hub network namespace holding a bridge, and N node
#                     namespaces, each linked to the bridge by a veth pair and
#                     running its own dockerd (own data root, exec root,
#                     socket, pidfile, cgroup parent); the local test image
#                     is loaded into each.  Returns 1 (with a reason in
#                     $NODES_WHY) where namespaces cannot be made.
#   node_sock I       the unix socket path of node I (1..N)
#   node_addr I       node I's address on the hub bridge
#   node_docker I ... the docker CLI against node I
#   node_kill I       SIGKILL node I's dockerd (a host lost)
#   nodes_down        everything above torn down by PID, mounts under each
#                     exec root undone, namespaces deleted; run from the
#                     script's EXIT trap (nodes_up installs it).
#
# Addresses: 192.168.X.0/24 on the hub bridge, X chosen at random, and every
# dockerd's own pools, exist only inside these namespaces.

NODES_DIR=
NODES_N=0
NODES_WHY=

node_sock() { echo "$NODES_DIR/n$1/docker.sock"; }
node_addr() { echo "$NODES_NET.$((10 + $1))"; }
node_docker() {
	_n=$1; shift
	docker -H "unix://$(node_sock "$_n")" "$@"
}

nodes_down() {
	[ -n "$NODES_DIR" ] || return 0
	i=1
	while [ "$i" -le "$NODES_N" ]; do
		pid=$(cat "$NODES_DIR/n$i/dockerd.pid" 2>/dev/null)
		[ -n "$pid" ] && kill "$pid" 2>/dev/null
		i=$((i + 1))
	done
	# dockerd's own --shutdown-timeout is 2 s; then whatever is left goes
	j=0
	while [ $j -lt 20 ]; do
		alive=
		for f in "$NODES_DIR"/n*/dockerd.pid; do
			[ -f "$f" ] || continue
			pid=$(cat "$f")
			[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ -z "$alive" ] && break
		sleep 0.5
		j=$((j + 1))
	done
	for f in "$NODES_DIR"/n*/dockerd.pid; do
		[ -f "$f" ] || continue
		pid=$(cat "$f")
		[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	done
	# containerd-shim processes outlive a killed dockerd: those of our exec
	# roots only, found by their command line
	for p in /proc/[0-9]*; do
		grep -qa "$NODES_DIR/" "$p/cmdline" 2>/dev/null && kill -9 "${p#/proc/}" 2>/dev/null
	done
	# mounts under our directories, deepest first
	awk -v d="$NODES_DIR/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts |
		sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	i=1
	while [ "$i" -le "$NODES_N" ]; do
		ip netns del "$NODES_PREFIX-n$i" 2>/dev/null
		i=$((i + 1))
	done
	ip netns del "$NODES_PREFIX-hub" 2>/dev/null
	rm -rf "$NODES_DIR"
	NODES_DIR=
}

# _node_start I: dockerd of node I, in its namespace
_node_start() {
	d="$NODES_DIR/n$1"
	mkdir -p "$d/data" "$d/exec"
	printf '{ "deprecated-key-path": "%s/key.json" }\n' "$d" > "$d/daemon.json"
	# shellcheck disable=SC2086
	# its own UTS namespace too, so Swarm names the nodes node1, node2, ...
	setsid nsenter --net="/run/netns/$NODES_PREFIX-n$1" unshare --uts \
		sh -c 'hostname "$0" && exec "$@"' "node$1" dockerd \
		--config-file "$d/daemon.json" \
		--data-root "$d/data" --exec-root "$d/exec" \
		-H "unix://$d/docker.sock" --pidfile "$d/dockerd.pid" \
		--cgroup-parent "$NODES_PREFIX-n$1" \
		--default-address-pool base=10.200.0.0/16,size=24 \
		--shutdown-timeout 2 ${NODES_DOCKERD_ARGS:-} \
		>"$d/dockerd.log" 2>&1 </dev/null &
}

nodes_up() {
	NODES_N=$1
	command -v ip >/dev/null 2>&1 || { NODES_WHY="no ip(8)"; return 1; }
	command -v nsenter >/dev/null 2>&1 || { NODES_WHY="no nsenter(1)"; return 1; }
	NODES_PREFIX="cara-${UNIQ:-x$$}"
	NODES_DIR=$(mktemp -d "/tmp/cara-nodes.XXXXXX")
	NODES_NET="192.168.$((100 + $(od -An -N1 -tu1 /dev/urandom) % 150))"
	trap 'nodes_down; test_cleanup' EXIT
	hub="$NODES_PREFIX-hub"
	if ! ip netns add "$hub" 2>"$NODES_DIR/why"; then
		NODES_WHY="cannot make a network namespace: $(cat "$NODES_DIR/why")"
		return 1
	fi
	ip -n "$hub" link add br0 type bridge &&
	ip -n "$hub" link set br0 up &&
	ip -n "$hub" addr add "$NODES_NET.1/24" dev br0 &&
	ip -n "$hub" link set lo up || { NODES_WHY="hub bridge refused"; return 1; }
	i=1
	while [ "$i" -le "$NODES_N" ]; do
		ns="$NODES_PREFIX-n$i"
		# veth names: 15 bytes at most, unique per run
		a="cv$$a$i"; b="cv$$b$i"
		ip netns add "$ns" &&
		ip link add "$a" type veth peer name "$b" &&
		ip link set "$a" netns "$hub" &&
		ip link set "$b" netns "$ns" &&
		ip -n "$hub" link set "$a" master br0 &&
		ip -n "$hub" link set "$a" up &&
		ip -n "$ns" link set "$b" name eth0 &&
		ip -n "$ns" addr add "$(node_addr "$i")/24" dev eth0 &&
		ip -n "$ns" link set eth0 up &&
		ip -n "$ns" link set lo up &&
		ip -n "$ns" route add default via "$NODES_NET.1" ||
			{ NODES_WHY="node $i's namespace refused"; return 1; }
		_node_start "$i"
		i=$((i + 1))
	done
	i=1
	while [ "$i" -le "$NODES_N" ]; do
		j=0
		until node_docker "$i" version >/dev/null 2>&1; do
			j=$((j + 1))
			if [ $j -gt 120 ]; then
				NODES_WHY="node $i's dockerd did not answer: $(tail -n 3 "$NODES_DIR/n$i/dockerd.log")"
				return 1
			fi
			sleep 0.5
		done
		i=$((i + 1))
	done
	# the local test image on every node (no registry is needed for it)
	docker save "$CARA_TEST_IMAGE" > "$NODES_DIR/image.tar" || { NODES_WHY="docker save failed"; return 1; }
	i=1
	while [ "$i" -le "$NODES_N" ]; do
		node_docker "$i" load -q -i "$NODES_DIR/image.tar" >/dev/null ||
			{ NODES_WHY="image load on node $i failed"; return 1; }
		i=$((i + 1))
	done
	return 0
}

# node_restart I: node I's dockerd again, after node_kill
node_restart() {
	_node_start "$1"
	j=0
	until node_docker "$1" version >/dev/null 2>&1; do
		j=$((j + 1)); [ $j -gt 120 ] && return 1
		sleep 0.5
	done
}

node_kill() {
	pid=$(cat "$NODES_DIR/n$1/dockerd.pid" 2>/dev/null)
	[ -n "$pid" ] && kill -9 "$pid"
	rm -f "$NODES_DIR/n$1/dockerd.pid"
}

# swarm_up: node 1 initialises a Swarm, the others join as workers.
swarm_up() {
	node_docker 1 swarm init --advertise-addr "$(node_addr 1)" \
		--default-addr-pool 10.96.0.0/12 >/dev/null || { NODES_WHY="swarm init failed"; return 1; }
	tok=$(node_docker 1 swarm join-token -q worker) || return 1
	i=2
	while [ "$i" -le "$NODES_N" ]; do
		node_docker "$i" swarm join --token "$tok" --advertise-addr "$(node_addr "$i")" \
			"$(node_addr 1):2377" >/dev/null || { NODES_WHY="node $i did not join"; return 1; }
		i=$((i + 1))
	done
}
