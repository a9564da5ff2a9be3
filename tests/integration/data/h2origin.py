#!/usr/bin/python3
# h2origin.py - an HTTP/2-only TLS origin (Debian's python3-h2) for t_proxy_http2_origin.sh:
# ALPN "h2" only, one thread per connection, streams served side by side.
#
#   /headers...   200, the request's headers as "name: value" lines
#   /echo         200, the request body back, with trailers x-body-size and x-trailer: yes
#   /trailers     200, "body\n", then trailers x-checksum: abc and x-trailer: yes
#   /req-trailers 200, "trailer NAME: VALUE\n" for each trailer of the request, as received
#   /slow/N       200, a line every 0.1 s for N seconds
#   /stall        nothing at all (the stream is left open)
#   /stall-body   200 and "part\n", then nothing more
#   /goaway       200, then GOAWAY (NO_ERROR) and the connection closed once sent
#   /goaway-late  200, then 0.5 s in which new requests are left unprocessed, then GOAWAY
#                 naming this stream as the last processed one, and the connection closed
#   anything else 404
import argparse, socket, ssl, threading, time

import h2.config, h2.connection, h2.events, h2.exceptions


def linger_close(sock):
    """Closes as a careful server does (nginx's lingering close): the write side first, then
    what the peer still sends is read and dropped until it closes or 1 s passes. Closing with
    unread bytes (a SETTINGS ack, a WINDOW_UPDATE) would send a TCP reset, which may discard
    the answer still on its way to the proxy."""
    try:
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(1)
        end = time.time() + 1
        while time.time() < end and sock.recv(65536):
            pass
    except OSError:
        pass
    sock.close()


def serve(sock):
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False,
                                                             validate_inbound_headers=False))
    c.initiate_connection()
    sock.sendall(c.data_to_send())
    reqs, bodies, slow, closing = {}, {}, {}, False
    req_trailers = {}  # stream id -> the request's trailers
    late = None  # /goaway-late: [time of the GOAWAY, last stream processed]
    pending = {}  # stream id -> [body left, trailers]: sent as the windows allow

    def respond(sid, status, body, trailers=None):
        c.send_headers(sid, [(":status", str(status)), ("content-type", "text/plain")])
        pending[sid] = [body, trailers]

    def send_pending():
        for sid in list(pending):
            body, trailers = pending[sid]
            try:
                n = min(len(body), c.local_flow_control_window(sid), c.max_outbound_frame_size)
                while n > 0:
                    c.send_data(sid, body[:n])
                    body = body[n:]
                    n = min(len(body), c.local_flow_control_window(sid),
                            c.max_outbound_frame_size)
                pending[sid][0] = body
                if not body:
                    del pending[sid]
                    if trailers:
                        c.send_headers(sid, trailers, end_stream=True)
                    else:
                        c.end_stream(sid)
            except h2.exceptions.H2Error:
                del pending[sid]

    def finish(sid):
        nonlocal closing, late
        if late:
            print("unprocessed %d" % sid, flush=True)
            return
        hdrs = reqs[sid]
        path = hdrs.get(":path", "")
        if path.startswith("/headers"):
            respond(sid, 200, "".join("%s: %s\n" % kv for kv in hdrs.items()).encode())
        elif path.startswith("/req-trailers"):
            respond(sid, 200, "".join("trailer %s: %s\n" % kv
                                      for kv in req_trailers.get(sid, [])).encode())
        elif path.startswith("/echo"):
            b = bytes(bodies.get(sid, b""))
            respond(sid, 200, b, [("x-body-size", str(len(b))), ("x-trailer", "yes")])
        elif path.startswith("/trailers"):
            respond(sid, 200, b"body\n", [("x-checksum", "abc"), ("x-trailer", "yes")])
        elif path.startswith("/slow/"):
            c.send_headers(sid, [(":status", "200")])
            slow[sid] = time.time() + float(path[6:])
        elif path.startswith("/stall-body"):
            c.send_headers(sid, [(":status", "200")])
            c.send_data(sid, b"part\n")
        elif path.startswith("/stall"):
            pass  # no answer: the proxy's timeout resets the stream
        elif path.startswith("/goaway-late"):
            respond(sid, 200, b"bye later\n")
            late = [time.time() + 0.5, sid]
        elif path.startswith("/goaway"):
            respond(sid, 200, b"bye\n")
            closing = True  # GOAWAY once the answer is out
        else:
            respond(sid, 404, b"not here\n")

    sock.settimeout(0.1)
    while True:
        try:
            data = sock.recv(65536)
            if not data:
                return
        except socket.timeout:
            data = b""
        except OSError:
            return
        for e in c.receive_data(data) if data else []:
            if isinstance(e, h2.events.RequestReceived):
                reqs[e.stream_id] = {k.decode(): v.decode() for k, v in e.headers}
            elif isinstance(e, h2.events.TrailersReceived):
                req_trailers[e.stream_id] = [(k.decode(), v.decode()) for k, v in e.headers]
            elif isinstance(e, h2.events.DataReceived):
                bodies.setdefault(e.stream_id, bytearray()).extend(e.data)
                c.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
            elif isinstance(e, h2.events.StreamEnded):
                finish(e.stream_id)
            elif isinstance(e, h2.events.StreamReset):
                slow.pop(e.stream_id, None)
                pending.pop(e.stream_id, None)
                print("reset %d code %d" % (e.stream_id, e.error_code), flush=True)
        send_pending()
        if closing and not pending:
            c.close_connection()
        if late and time.time() >= late[0]:
            c.close_connection(last_stream_id=late[1])
            sock.sendall(c.data_to_send())
            linger_close(sock)
            return
        for sid in list(slow):
            try:
                if time.time() >= slow[sid]:
                    c.end_stream(sid)
                    del slow[sid]
                else:
                    c.send_data(sid, b"slow line\n")
            except h2.exceptions.H2Error:
                del slow[sid]
        try:
            sock.sendall(c.data_to_send())
        except OSError:
            return
        if closing and not pending:
            linger_close(sock)
            return


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    args = p.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    ctx.set_alpn_protocols(["h2"])
    srv = socket.create_server(("127.0.0.1", args.port))
    while True:
        s, _ = srv.accept()
        try:
            t = ctx.wrap_socket(s, server_side=True)
        except (ssl.SSLError, OSError):
            s.close()
            continue
        threading.Thread(target=serve, args=(t,), daemon=True).start()


main()
