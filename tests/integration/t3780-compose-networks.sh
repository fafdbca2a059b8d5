#!/bin/sh
# Several networks a project: each service is on the networks it names
# (the default one when it names none), reachable there by its name and
# its aliases and nowhere else; an internal network has no way out; an
# External network is joined by its own name and never made or removed.
# A container disconnected by hand is connected again; a network no
# service joins any more is removed after its containers; one whose
# internal setting changed is made again with the containers on it.
. "$srcdir/tests/lib.sh"

P="$UNIQ-net"
EXT="$UNIQ-shared"
mkdir -p "m/$P"
cleanup_net() {
	test_cleanup
	docker network rm "$EXT" >/dev/null 2>&1
}
trap cleanup_net EXIT

stack() {   # stack BACK-INTERNAL WEB-ON-FRONT
	cat > "m/$P/compose.yaml" <<EOT
x-base: &base
  image: $CARA_TEST_IMAGE
  command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
  stop_grace_period: 1s
services:
  web:
    <<: *base
    networks:
$( [ "$2" = yes ] && printf '      front: {aliases: [www]}\n' )
      back: {aliases: [api]}
      shared:
  db:
    <<: *base
    networks: [back]
  edge:
    <<: *base
    networks: [default, front]
networks:
  front:
  back:
    internal: $1
  shared:
    external: true
    name: $EXT
EOT
}
stack true yes
docker network create "$EXT" >/dev/null

resolves() {   # resolves CONTAINER NAME: NAME has an address there
	docker exec "$1" nslookup "$2" 2>/dev/null | grep -q "^Address.*: [0-9]" ||
		docker exec "$1" ping -c1 -W1 "$2" >/dev/null 2>&1
}
nets_of() {
	docker inspect -f '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}' "$1"
}

