#!/usr/bin/env bash
# End to end buddy lists on the socket backend, 127.0.0.1 only: sprctl
# presence.buddies over users that registered and published, and RFC 4662
# list subscriptions to sip:buddies@DOMAIN (tests/e2e/list_watcher.py reads
# the multipart/related bodies back: RLMI, cids, parts, boundary).
# Usage: buddies.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
. "$SRC/tests/e2e/lib.sh"

P1=$((10000 + RANDOM % 9000))
T1=127.0.0.1:$P1
T2=127.0.0.1:$((P1 + 1))
UA="$SRC/tests/e2e/ua.py"
LW="$SRC/tests/e2e/list_watcher.py"

start_sprd a --listen "$T1" --workers 2 --min-expires 2 || exit 1
CTL=$SPRD_CTL_a

check "three users of example.com and one of example.org register" \
	test "$(for u in alice@example.com bob@example.com carol@example.com dave@example.org; do
		python3 "$UA" "$T1" register "$u" 600; done | sort -u)" = "SIP/2.0 200 OK"
check "bob publishes busy with a note, carol publishes closed" \
	test "$(python3 "$UA" "$T1" publish bob@example.com open busy 'In a "meeting" <3'; python3 "$UA" "$T1" publish carol@example.com closed)" = "SIP/2.0 200 OK
SIP/2.0 200 OK"
check "presence.buddies: the three users of example.com, sorted, each with its state and source" \
	test "$(ctl_eval "$CTL" "(r['domain'], r['registered'], r['truncated'], [(b['aor'], b['state'], b['note'], b['source'], b['bindings']) for b in r['buddies']])" presence.buddies alice@example.com)" = "('example.com', 3, False, [('alice@example.com', 'available', None, 'automatic', 1), ('bob@example.com', 'busy', 'In a \"meeting\" <3', 'published', 1), ('carol@example.com', 'offline', None, 'published', 1)])"
check "presence.buddies --limit 2: two users, truncated, registered 3" \
	test "$(ctl_eval "$CTL" "(len(r['buddies']), r['truncated'], r['registered'], r['limit'])" presence.buddies sip:bob@example.com --limit 2)" = "(2, True, 3, 2)"
check "presence.buddies of another domain lists its own users only" \
	test "$(ctl_eval "$CTL" "[b['aor'] for b in r['buddies']]" presence.buddies x@example.org)" = "['dave@example.org']"
check "presence.buddies refuses a bad limit" \
	test "$("$BUILD/sprctl" --ctl "$CTL" call presence.buddies '{"aor":"a@example.com","limit":0}' 2>&1 >/dev/null | grep -c 'params.limit')" = 1
python3 "$UA" "$T1" unregister bob@example.com >/dev/null
check "a user whose last binding goes leaves the list" \
	test "$(ctl_eval "$CTL" "[b['aor'] for b in r['buddies']]" presence.buddies alice@example.com)" = "['alice@example.com', 'carol@example.com']"
check "sprd a stops cleanly on SIGTERM" stop_sprd a

# --- list subscriptions: 2 workers (members on both), no throttle ---
start_sprd b --listen "$T2" --workers 2 --min-expires 2 --notify-min-interval 0 || exit 1
CTL=$SPRD_CTL_b
check "u1, u2, u3 of list.example register" \
	test "$(for u in u1 u2 u3; do python3 "$UA" "$T2" register "$u@list.example" 600; done | sort -u)" = "SIP/2.0 200 OK"
check "without Supported: eventlist a list SUBSCRIBE gets 421 with Require: eventlist" \
	test "$(python3 "$LW" "$T2" buddies@list.example unsupported 3 | python3 -c "import json,sys; r=json.loads(sys.stdin.readline()); print(r['status'], r['require'])")" = "421 eventlist"
check "a list fetch (Expires: 0): 200 with Require: eventlist, then one terminated NOTIFY listing u1, u2, u3 (version 0)" \
	test "$(python3 "$LW" "$T2" buddies@list.example fetch 15 | python3 -c "
import json, sys
l = [json.loads(x) for x in sys.stdin]
n = [x for x in l if 't' in x]
print(l[0]['status'], l[0]['require'], len(n), n[0]['state'], n[0]['version'], sorted(r['uri'] for r in n[0]['resources']))")" = "200 eventlist 1 terminated;reason=timeout 0 ['sip:u1@list.example', 'sip:u2@list.example', 'sip:u3@list.example']"
python3 "$LW" "$T2" buddies@list.example unsubscribe 60 "$E2E_DIR/unsubscribe" >"$E2E_DIR/list.out" &
lwpid=$!
# the initial NOTIFY first (the 200 and it: two lines), 15 s at most on a loaded machine
for _ in $(seq 150); do [ "$(wc -l <"$E2E_DIR/list.out")" -ge 2 ] && break; sleep 0.1; done
r1=$(python3 "$UA" "$T2" publish u2@list.example open busy "in a meeting")
sleep 0.5
check "presence.buddies agrees: u2 busy, u1 and u3 available" \
	test "$(ctl_eval "$CTL" "[(b['aor'], b['state']) for b in r['buddies']]" presence.buddies u1@list.example)" = "[('u1@list.example', 'available'), ('u2@list.example', 'busy'), ('u3@list.example', 'available')]"
