#!/bin/sh
# compose build: the context is a directory of the source, sent as a tar
# (.dockerignore honoured) to the Engine's builder; the image is tagged
# with the hash of context and settings, so an unchanged context is not
# built again, and a changed one is built and recreates exactly the
# services that use it.  A failing build fails the project (BuildFailed)
# and leaves its running containers alone; a context outside the source or
# holding a link is an error of the file, and nothing is applied.
. "$srcdir/tests/lib.sh"

P="$UNIQ-bld"
O="$UNIQ-other"
mkdir -p "m/$P/app" "m/$P/tools" "m/$O"
cleanup_images() {
	docker images --format '{{.Repository}}:{{.Tag}}' |
		grep -E "^(cara-build/$UNIQ-|$UNIQ-local/)" | xargs -r docker rmi -f >/dev/null 2>&1
	test_cleanup
}
trap cleanup_images EXIT

cat > "m/$P/compose.yaml" <<EOT
x-stop: &stop
  stop_grace_period: 1s
services:
  web:
    <<: *stop
    build:
      context: ./app
      args: {GREETING: hello}
    command: ["sh", "-c", "$TRAP_SLEEP"]
  tool:
    <<: *stop
    image: $UNIQ-local/tool:dev
    build:
      context: tools
      dockerfile: build/Containerfile
      target: final
    command: ["sh", "-c", "$TRAP_SLEEP"]
  plain:
    <<: *stop
    image: $CARA_TEST_IMAGE
    command: ["sh", "-c", "$TRAP_SLEEP"]
EOT
cat > "m/$P/app/Dockerfile" <<EOT
FROM $CARA_TEST_IMAGE
ARG GREETING
COPY page.txt /page.txt
RUN echo "\$GREETING from the build" > /greeting
EOT
echo "page one" > "m/$P/app/page.txt"
echo "not for the image" > "m/$P/app/notes.txt"
mkdir -p "m/$P/app/cache"
echo "cached" > "m/$P/app/cache/blob"
printf '# not sent\nnotes.txt\ncache\n' > "m/$P/app/.dockerignore"
mkdir -p "m/$P/tools/build"
cat > "m/$P/tools/build/Containerfile" <<EOT
FROM $CARA_TEST_IMAGE AS first
RUN echo first > /stage
FROM $CARA_TEST_IMAGE AS final
RUN echo final > /stage
FROM $CARA_TEST_IMAGE AS after
RUN echo after > /stage
EOT
sleeper_project "$O" > "m/$O/project.yaml"

cid() { docker inspect -f '{{.Id}}' "$1" 2>/dev/null || echo none; }
img() { docker inspect -f '{{.Config.Image}}' "$1"; }

test_expect_success 'sync builds the images and runs them' '
	$CARA sync --path m 2>err || { cat err; false; } &&
	expect_contains err "building image cara-build/$P-web:" &&
	expect_state $P-web running && expect_state $P-tool running &&
	case "$(img $P-web)" in cara-build/$P-web:????????????????) ;; *) false ;; esac &&
	[ "$(docker exec $P-web cat /greeting)" = "hello from the build" ] &&
	[ "$(docker exec $P-web cat /page.txt)" = "page one" ] &&
	[ "$(docker exec $P-tool cat /stage)" = final ]
'

