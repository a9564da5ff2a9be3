#!/bin/bash
# SPDX-License-Identifier: MIT
# bench.sh - flowscope's benchmark: the same load sent directly to nginx, through flowscope,
# through SSLsplit and through mitmdump, on 127.0.0.1, printed as ONE markdown table (see
# README.md here). SSLsplit (Debian's sslsplit) is the reference for what relaying costs: it
# runs as a plain relay to the one origin (ssl mode for HTTPS: it decrypts and re-encrypts, but
# parses and stores nothing; tcp mode for HTTP), and the load generator connects to it as if it
# were the origin (no CONNECT), so only the rows that need no proxy addressing have its figures.
#
#	tests/bench/bench.sh             builds flowscope + loadgen (Release) in build-bench/
#	BENCH_BUILD=DIR bench.sh         uses (and builds) that build directory instead
#	FLOWSCOPE_BIN=... LOADGEN=...    uses these binaries as they are
#	BENCH_SECS=5                     seconds per keep-alive measurement
#
# Rows: keep-alive 1 KiB GETs at c=1 and c=50 over HTTP and HTTPS (req/s, p50, p99), a 10 MiB
# download (MB/s, back-to-back downloads for SECS; direct and flowscope in turn, three times, the
# median shown), time to first byte on a fresh connection to a new host name (forging
# included: SNI h<N>.localhost, CONNECT to 127.0.0.1) and to the same host again (its
# forged certificate cached, its upstream TLS session resumable), the proxy's CPU per request
# (utime+stime of the proxy's processes over the run, from /proc, divided by the requests: a
# figure that moves less with the machine's load than req/s), and its peak RSS (VmHWM) after
# passing one 10 MiB body on a fresh start, and after the whole run. Both proxies run with upstream verification off
# (flowscope --ssl-insecure, mitmdump ssl_insecure=true) so the new-host names need not
# match the origin's certificate; clients verify the proxy's forged certificates against the
# proxy's CA. The HTTPS c=50 row of flowscope and SSLsplit, the one issue 17's aim compares,
# is run again with the two in turn, five times each, and the table shows those medians (as
# the download rows do for direct and flowscope) and the footer each pair's ratio, flowscope's
# CPU per request in each of those runs split by thread (workers, store writer, checkpointer)
# and SQLite's own floor per flow on the machine (bench_store --floor, when built). mitmdump
# is a bench-only dependency (Debian package mitmproxy). Bounded: about 8 minutes; every
# process is stopped by PID.

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
SECS="${BENCH_SECS:-5}"
DL_WARMUP=1 # seconds of downloads not counted (none when the runs are very short)
[ "$SECS" -le 2 ] && DL_WARMUP=0
# benchlib.sh: the binaries (built when not given), then lib.sh (the temp dir, the test CA,
# free ports, nginx and the stop-by-PID trap) and the CPU and mitmdump helpers.
. "$ROOT/tests/bench/benchlib.sh"
bench_need bench.sh mitmdump mitmproxy
bench_need bench.sh sslsplit sslsplit
NGINX_WORKERS=auto fs_start_nginx >/dev/null || exit 1
head -c 10485760 /dev/urandom >"$NGINX_ROOT/10m"

declare -A R # R[row|column] = cell
COLS=(direct flowscope sslsplit mitmdump)
CPU_PID="" # the proxy whose CPU lg() charges per request (its child processes included)

# Peak RSS in MiB of process $1 and its children, summed.
hwm_mib() {
	local p k=0
	for p in "$1" $(pgrep -P "$1"); do k=$((k + $(fs_hwm_kib "$p" || echo 0))); done
	echo $((k / 1024))
}

