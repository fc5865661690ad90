#!/usr/bin/env bash
# Set up if needed, build, run every test suite; the last line is
# "N passed, N failed, N skipped" (N counts meson tests over both builds).
#   build/       the optimised build (what run.sh and bench.sh use): unit, dp, e2e
#   build-san/   unit and dp again under AddressSanitizer + UBSan
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

opts=()
[ "${CI:-}" = "true" ] && opts+=(-Dwerror=true)
if [ ! -f build-san/build.ninja ]; then
	meson setup build-san -Db_sanitize=address,undefined -Db_lundef=false -Dperf=false \
		"${opts[@]}" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
fi
ninja -C build-san >/dev/null || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
skipped=0
for b in build build-san; do
	# every suite on the plain build; unit and dp again under the sanitizers
	suites=()
	[ "$b" = build-san ] && suites=(--suite unit --suite dp)
	echo "== meson test -C $b ${suites[*]}"
	meson test -C "$b" --print-errorlogs --num-processes 2 "${suites[@]}"
	json="$b/meson-logs/testlog.json"
	if [ -f "$json" ]; then
		read -r p f s < <(python3 - "$json" <<'PY'
import json, sys
p = f = s = 0
for line in open(sys.argv[1]):
    line = line.strip()
    if not line:
        continue
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL"):
        p += 1
    elif r == "SKIP":
        s += 1
    else:
        f += 1
print(p, f, s)
PY
)
		passed=$((passed + p))
		failed=$((failed + f))
		skipped=$((skipped + s))
	else
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
