# SPDX-License-Identifier: MIT
"""py-hello.py: a keep-alive HTTP/1.1 "hello" server on the standard
library's ThreadingHTTPServer, a thread per connection, for
scripts/bench/http.

Binds 127.0.0.1 on a port the kernel picks, prints "port N" and serves until
killed.  It knows nothing of how it is run, and runs unchanged three ways:

    python3 py-hello.py                          native threads
    LD_PRELOAD=libgreen.so python3 py-hello.py   libgreen's green threads
    python3 -m gevent.monkey py-hello.py         gevent's greenlets

gevent.monkey as a main module patches the standard library (socket,
threading, select, ...) and then runs this file as __main__ (with runpy), so
no wrapper is needed; checked with Debian's python3-gevent 22.10.
"""
import http.server
import io
import sys

BODY = b"hello"


class Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1 keeps the connection open between requests.
    protocol_version = "HTTP/1.1"
    # StreamRequestHandler writes unbuffered by default: the head and the
    # body leave in two sends, and Nagle's algorithm holds the second until
    # the client's delayed ACK (40 ms on Linux).  A buffered wfile (flushed
    # after each request by handle_one_request) sends each response at once,
    # and TCP_NODELAY matches the C servers.
    wbufsize = io.DEFAULT_BUFFER_SIZE
    disable_nagle_algorithm = True

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, format, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: with hundreds of clients
    # connecting at once the accept queue overflows and the kernel drops
    # SYNs, natively too, and those clients wait for a retransmission
    # (1 s, then 3 s ...).  The kernel caps this at net.core.somaxconn.
    request_queue_size = 4096
    daemon_threads = True

    def handle_error(self, request, client_address):
        # wrk resets its connections when a run ends; a traceback on stderr
        # for each would cost the server CPU time that the benchmark counts.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def main():
    server = Server(("127.0.0.1", 0), Handler)
    print("port %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
