#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# early_connect.py - checks that the proxy answers a CONNECT it will decrypt before the upstream
# is reached, and that a ClientHello sent meanwhile waits for it. The upstream is a TLS server
# whose accept queue is kept full (listen(0) plus a filler connection), so the proxy's SYN is
# dropped until the client has its "200"; then the queue is drained and the kernel's SYN
# retransmission (about 1 s) gets through. Prints key=value lines for the shell test.
import argparse
import os
import socket
import ssl
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--proxy-port", type=int, required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--cert", required=True)
ap.add_argument("--key", required=True)
a = ap.parse_args()

answered = threading.Event()
t0 = time.monotonic()


def ms():
    return int((time.monotonic() - t0) * 1000)


def read_head(sock, step):
    """Bytes up to and including the blank line after a head (or up to EOF)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(step)
        if not d:
            break
        buf += d
    return buf


lsock = socket.socket()
lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsock.bind(("127.0.0.1", 0))
lsock.listen(0)
port = lsock.getsockname()[1]
filler = socket.socket()
filler.setblocking(False)
filler.connect_ex(("127.0.0.1", port))
time.sleep(0.1)  # the filler is in the accept queue: it is full now


def serve():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    answered.wait(10)
    time.sleep(0.2)
    first = lsock.accept()[0]  # the filler
    first.close()
    lsock.settimeout(10)
    conn = lsock.accept()[0]
    print("upstream_accepted_ms=%d" % ms(), flush=True)
    with ctx.wrap_socket(conn, server_side=True) as s:
        if b"\r\n\r\n" not in read_head(s, 4096):
            return
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nearly")


server = threading.Thread(target=serve, daemon=True)
server.start()

c = socket.create_connection(("127.0.0.1", a.proxy_port), timeout=10)
c.sendall(b"CONNECT localhost:%d HTTP/1.1\r\nHost: localhost:%d\r\n\r\n" % (port, port))
head = read_head(c, 1)  # one byte at a time: what follows the head is the tunnel's
print("connect_answered_ms=%d" % ms(), flush=True)
print("connect_status=%s" % head.split(b"\r\n")[0].decode(errors="replace"), flush=True)
answered.set()
ctx = ssl.create_default_context(cafile=a.ca)
try:
    with ctx.wrap_socket(c, server_hostname="localhost") as s:
        s.sendall(b"GET /early HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        resp = b""
        while True:
            d = s.recv(4096)
            if not d:
                break
            resp += d
    print("body=%s" % resp.split(b"\r\n\r\n", 1)[-1].decode(errors="replace"), flush=True)
except (OSError, ssl.SSLError) as e:
    print("error=%s" % e, flush=True)
print("done_ms=%d" % ms(), flush=True)
server.join(5)
os._exit(0)
