#!/bin/bash
# SPDX-License-Identifier: MIT
# bench_h2.sh - HTTP/2 through flowscope: the load generator speaking h2 (loadgen --h2) for
# 1 KiB GETs to an h2 nginx, at 1 connection x 100 streams and 10 connections x 10 streams,
# directly, through flowscope (h2 both ways: ALPN mirrored) and through mitmdump, one after the
# other on 127.0.0.1; and flowscope's HTTP/1.1 keep-alive (HTTPS, 10 connections) for its CPU
# per request. Prints one markdown table: requests/s, p50, the proxy's CPU per request
# (utime+stime from /proc over the run, divided by the requests) and flowscope's peak RSS.
#
#	tests/bench/bench_h2.sh           builds flowscope + loadgen (Release) in build-bench/
#	FLOWSCOPE_BIN=... LOADGEN=...     uses these binaries as they are
#	BENCH_SECS=5                      seconds per measurement
#
# Both proxies run with upstream verification off (flowscope --ssl-insecure, mitmdump
# ssl_insecure=true); loadgen verifies each proxy's forged certificates against its CA. Every
# process is stopped by PID. About a minute.

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
SECS="${BENCH_SECS:-5}"
. "$ROOT/tests/bench/benchlib.sh" # the binaries, lib.sh, CPU ticks, mitmdump
bench_need bench_h2.sh mitmdump mitmproxy

NGINX_H2=1 NGINX_WORKERS=auto fs_start_nginx >/dev/null || exit 1
URL="https://localhost:$NGINX_HTTPS_PORT/1k"

# run NAME PROXY CA PID LOADGEN_ARGS...: one measurement, its cells as "rps p50 cpu_us".
run() {
	local name="$1" proxy="$2" ca="$3" pid="$4" t0 t1 out rps p50 req cpu="-"
	shift 4
	[ -n "$pid" ] && t0=$(cpu_ticks "$pid")
	out=$("$LOADGEN" "$@" -d "$SECS" -w 0 ${proxy:+-x "$proxy"} --cacert "$ca" "$URL" | grep '^RESULT')
	[ -n "$pid" ] && t1=$(cpu_ticks "$pid")
	rps=$(echo "$out" | sed -n 's/.* rps=\([0-9.]*\).*/\1/p')
	p50=$(echo "$out" | sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p')
	# served, not requests: the CPU was measured over the warm-up too.
	req=$(echo "$out" | sed -n 's/.*served=\([0-9]*\).*/\1/p')
	[ -n "$pid" ] && cpu=$(cpu_us_per_req "$t0" "$t1" "$req")
	echo "# $name $*: $out" >&2
	printf '%.0f req/s, p50 %s ms, %s µs CPU/req' "${rps:-0}" "${p50:-?}" "$cpu"
}

declare -A R
measure() { # COL PROXY CA PID
	R["1x100|$1"]=$(run "$1" "$2" "$3" "$4" -c 1 --h2 100)
	R["10x10|$1"]=$(run "$1" "$2" "$3" "$4" -c 10 -t 2 --h2 10)
}

measure direct "" "$T/ca/ca.pem" ""

fs_start_flowscope --ssl-insecure >/dev/null || exit 1
measure flowscope "127.0.0.1:$PROXY_PORT" "$FS_CONF/ca.pem" "$FS_PID"
R["h1|flowscope"]=$(run flowscope "127.0.0.1:$PROXY_PORT" "$FS_CONF/ca.pem" "$FS_PID" -c 10 -t 2)
R["rss|flowscope"]="$(fs_hwm_kib "$FS_PID") KiB"
fs_stop_flowscope >/dev/null

bench_start_mitmdump
measure mitmdump "127.0.0.1:$MITM_PORT" "$MITM_CA" "$MITM_PID"
fs_kill "$MITM_PID"

echo "| 1 KiB GETs over h2 (${SECS} s each) | direct nginx | flowscope | mitmdump |"
echo "|---|---|---|---|"
echo "| 1 connection x 100 streams | ${R["1x100|direct"]} | ${R["1x100|flowscope"]} | ${R["1x100|mitmdump"]} |"
echo "| 10 connections x 10 streams | ${R["10x10|direct"]} | ${R["10x10|flowscope"]} | ${R["10x10|mitmdump"]} |"
echo "| HTTP/1.1 keep-alive, 10 connections | | ${R["h1|flowscope"]} | |"
echo "| flowscope peak RSS | | ${R["rss|flowscope"]} | |"
done_testing >/dev/null
