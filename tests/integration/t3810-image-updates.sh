#!/bin/sh
# Moving tags: a tag pushed again is seen by cara diff (exit 2, both
# digests, nothing pulled) and by cara sync --image-check always (pulled,
# exactly the service on it recreated, an ImageUpdated event, the new
# digest in describe); describe and status --output json show the digest
# each container runs ("-" for a locally built image); a @sha256: reference
# never moves, and one no local image of its repo has fails naming both
# digests, creating nothing; imagePullPolicy
# Never with the image missing fails naming it; a pull that fails after
# the digest moved leaves the old container running; two projects on one
# missing image pull it once.  Debian's
# docker-registry on a loopback port, without auth.
. "$srcdir/tests/lib.sh"

if [ ! -x /usr/bin/docker-registry ]; then
	test_skip 'image updates' 'needs docker-registry'
	test_done
	exit
fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REG="127.0.0.1:$PORT"
IMG="$REG/cara-$UNIQ/app:latest"
OTHER="$REG/cara-$UNIQ/other:1"
SHARED="$REG/cara-$UNIQ/shared:1"
P="$UNIQ-upd"
REG_PID=

updates_cleanup() {
	cleanup_docker
	docker rm -f "$UNIQ-build" >/dev/null 2>&1
	for i in $(cat built 2>/dev/null); do docker rmi -f "$i" >/dev/null 2>&1; done
	docker rmi "$IMG" "$OTHER" "$SHARED" "cara-$UNIQ-local:1" >/dev/null 2>&1
	if [ -n "$REG_PID" ]; then
		kill "$REG_PID" 2>/dev/null
		wait "$REG_PID" 2>/dev/null
	fi
	test_cleanup
}
trap updates_cleanup EXIT

mkdir -p reg/data m
cat > reg/config.yml <<EOT
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $TEST_DIR/reg/data
http:
  addr: $REG
EOT
/usr/bin/docker-registry serve reg/config.yml > reg/log 2>&1 &
REG_PID=$!

# build N: an image from the test image with /version N, pushed as $IMG
build() {
	docker rm -f "$UNIQ-build" >/dev/null 2>&1
	docker run --name "$UNIQ-build" "$CARA_TEST_IMAGE" sh -c "echo $1 > /version" &&
	id=$(docker commit "$UNIQ-build" "$IMG") &&
	echo "$id" >> built &&
	docker rm "$UNIQ-build" >/dev/null &&
	docker push "$IMG" >/dev/null
}

digest_of() { docker image inspect -f '{{range .RepoDigests}}{{println .}}{{end}}' "$1" | sed -n 's/.*@//p' | head -1; }

project() {
	cat <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $P}
spec:
  services:
    - name: app
      image: $IMG
      command: ["sh", "-c", "$TRAP_SLEEP"]
      stopGracePeriod: 1s
    - name: other
      image: $OTHER
      command: ["sh", "-c", "$TRAP_SLEEP"]
      stopGracePeriod: 1s
EOT
}

test_expect_success 'the registry answers; v1 and another image are pushed' '
	for i in $(seq 1 50); do
		curl -fsS "http://$REG/v2/" >/dev/null 2>&1 && break
		sleep 0.2
	done &&
	build 1 &&
	docker tag "$CARA_TEST_IMAGE" "$OTHER" && docker push "$OTHER" >/dev/null &&
	digest_of "$IMG" > d1 && test -s d1
'

test_expect_success 'sync runs both services' '
	project > m/p.yaml &&
	$CARA sync --path m 2>err >out &&
	expect_state "$P-app" running && expect_state "$P-other" running &&
	docker inspect -f "{{.Id}}" "$P-app" > app1 &&
	docker inspect -f "{{.Id}}" "$P-other" > other1
'

