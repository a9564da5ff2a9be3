#!/bin/bash
# t_proxy_hostile_fds.sh - The question this test answers: when the proxy runs out of file
# descriptors (EMFILE at accept), does it pause accepting instead of spinning - little CPU, a
# log line per interval that names the limit and how to raise it, not a flood - and serve
# normally once the descriptors are back? And does it raise its soft RLIMIT_NOFILE to the hard
# limit at start?
. "$(dirname "$0")/lib.sh"

fs_start_origin || done_testing
# Started with a soft limit below the hard one: the proxy raises it itself.
REAL_BIN="$FLOWSCOPE_BIN"
cat >"$T/under-prlimit.sh" <<SH
#!/bin/sh
exec prlimit --nofile=512:4096 "$REAL_BIN" "\$@"
SH
chmod +x "$T/under-prlimit.sh"
FLOWSCOPE_BIN="$T/under-prlimit.sh" fs_start_flowscope || done_testing
O="127.0.0.1:$ORIGIN_PORT"
soft=$(awk '/^Max open files/ {print $4}' "/proc/$FS_PID/limits")
is "the soft descriptor limit raised to the hard one at start (512 -> $soft)" "$soft" 4096

# Now only 256 descriptors, and 1,100 connections held: accept fails with EMFILE.
prlimit --pid "$FS_PID" --nofile=256:256
cat >"$T/hold.py" <<'PY'
import resource, socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 100, max(n + 100, resource.getrlimit(resource.RLIMIT_NOFILE)[1])))
held = []
for i in range(n):
    s = socket.socket()
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    held.append(s)
print("ready %d" % len(held), flush=True)
time.sleep(secs)
for s in held:
    s.close()
print("closed", flush=True)
PY
fs_spawn hold python3 "$T/hold.py" "$PROXY_PORT" 1100 6
HOLD_PID=$FS_SPAWNED_PID
for i in $(seq 1 100); do
	grep -q '^ready' "$T/hold.log" 2>/dev/null && break
	sleep 0.1
done
like "1,100 connections held" "$(cat "$T/hold.log")" '^ready 1100'
sleep 0.5

cpu_ticks() { awk '{print $14 + $15}' "/proc/$FS_PID/stat"; }
lines() { wc -l <"$FS_LOG"; }
c0=$(cpu_ticks)
l0=$(lines)
sleep 3
c1=$(cpu_ticks)
l1=$(lines)
ticks=$((c1 - c0))
nlines=$((l1 - l0))
diag "at EMFILE over 3 s: $ticks CPU ticks ($(awk -v t="$ticks" 'BEGIN{printf "%.2f", t / 100}') s), $nlines log lines"
ok "at EMFILE: under 0.3 s of CPU over 3 s (used $ticks ticks)" [ "$ticks" -lt 30 ]
ok "at EMFILE: at most 2 log lines over 3 s (got $nlines)" [ "$nlines" -le 2 ]
diag "accept-failure lines in the whole log: $(grep -c 'accept failed' "$FS_LOG")"
like "the log names the limit and how to raise it" "$(grep -i 'descriptor' "$FS_LOG" | head -1)" \
	'256.*(ulimit|LimitNOFILE)'

# The connections go; the proxy serves again.
for i in $(seq 1 100); do
	grep -q '^closed' "$T/hold.log" 2>/dev/null && break
	sleep 0.1
done
wait "$HOLD_PID" 2>/dev/null
fs_forget "$HOLD_PID"
sleep 0.5
code=000
for i in 1 2 3 4 5; do
	code=$(fs_curl --max-time 5 -o /dev/null -w '%{http_code}' "http://$O/status/200")
	[ "$code" = 200 ] && break
	sleep 0.5
done
is "after the connections closed: a normal request is served" "$code" 200
fs_stop_flowscope
done_testing
