# SPDX-License-Identifier: MIT
# py-http.py DIR: http.server.ThreadingHTTPServer, a thread per connection,
# bound to 127.0.0.1 port 0 with a listen backlog of 256; prints "port N"
# once it listens, then serves until killed.  GET /echo/WORD answers 200
# with the body "echo WORD\n"; GET /slow/WORD the same after sleeping 0.2 s
# (so that many handler threads are alive at once); any other path is a
# file of DIR (SimpleHTTPRequestHandler).  Standard library only; the
# request log is not printed.
import functools
import http.server
import sys
import time


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        kind, _, word = self.path[1:].partition("/")
        if kind in ("echo", "slow"):
            if kind == "slow":
                time.sleep(0.2)
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
    handler = functools.partial(Handler, directory=sys.argv[1])
    server = Server(("127.0.0.1", 0), handler)
    print("port %d" % server.server_address[1], flush=True)
    server.serve_forever()


main()