# lg ROW COL [loadgen args]: runs loadgen, stores its figures as R[ROW.field|COL], and with
# CPU_PID set the proxy's CPU per request as R[ROW.cpu_us|COL].
lg() {
	local row="$1" col="$2" line t0 t1 req
	shift 2
	[ -n "$CPU_PID" ] && t0=$(cpu_ticks "$CPU_PID")
	line=$(timeout $((SECS * 3 + 30)) "$LOADGEN" "$@" 2>"$T/lg.err" | grep '^RESULT')
	[ -s "$T/lg.err" ] && sed "s/^/# $col $row: /" "$T/lg.err" | head -3 >&2
	for kv in $line; do
		case "$kv" in
		rps=* | p50_ms=* | p99_ms=* | mbps=* | errors=*) R["$row.${kv%%=*}|$col"]="${kv#*=}" ;;
		esac
	done
	# served, not requests: the CPU was measured over the warm-up too.
	req=$(sed -n 's/.* served=\([0-9]*\).*/\1/p' <<<"$line")
	if [ -n "$CPU_PID" ] && [ "${req:-0}" -gt 0 ]; then
		t1=$(cpu_ticks "$CPU_PID")
		R["$row.cpu_us|$col"]=$(cpu_us_per_req "$t0" "$t1" "$req")
	fi
	echo "# $col $row: ${line#RESULT }" >&2
}

# run_target COL PROXY_ARGS CAFILE [PID]: the whole set of measurements for one column.
run_target() {
	local col="$1" pid="${4:-}" proxy=() ca=(--cacert "$3")
	[ -n "$2" ] && proxy=(-x "$2")
	local H="http://localhost:$NGINX_HTTP_PORT" S="https://localhost:$NGINX_HTTPS_PORT"
	# One 10 MiB body through a freshly started proxy: its peak RSS is the cost of that body.
	lg one10m "$col" "${proxy[@]}" "${ca[@]}" -c 1 -n 1 -d "$SECS" "$S/10m"
	[ -n "$pid" ] && R["rss10m|$col"]=$(hwm_mib "$pid")
	CPU_PID="$pid"
	if [ "$col" = mitmdump ]; then # direct and flowscope: see dl_alternated
		lg dl_http "$col" "${proxy[@]}" -c 1 -d "$SECS" -w "$DL_WARMUP" "$H/10m"
		lg dl_https "$col" "${proxy[@]}" "${ca[@]}" -c 1 -d "$SECS" -w "$DL_WARMUP" "$S/10m"
	fi
	lg http1 "$col" "${proxy[@]}" -c 1 -d "$SECS" "$H/1k"
	lg http50 "$col" "${proxy[@]}" -c 50 -t 2 -d "$SECS" "$H/1k"
	lg https1 "$col" "${proxy[@]}" "${ca[@]}" -c 1 -d "$SECS" "$S/1k"
	lg https50 "$col" "${proxy[@]}" "${ca[@]}" -c 50 -t 2 -d "$SECS" "$S/1k"
	if [ -n "$2" ]; then
		lg fresh "$col" "${proxy[@]}" "${ca[@]}" --fresh -n 200 -d "$SECS" \
			--sni-pattern "h%d-$RANDOM.localhost" "https://127.0.0.1:$NGINX_HTTPS_PORT/1k"
		lg again "$col" "${proxy[@]}" "${ca[@]}" --fresh -n 200 -d "$SECS" "$S/1k"
	else
		lg fresh "$col" "${ca[@]}" --fresh -n 200 -d "$SECS" "$S/1k"
		R["again.p50_ms|$col"]=${R["fresh.p50_ms|$col"]}
		R["again.p99_ms|$col"]=${R["fresh.p99_ms|$col"]}
	fi
	CPU_PID=""
	[ -n "$pid" ] && R["rssall|$col"]=$(hwm_mib "$pid")
}

