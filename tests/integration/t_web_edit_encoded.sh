#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# t_web_edit_encoded.sh - editing a captured flow whose body is compressed, as mitmweb does:
# the new body is the decoded text (what the page shows), and saving encodes it again with the
# message's Content-Encoding (gzip, deflate, br, zstd, a chain), the header kept and
# Content-Length following the encoded length. A coding that cannot be applied again refuses
# the edit with its name and changes nothing; an edit that drops the header stores the body as
# given; revert brings back the captured bytes.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3 # Debian's, with python3-brotli and python3-zstandard (scripts/deps.sh installs them)
if ! $PY -c 'import brotli, zstandard' 2>/dev/null; then
	skip "python3-brotli and python3-zstandard are not installed"
	done_testing
fi
fs_start_flowscope || exit 1
EO_PORT=$(fs_free_port)
fs_spawn encoded-origin $PY "$FS_DATA/encoded_origin.py" --port "$EO_PORT"
fs_wait_port "$EO_PORT" 10 "$FS_SPAWNED_PID" || { ok "the origin starts" false; done_testing; }
O="http://127.0.0.1:$EO_PORT"

put() { fs_api "/api/flows/$1" -X PUT -H 'Content-Type: application/json' -d "$2"; }
put_code() { fs_api_code "/api/flows/$1" -X PUT -H 'Content-Type: application/json' -d "$2"; }
header() { fs_api "/api/flows/$1" | jq -r --arg n "$2" \
	"[.$3.headers[] | select(.[0] | ascii_downcase == \$n) | .[1]] | join(\"|\")"; }
raw_len() { fs_api "/api/flows/$1/$2/body" | wc -c; }
# decodes stdin as Content-Encoding $1 with Python's own libraries (not flowscope's)
py_decode() { $PY -c 'import sys, gzip, zlib, brotli, zstandard
d = sys.stdin.buffer.read()
for c in reversed([c.strip() for c in sys.argv[1].split(",")]):
    d = {"gzip": gzip.decompress, "deflate": zlib.decompress, "br": brotli.decompress,
         "zstd": lambda b: zstandard.ZstdDecompressor().decompressobj().decompress(b)}[c](d)
sys.stdout.buffer.write(d)' "$1"; }

for path in gzip deflate br zstd 'gzip,%20br' x-custom; do
	fs_curl -o /dev/null "$O/$path"
done
fs_wait_sql "SELECT count(*) FROM flows WHERE state='done'" 6
id_of() { fs_sql "SELECT id FROM flows WHERE path='/$1'"; }

# gzip, the body alone (an API client's edit): header kept, body encoded again
gz=$(id_of gzip)
is "the captured gzip body decodes" "$(fs_api "/api/flows/$gz/response/body?decode=1")" \
	"captured text for gzip"
put "$gz" '{"response": {"body": "edited text, gzip\nsecond line"}}' >/dev/null
is "gzip: the stored body decodes to the edit" \
	"$(fs_api "/api/flows/$gz/response/body?decode=1")" $'edited text, gzip\nsecond line'
is "... and is gzip to another decoder" "$(fs_api "/api/flows/$gz/response/body" | py_decode gzip)" \
	$'edited text, gzip\nsecond line'
is "... Content-Encoding kept" "$(header "$gz" content-encoding response)" gzip
is "... Content-Length is the encoded length" "$(header "$gz" content-length response)" \
	"$(raw_len "$gz" response)"
is "... the flow says modified" "$(fs_api "/api/flows/$gz" | jq .modified)" true

# br, with the headers as the page sends them (Content-Encoding among them, no length)
br=$(id_of br)
put "$br" '{"response": {"status": 200, "reason": "OK", "headers": [["Content-Type", "text/plain"],
	["Content-Encoding", "br"], ["Content-Length", "1"], ["X-Edited", "yes"]],
	"body": "edited text, brotli"}}' >/dev/null
is "br: the stored body decodes to the edit" "$(fs_api "/api/flows/$br/response/body?decode=1")" \
	"edited text, brotli"
is "... and is br to another decoder" "$(fs_api "/api/flows/$br/response/body" | py_decode br)" \
	"edited text, brotli"
is "... Content-Encoding kept" "$(header "$br" content-encoding response)" br
is "... Content-Length is the encoded length" "$(header "$br" content-length response)" \
	"$(raw_len "$br" response)"
is "... the other headers as edited" "$(header "$br" x-edited response)" yes

# the other codings, and a chain
for c in deflate zstd 'gzip, br'; do
	id=$(id_of "${c/, /,%20}")
	put "$id" "{\"response\": {\"body\": \"edited $c\"}}" >/dev/null
	is "$c: the stored body decodes to the edit" \
		"$(fs_api "/api/flows/$id/response/body" | py_decode "$c")" "edited $c"
	is "$c: Content-Encoding kept" "$(header "$id" content-encoding response)" "$c"
done

# a coding that cannot be applied again: refused, named, nothing changed
xc=$(id_of x-custom)
is "x-custom: the edit is refused (400)" \
	"$(put_code "$xc" '{"response": {"body": "edited"}}')" 400
like "... saying which coding and what to do" \
	"$(put "$xc" '{"response": {"body": "edited"}}' | jq -r .error)" 'x-custom.*remove or change'
is "... the body is the captured one" "$(fs_api "/api/flows/$xc/response/body")" \
	"captured text for x-custom"
is "... not modified" "$(fs_api "/api/flows/$xc" | jq .modified)" false
is "... nothing kept as an original" \
	"$(fs_sql "SELECT count(*) FROM originals WHERE flow_id=$xc")" 0
put "$xc" '{"response": {"headers": [["Content-Type", "text/plain"]], "body": "plain now"}}' \
	>/dev/null
is "dropping the header stores the body as given" "$(fs_api "/api/flows/$xc/response/body")" \
	"plain now"
is "... without Content-Encoding" "$(header "$xc" content-encoding response)" ""

# the request side: a gzip request body edited
printf 'captured request body' | gzip >"$T/req.gz"
fs_curl -o /dev/null -H 'Content-Encoding: gzip' --data-binary "@$T/req.gz" "$O/upload"
fs_wait_sql "SELECT count(*) FROM flows WHERE path='/upload' AND state='done'" 1
up=$(id_of upload)
put "$up" '{"request": {"body": "edited request body"}}' >/dev/null
is "a gzip request body: the stored one decodes to the edit" \
	"$(fs_api "/api/flows/$up/request/body" | py_decode gzip)" "edited request body"
is "... Content-Length follows" "$(header "$up" content-length request)" \
	"$(raw_len "$up" request)"

# revert brings back the captured bytes
is "revert" "$(fs_api_code "/api/flows/$gz/revert" -X POST)" 200
is "the captured gzip body is back" "$(fs_api "/api/flows/$gz/response/body?decode=1")" \
	"captured text for gzip"
fs_stop_flowscope
done_testing
