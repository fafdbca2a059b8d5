#!/bin/sh
# cara validate on the manifest corpus: every file of tests/manifests/invalid
# alone in a directory exits 1 and reports each of its "# expect:" lines as
# "FILE:LINE:COL: field.path: message"; every file of tests/manifests/valid
# exits 0 with no error (and reports its expected warnings).  Then what
# spans files: duplicate project names, host ports bound twice, symbolic
# links that leave the tree, JSON output, exit codes and the summary line.
# No Docker needed.
. "$srcdir/tests/lib.sh"

corpus="$srcdir/tests/manifests"
# the corpus relies on these being unset; no HostPath root is configured
unset CORPUS_SURELY_UNSET CORPUS_TOKEN CORPUS_TAG \
	CORPUS_LOG_LEVEL CORPUS_PORT CARA_HOSTPATH_ROOTS \
	CARA_REPO CARA_PATH CARA_OUTPUT

# check_file FILE WANT_EXIT: validate FILE alone, check the exit status and
# that stderr holds every "# expect:" line of FILE, prefixed by its name.
check_file() {
	f=$1 want=$2 name=$(basename "$1")
	d=$(mktemp -d "$TEST_DIR/case.XXXXXX")
	cp "$f" "$d/"
	expect_exit "$want" sh -c 'cd "$1" && shift && exec "$@" validate .' sh "$d" $CARA \
		>"$d/out" 2>"$d/err" || { sed 's/^/| /' "$d/err"; return 1; }
	n=0
	grep -a '^# expect: ' "$f" | sed 's/^# expect: //' >"$d/expect"
	while IFS= read -r line; do
		n=$((n + 1))
		expect_contains "$d/err" "$name:$line" || return 1
	done <"$d/expect"
	if [ "$want" -eq 1 ] && [ "$n" -eq 0 ]; then
		echo "$name: no '# expect:' line" >&2
		return 1
	fi
	if [ "$want" -eq 0 ]; then
		expect_contains "$d/err" ": 0 errors," || return 1
	fi
	# every finding printed was expected: nothing extra slips in
	grep -a "^$name:" "$d/err" | sed "s|^$name:||" >"$d/got"
	while IFS= read -r line; do
		found=0
		while IFS= read -r e; do
			case "$line" in "$e"*) found=1; break ;; esac
		done <"$d/expect"
		[ "$found" -eq 1 ] || { echo "unexpected finding: $name:$line" >&2; return 1; }
	done <"$d/got"
}