check "presence.watchers shows the list subscription (list, members)" \
	test "$(ctl_eval "$CTL" "[(w['list'], w['members'], w['truncated']) for w in r['watchers']]" presence.watchers buddies@list.example)" = "[(True, 3, False)]"
r2=$(python3 "$UA" "$T2" register u4@list.example 600)
sleep 0.5
r3=$(python3 "$UA" "$T2" unregister u1@list.example)
sleep 1
touch "$E2E_DIR/unsubscribe" # the watcher unsubscribes now
wait $lwpid
check "PUBLISH, REGISTER and unREGISTER answered 200" test "$r1 $r2 $r3" = "SIP/2.0 200 OK SIP/2.0 200 OK SIP/2.0 200 OK"
check "list NOTIFYs: 200 with Require: eventlist; RLMI versions 0, 1, 2 ... one per NOTIFY, the last one final; the first and the last full state; Require: eventlist; CSeq rising; each body well-formed" \
	python3 - "$E2E_DIR/list.out" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
print("#", lines[0])
n = [l for l in lines if "cseq" in l and "t" in l]
for x in n:
    print("#", x["t"], x.get("version"), x.get("full"), x.get("state"), x.get("error"), [(r["uri"], r["basic"], r["activities"]) for r in x.get("resources", [])])
ok = (lines[0]["status"] == 200 and lines[0]["require"] == "eventlist" and len(n) >= 4
      and [x.get("version") for x in n] == list(range(len(n)))
      and all("error" not in x and x["require"] == "eventlist"
              and x["list_uri"] == "sip:buddies@list.example" for x in n)
      and n[0]["full"] == "true" and n[-1]["full"] == "true"
      and all(b["cseq"] > a["cseq"] for a, b in zip(n, n[1:]))
      and all(x["state"].startswith("active") for x in n[:-1]) and n[-1]["state"] == "terminated")
sys.exit(0 if ok else 1)
PY
check "first NOTIFY names u1, u2, u3, all open (registered, nothing published: available)" \
	python3 - "$E2E_DIR/list.out" <<'PY'
import json, sys
n = [x for x in map(json.loads, open(sys.argv[1])) if "t" in x]  # the NOTIFYs
r = {x["uri"]: (x["basic"], x["activities"]) for x in n[0]["resources"]}
sys.exit(0 if r == {f"sip:u{i}@list.example": ("open", []) for i in (1, 2, 3)} else 1)
PY
check "the PUBLISH gives version 1, partial state (fullState false) with only u2, busy with its note" \
	python3 - "$E2E_DIR/list.out" <<'PY'
import json, sys
n = [x for x in map(json.loads, open(sys.argv[1])) if "t" in x]  # the NOTIFYs
r = {x["uri"]: (x["basic"], x["activities"], x["note"]) for x in n[1]["resources"]}
sys.exit(0 if n[1]["version"] == 1 and n[1]["full"] == "false"
         and r == {"sip:u2@list.example": ("open", ["busy"], "in a meeting")} else 1)
PY
check "u4 registering gives a full-state NOTIFY with four members (u2 still busy); after u1 leaves the list is u2, u3, u4" \
	python3 - "$E2E_DIR/list.out" <<'PY'
import json, sys
n = [x for x in map(json.loads, open(sys.argv[1])) if "t" in x]  # the NOTIFYs
u = lambda x: sorted(r["uri"] for r in x["resources"])
four = [f"sip:u{i}@list.example" for i in (1, 2, 3, 4)]
f4 = [x for x in n[2:] if x["full"] == "true" and u(x) == four]
sys.exit(0 if f4 and any(r["uri"] == "sip:u2@list.example" and r["activities"] == ["busy"] for r in f4[0]["resources"])
         and u(n[-1]) == four[1:] else 1)
PY
check "stats: one list subscription created and ended (and the fetch's), no list left; members added 3 + 4, removed 1; a body per NOTIFY, partial ones among them; worker list messages 5 (PUBLISH; REGISTER and unREGISTER: presence and membership each)" \
	test "$("$BUILD/sprctl" --ctl "$CTL" stats | python3 -c "import json,sys; j=json.load(sys.stdin); s=j['subscriptions']; print(s['list_created'], s['list_subscriptions'], s['lists'], s['list_members'], s['list_members_added'], s['list_members_removed'], s['list_bodies'] == s['notify_2xx'], s['list_partial'] >= 1, s['list_build_errors'], j['workers_loop']['list_msgs'])")" = "1 2 0 0 7 1 True True 0 5"
check "users with hostile user parts (a quote, angle brackets, an ampersand; a control byte) register" \
	test "$(python3 "$UA" "$T2" register 'q%22%3Cx%3E%26y@list.example' 600; python3 "$UA" "$T2" register 'c%01z@list.example' 600)" = "SIP/2.0 200 OK
SIP/2.0 200 OK"
check "a list fetch over them: the body parses, their URIs come back %-escaped, the one whose PIDF cannot be built has no instance" \
	test "$(python3 "$LW" "$T2" buddies@list.example fetch 15 | python3 -c "
import json, sys
n = [x for x in map(json.loads, sys.stdin) if 't' in x]
r = {x['uri']: x['basic'] for x in n[0]['resources']}
print(n[0].get('error'), r.get('sip:q%22%3Cx%3E&y@list.example'), 'sip:c%01z@list.example' in r, r.get('sip:c%01z@list.example'))")" = "None open True None"
check "sprd b stops cleanly on SIGTERM" stop_sprd b

e2e_summary
