#!/usr/bin/python3
# encoded_origin.py - an origin whose answers are compressed, for t_web_edit_encoded.sh
# (Debian's python3-brotli and python3-zstandard, which scripts/deps.sh test installs).
#
#   GET /CODING    200, "captured text for CODING\n" with Content-Encoding CODING and its length,
#                  for gzip, deflate (zlib-wrapped), br, zstd, "gzip, br" (gzip first), and
#                  x-custom (the text as is: a coding nobody can apply)
#   POST anything  200, "got N bytes"
import argparse, gzip, http.server, zlib

import brotli, zstandard

CODERS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "br": brotli.compress,
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
    "gzip, br": lambda b: brotli.compress(gzip.compress(b)),
    "x-custom": lambda b: b,
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, body, coding=None):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        if coding:
            self.send_header("Content-Encoding", coding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        coding = self.path.lstrip("/").replace("%20", " ").replace("%2C", ",")
        if coding not in CODERS:
            self.send_error(404)
            return
        self.answer(CODERS[coding](("captured text for %s\n" % coding).encode()), coding)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(n)
        self.answer(b"got %d bytes" % n)

    def log_message(self, *args):
        pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


main()
