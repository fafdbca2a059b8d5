#!/bin/sh
# cara sync pulling from a private registry (Debian's docker-registry with
# htpasswd auth on a loopback port, which dockerd reaches over plain HTTP):
# no credentials, the Docker CLI's config.json after `docker login`,
# --registry-auth-file with a wrong and a right password; the password
# never shows in cara's output, status, describe or the state database.
. "$srcdir/tests/lib.sh"

if [ ! -x /usr/bin/docker-registry ] || ! command -v htpasswd >/dev/null 2>&1; then
	test_skip 'private registry pulls' 'needs docker-registry and apache2-utils'
	test_done
	exit
fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REG="127.0.0.1:$PORT"
IMG1="$REG/cara-$UNIQ/app:1"
IMG2="$REG/cara-$UNIQ/app:2"
IMG3="$REG/cara-$UNIQ/base:1"
USER_NAME=cara
PASSWORD="pw-$UNIQ-Zq7"
WRONG="wrong-$UNIQ-Xk4"
AUTH=$(printf "%s:%s" "$USER_NAME" "$PASSWORD" | base64 | tr -d "\n")
P="$UNIQ-priv"
Q="$UNIQ-file"
REG_PID=

registry_cleanup() {
	cleanup_docker
	docker rmi "$IMG1" "$IMG2" "$IMG3" >/dev/null 2>&1
	docker images --format '{{.Repository}}:{{.Tag}}' | grep "^cara-build/$UNIQ-" |
		xargs -r docker rmi -f >/dev/null 2>&1
	if [ -n "$REG_PID" ]; then
		kill "$REG_PID" 2>/dev/null
		wait "$REG_PID" 2>/dev/null
	fi
	test_cleanup
}
trap registry_cleanup EXIT

mkdir -p reg/data m nocreds login
htpasswd -Bbn "$USER_NAME" "$PASSWORD" > reg/htpasswd
cat > reg/config.yml <<EOT
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $TEST_DIR/reg/data
http:
  addr: $REG
auth:
  htpasswd:
    realm: cara-test
    path: $TEST_DIR/reg/htpasswd
EOT
/usr/bin/docker-registry serve reg/config.yml > reg/log 2>&1 &
REG_PID=$!

# project NAME IMAGE > FILE
project() {
	sleeper_project "$1" | sed "s|image: .*|image: $2|"
}

# everything cara printed or stored, for the secrecy check
collect() { cat err out 2>/dev/null >> all.txt || :; }

