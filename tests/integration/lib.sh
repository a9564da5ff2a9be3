# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# lib.sh - shared helpers for the integration tests. Source it first from every t_*.sh:
#
#	. "$(dirname "$0")/lib.sh"
#
# Everything runs on 127.0.0.1 in a private temp dir $T, is started in the background, is
# remembered by PID and is stopped by PID from an EXIT trap (never by name). Every wait is
# bounded (10 s). Checks: ok "desc" cmd...; is "desc" got expected; done_testing.
#
# API (variables set are listed after each function):
#   fs_free_port                  prints a free TCP port on 127.0.0.1
#   fs_wait_port PORT [SECS]      waits until 127.0.0.1:PORT accepts (default 10 s); 0 or 1
#   fs_refused_port               FS_REFUSED_PORT: a port on 127.0.0.1 that refuses connections
#                                 for the whole test: a socket bound there and never listening
#                                 holds it (a port merely left unbound may be taken meanwhile
#                                 by a listener of a test running beside this one)
#   fs_start_flowscope [args]     starts $FLOWSCOPE_BIN with the standard arguments + args:
#                                 FS_PID PROXY_PORT WEB_PORT FS_CONF FS_DB FS_LOG PROXY
#                                 FS_CURL_ARGS (curl options for the proxy + test CA)
#                                 Knobs (set before the call): FS_CONF_DIR (confdir to use,
#                                 default $T/conf), FS_NO_TEST_CA=1 (do not copy the test CA
#                                 in: flowscope creates its own), FS_DB_FILE (default $T/flows.db)
#                                 SSL_CERT_FILE=$T/ca/ca.pem is set for flowscope only, not
#                                 exported to the test's own clients (curl/openssl would then
#                                 trust the test CA without being told)
#   fs_bad_args DESC PATTERN ARGS...  flowscope refuses ARGS: exit status 2, a message matching
#                                 PATTERN (two checks; one when PATTERN is empty)
#   fs_stop_flowscope             SIGTERM, wait <= 10 s, fails the test unless exit status 0
#                                 and no sanitizer report in $FS_LOG
#   fs_start_nginx                NGINX_PID NGINX_HTTP_PORT NGINX_HTTPS_PORT NGINX_ROOT
#                                 files: /empty (0 B) /1k /1m /64m, /chunked/big.txt (gzip,
#                                 chunked when asked with Accept-Encoding: gzip), /text.txt
#                                 Knobs: NGINX_WORKERS (default 1), NGINX_H2=1 (h2 on HTTPS)
#   fs_start_origin [--tls]       the python test origin (data/origin.py): ORIGIN_PID ORIGIN_PORT
#                                 (or ORIGIN_TLS_PID ORIGIN_TLS_PORT with --tls); paths:
#                                 /echo (POST echo), /chunked, /die (CL 100000, 1000 B, close),
#                                 /close (no length: the body runs until close),
#                                 /ws (WebSocket echo), /status/N, /slow/SECS, /headers
#   fs_start_h2origin             the h2-only TLS test origin (data/h2origin.py, its log
#                                 $T/h2origin.log): H2ORIGIN_PID H2ORIGIN_PORT
#   fs_start_trailer_origins      the trailer origin (data/trailer_origin.py: /trailers, a
#                                 chunked response with trailers; /echo, the body and trailers
#                                 of the request it received), plain and over TLS (h2 clients
#                                 reach it as HTTP/1.1), and fs_start_h2origin's h2 origin:
#                                 TRAILER_PORT TRAILER_TLS_PORT H2ORIGIN_PORT
#   fs_spawn NAME cmd...          starts cmd in the background, logs to $T/NAME.log,
#                                 remembers its PID (stopped at exit); prints nothing, sets
#                                 FS_SPAWNED_PID
#   fs_kill PID                   SIGTERM then (after <= 5 s) SIGKILL one remembered PID
#   fs_remember PID / fs_forget PID   add a PID to (remove it from) the PIDs the exit trap
#                                 stops (also as _fs_remember/_fs_forget; _fs_cleanup is the
#                                 trap itself, for scripts that wrap it in their own trap)
#   fs_curl [curl args]           curl through the proxy, trusting the test CA, 30 s cap
#                                 (a function: `fs_curl ... &` gives a subshell's PID; to kill
#                                 a background client use curl "${FS_CURL_ARGS[@]}" ... &)
#   fs_raw PORT [SECS]            sends stdin raw to 127.0.0.1:PORT, prints the reply until the
#                                 peer closes or SECS pass (default 5); RAW_SHUT=1 half-closes
#                                 after sending
#   fs_sha FILE                   prints the sha256 of FILE
#   fs_hwm_kib PID                prints VmHWM of PID in KiB
#   fs_sql QUERY                  runs QUERY on $FS_DB with the sqlite3 CLI (prints rows)
#   fs_api PATH [curl args]       the web API on $WEB_PORT with the test token; prints the body
#   fs_api_code PATH [curl args]  the same, prints only the HTTP status
#   fs_rules JSON                 PUT /api/rules; prints the HTTP status
#   fs_paused_id PATTERN          waits (<= 10 s) for a paused flow whose path is LIKE PATTERN;
#                                 prints its id (the lowest), nothing when none came
#   fs_have_flows                 0 when $FS_DB has a flows table
#   fs_wait_sql QUERY EXPECTED [SECS]  polls until QUERY prints EXPECTED; 0 or 1
#   fs_wait_log REGEX [SECS]      polls until $FS_LOG has a line matching the extended REGEX
#                                 (default 10 s); 0 or 1
#   fs_poll SECS cmd...           runs cmd every 0.1 s until it exits 0 (then 0) or SECS pass
#                                 (then 1): for a check whose effect comes a moment later
#   ok DESC cmd...                passes when cmd exits 0
#   is DESC GOT EXPECTED          passes when GOT equals EXPECTED
#   like DESC GOT REGEX           passes when GOT matches the extended REGEX
#   skip DESC                     records a skipped check (counted apart)
#   diag TEXT...                  prints a "# " note
#   done_testing                  prints "N passed, N failed", exits 1 on failures
# Test CA: $T/ca/ca.pem, $T/ca/ca.key (CA:TRUE); origin cert $T/ca/origin.pem + origin.key
# for localhost (SANs DNS:localhost, IP:127.0.0.1) signed by it. FS_DATA is tests/integration/data.

