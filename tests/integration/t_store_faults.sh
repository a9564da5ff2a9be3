#!/bin/bash
# t_store_faults.sh - The question this test answers: when the flow store cannot write - the
# disk is full (a 4 MiB tmpfs, or PRAGMA max_page_count where mounting is not allowed), or the
# database file is read-only (chattr +i) - does the proxy keep forwarding traffic, say loudly
# what is wrong, count the flows it could not store, and resume storing by itself once the
# problem is gone?
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
if [ "$MOUNTED" = 1 ]; then
	diag "full disk: a 4 MiB tmpfs"
	FS_DB_FILE="$SMALL/flows.db" fs_start_flowscope || done_testing
	ok "a first flow is stored" fs_curl -o /dev/null "$H/text.txt?n=0"
	ok "first flow in the store" fs_wait_sql "select count(*) from flows" 1
	# Fill what is left of the tmpfs.
	dd if=/dev/zero of="$SMALL/filler" bs=64k 2>/dev/null
else
	diag "full disk: mount not permitted, using FLOWSCOPE_DB_MAX_PAGES"
	FLOWSCOPE_DB_MAX_PAGES=200 FS_DB_FILE="$SMALL/flows.db" fs_start_flowscope || done_testing
	ok "a first flow is stored" fs_curl -o /dev/null "$H/text.txt?n=0"
	ok "first flow in the store" fs_wait_sql "select count(*) from flows" 1
fi
FULL_OK=1
for i in 1 2 3; do
	fs_curl -o "$T/1m.$i" "$H/1m?full=$i" || FULL_OK=0
	[ "$(fs_sha "$T/1m.$i")" = "$(fs_sha "$NGINX_ROOT/1m")" ] || FULL_OK=0
done
ok "the proxy keeps forwarding with the disk full (3 x 1 MiB intact)" test "$FULL_OK" = 1
sleep 0.5
ok "it logs loudly that flows are not stored" grep -q "NOT being stored" "$FS_LOG"
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
else
	ok "small flows still fit and are stored" fs_wait_sql \
		"select count(*) from flows where path like '/text.txt?after=%'" 5
fi
fs_stop_flowscope
is "integrity_check after the full disk" "$(fs_sql "pragma integrity_check")" ok
is "no 1 MiB flow was half-stored" "$(fs_sql "select count(*) from flows where path like '/1m?full=%'
	and state='done' and (select length(data) from bodies where flow_id=flows.id and side=1) != 1048576")" 0
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
	sleep 0.5
	ok "it logs loudly that flows are not stored" grep -q "NOT being stored" "$FS_LOG"
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