# run_sslsplit: SSLsplit as a relay in front of nginx (ssl mode to its HTTPS port, tcp mode to
# its HTTP port), the client addressing it as the origin; the rows that need no proxy.
run_sslsplit() {
	local col=sslsplit ps ph pid
	ps=$(fs_free_port)
	ph=$(fs_free_port)
	fs_spawn sslsplit sslsplit -c "$T/ca/ca.pem" -k "$T/ca/ca.key" \
		ssl 127.0.0.1 "$ps" 127.0.0.1 "$NGINX_HTTPS_PORT" \
		tcp 127.0.0.1 "$ph" 127.0.0.1 "$NGINX_HTTP_PORT"
	pid=$FS_SPAWNED_PID
	fs_wait_port "$ps" 20 "$pid" || { echo "sslsplit did not start" >&2; sed 's/^/# /' "$T/sslsplit.log" >&2; return 1; }
	local H="http://localhost:$ph" S="https://localhost:$ps" ca=(--cacert "$T/ca/ca.pem")
	lg one10m "$col" "${ca[@]}" -c 1 -n 1 -d "$SECS" "$S/10m"
	R["rss10m|$col"]=$(hwm_mib "$pid")
	CPU_PID="$pid"
	lg dl_http "$col" -c 1 -d "$SECS" -w "$DL_WARMUP" "$H/10m"
	lg dl_https "$col" "${ca[@]}" -c 1 -d "$SECS" -w "$DL_WARMUP" "$S/10m"
	lg http1 "$col" -c 1 -d "$SECS" "$H/1k"
	lg http50 "$col" -c 50 -t 2 -d "$SECS" "$H/1k"
	lg https1 "$col" "${ca[@]}" -c 1 -d "$SECS" "$S/1k"
	lg https50 "$col" "${ca[@]}" -c 50 -t 2 -d "$SECS" "$S/1k"
	lg again "$col" "${ca[@]}" --fresh -n 200 -d "$SECS" "$S/1k"
	CPU_PID=""
	R["rssall|$col"]=$(hwm_mib "$pid")
	fs_kill "$pid"
}

# dl_alternated: 10 MiB downloads, direct and through flowscope in turn, DL_ROUNDS times each;
# the table gets the medians, the footer every run. The download rows are the ones the aims
# compare as a ratio, and single runs minutes apart moved with the machine's load (direct
# nginx alone by 2x between runs) more than with the code.
DL_ROUNDS=3
DL_RUNS=""
dl_alternated() {
	local H="http://localhost:$NGINX_HTTP_PORT" S="https://localhost:$NGINX_HTTPS_PORT"
	local fs=(-x "127.0.0.1:$PROXY_PORT") i row col
	for i in $(seq 1 $DL_ROUNDS); do
		lg "dl_http$i" direct -c 1 -d "$SECS" -w "$DL_WARMUP" "$H/10m"
		lg "dl_http$i" flowscope "${fs[@]}" -c 1 -d "$SECS" -w "$DL_WARMUP" "$H/10m"
		lg "dl_https$i" direct --cacert "$T/ca/ca.pem" -c 1 -d "$SECS" -w "$DL_WARMUP" "$S/10m"
		lg "dl_https$i" flowscope "${fs[@]}" --cacert "$FS_CONF/ca.pem" -c 1 -d "$SECS" \
			-w "$DL_WARMUP" "$S/10m"
	done
	for row in dl_http dl_https; do
		for col in direct flowscope; do
			local runs=()
			for i in $(seq 1 $DL_ROUNDS); do runs+=("${R[$row$i.mbps|$col]:-0}"); done
			R["$row.mbps|$col"]=$(printf '%s\n' "${runs[@]}" | sort -g | sed -n "$(((DL_ROUNDS + 1) / 2))p")
			DL_RUNS="$DL_RUNS $row/$col ${runs[*]};"
		done
	done
}

