# wsconv.py PROXY_PORT HOST PORT OUTDIR [--tls CAFILE] [--deflate] [--sockets N]
#           [--server-close] [--big] [--tag T]
# WebSocket conversations through flowscope (wsproto, sans-I/O): plain ws:// as an
# absolute-form request, or --tls: wss:// inside a CONNECT, verified against CAFILE. Each of N
# sockets (at once, threads) opens /ws?t=T&n=I, sends text (UTF-8), binary, a text in three
# fragments with a ping between them, an empty text, an empty binary, JSON, and with --big a
# 2 MiB binary on socket 0; each echo must come back equal. Then the client closes (1000
# "client done"), or with --server-close asks the server to close (4000). Writes
# OUTDIR/sock-I.json: the messages in wire order as flowscope should record them
# [[from_client, "text"|"binary", base64 content], ...] and the close expected. Exits 0 when
# every echo matched.
import base64, json, os, random, socket, ssl, sys, threading

from wsproto import ConnectionType, WSConnection
from wsproto.events import (AcceptConnection, BytesMessage, CloseConnection, Message, Ping,
                            Pong, RejectConnection, Request, TextMessage)
from wsproto.extensions import PerMessageDeflate

import tunnel

args = sys.argv[1:]
PPORT, HOST, PORT, OUT = int(args[0]), args[1], int(args[2]), args[3]
TLS = args[args.index("--tls") + 1] if "--tls" in args else None
DEFLATE = "--deflate" in args
N = int(args[args.index("--sockets") + 1]) if "--sockets" in args else 1
SERVER_CLOSE = "--server-close" in args
BIG = "--big" in args
TAG = args[args.index("--tag") + 1] if "--tag" in args else "0"


class Sock:
    def __init__(self, i):
        self.i = i
        target = "/ws?t=%s&n=%d" % (TAG, i)
        if TLS:
            s, head = tunnel.connect(PPORT, HOST, PORT, timeout=30)
            if b" 200 " not in head.split(b"\r\n")[0]:
                raise RuntimeError("CONNECT: %r" % head)
            s = ssl.create_default_context(cafile=TLS).wrap_socket(s, server_hostname=HOST)
        else:
            s = socket.create_connection(("127.0.0.1", PPORT), timeout=30)
            target = "http://%s:%d%s" % (HOST, PORT, target)  # absolute form, to the proxy
        self.s = s
        self.ws = WSConnection(ConnectionType.CLIENT)
        ext = [PerMessageDeflate()] if DEFLATE else []
        self.out(Request(host="%s:%d" % (HOST, PORT), target=target, extensions=ext))
        self.events = []
        ev = self.next_event()
        if not isinstance(ev, AcceptConnection):
            raise RuntimeError("upgrade refused: %r" % ev)
        self.deflate = bool(ev.extensions)
        self.partial = []

    def out(self, ev):
        self.s.sendall(self.ws.send(ev))

    def next_event(self):
        while not self.events:
            data = self.s.recv(65536)
            self.ws.receive_data(data or None)
            self.events.extend(self.ws.events())
            if not data and not self.events:
                raise EOFError("connection closed")
        return self.events.pop(0)

    def next_message(self):
        parts = []
        while True:
            ev = self.next_event()
            if isinstance(ev, (TextMessage, BytesMessage)):
                parts.append(ev.data)
                if ev.message_finished:
                    return parts[0][:0].join(parts) if parts else ev.data
            elif isinstance(ev, Ping):
                self.out(ev.response())
            elif isinstance(ev, Pong):
                pass
            else:
                return ev


def conversation(i, results):
    rec = []
    try:
        c = Sock(i)
        rng = random.Random(i)
        msgs = ["hello ü %d" % i, bytes(range(256)), None, "", b"",
                json.dumps({"sock": i, "list": [1, 2, 3], "s": "x"})]
        if BIG and i == 0:
            msgs.append(rng.randbytes(2 << 20))
        for m in msgs:
            if m is None:  # fragmented, a ping in between
                m = "frag-ment-ed %d" % i
                c.out(Message(data=m[:5], message_finished=False))
                c.out(Ping(payload=b"p1"))
                c.out(Message(data=m[5:9], message_finished=False))
                c.out(Message(data=m[9:], message_finished=True))
            else:
                c.out(Message(data=m))
            got = c.next_message()
            if got != m:
                raise RuntimeError("echo %r... != %r..." % (got[:40], m[:40]))
            for side in (True, False):
                raw = m.encode() if isinstance(m, str) else m
                rec.append([side, "text" if isinstance(m, str) else "binary",
                            base64.b64encode(raw).decode()])
        if SERVER_CLOSE:
            c.out(Message(data="close-me"))
            rec.append([True, "text", base64.b64encode(b"close-me").decode()])
            ev = c.next_message()
            if not isinstance(ev, CloseConnection) or ev.code != 4000:
                raise RuntimeError("expected the server's close, got %r" % ev)
            c.out(ev.response())
            close = {"closed_by_client": False, "close_code": 4000,
                     "close_reason": "server says bye"}
        else:
            c.out(CloseConnection(code=1000, reason="client done"))
            ev = c.next_message()
            if not isinstance(ev, CloseConnection):
                raise RuntimeError("expected a close back, got %r" % ev)
            close = {"closed_by_client": True, "close_code": 1000, "close_reason": "client done"}
        c.s.close()
        with open(os.path.join(OUT, "sock-%d.json" % i), "w") as f:
            json.dump({"path": "/ws?t=%s&n=%d" % (TAG, i), "deflate": c.deflate, "messages": rec,
                       "close": close}, f)
        results[i] = None
    except Exception as e:  # reported by the main thread
        results[i] = "socket %d: %s: %s" % (i, type(e).__name__, e)


results = {}
threads = [threading.Thread(target=conversation, args=(i, results)) for i in range(N)]
for t in threads:
    t.start()
for t in threads:
    t.join(120)
bad = [r for r in results.values() if r] + ["socket %d: no result" % i
                                             for i in range(N) if i not in results]
for b in bad:
    print(b)
print("%d of %d sockets matched" % (N - len(bad), N))
sys.exit(1 if bad else 0)
