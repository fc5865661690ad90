#!/usr/bin/env bash
# End to end presence modes and subscription rules on the socket backend,
# 127.0.0.1 only, with the Python watcher (tests/e2e/watcher.py):
#  - --mode b2bua: REGISTER makes a watched user available, unregister, expiry
#    and sprctl ul.rm make it offline, a publication wins over registration;
#  - --mode p2p: registering changes nothing a watcher sees;
#  - a fetch (SUBSCRIBE Expires: 0): 200, one NOTIFY of the current state,
#    terminated;reason=timeout, nothing kept;
#  - Event id (RFC 6665 §8.2.1): echoed in every NOTIFY; a second id in the same
#    dialog is a second subscription, the dialog's NOTIFY CSeq shared;
#  - --presence-policy: same-domain (default), open, registered (2 workers, so
#    the watcher's binding may be in the other worker's shard): 403 with the
#    fault in the reason phrase, counted.
# Usage: presence_modes.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
. "$SRC/tests/e2e/lib.sh"

P1=$((10000 + RANDOM % 9000))
P2=$((P1 + 1))
T1=127.0.0.1:$P1
T2=127.0.0.1:$P2
W="$SRC/tests/e2e/watcher.py"

P3=$((P1 + 2))
T3=127.0.0.1:$P3

# sip TARGET KIND AOR ARG: one request, prints the status line.
#   register AOR EXPIRES      REGISTER of contact sip:AOR-user@127.0.0.1:9 (EXPIRES 0: remove it)
#   publish AOR BASIC[:SECS]  PUBLISH of a one-tuple PIDF document (Expires SECS, default 600)
sip() {
	python3 - "$@" <<'PY'
import socket, sys, time
target, kind, aor, arg = sys.argv[1:5]
tag = f"{time.time()}"
user = aor.split("@")[0]
if kind == "register":
    extra = f"Contact: <sip:{user}@127.0.0.1:9>\r\nExpires: {arg}\r\n"
    ruri, body, method = "sip:" + aor.split("@")[1], b"", "REGISTER"
else:
    basic, _, secs = arg.partition(":")
    body = (f'<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:{aor}">'
            f'<tuple id="t1"><status><basic>{basic}</basic></status></tuple></presence>').encode()
    extra = f"Event: presence\r\nExpires: {secs or 600}\r\nContent-Type: application/pidf+xml\r\n"
    ruri, method = "sip:" + aor, "PUBLISH"
msg = (f"{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKm{tag}\r\n"
       f"Max-Forwards: 70\r\nFrom: <sip:{aor}>;tag=m\r\nTo: <sip:{aor}>\r\nCall-ID: {kind}-{aor}\r\n"
       f"CSeq: {int(time.time() * 1000) % 2000000000} {method}\r\n{extra}"
       f"Content-Length: {len(body)}\r\n\r\n").encode() + body
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
host, port = target.rsplit(":", 1)
s.sendto(msg, (host, int(port)))
print(s.recv(65535).decode(errors="replace").split("\r\n")[0])
PY
}

# status FILE: the status and reason of the first SUBSCRIBE answer a watcher printed
status() {
	python3 -c "import json,sys; r=json.loads(open(sys.argv[1]).readline()); print(r['status'], r['reason'])" "$1"
}

