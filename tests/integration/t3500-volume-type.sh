#!/bin/sh
# A volume declared Ephemeral and then Managed keeps its (immutable)
# Docker label, but teardown obeys the type the source declares: the plan
# shows the change, and the data survives the project's removal.
. "$srcdir/tests/lib.sh"

P="$UNIQ-vt"
mkdir -p m
vol_project() {   # vol_project TYPE
	cat <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $P}
spec:
  services:
    - name: s
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "test -f /v/data || echo precious > /v/data; $TRAP_SLEEP"]
      stopGracePeriod: 1s
      volumeMounts: [{name: v, mountPath: /v}]
  volumes: [{name: v, type: $1}]
EOT
}

test_expect_success 'Ephemeral to Managed: the plan says so, then nothing is pending' '
	vol_project Ephemeral > m/p.yaml &&
	$CARA sync --path m 2>err &&
	vol_project Managed > m/p.yaml &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	expect_contains out "~ volume cara-$P-v (type: Ephemeral -> Managed)" &&
	$CARA sync --path m 2>err &&
	expect_contains err "volume cara-$P-v is now Managed" &&
	[ "$(docker volume inspect -f "{{index .Labels \"cara.volume.type\"}}" cara-$P-v)" = Ephemeral ] &&
	expect_exit 0 $CARA diff --path m
'

# The pins a Swarm pass records (state.h); here written as it would, to
# see a purge drop them: v's volume is on this host, w's on another node.
pins() {
	sqlite3 "$CARA_STATE_DIR/state.db" \
		"SELECT volume || ' ' || hostname FROM volume_pins WHERE project = '$P' ORDER BY 1"
}

test_expect_success 'removed from the source: the volume now Managed keeps its data, and its pin' '
	sqlite3 "$CARA_STATE_DIR/state.db" \
		"INSERT INTO volume_pins(project, volume, node_id, hostname, time) VALUES
		 ('"'$P'"', '"'v'"', '"'id1'"', '"'node1'"', 1),
		 ('"'$P'"', '"'w'"', '"'id2'"', '"'node2'"', 1)" &&
	rm m/p.yaml &&
	$CARA sync --path m --allow-mass-prune 2>err &&
	expect_state $P-s missing &&
	docker run --rm -v cara-$P-v:/v $CARA_TEST_IMAGE cat /v/data | grep -qx precious &&
	[ "$(pins | tr "\n" ,)" = "v node1,w node2," ] &&
	expect_not_contains err "pin of volume"
'

test_expect_success '--purge-volumes removes it, although its project was torn down already; the pins go' '
	$CARA sync --path m --allow-mass-prune --purge-volumes 2>err &&
	! docker volume inspect cara-$P-v >/dev/null 2>&1 &&
	[ -z "$(pins)" ] &&
	expect_contains err "pin of volume '"'v'"' dropped with the purge" &&
	expect_contains err "pin of volume '"'w'"' dropped; cara removed no volume cara-$P-w here: if node node2 holds one, remove it there (docker volume rm cara-$P-w)" &&
	$CARA sync --path m --allow-mass-prune --purge-volumes 2>err &&
	expect_not_contains err "pin of volume"
'

test_done
