#!/bin/sh
# --backend swarm on a 3-node Swarm made of dockerds in network namespaces
# (tests/lib-nodes.sh), brought up once for the whole script: a project
# becomes Swarm services on an attachable overlay, spread over the nodes
# and resolving each other across them (endpoint mode dnsrr: this kernel
# has no IPVS for virtual IPs); scaled, updated in place one task at a
# time, repaired when scaled by hand, pruned, expired; a no-op pass costs
# a constant number of Engine calls whatever the number of projects; a
# secret and the files of a File volume travel as Swarm secrets and
# configs, rotated by an update and removed once unused (also those a
# failed create or a service removed by hand left), never another
# owner's.
. "$srcdir/tests/lib.sh"
. "$srcdir/tests/lib-nodes.sh"

mkdir -p v
cat > v/p.yaml <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $UNIQ-v}
spec:
  services:
    - name: web
      image: $CARA_TEST_IMAGE
      replicas: 3
      mode: Replicated
      endpointMode: dnsrr
      placement: {constraints: ["node.role==worker", "node.lables.x==1"],
                  preferences: [{spread: node.labels.zone}, {spread: rack}]}
      resources: {memory: 64Mi, memoryReservation: 32Mi, cpusReservation: "0.25"}
EOT
mkdir -p v/c
cat > v/c/compose.yaml <<EOT
name: $UNIQ-c
services:
  app:
    image: $CARA_TEST_IMAGE
    deploy:
      placement:
        preferences: [{spread: node.labels.rack}]
EOT

test_expect_success 'the engine backend refuses what only a cluster does, naming file, line and field' '
	expect_exit 1 $CARA validate v 2>err &&
	expect_contains err "p.yaml:8:17: spec.services[0].replicas: replicas: 3 needs --backend swarm" &&
	expect_contains err "spec.services[0].placement.constraints: placement constraints needs --backend swarm" &&
	expect_contains err "spec.services[0].placement.preferences: placement preferences needs --backend swarm" &&
	expect_contains err "p.yaml:13:75: spec.services[0].resources.cpusReservation: a CPU reservation is a Swarm option: it needs --backend swarm" &&
	expect_not_contains err "memoryReservation" &&
	expect_contains err "compose.yaml:7:22: services.app.deploy.placement.preferences: placement preferences needs --backend swarm"
'

test_expect_success 'the swarm backend takes them, and checks each constraint' '
	expect_exit 1 env CARA_BACKEND=swarm $CARA validate v 2>err &&
	expect_not_contains err "needs --backend swarm" &&
	expect_contains err "constraints[1]: invalid placement constraint '"'"'node.lables.x==1'"'"': the attribute must be" &&
	expect_contains err "p.yaml:12:70: spec.services[0].placement.preferences[1].spread: invalid spread descriptor '"'"'rack'"'"': spread by node.labels.NAME" &&
	expect_not_contains err "compose.yaml" &&
	sed -i "s/, \"node.lables.x==1\"//; s/, {spread: rack}//" v/p.yaml &&
	CARA_BACKEND=swarm $CARA validate v 2>err
'

cat > v/q.yaml <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $UNIQ-q}
spec:
  volumes: [{name: data, type: Managed}, {name: cache, type: Ephemeral}]
  services:
    - name: db
      image: $CARA_TEST_IMAGE
      volumeMounts: [{name: cache, mountPath: /c}, {name: data, mountPath: /d}]
EOT

test_expect_success 'a Managed volume on a Swarm needs no constraint of the manifest: a pass pins it' '
	CARA_BACKEND=swarm $CARA validate v 2>err &&
	expect_not_contains err "data"
'

mkdir -p h
cat > h/h.yaml <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $UNIQ-h}
spec:
  services:
    - name: s
      image: $CARA_TEST_IMAGE
      privileged: true
      tmpfs: [/run]
      resources: {memory: 64Mi, memorySwap: 128Mi, cpuShares: 512, memoryReservation: 32Mi}
      healthcheck: {test: [CMD, "true"], startInterval: 1s}
      logging: {driver: json-file, options: {max-size: 1m}}
      volumeMounts: [{name: conf, mountPath: /etc/conf}]
  volumes: [{name: conf, type: File, path: conf}]
EOT
mkdir -p h/conf && echo x=1 > h/conf/x.conf

test_expect_success 'what a Swarm service cannot carry is refused on the swarm backend, not dropped' '
	CARA_ALLOW_PRIVILEGED=1 $CARA validate h 2>err &&
	expect_exit 1 env CARA_BACKEND=swarm CARA_ALLOW_PRIVILEGED=1 $CARA validate h 2>err &&
	expect_contains err "spec.services[0].privileged: not supported with --backend swarm" &&
	expect_contains err "spec.services[0].tmpfs: not supported with --backend swarm" &&
	expect_contains err "spec.services[0].resources.memorySwap: not supported with --backend swarm" &&
	expect_contains err "spec.services[0].resources.cpuShares: not supported with --backend swarm" &&
	expect_not_contains err "memoryReservation" &&
	expect_contains err "spec.services[0].healthcheck.startInterval: not supported with --backend swarm: the Engine does not carry it into a service" &&
	expect_not_contains err "logging" &&
	expect_not_contains err "volumeMounts"
'

# File volumes on a Swarm: one config a file, each of 1 byte to less
# than 500 KiB, 64 a service at most
mkdir -p fv/big fv/many
cat > fv/p.yaml <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $UNIQ-fv}
spec:
  volumes: [{name: big, type: File, path: big}, {name: many, type: File, path: many}]
  services:
    - name: a
      image: $CARA_TEST_IMAGE
      volumeMounts: [{name: big, mountPath: /etc/big}]
    - name: b
      image: $CARA_TEST_IMAGE
      volumeMounts: [{name: many, mountPath: /etc/many}]
