#!/bin/sh
# cara convert: every manifest of manifests-example/ and of
# tests/manifests/valid, and a compose file, converted; the output
# validates clean and cara diff plans the same for it as for the
# original.  An invalid file: exit 1, validate's findings and summary on
# stderr, nothing on stdout.  diff only reads the Engine.
. "$srcdir/tests/lib.sh"

unset CORPUS_SURELY_UNSET CORPUS_TOKEN CORPUS_TAG CORPUS_LOG_LEVEL \
	CORPUS_PORT CARA_HOSTPATH_ROOTS CARA_REPO CARA_PATH CARA_OUTPUT
mkdir -p "$TEST_DIR/conv" "$TEST_DIR/secrets"

# secrets FILE: a file for every secretKeyRef of the converted FILE, so
# that diff computes every spec (hashes included) on both sides
secrets() {
	awk '/secretKeyRef:/ { s = 1; next }
	     s == 1 { sub(/^ *name: */, ""); n = $0; s = 2; next }
	     s == 2 { sub(/^ *key: */, ""); print n "/" $0; s = 0 }' "$1" |
	while IFS= read -r ref; do
		mkdir -p "$TEST_DIR/secrets/${ref%/*}" &&
		echo value >"$TEST_DIR/secrets/$ref"
	done
}

# round_trip FILE: convert, validate with no error (the warnings are
# about what the manifest says, and it still says it), same plan (text and
# JSON)
round_trip() {
	o="$TEST_DIR/conv/$(echo "$1" | tr / _).yaml"
	$CARA convert "$1" >"$o" 2>"$o.err" || { cat "$o.err"; return 1; }
	$CARA validate "$o" 2>"$o.verr" || { cat "$o.verr" "$o"; return 1; }
	expect_contains "$o.verr" ": 0 errors," || return 1
	secrets "$o"
	for fmt in json text; do
		rc1=0 rc2=0
		$CARA diff --state-dir "$TEST_DIR/st" --output $fmt --path "$1" \
			>"$o.a.$fmt" 2>/dev/null || rc1=$?
		$CARA diff --state-dir "$TEST_DIR/st" --output $fmt --path "$o" \
			>"$o.b.$fmt" 2>/dev/null || rc2=$?
		[ "$rc1" -eq "$rc2" ] && [ "$rc1" -ne 1 ] ||
			{ echo "diff exits $rc1 and $rc2" >&2; return 1; }
		cmp "$o.a.$fmt" "$o.b.$fmt" || { diff "$o.a.$fmt" "$o.b.$fmt"; return 1; }
	done
}

for f in "$srcdir"/manifests-example/*/*.yaml "$srcdir"/tests/manifests/valid/*.yaml; do
	case $f in */other-kinds-only.yaml|*/empty.yaml) continue ;; esac
	name=${f#"$srcdir"/}
	test_expect_success "$name: converted, validates clean, same plan" "
		round_trip '$f'
	"
done

test_expect_success 'empty and other-kinds-only files: no document, exit 0' '
	$CARA convert "$srcdir/tests/manifests/valid/empty.yaml" >out 2>err &&
	[ ! -s out ] &&
	$CARA convert "$srcdir/tests/manifests/valid/other-kinds-only.yaml" >out 2>err &&
	[ ! -s out ] && expect_contains err "document skipped"
'

test_expect_success 'a directory: one document a project, sorted by name' '
	$CARA convert "$srcdir/manifests-example/demo" >out &&
	grep "^  name: " out >names &&
	sort names | cmp - names &&
	[ "$(grep -c "^---$" out)" -eq $(($(wc -l <names) - 1)) ]
'

mkdir -p "$TEST_DIR/src/shop"   # the directory names the project
cat >"$TEST_DIR/src/shop/compose.yaml" <<'EOT'
x-common: &common
  restart: unless-stopped
  stop_grace_period: 2s
  labels: {team: shop}
services:
  web:
    <<: *common
    image: nginx:1.25
    command: ["nginx", "-g", "daemon off;"]
    env_file: web.env
    environment:
      PRICE: "$$5"
      FLAG: "yes"
    ports: ["127.0.0.1:18080:80", "9000/udp"]
    volumes: [data:/data, {type: volume, source: data, target: /ro, read_only: true}]
    depends_on:
      db: {condition: service_healthy}
    healthcheck:
      test: "wget -q -O /dev/null http://localhost/"
      interval: 5s
      retries: 2
    mem_limit: 64m
    cpus: 0.5
  db:
    <<: *common
    image: postgres:16
    healthcheck: {test: ["CMD", "pg_isready"], start_period: 1m}
volumes:
  data:
EOT
printf 'GREETING=hello world # a comment\nEMPTY=\n' >"$TEST_DIR/src/shop/web.env"

test_expect_success 'a compose file: converted, validates clean, same plan' '
	round_trip "$TEST_DIR/src" &&
	o="$TEST_DIR/conv/$(echo "$TEST_DIR/src" | tr / _).yaml" &&
	expect_contains "$o" "name: shop" &&
	expect_contains "$o" "value: \"\$\$5\"" &&
	expect_contains "$o" "value: hello world"
'

test_expect_success 'a secret is its secretKeyRef, never its value' '
	$CARA convert "$srcdir/tests/manifests/valid/every-field.yaml" >out &&
	expect_contains out "secretKeyRef:" &&
	expect_not_contains out "value: value"
'

test_expect_success 'an invalid file: exit 1, the findings of validate, no output' '
	f="$srcdir/tests/manifests/invalid/many-problems.yaml" &&
	expect_exit 1 $CARA convert "$f" >out 2>err &&
	[ ! -s out ] &&
	expect_exit 1 $CARA validate "$f" >vout 2>verr &&
	cmp err verr
'

test_expect_success 'convert takes one path and writes YAML only' '
	expect_exit 1 $CARA convert >out 2>err && [ ! -s out ] &&
	expect_contains err "one directory or file" &&
	expect_exit 1 $CARA convert a b 2>err &&
	expect_exit 1 $CARA convert --output json . >out 2>err &&
	expect_contains err "writes YAML"
'

test_done
