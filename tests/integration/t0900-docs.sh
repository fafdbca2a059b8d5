#!/bin/sh
# The operator-facing files agree with the code: the man pages render
# without warnings and cover every command, flag, variable, file key, exit
# status, phase, reason and manifest field; `cara help --flags CMD` lists
# exactly the flags CMD's --help shows and its parser takes, and the bash
# completion offers them (it asks cara, so it has no list to drift); the
# systemd units verify; the cron line parses; the CI examples are valid YAML.
. "$srcdir/tests/lib.sh"

man1="$srcdir/doc/cara.1"
man5="$srcdir/doc/cara-manifest.5"
ops="$srcdir/doc/operations.md"
compl="$srcdir/scripts/cara.bash-completion"
cara_bin=${CARA##* }   # CARA may be a wrapper command line: valgrind ... cara
case $cara_bin in
/*) cara_abs=$cara_bin ;;
*) cara_abs=$(cd "$(dirname "$cara_bin")" && pwd)/$(basename "$cara_bin") ;;
esac

# The page's text with the roff escapes used in it undone, for grep -F.
man_text() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(dq/"/g' -e 's/\\(aq/'"'"'/g' \
	    -e 's/\\&//g' -e 's/\\e/\\/g' "$1"
}

# The page rendered as plain text on very long lines (no wrapping).
man_render() {
	groff -man -Tascii -rLL=400n -P-cbou "$1" 2>/dev/null
}

# Rows of the option table in src/config.c, one per line:
#   flag env key default
# with NULL for "none" and the build's directories as /etc and /var.
config_rows() {
	{ sed -n '/^static const struct opt opts\[\] = {/,/^};/p' "$srcdir/src/config.c" |
		tr '\n\t' '  '; echo; } | sed 's/{ "/\n{ "/g' |
		sed -n 's/^{ "\([a-z0-9-]*\)", *\(NULL\|"[A-Z0-9_]*"\), *\(NULL\|"[A-Za-z0-9]*"\), *[SBL]([a-z0-9_]*), *\(NULL\|[A-Z]* *"[^"]*"\|"[^"]*"\),.*/\1 \2 \3 \4/p' |
		sed 's/SYSCONFDIR *"/"\/etc/; s/LOCALSTATEDIR *"/"\/var/' | tr -d '"'
}

# The entry of option --$1 in the OPTIONS section of cara.1 (text form).
option_entry() {
	awk -v flag="--$1" '
		done { exit }
		inside && /^\.(TP|SS|SH)/ { done = 1; next }
		inside { print; next }
		prev == ".TP" && ($2 == flag || $2 == flag ",") && $1 ~ /^\.B/ { inside = 1; print }
		{ prev = $0 }
	' "$TEST_DIR/cara.1.txt"
}

# The flags `cara CMD --help` shows, one a line, in its order.
help_flags() {
	$CARA "$1" --help | sed -n 's/^  \(--[a-z][a-z0-9-]*\).*/\1/p'
}

# The flags `cara help --flags CMD` lists, as --help names them: without the
# "=" of a flag that takes a value, and without the --no-FLAG that follows
# its boolean FLAG.
listed_flags() {
	$CARA help --flags "$1" |
		awk 'p != "" && $0 == "--no-" substr(p, 3) { p = ""; next } { p = $0; print }' |
		sed 's/=$//'
}

# A value that flag $1 (without "=") accepts, for parsing it with --help.
flag_value() {
	case $1 in
	--config) echo "$CARA_CONFIG" ;;
	--output|--log-format) echo text ;;
	--notify-url) echo http://localhost/ ;;
	--interpolate-allow) echo HOME ;;
	--node-labels) echo zone=a ;;
	--ingress) echo caddy ;;
	--ingress-internal-address|--ingress-public-address) echo 127.0.0.1 ;;
	--ingress-tls) echo off ;;
	--backend) echo engine ;;
	--swarm-endpoint-mode) echo vip ;;
	*) echo 1 ;;
	esac
}

