# wscheck.py OUTDIR DB WEB_PORT TOKEN ORIGIN_PORT [DEFLATE 0|1] - checks what flowscope
# recorded of the conversations wsconv.py wrote to OUTDIR: for each socket, its flow (by path
# and port in DB) is a WebSocket, and GET /api/flows/ID/messages, read in pages of 5 with
# ?after=, gives exactly the messages in order (direction, type, content) and the close.
# DEFLATE: whether permessage-deflate must have been agreed. Prints what differs; exits 0
# when everything matched.
import base64, sqlite3, sys, time

from wsapi import Checker, conversations

out, db, web, token, port = sys.argv[1:6]
want_deflate = sys.argv[6] if len(sys.argv) > 6 else None
con = sqlite3.connect(db, timeout=10)
chk = Checker(web, token)
api, fail = chk.call, chk.fail
convs = conversations(out)
for exp in convs:
    if want_deflate is not None and exp["deflate"] != (want_deflate == "1"):
        fail("%s: deflate agreed %s" % (exp["path"], exp["deflate"]))
    row = con.execute("select id, flags from flows where path=? and port=?",
                      (exp["path"], int(port))).fetchone()
    if not row:
        fail("%s: no flow" % exp["path"])
        continue
    fid, flags = row
    # The client has seen the close; the proxy's record of it reaches the store a moment
    # later. Wait for the flow to end before reading the close from the API.
    deadline = time.time() + 20
    while (con.execute("select state from flows where id=?", (fid,)).fetchone()[0]
           in ("pending", "paused") and time.time() < deadline):
        time.sleep(0.05)
    if not flags & 2:
        fail("%s: flow %d not flagged WebSocket" % (exp["path"], fid))
    got, after, page = [], -1, None
    while True:
        page = api("/api/flows/%d/messages?after=%d&limit=5" % (fid, after))
        for m in page["messages"]:
            raw = (m["content"].encode() if "content" in m else
                   base64.b64decode(m["content_base64"]))
            if m["index"] != len(got) or m["size"] != len(raw) or m["truncated"]:
                fail("%s: message %r: index/size/truncated wrong" % (exp["path"], m["index"]))
            got.append([m["from_client"], m["type"], base64.b64encode(raw).decode()])
            after = m["index"]
        if len(page["messages"]) < 5:
            break
    if got != exp["messages"]:
        fail("%s: flow %d: %d messages recorded, %d sent; first difference at %s" % (
            exp["path"], fid, len(got), len(exp["messages"]),
            next((i for i, (a, b) in enumerate(zip(got, exp["messages"])) if a != b),
                 min(len(got), len(exp["messages"])))))
    if page["total"] != len(exp["messages"]):
        fail("%s: total %r" % (exp["path"], page["total"]))
    for k, v in exp["close"].items():
        if page[k] != v:
            fail("%s: %s = %r, expected %r" % (exp["path"], k, page[k], v))
print("%d sockets checked, %d problems" % (len(convs), chk.bad))
sys.exit(1 if chk.bad or not convs else 0)
