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

test_expect_success 'removed from the source: the volume now Managed keeps its data' '
	rm m/p.yaml &&
	$CARA sync --path m --allow-mass-prune 2>err &&
	expect_state $P-s missing &&
	docker run --rm -v cara-$P-v:/v $CARA_TEST_IMAGE cat /v/data | grep -qx precious
'

test_expect_success '--purge-volumes removes it, although its project was torn down already' '
	$CARA sync --path m --allow-mass-prune --purge-volumes 2>err &&
	! docker volume inspect cara-$P-v >/dev/null 2>&1
'

test_done
