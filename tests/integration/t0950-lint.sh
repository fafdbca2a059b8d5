#!/bin/sh
# src/banned.h and make lint: a call to a banned libc function does not
# compile, whichever order the headers come in; the header bans what it
# says it bans; make lint names the file and the function, and passes a
# clean file.
. "$srcdir/tests/lib.sh"

cc=${CC:-cc}
cara_bin=${CARA##* }   # CARA may be a wrapper command line: valgrind ... cara
builddir=$(dirname "$cara_bin")

# probe NAME CALL [HEADER...]: probe-NAME.c calling CALL in a function, the
# system HEADERs included before util.h and again after it.
probe() {
	name=$1 call=$2; shift 2
	{
		for h in "$@"; do echo "#include <$h>"; done
		echo '#include "util.h"'
		for h in "$@"; do echo "#include <$h>"; done
		echo "void probe(char *d, size_t n);"
		echo "void probe(char *d, size_t n) { (void)d; (void)n; $call; }"
	} >"probe-$name.c"
}

# compiles FILE [FLAGS...]: FILE compiles against src/ (syntax only).
compiles() {
	src=$1; shift
	"$cc" -std=c11 -D_GNU_SOURCE "$@" -I"$srcdir/src" -fsyntax-only "$src"
}

if command -v "$cc" >/dev/null 2>&1; then
	test_expect_success 'a strcpy after util.h does not compile, and says why' '
		probe strcpy "strcpy(d, \"x\")" string.h stdio.h &&
		! compiles probe-strcpy.c 2>err &&
		expect_contains err strcpy_is_banned_see_src_banned_h
	'

	test_expect_success 'the same probe with snprintf compiles' '
		probe snprintf "snprintf(d, n, \"%s\", \"x\")" string.h stdio.h &&
		compiles probe-snprintf.c -Wall -Wextra -Werror
	'

	test_expect_success 'banned.h bans the copy, format, number, temp-name, time and shell calls' '
		for f in strcpy strcat strncpy strncat sprintf vsprintf gets strtok \
			 atoi atol atoll atof tmpnam tempnam mktemp \
			 gmtime localtime ctime asctime \
			 system popen execlp execvp execvpe; do
			probe "$f" "$f(0)" stdio.h stdlib.h string.h time.h unistd.h &&
			{ ! compiles "probe-$f.c" 2>err || { echo "$f compiles"; exit 1; }; } &&
			expect_contains err "${f}_is_banned_see_src_banned_h"
		done
	'

	test_expect_success 'a test file may spawn a shell; the other bans hold there' '
		probe shell "if (system(\"true\")) (void)popen(\"true\", \"r\")" stdlib.h stdio.h &&
		compiles probe-shell.c -DCARA_BANNED_ALLOW_SHELL &&
		probe shell-strcat "strcat(d, \"x\")" string.h &&
		! compiles probe-shell-strcat.c -DCARA_BANNED_ALLOW_SHELL 2>err &&
		expect_contains err strcat_is_banned
	'
else
	test_skip 'banned.h probes' "no C compiler ($cc)"
fi

if [ -f "$builddir/Makefile" ] && command -v make >/dev/null 2>&1; then
	# (a make of its own, not a child of a "make check" that may be running)
	lint() {
		(unset MAKEFLAGS MFLAGS MAKELEVEL; make -s -C "$builddir" lint "$@")
	}

	test_expect_success 'make lint fails on a strcpy, naming the file and the function' '
		probe strcpy "strcpy(d, \"x\")" string.h &&
		expect_exit 2 lint LINT_FILES="$TEST_DIR/probe-strcpy.c" >out 2>&1 &&
		expect_contains out "lint: $TEST_DIR/probe-strcpy.c:5: strcpy is banned (see src/banned.h)" &&
		expect_contains out "lint: failed"
	'

	test_expect_success 'make lint fails on a file that does not reach banned.h' '
		printf "#include <string.h>\nint f(void);\nint f(void) { return (int)strlen(\"x\"); }\n" >alone.c &&
		expect_exit 2 lint LINT_FILES="$TEST_DIR/alone.c" >out 2>&1 &&
		expect_contains out "alone.c does not reach src/banned.h"
	'

	test_expect_success 'make lint passes a clean file' '
		probe snprintf "snprintf(d, n, \"%s\", \"x\")" stdio.h &&
		lint LINT_FILES="$TEST_DIR/probe-snprintf.c" >out 2>&1 &&
		test "$(cat out)" = "lint: ok"
	'
else
	test_skip 'make lint' "no Makefile in $builddir"
fi

test_expect_success 'no two modules of src/ include each other, directly or through others' '
	sh "$srcdir/scripts/include-cycles" "$srcdir/src" &&
	mkdir -p cyc/sub &&
	printf "#include \"b.h\"\n" >cyc/a.h && printf "#include \"sub/c.h\"\n" >cyc/b.h &&
	printf "#include \"a.h\"\n" >cyc/sub/c.h && printf "#include \"a.h\"\n" >cyc/a.c &&
	expect_exit 1 sh "$srcdir/scripts/include-cycles" cyc >out 2>&1 &&
	expect_contains out "a is on a cycle" && expect_contains out "sub/c is on a cycle" &&
	rm cyc/sub/c.h && printf "int c;\n" >cyc/sub/c.h &&
	sh "$srcdir/scripts/include-cycles" cyc
'

test_done
