#!/usr/bin/env python3
"""Send each RFC 4475 torture message to sprd over UDP and check the verdict of
expect.tsv. Usage: rfc4475_udp.py HOST PORT CORPUS_DIR. Exit 0 when all hold.
Bounded: one datagram per message, 0.5 s wait for its answer (1 s for drops)."""
import os
import socket
import sys


def main():
    host, port, corpus = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    bad = 0
    n = 0
    with open(os.path.join(corpus, "expect.tsv")) as f:
        rows = [l.split("\t") for l in f if l.strip() and not l.startswith("#")]
    for row in rows:
        name, verdict = row[0], row[1]
        with open(os.path.join(corpus, name + ".dat"), "rb") as m:
            msg = m.read()
        s.sendto(msg, (host, port))
        s.settimeout(1.0 if verdict in ("drop", "respond-or-400") else 2.0)
        try:
            reply, _ = s.recvfrom(65535)
            code = int(reply[8:11])
        except socket.timeout:
            code = 0
        if verdict == "accept-register":
            good = code == 200
        elif verdict == "respond":
            good = code >= 200 and code != 400
        elif verdict.startswith("reject-"):
            good = code == int(verdict[7:])
        elif verdict == "drop":
            good = code == 0
        elif verdict == "respond-or-400":
            good = code == 0 or code >= 200
        else:
            good = False
        n += 1
        if not good:
            bad += 1
        print(f"# {'ok  ' if good else 'FAIL'} {name:12} {verdict:16} -> {code or 'no reply'}")
    print(f"# {n - bad}/{n} verdicts hold")
    return 1 if bad or n != 49 else 0


if __name__ == "__main__":
    sys.exit(main())
