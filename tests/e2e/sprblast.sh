#!/usr/bin/env bash
# sprblast, the load generator, end to end on 127.0.0.1 (and, as root, in a
# network namespace this script creates and deletes): against a real sprd
# (socket backend) for register/refresh and the presence scenarios sprd answers
# today, against a small Python presence server for the ETag / dialog / NOTIFY
# logic, and its pcap output parsed back. Checks counts, never times.
# Usage: sprblast.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
. "$SRC/tests/e2e/lib.sh"
trap 'exit 130' INT TERM HUP # run the EXIT trap (e2e_cleanup) on signals too

BLAST=$BUILD/sprblast
P1=$((20000 + RANDOM % 10000))
T1=127.0.0.1:$P1

start_sprd one --listen "$T1" --init-aors 8192 || exit 1
CTL=$SPRD_CTL_one

# blast NAME ARGS...: sprblast --json into $E2E_DIR/NAME.json, exit status into $E2E_DIR/NAME.rc
blast() {
	local name=$1
	shift
	timeout 120 "$BLAST" --json "$@" >"$E2E_DIR/$name.json" 2>"$E2E_DIR/$name.err"
	echo $? >"$E2E_DIR/$name.rc"
}
# jcheck NAME PYTHON-EXPR: the expression on r (the JSON object) and rc holds
jcheck() {
	python3 - "$E2E_DIR/$1.json" "$E2E_DIR/$1.rc" "$2" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
rc = int(open(sys.argv[2]).read())
ok = eval(sys.argv[3])
if not ok:
    print("# " + json.dumps(r)[:1500] + " rc=%d" % rc, file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
}
PCTS="r['latency_us']['p50'] <= r['latency_us']['p90'] <= r['latency_us']['p99'] <= r['latency_us']['p99.9'] <= r['latency_us']['max'] and r['latency_us']['p50'] > 0"
refreshed() { ctl_eval "$CTL" "r['registrar']['bindings_refreshed']" stats; }

# --- register: every user once ---
blast reg --target "$T1" --scenario register --users 2000 --window 64 --duration 20
check "register: sent == answered == 2000, all 200, no timeout, exit 0" \
	jcheck reg "rc == 0 and r['sent'] == r['answered'] == 2000 and r['by_status'] == {'200': 2000} and r['timeouts'] == 0"
check "register: p50 <= p90 <= p99 <= p99.9 <= max" jcheck reg "$PCTS"
check "sprd holds u0001999's binding" \
	test "$(ctl_eval "$CTL" "len(r['bindings'])" ul.lookup u0001999@example.com)" -ge 1

# --- refresh: setup registers, then refreshes on the same Call-ID ---
before=$(refreshed)
blast ref --target "$T1" --scenario refresh --users 500 --duration 3
after=$(refreshed)
check "refresh: setup 500 x 200, every refresh answered 200, exit 0" \
	jcheck ref "rc == 0 and r['setup']['by_status'] == {'200': 500} and r['answered'] == r['sent'] > 500 and r['by_status'] == {'200': r['sent']} and r['timeouts'] == 0"
check "refresh: p50 <= p90 <= p99 <= p99.9 <= max" jcheck ref "$PCTS"
check "sprctl: bindings_refreshed grew by at least the answered refreshes" \
	jcheck ref "$after - $before >= r['methods']['REGISTER']['answered']"

blast ref2 --target "$T1" --scenario refresh --users 1000 --threads 2 --sockets 4 --rate 2000 --duration 1
check "refresh, 2 threads x 2 sockets at 2000/s: all answered 200" \
	jcheck ref2 "rc == 0 and r['sockets'] == 4 and r['answered'] == r['sent'] > 0 and list(r['by_status']) == ['200']"

# --- presence scenarios against sprd, whose PUBLISH/SUBSCRIBE are under construction: whatever
# it does, every request sent is either answered (counted by status) or a timeout, and the exit
# status says which ---
for sc in publish subscribe mix; do
	blast "$sc" --target "$T1" --scenario "$sc" --users 200 --duration 1 --timeout 500
	check "$sc against sprd: sent == answered + timeouts, exit 0 iff no timeout ($(python3 -c "import json; r=json.load(open('$E2E_DIR/$sc.json')); print('answers', r['by_status'], 'timeouts', r['timeouts'])" 2>/dev/null))" \
		jcheck "$sc" "r['sent'] > 0 and r['sent'] == r['answered'] + r['timeouts'] and rc == (1 if r['timeouts'] else 0) and sum(r['by_status'].values()) == r['answered']"
done
check "mix: all three methods sent" \
	jcheck mix "sorted(r['methods']) == ['PUBLISH', 'REGISTER', 'SUBSCRIBE'] and r['setup']['sent'] == 200"

# --- nothing listening: timeouts, exit 1 ---
PDEAD=$((P1 + 1))
blast dead --target "127.0.0.1:$PDEAD" --scenario register --users 20 --timeout 300 --duration 5
check "no listener: 20 timeouts, nothing answered, exit 1" \
	jcheck dead "rc == 1 and r['sent'] == 20 and r['timeouts'] == 20 and r['answered'] == 0"

# --- a listener that never answers: with --retransmit, one retransmission (T1 = 500 ms) per
# request before its 1200 ms timeout ---
python3 -c "import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
open(sys.argv[1], 'w').write(str(s.getsockname()[1]))
time.sleep(60)" "$E2E_DIR/silent.port" &
E2E_PIDS+=("$!")
for _ in $(seq 50); do [ -s "$E2E_DIR/silent.port" ] && break; sleep 0.1; done
blast silent --target "127.0.0.1:$(cat "$E2E_DIR/silent.port")" --users 5 --timeout 1200 --retransmit
check "silent listener, --retransmit: 5 retransmissions, 5 timeouts, exit 1" \
	jcheck silent "rc == 1 and r['sent'] == 5 and r['retransmits'] == 5 and r['timeouts'] == 5"

# --- usage errors: exit 2 ---
"$BLAST" --target "$T1" --window 0 >/dev/null 2>&1
check "--window 0 is refused with exit 2" test $? = 2
"$BLAST" --scenario register >/dev/null 2>&1
check "a run without --target is refused with exit 2" test $? = 2

# --- a presence server in Python: ETags, SUBSCRIBE dialogs, NOTIFY answers ---
cat >"$E2E_DIR/presence.py" <<'EOF'
# Answers PUBLISH with 200 + SIP-ETag, SUBSCRIBE with 200 (To-tag on the initial one, then a
# NOTIFY), checks the client's refreshes and NOTIFY answers; QUIT ends it (or 60 s).
import json, re, socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
st = dict(pub_initial=0, pub_refresh_ok=0, pub_bad=0, sub_initial=0, sub_in_dialog=0,
          sub_bad=0, notify_sent=0, notify_200=0, notify_bad=0)
etags, dialogs, n = {}, {}, 0
s.settimeout(0.2)
end = time.time() + 60
while time.time() < end:
    try:
        data, peer = s.recvfrom(65535)
    except socket.timeout:
        continue
    if data.strip() == b"QUIT":
        break
    head, _, body = data.decode().partition("\r\n\r\n")
    lines = head.split("\r\n")
    def hdr(name):
        for l in lines[1:]:
            k, _, v = l.partition(":")
            if k.strip().lower() == name.lower():
                return v.strip()
        return None
    if lines[0].startswith("SIP/2.0 "):
        ok = lines[0].startswith("SIP/2.0 200") and hdr("CSeq") == "1 NOTIFY" and \
            hdr("Call-ID") in dialogs and "branch=z9hG4bK-fake" in (hdr("Via") or "")
        st["notify_200" if ok else "notify_bad"] += 1
        continue
    method, to, cid = lines[0].split()[0], hdr("To"), hdr("Call-ID")
    extra, notify = [], False
    if method == "PUBLISH":
        user = re.search(r"sip:(u\d+)@", lines[0]).group(1)
        match = hdr("SIP-If-Match")
        if match is None and body.startswith("<?xml") and "<basic>open</basic>" in body:
            st["pub_initial"] += 1
        elif match is not None and match == etags.get(user) and body == "":
            st["pub_refresh_ok"] += 1
        else:
            st["pub_bad"] += 1
        n += 1
        etags[user] = "e%d" % n
        extra = ["SIP-ETag: e%d" % n, "Expires: 3600"]
    elif method == "SUBSCRIBE":
        if ";tag=" not in to:
            st["sub_initial"] += 1
            dialogs[cid] = "t%d" % len(dialogs)
            to += ";tag=" + dialogs[cid]
            notify = True
        elif cid in dialogs and to.endswith(";tag=" + dialogs[cid]):
            st["sub_in_dialog"] += 1
        else:
            st["sub_bad"] += 1
        extra = ["Expires: 600"]
    out = ["SIP/2.0 200 OK"]
    for l in lines[1:]:
        k = l.partition(":")[0].strip().lower()
        if k in ("via", "from", "call-id", "cseq"):
            out.append(l)
        elif k == "to":
            out.append("To: " + to)
    s.sendto(("\r\n".join(out + extra + ["Content-Length: 0", "", ""])).encode(), peer)
    if notify:
        st["notify_sent"] += 1
        me = "127.0.0.1:%d" % s.getsockname()[1]
        msg = ["NOTIFY sip:%s:%d SIP/2.0" % peer,
               "Via: SIP/2.0/UDP %s;branch=z9hG4bK-fake-%d" % (me, st["notify_sent"]),
               "Max-Forwards: 70", "From: " + to, "To: " + hdr("From"), "Call-ID: " + cid,
               "CSeq: 1 NOTIFY", "Contact: <sip:%s>" % me, "Event: presence",
               "Subscription-State: active;expires=600", "Content-Length: 0", "", ""]
        s.sendto("\r\n".join(msg).encode(), peer)
print(json.dumps(st))
EOF
# fake SCENARIO: runs sprblast against a fresh presence.py; its counters in $E2E_DIR/fake-SCENARIO.srv
fake() {
	local sc=$1 pf="$E2E_DIR/fake-$1.port"
	python3 "$E2E_DIR/presence.py" "$pf" >"$E2E_DIR/fake-$sc.srv" &
	local pid=$!
	E2E_PIDS+=("$pid")
	for _ in $(seq 50); do [ -s "$pf" ] && break; sleep 0.1; done
	blast "fake-$sc" --target "127.0.0.1:$(cat "$pf")" --scenario "$sc" --users 50 --window 8 \
		--rate 1000 --duration 2
	echo QUIT >"/dev/udp/127.0.0.1/$(cat "$pf")"
	wait "$pid"
}
srv() { python3 -c "import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$E2E_DIR/fake-$1.srv" || { cat "$E2E_DIR/fake-$1.srv" >&2; false; }; }

fake publish
check "publish: all 200 from the presence server" \
	jcheck fake-publish "rc == 0 and r['by_status'] == {'200': r['sent']} and r['sent'] > 50"
check "publish: one initial PUBLISH with PIDF per user, then refreshes with the last SIP-ETag and no body" \
	srv publish "s['pub_initial'] == 50 and s['pub_refresh_ok'] > 0 and s['pub_bad'] == 0"

fake subscribe
check "subscribe: all 200, 50 NOTIFYs received and answered" \
	jcheck fake-subscribe "rc == 0 and r['by_status'] == {'200': r['sent']} and r['notify_received'] == r['notify_answered'] == 50"
check "subscribe: one initial SUBSCRIBE per user, refreshes in its dialog, NOTIFYs answered 200 with their Via/Call-ID/CSeq" \
	srv subscribe "s['sub_initial'] == 50 and s['sub_in_dialog'] > 0 and s['sub_bad'] == 0 and s['notify_sent'] == s['notify_200'] == 50 and s['notify_bad'] == 0"

# --- pcap output ---
cat >"$E2E_DIR/pcap.py" <<'EOF'
# pcap.py FILE RECORDS DPORT METHOD [TOKENS]: classic pcap, Ethernet/IPv4/UDP, valid checksums
import struct, sys
f, want, dport, method = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].encode()
tokens = sys.argv[5].split(",") if len(sys.argv) > 5 else None
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s
d = open(f, "rb").read()
magic, vmaj, vmin, _, _, snap, link = struct.unpack("<IHHiIII", d[:24])
assert magic == 0xA1B2C3D4 and (vmaj, vmin) == (2, 4) and link == 1, "pcap header"
off, n, srcs = 24, 0, set()
while off < len(d):
    _, _, incl, orig = struct.unpack("<IIII", d[off:off + 16])
    pkt = d[off + 16:off + 16 + incl]
    off += 16 + incl
    assert incl == orig == len(pkt), "record %d length" % n
    assert pkt[12:14] == b"\x08\x00", "ethertype"
    ip, udp = pkt[14:34], pkt[34:]
    assert ip[0] == 0x45 and ip[9] == 17 and struct.unpack("!H", ip[2:4])[0] == len(pkt) - 14
    assert csum(ip) == 0xFFFF, "IPv4 checksum of record %d" % n
    sport, dp, ulen, uck = struct.unpack("!HHHH", udp[:8])
    assert dp == dport and ulen == len(udp), "UDP port/length"
    assert uck == 0 or csum(ip[12:20] + struct.pack("!HH", 17, ulen) + udp) == 0xFFFF, "UDP checksum"
    payload = udp[8:]
    assert payload.startswith(method + b" "), payload[:20]
    if tokens:
        assert (b"Authorization: Bearer " + tokens[n % len(tokens)].encode() + b"\r\n") in payload
    srcs.add(ip[12:16])
    n += 1