test_expect_success '.dockerignore keeps files out of the context' '
	! docker run --rm --entrypoint ls "$(img $P-web)" /notes.txt /cache 2>/dev/null &&
	[ "$(docker image inspect -f "{{index .Config.Labels \"cara.built-for\"}}" "$(img $P-web)")" = $P ]
'

test_expect_success 'the image: beside build is a tag of the built image' '
	[ "$(docker image inspect -f "{{.Id}}" $UNIQ-local/tool:dev)" = \
	  "$(docker image inspect -f "{{.Id}}" "$(img $P-tool)")" ]
'

test_expect_success 'an unchanged context is not built again' '
	web=$(cid $P-web) &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	expect_not_contains err "building image" &&
	[ "$(cid $P-web)" = "$web" ] &&
	$CARA diff --path m >out && expect_contains out "No changes"
'

test_expect_success 'a change to an ignored file changes nothing' '
	echo "more notes" >> m/$P/app/notes.txt &&
	echo "more" >> m/$P/app/cache/blob &&
	$CARA diff --path m >out && expect_contains out "No changes"
'

test_expect_success 'a changed file of the context is built and recreates that service only' '
	web=$(cid $P-web) tool=$(cid $P-tool) plain=$(cid $P-plain) old=$(img $P-web) &&
	echo "page two" > m/$P/app/page.txt &&
	expect_exit 2 $CARA diff --path m >out &&
	expect_contains out "+ build image cara-build/$P-web:" &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	[ "$(cid $P-web)" != "$web" ] && [ "$(img $P-web)" != "$old" ] &&
	[ "$(cid $P-tool)" = "$tool" ] && [ "$(cid $P-plain)" = "$plain" ] &&
	[ "$(docker exec $P-web cat /page.txt)" = "page two" ]
'

test_expect_success 'a changed build arg is a new image too' '
	web=$(cid $P-web) &&
	sed "s/GREETING: hello/GREETING: howdy/" m/$P/compose.yaml >c && mv c m/$P/compose.yaml &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	[ "$(cid $P-web)" != "$web" ] &&
	[ "$(docker exec $P-web cat /greeting)" = "howdy from the build" ]
'

test_expect_success 'a failing build fails the project and leaves its containers running' '
	web=$(cid $P-web) other=$(cid $O-s) &&
	cp m/$P/app/Dockerfile keep &&
	echo "RUN echo broken-step && false" >> m/$P/app/Dockerfile &&
	expect_exit 4 $CARA sync --path m 2>err &&
	expect_contains err "BuildFailed" &&
	expect_contains err "service web" &&
	[ "$(cid $P-web)" = "$web" ] && expect_state $P-web running &&
	[ "$(cid $O-s)" = "$other" ] &&
	$CARA status >out && grep -E "^$P +Failed +BuildFailed" out &&
	cp keep m/$P/app/Dockerfile
'

test_expect_success 'a context outside the source, a missing Dockerfile, a link: errors of the file' '
	cp m/$P/compose.yaml keep.yaml &&
	sed "s|context: ./app|context: ../../|" keep.yaml > m/$P/compose.yaml &&
	expect_exit 1 $CARA validate m >out 2>err &&
	expect_contains err "compose.yaml:7:" &&
	expect_contains err "services.web.build.context" &&
	expect_contains err "leaves the source" &&
	sed "s|context: ./app|context: ./app\n      dockerfile: Nope|" keep.yaml > m/$P/compose.yaml &&
	expect_exit 1 $CARA validate m >out 2>err &&
	expect_contains err "no Nope in the build context" &&
	sed "s|context: ./app|context: http://example.invalid/repo.git|" keep.yaml > m/$P/compose.yaml &&
	expect_exit 1 $CARA validate m >out 2>err &&
	expect_contains err "remote build context" &&
	cp keep.yaml m/$P/compose.yaml &&
	ln -s /etc/passwd m/$P/app/passwd &&
	web=$(cid $P-web) &&
	expect_exit 1 $CARA validate m >out 2>err &&
	expect_contains err "symbolic link" &&
	expect_exit 4 $CARA sync --path m 2>err &&
	expect_contains err "symbolic link" &&
	[ "$(cid $P-web)" = "$web" ] && expect_state $P-web running &&
	rm m/$P/app/passwd
'

test_expect_success 'convert says the image is built, not pulled' '
	$CARA convert m >out &&
	expect_contains out "# built by cara from the compose build context" &&
	expect_contains out "image: cara-build/$P-web:"
'

test_expect_success 'removing the project removes its containers' '
	rm -r m/$P &&
	$CARA sync --path m --allow-mass-prune 2>err || { cat err; false; } &&
	expect_state $P-web missing && expect_state $P-tool missing
'

test_done
