# SPDX-License-Identifier: MIT
# origin.py - the upstream server of the browser test: plain HTTP on one port and, when given a
# certificate, HTTPS on another, both on 127.0.0.1. Serves a JSON body, a PNG, hostile HTML
# (script, img onerror, a hostile header) and a 404, and prints "ready" when listening.
#   python3 origin.py HTTP_PORT [HTTPS_PORT CERT KEY]
import http.server
import json
import ssl
import sys
import threading

XSS = (b"<!doctype html><html><body><h1>hostile</h1>"
       b"<img src=x onerror=\"window.pwned=1;alert(1)\">"
       b"<script>window.pwned=1;alert('xss')</script></body></html>")


def make_png():
    import struct
    import zlib
    w = h = 16
    raw = b"".join(b"\x00" + bytes([230, 60, 40, 255]) * w for _ in range(h))

    def chunk(t, d):
        c = struct.pack(">I", len(d)) + t + d
        return c + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PNG = make_png()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, ctype, body, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        p = self.path.split("?")[0]
        if p == "/data.json":
            body = json.dumps({"name": "flowscope", "items": [1, 2, {"deep": True}],
                               "html": "<img src=x onerror=window.pwned=1>",
                               "nested": {"a": None, "b": "</script><script>window.pwned=1</script>"}})
            self.send(200, "application/json", body.encode())
        elif p == "/pixel.png":
            self.send(200, "image/png", PNG)
        elif p == "/xss.html":
            self.send(200, "text/html; charset=utf-8", XSS,
                      [("X-Evil", "<img src=x onerror=window.pwned=1>")])
        else:
            self.send(404, "text/plain", b"not here\n")

    do_HEAD = do_GET

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n)
        self.send(200, "application/json", json.dumps({"got": len(data)}).encode())


def serve(port, ctx=None):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    if ctx:
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()


serve(int(sys.argv[1]))
if len(sys.argv) > 4:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[3], sys.argv[4])
    serve(int(sys.argv[2]), ctx)
print("ready", flush=True)
threading.Event().wait()