# Every reason (phase.c's table), event kind and plan cause the C sources record.
reasons_in_src() {
	{
		grep -ohE '\[REASON_[A-Z_]+\] = "[A-Z][A-Za-z]+"' "$srcdir"/src/phase.c
		grep -ohE 'state_event\([^"]*"[A-Z][A-Za-z]+"' "$srcdir"/src/*.c
		grep -ohE 'case CAUSE_[A-Z_]+: return "[A-Z][A-Za-z]+"' "$srcdir"/src/*.c
	} | sed 's/.*"\([A-Za-z]*\)"$/\1/' | sort -u
}

man_text "$man1" > "$TEST_DIR/cara.1.txt"
man_text "$man5" > "$TEST_DIR/cara-manifest.5.txt"
: > "$TEST_DIR/cara.1.rendered"
: > "$TEST_DIR/cara-manifest.5.rendered"

if command -v groff >/dev/null 2>&1; then
	test_expect_success 'cara.1 renders with no groff warning' '
		groff -ww -z -man "$man1" 2>err && ! test -s err &&
		groff -ww -z -Tutf8 -man "$man1" 2>err && ! test -s err
	'
	test_expect_success 'cara-manifest.5 renders with no groff warning' '
		groff -ww -z -man "$man5" 2>err && ! test -s err &&
		groff -ww -z -Tutf8 -man "$man5" 2>err && ! test -s err
	'
	man_render "$man1" > "$TEST_DIR/cara.1.rendered"
	man_render "$man5" > "$TEST_DIR/cara-manifest.5.rendered"
else
	test_skip 'cara.1 renders with no groff warning' 'groff missing'
	test_skip 'cara-manifest.5 renders with no groff warning' 'groff missing'
fi

if command -v man >/dev/null 2>&1; then
	test_expect_success 'man -l shows both pages' '
		MANWIDTH=80 man -l "$man1" >out 2>/dev/null &&
		expect_contains out "EXIT STATUS" && expect_contains out "cara sync" &&
		MANWIDTH=80 man -l "$man5" >out 2>/dev/null &&
		expect_contains out "dependsOn"
	'
else
	test_skip 'man -l shows both pages' 'man missing'
fi

test_expect_success 'the option table is where the test reads it' '
	config_rows >rows && test "$(wc -l <rows)" -ge 36 &&
	grep -qx "state-dir CARA_STATE_DIR stateDir /var/lib/cara" rows &&
	grep -qx "host-key-sha256 CARA_HOST_KEY_SHA256 hostKeySha256 NULL" rows &&
	grep -qx "dry-run CARA_DRY_RUN NULL false" rows &&
	test "$(grep -c "^[a-z]" rows)" -eq "$(grep -c "^	{ \"" "$srcdir/src/config.c")"
'

test_expect_success 'cara.1 documents every option with its variable, file key and default' '
	config_rows >rows &&
	while read -r flag env key def; do
		[ "$flag" = help ] && continue
		option_entry "$flag" >entry
		test -s entry || { echo "cara.1: no entry for --$flag"; exit 1; }
		tr "\n" " " <entry >line
		if [ "$env" != NULL ]; then
			grep -qF "Environment: .BR $env ." line || grep -qF "Environment: .B $env " line ||
				{ echo "--$flag: variable $env not documented"; cat entry; exit 1; }
		fi
		if [ "$key" != NULL ]; then
			grep -qF "File key: .BR $key ." line ||
				{ echo "--$flag: file key $key not documented"; cat entry; exit 1; }
		else
			grep -qF "No file key." line ||
				{ echo "--$flag: should say it has no file key"; cat entry; exit 1; }
		fi
		if [ "$def" != NULL ]; then
			grep -qE "Default: (\.[BI]R? )?$def([ .;,]|\$)" line ||
				{ echo "--$flag: default $def not documented"; cat entry; exit 1; }
		else
			grep -qF "Default:" line ||
				{ echo "--$flag: no default documented"; cat entry; exit 1; }
		fi
	done <rows
'

test_expect_success 'every variable and file key in cara.1 exists in the option table' '
	config_rows >rows &&
	grep -A1 "^File key:\$" cara.1.txt | sed -n "s/^\.BR \([A-Za-z0-9]*\) .*/\1/p" >keys &&
	test -s keys &&
	while read -r k; do
		awk -v k="$k" "\$3 == k { f = 1 } END { exit !f }" rows ||
			{ echo "cara.1: file key $k is not in src/config.c"; exit 1; }
	done <keys &&
	grep -A1 "^Environment:\$" cara.1.txt | sed -n "s/^\.BR\{0,1\} \([A-Z0-9_]*\) .*/\1/p" >envs &&
	test -s envs &&
	while read -r e; do
		awk -v e="$e" "\$2 == e { f = 1 } END { exit !f }" rows ||
			{ echo "cara.1: variable $e is not in src/config.c"; exit 1; }
	done <envs
'

test_expect_success 'every flag cara sync --help prints is in cara.1' '
	$CARA sync --help >help &&
	grep -oE -- "--[a-z][a-z0-9-]*" help | sort -u >flags &&
	test "$(wc -l <flags)" -ge 30 &&
	while read -r f; do
		grep -qF -- "$f" cara.1.txt || { echo "cara.1: no $f"; exit 1; }
	done <flags
'

test_expect_success 'cara.1 names no flag that does not exist' '
	config_rows | sed "s/ .*//; s/^/--/" >known &&
	printf "%s\n" --no-prune --version --flag --no-flag --no- >>known &&
	grep -oE -- "--[a-z][a-z0-9-]*" cara.1.txt | sort -u >used &&
	while read -r f; do
		grep -qxF -- "$f" known || { echo "cara.1 mentions unknown $f"; exit 1; }
	done <used
'

test_expect_success 'every command of cara --help has a section in cara.1' '
	$CARA --help >help &&
	sed -n "/^commands:/,/^\$/p" help | awk "NF > 1 { print \$1 }" >cmds &&
	test "$(wc -l <cmds)" -ge 9 &&
	while read -r c; do
		grep -qE "^\.SS \"cara $c\"" cara.1.txt || { echo "cara.1: no section for $c"; exit 1; }
	done <cmds
'

test_expect_success 'every command of the table in src/cmd.c is in cara --help' '
	sed -n "s/^[[:space:]]*&cmd_\([a-z]*\)_entry,.*/\1/p" "$srcdir/src/cmd.c" >table &&
	test -s table &&
	$CARA --help >help &&
	while read -r c; do
		grep -qE "^  $c " help || { echo "cara --help: no $c"; exit 1; }
	done <table
'

if command -v groff >/dev/null 2>&1; then
	test_expect_success 'each command usage of cara CMD --help is in cara.1' '
		$CARA --help | sed -n "/^commands:/,/^\$/p" | awk "NF > 1 { print \$1 }" >cmds &&
		while read -r c; do
			usage=$($CARA "$c" --help | sed -n "s/^usage: //p") &&
			test -n "$usage" &&
			grep -qF -- "$usage" "$TEST_DIR/cara.1.rendered" ||
				{ echo "cara.1: no \"$usage\""; exit 1; }
		done <cmds
	'
else
	test_skip 'each command usage of cara CMD --help is in cara.1' 'groff missing'
fi

test_expect_success 'every reason and phase the code records is in cara.1' '
	reasons_in_src >reasons &&
	grep -qx ContainersRunning reasons && grep -qx ImagePullError reasons &&
	grep -qx RemovedFromSource reasons &&
	for r in $(cat reasons) ContainerExited ContainerCrashed ContainerMissing \
		 HealthcheckFailed DependencyFailed ReconcileError Expired ResourcesRemoved \
		 Pending Running Failed Terminating Terminated; do
		grep -qw -- "$r" cara.1.txt || { echo "cara.1: no $r"; exit 1; }
	done
'

test_expect_success 'every reason the code records is in the troubleshooting table' '
	reasons_in_src >reasons &&
	for r in $(cat reasons); do
		case $r in
		Missing|Stopped|JobFailed|SpecChanged|ServiceRemoved|Duplicate|Paused|NetworkDisconnected|NetworkUnused|Orphaned|DependencyRestarted|TypeChanged|InvalidManifest)
			grep -qw -- "$r" "$ops" ;;
		*)	grep -q -- "^| \`$r\`" "$ops" ;;
		esac || { echo "operations.md: no $r"; exit 1; }
	done