EOT
head -c 512000 /dev/zero > fv/big/huge.bin
head -c 511999 /dev/zero > fv/big/fits.bin
: > fv/big/empty.conf
i=1
while [ $i -le 65 ]; do echo $i > fv/many/$i.conf; i=$((i + 1)); done

test_expect_success 'a file a Swarm config cannot hold is refused naming it, and a tree of too many files' '
	$CARA validate fv 2>err &&
	expect_exit 1 env CARA_BACKEND=swarm $CARA validate fv 2>err &&
	expect_contains err "p.yaml:9:22: spec.services[0].volumeMounts[0].name: File volume '"'"'big'"'"': '"'"'big/huge.bin'"'"' is too large: with --backend swarm each file is a Swarm config, of 1 byte to less than 500 KiB" &&
	expect_contains err "'"'"'big/empty.conf'"'"' is empty" &&
	expect_not_contains err "fits.bin" &&
	expect_contains err "spec.services[1].volumeMounts: the File volumes of service '"'"'b'"'"' hold 65 files: with --backend swarm each file is a Swarm config, at most 64 a service" &&
	rm fv/big/huge.bin fv/big/empty.conf fv/many/65.conf &&
	CARA_BACKEND=swarm $CARA validate fv 2>err
'

# the nodes' dockerds inherit it: a task uses the image its node has
# rather than ask a registry first (there is none here)
export DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1
if ! nodes_up 3 || ! swarm_up; then
	test_skip 'a Swarm of three nodes' "$NODES_WHY"
	test_done
	exit 0
fi

export CARA_BACKEND=swarm
export CARA_SWARM_ENDPOINT_MODE=dnsrr
DOCKER_HOST="unix://$(node_sock 1)"
export DOCKER_HOST
P="$UNIQ-sw"
IMG2="cara-local/busybox:2$UNIQ"
i=1
while [ $i -le 3 ]; do
	node_docker $i tag "$CARA_TEST_IMAGE" "$IMG2"
	i=$((i + 1))
done
mkdir -p m

# project NAME [REPLICAS] [IMAGE]: three services; "web" has REPLICAS tasks
project() {
	cat <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $1}
spec:
  services:
    - name: db
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "$TRAP_SLEEP"]
      stopGracePeriod: 1s
    - name: api
      image: $CARA_TEST_IMAGE
      replicas: 2
      command: ["sh", "-c", "$TRAP_SLEEP"]
      stopGracePeriod: 1s
      dependsOn: [{service: db}]
    - name: web
      image: ${3:-$CARA_TEST_IMAGE}
      replicas: ${2:-3}
      command: ["sh", "-c", "$TRAP_SLEEP"]
      stopGracePeriod: 1s
EOT
}

svc() { node_docker 1 service inspect -f "$2" "$1"; }
running_tasks() {
	node_docker 1 service ps --filter desired-state=running \
		--format '{{.CurrentState}} {{.Node}}' "$1" | grep -c '^Running'
}
# a task container of service $1 on node $2 (empty when none)
task_on() {
	node_docker "$2" ps -q --filter "label=com.docker.swarm.service.name=$1" | head -n 1
}

