#!/bin/sh
# Ownership on the real dockerd: every object carries the cara.owner label
# of the state directory that made it; a second state directory never
# recreates, stops, expires or prunes them (OwnedElsewhere) until it is
# told --adopt; a network or volume of cara's name that is not cara's is
# never used; a container renamed by hand is a duplicate and goes.
. "$srcdir/tests/lib.sh"

P="$UNIQ-own"
A="$TEST_DIR/state-a"
B="$TEST_DIR/state-b"
Q="$UNIQ-q"
X="$UNIQ-x"
mkdir -p m
sleeper_project "$P" one > m/p.yaml
cid() { docker inspect -f '{{.Id}}' "$1" 2>/dev/null || echo none; }
owner_of() { docker inspect -f '{{index .Config.Labels "cara.owner"}}' "$1"; }
identity() { sqlite3 "$1/state.db" "select value from meta where key = 'identity'"; }

test_expect_success 'every object is labelled with the identity of its state directory' '
	CARA_STATE_DIR=$A $CARA sync --path m 2>err &&
	ida=$(identity "$A") && [ ${#ida} -eq 32 ] &&
	[ "$(CARA_STATE_DIR=$A $CARA state identity)" = "$ida" ] &&
	[ "$(owner_of $P-s)" = "$ida" ] &&
	[ "$(docker network inspect -f "{{index .Labels \"cara.owner\"}}" cara-$P)" = "$ida" ] &&
	CARA_STATE_DIR=$A $CARA sync --path m 2>err &&
	[ "$(identity "$A")" = "$ida" ]
'

test_expect_success 'the identity is kept in a state backup' '
	CARA_STATE_DIR=$A $CARA state backup "$TEST_DIR/a.db" 2>err &&
	[ "$(sqlite3 "$TEST_DIR/a.db" "select value from meta where key = '"'"'identity'"'"'")" = "$(identity "$A")" ]
'

test_expect_success 'a second state directory leaves them alone, naming both owners' '
	id=$(cid $P-s) &&
	sleeper_project "$P" two > m/p.yaml &&
	expect_exit 1 env CARA_STATE_DIR=$B $CARA sync --path m 2>err &&
	idb=$(identity "$B") &&
	expect_contains err "OwnedElsewhere" &&
	expect_contains err "another cara state ($(identity "$A"); this one is $idb)" &&
	[ "$(cid $P-s)" = "$id" ] &&
	CARA_STATE_DIR=$B $CARA status >out && grep -E "^$P +Failed +OwnedElsewhere" out &&
	expect_exit 1 env CARA_STATE_DIR=$B $CARA diff --path m >out 2>err &&
	expect_contains out "OwnedElsewhere" && ! grep -q "container $P-s" out
'

test_expect_success 'nor does a past expireAt in its source tear them down' '
	{ sleeper_project "$P" two; echo "  expireAt: 2020-01-01T00:00:00Z"; } > m/p.yaml &&
	expect_exit 1 env CARA_STATE_DIR=$B $CARA sync --path m 2>err &&
	expect_contains err "OwnedElsewhere" &&
	expect_state $P-s running &&
	docker network inspect cara-$P >/dev/null
'

test_expect_success '--adopt takes the project over, logged; later passes need no flag' '
	sleeper_project "$P" two > m/p.yaml &&
	CARA_STATE_DIR=$B $CARA sync --path m --adopt "$P" 2>err &&
	expect_contains err "adopted by state $(identity "$B") from $(identity "$A")" &&
	[ "$(owner_of $P-s)" = "$(identity "$B")" ] &&
	docker inspect -f "{{.Config.Env}}" $P-s | grep -q V=two &&
	CARA_STATE_DIR=$B $CARA sync --path m 2>err &&
	expect_exit 0 env CARA_STATE_DIR=$B $CARA diff --path m &&
	CARA_STATE_DIR=$B $CARA describe "$P" >out && expect_contains out "Adopted"
'

test_expect_success 'and the first state now leaves them alone in turn, even when they leave its source' '
	id=$(cid $P-s) &&
	sleeper_project "$P" three > m/p.yaml &&
	expect_exit 1 env CARA_STATE_DIR=$A $CARA sync --path m 2>err &&
	expect_contains err "OwnedElsewhere" &&
	[ "$(cid $P-s)" = "$id" ] &&
	mkdir -p none && CARA_STATE_DIR=$A $CARA sync --path none --allow-mass-prune 2>err &&
	[ "$(cid $P-s)" = "$id" ]
'

test_expect_success 'a network of cara'"'"'s name that is not cara'"'"'s is never used' '
	mkdir -p q &&
	sleeper_project "$Q" > q/q.yaml &&
	docker network create cara-$Q >/dev/null &&
	expect_exit 1 env CARA_STATE_DIR=$A $CARA sync --path q 2>err &&
	expect_contains err "network '"'"'cara-$Q'"'"' exists and is not cara'"'"'s" &&
	expect_state $Q-s missing &&
	docker network rm cara-$Q >/dev/null &&
	CARA_STATE_DIR=$A $CARA sync --path q 2>err &&
	expect_state $Q-s running
'

test_expect_success 'a volume of another project that has the same Docker name is never mounted' '
	mkdir -p x &&
	cat > x/x.yaml <<-EOT &&
	apiVersion: caravanserai/v1
	kind: Project
	metadata: {name: $X-b}
	spec:
	  services:
	    - name: s
	      image: $CARA_TEST_IMAGE
	      command: ["sh", "-c", "echo secret > /v/data; $TRAP_SLEEP"]
	      stopGracePeriod: 1s
	      volumeMounts: [{name: c, mountPath: /v}]
	  volumes: [{name: c, type: Managed}]
	EOT
	CARA_STATE_DIR=$A $CARA sync --path x --no-prune 2>err &&
	cat > x/x.yaml <<-EOT &&
	apiVersion: caravanserai/v1
	kind: Project
	metadata: {name: $X}
	spec:
	  services:
	    - name: s
	      image: $CARA_TEST_IMAGE
	      command: ["sh", "-c", "$TRAP_SLEEP"]
	      stopGracePeriod: 1s
	      volumeMounts: [{name: b-c, mountPath: /v}]
	  volumes: [{name: b-c, type: Managed}]
	EOT
	expect_exit 1 env CARA_STATE_DIR=$A $CARA sync --path x --no-prune 2>err &&
	expect_contains err "volume '"'"'cara-$X-b-c'"'"' belongs to project '"'"'$X-b'"'"'" &&
	expect_state $X-s missing
'

test_expect_success 'a container renamed by hand is a duplicate: removed, the service has one' '
	docker rename $Q-s $Q-s-old &&
	CARA_STATE_DIR=$A $CARA sync --path q 2>err &&
	expect_state $Q-s-old missing && expect_state $Q-s running &&
	[ "$(docker ps -aq --filter label=cara.project=$Q | wc -l)" -eq 1 ] &&
	expect_exit 0 env CARA_STATE_DIR=$A $CARA diff --path q
'

test_done
