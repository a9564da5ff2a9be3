# tls_close.py - fetches one path through the proxy over intercepted HTTPS and tells how the
# TLS connection ended, strictly (no ragged EOFs forgiven, unlike most clients):
#   --proxy-port N --ca PEM --port N --path P
# Prints "end=close_notify bytes=N" when the proxy ended the session with a close_notify,
# "end=eof bytes=N" when it just closed the socket (what signals a truncated body).
import argparse, socket, ssl

a = argparse.ArgumentParser()
a.add_argument("--proxy-port", type=int, required=True)
a.add_argument("--ca", required=True)
a.add_argument("--port", type=int, required=True)
a.add_argument("--path", required=True)
args = a.parse_args()

s = socket.create_connection(("127.0.0.1", args.proxy_port), timeout=10)
s.sendall(b"CONNECT localhost:%d HTTP/1.1\r\nHost: localhost:%d\r\n\r\n" % (args.port, args.port))
answer = b""
while b"\r\n\r\n" not in answer:
    chunk = s.recv(1)
    if not chunk:
        raise SystemExit("the proxy closed before answering the CONNECT")
    answer += chunk
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