test_expect_success 'a project converges: services on an attachable overlay, spread over the nodes' '
	project "$P" > m/p.yaml &&
	$CARA sync --path m 2>err &&
	[ "$(node_docker 1 network inspect -f "{{.Driver}} {{.Attachable}} {{index .Labels \"cara.project\"}}" cara-$P)" = "overlay true $P" ] &&
	[ "$(svc $P-web "{{.Spec.Mode.Replicated.Replicas}} {{.Spec.EndpointSpec.Mode}}")" = "3 dnsrr" ] &&
	[ "$(svc $P-api "{{index .Spec.Labels \"cara.project\"}} {{index .Spec.Labels \"cara.service\"}}")" = "$P api" ] &&
	[ "$(running_tasks $P-web)" -eq 3 ] && [ "$(running_tasks $P-api)" -eq 2 ] &&
	[ "$(node_docker 1 service ps --filter desired-state=running --format "{{.Node}}" $P-web | sort -u | wc -l)" -eq 3 ] &&
	$CARA status >out && grep -E "^$P +Running" out
'

test_expect_success 'status and describe show each service'"'"'s tasks and their nodes' '
	$CARA status >out && cat out &&
	grep -E "^PROJECT +SERVICE +STATE +TASKS$" out &&
	grep -E "^$P +web +running +3/3 running on node[123], node[123], node[123]$" out &&
	grep -E "^$P +api +running +2/2 running on node[123], node[123]$" out &&
	$CARA status --output json >out &&
	expect_contains out "\"service\": \"db\", \"image\": \"$CARA_TEST_IMAGE\", \"digest\": null, \"state\": \"running\", \"tasks\": \"1/1 running on node" &&
	$CARA describe "$P" >out && cat out &&
	grep -E "^  service    $P-web  service=web .* state=running spec=[0-9a-f]{12}$" out &&
	grep -E "^ +tasks: +3/3 running on node[123], node[123], node[123]$" out &&
	expect_not_contains out "problem:"
'

test_expect_success 'service names resolve across nodes' '
	c=$(task_on $P-api 2) ; n=2 ;
	[ -n "$c" ] || { c=$(task_on $P-api 3); n=3; } ;
	[ -n "$c" ] || { c=$(task_on $P-api 1); n=1; } ;
	node_docker $n exec "$c" nslookup db >out 2>&1 &&
	node_docker $n exec "$c" nslookup web >web 2>&1 &&
	[ "$(grep -c "^Address" web | tr -d " ")" -ge 3 ]
'

test_expect_success 'a second pass changes nothing' '
	$CARA sync --path m 2>err &&
	expect_contains err "0 created, 0 recreated, 0 started, 0 removed"
'

test_expect_success 'scale up and down: an update of the same service' '
	id=$(svc $P-web "{{.ID}}") &&
	project "$P" 5 > m/p.yaml &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	expect_contains out "update service $P-web (changed: replicas)" &&
	$CARA sync --path m 2>err &&
	[ "$(running_tasks $P-web)" -eq 5 ] &&
	project "$P" 1 > m/p.yaml &&
	$CARA sync --path m 2>err &&
	[ "$(svc $P-web "{{.ID}} {{.Spec.Mode.Replicated.Replicas}}")" = "$id 1" ]
'

test_expect_success 'a new image rolls one task at a time, same service' '
	project "$P" 3 > m/p.yaml && $CARA sync --path m 2>err &&
	id=$(svc $P-web "{{.ID}}") &&
	project "$P" 3 "$IMG2" > m/p.yaml &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	expect_contains out "update service $P-web (changed: image)" &&
	$CARA sync --path m 2>err &&
	[ "$(svc $P-web "{{.ID}} {{.Spec.TaskTemplate.ContainerSpec.Image}} {{.Spec.UpdateConfig.Parallelism}}")" = "$id $IMG2 1" ] &&
	[ "$(svc $P-web "{{.UpdateStatus.State}}")" = completed ] &&
	[ "$(running_tasks $P-web)" -eq 3 ]
'

test_expect_success 'the update and rollback policies of the manifest are the service'"'"'s' '
	id=$(svc $P-web "{{.ID}}") &&
	{ project "$P" 3 "$IMG2"
	  echo "      updateConfig: {parallelism: 2, delay: 1s, order: stop-first, monitor: 2s}"
	  echo "      rollbackConfig: {failureAction: continue}"; } > m/p.yaml &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	expect_contains out "update service $P-web (changed: updateConfig)" &&
	$CARA sync --path m 2>err &&
	[ "$(svc $P-web "{{.ID}} {{.Spec.UpdateConfig.Parallelism}} {{.Spec.UpdateConfig.Delay}} {{.Spec.UpdateConfig.Order}} {{.Spec.UpdateConfig.Monitor}}")" = "$id 2 1s stop-first 2s" ] &&
	[ "$(svc $P-web "{{.Spec.RollbackConfig.FailureAction}} {{.Spec.RollbackConfig.Parallelism}}")" = "continue 1" ] &&
	project "$P" 3 "$IMG2" > m/p.yaml && $CARA sync --path m 2>err &&
	[ "$(svc $P-web "{{.Spec.UpdateConfig.Parallelism}} {{.Spec.UpdateConfig.Order}}")" = "1 start-first" ]
'

test_expect_success 'a service scaled by hand is scaled back' '
	node_docker 1 service scale -d $P-web=1 >/dev/null &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	expect_contains out "update service $P-web (changed: replicas)" &&
	$CARA sync --path m 2>err &&
	[ "$(svc $P-web "{{.Spec.Mode.Replicated.Replicas}}")" = 3 ]
'

test_expect_success 'a service removed by hand is made again' '
	node_docker 1 service rm $P-db >/dev/null &&
	$CARA sync --path m 2>err &&
	[ "$(running_tasks $P-db)" -eq 1 ]
'

test_expect_success 'a no-op pass costs the same Engine calls for 1 and 3 projects' '
	$CARA sync --path m --verbose 2>err1 &&
	n1=$(sed -n "s/.*; \([0-9]*\) Engine API calls.*/\1/p" err1) &&
	project "$P-b" 1 > m/b.yaml && project "$P-c" 1 > m/c.yaml &&
	$CARA sync --path m 2>err &&
	$CARA sync --path m --verbose 2>err3 &&
	n3=$(sed -n "s/.*; \([0-9]*\) Engine API calls.*/\1/p" err3) &&
	echo "calls: $n1 $n3" && [ -n "$n1" ] && [ "$n1" = "$n3" ]
'

test_expect_success 'a project removed from the source is pruned' '
	rm m/b.yaml &&
	$CARA sync --path m 2>err &&
	! node_docker 1 service inspect $P-b-web >/dev/null 2>&1 &&
	! node_docker 1 network inspect cara-$P-b >/dev/null 2>&1 &&
	node_docker 1 service inspect $P-web >/dev/null
'

test_expect_success 'a project past its expireAt is torn down' '
	{ project "$P-e" 1; echo "  expireAt: 2020-01-01T00:00:00Z"; } > m/e.yaml &&
	$CARA sync --path m 2>err &&
	! node_docker 1 service inspect $P-e-web >/dev/null 2>&1 &&
	$CARA status >out && grep -E "^$P-e +Terminated +Expired" out
'

# jobs NAME [HEALTH] [MSG]: a job, a healthchecked service, and one that
# waits for both
jobs() {
	cat <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $1}
spec:
  services:
    - name: migrate
      image: $CARA_TEST_IMAGE
      restart: "no"
      command: ["sh", "-c", "sleep 1; echo ${3:-one}"]
    - name: hc
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "$TRAP_SLEEP"]
      stopGracePeriod: 1s
      healthcheck: {test: ["CMD", "${2:-true}"], interval: 1s, retries: 1}
    - name: app
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "$TRAP_SLEEP"]
      stopGracePeriod: 1s
      dependsOn: [{service: migrate, condition: Completed}, {service: hc, condition: Healthy}]
EOT
}
J="$UNIQ-j"

test_expect_success 'a replicated job runs once a spec; its dependent waits for it and for health' '
	jobs "$J" > m/j.yaml &&
	$CARA sync --path m 2>err &&
	expect_contains err "waiting for job '"'"'migrate'"'"' to complete" &&
	[ "$(svc $J-migrate "{{.JobStatus.JobIteration.Index}}")" = 0 ] &&
	node_docker 1 service ps --format "{{.CurrentState}}" $J-migrate | grep -q ^Complete &&
	[ "$(running_tasks $J-app)" -eq 1 ] &&
	$CARA sync --path m 2>err &&
	[ "$(svc $J-migrate "{{.JobStatus.JobIteration.Index}}")" = 0 ] &&
	jobs "$J" true two > m/j.yaml &&
	$CARA sync --path m 2>err &&
	[ "$(svc $J-migrate "{{.JobStatus.JobIteration.Index}}")" = 1 ]
'

test_expect_success 'an update whose healthcheck fails rolls back, and the project says so' '
	jobs "$J" false two > m/j.yaml &&
	expect_exit 4 $CARA sync --path m 2>err &&
	expect_contains err "RolledBack: swarm: the update of service '"'"'$J-hc'"'"' rolled back: " &&
	expect_not_contains err ReconcileError &&
	[ "$(svc $J-hc "{{index .Spec.TaskTemplate.ContainerSpec.Healthcheck.Test 1}} {{.UpdateStatus.State}}")" = "true rollback_completed" ] &&
	msg=$(svc $J-hc "{{.UpdateStatus.Message}}") && [ -n "$msg" ] &&
	expect_contains err "rolled back: $msg" &&
	[ "$(running_tasks $J-hc)" -eq 1 ] &&
	$CARA status >out && grep -E "^$J +Failed +RolledBack" out &&
	jobs "$J" true two > m/j.yaml &&
	$CARA sync --path m 2>err &&
	$CARA status >out && grep -E "^$J +Running" out
'

# until CMD succeeds, at most N times a second apart
retry() {
	n=$1; shift
	while ! "$@"; do
		n=$((n - 1)); [ $n -gt 0 ] || { echo "never: $*" >&2; return 1; }
		sleep 1
	done
}
phase_is() { $CARA sync --path m >/dev/null 2>&1; $CARA status | grep -qE "^$1 +$2"; }
S="$UNIQ-sec"
export CARA_SECRETS_DIR="$TEST_DIR/secrets"
mkdir -p "secrets/$S" "m/$S"
# app_compose: a compose file of one long-running service "app", the lines
# of stdin added to it (and after them, top-level keys)
app_compose() {
	cat <<EOT
services:
  app:
    image: $CARA_TEST_IMAGE
    command: ["sh", "-c", "$TRAP_SLEEP"]
    stop_grace_period: 1s
    restart: always
EOT
	cat
}
app_compose > "m/$S/compose.yaml" <<EOT
    secrets: [db_pass]
secrets:
  db_pass: {external: true}
EOT
# what the task of service $1 reads at $2, on whichever node runs it
read_in_task() {
	for n in 1 2 3; do
		c=$(task_on "$1" $n)
		[ -n "$c" ] && { node_docker $n exec "$c" cat "$2"; return; }
	done
	return 1
}

test_expect_success 'a secret is a Swarm secret, rotated by an update, the old version removed' '
	printf pw-one > "secrets/$S/db_pass" &&
	$CARA sync --path m 2>err &&
	[ "$(read_in_task $S-app /run/secrets/db_pass)" = pw-one ] &&
	old=$(node_docker 1 secret ls -q --filter label=cara.service=$S-app) &&
	[ -n "$old" ] &&
	printf pw-two > "secrets/$S/db_pass" &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	expect_contains out "update service $S-app (changed: secrets)" &&
	id=$(svc $S-app "{{.ID}}") &&
	$CARA sync --path m 2>err &&
	[ "$(svc $S-app "{{.ID}}")" = "$id" ] &&
	[ "$(read_in_task $S-app /run/secrets/db_pass)" = pw-two ] &&
	now=$(node_docker 1 secret ls -q --filter label=cara.service=$S-app) &&
	[ -n "$now" ] && [ "$now" != "$old" ] && [ $(echo "$now" | wc -l) -eq 1 ]
'

H="$UNIQ-hs"
# what docker inspect says of the task of service $1, on whichever node runs it
inspect_task() {
	for n in 1 2 3; do
		c=$(task_on "$1" $n)
		[ -n "$c" ] && { node_docker $n inspect -f "$2" "$c"; return; }
	done
	return 1
}

test_expect_success 'host settings a Swarm service carries reach its task: tty, ulimits, hosts, pids, groups, resolver' '
	mkdir -p m/$H &&
	app_compose > "m/$H/compose.yaml" <<-EOT &&
	    tty: true
	    stdin_open: true
	    ulimits: {nofile: {soft: 1024, hard: 2048}}
	    extra_hosts: ["db.example:10.1.2.3"]
	    pids_limit: 100
	    group_add: ["4242"]
	    dns_search: [shop.internal]
	    dns_opt: ["ndots:2"]
	EOT
	$CARA sync --path m 2>err || { cat err; false; } &&
	retry 20 eval "[ -n \"\$(inspect_task $H-app {{.Id}})\" ]" &&
	[ "$(inspect_task $H-app "{{.Config.Tty}} {{.Config.OpenStdin}} {{.HostConfig.PidsLimit}} {{json .HostConfig.GroupAdd}}")" = "true true 100 [\"4242\"]" ] &&
	[ "$(inspect_task $H-app "{{json .HostConfig.Ulimits}}")" = "[{\"Name\":\"nofile\",\"Hard\":2048,\"Soft\":1024}]" ] &&
	read_in_task $H-app /etc/hosts | grep -qE "^10\.1\.2\.3[[:space:]]+db\.example" &&
	read_in_task $H-app /etc/resolv.conf >resolv &&
	grep -q "^search shop.internal" resolv && grep -q "ndots:2" resolv &&
	rm -r m/$H && $CARA sync --path m 2>err || { cat err; false; }
'

C="$UNIQ-cf"
mkdir -p "m/$C/conf.d/sub"
app_compose > "m/$C/compose.yaml" <<EOT
    deploy: {mode: global}
    configs:
      - {source: app, target: /etc/app.ini, mode: 0440}
    volumes:
      - ./conf.d:/etc/conf.d:ro
configs:
  app: {file: ./app.ini}
EOT
echo "[app]" > "m/$C/app.ini"
echo "a=1" > "m/$C/conf.d/a.conf"
echo "b=1" > "m/$C/conf.d/sub/b.conf"
printf '#!/bin/sh\necho ran\n' > "m/$C/conf.d/run.sh" && chmod +x "m/$C/conf.d/run.sh"
# what every node's task of service $1 reads at $2: one line a node
read_on_nodes() {
	for n in 1 2 3; do
		c=$(task_on "$1" $n)
		[ -n "$c" ] || { echo "no task on node$n" >&2; return 1; }
		node_docker $n exec "$c" sh -c "$2" || return 1
	done
}
configs_of() {
	node_docker 1 config ls --filter "label=cara.service=$1" --format '{{.Name}}' | sort
}

test_expect_success 'File volumes are Swarm configs: every file readable in a task on every node' '
	$CARA sync --path m 2>err &&
	[ "$(running_tasks $C-app)" -eq 3 ] &&
	[ "$(read_on_nodes $C-app "cat /etc/app.ini" | sort -u)" = "[app]" ] &&
	[ "$(read_on_nodes $C-app "cat /etc/conf.d/a.conf /etc/conf.d/sub/b.conf" | sort | uniq -c | tr -s " ")" = "$(printf " 3 a=1\n 3 b=1")" ] &&
	[ "$(read_on_nodes $C-app "/etc/conf.d/run.sh" | sort -u)" = ran ] &&
	[ "$(read_on_nodes $C-app "stat -c %a:%u /etc/app.ini /etc/conf.d/a.conf /etc/conf.d/run.sh" | sort -u | tr "\n" " ")" = "440:0 444:0 555:0 " ] &&
	[ "$(configs_of $C-app | wc -l)" -eq 4 ] &&
	[ "$(node_docker 1 config ls -q --filter label=cara.project=$C | wc -l)" -eq 4 ] &&
	[ "$(svc $C-app "{{len .Spec.TaskTemplate.ContainerSpec.Mounts}}")" = 0 ] &&
	[ -z "$(ls "$CARA_STATE_DIR/files" 2>/dev/null)" ] &&
	$CARA sync --path m 2>err &&
	expect_contains err "0 created, 0 recreated, 0 started, 0 removed"
'

test_expect_success 'a new content rotates its config: the service updated in place, the old version removed' '
	before=$(configs_of $C-app) && id=$(svc $C-app "{{.ID}}") &&
	echo "a=2" > "m/$C/conf.d/a.conf" &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	expect_contains out "update service $C-app (changed: files)" &&
	expect_exit 2 $CARA sync --dry-run --path m >out 2>err &&
	expect_contains out "update service $C-app (changed: files)" &&
	[ "$(configs_of $C-app)" = "$before" ] &&
	$CARA sync --path m 2>err &&
	[ "$(svc $C-app "{{.ID}}")" = "$id" ] &&
	[ "$(read_on_nodes $C-app "cat /etc/conf.d/a.conf" | sort -u)" = "a=2" ] &&
	after=$(configs_of $C-app) &&
	[ "$(echo "$after" | wc -l)" -eq 4 ] &&
	[ "$(echo "$before" "$after" | tr " " "\n" | sort | uniq -u | wc -l)" -eq 2 ]
'

test_expect_success 'a file too large for a config fails its project before anything changes' '
	before=$(configs_of $C-app) && v=$(svc $C-app "{{.Version.Index}}") &&
	head -c 600000 /dev/zero > "m/$C/conf.d/big.bin" &&
	expect_exit 4 $CARA sync --path m 2>err &&
	expect_contains err "$C/compose.yaml:11:9: services.app.volumes: " &&
	expect_contains err "'"'"'$C/conf.d/big.bin'"'"' is too large: with --backend swarm each file is a Swarm config" &&
	[ "$(svc $C-app "{{.Version.Index}}")" = "$v" ] &&
	[ "$(configs_of $C-app)" = "$before" ] &&
	rm "m/$C/conf.d/big.bin"
'

test_expect_success 'configs no service uses (a failed create, a service removed by hand) go in a later pass, no other owner'"'"'s' '
	before=$(configs_of $C-app) &&
	echo x > other &&
	node_docker 1 config create --label cara.project=$C --label cara.service=$C-app \
		$C-noowner other >/dev/null &&
	node_docker 1 config create --label cara.project=$C --label cara.owner=someone-else \
		--label cara.service=$C-gone $C-theirs other >/dev/null &&
	node_docker 1 service rm $C-app >/dev/null &&
	node_docker 1 service create --detach --name $C-app $CARA_TEST_IMAGE sleep 600 >/dev/null &&
	echo "a=3" > "m/$C/conf.d/a.conf" &&
	expect_exit 4 $CARA sync --path m 2>err &&
	expect_contains err "a service named '"'"'$C-app'"'"' exists and is not this project'"'"'s" &&
	[ "$(configs_of $C-app | wc -l)" -eq 6 ] &&
	node_docker 1 service rm $C-app >/dev/null &&
	$CARA diff --path m >out 2>err || true &&
	expect_not_contains out "Orphaned" &&
	$CARA sync --path m 2>err &&
	[ "$(running_tasks $C-app)" -eq 3 ] &&
	[ "$(read_on_nodes $C-app "cat /etc/conf.d/a.conf" | sort -u)" = "a=3" ] &&
	$CARA diff --path m >out 2>err || true &&
	[ "$(grep -c "(Orphaned)" out)" -eq 1 ] &&
	gone=$(sed -n "s/^ *- config \(.*\) (Orphaned)\$/\1/p" out) &&
	echo "$before" | grep -qx "$gone" &&
	$CARA sync --path m 2>err &&
	expect_contains err "removed config $gone (Orphaned)" &&
	! node_docker 1 config inspect $gone >/dev/null 2>&1 &&
	[ "$(configs_of $C-app | wc -l)" -eq 5 ] &&
	node_docker 1 config inspect $C-noowner $C-theirs >/dev/null &&
	$CARA diff --path m >out 2>err || true &&
	expect_not_contains out "Orphaned" &&
	node_docker 1 config rm $C-noowner $C-theirs >/dev/null
'

test_expect_success 'teardown removes the configs, and no other owner'"'"'s' '
	echo x > other && node_docker 1 config create --label cara.project=$C \
		--label cara.owner=someone-else --label cara.service=$C-app $C-foreign other &&
	mv "m/$C" "$C.away" &&
	$CARA sync --path m 2>err &&
	! node_docker 1 service inspect $C-app >/dev/null 2>&1 &&
	[ "$(node_docker 1 config ls -q --filter label=cara.project=$C | wc -l)" -eq 1 ] &&
	node_docker 1 config inspect $C-foreign >/dev/null &&
	node_docker 1 config rm $C-foreign >/dev/null
'

test_expect_success 'a config of cara'"'"'s name that another owner made is not used' '
	h=$({ printf "/etc/app.ini\0"; cat "$C.away/app.ini"; } | sha256sum | cut -c1-12) &&
	node_docker 1 config create --label cara.project=$C --label cara.owner=someone-else \
		--label cara.service=$C-app $C-app-$h "$C.away/app.ini" >/dev/null &&
	mv "$C.away" "m/$C" &&
	expect_exit 4 $CARA sync --path m 2>err &&
	expect_contains err "config '"'"'$C-app-$h'"'"' is owned by another cara state (someone-else)" &&
	! node_docker 1 service inspect $C-app >/dev/null 2>&1 &&
	[ "$(node_docker 1 config inspect -f "{{index .Spec.Labels \"cara.owner\"}}" $C-app-$h)" = someone-else ] &&
	node_docker 1 config rm $C-app-$h >/dev/null &&
	$CARA sync --path m 2>err &&
	[ "$(running_tasks $C-app)" -eq 3 ] &&
	rm -r "m/$C" && $CARA sync --path m 2>err &&
	[ -z "$(node_docker 1 config ls -q --filter label=cara.project=$C)" ]
'

G="$UNIQ-g"
# the three tasks of web run, none of them on node3
web_off_node3() {
	[ "$(node_docker 1 service ps --filter desired-state=running \
		--format '{{.Node}}:{{.CurrentState}}' $P-web | grep -v ^node3 |
		grep -c :Running)" -eq 3 ]
}

test_expect_success 'a node lost: Degraded naming it, tasks rescheduled; Running once it is back' '
	cat > m/g.yaml <<-EOT &&
	apiVersion: caravanserai/v1
	kind: Project
	metadata: {name: $G}
	spec:
	  volumes: [{name: state, type: Managed}]
	  services:
	    - name: agent
	      image: $CARA_TEST_IMAGE
	      mode: Global
	      command: ["sh", "-c", "$TRAP_SLEEP"]
	      stopGracePeriod: 1s
	      volumeMounts: [{name: state, mountPath: /s}]
	EOT
	$CARA sync --path m 2>err &&
	{ [ "$(running_tasks $G-agent)" -eq 3 ] || { node_docker 1 service ps $G-agent; false; }; } &&
	node_kill 3 &&
	retry 90 phase_is "$G" "Degraded +TasksNotRunning" &&
	$CARA status >out && cat out &&
	grep -E "^$G +agent +restarting +2/3 running on node[12], node[12]; 1 on a down node$" out &&
	grep -E "^ +problem: service '"'"'agent'"'"': 2/3 tasks running; node node3 is down$" out &&
	$CARA describe "$G" >out && expect_contains out "node node3 is down" &&
	retry 90 web_off_node3 &&
	node_restart 3 &&
	retry 90 phase_is "$G" "Running"
'

Z="$UNIQ-z"
# spread NAME [PREFERENCE]: six tasks of service w
spread() {
	cat <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $1}
spec:
  services:
    - name: w
      image: $CARA_TEST_IMAGE
      replicas: 6
      command: ["sh", "-c", "$TRAP_SLEEP"]
      stopGracePeriod: 1s
EOT
	[ -z "$2" ] || echo "      placement: {preferences: [$2]}"
}
# how many running tasks of service $1 node $2 has
tasks_on() {
	node_docker 1 service ps --filter desired-state=running \
		--format '{{.Node}} {{.CurrentState}}' "$1" | grep -c "^$2 Running"
}

test_expect_success 'placement preferences spread the tasks by a node label; a change is an update' '
	node_docker 1 node update --label-add zone=a node1 >/dev/null &&
	node_docker 1 node update --label-add zone=b node2 >/dev/null &&
	node_docker 1 node update --label-add zone=b node3 >/dev/null &&
	spread "$Z" "{spread: node.labels.zone}" > m/z.yaml &&
	$CARA sync --path m 2>err &&
	[ "$(svc $Z-w "{{json .Spec.TaskTemplate.Placement.Preferences}}")" = "[{\"Spread\":{\"SpreadDescriptor\":\"node.labels.zone\"}}]" ] &&
	[ "$(running_tasks $Z-w)" -eq 6 ] &&
	[ "$(tasks_on $Z-w node1)" -eq 3 ] &&
	id=$(svc $Z-w "{{.ID}}") &&
	spread "$Z" > m/z.yaml &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	expect_contains out "update service $Z-w (changed: placement)" &&
	$CARA sync --path m 2>err &&
	[ "$(svc $Z-w "{{.ID}} {{json .Spec.TaskTemplate.Placement}}")" = "$id {}" ] &&
	rm m/z.yaml && $CARA sync --path m 2>err
'

V="$UNIQ-vol"
# vols NAME [VALUE]: db and backup share the Managed volume data (db on a
# worker), db has an Ephemeral one too
vols() {
	cat <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $1}
spec:
  volumes: [{name: data, type: Managed}, {name: cache, type: Ephemeral}]
  services:
    - name: db
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "$TRAP_SLEEP"]
      stopGracePeriod: 1s
      env: [{name: V, value: "${2:-one}"}]
      placement: {constraints: ["node.role==worker"]}
      volumeMounts: [{name: data, mountPath: /d}, {name: cache, mountPath: /c}]
    - name: backup
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "$TRAP_SLEEP"]
      stopGracePeriod: 1s
      volumeMounts: [{name: data, mountPath: /d, readOnly: true}]
