#!/usr/bin/env bash
# End to end SUBSCRIBE/NOTIFY (RFC 6665, RFC 3856) on the socket backend,
# 127.0.0.1 only: SIPp watchers (initial NOTIFY, PUBLISH -> NOTIFY, unsubscribe,
# expiry), and a Python watcher for what SIPp cannot easily show (NOTIFY CSeq
# across changes, a watcher that never answers: retransmissions then Timer F, a
# watcher answering 481, the throttle, 10 PUBLISHes in a burst, two devices
# aggregating). Usage: presence.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
. "$SRC/tests/e2e/lib.sh"

command -v sipp >/dev/null || { echo "sipp not installed (scripts/setup.sh installs sip-tester)"; exit 1; }

P1=$((10000 + RANDOM % 9000))
P2=$((P1 + 1))
T1=127.0.0.1:$P1
T2=127.0.0.1:$P2
W="$SRC/tests/e2e/watcher.py"

# Conditions the steps wait for (wait_until, bounded) instead of sleeping a fixed time: under
# load a watcher's Python start-up alone can take longer than any fixed sleep.
# notifies FILE N: the watcher's output FILE has at least N NOTIFY lines.
notifies() { [ "$(grep -c '"cseq"' "$1")" -ge "$2" ]; }
# last_basic FILE N BASIC: at least N NOTIFYs, the last one's basic status BASIC.
last_basic() { notifies "$1" "$2" && [ "$(grep '"cseq"' "$1" | tail -1 | python3 -c "import json,sys; print(json.load(sys.stdin)['basic'])")" = "$3" ]; }

