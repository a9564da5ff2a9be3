#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# replay_origin.py - an origin that keeps what it receives: every request (head and body, the
# exact bytes) is written to LOGDIR/NNNN.req in arrival order (NNNN counts from 0001), so a
# test can count requests and compare them byte for byte. Keep-alive; bodies framed by
# Content-Length or chunked. Answers 200 with "request N" (or the body back for /echo...).
#
#   replay_origin.py --port P --logdir DIR [--cert PEM --key KEY]
import argparse
import os
import socket
import ssl
import threading

lock = threading.Lock()
count = 0


def read_until(sock, buf, marker):
    while marker not in buf:
        data = sock.recv(65536)
        if not data:
            return buf, False
        buf += data
    return buf, True


def read_request(sock, buf):
    """Returns (raw request bytes, rest of buf) or (None, buf) at EOF."""
    buf, ok = read_until(sock, buf, b"\r\n\r\n")
    if not ok:
        return None, buf
    end = buf.index(b"\r\n\r\n") + 4
    head = buf[:end]
    rest = buf[end:]
    lower = head.lower()
    length = 0
    for line in lower.split(b"\r\n")[1:]:
        if line.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1].strip())
    if b"\r\ntransfer-encoding: chunked" in lower:
        # keep the chunked bytes as they came
        body = b""
        while True:
            rest, ok = read_until(sock, rest, b"\r\n")
            if not ok:
                return None, rest
            i = rest.index(b"\r\n")
            size = int(rest[:i].split(b";")[0], 16)
            need = i + 2 + size + 2
            while len(rest) < need:
                data = sock.recv(65536)
                if not data:
                    return None, rest
                rest += data
            body += rest[:need]
            rest = rest[need:]
            if size == 0:
                break
        return head + body, rest
    while len(rest) < length:
        data = sock.recv(65536)
        if not data:
            return None, rest
        rest += data
    return head + rest[:length], rest[length:]


def handle(sock, logdir):
    global count
    buf = b""
    try:
        while True:
            raw, buf = read_request(sock, buf)
            if raw is None:
                return
            with lock:
                count += 1
                n = count
                tmp = os.path.join(logdir, ".%04d.tmp" % n)
                with open(tmp, "wb") as f:
                    f.write(raw)
                os.rename(tmp, os.path.join(logdir, "%04d.req" % n))
            line = raw.split(b"\r\n", 1)[0]
            path = line.split(b" ")[1] if line.count(b" ") >= 2 else b"/"
            if path.startswith(b"/echo"):
                body = raw[raw.index(b"\r\n\r\n") + 4:]
            else:
                body = b"request %d\n" % n
            head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                    b"Content-Length: %d\r\nX-Request-Number: %d\r\n\r\n" % (len(body), n))
            if line.startswith(b"HEAD "):
                body = b""
            sock.sendall(head + body)
    except (OSError, ValueError, ssl.SSLError):
        return
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--logdir", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    a = ap.parse_args()
    os.makedirs(a.logdir, exist_ok=True)
    ctx = None
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", a.port))
    srv.listen(128)
    while True:
        c, _ = srv.accept()

        def run(c=c):
            s = c
            if ctx:
                try:
                    s = ctx.wrap_socket(c, server_side=True)
                except (OSError, ssl.SSLError):
                    c.close()
                    return
            handle(s, a.logdir)

        threading.Thread(target=run, daemon=True).start()


if __name__ == "__main__":
    main()