test_expect_success 'each network joined is made; the External one is joined, not made' '
	$CARA sync --path m 2>err || { cat err; false; } &&
	expect_state $P-web running && expect_state $P-db running &&
	expect_state $P-edge running &&
	docker network inspect cara-$P cara-${P}_front cara-${P}_back >/dev/null &&
	[ "$(docker network inspect -f "{{.Internal}}" cara-${P}_back)" = true ] &&
	[ -z "$(docker network inspect -f "{{index .Labels \"cara.project\"}}" $EXT)" ] &&
	[ "$(nets_of $P-web)" = "cara-${P}_back cara-${P}_front $EXT " ] &&
	[ "$(nets_of $P-db)" = "cara-${P}_back " ] &&
	[ "$(nets_of $P-edge)" = "cara-$P cara-${P}_front " ]
'

test_expect_success 'a service is found by name and alias on its networks only' '
	resolves $P-edge web && resolves $P-edge www &&
	resolves $P-db web && resolves $P-db api &&
	! resolves $P-edge db && ! resolves $P-edge api &&
	! resolves $P-db edge
'

test_expect_success 'a second pass changes nothing' '
	expect_exit 0 $CARA diff --path m >out 2>err &&
	expect_contains out "No changes"
'

test_expect_success 'disconnected by hand from one network: connected again, not recreated' '
	id=$(docker inspect -f "{{.Id}}" $P-web) &&
	docker network disconnect cara-${P}_back $P-web &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	expect_contains out "connect container $P-web to network cara-${P}_back" &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	[ "$(docker inspect -f "{{.Id}}" $P-web)" = "$id" ] &&
	resolves $P-db api
'

test_expect_success 'web leaves front: recreated, front stays for edge' '
	stack true no &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	[ "$(nets_of $P-web)" = "cara-${P}_back $EXT " ] &&
	docker network inspect cara-${P}_front >/dev/null
'

test_expect_success 'internal changed: the network is made again with what is on it' '
	stack false no &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	expect_contains out "- network cara-${P}_back" &&
	expect_contains out "+ network cara-${P}_back" &&
	edge=$(docker inspect -f "{{.Id}}" $P-edge) &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	[ "$(docker network inspect -f "{{.Internal}}" cara-${P}_back)" = false ] &&
	expect_state $P-web running && expect_state $P-db running &&
	[ "$(docker inspect -f "{{.Id}}" $P-edge)" = "$edge" ] &&
	resolves $P-db api
'

test_expect_success 'a network no service joins is removed after its last container' '
	sed "s/networks: \[default, front\]/networks: [default]/" m/$P/compose.yaml >c2 &&
	mv c2 m/$P/compose.yaml &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	expect_contains out "- network cara-${P}_front (NetworkUnused)" &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	! docker network inspect cara-${P}_front >/dev/null 2>&1 &&
	expect_exit 0 $CARA diff --path m >out 2>err
'

test_expect_success 'a missing External network fails the service, naming it; the old one keeps running' '
	sed "s/name: $EXT/name: $UNIQ-absent/" m/$P/compose.yaml >c2 &&
	mv c2 m/$P/compose.yaml &&
	id=$(docker inspect -f "{{.Id}}" $P-web) &&
	expect_exit 1 $CARA sync --path m >out 2>err &&
	expect_contains err "NetworkMissing" &&
	expect_contains err "external network '"'"'$UNIQ-absent'"'"' does not exist" &&
	! docker network inspect $UNIQ-absent >/dev/null 2>&1 &&
	[ "$(docker inspect -f "{{.Id}}" $P-web)" = "$id" ] &&
	expect_state $P-web running &&
	! docker network inspect $UNIQ-absent >/dev/null 2>&1 &&
	[ "$(docker inspect -f "{{.Id}}" $P-web)" = "$id" ] &&
	expect_state $P-web running &&
	sed "s/name: $UNIQ-absent/name: $EXT/" m/$P/compose.yaml >c2 &&
	mv c2 m/$P/compose.yaml &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	expect_state $P-web running
'

# A project that would answer to web's name on the shared network (and
# so take some of its lookups) is refused; web alone answers there.
test_expect_success 'an alias of another project'"'"'s service on the External network is refused' '
	mkdir -p m/$UNIQ-sly &&
	cat > m/$UNIQ-sly/compose.yaml <<EOT &&
services:
  t:
    image: $CARA_TEST_IMAGE
    command: ["sh", "-c", "trap '"'"'exit 0'"'"' TERM; while :; do sleep 1; done"]
    networks:
      shared: {aliases: [web]}
networks:
  shared:
    external: true
    name: $EXT
EOT
	{ expect_exit 4 $CARA sync --path m >out 2>err || { cat err; false; }; } &&
	expect_contains err "$UNIQ-sly/compose.yaml:" &&
	expect_contains err "'"'"'web'"'"' on external network '"'"'$EXT'"'"' is the name of project '"'"'$P'"'"' service '"'"'web'"'"'" &&
	expect_state $UNIQ-sly-t missing &&
	expect_state $P-web running &&
	for try in 1 2 3; do
		n=$(docker run --rm --name $UNIQ-probe --network $EXT $CARA_TEST_IMAGE \
			nslookup web 2>/dev/null | grep -c "^Address.*: [0-9]") || n=0
		[ "$n" -eq 0 ] || break
		sleep 1
	done &&
	{ [ "$n" -eq 1 ] || { echo "web has $n addresses on $EXT"; false; }; } &&
	rm -r m/$UNIQ-sly
'

test_expect_success 'teardown removes the networks cara made, never the External one' '
	rm -r m/$P && mkdir -p m/$UNIQ-other &&
	$CARA sync --path m --allow-mass-prune 2>err || { cat err; false; } &&
	! docker network inspect cara-$P >/dev/null 2>&1 &&
	! docker network inspect cara-${P}_back >/dev/null 2>&1 &&
	docker network inspect $EXT >/dev/null
'

test_done
