#!/bin/sh
# Configuration precedence (flag > CARA_* environment > file > default),
# `cara config` showing origins with secrets masked, and file errors that
# name the file, line and key.
. "$srcdir/tests/lib.sh"

cat > "$CARA_CONFIG" <<EOT
stateDir: /from/file
parallel: 3
repo: https://deploy:hunter2@git.example.com/ops/stacks.git
notifyUrl: https://hooks.example.com/T000/B000/XXXXSECRET
EOT

test_expect_success 'file values apply when neither flag nor env is set' '
	env -u CARA_STATE_DIR $CARA config >out &&
	grep -E "^state-dir +/from/file +file$" out &&
	grep -E "^parallel +3 +file$" out
'

test_expect_success 'environment wins over the file' '
	CARA_STATE_DIR=/from/env $CARA config >out &&
	grep -E "^state-dir +/from/env +env$" out
'

test_expect_success 'a flag wins over environment and file' '
	CARA_STATE_DIR=/from/env $CARA config --state-dir /from/flag --parallel=5 >out &&
	grep -E "^state-dir +/from/flag +flag$" out &&
	grep -E "^parallel +5 +flag$" out
'

test_expect_success 'defaults are marked as such' '
	$CARA config >out &&
	grep -E "^mass-prune-percent +50 +default$" out
'

test_expect_success 'credentials in URLs are masked' '
	$CARA config >out && $CARA config --output json >out.json &&
	! grep -q hunter2 out out.json &&
	! grep -q XXXXSECRET out out.json &&
	expect_contains out "https://***@git.example.com" &&
	python3 -m json.tool out.json >/dev/null
'

test_expect_success 'an unknown key in the file names file, line and key' '
	printf "stateDir: /x\nstateDri: /y\n" > "$CARA_CONFIG" &&
	expect_exit 1 $CARA config 2>err &&
	expect_contains err "cara.yaml:2:" && expect_contains err "stateDri: unknown setting"
'

test_expect_success 'a bad number is refused with its range' '
	: > "$CARA_CONFIG" &&
	expect_exit 1 $CARA config --parallel 0 2>err &&
	expect_contains err "from 1 to 64"
'

test_expect_success 'an unknown flag is refused' '
	expect_exit 1 $CARA sync --no-such-flag 2>err &&
	expect_contains err "unknown option"
'

test_expect_success 'a missing --config file is an error, the default one is not' '
	expect_exit 1 $CARA config --config "$TEST_DIR/absent.yaml" 2>err &&
	expect_contains err "absent.yaml"
'

test_expect_success 'a key set twice in the file is an error naming the second' '
	printf "parallel: 2\nstateDir: /x\nparallel: 8\n" > "$CARA_CONFIG" &&
	expect_exit 1 $CARA config 2>err &&
	expect_contains err "cara.yaml:3:" && expect_contains err "parallel: set twice"
'

test_expect_success 'the config file is read by the manifests YAML layer, with its caps' '
	printf "parallel: 2\nstateDir:\n  - /x\n" > "$CARA_CONFIG" &&
	expect_exit 1 $CARA config 2>err &&
	expect_contains err "cara.yaml:3:" && expect_contains err "stateDir: expected a scalar value" &&
	printf "parallel: [2\n" > "$CARA_CONFIG" &&
	expect_exit 1 $CARA config 2>err &&
	expect_contains err "cara.yaml:" && expect_contains err "YAML syntax error" &&
	printf "parallel: 2\000\n" > "$CARA_CONFIG" &&
	expect_exit 1 $CARA config 2>err &&
	expect_contains err "NUL byte" &&
	head -c 1100000 /dev/zero | tr "\\000" "#" > "$CARA_CONFIG" &&
	expect_exit 1 $CARA config 2>err &&
	expect_contains err "larger than 1 MiB" &&
	printf "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n" > "$CARA_CONFIG" &&
	expect_exit 1 $CARA config 2>err &&
	expect_contains err "alias bomb" &&
	printf -- "---\nparallel: 3\n---\n" > "$CARA_CONFIG" &&
	$CARA config >out 2>err &&
	grep -E "^parallel +3 +file" out &&
	: > "$CARA_CONFIG"
'

test_expect_success 'a notify URL that is not http(s) is refused, from any origin' '
	: > "$CARA_CONFIG" &&
	expect_exit 1 $CARA config --notify-url file:///etc/shadow 2>err &&
	expect_contains err "only http:// and https://" &&
	expect_exit 1 env CARA_NOTIFY_URL=gopher://x/ $CARA config 2>err &&
	printf "notifyUrl: ftp://x/\n" > "$CARA_CONFIG" &&
	expect_exit 1 $CARA config 2>err &&
	: > "$CARA_CONFIG" &&
	$CARA config --notify-url HTTPS://hooks.example.com/x >/dev/null
'

test_expect_success 'an --interpolate-allow pattern must be a name or PREFIX*' '
	expect_exit 1 $CARA config --interpolate-allow "APP_*,BAD-NAME" 2>err &&
	expect_contains err "BAD-NAME" &&
	$CARA config --interpolate-allow "APP_*, TAG" >out &&
	grep -E "^interpolate-allow +APP_\*, TAG +flag$" out
'

test_expect_success 'a command refuses the flags it does not take, and its help lists only its own' '
	expect_exit 1 $CARA status --dry-run 2>err &&
	expect_contains err "option '"'"'--dry-run'"'"' is not one of cara status'"'"'s" &&
	expect_exit 1 $CARA version --purge-volumes 2>err &&
	expect_exit 1 $CARA validate --no-prune . 2>err &&
	expect_contains err "not one of cara validate" &&
	expect_exit 1 $CARA status --no-ref 2>err &&
	expect_contains err "unknown option" &&
	$CARA status --help >out &&
	expect_contains out "--state-dir" && ! grep -q -- "--token-file" out &&
	[ "$(wc -l < out)" -lt 20 ] &&
	$CARA sync --help >out && expect_contains out "--token-file"
'

test_expect_success 'help and version' '
	$CARA --help >out && expect_contains out "sync" && expect_contains out "validate" &&
	$CARA sync --help >out && expect_contains out "--dry-run" &&
	$CARA version | grep -E "^cara [0-9]"
'

test_done
