#!/bin/bash
# SPDX-License-Identifier: MIT
# t_store_unwritable.sh - the question this test answers: when the store's file is made
# read-only under a running flowscope while traffic runs, does flowscope say so
# once and clearly (one log line with what to do) and does the UI's status line get it (the
# list's answer carries "store_error", which the page shows)? And when the file is writable
# again, does the status line clear? (A file deleted or replaced: t_store_deleted.sh.)
. "$(dirname "$0")/lib.sh"

fs_start_nginx || done_testing
H="http://127.0.0.1:$NGINX_HTTP_PORT"
traffic() { # traffic TAG N: N requests through the proxy
	local i
	for i in $(seq 1 "$2"); do fs_curl -o /dev/null "$H/text.txt?$1=$i"; done
}
store_error() { fs_api "/api/flows?limit=1" | jq -r '.store_error // "none"'; }
wait_store_error() { # wait_store_error REGEX: waits (<= 10 s) for the list's store_error
	local i
	for i in $(seq 1 100); do
		[[ "$(store_error)" =~ $1 ]] && return 0
		fs_curl -o /dev/null "$H/text.txt?wait=$i"
		sleep 0.1
	done
	diag "store_error: $(store_error)"
	return 1
}

# --- read-only under a running flowscope ----------------------------------------------------
FS_DB_FILE="$T/ro.db" fs_start_flowscope || done_testing
traffic before 3
ok "flows stored" fs_wait_sql "select count(*) from flows" 3
is "no store_error while it stores" "$(store_error)" none
if chattr +i "$FS_DB" "$FS_DB-wal" 2>/dev/null; then
	trap 'chattr -i "$T/ro.db" "$T/ro.db-wal" 2>/dev/null; _fs_cleanup' EXIT
	traffic ro 5
	ok "the status line says flows are not stored" wait_store_error "^Flows are not being stored"
	traffic ro2 5
	is "logged once" "$(grep -c "NOT being stored" "$FS_LOG")" 1
	like "the log says what to do" "$(grep "NOT being stored" "$FS_LOG")" "retrying"
	chattr -i "$FS_DB" "$FS_DB-wal"
	sleep 1.2 # the writer reopens at most once a second
	ok "the status line clears once it stores again" wait_store_error "^none$"
else
	skip "chattr +i not supported here: read-only case"
fi
fs_stop_flowscope

done_testing
