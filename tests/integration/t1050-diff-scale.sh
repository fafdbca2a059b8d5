#!/bin/sh
# A no-op cara diff makes the same number of Engine API calls for 1
# project as for 200: observation is a handful of list calls, never one
# call per project or container.
. "$srcdir/tests/lib.sh"

gen() {   # gen DIR COUNT
	mkdir -p "$1"
	i=0
	while [ $i -lt "$2" ]; do
		sleeper_project "$UNIQ-p$i" > "$1/p$i.yaml"
		i=$((i + 1))
	done
}

calls() {   # the Engine call count a verbose diff reports
	sed -n 's/.* \([0-9][0-9]*\) Engine API calls.*/\1/p' "$1" | tail -n 1
}

test_expect_success 'converge 1 project, then 200 projects' '
	gen one 1 && gen many 200 &&
	$CARA sync --path one 2>/dev/null &&
	$CARA sync --path many --parallel 8 2>sync.err ||
		{ tail -n 20 sync.err; false; }
'

test_expect_success 'no-op diff: Engine calls do not grow with the project count' '
	expect_exit 0 $CARA diff --path one --verbose --no-prune >/dev/null 2>one.err &&
	expect_exit 0 $CARA diff --path many --verbose >/dev/null 2>many.err &&
	c1=$(calls one.err) && c200=$(calls many.err) &&
	echo "1 project: $c1 calls, 200 projects: $c200 calls" &&
	[ -n "$c1" ] && [ "$c1" -eq "$c200" ] && [ "$c200" -le 6 ]
'

test_expect_success 'a no-op sync over 200 projects creates and starts nothing' '
	$CARA sync --path many 2>sync.err &&
	expect_contains sync.err "0 created, 0 recreated, 0 started, 0 removed"
'

test_done
