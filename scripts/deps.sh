#!/usr/bin/env bash
# deps.sh [run|test|bench] - installs the Debian 12 packages flowscope needs that are missing.
# "run" is what building and starting needs; "test" adds the test tools; "bench" adds mitmproxy
# (the reference the benchmark compares against). Installs nothing when everything is there.
set -euo pipefail

build=(build-essential cmake pkg-config libssl-dev libevent-dev libwebsockets-dev
	libsqlite3-dev node-llhttp libjansson-dev zlib1g-dev libbrotli-dev libzstd-dev
	libpcre2-dev libnghttp2-dev ca-certificates)
tests=(curl openssl nginx-light sqlite3 python3 netcat-openbsd clang libclang-rt-14-dev procps
	chromium jq httpie python3-requests nghttp2-client python3-h2 python3-websockets
	python3-wsproto python3-brotli python3-zstandard iproute2 nftables)
bench=(mitmproxy sslsplit)

want=("${build[@]}")
case "${1:-run}" in
run) ;;
test) want+=("${tests[@]}") ;;
bench) want+=("${tests[@]}" "${bench[@]}") ;;
*) echo "usage: $0 [run|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
# Node.js runs the UI and WebSocket tests; any install of it will do (Debian's or another).
if [ "${1:-run}" != run ] && ! command -v node >/dev/null; then
	missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi
