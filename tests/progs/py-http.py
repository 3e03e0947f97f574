# SPDX-License-Identifier: MIT
# py-http.py DIR [N HOLD_FILE]: http.server.ThreadingHTTPServer, a thread
# per connection, bound to 127.0.0.1 port 0 with a listen backlog of 256;
# prints "port P" once it listens, then serves until killed.  GET
# /echo/WORD answers 200 with the body "echo WORD\n"; GET /slow/WORD the
# same, but the first N of them wait until N are in flight at once (so that
# N handler threads are alive together, whatever the timing), then the
# server prints "N in flight" and waits (at most 30 s) for HOLD_FILE to
# exist before it answers them; any other path is a file of DIR
# (SimpleHTTPRequestHandler).  Standard library only; the request log is
# not printed.
import functools
import http.server
import os
import sys
import threading
import time


class Gate:
    """The first n slow requests wait until n are in flight together."""

    def __init__(self, n, hold):
        self.n, self.hold = n, hold
        self.cv = threading.Condition()
        self.arrived = 0
        self.open = n == 0

    def pass_through(self):
        with self.cv:
            if self.open:
                return
            self.arrived += 1
            if self.arrived < self.n:
                self.cv.wait_for(lambda: self.open, 60)
                return
        print("%d in flight" % self.n, flush=True)
        for _ in range(3000):
            if os.path.exists(self.hold):
                break
            time.sleep(0.01)
        with self.cv:
            self.open = True
            self.cv.notify_all()


GATE = Gate(0, None)


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        kind, _, word = self.path[1:].partition("/")
        if kind in ("echo", "slow"):
            if kind == "slow":
                GATE.pass_through()
            body = ("echo %s\n" % word).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            super().do_GET()

    def log_message(self, format, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    # socketserver's listen backlog of 5 overflows when 100 clients connect
    # at once, natively too, and the kernel then leaves some of them
    # waiting for SYN-ACK retransmissions for many seconds.
    request_queue_size = 256
    daemon_threads = True


def main():
    global GATE
    if len(sys.argv) == 4:
        GATE = Gate(int(sys.argv[2]), sys.argv[3])
    handler = functools.partial(Handler, directory=sys.argv[1])
    server = Server(("127.0.0.1", 0), handler)
    print("port %d" % server.server_address[1], flush=True)
    server.serve_forever()


main()
