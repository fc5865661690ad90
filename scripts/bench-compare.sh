#!/usr/bin/env bash
# Side by side on this machine (issue 6): Kamailio (Debian package, registrar +
# usrloc in memory, scripts/kamailio/kamailio.cfg) against sprd with the socket
# backend, both on 127.0.0.1, and sprd with the dpdk backend (net_af_packet on
# a veth into a network namespace this script creates; sprblast runs in a second
# one). The systems alternate within each round; every one gets the same
# sprblast runs:
#   register  N new users, one REGISTER each, closed loop (window W)
#   refresh   sprblast --scenario refresh: setup re-registers the N users
#             (reported apart), then refreshes as fast as answers allow for D s
#   fixed     the same at a fixed offered load, 50% of Kamailio's refresh rate
#             of the round (or --rate), for latency
#   memory    (when M > N) users N..M-1 registered, so M bindings are held
# and the server's CPU time (utime+stime of every process of its process group,
# from /proc/PID/stat) and PSS (/proc/PID/smaps_rollup, summed over the group:
# Kamailio's shared memory counted once) are read between the phases. During
# each sprblast run the server's CPU is also sampled every 100 ms, so the CPU of
# a refresh run's setup is split from the refreshes' own (CPU s per 1M).
# Workers: Kamailio children = sprd --workers = W (default 1: on 2 cores the
# other core is sprblast's); sprd-dpdk always has 1 (af_packet has no RSS).
#
# Usage: scripts/bench-compare.sh [--quick] [--json FILE] [--users N]
#          [--mem-users M] [--workers W] [--rounds R] [--duration D]
#          [--window W] [--rate R] [--systems kamailio,sprd-socket,sprd-dpdk]
#          [--mem-only]
#   --quick       1 round, N = M = 100,000, D = 10 s (under 3 minutes)
#   --mem-only    only the register and memory phases (no refresh, no fixed
#                 load): bytes per binding at M, e.g. --mem-only --rounds 1
#   default       3 rounds, N = 100,000, M = 1,000,000, D = 20 s
# Needs root for sprd-dpdk (namespaces, veth, AF_PACKET); without it that
# system is skipped with a message. Traffic goes only to 127.0.0.1 and to the
# two namespaces; every process started here is stopped by its pid, and the
# namespaces (the veth goes with them) are deleted on every exit.
set -u
cd "$(dirname "$0")/.."
SRC=$(pwd)
BUILD=${BUILD:-$SRC/build}

QUICK=0
JSON_OUT=
USERS=100000
MEM_USERS=
WORKERS=1
ROUNDS=
DURATION=
WINDOW=64
RATE=
SYSTEMS=kamailio,sprd-socket,sprd-dpdk
MEM_ONLY=0
usage() { sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--json) JSON_OUT=$2; shift ;;
	--users) USERS=$2; shift ;;
	--mem-users) MEM_USERS=$2; shift ;;
	--workers) WORKERS=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--window) WINDOW=$2; shift ;;
	--rate) RATE=$2; shift ;;
	--systems) SYSTEMS=$2; shift ;;
	--mem-only) MEM_ONLY=1 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "bench-compare: unknown option $1 (--help)" >&2; exit 2 ;;
	esac
	shift
done
if [ "$QUICK" = 1 ]; then
	: "${ROUNDS:=1}" "${DURATION:=10}" "${MEM_USERS:=$USERS}"
else
	: "${ROUNDS:=3}" "${DURATION:=20}" "${MEM_USERS:=1000000}"
fi
for v in USERS MEM_USERS WORKERS ROUNDS DURATION WINDOW; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench-compare: ${v,,} must be a positive integer" >&2; exit 2; }
done
[ "$MEM_USERS" -ge "$USERS" ] || { echo "bench-compare: --mem-users must be >= --users" >&2; exit 2; }
[ -z "$RATE" ] || [[ $RATE =~ ^[1-9][0-9]*$ ]] || { echo "bench-compare: --rate must be a positive integer" >&2; exit 2; }
IFS=, read -r -a SYS <<<"$SYSTEMS"
for s in "${SYS[@]}"; do
	case $s in kamailio | sprd-socket | sprd-dpdk) ;; *) echo "bench-compare: unknown system $s" >&2; exit 2 ;; esac
done

