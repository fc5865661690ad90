#!/usr/bin/env bash
# Install every Debian package sprd needs (once: quiet when all is there),
# then configure and build into build/. Safe to run again.
#   scripts/setup.sh            packages + build/
#   scripts/setup.sh --no-build packages only
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
	build-essential meson ninja-build pkg-config python3
	libdpdk-dev dpdk-dev liburcu-dev libjemalloc-dev libxml2-dev
	libjwt-dev libjansson-dev libssl-dev libcmocka-dev libbenchmark-dev
	libpcap-dev iproute2 ethtool sip-tester kamailio
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -ne 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: missing packages: ${missing[*]}; run as root (or: sudo $0)" >&2
		exit 1
	fi
	echo "setup: installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ "${1:-}" = "--no-build" ] && exit 0

opts=()
[ "${CI:-}" = "true" ] && opts+=(-Dwerror=true)
if [ ! -f build/build.ninja ]; then
	meson setup build "${opts[@]}" >/dev/null
fi
ninja -C build >/dev/null
