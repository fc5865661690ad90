#!/usr/bin/env python3
"""A resource list watcher (RFC 4662) for the e2e tests: SUBSCRIBE to a list
URI, answer NOTIFYs 200 and print one JSON line per NOTIFY with what its
multipart/related body says.

usage: list_watcher.py HOST:PORT LIST_AOR MODE [SECONDS [FILE]]
  MODE  ok           Supported: eventlist; run SECONDS (default 5) or until terminated
        unsupported  no Supported: eventlist; print the response and stop
        unsubscribe  like ok, then an in-dialog SUBSCRIBE Expires: 0 once FILE exists
                     (at the latest after SECONDS)
        fetch        Expires: 0 (RFC 6665 §4.4.3): one NOTIFY, terminated
The first line is the response: {"status": N, "require": "..."|null, "expires": ...}.
Each NOTIFY line: {"t", "cseq", "state", "require", "ctype", "version", "full",
"list_uri", "resources": [{"uri", "basic", "activities", "note"} ...]} where a
resource without an instance has basic null; any flaw in the body (boundary in a
part, a cid without its part, a part without its cid, XML that does not parse)
is reported as "error".
"""
import json
import os
import re
import socket
import sys
import time
import xml.etree.ElementTree as ET

RLMI = "{urn:ietf:params:xml:ns:rlmi}"
PIDF = "{urn:ietf:params:xml:ns:pidf}"
RPID = "{urn:ietf:params:xml:ns:pidf:rpid}"
DM = "{urn:ietf:params:xml:ns:pidf:data-model}"

target, aor, mode = sys.argv[1], sys.argv[2], sys.argv[3]
seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 5.0
trigger = sys.argv[5] if len(sys.argv) > 5 else None
host, port = target.rsplit(":", 1)
dst = (host, int(port))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((host, 0))
lp = s.getsockname()[1]
callid = f"l{lp}-{time.time()}@e2e"
supported = "" if mode == "unsupported" else "Supported: eventlist\r\n"
domain = aor.rsplit("@", 1)[1]  # the watcher is of the list's domain (--presence-policy same-domain)


def subscribe(cseq, expires, to_tag=None):
    to = f"<sip:{aor}>" + (f";tag={to_tag}" if to_tag else "")
    return (f"SUBSCRIBE sip:{aor} SIP/2.0\r\nVia: SIP/2.0/UDP {host}:{lp};branch=z9hG4bKl{lp}x{cseq}\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:lw{lp}@{domain}>;tag=l{lp}\r\nTo: {to}\r\n"
            f"Call-ID: {callid}\r\nCSeq: {cseq} SUBSCRIBE\r\nContact: <sip:lw@{host}:{lp}>\r\n"
            f"Event: presence\r\n{supported}"
            f"Accept: multipart/related, application/rlmi+xml, application/pidf+xml\r\n"
            f"Expires: {expires}\r\nContent-Length: 0\r\n\r\n").encode()


def hdr(head, name):
    m = re.search(r"^" + name + r":\s*(.*?)\r?$", head, re.M | re.I)
    return m.group(1) if m else None


def param(ct, name):
    m = re.search(r";\s*" + name + r'="([^"]*)"', ct)
    return m.group(1) if m else None