# watch TARGET AOR OUT [KEY=VALUE...]: a watcher in the background for up to 60 s; sets WPID.
# The steps below wait for the NOTIFYs they expect (wait_notifies), not for fixed times, so a
# loaded machine only makes them slower; the watcher is then stopped (stop_watch).
watch() {
	local target=$1 aor=$2 out=$3
	shift 3
	python3 "$W" "$target" "$aor" ok 60 600 "$@" >"$out" &
	WPID=$!
	E2E_PIDS+=("$WPID")
}
stop_watch() { kill "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null; return 0; }

# wait_notifies FILE N: until the watcher printed N NOTIFYs (at most 15 s)
wait_notifies() {
	for _ in $(seq 150); do
		[ "$(grep -c '"cseq"' "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# notifies FILE: the basic statuses of the NOTIFYs a watcher printed, space separated
notifies() {
	echo "# $1: $(cat "$1" | tr '\n' ' ')" >&2
	python3 -c "import json,sys; print(' '.join(str(json.loads(l).get('basic')) for l in open(sys.argv[1]) if '\"cseq\"' in l))" "$1"
}

stat() { # stat CTL GROUP KEY
	"$BUILD/sprctl" --ctl "$1" stats | python3 -c "import json,sys; print(json.load(sys.stdin)['$2']['$3'])"
}

# --- b2bua (the default): automatic presence, no throttle so each change is one NOTIFY ---
start_sprd a --listen "$T1" --min-expires 2 --notify-min-interval 0 || exit 1
CTL=$SPRD_CTL_a

F=$E2E_DIR/auto.out
watch "$T1" alice@example.com "$F"
wait_notifies "$F" 1
r1=$(sip "$T1" register alice@example.com 600)
wait_notifies "$F" 2
check "b2bua: presence.show says available (automatic) while alice is registered" \
	test "$(ctl_eval "$CTL" "(r.get('state'), r.get('automatic'))" presence.show alice@example.com)" = "('available', True)"
r2=$(sip "$T1" register alice@example.com 0)
wait_notifies "$F" 3
r3=$(sip "$T1" register alice@example.com 600)
wait_notifies "$F" 4
r4=$(sip "$T1" publish alice@example.com closed)
wait_notifies "$F" 5
r5=$(sip "$T1" register alice@example.com 0)
sleep 1 # nothing may follow: the publication hides the unregister
stop_watch
check "b2bua: REGISTER, unregister, REGISTER, PUBLISH and unregister answered 200" \
	test "$r1 $r2 $r3 $r4 $r5" = "SIP/2.0 200 OK SIP/2.0 200 OK SIP/2.0 200 OK SIP/2.0 200 OK SIP/2.0 200 OK"
check "b2bua: the watcher sees closed (nothing known), open (registered), closed (unregistered), open (registered again), closed (published closed wins); nothing for an unregister hidden by the publication" \
	test "$(notifies "$E2E_DIR/auto.out")" = "closed open closed open closed"
check "b2bua: counters auto_open 2, auto_closed 1, auto_masked 1 (after alice's steps)" \
	test "$(stat "$CTL" presence auto_open) $(stat "$CTL" presence auto_closed) $(stat "$CTL" presence auto_masked)" = "2 1 1"

# expiry of the last binding, and sprctl ul.rm
F=$E2E_DIR/expiry.out
watch "$T1" bob@example.com "$F"
wait_notifies "$F" 1
sip "$T1" register bob@example.com 2 >/dev/null
wait_notifies "$F" 3 # open, then closed when the binding expires
sip "$T1" register bob@example.com 600 >/dev/null
wait_notifies "$F" 4
"$BUILD/sprctl" --ctl "$CTL" ul.rm bob@example.com >/dev/null
wait_notifies "$F" 5
stop_watch
check "b2bua: bob registered for 2 s: open, then closed when the binding expires; registered again: open; sprctl ul.rm: closed" \
	test "$(notifies "$E2E_DIR/expiry.out")" = "closed open closed open closed"

# a publication wins while it lives; when it expires the registration shows again
F=$E2E_DIR/fallback.out
watch "$T1" carl@example.com "$F"
wait_notifies "$F" 1
sip "$T1" register carl@example.com 600 >/dev/null
wait_notifies "$F" 2
sip "$T1" publish carl@example.com closed:2 >/dev/null
wait_notifies "$F" 3
wait_notifies "$F" 4 # the publication expires after 2 s
stop_watch
check "b2bua: carl registered: open; publishes closed for 2 s: closed; the publication expires: open again (registered)" \
	test "$(notifies "$F")" = "closed open closed open"

# --presence-policy same-domain (the default): a watcher of another domain gets 403
python3 "$W" "$T1" alice@example.com ok 1.5 600 from=sip:eve@example.org >"$E2E_DIR/pol-sd.out"
python3 "$W" "$T1" alice@example.com ok 1.5 600 from=sip:carol@Example.COM >"$E2E_DIR/pol-sd2.out"
check "same-domain: eve@example.org gets 403 Watcher Domain Not Authorised; carol@Example.COM 200" \
	test "$(status "$E2E_DIR/pol-sd.out") / $(status "$E2E_DIR/pol-sd2.out")" = "403 Watcher Domain Not Authorised / 200 OK"
check "same-domain: counted in subscriptions.results.WATCHER_DOMAIN" \
	test "$("$BUILD/sprctl" --ctl "$CTL" stats | python3 -c "import json,sys; print(json.load(sys.stdin)['subscriptions']['results']['WATCHER_DOMAIN'])")" = 1

# a fetch (RFC 6665 §4.4.3): one NOTIFY with the current state, terminated, nothing kept
sip "$T1" publish fetched@example.com open >/dev/null
before=$(stat "$CTL" subscriptions watchers)
created=$(stat "$CTL" subscriptions created)
python3 "$W" "$T1" fetched@example.com ok 3 0 >"$E2E_DIR/fetch.out"
sleep 0.3
check "fetch: 200 Expires: 0, then exactly one NOTIFY: open (the current state), terminated;reason=timeout" \
	python3 - "$E2E_DIR/fetch.out" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
n = [l for l in lines if "cseq" in l]
print("#", lines)
ok = (lines[0].get("status") == 200 and lines[0].get("expires") == "0" and len(n) == 1
      and n[0]["basic"] == "open" and n[0]["state"] == "terminated;reason=timeout")
sys.exit(0 if ok else 1)
PY
check "fetch: nothing is left (engine and store); counted: fetches 1, fetches_done 1, notify_fetches 1, subscriptions created unchanged" \
	test "$(ctl_eval "$CTL" "len(r['watchers'])" presence.watchers fetched@example.com) $(stat "$CTL" subscriptions watchers) $(stat "$CTL" subscriptions fetches) $(stat "$CTL" subscriptions fetches_done) $(stat "$CTL" subscriptions notify_fetches) $(stat "$CTL" subscriptions created)" = "0 $before 1 1 1 $created"
check "sprd a stops cleanly on SIGTERM" stop_sprd a

# --- p2p: presence without registration, nothing automatic (and anyone may watch) ---
start_sprd b --listen "$T2" --min-expires 2 --notify-min-interval 0 --mode p2p \
	--presence-policy open || exit 1
CTL=$SPRD_CTL_b
F=$E2E_DIR/p2p.out
watch "$T2" carol@example.com "$F"
wait_notifies "$F" 1
r1=$(sip "$T2" register carol@example.com 600)
sleep 1 # nothing may follow
r2=$(sip "$T2" publish carol@example.com open)
wait_notifies "$F" 2
r3=$(sip "$T2" register carol@example.com 0)
sleep 1 # nothing may follow
stop_watch
check "p2p: REGISTER, PUBLISH, unregister answered 200" \
	test "$r1 $r2 $r3" = "SIP/2.0 200 OK SIP/2.0 200 OK SIP/2.0 200 OK"
check "p2p: the watcher sees closed (initial) and open (the PUBLISH) only: registering changes nothing" \
	test "$(notifies "$E2E_DIR/p2p.out")" = "closed open"
check "p2p: no automatic presence counted, presence.show has no automatic state" \
	test "$(stat "$CTL" presence auto_open) $(stat "$CTL" presence auto_closed) $(ctl_eval "$CTL" "'automatic' in r" presence.show dave@example.com)" = "0 0 False"
python3 "$W" "$T2" carol@example.com ok 1.5 600 from=sip:eve@example.org >"$E2E_DIR/pol-open.out"
check "open: eve@example.org may watch carol@example.com (200)" \
	test "$(status "$E2E_DIR/pol-open.out")" = "200 OK"

# Event id: two subscriptions in one dialog (ids x1 and y2), every NOTIFY names its id
F=$E2E_DIR/ids.out
watch "$T2" ids@example.com "$F" id=x1 id2=y2
wait_notifies "$F" 2
sip "$T2" publish ids@example.com open >/dev/null
wait_notifies "$F" 4
check "Event id: presence.watchers has both subscriptions of the dialog, ids x1 and y2, one To-tag" \
	test "$(ctl_eval "$CTL" "(sorted(w['event_id'] for w in r['watchers']), len({w['to_tag'] for w in r['watchers']}), len({w['call_id'] for w in r['watchers']}))" presence.watchers ids@example.com)" = "(['x1', 'y2'], 1, 1)"
stop_watch
check "Event id: each subscription's NOTIFYs echo its id (closed, then open after the PUBLISH); the dialog's CSeq rises across both" \
	python3 - "$E2E_DIR/ids.out" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
n = [l for l in lines if "cseq" in l]
print("#", [(x["cseq"], x["event"], x["basic"]) for x in n])
by = {e: [x["basic"] for x in n if x["event"] == e] for e in ("presence;id=x1", "presence;id=y2")}
ok = (len(n) == 4 and by["presence;id=x1"] == ["closed", "open"] and by["presence;id=y2"] == ["closed", "open"]
      and all(b["cseq"] > a["cseq"] for a, b in zip(n, n[1:]))
      and [l["status"] for l in lines if "status" in l] == [200, 200])
sys.exit(0 if ok else 1)
PY
check "Event id: counted dialogs_shared 1" test "$(stat "$CTL" subscriptions dialogs_shared)" = 1
check "sprd b stops cleanly on SIGTERM" stop_sprd b

# --- --presence-policy registered, two workers: the watcher's AOR may be in either shard ---
start_sprd c --listen "$T3" --workers 2 --presence-policy registered || exit 1
CTL=$SPRD_CTL_c
for u in 1 2 3 4; do
	python3 "$W" "$T3" alice@example.com ok 1.5 600 "from=sip:fan$u@example.org" >"$E2E_DIR/pol-r$u.out"
done
check "registered: four unregistered watchers get 403 Watcher Not Registered" \
	test "$(for u in 1 2 3 4; do status "$E2E_DIR/pol-r$u.out"; done | sort | uniq -c | tr -s ' ')" = " 4 403 Watcher Not Registered"
for u in 1 2 3 4; do sip "$T3" register "fan$u@example.org" 600 >/dev/null; done
for u in 1 2 3 4; do
	python3 "$W" "$T3" alice@example.com ok 1.5 600 "from=sip:fan$u@example.org" >"$E2E_DIR/pol-r$u.out"
done
check "registered: once registered (each in the shard its AOR hashes to, read from whichever worker took the SUBSCRIBE) all four get 200" \
	test "$(for u in 1 2 3 4; do status "$E2E_DIR/pol-r$u.out"; done | sort | uniq -c | tr -s ' ')" = " 4 200 OK"
check "registered: counted in subscriptions.results.WATCHER_NOT_REGISTERED" \
	test "$("$BUILD/sprctl" --ctl "$CTL" stats | python3 -c "import json,sys; print(json.load(sys.stdin)['subscriptions']['results']['WATCHER_NOT_REGISTERED'])")" = 4
check "sprd c stops cleanly on SIGTERM" stop_sprd c

e2e_summary
