#!/usr/bin/python3
# h2client.py - a raw HTTP/2 client (Debian's python3-h2) for t_proxy_http2.sh: CONNECTs
# through the proxy, agrees to h2 and runs one scenario on one connection, printing one line
# per stream ("ID status N bytes B" or "ID reset CODE"), then "alive" when a last plain request
# on the same connection still works.
#
#   smuggle   each malformed request of SHAPES on its own stream; each must be reset
#   reset     a slow download reset by the client while another stream completes
#   hold      a request the proxy holds (intercept) while another completes; waits for it
#   idle      one request, then silence: prints "goaway CODE" when the proxy ends the session
#   trailers  a POST to /echo?client-trailers (or --path) whose body ends with trailers
#             (x-client-sum: 42)
import argparse, socket, ssl, sys, time

import h2.config, h2.connection, h2.events

import tunnel

# (name, extra headers, body, content-length to announce or None): what an HTTP/1.1 origin
# could read as two requests, or as another request than the one the proxy recorded.
SHAPES = [
    ("crlf-value", [("x-a", "b\r\nx-injected: 1")], None, None),
    ("lf-value", [("x-a", "b\nx-injected: 1")], None, None),
    ("nul-value", [("x-a", "b\0c")], None, None),
    ("crlf-name", [("x-a\r\nx-injected", "1")], None, None),
    ("upper-name", [("X-Upper", "1")], None, None),
    ("space-name", [("x a", "1")], None, None),
    ("transfer-encoding", [("transfer-encoding", "chunked")], b"5\r\nhello\r\n0\r\n\r\n", None),
    ("connection", [("connection", "keep-alive")], None, None),
    ("keep-alive", [("keep-alive", "timeout=5")], None, None),
    ("upgrade", [("upgrade", "websocket")], None, None),
    ("te-gzip", [("te", "gzip")], None, None),
    ("cl-short", [], b"0123456789", 5),
    ("cl-long", [], b"01234", 10),
    ("cl-twice", [("content-length", "3")], b"abc", 4),
    ("path-crlf", [(":path", "/headers?bad=path-crlf HTTP/1.1\r\nx: y")], None, None),
]


def connect(args):
    try:
        s, _ = tunnel.connect(args.proxy_port, "localhost", args.port)
    except EOFError as e:
        sys.exit(str(e))
    ctx = ssl.create_default_context(cafile=args.ca)
    ctx.set_alpn_protocols(["h2"])
    t = ctx.wrap_socket(s, server_hostname="localhost")
    if t.selected_alpn_protocol() != "h2":
        sys.exit("no h2 in ALPN: %r" % t.selected_alpn_protocol())
    cfg = h2.config.H2Configuration(client_side=True, validate_outbound_headers=False,
                                    normalize_outbound_headers=False,
                                    validate_inbound_headers=False)
    c = h2.connection.H2Connection(cfg)
    c.initiate_connection()
    t.sendall(c.data_to_send())
    return t, c


class Streams:
    def __init__(self, t, c):
        self.t, self.c, self.done, self.bytes, self.status = t, c, {}, {}, {}

    def request(self, path, extra=(), body=None, length=None, method="GET", port=0):
        sid = self.c.get_next_available_stream_id()
        hdrs = [(":method", "POST" if body else method), (":scheme", "https"),
                (":authority", "localhost:%d" % port), (":path", path)]
        for k, v in extra:
            if k.startswith(":"):
                hdrs = [(hk, v if hk == k else hv) for hk, hv in hdrs]
            else:
                hdrs.append((k, v))
        if length is not None:
            hdrs.append(("content-length", str(length)))
        self.c.send_headers(sid, hdrs, end_stream=body is None)
        if body is not None:
            self.c.send_data(sid, body, end_stream=True)
        self.t.sendall(self.c.data_to_send())
        self.bytes[sid] = 0
        return sid

    def pump(self, until, timeout=20):
        end = time.time() + timeout
        while not until() and time.time() < end:
            try:
                self.t.settimeout(max(0.05, end - time.time()))
                d = self.t.recv(65536)
            except socket.timeout:
                break
            if not d:
                return False
            for e in self.c.receive_data(d):
                if isinstance(e, h2.events.ResponseReceived):
                    self.status[e.stream_id] = dict(e.headers).get(b":status", b"?").decode()
                elif isinstance(e, h2.events.DataReceived):
                    self.bytes[e.stream_id] = self.bytes.get(e.stream_id, 0) + len(e.data)
                    self.c.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                elif isinstance(e, h2.events.StreamEnded):
                    self.done[e.stream_id] = "status %s bytes %d" % (
                        self.status.get(e.stream_id), self.bytes[e.stream_id])
                elif isinstance(e, h2.events.StreamReset):
                    self.done[e.stream_id] = "reset %d" % e.error_code
                elif isinstance(e, h2.events.ConnectionTerminated):
                    self.done["goaway"] = "goaway %d" % e.error_code
            self.t.sendall(self.c.data_to_send())
        return True

    def report(self, sid, name):
        print("%s %s" % (name, self.done.get(sid, "open")), flush=True)


def alive(st, port):
    sid = st.request("/headers?alive", port=port)
    st.pump(lambda: sid in st.done)
    st.report(sid, "alive")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--proxy-port", type=int, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--path", default="/echo?client-trailers")
    p.add_argument("scenario", choices=["smuggle", "reset", "hold", "idle", "trailers"])
    args = p.parse_args()
    t, c = connect(args)
    st = Streams(t, c)
    if args.scenario == "smuggle":
        for name, extra, body, length in SHAPES:
            sid = st.request("/headers?bad=" + name, extra, body, length, port=args.port)
            st.pump(lambda: sid in st.done, 10)
            st.report(sid, name)
    elif args.scenario == "reset":
        slow = st.request("/slow/3", port=args.port)
        quick = st.request("/headers?quick", port=args.port)
        st.pump(lambda: quick in st.done)
        c.reset_stream(slow, 8)  # CANCEL
        t.sendall(c.data_to_send())
        st.report(quick, "quick")
    elif args.scenario == "trailers":
        sid = c.get_next_available_stream_id()
        c.send_headers(sid, [(":method", "POST"), (":scheme", "https"),
                             (":authority", "localhost:%d" % args.port),
                             (":path", args.path), ("te", "trailers")])
        c.send_data(sid, b"hello")
        c.send_headers(sid, [("x-client-sum", "42")], end_stream=True)
        t.sendall(c.data_to_send())
        st.bytes[sid] = 0
        st.pump(lambda: sid in st.done)
        st.report(sid, "trailers")
    elif args.scenario == "idle":
        sid = st.request("/headers?idle", port=args.port)
        st.pump(lambda: sid in st.done)
        st.report(sid, "idle")
        st.pump(lambda: "goaway" in st.done, 10)
        print(st.done.get("goaway", "no goaway"), flush=True)
        return
    else:
        held = st.request("/headers?hold", port=args.port)
        quick = st.request("/headers?quick2", port=args.port)
        st.pump(lambda: quick in st.done)
        st.report(quick, "quick")
        print("held-before %s" % st.done.get(held, "open"), flush=True)
        st.pump(lambda: held in st.done, 20)
        st.report(held, "held")
    alive(st, args.port)


main()