test_expect_success 'v2 pushed under the same tag, the local image kept at v1' '
	old=$(docker image inspect -f "{{.Id}}" "$IMG") &&
	build 2 &&
	docker rmi "$IMG" >/dev/null &&
	docker tag "$old" "$IMG" && docker image inspect -f "{{.Id}}" "$IMG" > local1 &&
	curl -fsS -I -H "Accept: application/vnd.docker.distribution.manifest.v2+json" \
		"http://$REG/v2/cara-$UNIQ/app/manifests/latest" |
		sed -n "s/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p" | tr -d "\r" > d2 &&
	test -s d2 && ! cmp -s d1 d2
'

test_expect_success 'without --image-check nothing changes' '
	$CARA diff --path m >out 2>err
'

test_expect_success 'diff --image-check always: exit 2, ImageUpdated with both digests, nothing pulled' '
	expect_exit 2 $CARA diff --path m --image-check always >out 2>err &&
	expect_contains out "ImageUpdated: $(cat d1) -> $(cat d2)" &&
	expect_contains out "container $P-app (changed: image) (ImageUpdated)" &&
	expect_not_contains out "$P-other" &&
	docker image inspect -f "{{.Id}}" "$IMG" > local2 && cmp local1 local2
'

test_expect_success 'sync --image-check always pulls and recreates only app' '
	$CARA sync --path m --image-check always 2>err >out &&
	expect_state "$P-app" running &&
	docker inspect -f "{{.Id}}" "$P-app" > app2 && ! cmp -s app1 app2 &&
	docker inspect -f "{{.Id}}" "$P-other" > other2 && cmp other1 other2 &&
	docker exec "$P-app" cat /version > v && grep -qx 2 v &&
	$CARA describe "$P" > desc &&
	expect_contains desc "ImageUpdated" &&
	expect_contains desc "$(cat d2)" &&
	$CARA status --output json > st.json &&
	python3 -c "import json, sys; p = [p for p in json.load(open(\"st.json\")) if p[\"name\"] == sys.argv[1]][0]; d = {i[\"service\"]: i[\"digest\"] for i in p[\"images\"]}; assert d[\"app\"] == sys.argv[2], d" "$P" "$(cat d2)"
'

test_expect_success 'the next check finds nothing' '
	$CARA diff --path m --image-check always >out 2>err
'

test_expect_success 'describe and status show the digest each container runs (status: the one the last pass left)' '
	$CARA describe "$P" > desc &&
	grep "container  $P-app " desc | grep -q "digest=$(cat d2) " &&
	grep "container  $P-other " desc | grep -q "digest=sha256:" &&
	$CARA status --output json > st.json &&
	python3 - "$P" "$IMG" "$(cat d2)" <<-\EOP
	import json, sys
	name, img, d2 = sys.argv[1:]
	p = [p for p in json.load(open("st.json")) if p["name"] == name][0]
	imgs = {i["service"]: i for i in p["images"]}
	assert imgs["app"] == {"service": "app", "image": img, "digest": d2}, imgs
	assert imgs["other"]["digest"].startswith("sha256:"), imgs
	EOP
'

