#!/bin/bash
# t_store_faults.sh - The question this test answers: when the flow store cannot write - the
# disk is full (a 4 MiB tmpfs, or PRAGMA max_page_count plus a cap on body file bytes where
# mounting is not allowed), or the database file is read-only (chattr +i) - does the proxy keep
# forwarding traffic, say loudly what is wrong, keep the flows whose large bodies found no room
# (bodies empty, marked truncated), count the flows it could not store, and resume storing by
# itself once the problem is gone?
. "$(dirname "$0")/lib.sh"

SMALL="$T/small"
mkdir -p "$SMALL"
MOUNTED=0
if mount -t tmpfs -o size=4m tmpfs "$SMALL" 2>/dev/null; then
	MOUNTED=1
	# Unmount even when the test dies; lazily, in case a process still holds a file there.
	trap 'umount -l "$SMALL" 2>/dev/null; _fs_cleanup' EXIT
fi

fs_start_nginx || done_testing
H="http://localhost:$NGINX_HTTP_PORT"

# --- full disk ---
# Bodies over 256 KiB go to files beside the database ("<db>-bodies/"), the rest into SQLite. So
# the full disk is tested twice: 1 MiB bodies whose files cannot be written (their flows must
# still be kept, the bodies in SQLite if they fit, else empty and marked truncated), and 200 KiB
# bodies, which SQLite itself must find room for (their flows are dropped and counted).
# Without a tmpfs: FLOWSCOPE_DB_MAX_PAGES caps SQLite (60 pages: no room for 200 KiB) and
# FLOWSCOPE_DB_MAX_FILE_BYTES=1 makes every body file write fail as on a full disk.
head -c 204800 /dev/urandom >"$NGINX_ROOT/200k"
if [ "$MOUNTED" = 1 ]; then
	diag "full disk: a 4 MiB tmpfs"
	FS_DB_FILE="$SMALL/flows.db" fs_start_flowscope || done_testing
	ok "a first flow is stored" fs_curl -o /dev/null "$H/text.txt?n=0"
	ok "first flow in the store" fs_wait_sql "select count(*) from flows" 1
	# Fill what is left of the tmpfs.
	dd if=/dev/zero of="$SMALL/filler" bs=64k 2>/dev/null
else
	diag "full disk: mount not permitted, using FLOWSCOPE_DB_MAX_PAGES and _MAX_FILE_BYTES"
	FLOWSCOPE_DB_MAX_PAGES=60 FLOWSCOPE_DB_MAX_FILE_BYTES=1 FS_DB_FILE="$SMALL/flows.db" \
		fs_start_flowscope || done_testing
	ok "a first flow is stored" fs_curl -o /dev/null "$H/text.txt?n=0"
	ok "first flow in the store" fs_wait_sql "select count(*) from flows" 1
fi
# three_intact FILE: fetches /FILE three times through the proxy; 0 when all came intact
three_intact() {
	local i
	for i in 1 2 3; do
		fs_curl -o "$T/$1.$i" "$H/$1?full=$i" || return 1
		[ "$(fs_sha "$T/$1.$i")" = "$(fs_sha "$NGINX_ROOT/$1")" ] || return 1
	done
}
ok "the proxy keeps forwarding with the disk full (3 x 1 MiB intact)" three_intact 1m
ok "it logs that body files cannot be written, and why" \
	fs_wait_log "writing a body file in .*No space left"
is "... once, not once per flow" "$(grep -c "writing a body file in" "$FS_LOG")" 1
if [ "$MOUNTED" = 0 ]; then
	# The database has room for the rows but not for 1 MiB: kept, bodies empty, truncated.
	ok "the flows of bodies without a file are kept" fs_wait_sql \
		"select count(*) from flows where path like '/1m?full=%' and response_truncated=1
		and response_body_size=1048576" 3
	is "... with their bodies empty and marked truncated" "$(fs_sql "select count(*) from
		bodies where side=1 and length(data)=0 and truncated=1 and ext=0")" 3
fi
ok "the proxy keeps forwarding with the database full (3 x 200 KiB intact)" three_intact 200k
ok "it logs loudly that flows are not stored" fs_wait_log "NOT being stored"
ok "the log names the cause" grep -Eqi "full" "$FS_LOG"
ok "the flowscope process is still alive" kill -0 "$FS_PID"
# Make room: storing resumes by itself with the next flows.
if [ "$MOUNTED" = 1 ]; then
	rm -f "$SMALL/filler"
