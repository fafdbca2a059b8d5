#!/bin/sh
# The Engine connection against the real dockerd, through relays in the
# sandbox that are started here and killed on exit, pass or fail: a unix
# socket forwarder that is frozen with SIGSTOP so the Engine behind it
# stops answering (dockerd itself is never touched), a socket file nobody
# listens on, and tcp:// with mutual TLS through terminators that want a
# client certificate of their own CA: the right certificates work for diff
# and sync, a missing or foreign client certificate and a server
# certificate cara cannot verify fail with exit 1 and say why.
. "$srcdir/tests/lib.sh"

# No ~/.docker of the machine's takes part.
export HOME="$TEST_DIR/home"
mkdir -p "$HOME"

case ${DOCKER_HOST:-unix:///var/run/docker.sock} in
unix://*) ENGINE_SOCK=${DOCKER_HOST:-unix:///var/run/docker.sock}; ENGINE_SOCK=${ENGINE_SOCK#unix://} ;;
*) ENGINE_SOCK= ;;
esac
for tool in socat openssl python3; do
	command -v $tool >/dev/null 2>&1 || missing="${missing:-}$tool "
done
if [ -n "${missing:-}" ] || [ -z "$ENGINE_SOCK" ]; then
	test_skip 'the Engine connection through relays' \
		"${missing:+missing ${missing}}${ENGINE_SOCK:-DOCKER_HOST is not a unix socket}"
	test_done
	exit
fi

RELAYS=
stop_relays() {
	for pid in $RELAYS; do
		kill -CONT "$pid" 2>/dev/null
		# connections in flight have a child of their own each
		for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
			kill "$child" 2>/dev/null
		done
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	RELAYS=
	return 0
}
trap 'stop_relays; test_cleanup' EXIT

# expect_run CODE command...: stdout in out, stderr in err; fails unless
# it exits CODE, and then shows err
expect_run() {
	want=$1; shift
	set +e
	"$@" >out 2>err
	got=$?
	set -e
	[ "$got" -eq "$want" ] && return 0
	echo "expected exit $want, got $got: $*" >&2
	sed 's/^/| /' err >&2
	return 1
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_listening PID unix:PATH | tcp:PORT: until it accepts, while PID lives
wait_listening() {
	i=0
	until python3 -c '
import socket, sys
kind, _, a = sys.argv[1].partition(":")
if kind == "unix":
    s = socket.socket(socket.AF_UNIX); s.connect(a)
else:
    s = socket.create_connection(("127.0.0.1", int(a)), 1)
s.close()' "$2" 2>/dev/null; do
		kill -0 "$1" 2>/dev/null || return 1
		i=$((i + 1))
		[ $i -lt 100 ] || return 1
		sleep 0.1
	done
}

P="$UNIQ-eng"
mkdir -p m
sleeper_project "$P" > m/eng.yaml

# ---- a daemon that hangs, a socket nobody listens on ----

FWD="$TEST_DIR/fwd.sock"
socat "UNIX-LISTEN:$FWD,fork" "UNIX-CONNECT:$ENGINE_SOCK" 2>"$TEST_DIR/fwd.log" &
FWD_PID=$!
RELAYS="$RELAYS $FWD_PID"
wait_listening $FWD_PID "unix:$FWD"

test_expect_success 'through the forwarder, diff sees the Engine: exit 2' '
	expect_run 2 env DOCKER_HOST=unix://$FWD $CARA diff --path m &&
	expect_contains out "+ container $P-s"
'

kill -STOP $FWD_PID

test_expect_success 'the Engine stops answering: diff exits 1 after 2 s, naming the socket' '
	start=$(now_ms) &&
	expect_run 1 env DOCKER_HOST=unix://$FWD $CARA diff --path m --docker-timeout 2 &&
	ms=$(( $(now_ms) - start )) && echo "diff took $ms ms" &&
	[ $ms -ge 2000 ] && [ $ms -lt 10000 ] &&
	expect_contains err "no answer from the Docker Engine at $FWD within 2000 ms" &&
	expect_not_contains out "+ container"
'

test_expect_success 'and sync too, changing nothing' '
	start=$(now_ms) &&
	expect_run 1 env DOCKER_HOST=unix://$FWD $CARA sync --path m --docker-timeout 2 &&
	ms=$(( $(now_ms) - start )) && echo "sync took $ms ms" &&
	[ $ms -ge 2000 ] && [ $ms -lt 10000 ] &&
	expect_contains err "no answer from the Docker Engine at $FWD within 2000 ms" &&
	expect_state $P-s missing
'

kill -CONT $FWD_PID

test_expect_success 'the forwarder resumed, the Engine answers again' '
	expect_run 2 env DOCKER_HOST=unix://$FWD $CARA diff --path m &&
	expect_contains out "+ container $P-s"
'

# a socket file left by a listener that is gone
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$TEST_DIR/closed.sock"

test_expect_success 'a socket nobody listens on: exit 1 at once, connection refused' '
	test -S closed.sock &&
	start=$(now_ms) &&
	expect_run 1 env DOCKER_HOST=unix://$TEST_DIR/closed.sock $CARA diff --path m &&
	ms=$(( $(now_ms) - start )) && echo "diff took $ms ms" &&
	[ $ms -lt 5000 ] &&
	expect_contains err "Docker Engine unreachable at $TEST_DIR/closed.sock: connection refused"
'

# ---- tcp:// with TLS ----

T="$TEST_DIR/tls"
mkdir -p "$T"
# ca NAME: a self-signed CA
ca() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$UNIQ $1" \
		-keyout "$T/$1-key.pem" -out "$T/$1.pem" 2>>"$T/openssl.log"
}
# leaf NAME CA EXTENSIONS: a key and a certificate signed by CA
leaf() {
	printf '%s\n' "$3" > "$T/$1.ext"
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$UNIQ $1" \
		-keyout "$T/$1-key.pem" -out "$T/$1.csr" 2>>"$T/openssl.log" &&
	openssl x509 -req -days 2 -in "$T/$1.csr" -CA "$T/$2.pem" -CAkey "$T/$2-key.pem" \
		-CAcreateserial -extfile "$T/$1.ext" -out "$T/$1.pem" 2>>"$T/openssl.log"
}
SERVER='subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth'
CLIENT='extendedKeyUsage=clientAuth'
ca ca && ca rogue-ca &&
leaf server ca "$SERVER" &&
leaf client ca "$CLIENT" &&
leaf rogue-server rogue-ca "$SERVER" &&
leaf rogue-client rogue-ca "$CLIENT" &&
leaf misnamed-server ca 'subjectAltName=DNS:engine.example,IP:127.0.0.2
extendedKeyUsage=serverAuth'