'

test_expect_success 'the exit statuses of src/outcome.h are documented' '
	sed -n "s/^[[:space:]]*EXIT_[A-Z]* = \([0-9]\),.*/\1/p" "$srcdir/src/outcome.h" >codes &&
	test "$(tr -d "\n" <codes)" = 01234 &&
	sed -n "/^\.SH EXIT STATUS/,/^\.SH /p" cara.1.txt >section &&
	for c in $(cat codes); do
		grep -qx "\.B $c" section || { echo "EXIT STATUS: no $c"; exit 1; }
	done &&
	expect_contains section "Converged" && expect_contains section "Changes pending" &&
	expect_contains section "another pass holds the lock" &&
	expect_contains section "Partial"
'

test_expect_success 'cara.1 has the sections an operator looks for' '
	for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "CONFIGURATION FILE" \
		 "EXIT STATUS" ENVIRONMENT FILES "DOCKER OBJECTS" "PHASES AND REASONS" \
		 METRICS NOTIFICATIONS EXAMPLES "SEE ALSO"; do
		grep -qx "\.SH $s\|\.SH \"$s\"" cara.1.txt || { echo "cara.1: no $s"; exit 1; }
	done &&
	for w in state.db repo/ lock cara.project cara.service cara.spec-hash \
		 cara.volume.type /etc/cara/cara.yaml /var/lib/cara; do
		grep -qF -- "$w" cara.1.txt || { echo "cara.1: no $w"; exit 1; }
	done