fi
for i in 1 2 3 4 5; do
	fs_curl -o /dev/null "$H/text.txt?after=$i"
done
if [ "$MOUNTED" = 1 ]; then
	ok "flows are stored again once there is room" fs_wait_sql \
		"select count(*) from flows where path like '/text.txt?after=%'" 5
	like "it logs the recovery with the number of dropped flows" \
		"$(grep "storing flows again" "$FS_LOG")" "\(([1-9][0-9]*) dropped so far\)"
	fs_curl -o /dev/null "$H/1m?after=1"
	ok "a large body gets its file again" fs_wait_sql "select count(*) from bodies where
		ext=1 and flow_id=(select id from flows where path='/1m?after=1')" 1
	ok "... and that is logged" grep -q "writing body files again" "$FS_LOG"
else
	ok "small flows still fit and are stored" fs_wait_sql \
		"select count(*) from flows where path like '/text.txt?after=%'" 5
fi
fs_stop_flowscope
is "integrity_check after the full disk" "$(fs_sql "pragma integrity_check")" ok
# Every large body stored is whole (in its file or in SQLite) or empty and marked truncated.
HALF=0
while IFS='|' read -r bid ext len trunc; do
	if [ $((ext & 1)) = 1 ]; then
		size=$(stat -c %s "$FS_DB-bodies/$bid" 2>/dev/null || echo missing)
		[ "$size" = 1048576 ] || { diag "body $bid: file size $size"; HALF=$((HALF + 1)); }
	elif [ "$len" != 1048576 ] && ! { [ "$len" = 0 ] && [ "$trunc" = 1 ]; }; then
		diag "body $bid: $len bytes in SQLite, truncated=$trunc"
		HALF=$((HALF + 1))
	fi
done < <(fs_sql "select id, ext, length(data), truncated from bodies where side=1 and
	flow_id in (select id from flows where path like '/1m?%' and state='done')")
is "no 1 MiB flow was half-stored" "$HALF" 0
is "no 200 KiB flow was half-stored" "$(fs_sql "select count(*) from flows where path like
	'/200k?full=%' and state='done' and (select length(data) from bodies where
	flow_id=flows.id and side=1) != 204800")" 0
if [ "$MOUNTED" = 1 ]; then
	umount "$SMALL" 2>/dev/null || umount -l "$SMALL"
	trap _fs_cleanup EXIT
fi

# --- read-only database file ---
FS_DB_FILE="$T/ro.db" fs_start_flowscope || done_testing
ok "a flow before the file goes read-only" fs_curl -o /dev/null "$H/text.txt?ro=0"
ok "it is stored" fs_wait_sql "select count(*) from flows" 1
fs_stop_flowscope
if chattr +i "$FS_DB" 2>/dev/null; then
	trap 'chattr -i "$T/ro.db" 2>/dev/null; _fs_cleanup' EXIT
	FS_DB_FILE="$T/ro.db" fs_start_flowscope || done_testing
	RO_OK=1
	for i in 1 2 3; do
		fs_curl -o /dev/null "$H/text.txt?ro=$i" || RO_OK=0
	done
	ok "the proxy forwards with a read-only store" test "$RO_OK" = 1
	ok "it logs loudly that flows are not stored" fs_wait_log "NOT being stored"
	ok "the log says read-only" grep -Eqi "read-?only" "$FS_LOG"
	is "nothing was written to the file meanwhile" "$(fs_sql "select count(*) from flows")" 1
	chattr -i "$FS_DB"
	sleep 1.2 # the writer retries opening at most once a second
	for i in 4 5; do
		fs_curl -o /dev/null "$H/text.txt?ro=$i"
		sleep 0.1
	done
	ok "storing resumes once the file is writable" fs_wait_sql \
		"select count(*) from flows where path='/text.txt?ro=5'" 1
	like "the recovery is logged with the dropped count" \
		"$(grep "storing flows again" "$FS_LOG")" "\(([1-9][0-9]*) dropped so far\)"
	is "old flows were not overwritten by new ids" "$(fs_sql "select count(*) from flows where
		path='/text.txt?ro=0'")" 1
	fs_stop_flowscope
	is "integrity_check after read-only" "$(fs_sql "pragma integrity_check")" ok
else
	skip "chattr +i not supported here: read-only case"
fi
done_testing
