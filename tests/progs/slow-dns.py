#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# slow-dns.py --gate DIR [--port N] [--gather K] [--domain NAME]: a tiny
# DNS responder for tests (Python 3 standard library only). UDP on
# 127.0.0.1. For a name under DOMAIN (default slow.test) it answers an A
# query with 10.0.0.N, where N is the number at the end of the first
# label ("host7.slow.test" -> 10.0.0.7; 1 when there is none), and any
# other query type with no answer (NODATA), but not at once: it holds the
# answers until queries for K different names (default 8) wait at the same
# time, writes DIR/gathered.R (R = 1, 2, ...: one round per K names, the
# names in it), and answers them all once DIR/release.R exists. Queries
# that come while a round waits for its release go to the next round, or
# to the waiting round if they ask about one of its names. Every other
# name gets NXDOMAIN at once. Nothing depends on timing: a client that
# never sends K queries at once gets no answer, and its own timeout turns
# that into a failure. Prints "ready PORT" on stdout once it listens; runs
# until killed.
import argparse
import os
import re
import socket
import struct
import sys


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


class Rounds:
    """Held answers, released K names at a time through files in DIR."""

    def __init__(self, sock, gate, gather):
        self.sock, self.gate, self.gather = sock, gate, gather
        self.round = 1
        self.waiting = None     # (round, names, held) gathered, not released
        self.names, self.held = [], []      # the round being gathered

    def hold(self, qname, reply, peer):
        if self.waiting is not None and qname in self.waiting[1]:
            self.waiting[2].append((qname, reply, peer))
            return
        if qname not in self.names:
            self.names.append(qname)
        self.held.append((qname, reply, peer))
        self.gathered()

    def gathered(self):
        if self.waiting is not None or len(self.names) < self.gather:
            return
        names, self.names = self.names[:self.gather], self.names[self.gather:]
        held = [h for h in self.held if h[0] in names]
        self.held = [h for h in self.held if h[0] not in names]
        self.waiting = (self.round, names, held)
        path = os.path.join(self.gate, f"gathered.{self.round}")
        with open(path + ".tmp", "w") as f:
            f.write("\n".join(names) + "\n")
        os.rename(path + ".tmp", path)
        print(f"round {self.round} gathered: {' '.join(names)}",
              file=sys.stderr, flush=True)
        self.round += 1

    def poll(self):
        """Answer the waiting round once its release file exists."""
        if self.waiting is None:
            return
        r, _names, held = self.waiting
        if not os.path.exists(os.path.join(self.gate, f"release.{r}")):
            return
        for _qname, reply, peer in held:
            self.sock.sendto(reply, peer)
        print(f"round {r} released", file=sys.stderr, flush=True)
        self.waiting = None
        self.gathered()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gate", required=True)
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--gather", type=int, default=8)
    ap.add_argument("--domain", default="slow.test")
    args = ap.parse_args()
    domain = args.domain.lower().strip(".")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", args.port))
    # Wakes every 10 ms to look for a release file.
    sock.settimeout(0.01)
    rounds = Rounds(sock, args.gate, args.gather)
    print("ready", sock.getsockname()[1], flush=True)

    while True:
        rounds.poll()
        try:
            data, peer = sock.recvfrom(4096)
        except socket.timeout:
            continue
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
            rounds.hold(qname, response(data, qend, 0, ip), peer)
        else:
            sock.sendto(response(data, qend, 3), peer)


if __name__ == "__main__":
    main()
