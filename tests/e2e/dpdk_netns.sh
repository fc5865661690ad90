#!/usr/bin/env bash
# End to end on the dpdk backend: sprd in a network namespace of its own takes
# frames with net_af_packet from one end of a veth pair; SIPp and raw-socket
# probes run in a second namespace on the other end. Traffic stays inside the
# two namespaces this script creates (198.18.0.0/15, benchmarking range); both
# are deleted on every exit (the veth goes with them).
# Needs root and `ip netns`; otherwise exit 77 (meson: skipped).
# Usage: dpdk_netns.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: dpdk_netns.sh needs root (network namespaces, veth, AF_PACKET)"
	exit 77
fi
if ! ip netns list >/dev/null 2>&1; then
	echo "SKIP: 'ip netns' is unavailable (iproute2 missing or no netns support)"
	exit 77
fi
command -v sipp >/dev/null || { echo "sipp not installed (scripts/setup.sh installs sip-tester)"; exit 1; }
command -v ethtool >/dev/null || { echo "ethtool not installed (scripts/setup.sh installs it)"; exit 1; }

. "$SRC/tests/e2e/lib.sh"
trap 'exit 130' INT TERM HUP # run the EXIT trap (e2e_cleanup) on signals too

NS_SRV=sprd-e2e-srv-$$
NS_CLI=sprd-e2e-cli-$$
IF_SRV=spr$$s # <= 15 characters
IF_CLI=spr$$c
SRV_IP=198.18.0.1
CLI_NET=198.18.0 # client addresses $CLI_NET.10 .. .25
PROBE="$SRC/tests/e2e/netns_probe.py"
in_srv() { ip netns exec "$NS_SRV" "$@"; }
in_cli() { ip netns exec "$NS_CLI" "$@"; }
io_stat() { ctl_eval "$CTL" "r['io']['$1']" stats; }
sip_stat() { ctl_eval "$CTL" "r['sip']['$1']" stats; }

# --- the two namespaces and the veth between them ---
E2E_ON_EXIT+=("ip netns del $NS_SRV 2>/dev/null" "ip netns del $NS_CLI 2>/dev/null"
	"rmdir /var/run/dpdk/sprd-e2e-$$ 2>/dev/null") # EAL leaves its runtime dir, empty
ip netns add "$NS_SRV" && ip netns add "$NS_CLI" || exit 1
for ns in "$NS_SRV" "$NS_CLI"; do
	# no IPv6 on these links: no DAD, no router solicitations
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
	ip -n "$ns" link set lo up
done
ip link add "$IF_SRV" netns "$NS_SRV" type veth peer name "$IF_CLI" netns "$NS_CLI" || exit 1
ip -n "$NS_SRV" link set "$IF_SRV" up # no kernel address: sprd owns $SRV_IP through DPDK
for i in $(seq 10 25); do ip -n "$NS_CLI" addr add "$CLI_NET.$i/24" dev "$IF_CLI"; done
# With tx checksum offload a veth hands the peer CHECKSUM_PARTIAL packets whose
# UDP checksum is only the pseudo-header sum; AF_PACKET gives sprd those bytes
# as they are and sprd rightly drops them (drop_udp_csum). Real checksums:
in_cli ethtool -K "$IF_CLI" tx off >/dev/null || exit 1
ip -n "$NS_CLI" link set "$IF_CLI" up

# --- sprd in the server namespace on net_af_packet ---
E2E_SPRD_WRAP=(ip netns exec "$NS_SRV")
E2E_SPRD_EAL=(--no-huge --no-pci -m 1024 --no-shconf --no-telemetry
	--file-prefix "sprd-e2e-$$" --lcores '(0-1)@(0-1)' --log-level '*:warning'
	--vdev "net_af_packet0,iface=$IF_SRV")
# net_af_packet with one qpair: one TX queue, the worker's. Control's NOTIFYs go
# out through it (a relay ring that worker 0 drains at its flush).
SPRD_OPTS=(--io dpdk --listen "$SRV_IP:5060" --workers 1 --min-expires 60)
start_sprd srv "${SPRD_OPTS[@]}" || exit 1
CTL=$SPRD_CTL_srv
ok "sprd runs in $NS_SRV with ${E2E_SPRD_EAL[-1]}"

