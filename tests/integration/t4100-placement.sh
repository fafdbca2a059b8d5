#!/bin/sh
# Placement on plain Docker hosts (no Swarm): two dockerd nodes in their
# own network namespaces, each driven by its own cara (own state
# directory, --node node1 / node2, --node-labels zone=a / zone=b) reading
# one manifest directory.  A project placed on one node runs there only;
# the other node neither runs nor prunes it and reports it as placed
# elsewhere; a project moved from node1 to node2 is created on node2 and
# torn down on node1 (PlacedElsewhere), its Managed volume kept on node1;
# data moves by tar as doc/operations.md shows; nodeSelector matches the
# host's labels; a compose file places itself with x-cara.placement; a
# project's secrets are read only where it is placed; an invalid manifest
# keeps its old placement; re-placing every project on a node that does
# not exist is stopped by the mass-prune guard.
. "$srcdir/tests/lib.sh"
. "$srcdir/tests/lib-nodes.sh"

if ! nodes_up 2; then
	test_skip 'placement on two plain Docker hosts' "$NODES_WHY"
	test_done
	exit 0
fi

P="$UNIQ-moved"
S="$UNIQ-sel"
U="$UNIQ-all"
mkdir -p m

# cara as node I's: its own Engine, state directory, name and labels
# (flags where the command takes them, else the variables)
on() {
	_i=$1; shift
	_cmd=$1; shift
	case $_cmd in
	sync|diff|gc)
		CARA_STATE_DIR="$TEST_DIR/state$_i" $CARA "$_cmd" \
			--docker-host "unix://$(node_sock "$_i")" --node "node$_i" \
			--node-labels "zone=$(echo "$_i" | tr 12 ab),disk=ssd" "$@" ;;
	*)
		CARA_STATE_DIR="$TEST_DIR/state$_i" \
		DOCKER_HOST="unix://$(node_sock "$_i")" CARA_NODE="node$_i" \
		CARA_NODE_LABELS="zone=$(echo "$_i" | tr 12 ab),disk=ssd" \
			$CARA "$_cmd" "$@" ;;
	esac
}
# nstate I NAME: container NAME's state on node I, or "missing"
nstate() {
	_s=$(node_docker "$1" inspect -f '{{.State.Status}}' "$2" 2>/dev/null | tr -d '\n')
	echo "${_s:-missing}"
}
expect_nstate() {
	_got=$(nstate "$1" "$2")
	[ "$_got" = "$3" ] || { echo "node $1: $2 is $_got, not $3" >&2; return 1; }
}
# placed NAME PLACEMENT [V]: a sleeper with a Managed volume, placed so
placed() {
	cat <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $1}
spec:
  placement: $2
  services:
    - name: s
      image: $CARA_TEST_IMAGE
      env: [{name: V, value: "${3:-}"}]
      command: ["sh", "-c", "$TRAP_SLEEP"]
      volumeMounts: [{name: data, mountPath: /data}]
      stopGracePeriod: 1s
  volumes:
    - {name: data, type: Managed}
EOT
}

test_expect_success 'a project placed on node1 runs there, not on node2; node2 prunes nothing' '
	placed "$P" "{node: node1}" > m/moved.yaml &&
	sleeper_project "$U" > m/all.yaml &&
	on 1 sync --path m 2>err1 &&
	on 2 sync --path m 2>err2 &&
	expect_nstate 1 "$P-s" running &&
	expect_nstate 2 "$P-s" missing &&
	expect_nstate 1 "$U-s" running &&
	expect_nstate 2 "$U-s" running &&
	! node_docker 2 volume inspect "cara-$P-data" >/dev/null 2>&1 &&
	expect_not_contains err2 "teardown" &&
	expect_not_contains err2 "RemovedFromSource" &&
	on 2 sync --path m 2>err2 &&
	expect_nstate 2 "$P-s" missing && expect_nstate 2 "$U-s" running
'

test_expect_success 'node2 reports it as placed on node1, not as missing or an orphan' '
	on 2 status >out &&
	grep -E "^$P +Terminated +PlacedElsewhere" out &&
	grep -E "^$U +Running" out &&
	expect_exit 0 on 2 diff --path m >out 2>err &&
	expect_contains out "$P (PlacedElsewhere: placed on node '"'"'node1'"'"' (this host is '"'"'node2'"'"'))" &&
	expect_contains out "No changes" &&
	on 2 diff --path m --output json >out.json 2>err &&
	expect_contains out.json "\"verdict\": \"elsewhere\", \"cause\": \"PlacedElsewhere\"" &&
	expect_exit 0 on 1 diff --path m >out 2>err &&
	expect_not_contains out "PlacedElsewhere"
