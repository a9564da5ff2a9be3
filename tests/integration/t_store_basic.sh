#!/bin/bash
# t_store_basic.sh - The question this test answers: does every flow that goes through the real
# binary land in the SQLite store with the columns the contract names - HTTP and HTTPS
# exchanges, a 404, a POST body, a failure with its error, a body over --body-limit with its
# truncation mark and real size, bytes kept exactly - and does a restart on the same file keep
# every flow and continue the ids? Rows are read with the sqlite3 CLI.
. "$(dirname "$0")/lib.sh"

fs_start_nginx || done_testing
fs_start_origin || done_testing
fs_start_flowscope --body-limit 500000 || done_testing

H="http://localhost:$NGINX_HTTP_PORT"
S="https://localhost:$NGINX_HTTPS_PORT"
ok "GET /text.txt through the proxy" fs_curl -o /dev/null "$H/text.txt"
ok "GET /missing (404) through the proxy" fs_curl -o /dev/null "$H/missing"
ok "GET /1m through the proxy" fs_curl -o "$T/1m.got" "$H/1m"
ok "POST /echo with a 5-byte body" fs_curl -o /dev/null --data-binary 'hello' \
	"http://127.0.0.1:$ORIGIN_PORT/echo"
ok "HTTPS GET /text.txt through the proxy" fs_curl -o /dev/null "$S/text.txt"
# A header with bytes that are not UTF-8 must come back byte for byte.
printf 'X-Bin: a\377\376b\r\n' >"$T/hdr"
ok "GET with a binary header value" fs_curl -o /dev/null -H @"$T/hdr" "$H/text.txt?bin=1"
fs_refused_port || done_testing
REFUSED=$FS_REFUSED_PORT
fs_curl -o /dev/null "http://127.0.0.1:$REFUSED/" 2>/dev/null

# each flow is stored when it begins and again when it ends (the last one's end may come in a
# later batch than its beginning): wait for all seven to have ended
ok "7 flows stored" fs_wait_sql \
	"select count(*) from flows where state not in ('pending','paused')" 7
# the version this build writes, as the source says (a new migration moves it)
SCHEMA_V=$(sed -n 's/^#define SCHEMA_VERSION \([0-9]*\).*/\1/p' \
	"$(dirname "$0")/../../db/store/schema.h")
ok "schema version and WAL" fs_wait_sql "pragma user_version; pragma journal_mode" "$SCHEMA_V
wal"
is "GET /text.txt row" "$(fs_sql "select kind, state, method, scheme, host, port, path, status,
	response_body_size, response_truncated from flows where path='/text.txt' and scheme='http'")" \
	"http|done|GET|http|localhost|$NGINX_HTTP_PORT|/text.txt|200|17|0"
is "404 row" "$(fs_sql "select state, status from flows where path='/missing'")" "done|404"
is "response body stored exactly" "$(fs_sql "select hex(data) from bodies where side=1 and
	flow_id=(select id from flows where path='/text.txt' and scheme='http')")" \
	"$(printf 'hello from nginx\n' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)"
# Bodies over 256 KiB are kept in a file named by the bodies row id, beside the database.
is "a body over --body-limit: truncated, real size, capped bytes (in its file)" "$(fs_sql "select
	response_truncated, response_body_size, (select ext from bodies where side=1 and
	flow_id=flows.id) from flows where path='/1m'")|$(stat -c %s "$FS_DB-bodies/$(fs_sql "select
	id*2+1 from flows where path='/1m'")")" "1|1048576|1|500000"
is "POST row with its request body" "$(fs_sql "select method, request_body_size,
	request_truncated, (select data from bodies where side=0 and flow_id=flows.id) from flows
	where path='/echo'")" "POST|5|0|hello"
is "HTTPS row with TLS details" "$(fs_sql "select scheme, tls_sni, tls_version like 'TLSv1._',
	status from flows where scheme='https'")" "https|localhost|1|200"
is "failure row: state error with its error" "$(fs_sql "select state, error like '%refused%',
	status is null from flows where port=$REFUSED")" "error|1|1"
is "addresses and timings recorded" "$(fs_sql "select count(*) from flows where state='done' and
	client_addr like '127.0.0.1:%' and server_addr like '127.0.0.1:%' and started_us > 0 and
	ended_us >= started_us and bytes_down > 0")" 6
is "binary header value kept byte for byte" "$(fs_sql "select instr(hex(req_headers),
	'$(printf 'X-Bin' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)0400000061FFFE62') > 0 from heads
	where id=(select id from flows where path='/text.txt?bin=1')")" 1
is "database integrity" "$(fs_sql "pragma integrity_check")" ok
MAX=$(fs_sql "select max(id) from flows")
fs_stop_flowscope

# Restart on the same file: earlier flows are there and new ids continue after them.
fs_start_flowscope --body-limit 500000 || done_testing
ok "GET after restart" fs_curl -o /dev/null "$H/text.txt?after=restart"
ok "8 flows after the restart" fs_wait_sql \
	"select count(*) from flows where state not in ('pending','paused')" 8
is "the new flow's id continues" "$(fs_sql "select id > $MAX from flows where
	path='/text.txt?after=restart'")" 1
is "an earlier flow is still complete" "$(fs_sql "select state, status from flows where
	path='/missing'")" "done|404"
fs_stop_flowscope
done_testing
