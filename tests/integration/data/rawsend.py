# rawsend.py PORT SECS - sends stdin to 127.0.0.1:PORT, half-closes, prints what comes back
# until the peer closes or SECS pass. The tests' netcat, for malformed requests.
# RAW_SHUT=1 half-closes the sending side after the data.
import os, socket, sys, time

port, secs = int(sys.argv[1]), float(sys.argv[2])
data = sys.stdin.buffer.read()
s = socket.create_connection(("127.0.0.1", port), timeout=secs)
s.sendall(data)
if os.environ.get("RAW_SHUT") == "1":
    try:
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
end = time.monotonic() + secs
out = b""
try:
    while time.monotonic() < end:
        s.settimeout(max(0.05, end - time.monotonic()))
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
except (socket.timeout, ConnectionResetError):
    pass
sys.stdout.buffer.write(out)
