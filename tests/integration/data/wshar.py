# wshar.py OUTDIR WEB_PORT TOKEN FILTER - HAR export and import of WebSocket messages. Exports
# GET /api/har?filter=FILTER; each entry whose URL ends in a path of a conversation wsconv.py
# wrote to OUTDIR must carry "_webSocketMessages" equal to what was sent (type send|receive,
# opcode 1|2, text as it is, binary as base64) and "_webSocketClose". Then imports the file
# (POST /api/har) and reads each imported flow's messages back through the API: the same.
# Exits 0 when everything matched.
import base64, json, sys, urllib.parse

from wsapi import Checker, conversations

out, web, token, flt = sys.argv[1:5]
chk = Checker(web, token)
call, fail = chk.call, chk.fail
convs = {exp["path"]: exp for exp in conversations(out)}
har = call("/api/har?filter=" + urllib.parse.quote(flt))
entries = [e for e in har["log"]["entries"] if "_webSocketMessages" in e]
if len(entries) != len(convs):
    fail("%d entries with messages, %d conversations" % (len(entries), len(convs)))
for e in entries:
    path = next((p for p in convs if e["request"]["url"].endswith(p)), None)
    if not path:
        fail("entry %s: no conversation" % e["request"]["url"])
        continue
    got = []
    for m in e["_webSocketMessages"]:
        raw = base64.b64decode(m["data"]) if m["opcode"] == 2 else m["data"].encode()
        got.append([m["type"] == "send", "text" if m["opcode"] == 1 else "binary",
                    base64.b64encode(raw).decode()])
        if not isinstance(m["time"], (int, float)) or m["time"] < 1e9:
            fail("%s: time %r" % (path, m["time"]))
    if got != convs[path]["messages"]:
        fail("%s: exported messages differ" % path)
    c = e.get("_webSocketClose", {})
    if c.get("code") != convs[path]["close"]["close_code"]:
        fail("%s: exported close %r" % (path, c))

# the file back in: new flows with the same messages
res = call("/api/har", json.dumps({"log": {"version": "1.2", "creator": {"name": "t",
           "version": "1"}, "entries": entries}}).encode())
if res.get("imported") != len(entries):
    fail("import: %r" % res)
listed = call("/api/flows?limit=10000&filter=" + urllib.parse.quote("~websocket"))["flows"]
for path, exp in convs.items():
    ids = [f["id"] for f in listed if f.get("path") == path and f.get("imported")]
    if len(ids) != 1:
        fail("%s: %d imported flows" % (path, len(ids)))
        continue
    page = call("/api/flows/%d/messages?limit=10000" % ids[0])
    got = [[m["from_client"], m["type"], base64.b64encode(
        m["content"].encode() if "content" in m else base64.b64decode(m["content_base64"])
    ).decode()] for m in page["messages"]]
    if got != exp["messages"]:
        fail("%s: imported messages differ" % path)
    if page["close_code"] != exp["close"]["close_code"] or \
            page["closed_by_client"] != exp["close"]["closed_by_client"]:
        fail("%s: imported close %r %r" % (path, page["close_code"], page["closed_by_client"]))
print("%d entries checked, %d problems" % (len(entries), chk.bad))
sys.exit(1 if chk.bad or not entries else 0)
