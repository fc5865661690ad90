#!/usr/bin/env bash
# Set up if needed, build, and run sprd on its embedded default
# (socket backend on 127.0.0.1:5060). Extra arguments go to sprd.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -x build/sprd ]; then
	echo "run: the daemon is not built yet: build/sprd arrives with the \"Dataplane\" issue." >&2
	echo "run: what exists today is the parser, registrar and location store (scripts/test.sh, scripts/bench.sh)." >&2
	exit 1
fi
exec build/sprd "$@"