# --- ARP and ICMP echo: a client address whose echo requests get replies ---
CLI_IP=
for i in $(seq 10 25); do
	if in_cli timeout 10 python3 "$PROBE" ping "$CLI_NET.$i" "$SRV_IP" 3 >"$E2E_DIR/ping.out" 2>&1; then
		CLI_IP=$CLI_NET.$i
		break
	fi
done
[ "$i" -gt 10 ] && echo "# $((i - 10)) client address(es) got no echo replies before $CLI_NET.$i"
check "ARP: the client namespace learned sprd's MAC for $SRV_IP" \
	bash -c "ip -n '$NS_CLI' neigh show '$SRV_IP' | grep -q lladdr"
check "ping from $NS_CLI: 3 of 3 ICMP echo requests to $SRV_IP answered" test -n "$CLI_IP"
[ -n "$CLI_IP" ] || { cat "$E2E_DIR/ping.out"; e2e_summary; exit 1; }

# --- a client UDP port whose flow reaches sprd, for SIPp and the probes ---
mapfile -t PORTS < <(seq 31000 31015)
CLI_PORT=$(in_cli timeout 30 python3 "$PROBE" udp-port "$CLI_IP" "$SRV_IP" 5060 "${PORTS[@]}" 2>"$E2E_DIR/port.err")
[ -s "$E2E_DIR/port.err" ] && echo "# $(wc -l <"$E2E_DIR/port.err") source port(s) got no answer before $CLI_PORT"
check "OPTIONS from $CLI_IP:${CLI_PORT:-?} answered 200 through af_packet" test -n "$CLI_PORT"
[ -n "$CLI_PORT" ] || { e2e_summary; exit 1; }

# --- SIPp in the client namespace ---
E2E_SIPP_WRAP=(ip netns exec "$NS_CLI")
E2E_SIPP_IP=$CLI_IP
T=$SRV_IP:5060
users "$E2E_DIR/u200.csv" 200 3600 user
check "register: 200 users get 200 OK" sipp_run "$T" register.xml "$E2E_DIR/u200.csv" 200 200 -p "$CLI_PORT"
check "sprd holds the 200 AORs" \
	test "$(ctl_eval "$CTL" "sum(1 for x in r['records'] if x['aor'].startswith('user') and len(x['bindings']) == 1)" ul.dump --brief)" = 200
check "ul.lookup user7: received is the client namespace's address $CLI_IP:$CLI_PORT" \
	test "$(ctl_eval "$CTL" "r['bindings'][0]['received']" ul.lookup user7@example.com)" = "$CLI_IP:$CLI_PORT"

users "$E2E_DIR/r20.csv" 20 600 bob
check "refresh + fetch (20 users)" sipp_run "$T" refresh_fetch.xml "$E2E_DIR/r20.csv" 20 50 -p "$CLI_PORT"
check "ul.lookup shows bob1 refreshed (cseq 2, q 0.5)" \
	test "$(ctl_eval "$CTL" "r['bindings'][0]['cseq'], r['bindings'][0]['q']" ul.lookup bob1@example.com)" = "(2, 0.5)"

users "$E2E_DIR/x20.csv" 20 600 carol
check "unregister one, then all with '*' (20 users)" sipp_run "$T" unregister.xml "$E2E_DIR/x20.csv" 20 50 -p "$CLI_PORT"
check "carol1 has no binding left" \
	test "$(ctl_eval "$CTL" "len(r['bindings'])" ul.lookup carol1@example.com)" = 0

# --- io counters ---
check "stats: rx_sip > 0, arp_replies > 0, icmp_echo_replies > 0" \
	test "$(ctl_eval "$CTL" "r['io']['rx_sip'] > 0 and r['io']['arp_replies'] > 0 and r['io']['icmp_echo_replies'] > 0" stats)" = True

# --- bad datagrams are counted drops and cost no binding ---
b_csum=$(io_stat drop_udp_csum)
b_short=$(io_stat drop_short)
b_unp=$(sip_stat drop_unparseable)
in_cli python3 "$PROBE" bad-csum "$CLI_IP" "$CLI_PORT" "$SRV_IP" 5060 user1@example.com
for i in $(seq 10 25); do in_cli python3 "$PROBE" short "$CLI_NET.$i" "$SRV_IP"; done
in_cli timeout 5 python3 -c 'import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], int(sys.argv[2])))
s.sendto(b"\x00\xff garbage \x80" + os.urandom(200), (sys.argv[3], 5060))' "$CLI_IP" "$CLI_PORT" "$SRV_IP"
sleep 0.5
check "a REGISTER with a bad UDP checksum is drop_udp_csum ($b_csum -> $(io_stat drop_udp_csum))" \
	test "$(io_stat drop_udp_csum)" -eq $((b_csum + 1))
