# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# benchlib.sh - what the benchmarks that compare flowscope with other proxies (bench.sh,
# bench_h2.sh) share. Source it with ROOT set to the checkout: it settles FLOWSCOPE_BIN and
# LOADGEN (as given, else built with Release in $BENCH_BUILD, default build-bench/, with
# BENCH_STORE, the bench_store binary, which is unset when the binaries are given), then
# sources tests/integration/lib.sh (the temp dir $T, the test CA, free ports, nginx, flowscope
# and the stop-by-PID trap), which reads FLOWSCOPE_BIN as it is sourced.
#
#   bench_need NAME CMD PKG   exits unless CMD is installed (Debian package PKG)
#   cpu_ticks PID             CPU ticks (user + system) of PID and its children
#   cpu_us_per_req T0 T1 N    microseconds of CPU per request for N requests between ticks
#                             T0 and T1 ("-" when N is 0)
#   fs_thread_ticks PID       CPU ticks of flowscope's threads by kind: "workers writer
#                             checkpointer other" (threads fs-proxy-N, fs-store, fs-ckpt, the rest)
#   bench_start_mitmdump      mitmdump on a free port, upstream verification off; sets
#                             MITM_PORT, MITM_PID, MITM_CA (its CA, once written)

bench_need() {
	command -v "$2" >/dev/null || { echo "$1: $2 missing (apt-get install -y $3)" >&2; exit 1; }
}

# (SSLsplit forks its proxy: its children count too.)
cpu_ticks() {
	local p t=0
	for p in "$1" $(pgrep -P "$1"); do
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}

fs_thread_ticks() {
	local d
	for d in /proc/"$1"/task/*; do
		echo "$(cat "$d/comm" 2>/dev/null)" \
			"$(awk '{print $14 + $15}' "$d/stat" 2>/dev/null || echo 0)"
	done | awk '{
		k = $1 ~ /^fs-proxy/ ? 1 : $1 == "fs-store" ? 2 : $1 == "fs-ckpt" ? 3 : 4
		t[k] += $2
	} END { print t[1] + 0, t[2] + 0, t[3] + 0, t[4] + 0 }'
}

cpu_us_per_req() {
	awk -v t=$(($2 - $1)) -v n="${3:-0}" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { if (n > 0) printf "%.0f", t * 1e6 / hz / n; else print "-" }'
}

bench_start_mitmdump() {
	MITM_PORT=$(fs_free_port)
	fs_spawn mitmdump mitmdump --listen-host 127.0.0.1 -p "$MITM_PORT" --set confdir="$T/mitm" \
		--set ssl_insecure=true -q
	MITM_PID=$FS_SPAWNED_PID
	MITM_CA="$T/mitm/mitmproxy-ca-cert.pem"
	fs_wait_port "$MITM_PORT" 20 "$MITM_PID" || { echo "mitmdump did not start" >&2; exit 1; }
	for _ in $(seq 1 50); do [ -s "$MITM_CA" ] && break; sleep 0.1; done
}

if [ -z "${FLOWSCOPE_BIN:-}" ] || [ -z "${LOADGEN:-}" ]; then
	BUILD="${BENCH_BUILD:-$ROOT/build-bench}"
	cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null || exit 1
	cmake --build "$BUILD" --target flowscope loadgen bench_store -j"$(nproc)" >/dev/null ||
		exit 1
	FLOWSCOPE_BIN="$BUILD/proxy/flowscope"
	LOADGEN="$BUILD/tests/bench/loadgen"
	BENCH_STORE="$BUILD/tests/bench/bench_store"
fi
export FLOWSCOPE_BIN
. "$ROOT/tests/integration/lib.sh"