# https50_alternated: the row issue 17's aim compares (HTTPS 1 KiB GETs at c=50, flowscope
# against SSLsplit's relay) run in turn, AB_ROUNDS times each, while both proxies run; the
# table's https50 cells of both columns get the medians (req/s, p50, p99, CPU per request),
# the footer every run and each pair's ratio of req/s with their median. Run in separate
# minutes, the two columns moved with the machine's load by more than the difference between
# them (a quiet run read 17,267 against 22,646 req/s where the same binaries in turn read
# 21,196 against 22,781). Who goes first changes every round: the machine's speed drifts
# within a pair too, and the second of each pair would always meet the drift.
AB_ROUNDS=5
AB_RUNS=""
AB_RATIOS=""
THREAD_RUNS="" # flowscope's CPU per request in those runs, by thread kind (fs_thread_ticks)
# thread_split TICKS0 TICKS1 CPU_US: CPU_US shared out as the threads' ticks moved,
# "workers/writer/checkpointer"
thread_split() {
	awk -v a="$1" -v b="$2" -v us="$3" 'BEGIN {
		split(a, x, " ")
		split(b, y, " ")
		for (k = 1; k <= 4; k++) { d[k] = y[k] - x[k]; t += d[k] }
		if (t <= 0 || us == "") { print "-"; exit }
		printf "%.1f/%.1f/%.1f", us * d[1] / t, us * d[2] / t, us * d[3] / t }'
}
# ab_sslsplit ROUND PID PORT: one of https50_alternated's SSLsplit runs
ab_sslsplit() {
	CPU_PID="$2" lg "https50_$1" sslsplit --cacert "$T/ca/ca.pem" -c 50 -t 2 -d "$SECS" \
		"https://localhost:$3/1k"
}
https50_alternated() {
	local S="https://localhost:$NGINX_HTTPS_PORT" ps pid i f col runs th0
	ps=$(fs_free_port)
	fs_spawn sslsplit-ab sslsplit -c "$T/ca/ca.pem" -k "$T/ca/ca.key" \
		ssl 127.0.0.1 "$ps" 127.0.0.1 "$NGINX_HTTPS_PORT"
	pid=$FS_SPAWNED_PID
	fs_wait_port "$ps" 20 "$pid" || { echo "sslsplit did not start" >&2; return 1; }
	for i in $(seq 1 $AB_ROUNDS); do
		[ $((i % 2)) = 0 ] && ab_sslsplit "$i" "$pid" "$ps"
		th0=$(fs_thread_ticks "$FS_PID")
		CPU_PID="$FS_PID" lg "https50_$i" flowscope -x "127.0.0.1:$PROXY_PORT" \
			--cacert "$FS_CONF/ca.pem" -c 50 -t 2 -d "$SECS" "$S/1k"
		THREAD_RUNS="$THREAD_RUNS $(thread_split "$th0" "$(fs_thread_ticks "$FS_PID")" \
			"${R[https50_$i.cpu_us|flowscope]:-}")"
		[ $((i % 2)) = 1 ] && ab_sslsplit "$i" "$pid" "$ps"
	done
	fs_kill "$pid"
	runs=()
	for i in $(seq 1 $AB_ROUNDS); do
		runs+=("$(awk -v a="${R[https50_$i.rps|flowscope]:-0}" \
			-v b="${R[https50_$i.rps|sslsplit]:-0}" \
			'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')")
	done
	AB_RATIOS=" ${runs[*]}; median $(printf '%s\n' "${runs[@]}" | sort -g |
		sed -n "$(((AB_ROUNDS + 1) / 2))p")"
	for col in flowscope sslsplit; do
		for f in rps p50_ms p99_ms cpu_us; do
			runs=()
			for i in $(seq 1 $AB_ROUNDS); do runs+=("${R[https50_$i.$f|$col]:-0}"); done
			R["https50ab.$f|$col"]=$(printf '%s\n' "${runs[@]}" | sort -g | sed -n "$(((AB_ROUNDS + 1) / 2))p")
			[ "$f" = rps ] || [ "$f" = cpu_us ] && AB_RUNS="$AB_RUNS https50.$f/$col ${runs[*]};"
		done
	done
}

echo "# direct nginx" >&2
run_target direct "" "$T/ca/ca.pem"

echo "# flowscope $FLOWSCOPE_BIN" >&2
fs_start_flowscope --ssl-insecure >/dev/null || exit 1
run_target flowscope "127.0.0.1:$PROXY_PORT" "$FS_CONF/ca.pem" "$FS_PID"
echo "# 10 MiB downloads, direct and through flowscope in turn" >&2
dl_alternated
echo "# HTTPS c=50, flowscope and sslsplit in turn" >&2
https50_alternated
R["rssall|flowscope"]=$(hwm_mib "$FS_PID") # the downloads included
FS_FLOWS=$(fs_sql 'select count(*) from flows' 2>/dev/null)
fs_stop_flowscope >/dev/null || echo "# flowscope did not stop cleanly: see $FS_LOG" >&2

echo "# sslsplit $(sslsplit -V 2>&1 | head -1)" >&2
run_sslsplit

echo "# mitmdump $(mitmdump --version 2>/dev/null | head -1)" >&2
bench_start_mitmdump
run_target mitmdump "127.0.0.1:$MITM_PORT" "$MITM_CA" "$MITM_PID"
fs_kill "$MITM_PID"

