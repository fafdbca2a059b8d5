#!/bin/sh
# Files of the source mounted into containers: a compose file's relative
# binds (a file, a directory) and configs, from a git repository (no
# working tree: the files are read as blobs) and from a directory.  The
# container sees the content, read-only; a commit changing the file
# recreates only the service that mounts it; a change elsewhere changes
# nothing; '../' out of the source is refused with file:line; once the
# service is gone, the copy under {state_dir}/files is removed.
. "$srcdir/tests/lib.sh"

P="$UNIQ-f"
R="$TEST_DIR/remote.git"
W="$TEST_DIR/work"
FILES="$CARA_STATE_DIR/files"
git init -q --bare -b main "$R"
git init -q -b main "$W"
g() { git -C "$W" -c user.name=t -c user.email=t@localhost "$@"; }
compose() {   # compose [EXTRA-SERVICE-LINES]
	mkdir -p "$W/$P/conf.d"
	cat > "$W/$P/compose.yaml" <<EOT
x-stop: &stop
  stop_grace_period: 1s
  image: $CARA_TEST_IMAGE
  command: ["sleep", "3600"]
services:
  web:
    <<: *stop
    volumes:
      - ./nginx.conf:/etc/nginx/nginx.conf:ro
      - {type: bind, source: conf.d, target: /etc/conf.d}
  other:
    <<: *stop
    configs:
      - app
      - {source: app, target: /etc/app.ini, mode: 0440}
configs:
  app:
    file: ./app.ini
EOT
}
compose
echo "worker_processes 1;" > "$W/$P/nginx.conf"
echo "a=1" > "$W/$P/conf.d/a.conf"
echo "[app]" > "$W/$P/app.ini"
echo "readme" > "$W/README.md"
g add -A && g commit -q -m "files" && g remote add origin "$R" && g push -q origin main

cid() { docker inspect -f '{{.Id}}' "$1" 2>/dev/null || echo none; }
sync_repo() { $CARA sync --repo "file://$R" "$@"; }

test_expect_success 'sync from git: the containers see the files, read-only' '
	sync_repo 2>err &&
	expect_state $P-web running && expect_state $P-other running &&
	[ "$(docker exec $P-web cat /etc/nginx/nginx.conf)" = "worker_processes 1;" ] &&
	[ "$(docker exec $P-web cat /etc/conf.d/a.conf)" = "a=1" ] &&
	[ "$(docker exec $P-other cat /app)" = "[app]" ] &&
	[ "$(docker exec $P-other cat /etc/app.ini)" = "[app]" ] &&
	! docker exec $P-web sh -c "echo x > /etc/nginx/nginx.conf" 2>/dev/null &&
	ls "$FILES" | grep -q "^sha256-" &&
	[ -z "$(find "$FILES" -mindepth 2 -type f -perm /0222)" ]
'

test_expect_success 'a commit changing the file recreates only the service mounting it' '
	web=$(cid $P-web) && other=$(cid $P-other) &&
	echo "worker_processes 2;" > "$W/$P/nginx.conf" &&
	g commit -q -am "nginx.conf" && g push -q origin main &&
	expect_exit 2 $CARA diff --repo "file://$R" >out &&
	expect_contains out "files" &&
	sync_repo 2>err &&
	[ "$(cid $P-web)" != "$web" ] && [ "$(cid $P-other)" = "$other" ] &&
	[ "$(docker exec $P-web cat /etc/nginx/nginx.conf)" = "worker_processes 2;" ]
'

test_expect_success 'a commit changing another file changes nothing' '
	web=$(cid $P-web) && other=$(cid $P-other) &&
	echo "more" >> "$W/README.md" &&
	g commit -q -am "readme" && g push -q origin main &&
	expect_exit 0 $CARA diff --repo "file://$R" >out &&
	sync_repo 2>err &&
	[ "$(cid $P-web)" = "$web" ] && [ "$(cid $P-other)" = "$other" ]
'