def parse_body(ct, body):
    """The RLMI list and member states of a multipart/related body, or {"error": ...}."""
    b = param(ct, "boundary")
    start = param(ct, "start")
    if not ct.startswith("multipart/related") or param(ct, "type") != "application/rlmi+xml" or not b or not start:
        return {"error": f"content type {ct}"}
    delim = b"--" + b.encode()
    if not body.startswith(delim + b"\r\n") or not body.endswith(b"\r\n" + delim + b"--\r\n"):
        return {"error": "body not framed by the boundary"}
    chunks = body[len(delim) + 2:-(len(delim) + 6)].split(b"\r\n" + delim + b"\r\n")
    parts = {}
    first = None
    for c in chunks:
        head, _, content = c.partition(b"\r\n\r\n")
        if b.encode() in content:
            return {"error": "boundary inside a part"}
        h = head.decode()
        cid = hdr(h, "Content-ID")
        parts[cid] = (hdr(h, "Content-Type"), content)
        first = first or cid
    if first != start or not parts[start][0].startswith("application/rlmi+xml"):
        return {"error": "the start part is not the RLMI document"}
    try:
        lst = ET.fromstring(parts.pop(start)[1])
    except ET.ParseError as e:
        return {"error": f"RLMI: {e}"}
    out = {"version": int(lst.get("version")), "full": lst.get("fullState"),
           "list_uri": lst.get("uri"), "resources": []}
    for r in lst.findall(RLMI + "resource"):
        res = {"uri": r.get("uri"), "basic": None, "activities": [], "note": None}
        inst = r.find(RLMI + "instance")
        if inst is not None:
            part = parts.pop("<" + inst.get("cid") + ">", None)
            if part is None or not part[0].startswith("application/pidf+xml"):
                return {"error": f"no pidf part for cid {inst.get('cid')}"}
            if inst.get("state") != "active":
                return {"error": "instance not active"}
            try:
                doc = ET.fromstring(part[1])
            except ET.ParseError as e:
                return {"error": f"PIDF of {res['uri']}: {e}"}
            basic = doc.find(f"{PIDF}tuple/{PIDF}status/{PIDF}basic")
            res["basic"] = basic.text if basic is not None else None
            acts = doc.find(f"{DM}person/{RPID}activities")
            res["activities"] = [a.tag.replace(RPID, "") for a in acts] if acts is not None else []
            note = doc.find(f"{DM}person/{DM}note")
            res["note"] = note.text if note is not None else None
        out["resources"].append(res)
    if parts:
        return {"error": f"parts without an instance: {list(parts)}"}
    return out


start_t = time.time()
deadline = start_t + seconds
end = deadline + (3 if mode == "unsubscribe" else 0)
s.sendto(subscribe(1, 0 if mode == "fetch" else 600), dst)
to_tag = None
unsub_sent = False
while time.time() < end:
    if (mode == "unsubscribe" and not unsub_sent and to_tag
            and (time.time() >= deadline or (trigger and os.path.exists(trigger)))):
        s.sendto(subscribe(2, 0, to_tag), dst)
        unsub_sent = True
        end = time.time() + 3
    wait = (deadline if mode == "unsubscribe" and not unsub_sent else end) - time.time()
    s.settimeout(max(0.05, min(wait, 0.2) if trigger and not unsub_sent else wait))
    try:
        data, src = s.recvfrom(65535)
    except socket.timeout:
        continue
    head, _, body = data.partition(b"\r\n\r\n")
    head = head.decode(errors="replace")
    first = head.split("\r\n", 1)[0]
    if first.startswith("SIP/2.0"):
        tag = re.search(r"tag=([^;>\s]+)", hdr(head, "To") or "")
        to_tag = to_tag or (tag.group(1) if tag else None)
        print(json.dumps({"status": int(first.split()[1]), "require": hdr(head, "Require"),
                          "expires": hdr(head, "Expires"), "cseq": hdr(head, "CSeq")}), flush=True)
        if mode == "unsupported":
            break
        continue
    if not first.startswith("NOTIFY"):
        continue
    ct = hdr(head, "Content-Type") or ""
    line = {"t": round(time.time() - start_t, 3), "cseq": int((hdr(head, "CSeq") or "0").split()[0]),
            "state": hdr(head, "Subscription-State"), "require": hdr(head, "Require"), "ctype": ct}
    line.update(parse_body(ct, body))
    print(json.dumps(line), flush=True)
    via = hdr(head, "Via")
    resp = (f"SIP/2.0 200 OK\r\nVia: {via}\r\nFrom: {hdr(head, 'From')}\r\nTo: {hdr(head, 'To')}\r\n"
            f"Call-ID: {hdr(head, 'Call-ID')}\r\nCSeq: {hdr(head, 'CSeq')}\r\nContent-Length: 0\r\n\r\n")
    s.sendto(resp.encode(), dst)
    if line["state"] and line["state"].startswith("terminated"):
        break
