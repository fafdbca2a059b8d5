#!/bin/sh
# Ingress rules are the routing: a Caddy proxy cara runs (from the local
# image ensure_caddy_image builds) routes each host to its project's
# service.  Routes are added, changed and removed across passes; a
# torn-down project loses its routes and the last route takes the proxy
# with it; Internal and Public rules listen only on their own address; a
# request in flight survives a reload; a proxy removed by hand comes back;
# a configuration the proxy refuses leaves the old one serving (exit 4);
# an invalid project keeps its routes; TLS with Caddy's internal CA.
. "$srcdir/tests/lib.sh"

CADDY_IMAGE=${CARA_TEST_CADDY_IMAGE:-cara-local/caddy:2}
if ! docker image inspect "$CADDY_IMAGE" >/dev/null 2>&1; then
	test_skip 'ingress routes' "no $CADDY_IMAGE image (scripts/test builds it: ensure_caddy_image in scripts/lib.sh)"
	test_done
	exit
fi

A="$UNIQ-a"
B="$UNIQ-b"
HA="a-$UNIQ.test"
HB="b-$UNIQ.test"
HC="c-$UNIQ.test"
# unusual high ports, apart for each run (other tests run at the same time)
HTTP=$((20000 + ($$ % 4000) * 2))
HTTPS=$((HTTP + 1))
IN=127.0.0.1
PUB=127.0.0.2
export CARA_INGRESS_IMAGE="$CADDY_IMAGE"
export CARA_INGRESS_HTTP_PORT=$HTTP CARA_INGRESS_HTTPS_PORT=$HTTPS
export CARA_INGRESS_INTERNAL_ADDRESS=$IN CARA_INGRESS_PUBLIC_ADDRESS=$PUB
export CARA_INGRESS_TLS=off
mkdir -p m

# site NAME TEXT [SERVICE]: a service that serves TEXT at / and, at
# /cgi-bin/slow, an answer that takes 3 s
site() {
	cat <<EOT
    - name: ${3:-web}
      image: $CARA_TEST_IMAGE
      stopGracePeriod: 1s
      command:
        - sh
        - -c
        - |
          mkdir -p /w/cgi-bin
          echo '$2' > /w/index.html
          printf '#!/bin/sh\nsleep 3\nprintf "Content-Type: text/plain\\\\r\\\\n\\\\r\\\\nslow-done\\\\n"\n' > /w/cgi-bin/slow
          chmod +x /w/cgi-bin/slow
          exec httpd -f -p 80 -h /w
EOT
}

# project NAME: the header of a project
project() {
	cat <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata: {name: $1}
spec:
  services:
EOT
}

# rule NAME HOST SERVICE SCOPE
rule() {
	echo "    - {name: $1, host: $2, target: {service: $3, port: 80}, access: {scope: $4}}"
}

write_a() {   # write_a [EXTRA-RULE-LINES]
	{ project "$A"; site "$A" "alpha-$UNIQ"; site "$A" "alpha2-$UNIQ" alt
	  echo "  ingress:"; rule web "$HA" web Internal; [ -z "${1:-}" ] || printf '%s\n' "$1"
	} > "m/$A.yaml"
}
write_b() {
	{ project "$B"; site "$B" "beta-$UNIQ"
	  echo "  ingress:"; rule web "$HB" web Public; } > "m/$B.yaml"
}

# get ADDRESS HOST [PATH]: the body the proxy answers, or "refused"
get() {
	curl -s -H "Host: $2" "http://$1:$HTTP${3:-/}" 2>/dev/null || echo refused
}

proxy() {
	owner=$(sqlite3 "$CARA_STATE_DIR/state.db" "SELECT value FROM meta WHERE key = 'identity'")
	echo "cara-ingress-$(printf '%.12s' "$owner")"
}

write_a
write_b