# DOCKER_CERT_PATH directories as the docker CLI reads them
certs() {   # certs DIR CA [CERT]
	mkdir -p "$TEST_DIR/$1"
	cp "$T/$2.pem" "$TEST_DIR/$1/ca.pem"
	if [ -n "${3:-}" ]; then
		cp "$T/$3.pem" "$TEST_DIR/$1/cert.pem"
		cp "$T/$3-key.pem" "$TEST_DIR/$1/key.pem"
	fi
}
certs good ca client
certs no-client ca
certs foreign-client ca rogue-client
mkdir -p "$TEST_DIR/empty"

# terminator NAME SERVER-CERT: TLS on a free port of 127.0.0.1, wanting a
# client certificate signed by ca, relaying to the Engine; sets NAME_PORT
terminator() {
	for _ in 1 2 3 4 5; do   # a port taken meanwhile: another one
		port=$(free_port)
		socat "OPENSSL-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,cert=$T/$2.pem,key=$T/$2-key.pem,cafile=$T/ca.pem,verify=1" \
			"UNIX-CONNECT:$ENGINE_SOCK" 2>>"$TEST_DIR/$1.log" &
		pid=$!
		RELAYS="$RELAYS $pid"
		if wait_listening $pid "tcp:$port"; then
			eval "${1}_PORT=$port"
			return 0
		fi
	done
	return 1
}
terminator ENGINE server
terminator ROGUE rogue-server
terminator MISNAMED misnamed-server

# cara_tls PORT CERT-DIR cara-arguments...
cara_tls() {
	port=$1 dir=$2
	shift 2
	env DOCKER_HOST=tcp://127.0.0.1:$port DOCKER_TLS_VERIFY=1 \
		DOCKER_CERT_PATH="$TEST_DIR/$dir" $CARA "$@"
}

test_expect_success 'TLS with the right certificates: diff plans the project, exit 2' '
	test -n "$ENGINE_PORT" &&
	expect_run 2 cara_tls $ENGINE_PORT good diff --path m &&
	expect_contains out "+ container $P-s"
'

# (a network create can take dockerd a minute on a busy host)
test_expect_success 'TLS: sync applies it, then diff has nothing to change' '
	expect_run 0 cara_tls $ENGINE_PORT good sync --path m --docker-timeout 180 &&
	expect_state $P-s running &&
	expect_run 0 cara_tls $ENGINE_PORT good diff --path m &&
	expect_contains out "No changes"
'

test_expect_success 'TLS without a client certificate: exit 1, the Engine wanted one' '
	expect_run 1 cara_tls $ENGINE_PORT no-client diff --path m &&
	expect_contains err "TLS with the Docker Engine at https://127.0.0.1:$ENGINE_PORT failed" &&
	expect_contains err "no client certificate sent: cert.pem and key.pem not both in $TEST_DIR/no-client"
'

test_expect_success 'TLS with a client certificate of another CA: exit 1, it was refused' '
	expect_run 1 cara_tls $ENGINE_PORT foreign-client diff --path m &&
	expect_contains err "TLS with the Docker Engine at https://127.0.0.1:$ENGINE_PORT failed" &&
	expect_contains err "refuse the client certificate $TEST_DIR/foreign-client/cert.pem"
'

test_expect_success 'TLS to a server whose certificate is of an unknown CA: refused, exit 1' '
	expect_run 1 cara_tls $ROGUE_PORT good diff --path m &&
	expect_contains err "cannot verify the Docker Engine at https://127.0.0.1:$ROGUE_PORT" &&
	expect_contains err "(CA certificate $TEST_DIR/good/ca.pem)" &&
	expect_not_contains out "container"
'

test_expect_success 'TLS to a server whose certificate names another host: refused, exit 1' '
	expect_run 1 cara_tls $MISNAMED_PORT good diff --path m &&
	expect_contains err "cannot verify the Docker Engine at https://127.0.0.1:$MISNAMED_PORT" &&
	expect_not_contains out "container"
'

test_expect_success 'TLS with no ca.pem: the system CAs do not know the server, exit 1' '
	expect_run 1 cara_tls $ENGINE_PORT empty diff --path m &&
	expect_contains err "cannot verify the Docker Engine at https://127.0.0.1:$ENGINE_PORT" &&
	expect_contains err "no ca.pem in $TEST_DIR/empty"
'

test_expect_success 'TLS certificates default to ~/.docker' '
	mkdir -p "$HOME/.docker" && cp good/*.pem "$HOME/.docker/" &&
	expect_run 0 env DOCKER_HOST=tcp://127.0.0.1:$ENGINE_PORT DOCKER_TLS_VERIFY=1 \
		DOCKER_CERT_PATH= $CARA diff --path m
'

test_done