EOT
}
pin_of() {
	sqlite3 "$CARA_STATE_DIR/state.db" \
		"SELECT hostname FROM volume_pins WHERE project = '$1' AND volume = '$2'"
}
node_id() { node_docker 1 node inspect -f '{{.ID}}' "$1"; }
# the node of the running task of service $1
task_node() {
	node_docker 1 service ps --filter desired-state=running \
		--format '{{.Node}} {{.CurrentState}}' "$1" | awk '$2 == "Running" { print $1; exit }'
}
constraints() { svc "$1" "{{json .Spec.TaskTemplate.Placement.Constraints}}"; }

test_expect_success 'a Managed volume is pinned to a node, in state and describe; both its services run there' '
	vols "$V" > m/v.yaml &&
	expect_exit 2 env CARA_SWARM_SHARED_VOLUME_DRIVERS=nfs,local $CARA sync --dry-run --path m >out 2>err &&
	expect_not_contains err "pinned" &&
	expect_exit 2 $CARA sync --dry-run --path m >out 2>err &&
	expect_contains err "volume '"'"'data'"'"' would be pinned to node node2" &&
	expect_not_contains err "volume '"'"'cache'"'"'" &&
	[ -z "$(pin_of $V data)" ] &&
	$CARA sync --path m 2>err &&
	expect_contains err "volume '"'"'data'"'"' pinned to node node2" &&
	[ "$(pin_of $V data)" = node2 ] && [ -z "$(pin_of $V cache)" ] &&
	id2=$(node_id node2) &&
	[ "$(constraints $V-db)" = "[\"node.role==worker\",\"node.id==$id2\"]" ] &&
	[ "$(constraints $V-backup)" = "[\"node.id==$id2\"]" ] &&
	[ "$(task_node $V-db)" = node2 ] && [ "$(task_node $V-backup)" = node2 ] &&
	$CARA describe "$V" >out &&
	expect_contains out "Volume pins:" && expect_contains out "  data  node node2 ($id2)" &&
	[ -z "$(pin_of $G state)" ] && [ "$(constraints $G-agent)" = null ] &&
	$CARA describe "$G" >out && expect_not_contains out "Volume pins:"
