#!/bin/sh
# The commands on a git repository: sync and diff --repo, the commit in
# status and state, --ref and --path, an unreachable remote with and
# without --offline-ok, credentials never printed, validate --repo.
. "$srcdir/tests/lib.sh"

P="$UNIQ-g"
R="$TEST_DIR/remote.git"
W="$TEST_DIR/work"
git init -q --bare -b main "$R"
git init -q -b main "$W"
g() { git -C "$W" -c user.name=t -c user.email=t@localhost "$@"; }
project() {   # project VALUE
	mkdir -p "$W/stacks"
	sleeper_project "$P" "$1" > "$W/stacks/g.yaml"
}
project one
echo "not a manifest" > "$W/README.md"
g add -A && g commit -q -m "first stack" && g remote add origin "$R" && g push -q origin main

test_expect_success 'sync --repo --path converges and records the commit' '
	$CARA sync --repo "file://$R" --path stacks 2>err &&
	expect_state $P-s running &&
	c=$(git -C "$R" rev-parse main) &&
	$CARA status >out && grep -E "^$P +Running +ContainersRunning +$(echo $c | cut -c1-7)" out &&
	[ "$(sqlite3 "$CARA_STATE_DIR/state.db" "select commit_id from passes where commit_id is not null order by id desc limit 1")" = "$c" ] &&
	[ "$(sqlite3 "$CARA_STATE_DIR/state.db" "select subject from passes where subject is not null order by id desc limit 1")" = "first stack" ]
'

test_expect_success 'a new commit is fetched and applied' '
	project two && g commit -qam "second" && g push -q origin main &&
	$CARA sync --repo "file://$R" --path stacks 2>err &&
	grep -E "source: commit [0-9a-f]{12}, [1-9][0-9]* objects fetched" err &&
	docker inspect -f "{{.Config.Env}}" $P-s | grep -q V=two
'

test_expect_success 'diff --repo on an unchanged remote: exit 0, nothing transferred' '
	expect_exit 0 $CARA diff --repo "file://$R" --path stacks >out 2>err &&
	expect_contains err ", 0 objects fetched"
'

test_expect_success '--ref picks a tag' '
	g tag v1 HEAD~1 && g push -q origin v1 &&
	expect_exit 2 $CARA diff --repo "file://$R" --path stacks --ref v1 >out &&
	expect_contains out "changed: env"
'

test_expect_success 'an unreachable remote: exit 1, no container touched' '
	id=$(docker inspect -f "{{.Id}}" $P-s) &&
	mv "$R" "$R.away" &&
	expect_exit 1 $CARA sync --repo "file://$R" --path stacks 2>err &&
	expect_contains err "remote.git" &&
	expect_contains err "nothing was changed" &&
	[ "$(docker inspect -f "{{.Id}}" $P-s)" = "$id" ]
'

test_expect_success 'with --offline-ok the last fetched commit is used and recorded' '
	$CARA sync --repo "file://$R" --path stacks --offline-ok 2>err &&
	expect_contains err "remote unreachable" &&
	[ "$(sqlite3 "$CARA_STATE_DIR/state.db" "select offline from passes order by id desc limit 1")" = 1 ] &&
	mv "$R.away" "$R"
'

test_expect_success 'credentials in the URL never reach output, logs or state' '
	expect_exit 1 $CARA sync --repo "https://deploy:hunter2@127.0.0.1:1/x.git" 2>err &&
	! grep -q hunter2 err &&
	! grep -rq hunter2 "$CARA_STATE_DIR/state.db" &&
	expect_contains err "***@127.0.0.1"
'

test_expect_success 'a manifest turned into a symlink, or moved into a submodule, is not a deletion' '
	g checkout -q main &&
	expect_state $P-s running &&
	id=$(docker inspect -f "{{.Id}}" $P-s) &&
	g checkout -q -b linked &&
	mv "$W/stacks/g.yaml" "$W/g.real.yaml" && ln -s ../g.real.yaml "$W/stacks/g.yaml" &&
	g add -A && g commit -qm linked && g push -q origin linked &&
	expect_exit 1 $CARA sync --repo "file://$R" --ref linked --path stacks 2>err &&
	expect_contains err "g.yaml:1:1: a symbolic link" &&
	expect_contains err "not pruned" &&
	[ "$(docker inspect -f "{{.Id}}" $P-s)" = "$id" ] &&
	g checkout -q main && g checkout -q -b submodule &&
	git -C "$W" rm -q stacks/g.yaml &&
	git -C "$W" update-index --add --cacheinfo \
		160000,1111111111111111111111111111111111111111,stacks/vendor &&
	g commit -qm submodule && g push -q origin submodule &&
	expect_exit 1 $CARA sync --repo "file://$R" --ref submodule --path stacks 2>err &&
	expect_contains err "vendor:1:1: a submodule" &&
	[ "$(docker inspect -f "{{.Id}}" $P-s)" = "$id" ] &&
	g checkout -q main
'

test_expect_success 'validate --repo --ref checks a branch' '
	g checkout -q -b broken &&
	sed -i "s/image: .*/image: \"Not An Image\"/" "$W/stacks/g.yaml" &&
	g commit -qam broken && g push -q origin broken &&
	expect_exit 1 $CARA validate --repo "file://$R" --ref broken --path stacks >out 2>&1 &&
	expect_contains out "g.yaml:" && expect_contains out "spec.services[0].image" &&
	expect_exit 0 $CARA validate --repo "file://$R" --ref main --path stacks
'

test_expect_success 'validate --repo needs no state directory and leaves the cache alone' '
	ls -la --time-style=full-iso "$CARA_STATE_DIR/repo" > cache.before &&
	expect_exit 1 $CARA validate --repo "file://$R" --ref broken --path stacks >out 2>&1 &&
	ls -la --time-style=full-iso "$CARA_STATE_DIR/repo" > cache.after &&
	cmp cache.before cache.after &&
	expect_exit 0 env CARA_STATE_DIR=/nonexistent/state $CARA validate \
		--repo "file://$R" --ref main --path stacks &&
	[ ! -e /nonexistent/state ] &&
	! ls -d /tmp/cara-validate-* 2>/dev/null
'

test_done