assert n == want, "%d records, want %d" % (n, want)
assert len(srcs) == min(n, want), "distinct sources"
EOF
"$BLAST" --target "$T1" --pcap-out "$E2E_DIR/r.pcap" --users 300 >/dev/null 2>&1
check "pcap: 300 REGISTERs, one per user and source address, checksums valid, dport $P1" \
	python3 "$E2E_DIR/pcap.py" "$E2E_DIR/r.pcap" 300 "$P1" REGISTER
printf 'tok-a\ntok-b\ntok-c\n' >"$E2E_DIR/tokens"
"$BLAST" --pcap-dst 198.18.0.1:5060 --pcap-out "$E2E_DIR/p.pcap" --scenario publish --users 10 \
	--token-file "$E2E_DIR/tokens" >/dev/null 2>&1
check "pcap: PUBLISH to --pcap-dst with Authorization: Bearer <line i mod 3>" \
	python3 "$E2E_DIR/pcap.py" "$E2E_DIR/p.pcap" 10 5060 PUBLISH tok-a,tok-b,tok-c

# --- --netns: sprd in a namespace of its own, sprblast joins it ---
if [ "$(id -u)" -eq 0 ] && ip netns list >/dev/null 2>&1; then
	NS=sprblast-e2e-$$
	E2E_ON_EXIT+=("ip netns del $NS 2>/dev/null")
	ip netns add "$NS" && ip -n "$NS" link set lo up
	E2E_SPRD_WRAP=(ip netns exec "$NS")
	start_sprd ns --listen "127.0.0.1:$P1" || exit 1
	blast ns --netns "$NS" --target "127.0.0.1:$P1" --scenario register --users 100 --duration 5
	check "--netns: 100 users registered with the sprd inside the namespace" \
		jcheck ns "rc == 0 and r['by_status'] == {'200': 100}"
	check "the namespace's sprd holds u0000099, not a binding of the default namespace's" \
		test "$(ctl_eval "$SPRD_CTL_ns" "r['registrar']['bindings_added']" stats)" = 100
else
	echo "# skip --netns checks: not root or no 'ip netns'"
fi
"$BLAST" --netns sprblast-no-such-ns --target "$T1" >/dev/null 2>"$E2E_DIR/nons.err"
rc=$?
check "--netns of a missing namespace: exit 3 with a message naming it" \
	eval "test $rc = 3 && grep -q 'sprblast-no-such-ns' '$E2E_DIR/nons.err'"

check "sprd stops cleanly after the runs" stop_sprd one
e2e_summary
