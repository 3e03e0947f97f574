#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# slow-dns.py [--port N] [--delay SECONDS] [--domain NAME]: a tiny DNS
# responder for tests (Python 3 standard library only). UDP on 127.0.0.1.
# For a name under DOMAIN (default slow.test) it answers, after DELAY
# seconds (default 0.3), an A query with 10.0.0.N, where N is the number
# at the end of the first label ("host7.slow.test" -> 10.0.0.7; 1 when
# there is none), and any other query type with no answer (NODATA); every
# other name gets NXDOMAIN at once. Each delayed answer is sent by its own
# thread, so queries that arrive together are answered together. Prints
# "ready PORT" on stdout once it listens; runs until killed.
import argparse
import re
import socket
import struct
import sys
import threading
import time


def parse_question(msg):
    """(qname, qtype, end offset of the question) of a query."""
    labels, i = [], 12
    while True:
        n = msg[i]
        if n == 0:
            i += 1
            break
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    qtype, _qclass = struct.unpack("!HH", msg[i:i + 4])
    return ".".join(labels).lower(), qtype, i + 4


def response(msg, qend, rcode, answer_ip=None):
    qid, flags = struct.unpack("!HH", msg[:4])
    rd = flags & 0x0100
    out_flags = 0x8000 | 0x0400 | rd | 0x0080 | rcode  # QR AA RD RA
    ancount = 1 if answer_ip else 0
    head = struct.pack("!HHHHHH", qid, out_flags, 1, ancount, 0, 0)
    body = msg[12:qend]
    if answer_ip:
        body += struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4)
        body += socket.inet_aton(answer_ip)
    return head + body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--delay", type=float, default=0.3)
    ap.add_argument("--domain", default="slow.test")
    args = ap.parse_args()
    domain = args.domain.lower().strip(".")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", args.port))
    print("ready", sock.getsockname()[1], flush=True)
    lock = threading.Lock()

    def answer_later(data, peer, reply):
        time.sleep(args.delay)
        with lock:
            sock.sendto(reply, peer)

    while True:
        data, peer = sock.recvfrom(4096)
        try:
            qname, qtype, qend = parse_question(data)
        except (IndexError, struct.error):
            continue
        print(f"query {qname} type {qtype}", file=sys.stderr, flush=True)
        if qname == domain or qname.endswith("." + domain):
            ip = None
            if qtype == 1:
                m = re.search(r"(\d+)$", qname.split(".")[0])
                ip = f"10.0.0.{int(m.group(1)) % 256 if m else 1}"
            reply = response(data, qend, 0, ip)
            threading.Thread(target=answer_later, args=(data, peer, reply),
                             daemon=True).start()
        else:
            with lock:
                sock.sendto(response(data, qend, 3), peer)


if __name__ == "__main__":
    main()
