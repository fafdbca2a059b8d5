#!/bin/sh
# cara diff and cara status against the real dockerd: drift introduced by
# hand is reported exactly, exit codes 0/2/1, secrets masked, state intact.
. "$srcdir/tests/lib.sh"

P="$UNIQ-web"
mkdir -p "$TEST_DIR/m" "$TEST_DIR/secrets/api"
printf 's3cr3t-value\n' > "$TEST_DIR/secrets/api/token"
write_manifest() {   # $1: value of FOO
	cat > "$TEST_DIR/m/web.yaml" <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata:
  name: $P
spec:
  services:
    - name: app
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "$TRAP_SLEEP"]
      stopGracePeriod: 1s
      env:
        - {name: FOO, value: "$1"}
        - name: TOKEN
          valueFrom: {secretKeyRef: {name: api, key: token}}
EOT
}
write_manifest one

test_expect_success 'diff on an empty host plans the whole project, exit 2' '
	expect_exit 2 $CARA diff --path m >out 2>err &&
	expect_contains out "+ network cara-$P" &&
	expect_contains out "+ container $P-app" &&
	expect_contains out "Plan: "
'

test_expect_success 'diff --output json is JSON with changes true' '
	expect_exit 2 $CARA diff --path m --output json >out.json &&
	python3 -c "import json,sys; d=json.load(open(\"out.json\")); assert d[\"changes\"] is True; \
assert any(p[\"name\"]==\"$P\" for p in d[\"projects\"])"
'

test_expect_success 'after a sync, diff says nothing to change, exit 0' '
	$CARA sync --path m 2>sync.err &&
	expect_exit 0 $CARA diff --path m >out &&
	expect_contains out "No changes"
'

test_expect_success 'the secret value never appears in output, state or labels' '
	$CARA diff --path m --output json >out.json 2>&1 &&
	! grep -r "s3cr3t-value" out.json sync.err "$CARA_STATE_DIR" &&
	! docker inspect $P-app --format "{{json .Config.Labels}}" | grep -q s3cr3t
'

test_expect_success 'docker stop is reported as a start' '
	docker stop -t 1 $P-app >/dev/null &&
	expect_exit 2 $CARA diff --path m >out &&
	expect_contains out "> start container $P-app (Stopped)" &&
	expect_not_contains out "+ container"
'

test_expect_success 'docker rm is reported as a create' '
	docker rm -f $P-app >/dev/null &&
	expect_exit 2 $CARA diff --path m >out &&
	expect_contains out "+ container $P-app" &&
	expect_not_contains out "network"
'

test_expect_success 'a changed env is a recreate naming the field' '
	$CARA sync --path m 2>/dev/null &&
	write_manifest two &&
	expect_exit 2 $CARA diff --path m >out &&
	expect_contains out "~ container $P-app (changed: env)" &&
	expect_not_contains out "s3cr3t"
'

test_expect_success 'a setting changed by hand outside the spec hash label is not drift' '
	write_manifest one && $CARA sync --path m 2>/dev/null &&
	docker container update --restart no $P-app >/dev/null &&
	expect_exit 0 $CARA diff --path m
'

test_expect_success 'a rotated secret is a recreate of env' '
	printf "rotated\n" > "$TEST_DIR/secrets/api/token" &&
	expect_exit 2 $CARA diff --path m >out &&
	expect_contains out "changed: env"
'

test_expect_success 'a project created by hand with cara labels is observed, not pruned' '
	$CARA sync --path m 2>/dev/null &&
	docker network create --label cara.project=$UNIQ-hand cara-$UNIQ-hand >/dev/null &&
	docker create --name $UNIQ-hand-x --label cara.project=$UNIQ-hand \
		--label cara.service=x $CARA_TEST_IMAGE true >/dev/null &&
	expect_exit 0 $CARA diff --path m >out &&
	expect_not_contains out "$UNIQ-hand" &&
	n=$(sqlite3 "$CARA_STATE_DIR/state.db" "SELECT count(*) FROM observed_containers \
		WHERE name = '"'"'$UNIQ-hand-x'"'"' AND project = '"'"'$UNIQ-hand'"'"' AND \
		pass_id = (SELECT max(pass_id) FROM snapshots)") &&
	[ "$n" = 1 ]
