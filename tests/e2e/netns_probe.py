#!/usr/bin/env python3
"""Raw-socket helpers for tests/e2e/dpdk_netns.sh, run inside the client namespace.

  netns_probe.py ping SRC DST COUNT          ICMP echo from SRC; 0 when every echo is answered
  netns_probe.py udp-port SRC DST DPORT P... first source port P whose OPTIONS is answered (stdout)
  netns_probe.py bad-csum SRC SPORT DST DPORT AOR   a REGISTER removing AOR's bindings, bad UDP checksum
  netns_probe.py short SRC DST               an IPv4/UDP datagram 4 bytes long (no full UDP header)
  netns_probe.py publish SRC DST DPORT AOR ETAGFILE BASIC [NOTE_BYTES [TUPLE_ID]]
                                             a PUBLISH of AOR with that basic status, modifying
                                             the publication in ETAGFILE when there is one (RFC 3903
                                             §4.4); prints the status line, keeps the new SIP-ETag;
                                             a <note> of NOTE_BYTES in tuple TUPLE_ID (default t1)
"""
import os
import socket
import struct
import sys
import time


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def ping(src, dst, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s.bind((src, 0))
    s.settimeout(0.5)
    ident, got, body = os.getpid() & 0xFFFF, 0, b"sprd-e2e" * 4
    for seq in range(1, n + 1):
        h = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        h = struct.pack("!BBHHH", 8, 0, csum(h + body), ident, seq)
        s.sendto(h + body, (dst, 0))
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            try:
                pkt, a = s.recvfrom(2048)
            except socket.timeout:
                break
            ihl = (pkt[0] & 15) * 4
            t, _, _, i, q = struct.unpack("!BBHHH", pkt[ihl:ihl + 8])
            if (a[0] == dst and t == 0 and i == ident and q == seq and pkt[ihl + 8:] == body
                    and csum(pkt[ihl:]) == 0):
                got += 1
                break
    print(f"# {got}/{n} echo replies from {dst} to {src}")
    return 0 if got == n else 1


def options(src, sport, dst, dport):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((src, sport))
    except OSError:
        return False
    s.settimeout(0.5)
    m = (f"OPTIONS sip:example.com SIP/2.0\r\n"
         f"Via: SIP/2.0/UDP {src}:{sport};branch=z9hG4bKprobe{sport};rport\r\n"
         f"Max-Forwards: 70\r\nFrom: <sip:probe@example.com>;tag={sport}\r\n"
         f"To: <sip:example.com>\r\nCall-ID: probe-{sport}@e2e\r\nCSeq: 1 OPTIONS\r\n"
         f"Content-Length: 0\r\n\r\n")
    s.sendto(m.encode(), (dst, dport))
    try:
        return s.recv(4096).startswith(b"SIP/2.0 200")
    except socket.timeout:
        return False
    finally:
        s.close()


def udp_port(src, dst, dport, ports):
    for p in ports:
        if options(src, p, dst, dport):
            print(p)
            return 0
        print(f"# no answer to OPTIONS from {src}:{p}", file=sys.stderr)
    return 1


def ip_header(src, dst, proto, payload_len):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, os.getpid() & 0xFFFF, 0, 64,
                    proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]


def raw_send(src, dst, pkt):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # IP_HDRINCL
    s.sendto(pkt, (dst, 0))
    s.close()


def bad_csum(src, sport, dst, dport, aor):
    user = aor.split("@")[0]
    sip = (f"REGISTER sip:example.com SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP {src}:{sport};branch=z9hG4bKbadcsum;rport\r\n"
           f"Max-Forwards: 70\r\nFrom: <sip:{aor}>;tag=bad\r\nTo: <sip:{aor}>\r\n"
           f"Call-ID: badcsum-{user}@e2e\r\nCSeq: 1 REGISTER\r\nContact: *\r\nExpires: 0\r\n"
           f"Content-Length: 0\r\n\r\n").encode()
    ulen = 8 + len(sip)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, ulen)
    good = csum(pseudo + struct.pack("!HHHH", sport, dport, ulen, 0) + sip) or 0xFFFF
    bad = good ^ 0x5A5A or 1  # never 0 (0 means "no checksum" over IPv4)
    raw_send(src, dst, ip_header(src, dst, 17, ulen) + struct.pack("!HHHH", sport, dport, ulen, bad) + sip)
    print(f"# REGISTER Contact: * for {aor} sent with UDP checksum {bad:#06x} (right one {good:#06x})")
    return 0


def short(src, dst):
    raw_send(src, dst, ip_header(src, dst, 17, 4) + b"\x13\xc4\x13\xc4")
    return 0


def publish(src, dst, dport, aor, etagf, basic, note_bytes=0, tuple_id="t1"):
    note = f"<note>{'n' * note_bytes}</note>" if note_bytes else ""
    body = (f'<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:{aor}">'
            f'<tuple id="{tuple_id}"><status><basic>{basic}</basic></status>{note}</tuple></presence>').encode()
    tag = f"{time.time()}"
    match = f"SIP-If-Match: {open(etagf).read()}\r\n" if os.path.exists(etagf) else ""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(2)
    sport = s.getsockname()[1]
    m = (f"PUBLISH sip:{aor} SIP/2.0\r\nVia: SIP/2.0/UDP {src}:{sport};branch=z9hG4bKp{tag};rport\r\n"
         f"Max-Forwards: 70\r\nFrom: <sip:{aor}>;tag=p\r\nTo: <sip:{aor}>\r\nCall-ID: pub-{tag}@e2e\r\n"
         f"CSeq: 1 PUBLISH\r\nEvent: presence\r\nExpires: 600\r\n{match}"
         f"Content-Type: application/pidf+xml\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    s.sendto(m, (dst, dport))
    try:
        resp = s.recv(65535).decode(errors="replace").split("\r\n")
    except socket.timeout:
        print("no answer")
        return 1
    etag = next((l.split(":", 1)[1].strip() for l in resp if l.lower().startswith("sip-etag:")), "")
    if etag:
        open(etagf, "w").write(etag)
    print(resp[0])
    return 0


def main(a):
    if a[0] == "ping":
        return ping(a[1], a[2], int(a[3]))
    if a[0] == "udp-port":
        return udp_port(a[1], a[2], int(a[3]), [int(p) for p in a[4:]])
    if a[0] == "bad-csum":
        return bad_csum(a[1], int(a[2]), a[3], int(a[4]), a[5])
    if a[0] == "short":
        return short(a[1], a[2])
    if a[0] == "publish":
        return publish(a[1], a[2], int(a[3]), a[4], a[5], a[6], int(a[7]) if len(a) > 7 else 0,
                       a[8] if len(a) > 8 else "t1")
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
