#!/bin/sh
# Compose conformance: every case of tests/compose-corpus/, a compose
# project written from the compose specification, read by cara convert
# and compared field by field with what docker-compose config (Debian's
# 1.29.2) says it means, by tests/integration/compose-compare.py (which
# holds the table of the intended differences, each with its reason).
#
# A case directory holds the compose project and, for the test only:
# - vars: KEY=VALUE lines exported for both cara and docker-compose
#   (COMPOSE_PROFILES is also given to cara as --compose-profiles);
# - expected.yaml: for a file docker-compose 1.29 cannot read (top-level
#   name, include, nested defaults ...), what it would print for it,
#   written by hand, compared instead of its output;
# - error: lines stderr of `cara validate` must hold (FILE:LINE:COL: path
#   and message); the case is refused, exit 1, nothing converted;
# - compose-error: docker-compose config must refuse it too, saying this.
# Each case is copied to its own source ($TEST_DIR/CASE/src/CASE), so the
# directory names the project and a relative bind is a file of the
# source.  Only files are read: no Docker object is made.
. "$srcdir/tests/lib.sh"

corpus="$srcdir/tests/compose-corpus"
compare="$srcdir/tests/integration/compose-compare.py"
# absolute binds of the corpus are under /srv/corpus
export CARA_HOSTPATH_ROOTS=/srv/corpus
# capabilities and security options beyond Docker's defaults need it
# (t3710 shows them refused without it)
export CARA_ALLOW_PRIVILEGED=true
unset COMPOSE_FILE COMPOSE_PROFILES COMPOSE_PROJECT_NAME CARA_COMPOSE_PROFILES

if ! command -v docker-compose >/dev/null 2>&1 ||
	! python3 -c 'import yaml' 2>/dev/null; then
	test_skip 'compose conformance corpus' 'needs docker-compose and python3-yaml'
	test_done
	exit
fi

# in_case CASE CMD...: CMD in the copy of CASE, with its vars exported
in_case() {
	c=$1; shift
	(
		cd "$TEST_DIR/$c/src/$c" || exit 1
		if [ -f "$corpus/$c/vars" ]; then
			while IFS= read -r kv; do
				export "${kv%%=*}=${kv#*=}"
			done <"$corpus/$c/vars"
		fi
		if [ -n "${COMPOSE_PROFILES:-}" ]; then
			CARA_COMPOSE_PROFILES=$COMPOSE_PROFILES
			export CARA_COMPOSE_PROFILES
		fi
		"$@"
	)
}

# the compose project, without the test's own files
copy_case() {
	mkdir -p "$TEST_DIR/$1/src" &&
	cp -R "$corpus/$1" "$TEST_DIR/$1/src/" &&
	rm -f "$TEST_DIR/$1/src/$1/vars" "$TEST_DIR/$1/src/$1/expected.yaml" \
		"$TEST_DIR/$1/src/$1/error" "$TEST_DIR/$1/src/$1/compose-error"
}

# docker-compose config of CASE into $TEST_DIR/CASE/oracle.{yaml,err,rc}
oracle() {
	rc=0
	in_case "$1" docker-compose config >"$TEST_DIR/$1/oracle.yaml" \
		2>"$TEST_DIR/$1/oracle.err" || rc=$?
	echo "$rc" >"$TEST_DIR/$1/oracle.rc"
}

conform() {
	c=$1 w="$TEST_DIR/$1"
	in_case "$c" sh -c 'cd .. && "$CARA" convert .' >"$w/cara.yaml" 2>"$w/cara.err" ||
		{ cat "$w/cara.err"; return 1; }
	if [ -f "$corpus/$c/expected.yaml" ]; then
		cp "$corpus/$c/expected.yaml" "$w/oracle.yaml"
	else
		[ "$(cat "$w/oracle.rc")" -eq 0 ] ||
			{ cat "$w/oracle.err"; return 1; }
	fi
	in_case "$c" python3 "$compare" "$w/cara.yaml" "$w/oracle.yaml" "$c" "$w/src" >"$w/diffs" ||
		{ cat "$w/diffs"; return 1; }
	# the Project convert printed, in place of the compose files, is a
	# manifest of the same source: it validates with no error and
	# converts to itself (its File volumes name the same files)
	cp -R "$w/src" "$w/rt" &&
	rm -f "$w/rt/$c"/compose.y*ml "$w/rt/$c"/compose.override.y*ml \
		"$w/rt/$c"/docker-compose.y*ml "$w/rt/$c"/docker-compose.override.y*ml &&
	cp "$w/cara.yaml" "$w/rt/$c/project.yaml" &&
	(cd "$w/rt" && "$CARA" validate . >"$w/rt.out" 2>"$w/rt.err") ||
		{ cat "$w/rt.err"; return 1; }
	expect_contains "$w/rt.err" " 0 errors," &&
	(cd "$w/rt" && "$CARA" convert .) >"$w/rt.yaml" &&
	grep -v "^ *# built by cara" "$w/cara.yaml" | diff - "$w/rt.yaml"
}

refused() {
	c=$1 w="$TEST_DIR/$1"
	rc=0
	# on a host that does not allow privileged settings (the default)
	in_case "$c" sh -c 'cd .. && CARA_ALLOW_PRIVILEGED=false "$CARA" validate .' \
		>"$w/out" 2>"$w/err" || rc=$?
	[ "$rc" -eq 1 ] || { cat "$w/err"; echo "validate exits $rc, not 1"; return 1; }
	while IFS= read -r line; do
		grep -qF "$c/$line" "$w/err" ||
			{ cat "$w/err"; echo "missing: $c/$line"; return 1; }
	done <"$corpus/$c/error"
	rc=0
	in_case "$c" sh -c 'cd .. && CARA_ALLOW_PRIVILEGED=false "$CARA" convert .' \
		>"$w/conv" 2>/dev/null || rc=$?
	[ "$rc" -eq 1 ] && [ ! -s "$w/conv" ] ||
		{ echo "convert exits $rc, or printed a project"; return 1; }
	if [ -f "$corpus/$c/compose-error" ]; then
		[ "$(cat "$w/oracle.rc")" -ne 0 ] &&
		grep -qF "$(cat "$corpus/$c/compose-error")" "$w/oracle.err" ||
			{ cat "$w/oracle.err"; echo "docker-compose does not refuse it"; return 1; }
	fi
}

# every case copied, and docker-compose (a second or so each) run for
# those that need it, eight at a time
n=0
for d in "$corpus"/*/; do
	c=$(basename "$d")
	copy_case "$c" || exit 1
	if [ -f "$d/error" ] && [ ! -f "$d/compose-error" ] || [ -f "$d/expected.yaml" ]; then
		continue
	fi
	oracle "$c" &
	n=$((n + 1))
	[ $((n % 8)) -ne 0 ] || wait
done
wait

for d in "$corpus"/*/; do
	c=$(basename "$d")
	if [ -f "$d/error" ]; then
		test_expect_success "$c: refused, naming file, line and field" "refused '$c'"
	else
		test_expect_success "$c: cara reads what compose reads" "conform '$c'"
	fi
done

test_done
