#!/bin/bash
# SPDX-License-Identifier: MIT
# ab.sh - two flowscope binaries side by side in one run: the same load, A and B in turn, so a
# change to the proxy is judged against the binary before it on the same (noisy, shared)
# machine at the same minute. Prints, per row, the median of each and B/A, and the proxy's CPU
# per request (user+sys of the whole process over the run, from /proc/PID/stat).
#
#	tests/bench/ab.sh OLD_FLOWSCOPE NEW_FLOWSCOPE [LOADGEN]
#	AB_ROUNDS=5      rounds of each row (A, B, A, B, ...), default 5
#	BENCH_SECS=5     seconds per run
#
# Rows: keep-alive 1 KiB GETs over HTTPS at c=50 (req/s), and back-to-back 10 MiB downloads
# over HTTPS and HTTP (MB/s), both proxies recording every flow with the default body limit and
# upstream verification off. Needs nginx (bash scripts/deps.sh test). Bounded: about
# 4 * ROUNDS * SECS * 2 seconds plus start-up; every process is stopped by PID.

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
[ $# -ge 2 ] || { echo "usage: $0 OLD_FLOWSCOPE NEW_FLOWSCOPE [LOADGEN]" >&2; exit 2; }
BIN_A="$(realpath "$1")" BIN_B="$(realpath "$2")"
LOADGEN="${3:-$ROOT/build-bench/tests/bench/loadgen}"
[ -x "$LOADGEN" ] || { echo "ab.sh: no loadgen at $LOADGEN (build the loadgen target)" >&2; exit 1; }
SECS="${BENCH_SECS:-5}"
ROUNDS="${AB_ROUNDS:-5}"
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)

. "$ROOT/tests/integration/lib.sh"
NGINX_WORKERS=auto fs_start_nginx >/dev/null || exit 1
head -c 10485760 /dev/urandom >"$NGINX_ROOT/10m"

# start NAME BIN: a flowscope of its own (confdir, store); sets PORT_NAME and PID_NAME.
start() {
	FLOWSCOPE_BIN="$2" FS_CONF_DIR="$T/conf-$1" FS_DB_FILE="$T/$1.db" \
		fs_start_flowscope --ssl-insecure >/dev/null || exit 1
	printf -v "PORT_$1" %s "$PROXY_PORT"
	printf -v "PID_$1" %s "$FS_PID"
}
start A "$BIN_A"
start B "$BIN_B"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

declare -A V CPU # V[row|side] = space-separated figures per round; CPU likewise (µs/request)
# run ROW SIDE FIELD loadgen-args: one run through proxy SIDE, keeps FIELD and CPU/request.
run() {
	local row="$1" side="$2" field="$3" port pid t0 t1 line req val
	shift 3
	port="PORT_$side" pid="PID_$side"
	t0=$(cpu_ticks "${!pid}")
	line=$(timeout $((SECS * 3 + 30)) "$LOADGEN" -x "127.0.0.1:${!port}" \
		--cacert "$T/conf-$side/ca.pem" "$@" 2>/dev/null | grep '^RESULT')
	t1=$(cpu_ticks "${!pid}")
	# served, not requests: the CPU was measured over the warm-up too.
	req=$(sed -n 's/.* served=\([0-9]*\).*/\1/p' <<<"$line")
	val=$(sed -n "s/.* $field=\([0-9.]*\).*/\1/p" <<<"$line")
	V["$row|$side"]+="${val:-0} "
	if [ "${req:-0}" -gt 0 ]; then
		CPU["$row|$side"]+="$(awk -v t=$((t1 - t0)) -v n="$req" -v hz="$(getconf CLK_TCK)" \
			'BEGIN { printf "%.0f", t * 1e6 / hz / n }') "
	fi
	echo "# $side $row: ${line#RESULT }" >&2
}

H="http://localhost:$NGINX_HTTP_PORT" S="https://localhost:$NGINX_HTTPS_PORT"
for i in $(seq 1 "$ROUNDS"); do
	for side in A B; do
		run https50 "$side" rps -c 50 -t 2 -d "$SECS" "$S/1k"
		run dl_https "$side" mbps -c 1 -d "$SECS" -w 1 "$S/10m"
		run dl_http "$side" mbps -c 1 -d "$SECS" -w 1 "$H/10m"
	done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "-")}'; }
echo
echo "flowscope A/B, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $ROUNDS rounds of ${SECS} s," \
	"load average $LOAD_START at start, $(cut -d' ' -f1 /proc/loadavg) at end"
echo "A: $BIN_A"
echo "B: $BIN_B"
echo
echo "| measurement (median of $ROUNDS) | A | B | B/A | A CPU µs/req | B CPU µs/req |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for row in https50 dl_https dl_http; do
	a=$(median <<<"${V[$row|A]}") b=$(median <<<"${V[$row|B]}")
	ca=$(median <<<"${CPU[$row|A]}") cb=$(median <<<"${CPU[$row|B]}")
	ratio=$(awk -v a="$a" -v b="$b" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }')
	case $row in
	https50) label="HTTPS 1 KiB GET, c=50: req/s" ;;
	dl_https) label="10 MiB download, HTTPS: MB/s" ;;
	dl_http) label="10 MiB download, HTTP: MB/s" ;;
	esac
	echo "| $label | $a | $b | $ratio | $ca | $cb |"
done
echo
for row in https50 dl_https dl_http; do
	echo "runs $row: A ${V[$row|A]}/ B ${V[$row|B]}; CPU A ${CPU[$row|A]}/ B ${CPU[$row|B]}"
done
hwm() { awk '/^VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }
echo "peak RSS (VmHWM) after the rounds: A $(hwm "$PID_A") MiB, B $(hwm "$PID_B") MiB"
FLOWSCOPE_BIN="$BIN_A" FS_PID="$PID_A" FS_LOG="$T/flowscope.1.log" fs_stop_flowscope >/dev/null
FLOWSCOPE_BIN="$BIN_B" FS_PID="$PID_B" FS_LOG="$T/flowscope.2.log" fs_stop_flowscope >/dev/null
exit 0
