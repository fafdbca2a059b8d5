#!/bin/sh
# HostPath volumes on the real dockerd: the host directory is resolved when
# the container is created, under the allowed root and without following a
# link, so a container that writes in the root cannot hand another project
# the host's / ; a missing directory is refused, never created.
. "$srcdir/tests/lib.sh"

ROOT="$TEST_DIR/root"
mkdir -p "$ROOT/data" "$TEST_DIR/real/shared" m
echo hello > "$ROOT/data/hello"
echo real > "$TEST_DIR/real/shared/file"
ln -s "$TEST_DIR/real" "$TEST_DIR/rootlink"
export CARA_HOSTPATH_ROOTS="$ROOT:$TEST_DIR/rootlink"

hostpath_project() {   # hostpath_project NAME HOSTPATH [COMMAND]
	cat <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $1}
spec:
  services:
    - name: s
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "${3:-$TRAP_SLEEP}"]
      stopGracePeriod: 1s
      volumeMounts: [{name: h, mountPath: /m}]
  volumes: [{name: h, type: HostPath, hostPath: "$2"}]
EOT
}
src() { docker inspect -f '{{range .Mounts}}{{.Source}}{{end}}' "$1"; }

test_expect_success 'a HostPath directory under the root is bound by its real path' '
	hostpath_project $UNIQ-a "$ROOT/data" > m/a.yaml &&
	hostpath_project $UNIQ-l "$TEST_DIR/rootlink/shared" > m/l.yaml &&
	$CARA sync --path m 2>err &&
	expect_state $UNIQ-a-s running &&
	docker exec $UNIQ-a-s cat /m/hello | grep -qx hello &&
	[ "$(src $UNIQ-a-s)" = "$ROOT/data" ] &&
	[ "$(src $UNIQ-l-s)" = "$TEST_DIR/real/shared" ]
'

test_expect_success 'a link planted inside the root by a container is refused for the next project' '
	docker exec $UNIQ-a-s ln -s / /m/esc &&
	[ -L "$ROOT/data/esc" ] &&
	hostpath_project $UNIQ-b "$ROOT/data/esc" > m/b.yaml &&
	hostpath_project $UNIQ-c "$ROOT/data/esc/etc" > m/c.yaml &&
	expect_exit 4 $CARA sync --path m 2>err &&
	expect_contains err "HostPathRefused" &&
	expect_contains err "$ROOT/data/esc'"'"' is a symbolic link" &&
	expect_state $UNIQ-b-s missing &&
	expect_state $UNIQ-c-s missing &&
	$CARA status >out &&
	grep -E "^$UNIQ-b +Failed +HostPathRefused" out &&
	grep -E "^$UNIQ-c +Failed +HostPathRefused" out &&
	expect_state $UNIQ-a-s running &&
	rm m/b.yaml m/c.yaml
'

test_expect_success 'a missing HostPath directory is refused and not created' '
	hostpath_project $UNIQ-d "$ROOT/nope/deeper" > m/d.yaml &&
	expect_exit 4 $CARA sync --path m 2>err &&
	expect_contains err "$ROOT/nope/deeper'"'"' does not exist" &&
	[ ! -e "$ROOT/nope" ] &&
	expect_state $UNIQ-d-s missing &&
	mkdir -p "$ROOT/nope/deeper" &&
	$CARA sync --path m 2>err &&
	expect_state $UNIQ-d-s running
'

test_done
