# wsbad.py PROXY_PORT client|server - a malformed WebSocket frame from one side. Starts a raw
# origin on a free port that answers the upgrade with 101 (and with "server" then sends a frame
# with a reserved opcode), connects through the proxy with an absolute-form upgrade to
# /bad-SIDE, and (with "client") sends an unmasked frame. Exits 0 when the proxy then closes
# the client's connection within 10 s.
import socket, sys, threading

pport, side = int(sys.argv[1]), sys.argv[2]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
port = srv.getsockname()[1]


def read_head(s):
    head = b""
    while b"\r\n\r\n" not in head:
        c = s.recv(1)
        if not c:
            return head
        head += c
    return head


def origin():
    s, _ = srv.accept()
    read_head(s)
    s.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n")
    if side == "server":
        s.sendall(b"\x81\x02ok\x83\x00")  # a good text frame, then opcode 3 (reserved)
    s.settimeout(10)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass


threading.Thread(target=origin, daemon=True).start()
c = socket.create_connection(("127.0.0.1", pport), timeout=10)
c.sendall(b"GET http://127.0.0.1:%d/bad-%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
          b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
          b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n" % (port, side.encode(), port))
head = read_head(c)
print(head.split(b"\r\n")[0].decode())
if side == "client":
    c.sendall(b"\x81\x05hello")  # text, not masked: clients must mask
try:
    while c.recv(4096):
        pass
    print("closed by the proxy")
    sys.exit(0)
except socket.timeout:
    print("still open after 10 s")
    sys.exit(1)