'

test_expect_success 'every metric src/report.c writes is in cara.1 and operations.md' '
	grep -ohE "cara_[a-z_]+" "$srcdir/src/report.c" | sort -u >metrics &&
	test "$(wc -l <metrics)" -ge 8 &&
	while read -r m; do
		grep -qF "$m" cara.1.txt && grep -qF "$m" "$ops" ||
			{ echo "no $m"; exit 1; }
	done <metrics
'

test_expect_success 'every manifest field is in cara-manifest.5' '
	for f in apiVersion kind caravanserai/v1 Project metadata.name metadata.labels \
		 metadata.annotations spec.expireAt spec.services spec.volumes spec.ingress \
		 image command entrypoint workingDir user env value \
		 valueFrom.secretKeyRef.name valueFrom.secretKeyRef.key volumeMounts \
		 mountPath readOnly ports hostIP hostPort containerPort protocol \
		 healthcheck test interval timeout startPeriod startInterval retries dependsOn service \
		 condition Started Healthy Completed restart on-failure unless-stopped \
		 always stopGracePeriod labels resources.memory resources.cpus type \
		 Ephemeral Managed HostPath hostPath host target.service target.port \
		 access.scope Internal Public "\${VAR}" "\${VAR:-default}" \
		 "\${VAR:?message}" "\$\$" "FILE:LINE:COL" \
		 "^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?\$" RFC\ 3339 1m30s \
		 "COMPOSE FILES" compose.yaml compose.yml docker-compose.yaml \
		 docker-compose.yml .env env_file environment depends_on \
		 service_started service_healthy service_completed_successfully \
		 start_period disable working_dir stop_grace_period mem_limit \
		 deploy.resources.limits.memory "\${VAR:+alt}" "not supported by cara" \
		 capAdd capDrop privileged readOnly tmpfs hostname init stopSignal \
		 extraHosts dns shmSize sysctls ulimits securityOpt expose aliases \
		 restartRetries cap_add cap_drop read_only stop_signal extra_hosts \
		 shm_size security_opt profiles "required: false" start_interval \
		 on-failure:N "needs --allow-privileged on this host" tty stdinOpen \
		 domainname pidsLimit oomScoreAdj groupAdd stdin_open pids_limit \
		 oom_score_adj group_add links external_links scale platform \
		 dnsSearch dnsOptions dns_search dns_opt; do
		grep -qF -- "$f" cara-manifest.5.txt || grep -qF -- "$f" cara-manifest.5.rendered ||
			{ echo "cara-manifest.5: no $f"; exit 1; }
	done
