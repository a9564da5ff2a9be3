#!/bin/bash
# SPDX-License-Identifier: MIT
# instr.sh - the proxy's instructions per request, two flowscope binaries side by side, counted
# by valgrind's callgrind: a figure that does not move with the load of a shared machine (this
# one's VM has no hardware counters for perf). Each binary runs with one worker under callgrind
# for each load in turn, a fresh process each time; a run with no load (start, stop) is
# subtracted. Slow under callgrind, so the loads are small.
#
#	tests/bench/instr.sh OLD_FLOWSCOPE NEW_FLOWSCOPE [LOADGEN]
#	INSTR_ROUNDS=1   runs of each load per binary (the table shows the median)
#
# Loads: 20 downloads of 10 MiB over HTTP, the same over HTTPS, 2,000 keep-alive 1 KiB GETs
# over HTTPS on 10 connections, and INSTR_N (default 2,000) keep-alive 1 KiB GETs over HTTPS on
# one connection, recorded with the default body limit. Every thread's instructions count
# (the store's writer too). Needs valgrind and nginx.

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
[ $# -ge 2 ] || { echo "usage: $0 OLD_FLOWSCOPE NEW_FLOWSCOPE [LOADGEN]" >&2; exit 2; }
BIN_A="$(realpath "$1")" BIN_B="$(realpath "$2")"
LOADGEN="${3:-$ROOT/build-bench/tests/bench/loadgen}"
[ -x "$LOADGEN" ] || { echo "instr.sh: no loadgen at $LOADGEN" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "instr.sh: valgrind missing" >&2; exit 1; }
ROUNDS="${INSTR_ROUNDS:-1}"
N1="${INSTR_N:-2000}"

. "$ROOT/tests/integration/lib.sh"
fs_start_nginx >/dev/null || exit 1
head -c 10485760 /dev/urandom >"$NGINX_ROOT/10m"
mkdir -p "$T/conf"
cp "$T/ca/ca.pem" "$T/ca/ca.key" "$T/conf/"
H="http://localhost:$NGINX_HTTP_PORT" S="https://localhost:$NGINX_HTTPS_PORT"

# count BIN LOAD: prints the instructions flowscope executed from start to exit under LOAD.
count() {
	local bin="$1" load="$2" port web pid out="$T/cg.out"
	port=$(fs_free_port)
	web=$(fs_free_port)
	rm -rf "$T/f.db"*
	SSL_CERT_FILE="$T/ca/ca.pem" valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$bin" --listen "127.0.0.1:$port" --web "127.0.0.1:$web" --confdir "$T/conf" \
		--db "$T/f.db" --web-token t --threads 1 --ssl-insecure >"$T/fs.log" 2>&1 &
	pid=$!
	_fs_remember "$pid"
	fs_wait_port "$port" 60 "$pid" || { sed 's/^/# /' "$T/fs.log" >&2; exit 1; }
	local lg=("$LOADGEN" -x "127.0.0.1:$port" --cacert "$T/conf/ca.pem" -d 600)
	case $load in
	http) "${lg[@]}" -c 1 -n 20 "$H/10m" ;;
	https) "${lg[@]}" -c 1 -n 20 "$S/10m" ;;
	small) "${lg[@]}" -c 10 -n 2000 "$S/1k" ;;
	small1) "${lg[@]}" -c 1 -n "$N1" "$S/1k" ;;
	esac | grep '^RESULT' | sed "s/^/# $load: /" >&2
	kill -TERM "$pid"
	wait "$pid"
	_fs_forget "$pid"
	sed -n 's/^totals: //p' "$out"
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A I
for load in none http https small small1; do
	for side in A B; do
		bin="BIN_$side"
		runs=""
		for i in $(seq 1 "$ROUNDS"); do runs+="$(count "${!bin}" "$load") "; done
		I[$load|$side]=$(tr ' ' '\n' <<<"$runs" | grep . | median)
		echo "# $side $load: $runs" >&2
	done
done

echo
echo "flowscope instructions per request (callgrind), $(date -u '+%Y-%m-%d %H:%M UTC')," \
	"median of $ROUNDS, start and stop subtracted"
echo "A: $BIN_A"
echo "B: $BIN_B"
echo
echo "| load | A | B | B/A |"
echo "| --- | ---: | ---: | ---: |"
for load in http https small small1; do
	case $load in
	http) n=20 label="10 MiB download, HTTP" ;;
	https) n=20 label="10 MiB download, HTTPS" ;;
	small) n=2000 label="1 KiB GET, HTTPS, keep-alive, c=10" ;;
	small1) n=$N1 label="1 KiB GET, HTTPS, keep-alive, c=1" ;;
	esac
	awk -v a="${I[$load|A]}" -v b="${I[$load|B]}" -v a0="${I[none|A]}" -v b0="${I[none|B]}" \
		-v n="$n" -v l="$label" 'BEGIN {
		x = (a - a0) / n; y = (b - b0) / n
		printf "| %s | %.0f | %.0f | %.3f |\n", l, x, y, y / x }'
done
