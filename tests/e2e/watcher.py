#!/usr/bin/env python3
"""A presence watcher for the e2e tests: SUBSCRIBE to a presentity, then
receive NOTIFYs and answer them as told, printing one JSON line per NOTIFY.

usage: watcher.py HOST:PORT AOR MODE [SECONDS] [EXPIRES] [KEY=VALUE...]
  MODE  ok      answer every NOTIFY 200
        silent  never answer (the notifier retransmits, then gives up: Timer F)
        481     answer every NOTIFY 481
        ok-src  answer every NOTIFY 200 to its source address and port (not the notifier's
                listen address)
  KEY=VALUE  from=URI   the watcher's From URI (default sip:watcherPORT@example.com)
             id=ID      Event: presence;id=ID (RFC 6665 §8.2.1)
             id2=ID     after the first 200, a second SUBSCRIBE in the same dialog with
                        Event: presence;id=ID (a second subscription of the dialog)
             bind=IP    the watcher's own address (default: the notifier's HOST, for
                        loopback; e.g. an address in a network namespace)
             max=N      stop after N NOTIFYs have been received (and answered)
             stop=FILE  stop as soon as FILE exists (checked at least every 0.1 s)
Runs for SECONDS (default 5), or until a terminated NOTIFY has been answered
(with id2: until both subscriptions' are), or a SUBSCRIBE got a final error,
or max= or stop= says so.
Each line: {"t": seconds since the SUBSCRIBE, "cseq": N, "state": "...",
"basic": "open"|"closed"|null (the first tuple's), "branch": "...", "event": "...",
"tuples": [[id, basic], ...]}; each
SUBSCRIBE's status is a line {"status": 200, "reason": "OK", "to_tag": "...",
"expires": "..."}.
"""
import json
import os
import re
import socket
import sys
import time

target, aor, mode = sys.argv[1], sys.argv[2], sys.argv[3]
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 5.0
expires = int(sys.argv[5]) if len(sys.argv) > 5 else 600
opt = dict(a.split("=", 1) for a in sys.argv[6:])
host, port = target.rsplit(":", 1)
dst = (host, int(port))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((opt.get("bind", host), 0))
host = s.getsockname()[0]  # what Via and Contact name
lp = s.getsockname()[1]
callid = f"w{lp}-{time.time()}@e2e"
frm = opt.get("from", f"sip:watcher{lp}@example.com")


def subscribe(cseq, to_tag, eid):
    return (f"SUBSCRIBE sip:{aor} SIP/2.0\r\nVia: SIP/2.0/UDP {host}:{lp};branch=z9hG4bKw{lp}c{cseq}\r\n"
            f"Max-Forwards: 70\r\nFrom: <{frm}>;tag=w{lp}\r\n"
            f"To: <sip:{aor}>{';tag=' + to_tag if to_tag else ''}\r\n"
            f"Call-ID: {callid}\r\nCSeq: {cseq} SUBSCRIBE\r\nContact: <sip:watcher@{host}:{lp}>\r\n"
            f"Event: presence{';id=' + eid if eid else ''}\r\nExpires: {expires}\r\n"
            f"Content-Length: 0\r\n\r\n").encode()


start = time.time()
s.sendto(subscribe(1, None, opt.get("id")), dst)
pending_second = "id2" in opt
finals = 2 if pending_second else 1
max_notifies = int(opt["max"]) if "max" in opt else None
stop_file = opt.get("stop")
notifies = 0


def hdr(msg, name):
    m = re.search(r"^" + name + r":\s*(.*?)\r$", msg, re.M | re.I)
    return m.group(1) if m else None


while time.time() - start < seconds:
    if stop_file and os.path.exists(stop_file):
        break
    wait = max(0.05, seconds - (time.time() - start))
    s.settimeout(min(wait, 0.1) if stop_file else wait)
    try:
        data, src = s.recvfrom(65535)
    except socket.timeout:
        if stop_file:
            continue
        break
    msg = data.decode(errors="replace")
    first = msg.split("\r\n", 1)[0]
    if first.startswith("SIP/2.0"):
        to = hdr(msg, "To") or ""
        tag = re.search(r"tag=([^;>\s]+)", to)
        status = int(first.split()[1])
        print(json.dumps({"status": status, "reason": first.split(" ", 2)[2] if first.count(" ") >= 2 else "",
                          "to_tag": tag.group(1) if tag else None, "expires": hdr(msg, "Expires")}),
              flush=True)
        if status >= 300:
            break
        if pending_second and tag:
            pending_second = False
            s.sendto(subscribe(2, tag.group(1), opt["id2"]), dst)
        continue
    if not first.startswith("NOTIFY"):
        continue
    cseq = int((hdr(msg, "CSeq") or "0").split()[0])
    state = hdr(msg, "Subscription-State")
    basic = re.search(r"<basic>(\w+)</basic>", msg)
    tuples = re.findall(r'<tuple id="([^"]*)">.*?<basic>(\w+)</basic>', msg, re.S)
    via = hdr(msg, "Via") or ""
    br = re.search(r"branch=([^;\s]+)", via)
    print(json.dumps({"t": round(time.time() - start, 3), "cseq": cseq, "state": state,
                      "basic": basic.group(1) if basic else None, "branch": br.group(1) if br else None,
                      "event": hdr(msg, "Event"), "tuples": tuples, "bytes": len(data)}),
          flush=True)
    notifies += 1
    if mode == "silent":
        if max_notifies is not None and notifies >= max_notifies:
            break
        continue
    code = "481 Subscription Does Not Exist" if mode == "481" else "200 OK"
    resp = (f"SIP/2.0 {code}\r\nVia: {via}\r\nFrom: {hdr(msg, 'From')}\r\nTo: {hdr(msg, 'To')}\r\n"
            f"Call-ID: {hdr(msg, 'Call-ID')}\r\nCSeq: {hdr(msg, 'CSeq')}\r\nContent-Length: 0\r\n\r\n")
    # answered to the notifier's listen address (as SIPp and most UAs do), or to the source
    s.sendto(resp.encode(), src if mode == "ok-src" else dst)
    if state and state.startswith("terminated"):
        finals -= 1
        if finals == 0:
            break
    if max_notifies is not None and notifies >= max_notifies:
        break