'

if command -v python3 >/dev/null 2>&1 && python3 -c "import yaml" 2>/dev/null; then
	test_expect_success 'the example of cara-manifest.5 is valid YAML' '
		awk "/^\.SH EXAMPLE/ { f = 1 } f && /^\.EE/ { exit } f && p { print } f && /^\.EX/ { p = 1 }" \
			cara-manifest.5.txt >example.yaml &&
		python3 -c "import sys, yaml; d = yaml.safe_load(open(\"example.yaml\")); \
assert d[\"kind\"] == \"Project\" and len(d[\"spec\"][\"services\"]) == 3, d"
	'
	test_expect_success 'the CI examples are valid YAML' '
		for f in "$srcdir"/doc/ci/*.yml; do
			python3 -c "import sys, yaml; yaml.safe_load(open(sys.argv[1]))" "$f" ||
				{ echo "bad YAML: $f"; exit 1; }
		done
	'
else
	test_skip 'the example of cara-manifest.5 is valid YAML' 'python3-yaml missing'
	test_skip 'the CI examples are valid YAML' 'python3-yaml missing'
fi

test_expect_success 'the example of cara-manifest.5 validates' '
	mkdir -p ex &&
	awk "/^\.SH EXAMPLE/ { f = 1 } f && /^\.EE/ { exit } f && p { print } f && /^\.EX/ { p = 1 }" \
		cara-manifest.5.txt >ex/wordpress.yaml &&
	mkdir -p "$CARA_SECRETS_DIR/wordpress" &&
	echo example-root >"$CARA_SECRETS_DIR/wordpress/root" &&
	CARA_HOSTPATH_ROOTS=/srv/data $CARA validate ex >out 2>err &&
	expect_not_contains err "warning:"
'

if docker version >/dev/null 2>&1; then
	# (without its expireAt, so that the date it names may pass)
	test_expect_success 'the example of cara-manifest.5 plans its three containers' '
		mkdir -p ex2 && sed "/expireAt:/d" ex/wordpress.yaml >ex2/wordpress.yaml &&
		CARA_HOSTPATH_ROOTS=/srv/data $CARA diff --state-dir "$TEST_DIR/state-ex" \
			--output json ex2 >plan.json 2>err;
		test $? -eq 2 &&
		for c in wordpress-db wordpress-create-db wordpress-app; do
			grep -q "\"object\": \"$c\"" plan.json || { echo "no $c"; exit 1; }
		done &&
		! grep -q example-root plan.json err
	'
else
	test_skip 'the example of cara-manifest.5 plans its three containers' 'no Docker Engine'
fi

test_expect_success 'the CI examples run validate, diff as JSON and sync' '
	for f in "$srcdir"/doc/ci/github-actions.yml "$srcdir"/doc/ci/gitlab-ci.yml; do
		grep -q "cara validate" "$f" && grep -q "cara diff.*--output json" "$f" &&
		grep -q "cara sync" "$f" || { echo "incomplete: $f"; exit 1; }
	done
'

test_expect_success 'cara help --flags lists the commands of cara --help' '
	$CARA help --flags >cmds &&
	$CARA --help | sed -n "/^commands:/,/^\$/p" | awk "NF > 1 { print \$1 }" >help-cmds &&
	test "$(wc -l <cmds)" -ge 9 &&
	diff -u help-cmds cmds
'

test_expect_success 'cara help --flags CMD lists exactly the flags of cara CMD --help' '
	$CARA help --flags >cmds &&
	while read -r c; do
		help_flags "$c" >want &&
		test "$(wc -l <want)" -ge 5 &&
		listed_flags "$c" >got &&
		diff -u want got || { echo "cara help --flags $c differs from cara $c --help"; exit 1; }
	done <cmds &&
	$CARA help --flags sync >sync &&
	grep -qx -- --state-dir= sync && grep -qx -- --dry-run sync &&
	grep -qx -- --no-prune sync && ! grep -qx -- --no-dry-run sync &&
	listed_flags status >status && test "$(tail -n 1 status)" = --help &&
	config_rows | sed "s/ .*//; s/^/--/" >rows &&
	listed_flags config >got &&
	diff -u rows got || { echo "cara config does not take every row of the table"; exit 1; }
