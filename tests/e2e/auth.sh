#!/usr/bin/env bash
# OAuth 2.0 Bearer (RFC 8898) end to end on the socket backend, 127.0.0.1
# only: RSA keys, JWK Sets and RS256 tokens from mint_token, SIPp sending the
# token from its -inf file, key rotation through sprctl auth.reload and SIGHUP
# without restart, RFC 4475 regaut01 refused 401 with auth on.
# Usage: auth.sh BUILD_DIR SOURCE_DIR MINT_TOKEN
set -u
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
MINT=$3
. "$SRC/tests/e2e/lib.sh"

command -v sipp >/dev/null || { echo "sipp not installed (scripts/setup.sh installs sip-tester)"; exit 1; }

D=$E2E_DIR
P1=$((20000 + RANDOM % 10000))
T1=127.0.0.1:$P1
ISS=https://as.example.com
AUD=sprd-e2e

"$MINT" keygen "$D/k1.pem" && "$MINT" keygen "$D/k2.pem" || exit 1
"$MINT" jwks k1 "$D/k1.pem" >"$D/jwks.json" || exit 1
# tok KEY KID SUB SCOPE: a token valid for 10 minutes
tok() { "$MINT" token "$D/$1.pem" "$2" "$3" "$4" +600 "$AUD" "$ISS"; }
# inf FILE USER TOKEN [N]: N (default 1) lines of USER;600;TOKEN
inf() {
	{
		echo SEQUENTIAL
		for _ in $(seq 1 "${4:-1}"); do echo "$2;600;$3"; done
	} >"$1"
}

# a bad JWK Set is a start-up error, exit 2
echo '{"keys":[{"kty":"RSA","kid":"x"}]}' >"$D/bad.json"
"$BUILD/sprd" -- --ctl "$D/bad.sock" --listen "$T1" --auth bearer --jwks "$D/bad.json" \
	>"$D/bad.log" 2>&1
check "a bad --jwks file stops sprd at start with exit 2 and names the file" \
	test "$?:$(grep -c "jwks $D/bad.json" "$D/bad.log")" = "2:1"
"$BUILD/sprd" -- --ctl "$D/bad.sock" --listen "$T1" --auth bearer >"$D/bad.log" 2>&1
check "--auth bearer without --jwks: exit 2" test $? = 2

start_sprd one --listen "$T1" --auth bearer --jwks "$D/jwks.json" --realm example.com \
	--authz-server https://as.example.com/token --issuer "$ISS" --audience "$AUD" || exit 1
CTL=$SPRD_CTL_one

ALICE=$(tok k1 k1 alice1 "sip:register sip:presence")
ALICE_REG=$(tok k1 k1 alice1 "sip:register")
BOB=$(tok k1 k1 bob1 "sip:register sip:presence")

inf "$D/none.csv" alice1 -
check "REGISTER without a token: 401 with exactly the Bearer challenge" \
	sipp_run "$T1" auth_noauth.xml "$D/none.csv" 1 10
inf "$D/ok.csv" alice1 "$ALICE" 3
check "REGISTER with alice1's token, three times: 200" sipp_run "$T1" auth_register.xml "$D/ok.csv" 3 10
check "alice1 is registered" \
	test "$(ctl_eval "$CTL" "len(r['bindings'])" ul.lookup alice1@example.com)" = 1
# a retransmission that arrives before the verdict is cached is a worker miss, answered from the cache by control
check "one verification, the repeats were cache hits" \
	test "$(ctl_eval "$CTL" "r['control']['verified'], r['workers']['hits'] >= 2, r['workers']['misses'] == 1 + r['control']['coalesced']" auth.stats)" = "(1, True, True)"

# A flood of one bad token costs one verification. The token is signed by k2 under k1's kid, so
# control runs the RSA check before it finds a bad signature. sprd is stopped (SIGSTOP) while 20
# REGISTERs carrying it are queued, so its worker takes them in one receive burst and finds each
# a miss: control verifies the first, caches the failure and answers the others from that entry
# (coalesced). Five more, sent one after another's answer, are then worker hits on the cached
# failure. The counters must move exactly so: without the negative cache or the coalescing,
# every miss is verified again, and the five are misses too.
FLOOD=$(tok k2 k1 carol1 "sip:register")
STATS="r['control']['verified'], r['control']['coalesced'], r['workers']['misses'], r['workers']['hits_negative']"
S0=$(ctl_eval "$CTL" "$STATS" auth.stats)
# flood N STOP: N REGISTERs with $FLOOD, all queued while sprd is stopped (STOP=1) or each after the
# previous answer (STOP=0); every one must be answered 401 invalid_token
flood() {
	python3 - "$P1" "$FLOOD" "$1" "$2" "$SPRD_PID_one" <<'PY'
import os, signal, socket, sys
port, tok, n, stop, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1", int(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(5)
me = s.getsockname()[1]
tag = os.urandom(4).hex()
got = set()
def recv_one():
    r = s.recv(65535).decode(errors="replace")
    if r.startswith("SIP/2.0 401 ") and 'error="invalid_token"' in r:
        for line in r.split("\r\n"):
            if line.startswith("Call-ID:"):
                got.add(line.split(":", 1)[1].strip())
if stop:
    os.kill(pid, signal.SIGSTOP)
try:
    for i in range(n):
        m = (f"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bKfl{tag}{i}\r\n"
             f"Max-Forwards: 70\r\nFrom: <sip:carol1@example.com>;tag=f{i}\r\nTo: <sip:carol1@example.com>\r\n"
             f"Call-ID: flood{tag}{i}@e2e\r\nCSeq: 1 REGISTER\r\nContact: <sip:carol1@127.0.0.1:{me}>\r\n"
             f"Authorization: Bearer {tok}\r\nContent-Length: 0\r\n\r\n")
        s.sendto(m.encode(), ("127.0.0.1", port))
        if not stop:
            recv_one()
finally:
    if stop:
        os.kill(pid, signal.SIGCONT)
try:
    while len(got) < n:
        recv_one()
except socket.timeout:
    pass
print(f"# {len(got)} of {n} answered 401 invalid_token")
sys.exit(0 if len(got) == n else 1)
PY
}
check "20 REGISTERs queued at once with one badly signed token: 20 answers 401 invalid_token" flood 20 1
S1=$(ctl_eval "$CTL" "$STATS" auth.stats)
# deltas: verified, coalesced, worker misses, worker negative hits
D1=$(python3 -c "a=$S0; b=$S1; print(tuple(y - x for x, y in zip(a, b)))")
echo "# burst: verified, coalesced, misses, negative hits: $D1"
check "... verified once; every other miss coalesced; misses + negative hits = 20, misses >= 2" \
	python3 -c "v, c, m, h = $D1; exit(0 if v == 1 and c == m - 1 and m + h == 20 and m >= 2 else 1)"