test_expect_success 'the registry answers and wants credentials' '
	for i in $(seq 1 50); do
		code=$(python3 -c "
import urllib.request, urllib.error
try:
    urllib.request.urlopen(\"http://$REG/v2/\", timeout=2); print(200)
except urllib.error.HTTPError as e:
    print(e.code)
except Exception:
    print(0)") &&
		[ "$code" = 401 ] && break
		sleep 0.2
	done &&
	[ "$code" = 401 ]
'

test_expect_success 'an image is pushed with docker login, then removed locally' '
	printf "%s" "$PASSWORD" |
		DOCKER_CONFIG="$TEST_DIR/login" docker login -u "$USER_NAME" \
			--password-stdin "$REG" >/dev/null 2>&1 &&
	test -s login/config.json &&
	docker tag "$CARA_TEST_IMAGE" "$IMG1" &&
	docker tag "$CARA_TEST_IMAGE" "$IMG2" &&
	DOCKER_CONFIG="$TEST_DIR/login" docker push "$IMG1" >/dev/null &&
	DOCKER_CONFIG="$TEST_DIR/login" docker push "$IMG2" >/dev/null &&
	docker rmi "$IMG1" "$IMG2" >/dev/null &&
	! docker image inspect "$IMG1" >/dev/null 2>&1
'

test_expect_success 'without credentials: ImagePullError naming the registry (exit 1)' '
	project "$P" "$IMG1" > m/p.yaml &&
	expect_exit 1 env DOCKER_CONFIG="$TEST_DIR/nocreds" $CARA sync --path m 2>err >out &&
	collect &&
	expect_contains err "ImagePullError" &&
	expect_contains err "registry $REG needs credentials: none found for it in $TEST_DIR/nocreds/config.json" &&
	expect_contains err "docker login $REG" &&
	expect_not_contains err "no basic auth credentials" &&
	$CARA status >out && collect &&
	grep -E "^$P +Failed +ImagePullError" out
'

test_expect_success 'with the Docker CLI config of docker login: pulled, running' '
	DOCKER_CONFIG="$TEST_DIR/login" $CARA sync --path m 2>err >out &&
	collect &&
	expect_state "$P-s" running &&
	docker image inspect "$IMG1" >/dev/null &&
	$CARA status >out && collect &&
	grep -E "^$P +Running" out
'

test_expect_success '--registry-auth-file with a wrong password: refused, said so (exit 4)' '
	project "$Q" "$IMG2" > m/q.yaml &&
	printf "{\"auths\": {\"http://%s\": {\"username\": \"%s\", \"password\": \"%s\"}}}\n" \
		"$REG" "$USER_NAME" "$WRONG" > wrong.json &&
	expect_exit 4 $CARA sync --path m --registry-auth-file "$TEST_DIR/wrong.json" 2>err >out &&
	collect &&
	expect_contains err "ImagePullError" &&
	expect_contains err "registry $REG refused the credentials from $TEST_DIR/wrong.json" &&
	expect_state "$P-s" running &&
	! docker image inspect "$IMG2" >/dev/null 2>&1
'

test_expect_success '--registry-auth-file (and CARA_REGISTRY_AUTH_FILE) with the right one: pulled' '
	printf "{\"auths\": {\"https://%s/v1/\": {\"auth\": \"%s\"}}}\n" "$REG" "$AUTH" > right.json &&
	CARA_REGISTRY_AUTH_FILE="$TEST_DIR/right.json" $CARA sync --path m 2>err >out &&
	collect &&
	expect_state "$Q-s" running &&
	$CARA config --registry-auth-file "$TEST_DIR/right.json" >out 2>err && collect &&
	expect_contains out "$TEST_DIR/right.json"
'

test_expect_success 'a credential helper (credHelpers) gives the credentials: pulled' '
	mkdir -p helper/bin helper/conf &&
	cat > helper/bin/docker-credential-t3800 <<-EOH &&
	#!/bin/sh
	[ "\$1" = get ] || exit 1
	read -r server
	[ "\$server" = "$REG" ] || exit 1
	printf "{\"ServerURL\":\"%s\",\"Username\":\"%s\",\"Secret\":\"%s\"}" "\$server" "$USER_NAME" "$PASSWORD"
	EOH
	chmod 755 helper/bin/docker-credential-t3800 &&
	printf "{\"credHelpers\": {\"%s\": \"t3800\"}}\n" "$REG" > helper/conf/config.json &&
	{ docker rm -f "$Q-s" >/dev/null 2>&1; docker rmi "$IMG2" >/dev/null 2>&1; true; } &&
	! docker image inspect "$IMG2" >/dev/null 2>&1 &&
	PATH="$TEST_DIR/helper/bin:$PATH" DOCKER_CONFIG="$TEST_DIR/helper/conf" \
		$CARA sync --path m --verbose 2>err >out &&
	collect &&
	expect_state "$Q-s" running &&
	expect_contains err "credentials for $REG from docker-credential-t3800"
'

B="$UNIQ-built"
test_expect_success 'a compose build FROM a private image: its base pulled with the credentials' '
	docker tag "$CARA_TEST_IMAGE" "$IMG3" &&
	DOCKER_CONFIG="$TEST_DIR/login" docker push "$IMG3" >/dev/null &&
	docker rmi "$IMG3" >/dev/null &&
	mkdir -p m/$B/ctx &&
	printf "FROM %s AS base\nFROM base\nRUN echo built > /built\n" "$IMG3" > m/$B/ctx/Dockerfile &&
	printf "services:\n  s:\n    build: ctx\n    command: [sh, -c, \"%s\"]\n    stop_grace_period: 1s\n" \
		"$TRAP_SLEEP" > m/$B/compose.yaml &&
	expect_exit 4 env DOCKER_CONFIG="$TEST_DIR/nocreds" $CARA sync --path m 2>err >out &&
	collect &&
	expect_contains err "registry $REG needs credentials" &&
	! docker image inspect "$IMG3" >/dev/null 2>&1 &&
	DOCKER_CONFIG="$TEST_DIR/login" $CARA sync --path m 2>err >out &&
	collect &&
	expect_contains err "pulling image $IMG3" &&
	expect_state "$B-s" running &&
	[ "$(docker exec $B-s cat /built)" = built ]
'

test_expect_success 'the registry down: a pull fails ImagePullError naming it, what runs keeps running (exit 4)' '
	kill "$REG_PID" && sleep 1 &&
	docker rmi "$IMG1" >/dev/null 2>&1; docker rm -f "$P-s" >/dev/null 2>&1;
	docker rmi "$IMG1" >/dev/null 2>&1; true &&
	expect_exit 4 env DOCKER_CONFIG="$TEST_DIR/login" $CARA sync --path m 2>err >out &&
	collect &&
	expect_contains err "$P: ImagePullError" &&
	expect_contains err "$REG" &&
	expect_state "$Q-s" running && expect_state "$B-s" running &&
	expect_exit 4 env DOCKER_CONFIG="$TEST_DIR/login" $CARA sync --path m --image-check always 2>err >out &&
	collect &&
	expect_state "$Q-s" running
'

test_expect_success 'the password is nowhere: output, status, describe, state.db' '
	$CARA status --output json >out 2>err && collect &&
	$CARA describe "$P" >out 2>err && collect &&
	$CARA describe "$Q" >out 2>err && collect &&
	expect_contains all.txt "$REG" &&
	expect_not_contains all.txt "$PASSWORD" &&
	expect_not_contains all.txt "$WRONG" &&
	expect_not_contains all.txt "$AUTH" &&
	! grep -a -r -F -e "$PASSWORD" -e "$WRONG" -e "$AUTH" "$CARA_STATE_DIR"
'

test_done
