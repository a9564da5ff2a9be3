# wsclient.py PROXY_PORT HOST PORT [--tls CAFILE] - a WebSocket client through an HTTP proxy.
# Plain: sends the upgrade in absolute form to the proxy; --tls: CONNECT, then TLS verified
# against CAFILE. Sends a text and a binary message and a ping, expects them echoed, closes.
# Prints one line per step and exits 0 when every echo matched.
import base64, os, socket, ssl, struct, sys


def frame(op, data):
    mask = os.urandom(4)
    n = len(data)
    if n < 126:
        head = struct.pack("!BB", 0x80 | op, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | op, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | op, 0x80 | 127, n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        c = s.recv(n - len(out))
        if not c:
            raise EOFError("connection closed")
        out += c
    return out


def read_frame(s):
    h = recv_exact(s, 2)
    op, ln = h[0] & 0x0F, h[1] & 0x7F
    if ln == 126:
        ln = struct.unpack("!H", recv_exact(s, 2))[0]
    elif ln == 127:
        ln = struct.unpack("!Q", recv_exact(s, 8))[0]
    return op, recv_exact(s, ln)


def read_head(s):
    head = b""
    while b"\r\n\r\n" not in head:
        c = s.recv(1)
        if not c:
            raise EOFError("closed during head: %r" % head)
        head += c
    return head.decode("latin-1")


def main():
    pport, host, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    tls = len(sys.argv) > 5 and sys.argv[4] == "--tls"
    s = socket.create_connection(("127.0.0.1", pport), timeout=10)
    if tls:
        s.sendall(b"CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (host.encode(), port,
                                                                         host.encode(), port))
        head = read_head(s)
        print("connect:", head.split("\r\n")[0])
        ctx = ssl.create_default_context(cafile=sys.argv[5])
        s = ctx.wrap_socket(s, server_hostname=host)
        target = b"/ws"
    else:
        target = b"http://%s:%d/ws" % (host.encode(), port)
    key = base64.b64encode(os.urandom(16))
    s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
              % (host.encode(), port, key))
    head = read_head(s)
    print("upgrade:", head.split("\r\n")[0])
    if " 101 " not in head.split("\r\n")[0]:
        sys.exit(1)
    good = True
    for op, data in ((1, b"hello websocket"), (2, bytes(range(256)) * 300), (9, b"ping!")):
        s.sendall(frame(op, data))
        rop, rdata = read_frame(s)
        same = rdata == data and rop == (10 if op == 9 else op)
        print("echo op=%d len=%d: %s" % (op, len(data), "same" if same else "DIFFERENT"))
        good = good and same
    s.sendall(frame(8, struct.pack("!H", 1000)))
    rop, _ = read_frame(s)
    print("close:", rop)
    sys.exit(0 if good and rop == 8 else 1)


if __name__ == "__main__":
    main()