test_expect_success 'the first rules bring up the proxy, and each host reaches its own project' '
	$CARA sync --path m 2>err || { cat err; false; } &&
	expect_contains err "ingress: creating the proxy" &&
	expect_state "$(proxy)" running &&
	[ "$(docker inspect -f "{{.HostConfig.NetworkMode}}" "$(proxy)")" = host ] &&
	[ -z "$(docker inspect -f "{{index .Config.Labels \"cara.project\"}}" "$(proxy)")" ] &&
	[ "$(get $IN "$HA")" = "alpha-$UNIQ" ] &&
	[ "$(get $PUB "$HB")" = "beta-$UNIQ" ]
'

test_expect_success 'a Public route does not answer on the internal address, nor an Internal one on the public' '
	[ "$(get $IN "$HB")" != "beta-$UNIQ" ] &&
	get $IN "$HB" | grep -q "no route" &&
	[ "$(get $PUB "$HA")" != "alpha-$UNIQ" ] &&
	get $PUB "$HA" | grep -q "no route"
'

test_expect_success 'status and describe show the routes, served' '
	$CARA status >out &&
	expect_contains out "$HA -> $A/web:80  Internal  served" &&
	expect_contains out "$HB -> $B/web:80  Public  served" &&
	$CARA status --output json >out &&
	expect_contains out "\"routes\": [{\"host\": \"$HB\", \"service\": \"web\", \"port\": 80, \"scope\": \"Public\", \"served\": true}]" &&
	$CARA describe "$A" >out &&
	expect_contains out "Routes:" &&
	expect_contains out "  $HA -> $A/web:80  Internal  served" &&
	expect_not_contains out "$HB"
'

test_expect_success 'a compose project'"'"'s x-cara ingress routes the same way' '
	mkdir -p "m/$UNIQ-d" &&
	cat > "m/$UNIQ-d/compose.yaml" <<-EOT &&
	x-cara:
	  ingress:
	    - {name: web, host: d-$UNIQ.test, target: {service: web, port: 80}}
	services:
	  web:
	    image: $CARA_TEST_IMAGE
	    command: ["sh", "-c", "mkdir -p /w && echo delta-$UNIQ > /w/index.html && exec httpd -f -p 80 -h /w"]
	    stop_grace_period: 1s
	EOT
	$CARA sync --path m 2>err || { cat err; false; } &&
	[ "$(get $IN "d-$UNIQ.test")" = "delta-$UNIQ" ] &&
	rm -r "m/$UNIQ-d" &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	get $IN "d-$UNIQ.test" | grep -q "no route"
'

test_expect_success 'a second pass changes nothing and does not reload' '
	expect_exit 0 $CARA diff --path m >out 2>err &&
	expect_not_contains out "route" &&
	$CARA sync --path m 2>err &&
	expect_not_contains err "ingress:"
'

test_expect_success 'a route added shows in diff and then answers' '
	write_a "$(rule extra "$HC" web Internal)" &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	expect_contains out "+ route $HC -> $A/web:80" &&
	expect_not_contains out "No changes" &&
	expect_exit 2 $CARA diff --path m --output json >out 2>err &&
	expect_contains out "\"changes\": true, \"routes\": [\"+ route $HC -> $A/web:80\"]" &&
	expect_exit 2 $CARA sync --dry-run --path m >out 2>err &&
	expect_contains out "+ route $HC -> $A/web:80" &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	expect_contains err "(reloaded)" &&
	[ "$(get $IN "$HC")" = "alpha-$UNIQ" ]
'

test_expect_success 'a route changed goes to its new service' '
	write_a "$(rule extra "$HC" alt Internal)" &&
	expect_exit 2 $CARA diff --path m >out 2>err &&
	expect_contains out "~ route $HC -> $A/alt:80 (was $A/web:80)" &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	[ "$(get $IN "$HC")" = "alpha2-$UNIQ" ] &&
	[ "$(get $IN "$HA")" = "alpha-$UNIQ" ]
'

test_expect_success 'a request in flight during a reload completes' '
	curl -s -H "Host: $HA" "http://$IN:$HTTP/cgi-bin/slow" >slow.out 2>slow.err &
	pid=$! &&
	# the request has reached the service once its CGI runs
	i=0 && until docker exec "$A-web" ps | grep -q "sleep 3"; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "the slow request never started"; false; }
		sleep 0.1
	done &&
	write_a &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	expect_contains err "(reloaded)" &&
	wait $pid &&
	expect_contains slow.out "slow-done" &&
	[ "$(get $IN "$HC")" != "alpha2-$UNIQ" ]
'

test_expect_success 'a route removed answers no more' '
	get $IN "$HC" | grep -q "no route"
'

test_expect_success 'a proxy removed by hand is repaired by the next pass' '
	docker rm -f "$(proxy)" >/dev/null &&
	[ "$(get $IN "$HA")" = refused ] &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	expect_state "$(proxy)" running &&
	[ "$(get $IN "$HA")" = "alpha-$UNIQ" ] &&
	[ "$(get $PUB "$HB")" = "beta-$UNIQ" ]
'

test_expect_success 'an address not of this host is refused before the proxy sees it; the projects converge; exit 4' '
	sleeper_project "$UNIQ-c" > "m/$UNIQ-c.yaml" &&
	CARA_INGRESS_PUBLIC_ADDRESS=192.0.2.1 expect_exit 4 $CARA sync --path m 2>err &&
	expect_contains err "IngressFailed: ingress: --ingress-public-address '"'"'192.0.2.1'"'"' is not an address of this host" &&
	expect_state "$UNIQ-c-s" running &&
	[ "$(get $IN "$HA")" = "alpha-$UNIQ" ] &&
	[ "$(get $PUB "$HB")" = "beta-$UNIQ" ] &&
	sqlite3 "$CARA_STATE_DIR/state.db" "SELECT kind FROM events" >out &&
	expect_contains out "IngressFailed"
'

test_expect_success 'Internal and Public rules on overlapping addresses are refused the same way' '
	CARA_INGRESS_PUBLIC_ADDRESS=0.0.0.0 expect_exit 4 $CARA sync --path m 2>err &&
	expect_contains err "overlap: give each scope an address of its own" &&
	[ "$(get $IN "$HA")" = "alpha-$UNIQ" ] &&
	[ "$(get $PUB "$HB")" = "beta-$UNIQ" ]
'

test_expect_success 'a configuration the proxy refuses leaves the old one serving; exit 4' '
	# certificates for no host: Caddy refuses to load the configuration
	mkdir -p certs &&
	CARA_INGRESS_TLS="$PWD/certs" expect_exit 4 $CARA sync --path m 2>err &&
	expect_contains err "IngressFailed: ingress: the proxy refused the configuration" &&
	expect_contains err "keeps serving its previous configuration" &&
	[ "$(get $IN "$HA")" = "alpha-$UNIQ" ] &&
	[ "$(get $PUB "$HB")" = "beta-$UNIQ" ] &&
	$CARA status >out &&
	expect_contains out "$HA -> $A/web:80  Internal  served"
'

test_expect_success 'with certificates for its hosts in the directory, it loads; https answers' '
	for h in "$HA" "$HB"; do
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$h" \
			-addext "subjectAltName=DNS:$h" -keyout "certs/$h.key" \
			-out "certs/$h.crt" >/dev/null 2>&1
	done &&
	CARA_INGRESS_TLS="$PWD/certs" $CARA sync --path m 2>err || { cat err; false; } &&
	[ "$(curl -s --cacert "certs/$HA.crt" --resolve "$HA:$HTTPS:$IN" "https://$HA:$HTTPS/")" = "alpha-$UNIQ" ] &&
	[ "$(curl -s --cacert "certs/$HB.crt" --resolve "$HB:$HTTPS:$PUB" "https://$HB:$HTTPS/")" = "beta-$UNIQ" ]
'

test_expect_success 'the next good pass loads it' '
	$CARA sync --path m 2>err || { cat err; false; } &&
	[ "$(get $PUB "$HB")" = "beta-$UNIQ" ]
'

test_expect_success 'an invalid project keeps its routes' '
	cp "m/$A.yaml" a.good &&
	printf "    - {name: web, host: x.test, target: {service: web, port: 80}}\n" >> "m/$A.yaml" &&
	expect_exit 4 $CARA sync --path m 2>err &&
	[ "$(get $IN "$HA")" = "alpha-$UNIQ" ] &&
	cp a.good "m/$A.yaml"
'

test_expect_success 'TLS with the internal CA: https answers, http redirects' '
	CARA_INGRESS_TLS=internal $CARA sync --path m 2>err || { cat err; false; } &&
	ca="$CARA_STATE_DIR/ingress/data/caddy/pki/authorities/local/root.crt" &&
	# the certificate is issued once the configuration is loaded
	i=0 && until body=$(curl -s --cacert "$ca" --resolve "$HA:$HTTPS:$IN" "https://$HA:$HTTPS/") &&
		[ "$body" = "alpha-$UNIQ" ]; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "no https answer: $body"; false; }
		sleep 0.2
	done &&
	curl -s -o /dev/null -w "%{http_code} %{redirect_url}\n" -H "Host: $HA" \
		"http://$IN:$HTTP/x" >out &&
	expect_contains out "308 https://$HA:$HTTPS/x" &&
	CARA_INGRESS_TLS=internal $CARA sync --path m 2>err &&
	expect_not_contains err "ingress:" &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	[ "$(get $IN "$HA")" = "alpha-$UNIQ" ]
'

test_expect_success 'a project torn down loses its routes' '
	rm "m/$B.yaml" &&
	expect_exit 2 $CARA diff --path m --allow-mass-prune >out 2>err &&
	expect_contains out "- route $HB -> $B/web:80 (Public)" &&
	$CARA sync --path m --allow-mass-prune 2>err || { cat err; false; } &&
	[ "$(get $PUB "$HB")" != "beta-$UNIQ" ] &&
	[ "$(get $IN "$HA")" = "alpha-$UNIQ" ]
'

test_expect_success '--ingress none runs no proxy' '
	CARA_INGRESS=none $CARA sync --path m 2>err || { cat err; false; } &&
	expect_state "$(proxy)" missing &&
	$CARA sync --path m 2>err &&
	expect_state "$(proxy)" running
'

test_expect_success 'the last route gone takes the proxy with it' '
	rm "m/$A.yaml" &&
	$CARA sync --path m --allow-mass-prune 2>err || { cat err; false; } &&
	expect_contains err "removing the proxy" &&
	expect_state "$(proxy)" missing &&
	[ "$(get $IN "$HA")" = refused ]
'

test_done