'

test_expect_success 'cara help --flags: an unknown command is an error, and it is not in cara --help' '
	expect_exit 1 $CARA help --flags nosuch >out 2>err &&
	! test -s out &&
	expect_contains err "unknown command '"'"'nosuch'"'"'" &&
	expect_exit 1 $CARA help --flags sync status >out 2>err &&
	expect_contains err "usage: cara help --flags [COMMAND]" &&
	$CARA --help >help && expect_not_contains help "--flags"
'

# (CARA_ALLOWED_SIGNERS: --verify-signatures is refused without keys)
test_expect_success 'each command parses every flag cara help --flags lists for it' '
	export CARA_ALLOWED_SIGNERS=/dev/null &&
	$CARA help --flags >cmds && n=0 &&
	while read -r c; do
		$CARA help --flags "$c" >flags &&
		while read -r f; do
			case $f in
			*=)	f=${f%=} &&
				$CARA "$c" "$f" "$(flag_value "$f")" --help >/dev/null 2>err &&
				$CARA "$c" "$f=$(flag_value "$f")" --help >/dev/null 2>err &&
				expect_exit 1 $CARA "$c" --help "$f" >/dev/null 2>err &&
				expect_contains err "option '"'"'$f'"'"' needs a value" ;;
			*)	$CARA "$c" --help "$f" >/dev/null 2>err ;;
			esac || { echo "cara $c $f:"; cat err; exit 1; }
			n=$((n + 1))
		done <flags
	done <cmds &&
	test "$n" -ge 150
'

test_expect_success 'each command refuses a flag cara help --flags does not list for it' '
	$CARA help --flags >cmds &&
	while read -r c; do $CARA help --flags "$c"; done <cmds | sort -u >all &&
	n=0 &&
	while read -r c; do
		$CARA help --flags "$c" | sort >flags &&
		f=$(comm -23 all flags | head -n 1) &&
		[ -n "$f" ] || continue
		expect_exit 1 $CARA "$c" "${f%=}" --help >out 2>err &&
		expect_contains err "is not one of cara $c" &&
		n=$((n + 1))
	done <cmds &&
	test "$n" -ge 5 &&
	expect_exit 1 $CARA status --dry-run 2>err &&
	expect_contains err "option '"'"'--dry-run'"'"' is not one of cara status" &&
	expect_exit 1 $CARA status --no-prune 2>err &&
	expect_exit 1 $CARA validate --state-dir=x 2>err
'

