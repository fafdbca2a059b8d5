# tests/lib-images.sh - images of real software for the tests, made here from
# Debian's packages (no registry): the packages and what they depend on are
# fetched with apt-get download, unpacked with dpkg-deb -x into one root,
# busybox fills in a shell, and docker import makes the image.  Sourced after
# tests/lib.sh.
#
#   ensure_postgres_image   cara-local/postgres:15 (sets $PG_IMAGE)
#   ensure_redis_image      cara-local/redis:7 (sets $REDIS_IMAGE)
#
# Each image carries the list of package versions it was made from as a
# label: the image is made again only when Debian's versions change.  The
# first time takes about 10 s and 180 MB; after that, one apt-cache call.
# Returns 1, with the reason in $IMAGES_WHY, where apt cannot fetch.

IMAGES_WHY=
PG_IMAGE=cara-local/postgres:15
REDIS_IMAGE=cara-local/redis:7

# Packages a running server does not need: locales, the JIT, perl and the
# Debian maintainer tooling (the wrappers of postgresql-common are perl;
# the images run the server binaries directly).
_images_skip='^(locales-all|locales|libc-l10n|libllvm[0-9]+|libz3-4|perl|perl-base|perl-modules-[0-9.]+|libperl[0-9.]+|libjson-perl|cdebconf|debconf|dpkg|install-info|adduser|ucf|ssl-cert)$'

# _image_pkgs PKG...: the packages to unpack, one per line, with versions
_image_pkgs() {
	# shellcheck disable=SC2046
	apt-cache policy $(apt-cache depends --recurse --no-recommends --no-suggests \
		--no-conflicts --no-breaks --no-replaces --no-enhances --no-pre-depends "$@" 2>/dev/null |
		grep '^[a-z0-9]' | sort -u | grep -Ev "$_images_skip") 2>/dev/null |
		awk '/^[^ ]/ { sub(":$", ""); p = $1 } /Candidate:/ { print p "=" $2 }'
}

# _image_build IMAGE SETUP PKG...: SETUP is a shell function run with the
# unpacked root as $1 before the import; it prints the import's -c options.
_image_build() {
	image=$1 setup=$2; shift 2
	pkgs=$(_image_pkgs "$@")
	[ -n "$pkgs" ] || { IMAGES_WHY="apt-cache knows no $*"; return 1; }
	sum=$(printf '%s\n' "$pkgs" | sha256sum | cut -c1-16)
	have=$(docker image inspect -f '{{index .Config.Labels "cara.test.packages"}}' "$image" 2>/dev/null)
	[ "$have" = "$sum" ] && return 0
	work=$(mktemp -d /tmp/cara-image.XXXXXX)
	mkdir -p "$work/debs" "$work/root"
	# shellcheck disable=SC2046
	if ! (cd "$work/debs" && apt-get download -qq $(printf '%s\n' "$pkgs" | cut -d= -f1) \
			>"$work/log" 2>&1); then
		apt-get update -qq >/dev/null 2>&1
		# shellcheck disable=SC2046
		(cd "$work/debs" && apt-get download -qq $(printf '%s\n' "$pkgs" | cut -d= -f1) \
			>"$work/log" 2>&1) || {
			IMAGES_WHY="apt-get download failed: $(tail -n 2 "$work/log")"
			rm -rf "$work"; return 1; }
	fi
	for d in "$work"/debs/*.deb; do
		dpkg-deb -x "$d" "$work/root" || { IMAGES_WHY="dpkg-deb -x $d failed"; rm -rf "$work"; return 1; }
	done
	r="$work/root"
	rm -rf "$r/usr/share/doc" "$r/usr/share/man" "$r/usr/share/locale"
	mkdir -p "$r/bin" "$r/tmp" "$r/etc" "$r/run"
	chmod 1777 "$r/tmp"
	cp /bin/busybox "$r/bin/busybox"
	for a in $(/bin/busybox --list); do
		for d in bin sbin usr/bin usr/sbin; do
			[ -e "$r/$d/$a" ] || [ -L "$r/$d/$a" ] && continue 2
		done
		ln -s busybox "$r/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999::/var/lib/postgresql:/bin/sh\nredis:x:998:998::/var/lib/redis:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n' > "$r/etc/passwd"
	printf 'root:x:0:\npostgres:x:999:\nredis:x:998:\nnogroup:x:65534:\n' > "$r/etc/group"
	opts=$("$setup" "$r") || { IMAGES_WHY="setting up $image failed"; rm -rf "$work"; return 1; }
	# shellcheck disable=SC2086
	eval "set -- $opts"
	tar -C "$r" -c . | docker import -c 'ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		-c "LABEL cara.test.packages=$sum" "$@" - "$image" >/dev/null
	rc=$?
	rm -rf "$work"
	[ $rc -eq 0 ] || IMAGES_WHY="docker import of $image failed"
	return $rc
}

# Postgres: the data directory is made on the first start (initdb, as the
# official image does), with POSTGRES_USER, POSTGRES_DB and
# POSTGRES_PASSWORD; connections over the network need the password.
_pg_setup() {
	r=$1
	mkdir -p "$r/var/lib/postgresql/data" "$r/run/postgresql" "$r/usr/local/bin"
	chown -R 999:999 "$r/var/lib/postgresql" "$r/run/postgresql"
	chmod 700 "$r/var/lib/postgresql/data"
	cat > "$r/usr/local/bin/postgres-start" <<'EOF'
#!/bin/sh
set -e
bin=/usr/lib/postgresql/15/bin
D=/var/lib/postgresql/data
u=${POSTGRES_USER:-postgres}
if [ ! -s "$D/PG_VERSION" ]; then
	printf '%s\n' "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set}" > /tmp/pw
	"$bin/initdb" -D "$D" -U "$u" --pwfile=/tmp/pw --auth-local=trust \
		--auth-host=scram-sha-256 -E UTF8 --locale=C >/dev/null
	rm -f /tmp/pw
	echo "host all all all scram-sha-256" >> "$D/pg_hba.conf"
	if [ -n "${POSTGRES_DB:-}" ] && [ "$POSTGRES_DB" != postgres ]; then
		"$bin/postgres" --single -D "$D" -c jit=off postgres >/dev/null <<SQL
CREATE DATABASE "$POSTGRES_DB" OWNER "$u";
SQL
	fi
fi
exec "$bin/postgres" -D "$D" -c listen_addresses='*' -c jit=off \
	-c unix_socket_directories=/run/postgresql
EOF
	chmod 755 "$r/usr/local/bin/postgres-start"
	ln -s /usr/lib/postgresql/15/bin/pg_isready "$r/usr/local/bin/pg_isready"
	ln -s /usr/lib/postgresql/15/bin/psql "$r/usr/local/bin/psql"
	printf '%s\n' "-c 'USER postgres' -c 'CMD [\"/usr/local/bin/postgres-start\"]'"
}

_redis_setup() {
	r=$1
	mkdir -p "$r/data"
	chown 998:998 "$r/data"
	printf '%s\n' "-c 'USER redis' -c 'WORKDIR /data' -c 'CMD [\"redis-server\", \"--bind\", \"0.0.0.0\", \"--protected-mode\", \"no\", \"--dir\", \"/data\", \"--appendonly\", \"yes\"]'"
}

ensure_postgres_image() {
	_image_build "$PG_IMAGE" _pg_setup postgresql-15 postgresql-client-15
}

ensure_redis_image() {
	_image_build "$REDIS_IMAGE" _redis_setup redis-server redis-tools
}