set -u
set +e

FS_DATA="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/data"
FS_TEST_NAME="$(basename "$0" .sh)"
: "${FLOWSCOPE_BIN:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/proxy/flowscope}"
export FLOWSCOPE_BIN
T="$(mktemp -d "${TMPDIR:-/tmp}/fs-${FS_TEST_NAME}.XXXXXX")"
export T

_FS_PASS=0
_FS_FAIL=0
_FS_SKIP=0
_FS_N=0
_FS_PIDS=()
_FS_START_COUNT=0
FS_PID=""

# ASan/UBSan: report to stderr (captured in $FS_LOG), non-zero exit on any error.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=66}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

diag() { echo "# $*"; }

# _fs_count DESC STATUS [NOTE...]: counts one check (STATUS 0 passed) and prints its line, and
# each NOTE under a failed one.
_fs_count() {
	local desc="$1" st="$2" note
	shift 2
	_FS_N=$((_FS_N + 1))
	if [ "$st" -eq 0 ]; then
		_FS_PASS=$((_FS_PASS + 1))
		echo "ok $_FS_N - $desc"
		return 0
	fi
	_FS_FAIL=$((_FS_FAIL + 1))
	echo "not ok $_FS_N - $desc"
	for note in "$@"; do echo "#   $note"; done
	return 1
}

ok() {
	local desc="$1"
	shift
	"$@"
	_fs_count "$desc" $?
}

is() {
	[ "$2" = "$3" ]
	_fs_count "$1" $? "got:      '$(printf '%s' "$2" | head -c 400)'" "expected: '$3'"
}

like() {
	printf '%s' "$2" | grep -Eq -- "$3"
	_fs_count "$1" $? "got:      '$(printf '%s' "$2" | head -c 400)'" "expected to match: /$3/"
}

skip() {
	_FS_SKIP=$((_FS_SKIP + 1))
	echo "ok - # SKIP $1"
}

done_testing() {
	if [ "$_FS_SKIP" -gt 0 ]; then
		echo "$_FS_PASS passed, $_FS_FAIL failed ($_FS_SKIP skipped)"
	else
		echo "$_FS_PASS passed, $_FS_FAIL failed"
	fi
	if [ "$_FS_FAIL" -ne 0 ] || [ "$_FS_PASS" -eq 0 ]; then
		exit 1
	fi
	exit 0
}