'

test_expect_success 'moved to node2: node1 plans its teardown, node2 its creation' '
	placed "$P" "{node: node2}" > m/moved.yaml &&
	expect_exit 2 on 1 diff --path m >out1 2>err &&
	expect_contains out1 "$P (teardown: PlacedElsewhere: placed on node '"'"'node2'"'"' (this host is '"'"'node1'"'"'))" &&
	expect_contains out1 "- container $P-s" &&
	expect_not_contains out1 "volume cara-$P-data" &&
	expect_exit 2 on 2 diff --path m >out2 2>err &&
	expect_contains out2 "+ container $P-s"
'

test_expect_success 'on their next passes: created on node2, torn down on node1, its volume kept there' '
	on 2 sync --path m 2>err2 &&
	expect_nstate 2 "$P-s" running &&
	on 1 sync --path m 2>err1 &&
	expect_contains err1 "PlacedElsewhere" &&
	expect_nstate 1 "$P-s" missing &&
	! node_docker 1 network inspect "cara-$P" >/dev/null 2>&1 &&
	node_docker 1 volume inspect "cara-$P-data" >/dev/null &&
	expect_nstate 1 "$U-s" running &&
	on 1 status >out && grep -E "^$P +Terminated +PlacedElsewhere" out &&
	expect_exit 0 on 1 diff --path m >out 2>err &&
	expect_exit 0 on 2 diff --path m >out 2>err &&
	on 1 sync --path m 2>err1 && on 2 sync --path m 2>err2 &&
	expect_nstate 2 "$P-s" running && expect_nstate 1 "$P-s" missing
'

D="$UNIQ-data"
test_expect_success 'data moves as doc/operations.md shows: through no node, tar, then node2' '
	placed "$D" "{node: node1}" > m/data.yaml &&
	on 1 sync --path m 2>err1 && on 2 sync --path m 2>err2 &&
	node_docker 1 exec "$D-s" sh -c "echo precious > /data/f" &&
	placed "$D" "{node: none}" > m/data.yaml &&
	on 1 sync --path m 2>err1 && on 2 sync --path m 2>err2 &&
	expect_nstate 1 "$D-s" missing && expect_nstate 2 "$D-s" missing &&
	id=$(on 2 state identity) &&
	node_docker 2 volume create --label cara.project="$D" \
		--label cara.volume.type=Managed --label cara.owner="$id" "cara-$D-data" >/dev/null &&
	node_docker 1 run --rm -v "cara-$D-data:/from:ro" "$CARA_TEST_IMAGE" \
		tar -C /from -cf - . |
		node_docker 2 run --rm -i -v "cara-$D-data:/to" "$CARA_TEST_IMAGE" \
		tar -C /to -xf - &&
	placed "$D" "{node: node2}" > m/data.yaml &&
	on 2 sync --path m 2>err2 &&
	[ "$(node_docker 2 exec "$D-s" cat /data/f)" = precious ] &&
	expect_exit 4 on 1 gc --path m --purge-volumes 2>err1 &&
	expect_contains err1 "refusing to prune 2 of 3" &&
	node_docker 1 volume inspect "cara-$D-data" >/dev/null &&
	on 1 gc --path m --purge-volumes --allow-mass-prune 2>err1 &&
	! node_docker 1 volume inspect "cara-$D-data" >/dev/null 2>&1 &&
	! node_docker 1 volume inspect "cara-$P-data" >/dev/null 2>&1 &&
	expect_nstate 1 "$U-s" running
'

test_expect_success 'nodeSelector: a project runs where the host labels match' '
	{ sleeper_project "$S"; echo "  placement: {nodeSelector: {zone: b, disk: ssd}}"; } > m/sel.yaml &&
	on 1 sync --path m 2>err1 && on 2 sync --path m 2>err2 &&
	expect_nstate 2 "$S-s" running &&
	expect_nstate 1 "$S-s" missing &&
	on 1 diff --path m >out 2>err &&
	expect_contains out "$S (PlacedElsewhere: nodeSelector zone=b: this host'"'"'s label zone is '"'"'a'"'"')"
'