'

test_expect_success 'a project this state applied is pruned when it leaves the source' '
	cp m/web.yaml web.yaml.keep &&
	sed "s/name: $P\$/name: $UNIQ-gone/" web.yaml.keep > m/gone.yaml &&
	sed -i "s/hostPort: [0-9]*/hostPort: 0/" m/gone.yaml &&
	$CARA sync --path m 2>/dev/null &&
	rm m/gone.yaml &&
	expect_exit 2 $CARA diff --path m >out &&
	expect_contains out "$UNIQ-gone (teardown: RemovedFromSource)" &&
	expect_contains out "- container $UNIQ-gone-app" &&
	expect_not_contains out "$UNIQ-hand" &&
	$CARA sync --path m --allow-mass-prune 2>/dev/null &&
	expect_state $UNIQ-gone-app missing
'

test_expect_success 'an invalid manifest: exit 1, its project planned for nothing' '
	printf "apiVersion: caravanserai/v1\nkind: Project\nmetadata: {name: $P}\nspec:\n  services:\n    - name: app\n" > m/web.yaml &&
	expect_exit 1 $CARA diff --path m >out 2>err &&
	expect_contains err "web.yaml:6:7: spec.services[0]" &&
	expect_not_contains out "$P-app" &&
	expect_not_contains out "$P (teardown"
'

test_expect_success 'an unreachable Engine: exit 1 with a clear message, quickly' '
	write_manifest one &&
	start=$(date +%s) &&
	expect_exit 1 env DOCKER_HOST=unix:///nonexistent/docker.sock $CARA diff --path m 2>err &&
	expect_contains err "/nonexistent/docker.sock" &&
	[ $(( $(date +%s) - start )) -lt 10 ] &&
	expect_exit 1 env DOCKER_HOST=unix:///nonexistent/docker.sock $CARA diff --path m \
		--output json >out.json 2>err &&
	python3 -c "import json; e=json.load(open(\"out.json\"))[\"error\"]; assert e[\"command\"] == \"diff\" and \"nonexistent\" in e[\"message\"]"
'

test_expect_success 'status lists the project with phase, condition and age' '
	$CARA status >out &&
	expect_contains out "NAME" && expect_contains out "PHASE" &&
	expect_contains out "CONDITION" && expect_contains out "COMMIT" &&
	grep -E "^$P +Running +ContainersRunning" out
'

test_expect_success 'status --output json' '
	$CARA status --output json >out.json &&
	python3 -c "import json; d=json.load(open(\"out.json\")); \
p=[x for x in d if x[\"name\"]==\"$P\"][0]; assert p[\"phase\"]==\"Running\", p"
'

test_expect_success 'describe shows objects, conditions and history' '
	$CARA describe $P >out &&
	expect_contains out "Phase:      Running" &&
	expect_contains out "container  $P-app" &&
	expect_contains out "network    cara-$P" &&
	expect_contains out "Conditions:" &&
	expect_contains out "ContainersRunning"
'

test_expect_success 'describe of an unknown project fails' '
	expect_exit 1 $CARA describe $UNIQ-nope 2>err &&
	expect_contains err "no project"
'

test_expect_success 'a missing secret: Failed with SecretMissing, also on a first deploy, nothing pruned' '
	sed "s/name: $P\$/name: $P-nosecret/; s/key: token/key: absent/" m/web.yaml > m/nosecret.yaml &&
	id=$(docker inspect -f "{{.Id}}" $P-app) &&
	expect_exit 4 $CARA sync --path m 2>err &&
	expect_contains err "secret '"'"'api/absent'"'"' not found" &&
	$CARA status >out &&
	grep -E "^$P-nosecret +Failed +SecretMissing" out &&
	expect_state $P-nosecret-app missing &&
	[ "$(docker inspect -f "{{.Id}}" $P-app)" = "$id" ] &&
	rm m/nosecret.yaml
'

test_expect_success 'state.db integrity holds, mode 0600' '
	integrity_ok &&
	[ "$(stat -c %a "$CARA_STATE_DIR/state.db")" = 600 ]
'

test_done
