#!/usr/bin/python3
# trailer_origin.py - an HTTP/1.1 origin on raw sockets for t_proxy_trailers.sh: chunked bodies
# with trailers both ways, which neither http.server nor nginx can do. Keep-alive; with --cert
# and --key it speaks TLS and agrees to no ALPN protocol (so that flowscope gives an h2 client
# h2 and translates its streams to HTTP/1.1 here).
#
#   /trailers   200, chunked "hello\n" "world\n", then trailers X-Checksum: abc, X-Trailer: yes
#   /echo       200 with a length: "body=BODY\n", then "trailer NAME: VALUE\n" for each trailer
#               of the (chunked) request, as received
#   anything    404
import argparse, socket, ssl, threading


class Conn:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buf += data
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exactly(self, n):
        while len(self.buf) < n:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buf += data
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def fields(self):
        """Header (or trailer) lines up to the empty one, as (name, value) pairs."""
        out = []
        while True:
            line = self.line()
            if not line:
                return out
            name, value = line.split(b":", 1)
            out.append((name.decode(), value.strip().decode()))


def read_request(c):
    target = c.line().split(b" ")[1].decode()
    headers = c.fields()
    h = {k.lower(): v for k, v in headers}
    body, trailers = b"", []
    if h.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int(c.line().split(b";")[0], 16)
            if size == 0:
                break
            body += c.exactly(size)
            c.exactly(2)
        trailers = c.fields()
    elif "content-length" in h:
        body = c.exactly(int(h["content-length"]))
    return target, body, trailers


def serve(sock):
    c = Conn(sock)
    try:
        while True:
            target, body, trailers = read_request(c)
            if target.startswith("/trailers"):
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                             b"Transfer-Encoding: chunked\r\nTrailer: X-Checksum, X-Trailer\r\n"
                             b"\r\n6\r\nhello\n\r\n6\r\nworld\n\r\n0\r\n"
                             b"X-Checksum: abc\r\nX-Trailer: yes\r\n\r\n")
            elif target.startswith("/echo"):
                out = b"body=" + body + b"\n" + b"".join(
                    ("trailer %s: %s\n" % kv).encode() for kv in trailers)
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(out), out))
            else:
                sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    except (EOFError, OSError, ValueError, IndexError):
        pass
    sock.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    args = p.parse_args()
    ctx = None
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
    srv = socket.create_server(("127.0.0.1", args.port))
    while True:
        s, _ = srv.accept()
        try:
            if ctx:
                s = ctx.wrap_socket(s, server_side=True)
        except (ssl.SSLError, OSError):
            s.close()
            continue
        threading.Thread(target=serve, args=(s,), daemon=True).start()


main()