test_expect_success 'a failed pull of a newer image leaves the old container running' '
	docker inspect -f "{{.Id}}" "$P-app" > app3 &&
	old=$(docker image inspect -f "{{.Id}}" "$IMG") &&
	build 3 && new=$(docker image inspect -f "{{.Id}}" "$IMG") &&
	docker rmi "$IMG" >/dev/null && docker tag "$old" "$IMG" &&
	h=${new#sha256:} &&
	rm -f "reg/data/docker/registry/v2/blobs/sha256/$(echo "$h" | cut -c1-2)/$h/data" &&
	{ $CARA sync --path m --image-check always 2>err >out; rc=$?; } ;
	[ "$rc" = 1 ] &&
	expect_contains err "ImagePullError" &&
	docker inspect -f "{{.Id}}" "$P-app" > app4 && cmp app3 app4 &&
	expect_state "$P-app" running
'

test_expect_success 'a @sha256: reference is never updated' '
	sed "s|image: $IMG|image: $REG/cara-$UNIQ/app@$(cat d2)|" m/p.yaml > m/q.yaml &&
	rm m/p.yaml && sed -i "s|name: $P}|name: $P-pin}|" m/q.yaml &&
	{ $CARA sync --path m --image-check always --allow-mass-prune 2>err >out || { cat out err; false; }; } &&
	expect_state "$P-pin-app" running &&
	{ $CARA diff --path m --image-check always >out 2>err || { cat out err; false; }; }
'

test_expect_success 'a locally built image has no digest: describe shows -' '
	rm -f m/*.yaml &&
	docker tag "$(head -1 built)" "cara-$UNIQ-local:1" &&
	sleeper_project "$P-local" | sed "s|image: .*|image: cara-$UNIQ-local:1\n      imagePullPolicy: Never|" > m/l.yaml &&
	$CARA sync --path m --allow-mass-prune 2>err >out &&
	$CARA describe "$P-local" > desc &&
	grep "container  $P-local-" desc | grep -q "digest=- "
'

# exit 4 first: the pass also tears down the project of the local image
test_expect_success 'image@sha256: with a local image of that repo without the digest: ImagePullError naming both' '
	rm -f m/*.yaml &&
	zero=sha256:0000000000000000000000000000000000000000000000000000000000000000 &&
	sleeper_project "$P-dig" | sed "s|image: .*|image: cara-$UNIQ-local@$zero\n      imagePullPolicy: Never|" > m/d.yaml &&
	{ expect_exit 4 $CARA sync --path m --allow-mass-prune 2>err >out || { cat out err; false; }; } &&
	expect_contains err "ImagePullError" &&
	expect_contains err "cara-$UNIQ-local:1 ($(head -1 built | cut -c1-19)) has no digest from cara-$UNIQ-local, not $zero" &&
	! docker ps -a --format "{{.Names}}" | grep -q "^$P-dig-" &&
	sed -i "s|cara-$UNIQ-local@$zero|$REG/cara-$UNIQ/app@$zero|" m/d.yaml &&
	{ expect_exit 1 $CARA sync --path m --allow-mass-prune 2>err >out || { cat out err; false; }; } &&
	expect_contains err "has digest $(cat d2)" &&
	expect_contains err "not $zero" &&
	! docker ps -a --format "{{.Names}}" | grep -q "^$P-dig-"
'

test_expect_success 'imagePullPolicy Never with the image missing fails naming it' '
	rm -f m/*.yaml &&
	sleeper_project "$P-never" | sed "s|image: .*|image: $REG/cara-$UNIQ/nope:1\n      imagePullPolicy: Never|" > m/n.yaml &&
	expect_exit 1 $CARA sync --path m 2>err >out &&
	expect_contains err "ImagePullError" &&
	expect_contains err "nope:1 is not on the host" &&
	expect_contains err "imagePullPolicy Never"
'

test_expect_success 'two projects on one missing image: one pull, both running' '
	rm -f m/*.yaml &&
	docker tag "$CARA_TEST_IMAGE" "$SHARED" && docker push "$SHARED" >/dev/null &&
	docker rmi "$SHARED" >/dev/null &&
	! docker image inspect "$SHARED" >/dev/null 2>&1 &&
	sleeper_project "$P-sh1" | sed "s|image: .*|image: $SHARED|" > m/s1.yaml &&
	sleeper_project "$P-sh2" | sed "s|image: .*|image: $SHARED|" > m/s2.yaml &&
	{ $CARA sync --path m --parallel 2 --allow-mass-prune 2>err >out || { cat out err; false; }; } &&
	expect_state "$P-sh1-s" running && expect_state "$P-sh2-s" running &&
	[ "$(grep -c "pulling image $SHARED" err)" = 1 ] &&
	$CARA diff --path m >out 2>err
'

test_done