test_expect_success 'a bind leaving the source is refused with file:line' '
	cp "$W/$P/compose.yaml" keep.yaml &&
	sed "s#./nginx.conf:#../../etc/passwd:#" keep.yaml > "$W/$P/compose.yaml" &&
	g commit -q -am "escape" && g push -q origin main &&
	web=$(cid $P-web) &&
	expect_exit 1 sync_repo 2>err &&
	expect_contains err "$P/compose.yaml:9:" &&
	expect_contains err "leaves the source" &&
	[ "$(cid $P-web)" = "$web" ] &&
	cp keep.yaml "$W/$P/compose.yaml" && g commit -q -am "back" && g push -q origin main
'

test_expect_success 'rw and symbolic links are refused' '
	mkdir -p d/$P && cp "$W/$P/compose.yaml" "$W/$P/app.ini" d/$P/ &&
	cp -r "$W/$P/conf.d" d/$P/ && ln -s /etc/hostname d/$P/nginx.conf &&
	expect_exit 1 $CARA validate d >out 2>err &&
	expect_contains err "nginx.conf" && expect_contains err "symbolic link" &&
	rm d/$P/nginx.conf && echo "worker_processes 2;" > d/$P/nginx.conf &&
	sed "s#nginx.conf:ro#nginx.conf:rw#" keep.yaml > d/$P/compose.yaml &&
	expect_exit 1 $CARA validate d >out 2>err &&
	expect_contains err "read-write bind" &&
	cp keep.yaml d/$P/compose.yaml
'

test_expect_success 'a directory source gives the same containers' '
	web=$(cid $P-web) && other=$(cid $P-other) &&
	expect_exit 0 $CARA diff --path d >out &&
	echo "a=2" > d/$P/conf.d/a.conf &&
	$CARA sync --path d 2>err &&
	[ "$(cid $P-web)" != "$web" ] && [ "$(cid $P-other)" = "$other" ] &&
	[ "$(docker exec $P-web cat /etc/conf.d/a.conf)" = "a=2" ]
'

test_expect_success 'gc removes the copies no service mounts any more' '
	sed "/^  web:/,/conf.d}/d" keep.yaml > d/$P/compose.yaml &&
	$CARA sync --path d 2>err &&
	expect_state $P-web missing && expect_state $P-other running &&
	# left: config app, in its two modes
	[ "$(ls "$FILES" | wc -l)" -eq 2 ] &&
	[ "$(docker exec $P-other cat /etc/app.ini)" = "[app]" ]
'

test_expect_success 'a Project manifest mounts a file of the source; a pass that prunes nothing removes no copy' '
	Q="$UNIQ-mf" &&
	mkdir -p mf/conf &&
	echo "from the manifest" > mf/conf/app.txt &&
	cat > mf/p.yaml <<EOT &&
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $Q}
spec:
  services:
    - name: web
      image: $CARA_TEST_IMAGE
      command: ["sh", "-c", "$TRAP_SLEEP"]
      stopGracePeriod: 1s
      volumeMounts: [{name: conf, mountPath: /etc/app.txt}]
  volumes:
    - {name: conf, type: File, path: conf/app.txt}
EOT
	n=$(ls "$FILES" | wc -l) &&
	expect_exit 4 $CARA sync --path mf 2>err &&
	expect_contains err "refusing to prune" &&
	[ "$(ls "$FILES" | wc -l)" -gt "$n" ] &&
	docker restart -t 1 $P-other >/dev/null &&
	[ "$(docker exec $P-other cat /etc/app.ini)" = "[app]" ] &&
	[ "$(docker exec $Q-web cat /etc/app.txt)" = "from the manifest" ] &&
	! docker exec $Q-web sh -c "echo x > /etc/app.txt" 2>/dev/null &&
	echo "changed" > mf/conf/app.txt &&
	$CARA diff --path mf >out; [ $? -eq 2 ] && expect_contains out "changed: files" &&
	$CARA sync --path mf 2>err || { cat err; false; } &&
	[ "$(docker exec $Q-web cat /etc/app.txt)" = "changed" ] &&
	sed -i "s#path: conf/app.txt#path: ../../etc/passwd#" mf/p.yaml &&
	expect_exit 1 $CARA validate mf 2>err &&
	expect_contains err "p.yaml:12:38: spec.volumes[0].path:" && expect_contains err "leaves the source" &&
	sed -i "s#type: File, path: ../../etc/passwd#type: Managed, path: x#" mf/p.yaml &&
	expect_exit 1 $CARA validate mf 2>err &&
	expect_contains err "only a File volume has a path"
'

test_done
