#!/bin/sh
# Real software from a compose file: the platform stack's shape (Postgres,
# Redis, a one-shot migration gated on Postgres being healthy, an app gated
# on the migration and on Redis) run for real, with images made here from
# Debian's postgresql and redis-server packages (tests/lib-images.sh).
# Rows written to Postgres survive a recreate of its service (the Managed
# volume) and a teardown without --purge-volumes; --purge-volumes then
# removes them.
. "$srcdir/tests/lib.sh"
. "$srcdir/tests/lib-images.sh"

if ! ensure_postgres_image || ! ensure_redis_image; then
	test_skip 'the platform stack runs for real' "no Debian images: $IMAGES_WHY"
	test_done
	exit
fi

P="$UNIQ-plat"
mkdir -p "m/$P"
export T3750_PG_PASSWORD="pw-$UNIQ"
PSQL='psql -h /run/postgresql -U platform -d platform -v ON_ERROR_STOP=1 -At'

stack() {   # stack [POSTGRES-EXTRA-ENV]
	cat > "m/$P/compose.yaml" <<EOT
name: $P
x-pg: &pg
  image: $PG_IMAGE
  environment: &pgenv
    PGPASSWORD: \${T3750_PG_PASSWORD}
services:
  postgres:
    image: $PG_IMAGE
    restart: unless-stopped
    environment:
      POSTGRES_USER: platform
      POSTGRES_DB: platform
      POSTGRES_PASSWORD: \${T3750_PG_PASSWORD}
      EXTRA: "${1:-one}"
    volumes: [pg-data:/var/lib/postgresql/data]
    healthcheck:
      test: ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", "platform"]
      interval: 1s
      timeout: 2s
      retries: 60
    stop_grace_period: 10s
  redis:
    image: $REDIS_IMAGE
    restart: unless-stopped
    volumes: [redis-data:/data]
    healthcheck: {test: ["CMD", "redis-cli", "ping"], interval: 1s, retries: 60}
  migrate:
    <<: *pg
    command: ["psql", "-h", "postgres", "-U", "platform", "-d", "platform",
              "-v", "ON_ERROR_STOP=1",
              "-c", "CREATE TABLE IF NOT EXISTS notes (id serial PRIMARY KEY, body text NOT NULL)"]
    depends_on:
      postgres: {condition: service_healthy}
  app:
    <<: *pg
    restart: unless-stopped
    entrypoint: ["sh", "-c"]
    command:
      - >-
        trap 'exit 0' TERM;
        psql -h postgres -U platform -d platform -v ON_ERROR_STOP=1
        -c "INSERT INTO notes (body) VALUES ('app started')" &&
        printf 'SET app:up yes\r\n' | nc redis 6379 | grep -q OK &&
        while :; do sleep 1; done
    depends_on:
      migrate: {condition: service_completed_successfully}
      redis: {condition: service_healthy}
volumes:
  pg-data:
  redis-data:
EOT
}
stack

cid() { docker inspect -f '{{.Id}}' "$1" 2>/dev/null || echo none; }
notes() { docker exec "$P-postgres" $PSQL -c 'SELECT body FROM notes ORDER BY id'; }

test_expect_success 'the stack converges in order: postgres healthy, migrate done, app up' '
	$CARA sync --path m 2>err || { cat err; false; } &&
	[ "$(docker inspect -f "{{.State.Health.Status}}" $P-postgres)" = healthy ] &&
	[ "$(docker inspect -f "{{.State.Health.Status}}" $P-redis)" = healthy ] &&
	[ "$(docker inspect -f "{{.State.Status}} {{.State.ExitCode}}" $P-migrate)" = "exited 0" ] &&
	expect_state $P-app running &&
	$CARA status >out && grep -E "^$P +Running" out
'

test_expect_success 'the app wrote through both: a row in Postgres, a key in Redis' '
	i=0; until [ "$(docker exec $P-redis redis-cli GET app:up)" = yes ]; do
		i=$((i + 1)); [ $i -lt 30 ] || { echo "no app:up in redis"; false; }; sleep 1
	done &&
	notes >rows && expect_contains rows "app started" &&
	docker exec $P-postgres $PSQL -c "INSERT INTO notes (body) VALUES ('"'"'kept $UNIQ'"'"')"
'

test_expect_success 'a second pass changes nothing and runs no job again' '
	migrate=$(cid $P-migrate) pg=$(cid $P-postgres) &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	[ "$(cid $P-migrate)" = "$migrate" ] && [ "$(cid $P-postgres)" = "$pg" ] &&
	[ "$(notes | grep -c "app started")" = 1 ]
'

test_expect_success 'a recreate of postgres keeps the rows (Managed volume)' '
	pg=$(cid $P-postgres) redis=$(cid $P-redis) &&
	stack two &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	[ "$(cid $P-postgres)" != "$pg" ] && [ "$(cid $P-redis)" = "$redis" ] &&
	notes >rows && expect_contains rows "kept $UNIQ"
'

test_expect_success 'a teardown without --purge-volumes keeps the data; back, the rows are there' '
	mv m/$P removed &&
	$CARA sync --path m --allow-mass-prune 2>err || { cat err; false; } &&
	expect_state $P-postgres missing &&
	docker volume inspect cara-$P-pg-data >/dev/null &&
	mv removed m/$P &&
	$CARA sync --path m 2>err || { cat err; false; } &&
	notes >rows && expect_contains rows "kept $UNIQ" &&
	[ "$(docker exec $P-redis redis-cli GET app:up)" = yes ]
'

test_expect_success 'a teardown with --purge-volumes removes them' '
	mv m/$P removed &&
	$CARA sync --path m --allow-mass-prune --purge-volumes 2>err || { cat err; false; } &&
	! docker volume inspect cara-$P-pg-data >/dev/null 2>&1 &&
	! docker volume inspect cara-$P-redis-data >/dev/null 2>&1
'

test_done
