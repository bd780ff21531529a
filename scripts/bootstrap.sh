#!/bin/bash
# Installs every Debian package ddbgate needs to build, test and run, the
# npm test tools, and builds ddbgate into build/. Safe to run again: it
# installs only what is missing and rebuilds only what changed.
#
# usage: scripts/bootstrap.sh [--no-tests]   (as root, or with sudo available)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

build_pkgs=(build-essential autoconf automake libtool pkg-config
	libevent-dev libssl-dev libc-ares-dev libyaml-dev libnghttp2-dev
	libjansson-dev ca-certificates openssl)
test_pkgs=(libcmocka-dev clang libclang-rt-14-dev dnsmasq-base unbound stunnel4
	awscli python3-boto3 curl iproute2 util-linux iptables nftables testssl.sh
	systemd groff-base nghttp2-client python3-h2)

with_tests=1
[ "${1:-}" = "--no-tests" ] && with_tests=0

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
pkgs=("${build_pkgs[@]}")
[ $with_tests = 1 ] && pkgs+=("${test_pkgs[@]}")
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	[ $with_tests = 1 ] && missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "bootstrap: installing ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
fi

if [ $with_tests = 1 ] && [ ! -x tests/node_modules/.bin/dynalite ]; then
	echo "bootstrap: npm ci (test tools: dynalite)"
	(cd tests && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	autoreconf -fi >/dev/null
fi
mkdir -p build
cd build
if [ ! -f Makefile ] || [ ../configure -nt Makefile ]; then
	../configure --quiet --prefix=/usr/local --sysconfdir=/etc --localstatedir=/var
fi
make -j"$(nproc)" >/dev/null
echo "bootstrap: built $top/build/ddbgate"