'

test_expect_success 'a second pass keeps the pin; what the volume holds survives an update, on the same node' '
	c=$(task_on $V-db 2) && [ -n "$c" ] &&
	node_docker 2 exec "$c" sh -c "echo row1 > /d/rows" &&
	$CARA sync --path m 2>err &&
	expect_contains err "0 created, 0 recreated, 0 started, 0 removed" &&
	expect_not_contains err "pinned" &&
	vols "$V" two > m/v.yaml &&
	$CARA sync --path m 2>err &&
	[ "$(svc $V-db "{{index .Spec.TaskTemplate.ContainerSpec.Env 0}}")" = V=two ] &&
	[ "$(task_node $V-db)" = node2 ] && [ "$(pin_of $V data)" = node2 ] &&
	c2=$(task_on $V-db 2) && [ -n "$c2" ] && [ "$c2" != "$c" ] &&
	[ "$(node_docker 2 exec "$c2" cat /d/rows)" = row1 ]
'

test_expect_success 'the pinned node lost: Degraded naming it and the volume; unpinned, the volume moves' '
	node_kill 2 &&
	retry 90 phase_is "$V" "Degraded +TasksNotRunning" &&
	$CARA describe "$V" >out && cat out &&
	expect_contains out "node node2 is down, and volume '"'"'data'"'"' of the service is pinned there" &&
	[ "$(pin_of $V data)" = node2 ] &&
	$CARA state unpin "$V" data 2>err &&
	expect_exit 1 $CARA state unpin "$V" data 2>err &&
	expect_contains err "volume '"'"'data'"'"' of project '"'"'$V'"'"' is not pinned" &&
	$CARA sync --path m 2>err &&
	expect_contains err "volume '"'"'data'"'"' pinned to node node3" &&
	[ "$(pin_of $V data)" = node3 ] &&
	[ "$(task_node $V-db)" = node3 ] && [ "$(task_node $V-backup)" = node3 ] &&
	$CARA status >out && grep -E "^$V +Running" out
