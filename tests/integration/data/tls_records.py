#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""tls_records.py - several TLS records in one TCP segment through the proxy's TLS split.

CONNECTs through the proxy, then runs TLS over memory BIOs so that the bytes of each flight
go out in one send(): the client's Finished together with its first request, then N requests
in N records at once (pipelined). A proxy that reads records ahead of what it hands on must
still answer every request. Prints one line per response: "status LENGTH", then "done N".
"""
import argparse
import socket
import ssl
import time
import faulthandler
faulthandler.dump_traceback_later(12, exit=True)

import tunnel  # noqa: E402 (after the watchdog)

ap = argparse.ArgumentParser()
ap.add_argument("--proxy-port", type=int, required=True)
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--ca", required=True)
ap.add_argument("--path", default="/1k")
ap.add_argument("-n", type=int, default=3)
a = ap.parse_args()

try:
    s, head = tunnel.connect(a.proxy_port, "localhost", a.port)
except EOFError as e:
    raise SystemExit(str(e))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
if b" 200 " not in head.split(b"\r\n")[0]:
    raise SystemExit("CONNECT refused: %r" % head)

ctx = ssl.create_default_context(cafile=a.ca)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname="localhost")


def req(last):
    conn = "close" if last else "keep-alive"
    return ("GET %s HTTP/1.1\r\nHost: localhost:%d\r\nConnection: %s\r\n\r\n" %
            (a.path, a.port, conn)).encode()


def pump_in():
    data = s.recv(65536)
    if not data:
        return False
    inc.write(data)
    return True


while True:
    try:
        tls.do_handshake()
        break
    except ssl.SSLWantReadError:
        if out.pending:
            s.sendall(out.read())
        if not pump_in():
            raise SystemExit("closed during the handshake")
# The Finished is still in out: the first request's record joins it in one send().
tls.write(req(a.n == 1))
s.sendall(out.read())
# The other requests, one record each, in one send().
for i in range(1, a.n):
    tls.write(req(i == a.n - 1))
s.sendall(out.read())

got = b""
deadline = time.time() + 10
s.settimeout(1)
while time.time() < deadline:
    try:
        if not pump_in():
            break
    except socket.timeout:
        continue
    while True:
        try:
            data = tls.read(65536)
        except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
            break
        if not data:
            break
        got += data

n = 0
rest = got
while rest.startswith(b"HTTP/1.1 "):
    hd, _, rest = rest.partition(b"\r\n\r\n")
    length = 0
    for line in hd.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    print(hd.split(b" ")[1].decode(), len(rest[:length]))
    rest = rest[length:]
    n += 1
print("done", n)