T0=$(date +%s)
if [ ! -x "$BUILD/sprd" ] || [ ! -x "$BUILD/sprblast" ] || [ ! -x "$BUILD/sprctl" ]; then
	bash scripts/setup.sh || exit 1
else
	ninja -C "$BUILD" sprd sprctl sprblast >/dev/null || exit 1
fi
KAMAILIO=$(command -v kamailio || echo /usr/sbin/kamailio)
[ -x "$KAMAILIO" ] || { echo "bench-compare: kamailio not installed (scripts/setup.sh installs it)" >&2; exit 1; }
KAM_CFG=$SRC/scripts/kamailio/kamailio.cfg

WORK=$(mktemp -d /tmp/sprd-bench-compare.XXXXXX)
PIDS=()
NS_SRV=sprcmp-srv-$$
NS_CLI=sprcmp-cli-$$
IF_SRV=spc$$s # <= 15 characters
IF_CLI=spc$$c
SRV_IP=198.18.0.1
CLI_IP=198.18.0.10
NS_MADE=0
EAL_PREFIX=sprd-cmp-$$

stop_pid() { # SIGTERM, up to 15 s, then SIGKILL; the pid is one we started
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 150); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
	if [ "$NS_MADE" = 1 ]; then
		ip netns del "$NS_SRV" 2>/dev/null
		ip netns del "$NS_CLI" 2>/dev/null
	fi
	rmdir "/var/run/dpdk/$EAL_PREFIX" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- the helper: process-group CPU and PSS, a run wrapper, an OPTIONS probe, the report ---
cat >"$WORK/h.py" <<'EOF'
import json, os, resource, socket, statistics, subprocess, sys, time

def group(pgid):
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            st = open("/proc/%s/stat" % d).read()
        except OSError:
            continue
        f = st[st.rindex(")") + 2:].split()
        if int(f[2]) == pgid:          # field 5, pgrp
            pids.append((int(d), f))
    return pids

def snap(pgid):
    """utime+stime seconds, PSS KiB, processes, and PSS KiB of anonymous and shared memory only
    (Pss_Anon + Pss_Shmem: without the libraries' pages, whose PSS moves with the number of
    other processes mapping them) summed over the process group"""
    tck = os.sysconf("SC_CLK_TCK")
    cpu, pss, n, priv = 0, 0, 0, 0
    for pid, f in group(pgid):
        cpu += int(f[11]) + int(f[12])  # fields 14, 15: utime, stime (all threads)
        try:
            for line in open("/proc/%d/smaps_rollup" % pid):
                if line.startswith("Pss:"):
                    pss += int(line.split()[1])
                elif line.startswith("Pss_Anon:") or line.startswith("Pss_Shmem:"):
                    priv += int(line.split()[1])
        except OSError:
            pass
        n += 1
    print("%.2f %d %d %d" % (cpu / tck, pss, n, priv))

def stat_cpu(pids, tck):
    c = 0
    for pid in pids:
        try:
            st = open("/proc/%d/stat" % pid).read()
        except OSError:
            continue
        f = st[st.rindex(")") + 2:].split()
        c += int(f[11]) + int(f[12])
    return c / tck

def run(out, meta, pgid, cmd):
    """cmd with its stdout into out; into meta: exit status, wall time, the CPU of cmd (and
    its children), and the server's CPU sampled every 100 ms (to split setup from the run)"""
    tck = os.sysconf("SC_CLK_TCK")
    pids = [p for p, _ in group(pgid)]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    samples = [(0.0, stat_cpu(pids, tck))]
    with open(out, "w") as f:
        pr = subprocess.Popen(cmd, stdout=f)
        while True:
            try:
                rc = pr.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                samples.append((round(time.monotonic() - t0, 3), stat_cpu(pids, tck)))
    samples.append((round(time.monotonic() - t0, 3), stat_cpu(pids, tck)))
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    json.dump({"rc": rc, "wall_s": round(time.monotonic() - t0, 3),
               "cpu_s": round(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime, 3),
               "server_cpu_samples": samples}, open(meta, "w"))

def cpu_at(samples, t):
    """the server's CPU seconds at t s after the run started (linear between samples)"""
    for (ta, ca), (tb, cb) in zip(samples, samples[1:]):
        if ta <= t <= tb:
            return ca + (cb - ca) * (t - ta) / (tb - ta) if tb > ta else cb
    return samples[-1][1]

