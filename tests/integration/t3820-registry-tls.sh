#!/bin/sh
# cara sync pulling from a registry with TLS from a CA the test makes
# (Debian's docker-registry with htpasswd auth): with the CA in
# /etc/docker/certs.d/HOST:PORT/ca.crt the image is pulled with the
# credentials; without it the pull fails with an ImagePullError that says
# the certificate is not trusted and where the CA goes, and a registry
# check of the running image (diff --image-check) warns the same way.
# dockerd skips TLS verification for 127.0.0.0/8 (its default insecure
# registries), so the registry runs in a network namespace this test
# makes, on the far end of a veth pair with addresses of a /30 of its
# own: nothing listens on the host's own addresses.  The certs.d entry,
# the namespace and the veth are removed by the cleanup trap, even on
# failure.
. "$srcdir/tests/lib.sh"

# a /30 of 10.253.0.0/16 from $UNIQ (tests never share a prefix), away
# from dockerd's address pool (10.128.0.0/12)
n=$(( 0x$(printf %s "$UNIQ" | tail -c 4) % 16384 ))
NET="10.253.$(( n / 64 )).$(( n % 64 * 4 ))"
HOST_END=${NET%.*}.$(( ${NET##*.} + 1 ))
NS_IP=${NET%.*}.$(( ${NET##*.} + 2 ))
NS="cara-$UNIQ"
VETH="cv$(printf %s "$UNIQ" | tail -c 6)"
if [ ! -x /usr/bin/docker-registry ] || ! command -v htpasswd >/dev/null 2>&1 ||
   ! command -v openssl >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1 ||
   [ "$(id -u)" -ne 0 ]; then
	test_skip 'TLS registry pulls' 'needs docker-registry, apache2-utils, openssl, iproute2 and root'
	test_done
	exit
fi
PORT=5000
REG="$NS_IP:$PORT"
CERTS_D="/etc/docker/certs.d/$REG"
IMG1="$REG/cara-$UNIQ/app:1"
IMG2="$REG/cara-$UNIQ/app:2"
USER_NAME=cara
PASSWORD="pw-$UNIQ-Tl5"
AUTH=$(printf "%s:%s" "$USER_NAME" "$PASSWORD" | base64 | tr -d "\n")
P="$UNIQ-tls"
Q="$UNIQ-tls2"
REG_PID=

tls_cleanup() {
	rm -rf "$CERTS_D"
	# the parent too when this test made it and nothing else is in it
	rmdir /etc/docker/certs.d 2>/dev/null
	cleanup_docker
	docker rmi "$IMG1" "$IMG2" >/dev/null 2>&1
	if [ -n "$REG_PID" ]; then
		kill "$REG_PID" 2>/dev/null
		wait "$REG_PID" 2>/dev/null
	fi
	ip link del "$VETH" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	test_cleanup
}
trap tls_cleanup EXIT

mkdir -p reg/data m login
htpasswd -Bbn "$USER_NAME" "$PASSWORD" > reg/htpasswd
printf "subjectAltName=IP:%s\n" "$NS_IP" > reg/san.ext
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=cara test CA $UNIQ" \
	-keyout reg/ca.key -out reg/ca.crt >/dev/null 2>&1 &&
openssl req -newkey rsa:2048 -nodes -subj "/CN=$NS_IP" \
	-keyout reg/server.key -out reg/server.csr >/dev/null 2>&1 &&
openssl x509 -req -in reg/server.csr -CA reg/ca.crt -CAkey reg/ca.key -CAcreateserial \
	-days 2 -extfile reg/san.ext -out reg/server.crt >/dev/null 2>&1
cat > reg/config.yml <<EOT
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $TEST_DIR/reg/data
http:
  addr: $REG
  tls:
    certificate: $TEST_DIR/reg/server.crt
    key: $TEST_DIR/reg/server.key
auth:
  htpasswd:
    realm: cara-test
    path: $TEST_DIR/reg/htpasswd
EOT
ip netns add "$NS" &&
ip link add "$VETH" type veth peer name "${VETH}n" &&
ip link set "${VETH}n" netns "$NS" &&
ip addr add "$HOST_END/30" dev "$VETH" && ip link set "$VETH" up &&
ip -n "$NS" addr add "$NS_IP/30" dev "${VETH}n" && ip -n "$NS" link set "${VETH}n" up &&
ip -n "$NS" link set lo up ||
	{ test_skip 'TLS registry pulls' 'cannot make a network namespace here'; test_done; exit; }
# ip netns exec execs the registry: $! is the registry's own pid
ip netns exec "$NS" /usr/bin/docker-registry serve reg/config.yml > reg/log 2>&1 &
REG_PID=$!

project() {
	sleeper_project "$1" | sed "s|image: .*|image: $2|"
}

test_expect_success 'the registry answers over TLS from the test CA and wants credentials' '
	test -s reg/server.crt &&
	for i in $(seq 1 50); do
		code=$(curl -s -o /dev/null -w "%{http_code}" --cacert reg/ca.crt "https://$REG/v2/") &&
		[ "$code" = 401 ] && break
		sleep 0.2
	done &&
	[ "$code" = 401 ]
'

test_expect_success 'with the CA in certs.d: docker login and push, then removed locally' '
	mkdir -p "$CERTS_D" && cp reg/ca.crt "$CERTS_D/ca.crt" &&
	printf "%s" "$PASSWORD" |
		DOCKER_CONFIG="$TEST_DIR/login" docker login -u "$USER_NAME" \
			--password-stdin "$REG" >/dev/null 2>&1 &&
	docker tag "$CARA_TEST_IMAGE" "$IMG1" &&
	docker tag "$CARA_TEST_IMAGE" "$IMG2" &&
	DOCKER_CONFIG="$TEST_DIR/login" docker push "$IMG1" >/dev/null &&
	DOCKER_CONFIG="$TEST_DIR/login" docker push "$IMG2" >/dev/null &&
	docker rmi "$IMG1" "$IMG2" >/dev/null &&
	! docker image inspect "$IMG1" >/dev/null 2>&1
'

test_expect_success 'cara pulls over TLS with the credentials: running' '
	printf "{\"auths\": {\"%s\": {\"auth\": \"%s\"}}}\n" "$REG" "$AUTH" > right.json &&
	project "$P" "$IMG1" > m/p.yaml &&
	{ $CARA sync --path m --registry-auth-file "$TEST_DIR/right.json" 2>err >out ||
		{ cat out err; false; }; } &&
	expect_state "$P-s" running &&
	docker image inspect "$IMG1" >/dev/null
'

test_expect_success 'without the CA: ImagePullError, the certificate is not trusted' '
	rm -rf "$CERTS_D" &&
	project "$Q" "$IMG2" > m/q.yaml &&
	expect_exit 4 $CARA sync --path m --registry-auth-file "$TEST_DIR/right.json" 2>err >out &&
	expect_contains err "ImagePullError" &&
	expect_contains err "the TLS certificate of registry $REG is not trusted (x509:" &&
	expect_contains err "/etc/docker/certs.d/$REG/ca.crt" &&
	expect_not_contains err "https://" &&
	expect_not_contains err "$PASSWORD" &&
	! docker image inspect "$IMG2" >/dev/null 2>&1 &&
	expect_state "$P-s" running
'

test_expect_success 'without the CA: diff --image-check always (q to create: exit 2) warns that the certificate is not trusted' '
	expect_exit 2 $CARA diff --path m --image-check always \
		--registry-auth-file "$TEST_DIR/right.json" 2>err >out &&
	expect_contains err "cannot check image $IMG1 for a newer one" &&
	expect_contains err "the TLS certificate of registry $REG is not trusted (x509:" &&
	expect_contains err "/etc/docker/certs.d/$REG/ca.crt" &&
	expect_not_contains err "https://" &&
	expect_not_contains err "$PASSWORD"
'

test_expect_success 'the certs.d entry is gone' '
	! test -e "$CERTS_D"
'

test_done
