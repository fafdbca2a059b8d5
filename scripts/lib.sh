# scripts/lib.sh - shared by setup, test, demo and bench: install what is
# missing, build, start a Docker Engine, import the local test images.
# Sourced, not run.

top=$(cd "$(dirname "$0")/.." && pwd)

PACKAGES="gcc make libc6-dev autoconf automake libtool pkg-config
libgit2-dev libyaml-dev libcurl4-openssl-dev libjansson-dev libsqlite3-dev
docker.io busybox-static git sqlite3 groff-base curl python3 socat openssl gnupg gpgv openssh-client openssh-server"

say() { printf '%s\n' "$*" >&2; }

ensure_packages() {
	missing=
	for p in $PACKAGES "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		say "setup: missing Debian packages:$missing (run as root, or apt-get install them)"
		return 1
	fi
	say "setup: installing$missing"
	apt-get update -qq >/dev/null &&
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null ||
		{ say "setup: apt-get install$missing failed"; return 1; }
}

# build DIR [configure flags...]: an out-of-tree build in $top/DIR
build() {
	dir=$1; shift
	cd "$top" || return 1
	if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
		say "setup: autoreconf"
		autoreconf -fi >/dev/null 2>&1 || { autoreconf -fi; return 1; }
	fi
	mkdir -p "$dir" && cd "$dir" || return 1
	want="$*"
	if [ ! -f Makefile ] || [ "$(cat .configure-flags 2>/dev/null)" != "$want" ] ||
	   [ ../configure -nt Makefile ]; then
		say "setup: configure $want"
		../configure --enable-werror "$@" >configure.log 2>&1 ||
			{ cat configure.log >&2; return 1; }
		printf '%s' "$want" > .configure-flags
	fi
	make -s -j"$(nproc)" tests-build >make.log 2>&1 ||
		{ cat make.log >&2; return 1; }
	cd "$top" || return 1
}

docker_up() { docker version >/dev/null 2>&1; }

dockerd_failed() {
	say "setup: dockerd $1; see /var/log/cara-dockerd.log"
	tail -n 20 /var/log/cara-dockerd.log >&2
}

ensure_dockerd() {
	docker_up && return 0
	say "setup: no Docker Engine answers; starting dockerd"
	if [ "$(id -u)" -ne 0 ]; then
		say "setup: starting dockerd needs root"
		return 1
	fi
	mkdir -p /var/log
	: > /var/log/cara-dockerd.log
	# After an unclean shutdown containerd first reaps every dead shim it
	# finds, and dockerd gives up on it after 15 s; each try gets further,
	# so a daemon that exits early is started again, within one budget.
	i=0 starts=0 pid=
	while ! docker_up; do
		if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
			starts=$((starts + 1))
			if [ $starts -gt 10 ]; then
				dockerd_failed "exited 10 times"
				return 1
			fi
			# Docker's default address pools hold about 30 bridge
			# networks; cara makes one per project, and the tests and
			# bench make hundreds.
			setsid -w dockerd --default-address-pool base=10.128.0.0/12,size=24 \
				>>/var/log/cara-dockerd.log 2>&1 < /dev/null &
			pid=$!
		fi
		i=$((i + 1))
		if [ $i -gt 300 ]; then
			dockerd_failed "did not come up in 300 s"
			return 1
		fi
		sleep 1
	done
}

# A Caddy image made locally from Debian's caddy package (no registry):
# the binary, the libraries ldd names, CA certificates and the passwd
# files, imported as one layer.  The tests' ingress proxy.
CARA_CADDY_IMAGE=cara-local/caddy:2

ensure_caddy_image() {
	docker image inspect "$CARA_CADDY_IMAGE" >/dev/null 2>&1 && return 0
	say "setup: importing $CARA_CADDY_IMAGE from Debian's caddy"
	work=$(mktemp -d /tmp/cara-caddy.XXXXXX)
	root="$work/root"
	mkdir -p "$root/usr/bin" "$root/etc" "$root/tmp" "$root/data" "$root/config"
	chmod 1777 "$root/tmp"
	(cd "$work" && apt-get download caddy >/dev/null 2>&1) ||
		{ apt-get update -qq >/dev/null 2>&1 &&
		  (cd "$work" && apt-get download caddy >/dev/null 2>&1); } ||
		{ say "setup: apt-get download caddy failed"; rm -rf "$work"; return 1; }
	dpkg-deb -x "$work"/caddy_*.deb "$work/deb" &&
	cp "$work/deb/usr/bin/caddy" "$root/usr/bin/caddy" || { rm -rf "$work"; return 1; }
	for lib in $(ldd "$root/usr/bin/caddy" 2>/dev/null | awk '$(NF-1) ~ /^\// { print $(NF-1) } $1 ~ /^\// { print $1 }'); do
		mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"
	done
	if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
		mkdir -p "$root/etc/ssl/certs"
		cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
	fi
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
	printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
	tar -C "$root" -c . | docker import \
		-c 'ENV XDG_CONFIG_HOME=/config XDG_DATA_HOME=/data' \
		-c 'CMD ["/usr/bin/caddy", "run", "--config", "/etc/caddy/caddy.json"]' \
		- "$CARA_CADDY_IMAGE" >/dev/null
	rc=$?
	rm -rf "$work"
	return $rc
}

# A busybox image made locally from Debian's busybox-static: no registry.
CARA_BUSYBOX_IMAGE=cara-local/busybox:1
ensure_busybox_image() {
	docker image inspect "$CARA_BUSYBOX_IMAGE" >/dev/null 2>&1 && return 0
	say "setup: importing $CARA_BUSYBOX_IMAGE from busybox-static"
	root=$(mktemp -d /tmp/cara-rootfs.XXXXXX)
	mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/var/www" "$root/data"
	chmod 1777 "$root/tmp"
	cp /bin/busybox "$root/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
	echo '<h1>cara demo</h1>' > "$root/var/www/index.html"
	tar -C "$root" -c . | docker import \
		-c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' - "$CARA_BUSYBOX_IMAGE" >/dev/null
	rc=$?
	rm -rf "$root"
	return $rc
}
