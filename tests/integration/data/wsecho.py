# wsecho.py --port P [--cert C --key K] - a WebSocket echo origin (python3-websockets, with
# permessage-deflate offered to clients that ask). Each message comes back as it came (text
# as text, binary as binary); the text "close-me" makes the server close with 4000 "server
# says bye". Serves until killed.
import argparse, asyncio, ssl

import websockets


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
                                ping_interval=None):
        await asyncio.Future()


asyncio.run(main())