def probe(host, port, bind, tries):
    """an OPTIONS until any answer comes back (the server is up and reachable)"""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((bind, 0))
    lp = s.getsockname()[1]
    s.settimeout(0.2)
    for i in range(int(tries)):
        msg = ("OPTIONS sip:%s:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK-probe%d\r\n"
               "Max-Forwards: 70\r\nFrom: <sip:probe@example.com>;tag=p\r\nTo: <sip:%s>\r\n"
               "Call-ID: probe-%d@bench\r\nCSeq: %d OPTIONS\r\nContent-Length: 0\r\n\r\n"
               % (host, port, bind, lp, i, host, os.getpid(), i + 1))
        s.sendto(msg.encode(), (host, int(port)))
        try:
            if s.recv(65535).startswith(b"SIP/2.0 "):
                return 0
        except socket.timeout:
            pass
    return 1

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

def report(work, out_json):
    meta = json.load(open(work + "/meta.json"))
    systems, rounds = meta["systems"], []
    for r in range(1, meta["rounds"] + 1):
        rd = {"round": r, "systems": {}}
        fr = work + "/r%d.rate" % r
        rd["fixed_rate"] = float(open(fr).read()) if os.path.exists(fr) else None
        for s in systems:
            base = work + "/r%d-%s" % (r, s)
            if not os.path.exists(base + ".snaps"):
                continue
            snaps = {}
            for line in open(base + ".snaps"):
                k, cpu, pss, n, priv = (line.split() + ["0"])[:5]
                snaps[k] = (float(cpu), int(pss), int(n), int(priv))
            rec = {"workers": int(open(base + ".workers").read()), "processes": snaps["start"][2]}
            prev = "start"
            for ph in ("register", "refresh", "fixed", "memory"):
                if not os.path.exists("%s-%s.json" % (base, ph)) or ph not in snaps:
                    continue
                try:
                    j = json.load(open("%s-%s.json" % (base, ph)))
                except ValueError:
                    j = {}
                m = json.load(open("%s-%s.meta" % (base, ph)))
                lat = j.get("latency_us", {})
                setup = j.get("setup", {})
                answered = j.get("answered", 0) + setup.get("answered", 0)
                cpu = snaps[ph][0] - snaps[prev][0]
                smp = m["server_cpu_samples"]
                # the run proper: after the setup (sprblast's setup seconds from its start)
                t_setup = setup.get("seconds", 0.0) if setup else 0.0
                cpu_run = smp[-1][1] - cpu_at(smp, t_setup)
                run_ans = j.get("answered", 0)
                ok = j.get("by_status", {}).get("200", 0) + setup.get("by_status", {}).get("200", 0)
                p = {"answered": answered, "non_200": answered - ok,
                     "timeouts": j.get("timeouts", 0) + setup.get("timeouts", 0),
                     "seconds": j.get("seconds"), "rate": j.get("rate_achieved"),
                     "p50_us": lat.get("p50"), "p99_us": lat.get("p99"), "p999_us": lat.get("p99.9"),
                     "server_cpu_s": round(cpu, 2),
                     "server_cpu_s_run": round(cpu_run, 2),
                     "server_cpu_s_per_million": round(cpu_run * 1e6 / run_ans, 2) if run_ans else None,
                     "server_cpu_busy": round(cpu_run / j["seconds"], 3) if j.get("seconds") else None,
                     "client_cpu_s": m["cpu_s"], "sprblast_exit": m["rc"]}
                if setup:
                    cs = cpu_at(smp, t_setup) - smp[0][1]
                    p["setup"] = {"answered": setup.get("answered"), "seconds": setup.get("seconds"),
                                  "server_cpu_s": round(cs, 2),
                                  "server_cpu_s_per_million": round(cs * 1e6 / setup["answered"], 2) if setup.get("answered") else None,
                                  "rate": setup.get("rate_achieved"),
                                  "p50_us": setup.get("latency_us", {}).get("p50"),
                                  "p99_us": setup.get("latency_us", {}).get("p99")}
                if ph == "fixed":
                    p["offered_rate"] = j.get("rate")
                rec[ph] = p
                prev = ph
            end = "memory" if "memory" in snaps else prev
            bindings = meta["mem_users"] if "memory" in snaps else meta["users"]
            # growth while registering only (register phase, and the memory phase when M > N);
            # and from start to the end, the refresh phases' churn (new Call-IDs) included
            grow = snaps["register"][1] - snaps["start"][1]
            grow_priv = snaps["register"][3] - snaps["start"][3]
            if "memory" in snaps:
                before = "fixed" if "fixed" in snaps else "register"
                grow += snaps["memory"][1] - snaps[before][1]
                grow_priv += snaps["memory"][3] - snaps[before][3]
            rec["memory"] = dict(rec.get("memory", {}), bindings=bindings,
                                 pss_start_kib=snaps["start"][1], pss_end_kib=snaps[end][1],
                                 bytes_per_binding=round(grow * 1024 / bindings, 1),
                                 bytes_per_binding_anon_shmem=round(grow_priv * 1024 / bindings, 1),
                                 bytes_per_binding_end=round((snaps[end][1] - snaps["start"][1]) * 1024 / bindings, 1))
            if os.path.exists(base + ".stats"):
                try:
                    st = json.load(open(base + ".stats"))
                    rec["sprd_stats"] = {"bindings": st["location"]["bindings"],
                                         "aors": st["location"]["aors"],
                                         "io": {k: v for k, v in st.get("io", {}).items() if v}}
                except (ValueError, KeyError):
                    pass
            rd["systems"][s] = rec
        rounds.append(rd)

    cols = [("register", "rate"), ("register", "p50_us"), ("register", "p99_us"),
            ("register", "server_cpu_s_per_million"),
            ("refresh", "setup_rate"), ("refresh", "rate"), ("refresh", "p50_us"), ("refresh", "p99_us"),
            ("refresh", "p999_us"), ("refresh", "server_cpu_s_per_million"), ("refresh", "client_cpu_s"),
            ("fixed", "rate"), ("fixed", "p50_us"), ("fixed", "p99_us"), ("fixed", "p999_us"),
            ("refresh", "server_cpu_busy"), ("fixed", "server_cpu_s_per_million"), ("fixed", "server_cpu_busy"),
            ("memory", "bytes_per_binding"), ("memory", "bytes_per_binding_end"),
            ("memory", "bytes_per_binding_anon_shmem")]
    def get(rec, ph, k):
        p = rec.get(ph, {})
        if k == "setup_rate":
            return p.get("setup", {}).get("rate")
        return p.get(k)
    summary = {}
    for s in systems:
        recs = [rd["systems"][s] for rd in rounds if s in rd["systems"]]
        if not recs:
            continue
        summary[s] = {"rounds": len(recs), "workers": recs[0]["workers"]}
        for ph, k in cols:
            summary[s]["%s.%s" % (ph, k)] = med([get(x, ph, k) for x in recs])
        summary[s]["timeouts"] = sum(x.get(ph, {}).get("timeouts", 0) for x in recs for ph in ("register", "refresh", "fixed", "memory"))
        summary[s]["non_200"] = sum(x.get(ph, {}).get("non_200", 0) or 0 for x in recs for ph in ("register", "refresh", "fixed", "memory"))
    ratios = {}
    if "kamailio" in summary:
        for s in summary:
            if s == "kamailio":
                continue
            ratios["%s/kamailio" % s] = {
                k: (round(summary[s][k] / summary["kamailio"][k], 3)
                    if summary[s].get(k) and summary["kamailio"].get(k) else None)
                for k in summary[s] if "." in k}
    res = {"what": "scripts/bench-compare.sh: Kamailio vs sprd, medians over rounds",
           "lower_is_better": [k for _, k in cols if k.endswith("_us") or "cpu" in k or "bytes" in k],
           "params": meta, "summary": summary, "ratios": ratios, "rounds": rounds}
    if out_json:
        json.dump(res, open(out_json, "w"), indent=1)

    def fmt(v, d=0):
        if v is None:
            return "-"
        return ("{:,.%df}" % d).format(v)
    print()
    print("Medians over %d round(s); N = %d users (M = %d bindings for memory), window %d, D = %d s"
          % (meta["rounds"], meta["users"], meta["mem_users"], meta["window"], meta["duration"]))
    hdr = ["system", "wk", "reg/s", "ref-setup/s", "refresh/s", "p50/p99/p99.9 us at max",
           "CPU s/1M (busy)", "fixed/s", "p50/p99/p99.9 us fixed", "CPU s/1M fixed (busy)", "B/binding (end)", "errors"]
    rows = [hdr]
    for s, v in summary.items():
        rows.append([s, str(v["workers"]), fmt(v["register.rate"]), fmt(v["refresh.setup_rate"]),
                     fmt(v["refresh.rate"]),
                     "/".join(fmt(v["refresh." + k]) for k in ("p50_us", "p99_us", "p999_us")),
                     "%s (%s)" % (fmt(v["refresh.server_cpu_s_per_million"], 1), fmt(v["refresh.server_cpu_busy"], 2)),
                     fmt(v["fixed.rate"]),
                     "/".join(fmt(v["fixed." + k]) for k in ("p50_us", "p99_us", "p999_us")),
                     "%s (%s)" % (fmt(v["fixed.server_cpu_s_per_million"], 1), fmt(v["fixed.server_cpu_busy"], 2)),
                     "%s (%s)" % (fmt(v["memory.bytes_per_binding"]), fmt(v["memory.bytes_per_binding_end"])),
                     "%d t/o, %d non-200" % (v["timeouts"], v["non_200"])])
    w = [max(len(r[i]) for r in rows) for i in range(len(hdr))]
    for i, r in enumerate(rows):
        print("  ".join(c.rjust(w[j]) if j else c.ljust(w[j]) for j, c in enumerate(r)))
        if i == 0:
            print("  ".join("-" * x for x in w))
    for name, rt in ratios.items():
        print("%s: refresh/s x%s, register/s x%s, p99 at max x%s, p99 fixed x%s, CPU/1M x%s, bytes/binding x%s"
              " (anon+shmem x%s)"
              % (name, rt.get("refresh.rate"), rt.get("register.rate"), rt.get("refresh.p99_us"),
                 rt.get("fixed.p99_us"), rt.get("refresh.server_cpu_s_per_million"),
                 rt.get("memory.bytes_per_binding"), rt.get("memory.bytes_per_binding_anon_shmem")))
    print("reg/s: N new AORs, closed loop. ref-setup/s: the refresh run's setup (N re-REGISTERs, new Call-ID).")
    print("CPU s/1M: server utime+stime during the refreshes (setup excluded) per million answers;")
    print("  busy: server CPU seconds per second of the run (1.0 = one core).")
    print("B/binding: PSS growth of the server's processes while registering, per binding held;")
    print("  (end): from start to the end, the refresh runs' re-registrations included.")
    for s, v in summary.items():
        print("  %s: %s bytes per binding counting anonymous and shared memory only (Pss_Anon + Pss_Shmem)"
              % (s, fmt(v["memory.bytes_per_binding_anon_shmem"], 1)))

