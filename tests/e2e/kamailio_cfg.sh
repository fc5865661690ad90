#!/usr/bin/env bash
# The Kamailio baseline of scripts/bench-compare.sh must not rot: the config
# passes `kamailio -c`, and a kamailio started with it on 127.0.0.1 answers one
# REGISTER with 200 (and a second REGISTER of the same AOR lists the binding).
# Skipped (exit 77) when kamailio is not installed.
# Usage: kamailio_cfg.sh BUILD_DIR SOURCE_DIR
set -u
SRC=$(cd "$2" && pwd)
CFG=$SRC/scripts/kamailio/kamailio.cfg
KAM=$(command -v kamailio || echo /usr/sbin/kamailio)
if [ ! -x "$KAM" ]; then
	echo "SKIP: kamailio is not installed (scripts/setup.sh installs the Debian package)"
	exit 77
fi

PASS=0
FAIL=0
ok() { echo "ok - $*"; PASS=$((PASS + 1)); }
not_ok() { echo "not ok - $*"; FAIL=$((FAIL + 1)); }
DIR=$(mktemp -d /tmp/kamailio-cfg.XXXXXX)
KPID=
cleanup() {
	if [ -n "$KPID" ] && kill -TERM "$KPID" 2>/dev/null; then
		for _ in $(seq 100); do kill -0 "$KPID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$KPID" 2>/dev/null
		wait "$KPID" 2>/dev/null
	fi
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

if "$KAM" -c -f "$CFG" >"$DIR/check.out" 2>&1; then
	ok "kamailio -c -f scripts/kamailio/kamailio.cfg: config ok"
else
	not_ok "kamailio -c -f scripts/kamailio/kamailio.cfg"
	cat "$DIR/check.out"
fi

PORT=$((30000 + RANDOM % 10000))
# foreground (-DD), logs to stderr (-E), its own runtime dir; setsid: its own
# process group, so its worker processes are stopped with it
setsid "$KAM" -f "$CFG" -DD -E -m 64 -M 8 -Y "$DIR" -A "KAM_LISTEN=udp:127.0.0.1:$PORT" \
	>"$DIR/kam.log" 2>&1 &
KPID=$!

if timeout 30 python3 - "$PORT" <<'PYEOF'; then
import socket, sys, time
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
lp = s.getsockname()[1]
s.settimeout(0.5)

def register(cseq, branch):
    msg = ("REGISTER sip:example.com SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-kcfg%s\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:alice@example.com>;tag=kcfg\r\n"
           "To: <sip:alice@example.com>\r\n"
           "Call-ID: kcfg-1@127.0.0.1\r\n"
           "CSeq: %d REGISTER\r\n"
           "Contact: <sip:alice@127.0.0.1:%d>;expires=600\r\n"
           "Content-Length: 0\r\n\r\n" % (lp, branch, cseq, lp))
    for _ in range(40):  # kamailio may still be starting: resend until answered
        s.sendto(msg.encode(), ("127.0.0.1", port))
        try:
            return s.recv(65535).decode(errors="replace")
        except socket.timeout:
            pass
    return ""

r1 = register(1, "a")
print("# " + (r1.splitlines()[0] if r1 else "no answer"))
ok1 = r1.startswith("SIP/2.0 200")
r2 = register(2, "b")
print("# " + (r2.splitlines()[0] if r2 else "no answer"))
ok2 = r2.startswith("SIP/2.0 200") and ("sip:alice@127.0.0.1:%d" % lp) in r2 and "expires=" in r2
sys.exit(0 if ok1 and ok2 else 1)
PYEOF
	ok "kamailio on 127.0.0.1:$PORT answers REGISTER with 200 and lists the binding on a refresh"
else
	not_ok "REGISTER against kamailio on 127.0.0.1:$PORT"
	tail -20 "$DIR/kam.log"
fi

kill -TERM "$KPID"
for _ in $(seq 100); do kill -0 "$KPID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$KPID" 2>/dev/null; then
	not_ok "kamailio stops within 10 s of SIGTERM"
else
	wait "$KPID" 2>/dev/null
	KPID=
	ok "kamailio stops on SIGTERM"
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
