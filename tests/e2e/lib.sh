# Shared by the e2e scripts: start/stop sprd, run SIPp, query sprctl, count checks.
# Every process started here is stopped by its pid in e2e_cleanup (trap EXIT).

E2E_PASS=0
E2E_FAIL=0
E2E_PIDS=()
E2E_DIR=$(mktemp -d /tmp/sprd-e2e.XXXXXX)
# Set by a script before start_sprd / sipp_run to run them elsewhere (e.g. in a
# network namespace): a command prefix, sprd's EAL options (empty: sprd picks
# its own), SIPp's local address.
E2E_SPRD_WRAP=()
E2E_SPRD_EAL=()
E2E_SIPP_WRAP=()
E2E_SIPP_IP=127.0.0.1
E2E_ON_EXIT=() # commands run by e2e_cleanup after the processes are stopped

e2e_cleanup() {
	for pid in "${E2E_PIDS[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	for cmd in "${E2E_ON_EXIT[@]}"; do
		eval "$cmd"
	done
	rm -rf "$E2E_DIR"
}
trap e2e_cleanup EXIT

ok() { echo "ok - $*"; E2E_PASS=$((E2E_PASS + 1)); }
not_ok() { echo "not ok - $*"; E2E_FAIL=$((E2E_FAIL + 1)); }
check() { # check "description" command...
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# start_sprd NAME ARGS...: sprd in the background with its own ctl socket; sets SPRD_CTL_<NAME>.
start_sprd() {
	local name=$1
	shift
	local ctl="$E2E_DIR/$name.sock" log="$E2E_DIR/$name.log"
	"${E2E_SPRD_WRAP[@]}" "$BUILD/sprd" "${E2E_SPRD_EAL[@]}" -- --ctl "$ctl" "$@" >"$log" 2>&1 &
	local pid=$!
	E2E_PIDS+=("$pid")
	for _ in $(seq 100); do
		if "$BUILD/sprctl" --ctl "$ctl" stats >/dev/null 2>&1; then
			printf -v "SPRD_CTL_$name" '%s' "$ctl"
			printf -v "SPRD_PID_$name" '%s' "$pid"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "sprd $name did not start:" >&2
	cat "$log" >&2
	return 1
}

# stop_sprd NAME: SIGTERM, and it must exit cleanly (status 0) within 10 s.
stop_sprd() {
	local pidvar="SPRD_PID_$1"
	local pid=${!pidvar}
	kill -TERM "$pid"
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$pid"
}

# users FILE N EXPIRES [PREFIX]: a SIPp injection file of N users.
users() {
	local f=$1 n=$2 e=$3 p=${4:-user}
	{
		echo SEQUENTIAL
		for i in $(seq 1 "$n"); do echo "$p$i;$e"; done
	} >"$f"
}

# sipp_run TARGET SCENARIO USERSFILE CALLS RATE [extra sipp args]: 0 when every call succeeded.
sipp_run() {
	local target=$1 sc=$2 inf=$3 m=$4 r=$5
	shift 5
	timeout 120 "${E2E_SIPP_WRAP[@]}" sipp "$target" -sf "$SRC/tests/e2e/sipp/$sc" -inf "$inf" -m "$m" -r "$r" \
		-rp 1000 -i "$E2E_SIPP_IP" -nostdin -timeout 90s -timeout_error -recv_timeout 15000 \
		-trace_err -error_file "$E2E_DIR/sipp-$sc.err" "$@" >"$E2E_DIR/sipp-$sc.out" 2>&1
	local rc=$?
	if [ $rc -ne 0 ]; then
		echo "# sipp $sc exited $rc" >&2
		tail -20 "$E2E_DIR/sipp-$sc.err" >&2 2>/dev/null
	fi
	return $rc
}

# jq-like extraction with python: json_get CTL METHOD ARGS... -- PYTHON-EXPR (on variable r)
ctl_eval() {
	local ctl=$1 expr=$2
	shift 2
	"$BUILD/sprctl" --ctl "$ctl" "$@" | python3 -c "import json,sys; r=json.load(sys.stdin); print(($expr))"
}

e2e_summary() {
	echo "$E2E_PASS passed, $E2E_FAIL failed"
	[ "$E2E_FAIL" -eq 0 ]
}

# wait_until SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds (0), at most SECONDS
# (whole seconds); 1 when it never did. For steps that wait for a state, not for a time.
wait_until() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}