check "IPv4/UDP datagrams 4 bytes long are drop_short ($b_short -> $(io_stat drop_short))" \
	test "$(io_stat drop_short)" -gt "$b_short"
check "a datagram of garbage is drop_unparseable ($b_unp -> $(sip_stat drop_unparseable))" \
	test "$(sip_stat drop_unparseable)" -eq $((b_unp + 1))
check "user1 still has its binding (the bad-checksum 'Contact: *' was not applied)" \
	test "$(ctl_eval "$CTL" "len(r['bindings'])" ul.lookup user1@example.com)" = 1
check "all 200 AORs still there" \
	test "$(ctl_eval "$CTL" "sum(1 for x in r['records'] if x['aor'].startswith('user') and len(x['bindings']) == 1)" ul.dump --brief)" = 200

# --- presence: NOTIFYs from the control thread reach watchers in the client namespace ---
# Control learns each subscriber's next hop (MAC) from its SUBSCRIBE's frame (SUB_CREATED)
# and its frames leave by worker 0's TX queue; the watchers' 200s come back to the worker,
# which passes them to control (NOTIFY_RESPONSE).
sub_stat() { ctl_eval "$CTL" "r['subscriptions']['$1']" stats; }
users "$E2E_DIR/s3.csv" 3 600 watched
check "SIPp watchers: SUBSCRIBE 200, NOTIFY closed, PUBLISH -> NOTIFY open, unsubscribe -> NOTIFY terminated (3 calls)" \
	sipp_run "$T" subscribe_notify.xml "$E2E_DIR/s3.csv" 3 10 -p "$CLI_PORT"
check "stats: 3 created, 3 unsubscribed, 9 NOTIFYs sent and 9 answered 2xx, none in flight, no send error, nothing left" \
	test "$(ctl_eval "$CTL" "[r['subscriptions'][k] for k in ('created', 'unsubscribed', 'notify_sent', 'notify_2xx', 'notify_in_flight', 'notify_send_error', 'notify_no_io', 'watchers', 'engine_subscriptions')]" stats)" = "[3, 3, 9, 9, 0, 0, 0, 0, 0]"
check "the NOTIFYs left by control's relay through worker 0's queue (control_io tx_pkts, io tx_relayed >= 9, drop_no_neigh 0)" \
	test "$(ctl_eval "$CTL" "r['control_io']['tx_pkts'] >= 9 and r['io']['tx_relayed'] == r['control_io']['tx_pkts'] and r['control_io']['drop_no_neigh'] == 0 and r['control_io']['tx_drop'] == 0" stats)" = True

W="$SRC/tests/e2e/watcher.py"
# notifies FILE N: the watcher's output has at least N NOTIFYs (steps wait for that, bounded,
# not for a fixed time: under load a watcher's Python start-up alone takes longer)
notifies() { [ "$(grep -c '"cseq"' "$1")" -ge "$2" ]; }
in_cli python3 "$W" "$T" dora@example.com ok 60 600 bind="$CLI_IP" max=3 >"$E2E_DIR/ok.out" &
wpid=$!
wait_until 20 notifies "$E2E_DIR/ok.out" 1
p1=$(in_cli python3 "$PROBE" publish "$CLI_IP" "$SRV_IP" 5060 dora@example.com "$E2E_DIR/dora.etag" open)
wait_until 20 notifies "$E2E_DIR/ok.out" 2
sleep 1.1 # past the 1 s throttle
p2=$(in_cli python3 "$PROBE" publish "$CLI_IP" "$SRV_IP" 5060 dora@example.com "$E2E_DIR/dora.etag" closed)
wait $wpid
check "two PUBLISHes from $NS_CLI answered 200 ($p1, $p2)" test "$p1 $p2" = "SIP/2.0 200 OK SIP/2.0 200 OK"
check "python watcher over af_packet: NOTIFYs closed, open, closed (the PUBLISHes' basic status), CSeq rising, each sent once" \
	python3 - "$E2E_DIR/ok.out" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
