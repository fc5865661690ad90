#!/usr/bin/env bash
# Set up if needed, build, and run sprd on its embedded default: socket
# backend on 127.0.0.1:5060, one worker, control socket /run/sprd/sprd.sock
# (or $XDG_RUNTIME_DIR/sprd.sock when not root). Ctrl-C stops it cleanly.
# Arguments go to sprd, e.g. scripts/run.sh -- --listen 127.0.0.1:5070 --workers 2
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
args=("$@")
if [ "$(id -u)" -ne 0 ] && [[ " ${args[*]} " != *" --ctl "* ]]; then
	[ ${#args[@]} -eq 0 ] && args=(--)
	args+=(--ctl "${XDG_RUNTIME_DIR:-/tmp}/sprd.sock")
fi
echo "run: build/sprd ${args[*]}   (sprctl: build/sprctl stats; Ctrl-C stops)" >&2
exec build/sprd "${args[@]}"
