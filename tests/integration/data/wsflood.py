# wsflood.py PROXY_PORT HOST PORT N [PATH] - one long WebSocket conversation through the
# proxy: N small text messages ("m0000001", ...) sent as fast as the echo returns them (at
# most 20000 in flight), every echo counted and checked in order, then a close. Plain ws:// in
# absolute form, frames made by hand (no library in the hot loop). Prints the rate; exits 0
# when all N echoes came back in order.
import os, socket, struct, sys, threading, time

pport, host, port, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
path = sys.argv[5] if len(sys.argv) > 5 else "/flood"
s = socket.create_connection(("127.0.0.1", pport), timeout=60)
s.sendall(("GET http://%s:%d%s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n" %
           (host, port, path, host, port)).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
head, buf = buf.split(b"\r\n\r\n", 1)
if b" 101 " not in head.split(b"\r\n")[0]:
    sys.exit("no upgrade: %r" % head[:80])
MASK = b"\0\0\0\0"  # a zero key: masked as the RFC says, payload unchanged


def frame(i):
    p = b"m%07d" % i
    return struct.pack("!BB", 0x81, 0x80 | len(p)) + MASK + p


got = 0
cond = threading.Condition()
bad = []


def reader():
    global got, buf
    while got < n:
        while len(buf) < 2 or len(buf) < 2 + (buf[1] & 0x7f):
            c = s.recv(1 << 16)
            if not c:
                bad.append("closed after %d" % got)
                return
            buf += c
        while len(buf) >= 2 and len(buf) >= 2 + (buf[1] & 0x7f):
            ln = buf[1] & 0x7f
            if buf[2:2 + ln] != b"m%07d" % got:
                bad.append("echo %d: %r" % (got, buf[2:2 + ln]))
                return
            buf = buf[2 + ln:]
            with cond:
                got += 1
                cond.notify()


t0 = time.time()
th = threading.Thread(target=reader)
th.start()
sent = 0
while sent < n and not bad:
    with cond:
        while sent - got > 20000 and not bad:
            cond.wait(1)
    k = min(2000, n - sent)
    s.sendall(b"".join(frame(i) for i in range(sent, sent + k)))
    sent += k
th.join(120)
dt = time.time() - t0
s.sendall(struct.pack("!BB", 0x88, 0x82) + MASK + b"\x03\xe8")
s.close()
print("%d messages echoed in %.1f s (%.0f/s)%s" % (got, dt, got / max(dt, 1e-6),
                                                     "; " + bad[0] if bad else ""))
sys.exit(1 if bad or got != n else 0)
