#!/usr/bin/env bash
# The price of OAuth Bearer auth in the whole daemon (issue 5): sprd with the
# socket backend and one worker on 127.0.0.1, auth off and then on, each run
# the same sprblast refresh load of N users whose REGISTERs all carry the
# user's RS256 token (minted here with tests/e2e/mint_token: sub u%07d, scope
# sip:register), so with auth on every refresh after the first of each user
# is a token-cache hit (a register run first verifies and caches each
# token). The two alternate within each round. Per run: the refreshes per
# second sprblast got, and requests answered per CPU-second of sprd
# (utime+stime of its process, /proc/PID/stat, read around the refresh run):
# one worker's capacity, whichever side was the bottleneck. The worker loop
# alone, without the kernel: spr_dp_bench --ab.
#
# Usage: scripts/bench-auth.sh [--users N] [--duration D] [--rounds R] [--window W]
#   defaults: N = 5,000, D = 10 s, R = 3, W = 64
# Needs a build with tests (mint_token): BUILD=build by default. Traffic goes
# only to 127.0.0.1; every sprd started here is stopped by its pid.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-$(pwd)/build}
USERS=5000
DURATION=10
ROUNDS=3
WINDOW=64
usage() { sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case $1 in
	--users) USERS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--window) WINDOW=$2; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench-auth: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
MINT=$BUILD/tests/e2e/mint_token
for x in "$BUILD/sprd" "$BUILD/sprblast" "$MINT"; do
	if [ ! -x "$x" ]; then
		echo "bench-auth: $x missing (meson setup $BUILD; ninja -C $BUILD)" >&2
		exit 2
	fi
done
WORK=$(mktemp -d /tmp/bench-auth.XXXXXX)
SRV_PID=
cleanup() {
	if [ -n "$SRV_PID" ]; then
		kill -TERM "$SRV_PID" 2>/dev/null
		wait "$SRV_PID" 2>/dev/null
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ISS=https://idp.example.com/realms/carrier
AUD=sprd
"$MINT" keygen "$WORK/k.pem" && "$MINT" jwks k1 "$WORK/k.pem" >"$WORK/jwks.json" || exit 1
echo "bench-auth: minting $USERS RS256 tokens" >&2
for i in $(seq 0 $((USERS - 1))); do
	"$MINT" token "$WORK/k.pem" k1 "$(printf u%07d "$i")" sip:register +7200 "$AUD" "$ISS" || exit 1
done >"$WORK/tokens"

# cpu_ticks PID: utime + stime of the process, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run MODE PORT: one sprd, one sprblast refresh run; prints "refresh/s per-CPU-second"
run() {
	local mode=$1 port=$2 auth=()
	[ "$mode" = on ] && auth=(--auth bearer --jwks "$WORK/jwks.json" --issuer "$ISS"
		--audience "$AUD" --realm example.com)
	setsid "$BUILD/sprd" -- --listen "127.0.0.1:$port" --workers 1 --ctl "$WORK/ctl" \
		--log-level warning "${auth[@]}" >"$WORK/sprd-$mode.log" 2>&1 &
	SRV_PID=$!
	for _ in $(seq 100); do
		"$BUILD/sprctl" --ctl "$WORK/ctl" stats >/dev/null 2>&1 && break
		sleep 0.1
	done
	# every user registered once first (auth on: each token verified and cached), so the
	# CPU read around the refresh run is refreshes' (its own setup re-registers: hits)
	"$BUILD/sprblast" --target "127.0.0.1:$port" --users "$USERS" --token-file "$WORK/tokens" \
		--window "$WINDOW" --json >"$WORK/reg.json" 2>&1 || echo "bench-auth: register run failed" >&2
	local c0 c1
	c0=$(cpu_ticks "$SRV_PID")
	"$BUILD/sprblast" --target "127.0.0.1:$port" --scenario refresh --users "$USERS" \
		--token-file "$WORK/tokens" --duration "$DURATION" --window "$WINDOW" --json \
		>"$WORK/blast.json" 2>"$WORK/blast.err"
	c1=$(cpu_ticks "$SRV_PID")
	kill -TERM "$SRV_PID"
	wait "$SRV_PID"
	SRV_PID=
	python3 - "$WORK/blast.json" "$c0" "$c1" "$(getconf CLK_TCK)" "$mode" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
c0, c1, hz = (float(x) for x in sys.argv[2:5])
cpu = (c1 - c0) / hz
answered = j["answered"] + j["setup"]["answered"]
ok = j["by_status"].get("200", 0) + j["setup"]["by_status"].get("200", 0)
print("%s %.0f %.0f %d %.1f" % (sys.argv[5], j["rate_achieved"],
                                answered / cpu if cpu > 0 else 0, answered - ok,
                                j["latency_us"]["p99"]))
PY
}

echo "round mode refresh/s per-sprd-CPU-second non-200 p99-us"
port=25160
for r in $(seq 1 "$ROUNDS"); do
	for mode in off on; do
		port=$((port + 1))
		echo "$r $(run "$mode" "$port")"
	done
done
