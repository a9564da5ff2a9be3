# SPDX-License-Identifier: MIT
# tunnel.py - what the Python clients that go through a CONNECT share (tls_close.py,
# tls_records.py, h2client.py, wsconv.py): import tunnel (the script's own folder is on
# sys.path when it runs as python3 data/NAME.py).
import socket


def connect(proxy_port, host, port, timeout=10):
    """A socket to the proxy on 127.0.0.1:proxy_port that has sent CONNECT host:port and read
    the answer's head, and that head (bytes, up to and with its blank line; read one byte at a
    time, so that nothing of the tunnel is taken). The status is the caller's to check.
    EOFError when the proxy closes before the head is complete."""
    s = socket.create_connection(("127.0.0.1", proxy_port), timeout=timeout)
    s.sendall(b"CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" %
              (host.encode(), port, host.encode(), port))
    head = b""
    while b"\r\n\r\n" not in head:
        c = s.recv(1)
        if not c:
            s.close()
            raise EOFError("the proxy closed before answering the CONNECT")
        head += c
    return s, head