'
node_restart 2

test_expect_success 'a second cara on the same Swarm leaves the first'"'"'s services alone, naming both owners' '
	B2="$TEST_DIR/state2" &&
	web=$(svc $P-web "{{.ID}} {{.Version.Index}}") &&
	db=$(svc $V-db "{{.ID}} {{.Version.Index}}") &&
	vols "$V" three > m/v.yaml &&
	expect_exit 1 env CARA_STATE_DIR="$B2" $CARA sync --path m 2>err &&
	expect_contains err "OwnedElsewhere" &&
	expect_contains err "another cara state ($($CARA state identity); this one is $(CARA_STATE_DIR="$B2" $CARA state identity))" &&
	[ "$(svc $P-web "{{.ID}} {{.Version.Index}}")" = "$web" ] &&
	[ "$(svc $V-db "{{.ID}} {{.Version.Index}}")" = "$db" ] &&
	CARA_STATE_DIR="$B2" $CARA status >out && grep -E "^$V +Failed +OwnedElsewhere" out &&
	[ "$(CARA_STATE_DIR="$B2" pin_of $V data)" = node3 ] &&
	vols "$V" two > m/v.yaml &&
	$CARA sync --path m 2>err &&
	expect_contains err "0 created, 0 recreated, 0 started, 0 removed"
