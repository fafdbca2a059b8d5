#!/bin/sh
# The realistic stacks twice: manifests-example/realistic/NAME.yaml as a
# Project and manifests-example/compose/NAME/ as the compose project an
# operator would write for it.  Both validate; against the same fresh
# state dir `cara diff` plans the same actions (kinds, objects, services,
# order) and the same text; `cara convert` of both gives the same model.
# diff only reads the Engine.
#
# Where the forms differ, and what the model comparison normalises:
# - Secrets.  A Project reads POSTGRES_PASSWORD and the like from
#   valueFrom.secretKeyRef ({secretsDir}/{name}/{key}); compose has no
#   equivalent in cara (top-level secrets are refused), so the compose
#   projects interpolate them from cara's environment (${CHAT_DATASOURCE}).
#   Given the same values the containers get the same environment, which
#   is what is compared: each secretKeyRef of the converted manifest is
#   replaced by the value of its secret file.  The spec hashes of the
#   services holding a secret still differ (a Project hashes sha256 of the
#   secret, compose hashes the value as any other), so switching forms
#   recreates those services once; the others hash the same.
# - restart.  A Project's default is unless-stopped, compose's is "no": the
#   compose services write `restart: unless-stopped`, which convert prints
#   and a Project leaves out.  Those lines are dropped from both sides (a
#   compose service that forgot it converts to restart: "no" and fails).
# - env order.  The compose reader sorts environment by name, as
#   docker-compose config does; the spec hash sorts env anyway.  Env
#   entries are sorted on both sides.
# - metadata.labels and spec.ingress have no compose field: they are under
#   x-cara, and compare equal.
. "$srcdir/tests/lib.sh"

unset CORPUS_SURELY_UNSET CORPUS_TOKEN CORPUS_TAG CORPUS_LOG_LEVEL \
	CORPUS_PORT CARA_HOSTPATH_ROOTS CARA_REPO CARA_PATH CARA_OUTPUT \
	CHAT_HOST PLATFORM_LOG_LEVEL PLATFORM_VERSION
ex="$srcdir/manifests-example"

# secret NAME/KEY VAR: the Project's secret file and the compose project's
# variable, holding the same value
secret() {
	mkdir -p "$CARA_SECRETS_DIR/${1%/*}"
	echo "s3cret-${1%/*}-${1#*/}" >"$CARA_SECRETS_DIR/$1"
	eval "$2=s3cret-${1%/*}-${1#*/}; export $2"
}
secret chat/postgres-password CHAT_POSTGRES_PASSWORD
secret chat/minio-password CHAT_MINIO_PASSWORD
secret chat/datasource CHAT_DATASOURCE
secret platform/postgres-password PLATFORM_POSTGRES_PASSWORD
secret platform/database-url PLATFORM_DATABASE_URL
secret wordpress/db-password WORDPRESS_DB_PASSWORD
secret wordpress/root-password MYSQL_ROOT_PASSWORD

# normalise FILE: the converted model with the differences above folded
# (secretKeyRef to the secret's value, restart: unless-stopped dropped, env
# sorted by name)
normalise() {
	python3 - "$1" "$CARA_SECRETS_DIR" <<'EOF'
import sys
lines = open(sys.argv[1]).read().split("\n")
out, i = [], 0
while i < len(lines):
    l = lines[i]
    if l == "    restart: unless-stopped":
        i += 1
        continue
    if l == "    env:":
        out.append(l)
        i += 1
        entries = []
        while i < len(lines) and lines[i].startswith("    - "):
            e = [lines[i]]
            i += 1
            while i < len(lines) and lines[i].startswith("      "):
                e.append(lines[i])
                i += 1
            if len(e) == 5 and e[1] == "      valueFrom:":
                name = e[3].split("name: ", 1)[1]
                key = e[4].split("key: ", 1)[1]
                with open("%s/%s/%s" % (sys.argv[2], name, key)) as f:
                    e = [e[0], "      value: " + f.read().rstrip("\n")]
            entries.append(e)
        for e in sorted(entries):
            out.extend(e)
        continue
    out.append(l)
    i += 1
print("\n".join(out))
EOF
}

# actions FILE: one line per planned action of diff's JSON, in order
actions() {
	python3 -c '
import json, sys
for p in json.load(open(sys.argv[1]))["projects"]:
    print(p["name"], p["verdict"])
    for a in p["actions"]:
        print(" ", a["action"], a["object"], a.get("service", "-"), a["cause"])
' "$1"
}

test_expect_success 'both directories validate with no error and no warning' '
	for d in realistic compose; do
		$CARA validate "$ex/$d" >out 2>err &&
		expect_contains err "3 files, 3 projects: 0 errors, 0 warnings" ||
			exit 1
	done
'

for n in chat platform wordpress; do
	test_expect_success "$n: the same plan from the manifest and the compose project" "
		for fmt in json text; do
			rc1=0 rc2=0
			\$CARA diff --state-dir \"\$TEST_DIR/st\" --output \$fmt \
				--path '$ex/realistic/$n.yaml' >m.\$fmt 2>m.err || rc1=\$?
			\$CARA diff --state-dir \"\$TEST_DIR/st\" --output \$fmt \
				--path '$ex/compose/$n' >c.\$fmt 2>c.err || rc2=\$?
			[ \$rc1 -eq 2 ] && [ \$rc2 -eq 2 ] ||
				{ cat m.err c.err; echo \"diff exits \$rc1 and \$rc2\" >&2; exit 1; }
		done &&
		actions m.json >m.actions && actions c.json >c.actions &&
		[ \$(grep -c create-container c.actions) -ge 2 ] &&
		diff m.actions c.actions &&
		diff m.text c.text
	"

	test_expect_success "$n: the same model through cara convert" "
		\$CARA convert '$ex/realistic/$n.yaml' >m.yaml &&
		\$CARA convert '$ex/compose/$n' >c.yaml 2>c.err &&
		expect_not_contains c.err warning &&
		normalise m.yaml >m.norm && normalise c.yaml >c.norm &&
		expect_not_contains m.norm secretKeyRef &&
		diff m.norm c.norm
	"
done

test_expect_success 'the one difference left: secrets are values in compose' '
	$CARA convert "$ex/realistic/chat.yaml" >m.yaml &&
	$CARA convert "$ex/compose/chat" >c.yaml &&
	expect_contains m.yaml "key: postgres-password" &&
	expect_not_contains m.yaml "s3cret-" &&
	expect_contains c.yaml "value: s3cret-chat-postgres-password"
'

test_expect_success 'a compose service without restart is not the Project default' '
	mkdir -p norestart/chat &&
	sed "/^  redis:/,/^$/{/restart: unless-stopped/d}" \
		"$ex/compose/chat/compose.yaml" >norestart/chat/compose.yaml &&
	cp "$ex/compose/chat/.env" norestart/chat/ &&
	$CARA convert "$ex/realistic/chat.yaml" >m.yaml &&
	$CARA convert norestart/chat >c.yaml &&
	normalise m.yaml >m.norm && normalise c.yaml >c.norm &&
	! diff m.norm c.norm >d &&
	expect_contains d "restart: \"no\""
'

test_done