# --- processes -------------------------------------------------------------------------

_fs_remember() { _FS_PIDS+=("$1"); }

_fs_forget() {
	local p keep=()
	for p in "${_FS_PIDS[@]}"; do
		[ "$p" != "$1" ] && keep+=("$p")
	done
	_FS_PIDS=("${keep[@]}")
}

fs_remember() { _fs_remember "$1"; }
fs_forget() { _fs_forget "$1"; }

fs_kill() {
	local pid="$1" i
	kill -TERM "$pid" 2>/dev/null || { _fs_forget "$pid"; return 0; }
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	_fs_forget "$pid"
	return 0
}

_fs_cleanup() {
	local p
	for p in "${_FS_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${_FS_PIDS[@]}"; do
		local i
		for i in $(seq 1 30); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
	done
	if [ -n "${FS_KEEP_TMP:-}" ]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap _fs_cleanup EXIT
trap 'exit 130' INT TERM

fs_spawn() {
	local name="$1"
	shift
	"$@" >"$T/$name.log" 2>&1 &
	FS_SPAWNED_PID=$!
	_fs_remember "$FS_SPAWNED_PID"
}

# --- ports -----------------------------------------------------------------------------

_fs_ports_taken() { cat "$T/ports-taken" 2>/dev/null; }

# Ports come from 20000-32000, below the kernel's ephemeral range, so a port we pick is never
# taken meanwhile by some outgoing connection; each is handed out once per script. The ports
# handed out are kept in the file $T/ports-taken, not in a variable: fs_free_port is called as
# $(fs_free_port), in a subshell, whose variables the script never sees.
fs_free_port() {
	local port
	port=$(python3 - "$(_fs_ports_taken)" <<'EOF'
import random, socket, sys
taken = set(sys.argv[1].split())
for _ in range(200):
    p = random.randint(20000, 32000)
    if str(p) in taken:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
EOF
)
	echo "$port" >>"$T/ports-taken"
	echo "$port"
}

fs_refused_port() {
	local i
	rm -f "$T/refused-port"
	fs_spawn "refused-port.$RANDOM" python3 -c '
import os, random, socket, sys, time
out, taken = sys.argv[1], set(sys.argv[2].split())
for _ in range(200):
    p = random.randint(20000, 32000)
    if str(p) in taken:
        continue
    s = socket.socket()  # no SO_REUSEADDR: no one else can bind the port while it is held
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        continue
    with open(out + ".tmp", "w") as f:
        f.write("%d\n" % p)
    os.replace(out + ".tmp", out)
    while True:
        time.sleep(3600)
sys.exit(1)
' "$T/refused-port" "$(_fs_ports_taken)"
	for i in $(seq 1 100); do
		[ -s "$T/refused-port" ] && break
		sleep 0.1
	done
	FS_REFUSED_PORT=$(cat "$T/refused-port" 2>/dev/null)
	if [ -z "$FS_REFUSED_PORT" ]; then
		ok "a port that refuses connections is held" false
		return 1
	fi
	echo "$FS_REFUSED_PORT" >>"$T/ports-taken"
}

# Bounded wait for a listener; also gives up early if PID (3rd arg) has died.
fs_wait_port() {
	local port="$1" secs="${2:-10}" pid="${3:-}" i
	for i in $(seq 1 $((secs * 20))); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			return 1
		fi
		sleep 0.05
	done
	return 1
}

# --- test CA ---------------------------------------------------------------------------

_fs_make_ca() {
	local d="$T/ca"
	mkdir -p "$d"
	cat >"$d/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = flowscope test CA
O = flowscope tests
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[v3_origin]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
EOF
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$d/ca.key" -out "$d/ca.pem" -days 30 -config "$d/ca.cnf" \
		-extensions v3_ca -subj "/CN=flowscope test CA/O=flowscope tests" 2>"$d/err.log" ||
		{ cat "$d/err.log"; return 1; }
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$d/origin.key" -out "$d/origin.csr" -subj "/CN=localhost/O=flowscope test origin" \
		2>>"$d/err.log" || { cat "$d/err.log"; return 1; }
	openssl x509 -req -in "$d/origin.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
		-CAcreateserial -out "$d/origin.pem" -days 30 -extfile "$d/ca.cnf" \
		-extensions v3_origin 2>>"$d/err.log" || { cat "$d/err.log"; return 1; }
	chmod 600 "$d/ca.key" "$d/origin.key"
}
_fs_make_ca || { echo "lib.sh: cannot make the test CA" >&2; exit 1; }

# --- flowscope -------------------------------------------------------------------------

fs_start_flowscope() {
	if [ ! -x "$FLOWSCOPE_BIN" ]; then
		echo "# lib.sh: no flowscope binary at $FLOWSCOPE_BIN" >&2
		ok "flowscope binary exists ($FLOWSCOPE_BIN)" false
		return 1
	fi
	_FS_START_COUNT=$((_FS_START_COUNT + 1))
	FS_CONF="${FS_CONF_DIR:-$T/conf}"
	FS_DB="${FS_DB_FILE:-$T/flows.db}"
	mkdir -p "$FS_CONF"
	if [ -z "${FS_NO_TEST_CA:-}" ]; then
		cp "$T/ca/ca.pem" "$FS_CONF/ca.pem"
		cp "$T/ca/ca.key" "$FS_CONF/ca.key"
		chmod 600 "$FS_CONF/ca.key"
	fi
	PROXY_PORT=$(fs_free_port)
	WEB_PORT=$(fs_free_port)
	PROXY="http://127.0.0.1:$PROXY_PORT"
	# HTTP/1.1 inside decrypted tunnels too (curl would pick h2): the suites check HTTP/1
	# framing; t_proxy_http2*.sh ask for h2 themselves.
	FS_CURL_ARGS=(-sS --max-time 30 --http1.1 --cacert "$T/ca/ca.pem" -x "$PROXY")
	FS_LOG="$T/flowscope.$_FS_START_COUNT.log"
	SSL_CERT_FILE="$T/ca/ca.pem" "$FLOWSCOPE_BIN" --listen "127.0.0.1:$PROXY_PORT" \
		--web "127.0.0.1:$WEB_PORT" --confdir "$FS_CONF" --db "$FS_DB" \
		--web-token testtoken "$@" >"$FS_LOG" 2>&1 &
	FS_PID=$!
	_fs_remember "$FS_PID"
	if ! fs_wait_port "$PROXY_PORT" 10 "$FS_PID"; then
		echo "# flowscope did not start listening on $PROXY_PORT; log:"
		sed 's/^/#   /' "$FS_LOG" | head -40
		ok "flowscope starts and listens" false
		return 1
	fi
	# the web server opens its port on its own thread, a little later than the proxy's:
	# a test that reads the API right after a (re)start must find it listening
	if ! fs_wait_port "$WEB_PORT" 10 "$FS_PID"; then
		echo "# flowscope's web server did not start listening on $WEB_PORT; log:"
		sed 's/^/#   /' "$FS_LOG" | head -40
		ok "flowscope's web server listens" false
		return 1
	fi
	return 0
}

# fs_bad_args DESC PATTERN ARGS...: $FLOWSCOPE_BIN started with ARGS (and a confdir and a db of
# its own) refuses them: exits with status 2 within 10 s, its message matching PATTERN (not
# checked when PATTERN is empty). Its output is left in $T/bad.out.
fs_bad_args() {
	local desc="$1" pattern="$2"
	shift 2
	timeout 10 "$FLOWSCOPE_BIN" --confdir "$T/badconf" --db "$T/bad.db" "$@" >"$T/bad.out" 2>&1
	is "$desc: exit status 2" "$?" 2
	[ -z "$pattern" ] || like "$desc: said so" "$(cat "$T/bad.out")" "$pattern"
}

# Stops the proxy started last. Fails the test unless it exits 0 within 10 s with a log free
# of sanitizer reports.
fs_stop_flowscope() {
	local pid="$FS_PID" i st
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		_fs_forget "$pid"
		FS_PID=""
		ok "flowscope stops within 10 s of SIGTERM" false
		return 1
	fi
	wait "$pid"
	st=$?
	_fs_forget "$pid"
	FS_PID=""
	is "flowscope exits 0 on SIGTERM" "$st" 0 || { sed 's/^/#   /' "$FS_LOG" | tail -40; }
	if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$FS_LOG"; then
		ok "no sanitizer report in the flowscope log" false
		grep -E -A30 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$FS_LOG" |
			head -60 | sed 's/^/#   /'
		return 1
	fi
	[ "$st" -eq 0 ]
}

# --- origins ---------------------------------------------------------------------------

# _fs_made_once NAME CMD...: prints the path of a file that holds CMD's output, made once per
# build ($FLOWSCOPE_BUILD/test-files/NAME; without a build folder, in $T) and never replaced, so
# that a file a test links to keeps its bytes (nginx's large files: 65 MiB of writes per test).
_fs_made_once() {
	local name="$1" dir="$T/test-files" tmp
	shift
	[ -n "${FLOWSCOPE_BUILD:-}" ] && [ -d "$FLOWSCOPE_BUILD" ] && dir="$FLOWSCOPE_BUILD/test-files"
	if [ ! -f "$dir/$name" ]; then
		mkdir -p "$dir"
		tmp="$dir/$name.$$"
		# the first test to finish it wins; a later one keeps the first one's file
		"$@" >"$tmp" && { ln "$tmp" "$dir/$name" 2>/dev/null || [ -f "$dir/$name" ] ||
			mv "$tmp" "$dir/$name"; }
		rm -f "$tmp"
	fi
	echo "$dir/$name"
}

_fs_big_text() { seq 1 200000 | sed 's/$/ flowscope chunked test line/'; }

fs_start_nginx() {
	local d="$T/nginx" user=""
	NGINX_ROOT="$d/root"
	mkdir -p "$d/tmp" "$NGINX_ROOT/chunked"
	: >"$NGINX_ROOT/empty"
	head -c 1024 /dev/urandom >"$NGINX_ROOT/1k"
	head -c 1048576 /dev/urandom >"$NGINX_ROOT/1m"
	ln -s "$(_fs_made_once 64m head -c 67108864 /dev/urandom)" "$NGINX_ROOT/64m"
	echo "hello from nginx" >"$NGINX_ROOT/text.txt"
	# A text file large enough that gzip output has no known length: chunked.
	ln -s "$(_fs_made_once big.txt _fs_big_text)" "$NGINX_ROOT/chunked/big.txt"
	NGINX_HTTP_PORT=$(fs_free_port)
	NGINX_HTTPS_PORT=$(fs_free_port)
	[ "$(id -u)" = 0 ] && user="user root;"
	sed -e "s|@T@|$d|g" -e "s|@ROOT@|$NGINX_ROOT|g" -e "s|@HTTP@|$NGINX_HTTP_PORT|g" \
		-e "s|@HTTPS@|$NGINX_HTTPS_PORT|g" -e "s|@CERT@|$T/ca/origin.pem|g" \
		-e "s|@KEY@|$T/ca/origin.key|g" -e "s|@USER@|$user|g" \
		-e "s|@WORKERS@|${NGINX_WORKERS:-1}|g" -e "s|@H2@|${NGINX_H2:+http2}|g" \
		"$FS_DATA/nginx.conf.in" >"$d/nginx.conf"
	nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" -g 'daemon off;' >"$d/stdout.log" 2>&1 &
	NGINX_PID=$!
	_fs_remember "$NGINX_PID"
	if ! fs_wait_port "$NGINX_HTTP_PORT" 10 "$NGINX_PID" ||
		! fs_wait_port "$NGINX_HTTPS_PORT" 10 "$NGINX_PID"; then
		echo "# nginx did not start:"
		sed 's/^/#   /' "$d/error.log" "$d/stdout.log" | head -20
		ok "nginx starts" false
		return 1
	fi
	return 0
}

fs_start_origin() {
	local port
	port=$(fs_free_port)
	if [ "${1:-}" = "--tls" ]; then
		fs_spawn "origin-tls-$port" python3 "$FS_DATA/origin.py" --port "$port" \
			--cert "$T/ca/origin.pem" --key "$T/ca/origin.key"
		ORIGIN_TLS_PID=$FS_SPAWNED_PID
		ORIGIN_TLS_PORT=$port
	else
		fs_spawn "origin-$port" python3 "$FS_DATA/origin.py" --port "$port"
		ORIGIN_PID=$FS_SPAWNED_PID
		ORIGIN_PORT=$port
	fi
	if ! fs_wait_port "$port" 10 "$FS_SPAWNED_PID"; then
		sed 's/^/#   /' "$T/origin"*"-$port.log" | head -20
		ok "python origin starts" false
		return 1
	fi
	return 0
}

fs_start_h2origin() {
	H2ORIGIN_PORT=$(fs_free_port)
	fs_spawn h2origin /usr/bin/python3 "$FS_DATA/h2origin.py" --port "$H2ORIGIN_PORT" \
		--cert "$T/ca/origin.pem" --key "$T/ca/origin.key"
	H2ORIGIN_PID=$FS_SPAWNED_PID
	if ! fs_wait_port "$H2ORIGIN_PORT" 10 "$H2ORIGIN_PID"; then
		sed 's/^/#   /' "$T/h2origin.log" | head -20
		ok "the h2 origin starts" false
		return 1
	fi
	return 0
}

# _fs_start_trailer_origin NAME PORT [args]: data/trailer_origin.py on PORT with args, 0 once it
# listens (not in a subshell: the exit trap must know its PID)
_fs_start_trailer_origin() {
	local name="$1" port="$2"
	shift 2
	fs_spawn "$name" python3 "$FS_DATA/trailer_origin.py" --port "$port" "$@"
	fs_wait_port "$port" 10 "$FS_SPAWNED_PID" && return 0
	sed 's/^/#   /' "$T/$name.log" | head -20
	return 1
}

fs_start_trailer_origins() {
	TRAILER_PORT=$(fs_free_port)
	_fs_start_trailer_origin trailer-origin "$TRAILER_PORT" ||
		{ ok "the origin starts" false; return 1; }
	TRAILER_TLS_PORT=$(fs_free_port)
	_fs_start_trailer_origin trailer-origin-tls "$TRAILER_TLS_PORT" \
		--cert "$T/ca/origin.pem" --key "$T/ca/origin.key" ||
		{ ok "the TLS origin starts" false; return 1; }
	fs_start_h2origin
}

# --- clients and probes ----------------------------------------------------------------

fs_curl() {
	# --http1.1 as in FS_CURL_ARGS; a later --http2 in "$@" wins
	curl -sS --max-time 30 --http1.1 --cacert "$T/ca/ca.pem" -x "http://127.0.0.1:$PROXY_PORT" "$@"
}

fs_raw() {
	python3 "$FS_DATA/rawsend.py" "$1" "${2:-5}"
}

fs_sha() { sha256sum "$1" | cut -d' ' -f1; }

fs_hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

fs_sql() { sqlite3 -batch -cmd '.timeout 5000' "$FS_DB" "$1" 2>&1; }

fs_api() {
	local p="$1"
	shift
	curl -sS --max-time 30 -H "Authorization: Bearer testtoken" "$@" "http://127.0.0.1:$WEB_PORT$p"
}

fs_api_code() {
	local p="$1"
	shift
	curl -s --max-time 30 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer testtoken" \
		"$@" "http://127.0.0.1:$WEB_PORT$p"
}

fs_rules() { fs_api_code /api/rules -X PUT -H 'Content-Type: application/json' -d "$1"; }

fs_paused_id() {
	local id="" end=$((SECONDS + 10))
	while [ "$SECONDS" -lt "$end" ]; do
		id=$(fs_sql "select id from flows where state='paused' and path like '$1' order by id limit 1")
		[ -n "$id" ] && break
		sleep 0.1
	done
	echo "$id"
}

fs_have_flows() {
	[ -f "$FS_DB" ] && [ "$(sqlite3 -batch -cmd '.timeout 5000' "$FS_DB" \
		"select count(*) from sqlite_master where type='table' and name='flows'" 2>/dev/null)" = 1 ]
}

fs_wait_sql() {
	local q="$1" exp="$2" secs="${3:-10}" got="" end
	end=$((SECONDS + secs))
	while :; do
		got=$(fs_sql "$q")
		[ "$got" = "$exp" ] && return 0
		[ "$SECONDS" -ge "$end" ] && break
		sleep 0.1
	done
	echo "#   last answer: '$got' (expected '$exp') to: $q" >&2
	return 1
}

fs_wait_log() {
	local re="$1" secs="${2:-10}"
	fs_poll "$secs" grep -Eq -- "$re" "$FS_LOG" && return 0
	echo "#   no line matching /$re/ in $FS_LOG" >&2
	return 1
}

fs_poll() {
	local secs="$1" end
	shift
	end=$((SECONDS + secs))
	while :; do
		"$@" && return 0
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.1
	done
}