if command -v bash >/dev/null 2>&1; then
	# offered WORD...: what the completion offers for the last word, with
	# the built cara first in PATH
	cara_dir=$(dirname "$cara_abs")
	offered() { PATH="$cara_dir:$PATH" bash "$TEST_DIR/complete.sh" "$compl" "$@"; }
	cat >"$TEST_DIR/complete.sh" <<-\EOF
	. "$1"; shift
	COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	_cara
	printf "%s\n" "${COMPREPLY[@]}"
	EOF
	test_expect_success 'the bash completion parses' '
		bash -n "$compl" &&
		bash -c ". \"\$1\"; complete -p cara" x "$compl" | grep -q "_cara"
	'
	test_expect_success 'completion: cara sy<TAB> gives sync' '
		offered cara sy >out &&
		test "$(cat out)" = sync
	'
	test_expect_success 'completion: every command of cara --help' '
		$CARA --help | sed -n "/^commands:/,/^\$/p" | awk "NF > 1 { print \$1 }" >cmds &&
		offered cara "" >out &&
		while read -r c; do
			grep -qx "$c" out || { echo "not offered: $c"; exit 1; }
		done <cmds
	'
	test_expect_success 'completion: state subcommands, --output and --log-format values' '
		offered cara state "" >out &&
		test "$(tr "\n" " " <out)" = "backup restore check identity " &&
		offered cara diff --output "" >out &&
		test "$(tr "\n" " " <out)" = "text json " &&
		offered cara sync --log-format=j >out &&
		test "$(cat out)" = --log-format=json &&
		offered cara sync --wait >out &&
		test "$(cat out)" = --wait-lock
	'
	test_expect_success 'completion: files for --config, directories for validate' '
		mkdir -p dir-a && : >file-b &&
		offered cara sync --config fil >out &&
		grep -qx file-b out &&
		offered cara validate dir >out &&
		grep -qx dir-a out && ! grep -q file-b out
	'
	test_expect_success 'completion: status takes --state-dir, not --dry-run; sync both' '
		offered cara status -- >out &&
		grep -qx -- --state-dir out && ! grep -q -- --dry-run out &&
		! grep -q = out &&
		offered cara sync -- >out &&
		grep -qx -- --dry-run out && grep -qx -- --state-dir out &&
		grep -qx -- --no-prune out
	'
	test_expect_success 'completion: each command is offered the flags cara help --flags lists' '
		$CARA help --flags >cmds &&
		while read -r c; do
			$CARA help --flags "$c" | sed "s/=\$//" | sort >want &&
			offered cara "$c" -- | sort >got &&
			diff -u want got || { echo "completion of cara $c --"; exit 1; }
		done <cmds
	'
	test_expect_success 'completion: a value after a flag that takes one, an argument after one that does not' '
		mkdir -p sdir-c && : >sfile-d &&
		offered cara status --state-dir "" >out &&
		grep -qx sdir-c out && ! grep -q sfile-d out &&
		offered cara status --state-dir=sdi >out &&
		test "$(cat out)" = --state-dir=sdir-c &&
		offered cara state --wait-lock 5 "" >out &&
		test "$(tr "\n" " " <out)" = "backup restore check identity " &&
		offered cara state --verbose "" >out &&
		test "$(tr "\n" " " <out)" = "backup restore check identity " &&
		offered cara help st >out &&
		test "$(tr "\n" " " <out)" = "status state "
	'
	test_expect_success 'completion: a cara that fails or is missing gives nothing, quietly' '
		printf "#!/bin/sh\necho --bogus\necho sync\nexit 1\n" >bad-cara && chmod +x bad-cara &&
		offered "$TEST_DIR/bad-cara" sync -- >out 2>err &&
		! grep -q -- --bogus out && ! test -s err &&
		offered "$TEST_DIR/bad-cara" "" >out 2>err &&
		! grep -q sync out && ! test -s err &&
		offered "$TEST_DIR/no-such-cara" status -- >out 2>err &&
		! grep -q -- --state-dir out && ! test -s err &&
		offered "$TEST_DIR/no-such-cara" status --state-dir "" >out 2>err &&
		! test -s err
	'
	# Two completions in one shell, with a cara that counts its runs.
	cat >"$TEST_DIR/complete-twice.sh" <<-\EOF
	. "$1"; shift
	COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	_cara; _cara
	COMP_WORDS=("$1" status --state-dir ""); COMP_CWORD=3
	_cara
	printf "%s\n" "${COMPREPLY[@]}"
	EOF
	test_expect_success 'completion: cara is asked once per command and session' '
		printf "#!/bin/sh\necho run >>\"%s/runs\"\nexec %s \"\$@\"\n" \
			"$TEST_DIR" "$cara_abs" >counting-cara && chmod +x counting-cara &&
		mkdir -p dir-e && : >runs &&
		bash complete-twice.sh "$compl" "$TEST_DIR/counting-cara" status -- >out &&
		grep -qx dir-e out &&
		test "$(wc -l <runs)" -eq 1
	'
