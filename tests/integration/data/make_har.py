#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# make_har.py N HOST CREATOR TEXT [--content-type] - writes a HAR of N small GET entries
# (http://HOST/0 .. N-1, each answered 200 with TEXT) to stdout, for the import tests.
import json
import sys

n, host, creator, text = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctype = "--content-type" in sys.argv[5:]
out = sys.stdout
out.write('{"log":{"version":"1.2","creator":{"name":"%s","version":"1"},"entries":[' % creator)
for i in range(n):
    e = {"startedDateTime": "2026-11-22T10:00:%02d.%03dZ" % (i // 1000 % 60, i % 1000),
         "time": 1, "request": {"method": "GET", "url": "http://%s/%d" % (host, i),
         "httpVersion": "HTTP/1.1", "cookies": [], "headers": [], "queryString": [],
         "headersSize": -1, "bodySize": 0},
         "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/1.1",
         "cookies": [],
         "headers": [{"name": "Content-Type", "value": "text/plain"}] if ctype else [],
         "content": {"size": len(text), "mimeType": "text/plain", "text": text},
         "redirectURL": "", "headersSize": -1, "bodySize": len(text)},
         "cache": {}, "timings": {"send": 0, "wait": 1, "receive": 0}}
    out.write(("," if i else "") + json.dumps(e))
out.write(']}}')