check "5 more, one at a time: 401 invalid_token each" flood 5 0
S2=$(ctl_eval "$CTL" "$STATS" auth.stats)
D2=$(python3 -c "a=$S1; b=$S2; print(tuple(y - x for x, y in zip(a, b)))")
check "... all 5 worker hits on the cached failure, none verified" test "$D2" = "(0, 0, 0, 5)"
inf "$D/bob.csv" alice1 "$BOB"
check "REGISTER of alice1 with bob1's token: 403" sipp_run "$T1" auth_register_403.xml "$D/bob.csv" 1 10
check "... counted as USER_MISMATCH" \
	test "$(ctl_eval "$CTL" "r['control']['results']['USER_MISMATCH']" auth.stats)" = 1
inf "$D/scope.csv" alice1 "$ALICE_REG"
check "PUBLISH with a token without the presence scope: 403 insufficient_scope" \
	sipp_run "$T1" auth_publish_403.xml "$D/scope.csv" 1 10
inf "$D/junk.csv" alice1 "not.a.token"
check "a malformed token: 401 invalid_token with a description" \
	sipp_run "$T1" auth_register_401.xml "$D/junk.csv" 1 10

# RFC 4475 regaut01 (an unknown Authorization scheme) is a 200 with auth off (socket.sh); here 401
td=${SPR_TESTDATA:-$SRC/../shared/testdata}
if [ -f "$td/rfc4475/regaut01.dat" ]; then
	check "RFC 4475 regaut01: 401 with the exact challenge" python3 - "$P1" "$td/rfc4475/regaut01.dat" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(open(sys.argv[2], "rb").read(), ("127.0.0.1", int(sys.argv[1])))
r = s.recv(65535).decode()
want = ('WWW-Authenticate: Bearer realm="example.com", scope="sip:register", '
        'authz_server="https://as.example.com/token"\r\n')
sys.exit(0 if r.startswith("SIP/2.0 401 ") and want in r else 1)
PY
fi

# --- key rotation: the JWK Set now holds k2 only ---
"$MINT" jwks k2 "$D/k2.pem" >"$D/jwks.json.new" && mv "$D/jwks.json.new" "$D/jwks.json"
check "sprctl auth.reload: 1 key" test "$(ctl_eval "$CTL" "r['keys']" auth.reload)" = 1
NEW=$(tok k2 k2 alice1 "sip:register sip:presence")
inf "$D/new.csv" alice1 "$NEW"
check "after the reload a token of the new key passes" sipp_run "$T1" auth_register.xml "$D/new.csv" 1 10
check "... and alice1's token of the old key, cached good before, is refused 401" \
	sipp_run "$T1" auth_register_401.xml "$D/ok.csv" 1 10
check "the old key's token was verified again and found unknown_key" \
	test "$(ctl_eval "$CTL" "r['control']['verdicts']['unknown_key'] >= 1, r['cache']['flushes']" auth.stats)" = "(True, 1)"
echo '{"keys":' >"$D/jwks.json"
check "auth.reload of a broken file fails and keeps the keys" \
	test "$("$BUILD/sprctl" --ctl "$CTL" auth.reload >/dev/null 2>&1; echo $?):$(ctl_eval "$CTL" "r['keys'], r['control']['reload_failures']" auth.stats)" = "1:(1, 1)"
inf "$D/new2.csv" alice1 "$NEW"
check "... the new key's token still passes" sipp_run "$T1" auth_register.xml "$D/new2.csv" 1 10

# SIGHUP reloads too
"$MINT" jwks k1 "$D/k1.pem" k2 "$D/k2.pem" >"$D/jwks.json"
kill -HUP "$SPRD_PID_one"
for _ in $(seq 50); do
	[ "$(ctl_eval "$CTL" "r['keys']" auth.stats)" = 2 ] && break
	sleep 0.1
done
check "SIGHUP reloads the JWK Set (2 keys)" test "$(ctl_eval "$CTL" "r['keys']" auth.stats)" = 2
check "... and k1's token passes again" sipp_run "$T1" auth_register.xml "$D/ok.csv" 1 10

check "sprd exits cleanly" stop_sprd one
e2e_summary
