#!/bin/sh
# t9500-fuzz: a bounded libFuzzer run of the manifest parser and validator
# (CARA_FUZZ_SECONDS, default 30), seeded with the test and example
# manifests, plus every saved crash in tests/fuzz/regressions/ replayed.
# Longer local runs: CARA_FUZZ_SECONDS=3600 sh tests/integration/t9500-fuzz.sh
. "$srcdir/tests/lib.sh"

# Kept between runs next to the other builds; in a read-only tree (make
# distcheck) it lives in the sandbox.
fuzzdir="$srcdir/build-fuzz"
[ -w "$srcdir" ] || fuzzdir="$TEST_DIR/build-fuzz"
fuzzer="$fuzzdir/tests/fuzz/fuzz-manifest"

build_fuzzer() {
	command -v clang >/dev/null 2>&1 || return 1
	mkdir -p "$fuzzdir" && cd "$fuzzdir" || return 1
	if [ ! -f Makefile ] || [ "$srcdir/configure" -nt Makefile ]; then
		"$srcdir/configure" CC=clang CFLAGS="-g -O1 -fsanitize=fuzzer-no-link" \
			--enable-asan --enable-ubsan >configure.log 2>&1 ||
			{ tail -n 20 configure.log; return 1; }
	fi
	make -s -j"$(nproc)" libcara.a tests/fuzz/fuzz-manifest >make.log 2>&1 ||
		{ tail -n 40 make.log; return 1; }
}

if ! command -v clang >/dev/null 2>&1; then
	test_skip 'fuzz target builds with clang' 'clang not installed'
	test_skip 'bounded fuzz run finds nothing' 'clang not installed'
	test_done
	exit
fi

test_expect_success 'fuzz target builds with clang and libFuzzer' '
	build_fuzzer && test -x "$fuzzer"
'

test_expect_success 'saved crash inputs no longer crash' '
	set -- $(find "$srcdir/tests/fuzz/regressions" -type f ! -name README)
	[ $# -gt 0 ] || exit 0
	"$fuzzer" -runs=0 "$@" >fuzz-regress.log 2>&1 || { tail -n 40 fuzz-regress.log; exit 1; }
'

test_expect_success "bounded fuzz run (${CARA_FUZZ_SECONDS:-30} s) finds no crash, leak or hang" '
	mkdir -p corpus artifacts
	n=0
	for f in $(find "$srcdir/tests/manifests" "$srcdir/manifests-example" \
			-name "*.yaml" -o -name "*.yml" 2>/dev/null); do
		n=$((n + 1)); cp "$f" "corpus/seed-$n.yaml"
	done
	"$fuzzer" -max_total_time="${CARA_FUZZ_SECONDS:-30}" -max_len=16384 \
		-timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix=artifacts/ corpus >fuzz.log 2>&1 || {
		tail -n 60 fuzz.log
		for a in artifacts/*; do
			[ -e "$a" ] && cp "$a" "$srcdir/tests/fuzz/regressions/" &&
				echo "saved $a to tests/fuzz/regressions/: add it to the repository"
		done
		exit 1
	}
	grep -E "stat::number_of_executed_units|Done" fuzz.log
'

test_done
