#!/usr/bin/env python3
"""socks_raw.py PORT HEX: sends the bytes HEX to 127.0.0.1:PORT (a SOCKS5 listener) and prints
what comes back until the peer closes, as hex; " timeout" is appended when it does not close
within 5 s. With RAW_SHUT=1 in the environment the sending side is shut after the bytes."""
import os
import socket
import sys

s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(bytes.fromhex(sys.argv[2]))
if os.environ.get("RAW_SHUT") == "1":
    s.shutdown(socket.SHUT_WR)
out = b""
try:
    while True:
        b = s.recv(4096)
        if not b:
            break
        out += b
    print(out.hex())
except socket.timeout:
    print(out.hex() + " timeout")