'

test_expect_success 'expired and purged: the pins go with it, and an expired project is not pinned again' '
	[ "$(pin_of $V data)" = node3 ] &&
	sed "s/^spec:\$/spec:\n  expireAt: 2000-01-01T00:00:00Z/" m/v.yaml > v2 && mv v2 m/v.yaml &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	! node_docker 1 service inspect $V-db >/dev/null 2>&1 &&
	[ "$(pin_of $V data)" = node3 ] &&
	$CARA sync --path m --purge-volumes 2>err || { cat err; false; } &&
	[ -z "$(pin_of $V data)" ] &&
	expect_contains err "pin of volume '"'"'data'"'"' dropped" &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	expect_not_contains err "pinned" &&
	[ -z "$(sqlite3 "$CARA_STATE_DIR/state.db" "SELECT volume FROM volume_pins WHERE project = '"'"'$V'"'"'")" ] &&
	rm m/v.yaml
'

test_expect_success 'several networks: overlays of the project, a service found only on its own' '
	N="$UNIQ-nets" &&
	cat > m/n.yaml <<-EOT &&
	apiVersion: caravanserai/v1
	kind: Project
	metadata: {name: $N}
	spec:
	  networks:
	    - {name: front}
	    - {name: back, internal: true}
	  services:
	    - {name: db, image: $CARA_TEST_IMAGE, command: ["sh", "-c", "$TRAP_SLEEP"],
	       stopGracePeriod: 1s, networks: [back]}
	    - {name: web, image: $CARA_TEST_IMAGE, command: ["sh", "-c", "$TRAP_SLEEP"],
	       stopGracePeriod: 1s, replicas: 3,
	       networks: [front, {name: back, aliases: [api]}]}
	    - {name: edge, image: $CARA_TEST_IMAGE, command: ["sh", "-c", "$TRAP_SLEEP"],
	       stopGracePeriod: 1s, networks: [front]}
	EOT
	$CARA sync --path m 2>err || { cat err; false; } &&
	[ "$(node_docker 1 network inspect -f "{{.Driver}} {{.Attachable}} {{.Internal}}" cara-${N}_back)" = "overlay true true" ] &&
	[ "$(node_docker 1 network inspect -f "{{.Driver}} {{.Internal}}" cara-${N}_front)" = "overlay false" ] &&
	! node_docker 1 network inspect cara-$N >/dev/null 2>&1 &&
	[ "$(svc $N-web "{{len .Spec.TaskTemplate.Networks}}")" = 2 ] &&
	c= n= && for i in 1 2 3; do
		c=$(task_on $N-edge $i); [ -n "$c" ] && { n=$i; break; }; done &&
	[ -n "$c" ] &&
	node_docker $n exec "$c" nslookup web >/dev/null 2>&1 &&
	! node_docker $n exec "$c" nslookup db >/dev/null 2>&1 &&
	! node_docker $n exec "$c" nslookup api >/dev/null 2>&1 &&
	c= && for i in 1 2 3; do
		c=$(task_on $N-db $i); [ -n "$c" ] && { n=$i; break; }; done &&
	node_docker $n exec "$c" nslookup api >/dev/null 2>&1 &&
	$CARA sync --path m 2>err &&
	expect_contains err "0 created, 0 recreated, 0 started, 0 removed" &&
	rm m/n.yaml &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	! node_docker 1 network inspect cara-${N}_front >/dev/null 2>&1 &&
	! node_docker 1 network inspect cara-${N}_back >/dev/null 2>&1
'

test_done