cmd = sys.argv[1]
if cmd == "snap":
    snap(int(sys.argv[2]))
elif cmd == "run":
    run(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[6:])
elif cmd == "probe":
    sys.exit(probe(*sys.argv[2:6]))
elif cmd == "report":
    report(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
EOF
H() { python3 "$WORK/h.py" "$@"; }

# --- sprd-dpdk needs root and ip netns; otherwise it is left out ---
want_dpdk=0
for s in "${SYS[@]}"; do [ "$s" = sprd-dpdk ] && want_dpdk=1; done
if [ "$want_dpdk" = 1 ]; then
	if [ "$(id -u)" -ne 0 ] || ! ip netns list >/dev/null 2>&1 || ! command -v ethtool >/dev/null; then
		echo "# sprd-dpdk skipped: needs root, 'ip netns' and ethtool" >&2
		SYS=("${SYS[@]/sprd-dpdk/}")
		want_dpdk=0
	fi
fi
mapfile -t SYS < <(printf '%s\n' "${SYS[@]}" | sed '/^$/d')
if [ "$want_dpdk" = 1 ]; then
	NS_MADE=1
	ip netns add "$NS_SRV" && ip netns add "$NS_CLI" || exit 1
	for ns in "$NS_SRV" "$NS_CLI"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
		ip -n "$ns" link set lo up
	done
	ip link add "$IF_SRV" netns "$NS_SRV" type veth peer name "$IF_CLI" netns "$NS_CLI" || exit 1
	ip -n "$NS_SRV" link set "$IF_SRV" up # no kernel address: sprd owns $SRV_IP through DPDK
	ip -n "$NS_CLI" addr add "$CLI_IP/24" dev "$IF_CLI"
	# real UDP checksums from the kernel side of the veth (sprd drops partial ones)
	ip netns exec "$NS_CLI" ethtool -K "$IF_CLI" tx off >/dev/null || exit 1
	ip -n "$NS_CLI" link set "$IF_CLI" up
fi

PORT_BASE=$((20000 + RANDOM % 20000))
HASH_BITS=$(python3 -c "import math; print(max(10, min(20, math.ceil(math.log2($MEM_USERS)))))")
KAM_SHM=$((256 + MEM_USERS * 2 / 1024)) # MB: ~1.2 KiB per binding measured, and refreshes
SPRD_INIT=$(((MEM_USERS + WORKERS - 1) / WORKERS))

# start_server SYSTEM ROUND: sets SRV_PID, TARGET (ip:port), NETNS_ARGS (sprblast), BASE
start_server() {
	local sys=$1 r=$2 port=$((PORT_BASE + r * 10)) w=$WORKERS probe_wrap=() bind=127.0.0.1
	BASE=$WORK/r$r-$sys
	NETNS_ARGS=()
	case $sys in
	kamailio)
		port=$((port + 1))
		mkdir -p "$WORK/kam-run-$r"
		setsid "$KAMAILIO" -f "$KAM_CFG" -DD -E -m "$KAM_SHM" -M 16 -Y "$WORK/kam-run-$r" \
			-A "KAM_LISTEN=udp:127.0.0.1:$port" -A "KAM_CHILDREN=$w" -A "KAM_HASH_BITS=$HASH_BITS" \
			>"$BASE.log" 2>&1 &
		TARGET=127.0.0.1:$port
		;;
	sprd-socket)
		port=$((port + 2))
		setsid "$BUILD/sprd" -- --listen "127.0.0.1:$port" --workers "$w" --init-aors "$SPRD_INIT" \
			--ctl "$WORK/ctl-$r" --log-level warning >"$BASE.log" 2>&1 &
		TARGET=127.0.0.1:$port
		;;
	sprd-dpdk)
		port=5060
		w=1 # net_af_packet has no RSS: one worker (docs/operations.md)
		setsid ip netns exec "$NS_SRV" "$BUILD/sprd" --no-huge --no-pci -m 1024 --no-shconf \
			--no-telemetry --file-prefix "$EAL_PREFIX" --lcores '(0-1)@(0-1)' --log-level '*:warning' \
			--vdev "net_af_packet0,iface=$IF_SRV,qpairs=1" -- --io dpdk --listen "$SRV_IP:$port" \
			--workers 1 --init-aors "$MEM_USERS" --ctl "$WORK/ctl-$r" --log-level warning \
			>"$BASE.log" 2>&1 &
		TARGET=$SRV_IP:$port
		NETNS_ARGS=(--netns "$NS_CLI" --bind "$CLI_IP")
		probe_wrap=(ip netns exec "$NS_CLI")
		bind=$CLI_IP
		;;
	esac
	SRV_PID=$!
	PIDS+=("$SRV_PID")
	echo "$w" >"$BASE.workers"
	local i
	for i in $(seq 100); do
		kill -0 "$SRV_PID" 2>/dev/null || break
		if "${probe_wrap[@]}" python3 "$WORK/h.py" probe "${TARGET%:*}" "${TARGET##*:}" "$bind" 2; then
			return 0
		fi
	done
	echo "bench-compare: $sys did not answer on $TARGET:" >&2
	tail -20 "$BASE.log" >&2
	return 1
}