ninvalid=0
for f in "$corpus"/invalid/*.yaml; do
	ninvalid=$((ninvalid + 1))
	test_expect_success "invalid/$(basename "$f"): exit 1, every expected finding" "
		check_file '$f' 1
	"
done
for f in "$corpus"/valid/*.yaml; do
	test_expect_success "valid/$(basename "$f"): exit 0, no error" "
		check_file '$f' 0
	"
done

test_expect_success "the corpus has at least 40 invalid manifests ($ninvalid)" '
	[ '"$ninvalid"' -ge 40 ]
'

test_expect_success 'the whole valid corpus validates together' '
	expect_exit 0 $CARA validate "$corpus/valid" 2>err &&
	expect_contains err "files, " && expect_contains err ": 0 errors,"
'

write() {   # write FILE NAME [PORT]: a one-service project
	mkdir -p "$(dirname "$1")"
	cat >"$1" <<EOT
apiVersion: caravanserai/v1
kind: Project
metadata:
  name: $2
spec:
  services:
    - name: web
      image: nginx:1.25
      ports: [{hostPort: ${3:-18080}, containerPort: 80}]
EOT
}

test_expect_success 'a project name used in two files: the second is an error naming the first' '
	write dup/a.yaml shop 18001 && write dup/b/b.yaml shop 18002 &&
	expect_exit 1 $CARA validate dup 2>err &&
	expect_contains err "b/b.yaml:1:1: metadata.name: project '\''shop'\'' is already defined at a.yaml:1:1" &&
	expect_contains err "2 files, 2 projects: 1 error, 0 warnings"
'

test_expect_success 'a host port bound by two projects in two files' '
	write ports/one.yaml one 18080 && write ports/two.yaml two 18080 &&
	expect_exit 1 $CARA validate ports 2>err &&
	expect_contains err "two.yaml:9:15: spec.services[0].ports[0].hostPort: host port 0.0.0.0:18080/tcp is already bound by project '\''one'\'' service '\''web'\'' (one.yaml:9:15)"
'

test_expect_success 'a 50 MB file is refused at once, the other files still checked' '
	mkdir -p huge && write huge/ok.yaml ok 18090 &&
	{ echo "# a huge manifest"; yes "  - {name: x, image: busybox}" | head -c 52428800; } > huge/big.yaml &&
	start=$(date +%s) &&
	expect_exit 1 $CARA validate huge 2>err &&
	[ $(( $(date +%s) - start )) -lt 5 ] &&
	expect_contains err "big.yaml:1:1: file is larger than 4194304 bytes: refused" &&
	expect_contains err "2 files, 1 project: 1 error" &&
	rm -rf huge
'

test_expect_success 'a symbolic link that leaves the tree is refused' '
	write outside.yaml outside 18100 && write tree/inside.yaml inside 18101 &&
	ln -s "$TEST_DIR/outside.yaml" tree/escape.yaml &&
	expect_exit 1 $CARA validate tree 2>err &&
	expect_contains err "escape.yaml:1:1: symbolic link leaves the manifest directory" &&
	expect_contains err "2 files, 1 project: 1 error, 0 warnings"
'

test_expect_success 'a symbolic link inside the tree is followed' '
	mkdir -p linked && write linked/real.yaml real 18200 &&
	mkdir -p linked/sub && ln -s ../real.yaml linked/sub/alias.yml &&
	expect_exit 1 $CARA validate linked 2>err &&
	expect_contains err "sub/alias.yml:1:1: metadata.name: project '\''real'\'' is already defined at real.yaml:1:1"
'

test_expect_success 'an unknown field is a warning: exit 0' '
	mkdir -p warn && cat >warn/w.yaml <<-EOT &&
	apiVersion: caravanserai/v1
	kind: Project
	metadata: {name: warn}
	spec:
	  services:
	    - {name: web, image: nginx, imagee: httpd}
	EOT
	expect_exit 0 $CARA validate warn 2>err &&
	expect_contains err "w.yaml:6:33: warning: spec.services[0].imagee: unknown field '\''imagee'\'' (ignored); did you mean '\''image'\''?" &&
	expect_contains err "1 file, 1 project: 0 errors, 1 warning"
'

test_expect_success '--output json is a JSON array of the findings on stdout' '
	expect_exit 1 $CARA validate --output json "$corpus/invalid" >out.json 2>err &&
	python3 -m json.tool out.json >/dev/null &&
	python3 -c "
import json
d = json.load(open(\"out.json\"))
assert isinstance(d, list) and len(d) >= 40, len(d)
keys = {\"severity\", \"file\", \"line\", \"column\", \"field\", \"message\"}
assert all(set(x) == keys for x in d)
x = [x for x in d if x[\"file\"] == \"missing-service-image.yaml\"][0]
assert (x[\"severity\"], x[\"line\"], x[\"column\"], x[\"field\"], x[\"message\"]) == \
	(\"error\", 7, 7, \"spec.services[0].image\", \"required\"), x
" &&
	expect_contains err " errors, " &&
	expect_not_contains err "missing-service-image.yaml:7:7"
'

test_expect_success '--output json with no finding is []' '
	expect_exit 0 $CARA validate --output json "$corpus/valid/caravanserai-nginx.yaml" >out.json &&
	[ "$(python3 -c "import json; print(json.load(open(\"out.json\")))")" = "[]" ]
'

test_expect_success 'one file can be validated by its path' '
	expect_exit 1 $CARA validate "$corpus/invalid/depends-cycle.yaml" 2>err &&
	expect_contains err "depends-cycle.yaml:12:19: spec.services[1].dependsOn[0].service: dependency cycle: a -> b -> a"
'

test_expect_success 'HostPath volumes under --hostpath-roots are accepted' '
	mkdir -p hp && cat >hp/h.yaml <<-EOT &&
	apiVersion: caravanserai/v1
	kind: Project
	metadata: {name: hp}
	spec:
	  services: [{name: web, image: nginx, volumeMounts: [{name: logs, mountPath: /logs}]}]
	  volumes: [{name: logs, type: HostPath, hostPath: /srv/cara/logs}]
	EOT
	expect_exit 1 $CARA validate hp 2>err &&
	expect_contains err "set --hostpath-roots" &&
	expect_exit 0 $CARA validate --hostpath-roots /srv/cara hp 2>err &&
	expect_exit 0 env CARA_HOSTPATH_ROOTS=/opt:/srv/cara $CARA validate hp &&
	expect_exit 1 $CARA validate --hostpath-roots /srv/other hp 2>err &&
	expect_contains err "outside the allowed roots (/srv/other)"
'

test_expect_success 'variables come from the environment' '
	expect_exit 1 $CARA validate "$corpus/invalid/env-unset-variable.yaml" 2>/dev/null &&
	expect_exit 0 env CORPUS_SURELY_UNSET=api.example.com \
		$CARA validate "$corpus/invalid/env-unset-variable.yaml"
'

test_expect_success 'a manifest cannot read the git token, cara settings or what the allowlist leaves out' '
	mkdir -p interp &&
	cat > interp/p.yaml <<-\EOT &&
	apiVersion: caravanserai/v1
	kind: Project
	metadata: {name: interp}
	spec:
	  services:
	    - name: app
	      image: "app:${APP_TAG}"
	      env:
	        - {name: T, value: "${DEPLOY_TOKEN:-none}"}
	        - {name: N, value: "${CARA_NOTIFY_URL}"}
	EOT
	expect_exit 1 env APP_TAG=1 DEPLOY_TOKEN=tok-VERYSECRET \
		CARA_NOTIFY_URL=https://hooks.example/NOTIFYSECRET CARA_TOKEN_ENV=DEPLOY_TOKEN \
		$CARA validate interp >out 2>err &&
	expect_contains err "p.yaml:10:" &&
	expect_contains err "variable '"'"'DEPLOY_TOKEN'"'"' holds cara'"'"'s git token" &&
	expect_contains err "variable '"'"'CARA_NOTIFY_URL'"'"' belongs to cara" &&
	! grep -q SECRET out err &&
	expect_exit 1 env APP_TAG=1 DEPLOY_TOKEN=tok-VERYSECRET CARA_TOKEN_ENV=DEPLOY_TOKEN \
		$CARA validate --output json interp >out 2>err &&
	! grep -q SECRET out err &&
	sed -i "/value:/d; /env:/d" interp/p.yaml &&
	APP_TAG=1 $CARA validate interp &&
	expect_exit 1 env APP_TAG=1 $CARA validate --interpolate-allow "TAG,PORT" interp 2>err &&
	expect_contains err "variable '"'"'APP_TAG'"'"' is not in --interpolate-allow" &&
	APP_TAG=1 CARA_INTERPOLATE_ALLOW="APP_*" $CARA validate interp
'

test_expect_success 'outputs are contracts: JSON on failure, JSON log lines, escaped names' '
	expect_exit 1 $CARA validate --output json "$TEST_DIR/absent" >out 2>err &&
	python3 -c "import json; d=json.load(open(\"out\")); assert d[\"error\"][\"exit\"] == 1 and \"absent\" in d[\"error\"][\"message\"]" &&
	expect_exit 1 $CARA validate --output json --parallel 0 . >out 2>err &&
	python3 -c "import json; json.load(open(\"out\"))[\"error\"]" &&
	mkdir -p esc &&
	bad=$(printf "esc/a\rb\033[31m\377.yaml") &&
	printf "apiVersion: caravanserai/v1\nkind: Project\nmetadata: {name: Bad}\nspec: {services: [{name: a, image: x}]}\n" > "$bad" &&
	expect_exit 1 $CARA validate esc >out 2>err &&
	expect_contains err "a\\x0db\\x1b[31m\\xff.yaml:3:" &&
	! grep -q "$(printf "\r")" err &&
	expect_exit 1 $CARA validate --output json esc >out 2>err &&
	python3 -c "import json; d=json.load(open(\"out\")); assert d[0][\"file\"].startswith(\"a\\rb\\x1b\")" &&
	expect_exit 1 $CARA validate --log-format json esc >out 2>err &&
	python3 -c "
import json
lines = open(\"err\", encoding=\"utf-8\").read().splitlines()
assert len(lines) >= 2
for l in lines: json.loads(l)
assert json.loads(lines[0])[\"line\"] == 3
"
'

test_expect_success 'a directory over the file-count cap: an error naming the first file left out' '
	python3 -c "
import os
os.makedirs(\"many\", exist_ok=True)
for i in range(10001):
    open(\"many/f%05d.yaml\" % i, \"w\").write(\"# nothing\\n\")
" &&
	expect_exit 1 $CARA validate many >out 2>err &&
	expect_contains err "f10000.yaml:1:1: more than 10000 manifest files" &&
	rm -rf many
'

test_expect_success 'an empty directory is valid; a missing one is an error' '
	mkdir -p empty &&
	expect_exit 0 $CARA validate empty 2>err &&
	expect_contains err "0 files, 0 projects: 0 errors, 0 warnings" &&
	expect_exit 1 $CARA validate missing 2>err &&
	expect_contains err "missing"
'

test_expect_success 'more than one directory is a usage error' '
	expect_exit 1 $CARA validate empty empty 2>err
'

test_expect_success 'validate --repo reads a git repository at a ref' '
	command -v git >/dev/null || exit 0
	git init -q -b main repo &&
	write repo/stacks/a.yaml repo-a 18300 &&
	git -C repo add -A &&
	git -C repo -c user.name=t -c user.email=t@localhost commit -qm one &&
	expect_exit 0 $CARA validate --repo "file://$TEST_DIR/repo" --path stacks 2>err &&
	expect_contains err "1 file, 1 project: 0 errors" &&
	git -C repo checkout -q -b broken &&
	sed -i "s/name: repo-a/name: Repo_A/" repo/stacks/a.yaml &&
	git -C repo -c user.name=t -c user.email=t@localhost commit -qam broken &&
	expect_exit 1 $CARA validate --repo "file://$TEST_DIR/repo" --ref broken --path stacks 2>err &&
	expect_contains err "a.yaml:4:9: metadata.name: invalid project name"
'

test_done
