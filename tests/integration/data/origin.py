# origin.py - a small HTTP/1.1 test origin on the standard library, for what nginx cannot do.
#   --port N [--host ADDR] [--cert PEM --key KEY]   listen on ADDR (default 127.0.0.1):N
#                       (TLS with a cert)
# Paths:
#   POST|PUT /echo      answers the request body (Content-Length or chunked request bodies;
#                       Expect: 100-continue handled), headers X-Echo-Method, X-Echo-Expect
#   GET /headers        the request line and headers as text
#   GET /chunked        a chunked response: 10 chunks "chunk N\n"
#   GET /die            Content-Length: 100000, sends 1000 bytes, then closes the connection
#   GET /close          no Content-Length: the body ends when the connection closes
#   GET /status/N       status N with a short body
#   GET /slow/SECS      waits SECS seconds, then 200
#   GET /ws             WebSocket echo (RFC 6455, text and binary, ping, close)
# Every response carries X-Peer: the client's address:port (so tests see connection reuse).
import argparse, base64, hashlib, socket, ssl, struct, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("origin: " + (fmt % args) + "\n")

    def head(self, status, *headers, reason=None):
        """Sends a response head: the status line, then each (name, value) in order."""
        self.send_response(status, reason)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()

    def peer(self):
        return ("X-Peer", "%s:%d" % self.client_address[:2])

    def reply(self, status, body, ctype="text/plain", extra=()):
        self.head(status, ("Content-Type", ctype), ("Content-Length", str(len(body))),
                  self.peer(), *extra)
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b""

    def do_POST(self):
        if self.path.startswith("/echo"):
            body = self.read_body()
            self.reply(200, body, "application/octet-stream",
                       [("X-Echo-Method", self.command),
                        ("X-Echo-Expect", self.headers.get("Expect", "-"))])
        else:
            self.read_body()
            self.reply(404, b"no such path\n")

    do_PUT = do_POST

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        p = self.path
        if p.startswith("/headers"):
            text = self.requestline + "\n" + str(self.headers)
            self.reply(200, text.encode())
        elif p.startswith("/chunked"):
            self.head(200, ("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked"),
                      self.peer())
            for i in range(10):
                data = b"chunk %d\n" % i
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()
                time.sleep(0.01)
            self.wfile.write(b"0\r\n\r\n")
        elif p.startswith("/die"):
            self.head(200, ("Content-Type", "application/octet-stream"),
                      ("Content-Length", "100000"))
            self.wfile.write(b"x" * 1000)
            self.wfile.flush()
            time.sleep(0.2)
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif p.startswith("/close"):
            self.head(200, ("Content-Type", "text/plain"), ("Connection", "close"))
            self.wfile.write(b"until close\n" * 1000)
            self.wfile.flush()
            self.close_connection = True
        elif p.startswith("/status/"):
            code = int(p.split("/")[2])
            self.reply(code, b"status %d\n" % code)
        elif p.startswith("/slow/"):
            time.sleep(float(p.split("/")[2]))
            self.reply(200, b"slow done\n")
        elif p.startswith("/ws"):
            self.websocket()
        else:
            self.reply(404, b"no such path\n")

    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key")
        if self.headers.get("Upgrade", "").lower() != "websocket" or not key:
            self.reply(400, b"not a websocket request\n")
            return
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.head(101, ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                  ("Sec-WebSocket-Accept", accept), reason="Switching Protocols")
        self.wfile.flush()
        self.close_connection = True
        while True:
            hdr = self.rfile.read(2)
            if len(hdr) < 2:
                return
            op, ln = hdr[0] & 0x0F, hdr[1] & 0x7F
            masked = hdr[1] & 0x80
            if ln == 126:
                ln = struct.unpack("!H", self.rfile.read(2))[0]
            elif ln == 127:
                ln = struct.unpack("!Q", self.rfile.read(8))[0]
            mask = self.rfile.read(4) if masked else b"\0\0\0\0"
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(ln)))
            if op == 8:
                self.wfile.write(ws_frame(8, data[:2]))
                self.wfile.flush()
                return
            if op == 9:
                self.wfile.write(ws_frame(10, data))
            elif op in (1, 2):
                self.wfile.write(ws_frame(op, data))
            self.wfile.flush()


def ws_frame(op, data):
    n = len(data)
    if n < 126:
        head = struct.pack("!BB", 0x80 | op, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | op, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | op, 127, n)
    return head + data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    a = ap.parse_args()
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer((a.host, a.port), Handler)
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