else
	test_skip 'the bash completion' 'bash missing'
fi

test_expect_success 'the service unit: oneshot cara sync, hardened, 4 is a failure' '
	u="$srcdir/scripts/cara-sync.service" &&
	grep -qx "Type=oneshot" "$u" &&
	grep -qx "ExecStart=/usr/local/bin/cara sync --wait-lock 0" "$u" &&
	grep -qx "EnvironmentFile=-/etc/cara/env" "$u" &&
	grep -qx "SuccessExitStatus=3" "$u" &&
	for h in NoNewPrivileges=yes ProtectSystem=strict ReadWritePaths=/var/lib/cara \
		 ProtectHome=read-only PrivateTmp=yes ProtectKernelTunables=yes \
		 ProtectKernelModules=yes RestrictSUIDSGID=yes LockPersonality=yes; do
		grep -qx "$h" "$u" || { echo "missing $h"; exit 1; }
	done &&
	! grep -qE "^(PrivateNetwork|PrivateUsers|DynamicUser)=" "$u" &&
	grep -E "^TimeoutStartSec=" "$u" &&
	t="$srcdir/scripts/cara-sync.timer" &&
	for h in OnBootSec=1min OnUnitActiveSec=2min RandomizedDelaySec=30s \
		 Persistent=true WantedBy=timers.target; do
		grep -qx "$h" "$t" || { echo "timer: missing $h"; exit 1; }
	done
'

if command -v systemd-analyze >/dev/null 2>&1; then
	test_expect_success 'systemd-analyze verify accepts the units' '
		mkdir -p units &&
		sed "s#^ExecStart=/usr/local/bin/cara #ExecStart=$cara_abs #" \
			"$srcdir/scripts/cara-sync.service" >units/cara-sync.service &&
		cp "$srcdir/scripts/cara-sync.timer" units/ &&
		grep -q "^ExecStart=$cara_abs sync" units/cara-sync.service &&
		systemd-analyze verify --man=no units/cara-sync.service \
			units/cara-sync.timer >out 2>&1 || { cat out; exit 1; } &&
		! grep -q . out || { cat out; exit 1; }
	'
else
	test_skip 'systemd-analyze verify accepts the units' 'systemd-analyze missing'
fi

test_expect_success 'the cron line: five time fields, a user, cara sync' '
	grep -vE "^[[:space:]]*(#|\$)" "$srcdir/scripts/cara.cron" |
		grep -vE "^[A-Z_]+=" >lines &&
	test "$(wc -l <lines)" -eq 1 &&
	read -r m h dom mon dow user cmd <lines &&
	for f in "$m" "$h" "$dom" "$mon" "$dow"; do
		echo "$f" | grep -qE "^(\*|[0-9]+(-[0-9]+)?)(/[0-9]+)?(,[0-9]+(-[0-9]+)?(/[0-9]+)?)*\$" ||
			{ echo "bad time field: $f"; exit 1; }
	done &&
	test "$m" = "*/2" &&
	echo "$user" | grep -qE "^[a-z_][a-z0-9_-]*\$" &&
	case $cmd in
	*"cara sync --wait-lock 0"*"| logger -t cara"*) ;;
	*) echo "bad command: $cmd"; exit 1 ;;
	esac &&
	! grep -q flock lines
'

test_done
