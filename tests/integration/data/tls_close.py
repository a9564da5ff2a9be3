# tls_close.py - fetches one path through the proxy over intercepted HTTPS and tells how the
# TLS connection ended, strictly (no ragged EOFs forgiven, unlike most clients):
#   --proxy-port N --ca PEM --port N --path P
# Prints "end=close_notify bytes=N" when the proxy ended the session with a close_notify,
# "end=eof bytes=N" when it just closed the socket (what signals a truncated body).
import argparse, ssl

import tunnel

a = argparse.ArgumentParser()
a.add_argument("--proxy-port", type=int, required=True)
a.add_argument("--ca", required=True)
a.add_argument("--port", type=int, required=True)
a.add_argument("--path", required=True)
args = a.parse_args()

try:
    s, _ = tunnel.connect(args.proxy_port, "localhost", args.port)
except EOFError as e:
    raise SystemExit(str(e))
ctx = ssl.create_default_context(cafile=args.ca)
t = ctx.wrap_socket(s, server_hostname="localhost", suppress_ragged_eofs=False)
t.sendall(b"GET %s HTTP/1.1\r\nHost: localhost:%d\r\n\r\n" % (args.path.encode(), args.port))
data, end = b"", "close_notify"
try:
    while True:
        chunk = t.recv(65536)
        if not chunk:
            break
        data += chunk
except ssl.SSLEOFError:
    end = "eof"
print("end=%s bytes=%d" % (end, len(data)))