K="$UNIQ-key"
C="$UNIQ-compose"
test_expect_success 'a compose project placed by x-cara.placement' '
	mkdir -p "m/$C" &&
	cat > "m/$C/compose.yaml" <<-EOT &&
	services:
	  web:
	    image: $CARA_TEST_IMAGE
	    command: ["sh", "-c", "$TRAP_SLEEP"]
	    stop_grace_period: 1s
	x-cara:
	  placement: {node: node1}
	EOT
	on 1 sync --path m 2>err1 && on 2 sync --path m 2>err2 &&
	expect_nstate 1 "$C-web" running && expect_nstate 2 "$C-web" missing &&
	on 2 diff --path m >out 2>err &&
	expect_contains out "$C (PlacedElsewhere: placed on node '"'"'node1'"'"'" &&
	rm -r "m/$C" && on 1 sync --path m 2>err1 && expect_nstate 1 "$C-web" missing
'

test_expect_success 'a project placed on node1 needs its secrets on node1 only' '
	mkdir -p "$TEST_DIR/secrets1/$K" &&
	echo s3cret > "$TEST_DIR/secrets1/$K/token" &&
	cat > m/key.yaml <<-EOT &&
	apiVersion: caravanserai/v1
	kind: Project
	metadata: {name: $K}
	spec:
	  placement: {node: node1}
	  services:
	    - name: s
	      image: $CARA_TEST_IMAGE
	      env: [{name: T, valueFrom: {secretKeyRef: {name: $K, key: token}}}]
	      command: ["sh", "-c", "$TRAP_SLEEP"]
	      stopGracePeriod: 1s
	EOT
	on 1 sync --path m --secrets-dir "$TEST_DIR/secrets1" 2>err1 &&
	on 2 sync --path m --secrets-dir "$TEST_DIR/secrets2" 2>err2 &&
	expect_not_contains err2 SecretMissing &&
	expect_nstate 1 "$K-s" running && expect_nstate 2 "$K-s" missing &&
	rm m/key.yaml &&
	on 1 sync --path m --secrets-dir "$TEST_DIR/secrets1" 2>err1 &&
	expect_nstate 1 "$K-s" missing
'

test_expect_success 'an invalid placement is an error; the project keeps its old placement' '
	placed "$P" "{node: -node1}" > m/moved.yaml &&
	expect_exit 1 on 1 validate m 2>err &&
	expect_contains err "moved.yaml:5:21: spec.placement.node: invalid node name" &&
	id=$(node_docker 2 inspect -f "{{.Id}}" "$P-s") &&
	expect_exit 4 on 2 sync --path m 2>err2 &&
	expect_exit 4 on 1 sync --path m 2>err1 &&
	expect_nstate 2 "$P-s" running &&
	[ "$(node_docker 2 inspect -f "{{.Id}}" "$P-s")" = "$id" ] &&
	expect_nstate 1 "$P-s" missing &&
	placed "$P" "{node: node2}" > m/moved.yaml
'

test_expect_success 'a bad --node-labels is refused before anything is touched' '
	expect_exit 1 on 1 sync --path m --node-labels "zone" 2>err &&
	expect_contains err "--node-labels: '"'"'zone'"'"' is not KEY=VALUE" &&
	expect_exit 1 env CARA_NODE_LABELS="zone=a,disk" $CARA diff --path m 2>err &&
	expect_contains err "CARA_NODE_LABELS: '"'"'disk'"'"' is not KEY=VALUE" &&
	printf "nodeLabels: \"zone=a b\"\n" > bad.yaml &&
	expect_exit 1 env CARA_CONFIG=bad.yaml $CARA diff --path m 2>err &&
	expect_contains err "bad.yaml: nodeLabels: value '"'"'a b'"'"' of label zone"
'

test_expect_success 'every project re-placed on a node that does not exist: the guard stops it' '
	for f in m/*.yaml; do
		sed -i "s/^  placement: .*//" "$f" &&
		sed -i "s/^spec:$/spec:\n  placement: {node: nowhere}/" "$f" || return 1
	done &&
	! on 2 sync --path m 2>err2 &&
	expect_contains err2 "refusing to prune" &&
	expect_nstate 2 "$P-s" running && expect_nstate 2 "$S-s" running &&
	expect_nstate 2 "$U-s" running &&
	on 2 status >out && grep -E "^$P +Running" out &&
	! on 2 diff --path m >out 2>err &&
	expect_contains err "refusing to prune" &&
	on 2 sync --path m --allow-mass-prune 2>err2 &&
	expect_nstate 2 "$P-s" missing && expect_nstate 2 "$U-s" missing &&
	node_docker 2 volume inspect "cara-$P-data" >/dev/null
'

test_done
