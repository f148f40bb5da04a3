#!/usr/bin/python3
"""receiver.py - a webhook receiver for the alert tests, on loopback only.

Every POST is appended to RECORD as one JSON line: the path, the headers
the tests look at (Idempotency-Key, Content-Type, User-Agent, and any
X-* header), and the body parsed as JSON (or null). Answers --status
(default 200). With --port 0 the port picked by the kernel is written
to --port-file once the server listens.

usage: receiver.py --port N --record FILE [--status CODE] [--port-file FILE]
"""
import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--port-file")
    args = ap.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > 1 << 20:
                self.send_error(413)
                return
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            keep = {k: v for k, v in self.headers.items()
                    if k.lower() in ("idempotency-key", "content-type", "user-agent", "authorization")
                    or k.lower().startswith("x-")}
            line = json.dumps({"path": self.path, "headers": keep, "body": body})
            # one write per record; O_APPEND keeps concurrent lines whole
            fd = os.open(args.record, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, (line + "\n").encode())
            finally:
                os.close(fd)
            self.send_response(args.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, fmt, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(tmp, args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