# publish TARGET AOR BASIC...: for each BASIC one PUBLISH of a PIDF document with that basic
# status, each modifying the AOR's earlier publication from here (SIP-If-Match, RFC 3903 §4.4);
# prints the status lines. With DEV=NAME in the environment the publications are device NAME's
# (its own entity-tag, tuple id NAME): another device of the same presentity.
publish() {
	python3 - "$@" "$E2E_DIR/etag-$2${DEV:+-$DEV}" <<'PY'
import os, socket, sys, time
target, aor, etagf = sys.argv[1], sys.argv[2], sys.argv[-1]
dev = os.environ.get("DEV", "t1")
for basic in sys.argv[3:-1]:
  body = (f'<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:{aor}">'
        f'<tuple id="{dev}"><status><basic>{basic}</basic></status></tuple></presence>').encode()
  tag = f"{time.time()}"
  match = f"SIP-If-Match: {open(etagf).read()}\r\n" if os.path.exists(etagf) else ""
  msg = (f"PUBLISH sip:{aor} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKp{tag}\r\n"
         f"Max-Forwards: 70\r\nFrom: <sip:{aor}>;tag=p\r\nTo: <sip:{aor}>\r\nCall-ID: pub-{tag}@e2e\r\n"
         f"CSeq: 1 PUBLISH\r\nEvent: presence\r\nExpires: 600\r\n{match}"
         f"Content-Type: application/pidf+xml\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
  s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
  s.settimeout(2)
  host, port = target.rsplit(":", 1)
  s.sendto(msg, (host, int(port)))
  resp = s.recv(65535).decode(errors="replace").split("\r\n")
  etag = next((l.split(":", 1)[1].strip() for l in resp if l.lower().startswith("sip-etag:")), "")
  if etag:
      open(etagf, "w").write(etag)
  print(resp[0])
PY
}

# --- SIPp watchers on defaults (T1 500 ms, at most one NOTIFY a second) ---
start_sprd a --listen "$T1" --min-expires 2 --max-expires 3600 || exit 1
CTL=$SPRD_CTL_a

users "$E2E_DIR/s3.csv" 3 600 watched
check "SIPp: SUBSCRIBE 200 (To-tag, Expires, Contact), NOTIFY closed, PUBLISH -> NOTIFY open, unsubscribe -> NOTIFY terminated, CSeq rising" \
	sipp_run "$T1" subscribe_notify.xml "$E2E_DIR/s3.csv" 3 10
check "after the unsubscribes watched1 has no watcher (engine and store)" \
	test "$(ctl_eval "$CTL" "len(r['watchers'])" presence.watchers watched1@example.com)" = 0
check "stats: 3 created, 3 unsubscribed, nothing left, 9 NOTIFYs answered 2xx" \
	test "$("$BUILD/sprctl" --ctl "$CTL" stats | python3 -c "import json,sys; s=json.load(sys.stdin)['subscriptions']; print(s['created'], s['unsubscribed'], s['watchers'], s['engine_subscriptions'], s['notify_2xx'])")" = "3 3 0 0 9"

users "$E2E_DIR/x2.csv" 2 2 fleeting
check "SIPp: a 2 s subscription ends with NOTIFY terminated;reason=timeout" \
	sipp_run "$T1" subscribe_expire.xml "$E2E_DIR/x2.csv" 2 10
check "the worker's timer expired both (subscriptions.expired 2)" \
	test "$("$BUILD/sprctl" --ctl "$CTL" stats | python3 -c "import json,sys; print(json.load(sys.stdin)['subscriptions']['expired'])")" = 2

# throttle: two changes within a second give one NOTIFY later with the last state
python3 "$W" "$T1" thr@example.com ok 60 600 stop="$E2E_DIR/thr.stop" >"$E2E_DIR/thr.out" &
wpid=$!
wait_until 20 notifies "$E2E_DIR/thr.out" 1 # subscribed: the initial NOTIFY is in
publish "$T1" thr@example.com open closed open open closed open >/dev/null
wait_until 20 last_basic "$E2E_DIR/thr.out" 2 open
sleep 1.2 # one throttle interval more: a NOTIFY still held back would come in it
touch "$E2E_DIR/thr.stop"
wait $wpid
check "throttle: six changes after the initial NOTIFY give fewer NOTIFYs, at least 1 s apart, the last one open" \
	python3 - "$E2E_DIR/thr.out" <<'PY'
import json, sys
n = [json.loads(l) for l in open(sys.argv[1]) if '"cseq"' in l]
print("#", [(x["t"], x["cseq"], x["basic"]) for x in n])
ok = (2 <= len(n) <= 4 and n[0]["basic"] == "closed" and n[-1]["basic"] == "open"
      and all(b["t"] - a["t"] >= 0.95 for a, b in zip(n, n[1:]))
      and all(b["cseq"] > a["cseq"] for a, b in zip(n, n[1:])))
sys.exit(0 if ok else 1)
PY

# issue "Presence" test list: 10 PUBLISHes in 100 ms give at most 2 NOTIFYs and the last state
python3 "$W" "$T1" burst@example.com ok 60 600 stop="$E2E_DIR/burst.stop" >"$E2E_DIR/burst.out" &
wpid=$!
wait_until 20 notifies "$E2E_DIR/burst.out" 1
sleep 1.2 # the throttle interval since the initial NOTIFY is over: the first change goes at once
t0=$(date +%s%N)
burst=$(publish "$T1" burst@example.com open closed open closed open closed open closed open closed)
echo "# 10 PUBLISHes (each waiting for its 200 and new ETag) took $((($(date +%s%N) - t0) / 1000000)) ms; load $(cut -d' ' -f1 /proc/loadavg)"
wait_until 20 last_basic "$E2E_DIR/burst.out" 2 closed
sleep 1.2 # one throttle interval more: a NOTIFY still held back would come in it
touch "$E2E_DIR/burst.stop"
wait $wpid
check "10 PUBLISHes answered 200" test "$(echo "$burst" | grep -c '200 OK')" = 10
check "10 PUBLISHes in a burst: at most 2 NOTIFYs after the initial one, the last with the last state (closed)" \
	python3 - "$E2E_DIR/burst.out" <<'PY'
import json, sys
n = [json.loads(l) for l in open(sys.argv[1]) if '"cseq"' in l]
print("#", [(x["t"], x["cseq"], x["basic"]) for x in n])
ok = 2 <= len(n) <= 3 and n[0]["basic"] == "closed" and n[-1]["basic"] == "closed"
sys.exit(0 if ok else 1)
PY
check "sprd a stops cleanly on SIGTERM" stop_sprd a

# --- Python watchers with T1 100 ms (Timer F 6.4 s) and no throttle ---
start_sprd b --listen "$T2" --min-expires 2 --sip-t1 100 --notify-min-interval 0 || exit 1
CTL=$SPRD_CTL_b

# each PUBLISH once the NOTIFY of the one before is in (no throttle: one NOTIFY per change)
python3 "$W" "$T2" carol@example.com ok 60 600 max=4 >"$E2E_DIR/ok.out" &
wpid=$!
wait_until 20 notifies "$E2E_DIR/ok.out" 1
r1=$(publish "$T2" carol@example.com open)
wait_until 20 notifies "$E2E_DIR/ok.out" 2
r2=$(publish "$T2" carol@example.com closed)
wait_until 20 notifies "$E2E_DIR/ok.out" 3
r3=$(publish "$T2" carol@example.com open)
wait_until 20 notifies "$E2E_DIR/ok.out" 4
check "presence.watchers lists carol's watcher: active, its dialog, NOTIFY CSeq 4" \
	test "$(ctl_eval "$CTL" "[(w['state'], w['notify_cseq'], len(w['to_tag']), w['watcher'].startswith('sip:watcher')) for w in r['watchers']]" presence.watchers carol@example.com)" = "[('active', 4, 16, True)]"
wait $wpid
check "three PUBLISHes answered 200" test "$r1 $r2 $r3" = "SIP/2.0 200 OK SIP/2.0 200 OK SIP/2.0 200 OK"
check "four NOTIFYs: closed, open, closed, open; CSeq strictly increasing; all active" \
	python3 - "$E2E_DIR/ok.out" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
n = [l for l in lines if "cseq" in l]
print("#", n)
ok = (lines[0].get("status") == 200 and [x["basic"] for x in n] == ["closed", "open", "closed", "open"]
      and all(b["cseq"] > a["cseq"] for a, b in zip(n, n[1:]))
      and all(x["state"].startswith("active;expires=") for x in n))
sys.exit(0 if ok else 1)
PY

python3 "$W" "$T2" dave@example.com silent 8 >"$E2E_DIR/silent.out"
check "a watcher that never answers: the NOTIFY is retransmitted (same CSeq and branch, T1 doubling) until Timer F (6.4 s)" \
	python3 - "$E2E_DIR/silent.out" <<'PY'
import json, sys
n = [json.loads(l) for l in open(sys.argv[1]) if '"cseq"' in l]
print("#", [(x["t"], x["cseq"]) for x in n])
ok = (len(n) >= 6 and len({x["cseq"] for x in n}) == 1 and len({x["branch"] for x in n}) == 1
      and n[-1]["t"] < 6.6 and n[1]["t"] - n[0]["t"] < n[3]["t"] - n[2]["t"])
sys.exit(0 if ok else 1)
PY
dave_gone() {
	test "$(ctl_eval "$CTL" "len(r['watchers'])" presence.watchers dave@example.com) $("$BUILD/sprctl" --ctl "$CTL" stats | python3 -c "import json,sys; s=json.load(sys.stdin)['subscriptions']; print(s['notify_timeout'], s['removed'], s['notify_retransmits'] >= 5)")" = "0 1 1 True"
}
check "after Timer F dave has no watcher, in the engine or the store" wait_until 10 dave_gone

# the watcher listens until the subscription is gone, so a second NOTIFY would be seen
python3 "$W" "$T2" erin@example.com 481 60 600 stop="$E2E_DIR/481.stop" >"$E2E_DIR/481.out" &
wpid=$!
erin_gone() {
	test "$(ctl_eval "$CTL" "len(r['watchers'])" presence.watchers erin@example.com) $("$BUILD/sprctl" --ctl "$CTL" stats | python3 -c "import json,sys; s=json.load(sys.stdin)['subscriptions']; print(s['notify_481_408'], s['removed'])")" = "0 1 2"
}
wait_until 20 notifies "$E2E_DIR/481.out" 1
wait_until 10 erin_gone
touch "$E2E_DIR/481.stop"
wait $wpid
check "a watcher answering 481: one NOTIFY, then the subscription is gone (engine and store)" \
	test "$(grep -c '"cseq"' "$E2E_DIR/481.out") $(erin_gone && echo gone)" = "1 gone"
python3 "$W" "$T2" frank@example.com ok-src 20 600 max=1 >"$E2E_DIR/src.out"
# completed: control counted the 200 (carol's four and frank's one); nothing to retransmit
frank_done() {
	test "$(ctl_eval "$CTL" "[(w['state'], w['notify_cseq']) for w in r['watchers']]" presence.watchers frank@example.com) $("$BUILD/sprctl" --ctl "$CTL" stats | python3 -c "import json,sys; print(json.load(sys.stdin)['subscriptions']['notify_2xx'])")" = "[('active', 1)] 5"
}
check "a 200 sent to the NOTIFY's source port (control's own socket) completes the transaction too" \
	wait_until 10 frank_done
check "carol's and frank's subscriptions are the only ones left" \
	test "$("$BUILD/sprctl" --ctl "$CTL" stats | python3 -c "import json,sys; s=json.load(sys.stdin)['subscriptions']; print(s['watchers'], s['engine_subscriptions'])")" = "2 2"

# issue "Presence" test list: two devices aggregate — two publications (two entity-tags) make one
# document with both tuples, open first, so the presentity is open when any device is
python3 "$W" "$T2" duo@example.com ok 60 600 stop="$E2E_DIR/duo.stop" >"$E2E_DIR/duo.out" &
wpid=$!
wait_until 20 notifies "$E2E_DIR/duo.out" 1
ra=$(DEV=desk publish "$T2" duo@example.com closed)
wait_until 20 notifies "$E2E_DIR/duo.out" 2
rb=$(DEV=phone publish "$T2" duo@example.com open)
wait_until 20 notifies "$E2E_DIR/duo.out" 3
check "two devices: both PUBLISHes 200, presence.show has two publications (two entity-tags), composed state available" \
	test "$ra $rb $(ctl_eval "$CTL" "(len(r['publications']), len({p['etag'] for p in r['publications']}), r.get('state'))" presence.show duo@example.com)" = "SIP/2.0 200 OK SIP/2.0 200 OK (2, 2, 'available')"
sleep 0.3 # a fourth NOTIFY (there must be none) would come at once: no throttle
touch "$E2E_DIR/duo.stop"
wait $wpid
check "two devices: the watcher's last NOTIFY has both tuples, phone open first, desk closed; basic open" \
	python3 - "$E2E_DIR/duo.out" <<'PY'
import json, sys
n = [json.loads(l) for l in open(sys.argv[1]) if '"cseq"' in l]
print("#", [(x["cseq"], x["tuples"]) for x in n])
ok = (len(n) == 3 and n[0]["basic"] == "closed" and n[1]["tuples"] == [["desk", "closed"]]
      and n[2]["tuples"] == [["phone", "open"], ["desk", "closed"]] and n[2]["basic"] == "open")
sys.exit(0 if ok else 1)
PY
check "sprd b stops cleanly on SIGTERM" stop_sprd b

e2e_summary
