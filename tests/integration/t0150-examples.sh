#!/bin/sh
# The example manifests users copy: they validate with no error and no
# warning, and `cara diff` plans them cleanly (their images are not local,
# so the plan pulls them; nothing is applied here).
. "$srcdir/tests/lib.sh"

ex="$srcdir/manifests-example"

# The secrets the realistic projects reference: {secretsDir}/{name}/{key}.
for s in wordpress/db-password wordpress/root-password chat/postgres-password \
	 chat/minio-password chat/datasource platform/postgres-password \
	 platform/database-url; do
	mkdir -p "$CARA_SECRETS_DIR/${s%/*}"
	echo "example-$s" > "$CARA_SECRETS_DIR/$s"
done

# ... and the variables their compose forms read them from.
export CHAT_POSTGRES_PASSWORD=x CHAT_MINIO_PASSWORD=x CHAT_DATASOURCE=x \
	PLATFORM_POSTGRES_PASSWORD=x PLATFORM_DATABASE_URL=x \
	WORDPRESS_DB_PASSWORD=x MYSQL_ROOT_PASSWORD=x

# One directory at a time: compose/ holds the projects of realistic/ again
# (same names, ports and hosts), so the two are alternatives, not one
# source.
test_expect_success 'every example validates with no error and no warning' '
	for d in "$ex"/*/; do
		$CARA validate "$d" >out 2>err &&
		expect_contains err ": 0 errors, 0 warnings" &&
		test "$(grep -c ": error\|: warning" err)" -eq 0 || exit 1
	done
'

test_expect_success 'realistic/ and compose/ together: the same projects twice' '
	expect_exit 1 $CARA validate "$ex" >out 2>err &&
	expect_contains err "project '"'"'chat'"'"' is already defined"
'

test_expect_success "Caravanserai's own examples validate unchanged" '
	$CARA validate "$ex/caravanserai" 2>err &&
	expect_contains err "2 files, 2 projects: 0 errors, 0 warnings"
'

test_expect_success 'the realistic projects diff cleanly: every service planned, exit 2' '
	expect_exit 2 $CARA diff --path "$ex/realistic" >out 2>err &&
	for c in wordpress-prod-db wordpress-prod-app chat-postgres chat-redis \
		 chat-minio chat-create-bucket chat-server platform-postgres \
		 platform-redis platform-migrate platform-api platform-worker \
		 platform-web; do
		expect_contains out "+ container $c" || exit 1
	done &&
	expect_contains out "+ network cara-chat" &&
	expect_contains out "+ volume cara-platform-pg-data" &&
	expect_not_contains out "example-" &&
	integrity_ok
'

test_expect_success 'the demo validates and diffs with the local image only' '
	$CARA validate "$ex/demo" 2>err &&
	$CARA diff --path "$ex/demo" --output json >out.json;
	test $? -le 2 &&
	python3 -c "import json; d=json.load(open(\"out.json\")); \
names=[p[\"name\"] for p in d[\"projects\"]]; assert \"demo-shop\" in names, names"
'

test_done
