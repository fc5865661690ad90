#!/usr/bin/env python3
"""A one-shot SIP user agent for the e2e tests: REGISTER or PUBLISH, print the status line.

usage: ua.py HOST:PORT register AOR EXPIRES
       ua.py HOST:PORT unregister AOR
       ua.py HOST:PORT publish AOR BASIC [ACTIVITY [NOTE]]
  register  one binding (Contact sip:dev@HOST:PORT of our socket) for EXPIRES seconds
  unregister  every binding of AOR (Contact: *, Expires: 0)
  publish   an initial PUBLISH (600 s) of a PIDF document with one tuple of BASIC
            (open/closed) and, when ACTIVITY is given, an RPID person with that
            activity (busy, away, on-the-phone, ...) and NOTE
Retransmits (RFC 3261 Timer E, 0.5 s doubling) until a final response or 8 s.
"""
import socket
import sys
import time
from xml.sax.saxutils import escape

target, what, aor = sys.argv[1], sys.argv[2], sys.argv[3]
host, port = target.rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((host, 0))
lp = s.getsockname()[1]
tag = f"{lp}{int(time.time() * 1000) % 100000}"
domain = aor.rsplit("@", 1)[1]
if what == "register":
    expires = int(sys.argv[4])
    msg = (f"REGISTER sip:{domain} SIP/2.0\r\nVia: SIP/2.0/UDP {host}:{lp};branch=z9hG4bKr{tag}\r\n"
           f"Max-Forwards: 70\r\nFrom: <sip:{aor}>;tag=r{tag}\r\nTo: <sip:{aor}>\r\n"
           f"Call-ID: reg-{tag}@e2e\r\nCSeq: 1 REGISTER\r\n"
           f"Contact: <sip:dev@{host}:{lp}>;expires={expires}\r\nContent-Length: 0\r\n\r\n").encode()
elif what == "unregister":
    msg = (f"REGISTER sip:{domain} SIP/2.0\r\nVia: SIP/2.0/UDP {host}:{lp};branch=z9hG4bKu{tag}\r\n"
           f"Max-Forwards: 70\r\nFrom: <sip:{aor}>;tag=u{tag}\r\nTo: <sip:{aor}>\r\n"
           f"Call-ID: unreg-{tag}@e2e\r\nCSeq: 1 REGISTER\r\nContact: *\r\nExpires: 0\r\n"
           f"Content-Length: 0\r\n\r\n").encode()
elif what == "publish":
    basic = sys.argv[4]
    person = ""
    if len(sys.argv) > 5:
        note = f"<dm:note>{escape(sys.argv[6])}</dm:note>" if len(sys.argv) > 6 else ""
        person = (f'<dm:person id="p1"><rpid:activities><rpid:{sys.argv[5]}/></rpid:activities>'
                  f"{note}</dm:person>")
    body = (f'<?xml version="1.0" encoding="UTF-8"?>'
            f'<presence xmlns="urn:ietf:params:xml:ns:pidf" '
            f'xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" '
            f'xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:{escape(aor)}">'
            f'<tuple id="t1"><status><basic>{basic}</basic></status></tuple>{person}</presence>').encode()
    msg = (f"PUBLISH sip:{aor} SIP/2.0\r\nVia: SIP/2.0/UDP {host}:{lp};branch=z9hG4bKp{tag}\r\n"
           f"Max-Forwards: 70\r\nFrom: <sip:{aor}>;tag=p{tag}\r\nTo: <sip:{aor}>\r\n"
           f"Call-ID: pub-{tag}@e2e\r\nCSeq: 1 PUBLISH\r\nEvent: presence\r\nExpires: 600\r\n"
           f"Content-Type: application/pidf+xml\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
else:
    sys.exit(f"unknown request {what}")

start, rto = time.time(), 0.5
while time.time() - start < 8:
    s.sendto(msg, (host, int(port)))
    s.settimeout(rto)
    try:
        data = s.recv(65535).decode(errors="replace")
    except socket.timeout:
        rto = min(rto * 2, 4)
        continue
    first = data.split("\r\n", 1)[0]
    if first.startswith("SIP/2.0 1"):
        continue
    print(first)
    sys.exit(0)
print("timeout")
sys.exit(1)
