#!/usr/bin/env bash
# End to end buddy lists on the socket backend, 127.0.0.1 only: sprctl
# presence.buddies over users that registered and published.
# Usage: buddies.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
. "$SRC/tests/e2e/lib.sh"

P1=$((10000 + RANDOM % 9000))
T1=127.0.0.1:$P1
UA="$SRC/tests/e2e/ua.py"

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

e2e_summary