stop_server() {
	stop_pid "$SRV_PID"
	local keep=() p
	for p in "${PIDS[@]}"; do [ "$p" = "$SRV_PID" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

snap() { echo "$1 $(H snap "$SRV_PID")" >>"$BASE.snaps"; }

# blast PHASE LIMIT_S ARGS...: one sprblast run, bounded by timeout
blast() {
	local ph=$1 lim=$2
	shift 2
	H run "$BASE-$ph.json" "$BASE-$ph.meta" "$SRV_PID" -- timeout -k 5 "$lim" "$BUILD/sprblast" --json \
		--target "$TARGET" "${NETNS_ARGS[@]}" --window "$WINDOW" "$@"
	python3 - "$BASE-$ph.json" "$BASE-$ph.meta" "$ph" <<'EOF'
import json, sys
m = json.load(open(sys.argv[2]))
try:
    j = json.load(open(sys.argv[1]))
except ValueError:
    print("#   %s: sprblast exit %d, no JSON" % (sys.argv[3], m["rc"])); sys.exit()
s = j.get("setup")
pre = ("setup %d in %.1f s (%.0f/s), " % (s["answered"], s["seconds"], s["rate_achieved"])) if s else ""
print("#   %-8s %s%d answered in %.1f s (%.0f/s), p50 %.0f us p99 %.0f us, %d timeouts, exit %d, client CPU %.1f s"
      % (sys.argv[3], pre, j["answered"], j["seconds"], j["rate_achieved"], j["latency_us"]["p50"],
         j["latency_us"]["p99"], j["timeouts"] + (s["timeouts"] if s else 0), m["rc"], m["cpu_s"]))
EOF
}

python3 - "$WORK/meta.json" <<EOF
import json, sys, os
json.dump({"users": $USERS, "mem_users": $MEM_USERS, "workers": $WORKERS, "rounds": $ROUNDS,
           "duration": $DURATION, "window": $WINDOW, "quick": bool($QUICK), "mem_only": bool($MEM_ONLY),
           "systems": "${SYS[*]}".split(), "fixed_rate_option": ${RATE:-None},
           "kamailio": os.popen("$KAMAILIO -v 2>&1 | head -1").read().strip(),
           "kamailio_cfg": "scripts/kamailio/kamailio.cfg", "kamailio_shm_mb": $KAM_SHM,
           "usrloc_hash_bits": $HASH_BITS, "sprd_init_aors_per_worker": $SPRD_INIT,
           "commit": os.popen("git -C '$SRC' rev-parse --short HEAD 2>/dev/null").read().strip(),
           "nproc": os.cpu_count(), "kernel": os.uname().release,
           "loadavg_start": open("/proc/loadavg").read().split()[:3]}, open(sys.argv[1], "w"))
EOF
echo "# bench-compare: ${SYS[*]}; $ROUNDS round(s), N=$USERS, M=$MEM_USERS, workers $WORKERS, window $WINDOW, D=${DURATION}s; load $(cut -d' ' -f1-3 /proc/loadavg)"

LIM=$((DURATION * 2 + 30))
for r in $(seq "$ROUNDS"); do
	FIXED=$RATE
	for sys in "${SYS[@]}"; do
		if [ -z "$FIXED" ] && [ "$sys" != kamailio ] && [ -f "$WORK/r$r.rate" ]; then
			FIXED=$(cat "$WORK/r$r.rate")
		fi
		echo "# round $r: $sys"
		start_server "$sys" "$r" || exit 1
		snap start
		blast register $((DURATION * 6 + 30)) --scenario register --users "$USERS" --duration $((DURATION * 6))
		snap register
		if [ "$MEM_ONLY" = 0 ]; then
			blast refresh "$LIM" --scenario refresh --users "$USERS" --duration "$DURATION"
			snap refresh
			if [ -z "$FIXED" ]; then
				# 50% of the first system's (Kamailio's) refresh rate this round
				FIXED=$(python3 -c "import json; print(max(1, int(json.load(open('$BASE-refresh.json'))['rate_achieved'] / 2)))") || exit 1
			fi
			echo "$FIXED" >"$WORK/r$r.rate"
			blast fixed "$LIM" --scenario refresh --users "$USERS" --duration "$DURATION" --rate "$FIXED"
			snap fixed
		fi
		if [ "$MEM_USERS" -gt "$USERS" ]; then
			blast memory $((DURATION * 30 + 60)) --scenario register --users $((MEM_USERS - USERS)) \
				--user-base "$USERS" --duration $((DURATION * 30))
			snap memory
		fi
		[ "$sys" != kamailio ] && "$BUILD/sprctl" --ctl "$WORK/ctl-$r" stats >"$BASE.stats" 2>/dev/null
		stop_server
	done
done

H report "$WORK" "$JSON_OUT"
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); $(($(date +%s) - T0)) s"
[ -n "$JSON_OUT" ] && echo "# JSON: $JSON_OUT"
exit 0