# SQLite's own cost of a flow's bytes on this machine, under any schema (bench_store.c)
FLOOR=""
[ -x "${BENCH_STORE:-}" ] &&
	FLOOR=$("$BENCH_STORE" --ingest 0 --flows 0 --floor 1800 --dir "$T" |
		sed -n 's/^floor: //p')

# --- the table ----------------------------------------------------------------------------
for f in rps p50_ms p99_ms cpu_us; do # the alternated medians stand for both columns
	for c in flowscope sslsplit; do
		[ -n "${R[https50ab.$f|$c]:-}" ] && R["https50.$f|$c"]=${R[https50ab.$f|$c]}
	done
done
cell() { echo "${R[$1|$2]:--}"; }
row() {
	local label="$1" key="$2" c line
	line="| $label |"
	for c in "${COLS[@]}"; do line="$line $(cell "$key" "$c") |"; done
	echo "$line"
}
echo
echo "flowscope bench, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, ${SECS} s per keep-alive run," \
	"load average $LOAD_START at start, $(cut -d' ' -f1 /proc/loadavg) at end"
echo
echo "| measurement | direct nginx | flowscope | sslsplit (relay) | mitmdump |"
echo "| --- | ---: | ---: | ---: | ---: |"
row "HTTP 1 KiB GET, c=1: req/s" http1.rps
row "HTTP 1 KiB GET, c=1: p50 ms" http1.p50_ms
row "HTTP 1 KiB GET, c=1: p99 ms" http1.p99_ms
row "HTTP 1 KiB GET, c=50: req/s" http50.rps
row "HTTP 1 KiB GET, c=50: p50 ms" http50.p50_ms
row "HTTP 1 KiB GET, c=50: p99 ms" http50.p99_ms
row "HTTPS 1 KiB GET, c=1: req/s" https1.rps
row "HTTPS 1 KiB GET, c=1: p50 ms" https1.p50_ms
row "HTTPS 1 KiB GET, c=1: p99 ms" https1.p99_ms
row "HTTPS 1 KiB GET, c=50: req/s" https50.rps
row "HTTPS 1 KiB GET, c=50: p50 ms" https50.p50_ms
row "HTTPS 1 KiB GET, c=50: p99 ms" https50.p99_ms
row "10 MiB download, HTTP: MB/s" dl_http.mbps
row "10 MiB download, HTTPS: MB/s" dl_https.mbps
row "new host, fresh connection: time to first byte p50 ms" fresh.p50_ms
row "new host, fresh connection: time to first byte p99 ms" fresh.p99_ms
row "known host, fresh connection: time to first byte p50 ms" again.p50_ms
row "known host, fresh connection: time to first byte p99 ms" again.p99_ms
row "HTTP 1 KiB GET, c=1: proxy CPU µs/request" http1.cpu_us
row "HTTP 1 KiB GET, c=50: proxy CPU µs/request" http50.cpu_us
row "HTTPS 1 KiB GET, c=1: proxy CPU µs/request" https1.cpu_us
row "HTTPS 1 KiB GET, c=50: proxy CPU µs/request" https50.cpu_us
row "peak RSS after passing one 10 MiB body: MiB" rss10m
row "peak RSS after the whole run: MiB" rssall
errs=""
for k in "${!R[@]}"; do
	case "$k" in *.errors\|*) [ "${R[$k]}" != 0 ] && errs="$errs ${k%%|*}(${k##*|})=${R[$k]}" ;; esac
done
echo
echo "errors:${errs:- none}; flows recorded by flowscope: ${FS_FLOWS:-?}"
echo
echo "10 MiB downloads (MB/s), direct and flowscope in turn; the table shows the medians:$DL_RUNS"
echo
echo "HTTPS 1 KiB GETs at c=50 (req/s, proxy CPU µs/request), flowscope and SSLsplit in turn;" \
	"the table shows the medians:$AB_RUNS"
echo
echo "flowscope's req/s over SSLsplit's in each of those pairs:$AB_RATIOS"
echo
echo "flowscope's CPU µs per request in those runs, workers/writer/checkpointer:$THREAD_RUNS"
if [ -n "$FLOOR" ]; then
	echo
	echo "SQLite's floor (bench_store --floor 1800): $FLOOR"
fi