n = [l for l in lines if "cseq" in l]
print("#", [(x["t"], x["cseq"], x["basic"]) for x in n])
ok = (lines[0].get("status") == 200 and [x["basic"] for x in n] == ["closed", "open", "closed"]
      and all(b["cseq"] > a["cseq"] for a, b in zip(n, n[1:]))
      and all(x["state"].startswith("active;expires=") for x in n))
sys.exit(0 if ok else 1)
PY
r0=$(sub_stat notify_retransmits)
sleep 1.2 # Timer E (T1 500 ms) would have fired by now for a NOTIFY still in flight
check "dora's three 200s ended the transactions: nothing in flight, no retransmission ($r0 -> $(sub_stat notify_retransmits))" \
	test "$(ctl_eval "$CTL" "[(w['state'], w['notify_cseq']) for w in r['watchers']]" presence.watchers dora@example.com) $(sub_stat notify_in_flight) $(sub_stat notify_retransmits)" = "[('active', 3)] 0 $r0"

# the same path without the 200s: Timer E retransmits (0, 0.5, 1.5 s), same CSeq and branch
in_cli python3 "$W" "$T" ed@example.com silent 2.5 600 bind="$CLI_IP" >"$E2E_DIR/silent.out"
check "a watcher that never answers gets the NOTIFY retransmitted (same CSeq and branch); notify_retransmits rises ($r0 -> $(sub_stat notify_retransmits))" \
	python3 - "$E2E_DIR/silent.out" "$r0" "$(sub_stat notify_retransmits)" <<'PY'
import json, sys
n = [json.loads(l) for l in open(sys.argv[1]) if '"cseq"' in l]
print("#", [(x["t"], x["cseq"]) for x in n])
ok = (len(n) >= 2 and len({x["cseq"] for x in n}) == 1 and len({x["branch"] for x in n}) == 1
      and int(sys.argv[3]) >= int(sys.argv[2]) + len(n) - 1)
sys.exit(0 if ok else 1)
PY
# two devices with long notes compose into a ~2.3 KB document: its NOTIFY leaves in IPv4
# fragments (the veth's MTU is 1,500) and the client namespace's kernel puts it together
in_cli python3 "$W" "$T" fred@example.com ok 60 600 bind="$CLI_IP" max=3 >"$E2E_DIR/big.out" &
wpid=$!
wait_until 20 notifies "$E2E_DIR/big.out" 1
q1=$(in_cli python3 "$PROBE" publish "$CLI_IP" "$SRV_IP" 5060 fred@example.com "$E2E_DIR/fred1.etag" open 1000 phone)
wait_until 20 notifies "$E2E_DIR/big.out" 2
q2=$(in_cli python3 "$PROBE" publish "$CLI_IP" "$SRV_IP" 5060 fred@example.com "$E2E_DIR/fred2.etag" closed 1000 desk)
wait $wpid
check "two devices' PUBLISHes answered 200 ($q1, $q2)" test "$q1 $q2" = "SIP/2.0 200 OK SIP/2.0 200 OK"
check "a NOTIFY larger than the MTU arrives whole (fragmented by sprd): both devices' tuples, answered 200" \
	python3 - "$E2E_DIR/big.out" <<'PY'
import json, sys
n = [json.loads(l) for l in open(sys.argv[1]) if '"cseq"' in l]
print("#", [(x["cseq"], x["bytes"], x["tuples"]) for x in n])
ok = len(n) == 3 and n[-1]["bytes"] > 1472 and sorted(t[0] for t in n[-1]["tuples"]) == ["desk", "phone"]
sys.exit(0 if ok else 1)
PY
check "control_io counted the fragments (tx_frags >= 2), no send error, nothing in flight" \
	test "$(ctl_eval "$CTL" "r['control_io']['tx_frags'] >= 2 and r['subscriptions']['notify_send_error'] == 0 and r['control_io']['drop_reply_size'] == 0" stats) $(ctl_eval "$CTL" "[(w['state'], w['notify_cseq']) for w in r['watchers']]" presence.watchers fred@example.com)" = "True [('active', 3)]"

echo "# io: $(ctl_eval "$CTL" "' '.join(f'{k}={v}' for k, v in r['io'].items() if v)" stats)"
echo "# control_io: $(ctl_eval "$CTL" "' '.join(f'{k}={v}' for k, v in r['control_io'].items() if v)" stats)"

check "sprd stops cleanly on SIGTERM (exit 0)" stop_sprd srv

e2e_summary
