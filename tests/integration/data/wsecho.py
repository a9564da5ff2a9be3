# wsecho.py --port P [--cert C --key K] - a WebSocket echo origin (python3-websockets, with
# permessage-deflate offered to clients that ask). Each message comes back as it came (text
# as text, binary as binary); the text "close-me" makes the server close with 4000 "server
# says bye". Plain GETs of /page.html and /page.js give a page whose script talks to /ws
# (the browser test's). Serves until killed.
import argparse, asyncio, http, ssl

import websockets

PAGE = b"""<!doctype html><html><head><title>ws page</title>
<script src="/page.js"></script></head><body>WebSocket page</body></html>"""
SCRIPT = b"""window.echoes = [];
const ws = new WebSocket("ws://" + location.host + "/ws");
ws.binaryType = "arraybuffer";
ws.onmessage = (e) => window.echoes.push(e.data);
ws.onopen = () => {
  ws.send("hello from chromium");
  ws.send(JSON.stringify({ kind: "json", list: [1, 2, 3] }));
  ws.send(new Uint8Array([0, 1, 2, 255]));
};
window.sendMore = (t) => ws.send(t);
window.closeIt = () => ws.close(1000, "page done");
"""


async def page(path, headers):
    if path == "/page.html":
        return http.HTTPStatus.OK, [("Content-Type", "text/html")], PAGE
    if path == "/page.js":
        return http.HTTPStatus.OK, [("Content-Type", "text/javascript")], SCRIPT
    return None


async def echo(ws, path=None):
    try:
        async for msg in ws:
            if msg == "close-me":
                await ws.close(4000, "server says bye")
                return
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    a = ap.parse_args()
    ctx = None
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
    async with websockets.serve(echo, "127.0.0.1", a.port, ssl=ctx, max_size=1 << 23,
                                ping_interval=None, process_request=page):
        await asyncio.Future()


asyncio.run(main())
