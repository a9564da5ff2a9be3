#!/bin/bash
# SPDX-License-Identifier: MIT
# bench.sh - flowscope's benchmark: the same load sent directly to nginx, through flowscope
# and through mitmdump, on 127.0.0.1, printed as ONE markdown table (see README.md here).
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
# forged certificate cached, its upstream TLS session resumable), and the proxy's peak RSS (VmHWM) after
# passing one 10 MiB body on a fresh start, and after the whole run. Both proxies run with upstream verification off
# (flowscope --ssl-insecure, mitmdump ssl_insecure=true) so the new-host names need not
# match the origin's certificate; clients verify the proxy's forged certificates against the
# proxy's CA. mitmdump is a bench-only dependency (Debian package mitmproxy). Bounded: about
# 6 minutes; every process is stopped by PID.

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)
SECS="${BENCH_SECS:-5}"
DL_WARMUP=1 # seconds of downloads not counted (none when the runs are very short)
[ "$SECS" -le 2 ] && DL_WARMUP=0
if [ -z "${FLOWSCOPE_BIN:-}" ] || [ -z "${LOADGEN:-}" ]; then
	BUILD="${BENCH_BUILD:-$ROOT/build-bench}"
	cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null || exit 1
	cmake --build "$BUILD" --target flowscope loadgen -j"$(nproc)" >/dev/null || exit 1
	FLOWSCOPE_BIN="$BUILD/proxy/flowscope"
	LOADGEN="$BUILD/tests/bench/loadgen"
fi
export FLOWSCOPE_BIN
command -v mitmdump >/dev/null || { echo "bench.sh: mitmdump missing (apt-get install -y mitmproxy)" >&2; exit 1; }

# lib.sh gives the temp dir, the test CA, free ports, nginx and the stop-by-PID trap.
. "$ROOT/tests/integration/lib.sh"
NGINX_WORKERS=auto fs_start_nginx >/dev/null || exit 1
head -c 10485760 /dev/urandom >"$NGINX_ROOT/10m"

declare -A R # R[row|column] = cell
COLS=(direct flowscope mitmdump)

# lg ROW COL [loadgen args]: runs loadgen, stores its figures as R[ROW.field|COL].
lg() {
	local row="$1" col="$2" line
	shift 2
	line=$(timeout $((SECS * 3 + 30)) "$LOADGEN" "$@" 2>"$T/lg.err" | grep '^RESULT')
	[ -s "$T/lg.err" ] && sed "s/^/# $col $row: /" "$T/lg.err" | head -3 >&2
	for kv in $line; do
		case "$kv" in
		rps=* | p50_ms=* | p99_ms=* | mbps=* | errors=*) R["$row.${kv%%=*}|$col"]="${kv#*=}" ;;
		esac
	done
	echo "# $col $row: ${line#RESULT }" >&2
}

# run_target COL PROXY_ARGS CAFILE [PID]: the whole set of measurements for one column.
run_target() {
	local col="$1" pid="${4:-}" proxy=() ca=(--cacert "$3")
	[ -n "$2" ] && proxy=(-x "$2")
	local H="http://localhost:$NGINX_HTTP_PORT" S="https://localhost:$NGINX_HTTPS_PORT"
	# One 10 MiB body through a freshly started proxy: its peak RSS is the cost of that body.
	lg one10m "$col" "${proxy[@]}" "${ca[@]}" -c 1 -n 1 -d "$SECS" "$S/10m"
	[ -n "$pid" ] && R["rss10m|$col"]=$(($(fs_hwm_kib "$pid") / 1024))
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
	[ -n "$pid" ] && R["rssall|$col"]=$(($(fs_hwm_kib "$pid") / 1024))
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

echo "# direct nginx" >&2
run_target direct "" "$T/ca/ca.pem"

echo "# flowscope $FLOWSCOPE_BIN" >&2
fs_start_flowscope --ssl-insecure >/dev/null || exit 1
run_target flowscope "127.0.0.1:$PROXY_PORT" "$FS_CONF/ca.pem" "$FS_PID"
echo "# 10 MiB downloads, direct and through flowscope in turn" >&2
dl_alternated
FS_FLOWS=$(fs_sql 'select count(*) from flows' 2>/dev/null)
fs_stop_flowscope >/dev/null || echo "# flowscope did not stop cleanly: see $FS_LOG" >&2

echo "# mitmdump $(mitmdump --version 2>/dev/null | head -1)" >&2
MITM_PORT=$(fs_free_port)
fs_spawn mitmdump mitmdump --listen-host 127.0.0.1 -p "$MITM_PORT" --set confdir="$T/mitm" \
	--set ssl_insecure=true -q
MITM_PID=$FS_SPAWNED_PID
fs_wait_port "$MITM_PORT" 20 "$MITM_PID" || { echo "mitmdump did not start" >&2; exit 1; }
for i in $(seq 1 50); do [ -s "$T/mitm/mitmproxy-ca-cert.pem" ] && break; sleep 0.1; done
run_target mitmdump "127.0.0.1:$MITM_PORT" "$T/mitm/mitmproxy-ca-cert.pem" "$MITM_PID"
fs_kill "$MITM_PID"

# --- the table ----------------------------------------------------------------------------
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
echo "| measurement | direct nginx | flowscope | mitmdump |"
echo "| --- | ---: | ---: | ---: |"
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
