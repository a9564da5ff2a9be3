# h2_checks.sh - stream-level checks that t_proxy_http2.sh (HTTP/1.1 origin) and
# t_proxy_http2_origin.sh (h2 origin) run alike, with data/h2client.py through the proxy
# (H2PY: its command line, without --port). Each waits for what it reads.
#
#   h2_bodies_check WHAT BASE  GET of /empty, /1k, /1m, /64m (nginx's files) from BASE
#                              through the proxy over h2 (H2: curl's options): HTTP/2 200,
#                              bodies identical; WHAT names the checks
#   h2_parallel_get BASE  GET /1k?p=1..100 from BASE as 100 parallel streams of one
#                         connection; prints "count version" of the answers (" 100 2")
#   h2_reset_check PORT   a slow stream reset by the client while another completes
#   h2_hold_check PORT    an intercepted stream paused while another goes on, then resumed

h2_bodies_check() {
	local f out
	for f in empty 1k 1m 64m; do
		out=$(fs_curl "${H2[@]}" -o "$T/got.$f" -w '%{http_version} %{http_code}' "$2/$f")
		is "GET /$f $1: HTTP/2 200" "$out" "2 200"
		is "GET /$f $1: body identical" "$(fs_sha "$T/got.$f")" "$(fs_sha "$NGINX_ROOT/$f")"
		rm -f "$T/got.$f"
	done
}

h2_parallel_get() {
	local i urls=()
	for i in $(seq 1 100); do urls+=(-o /dev/null "$1/1k?p=$i"); done
	fs_curl "${H2[@]}" --parallel --parallel-max 100 -w '%{http_version}\n' "${urls[@]}" |
		sort | uniq -c | tr -s ' '
}

h2_reset_check() {
	local out
	out=$("${H2PY[@]}" --port "$1" reset 2>&1)
	diag "reset: $(echo $out)"
	like "reset: the other stream completed" "$out" 'quick status 200'
	like "reset: the connection still serves" "$out" 'alive status 200'
	ok "reset: the flow ends with the client's reset" fs_wait_sql \
		"select count(*) from flows where path='/slow/3' and state='error' and error like '%client reset the HTTP/2 stream (CANCEL)%'" 1
}

h2_hold_check() {
	local out id pid
	is "rules: intercept ?hold" "$(fs_rules '{"intercept":"~q & ~u hold"}')" 200
	"${H2PY[@]}" --port "$1" hold >"$T/hold.out" 2>&1 &
	pid=$!
	ok "hold: the stream is paused" fs_wait_sql \
		"select count(*) from flows where path='/headers?hold' and state='paused'" 1
	ok "hold: the other stream went on meanwhile" fs_wait_sql \
		"select count(*) from flows where path='/headers?quick2' and state='done'" 1
	id=$(fs_sql "select id from flows where path='/headers?hold' and state='paused'")
	is "hold: resume it" "$(fs_api_code "/api/flows/$id/resume" -X POST)" 200
	wait "$pid"
	out=$(cat "$T/hold.out")
	diag "hold: $(echo $out)"
	like "hold: the quick stream was answered while the other was held" "$out" 'quick status 200'
	like "hold: ... while the held one had no answer yet" "$out" 'held-before open'
	like "hold: the held stream was answered once resumed" "$out" 'held status 200'
}
