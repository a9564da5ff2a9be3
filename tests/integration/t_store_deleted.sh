#!/bin/bash
# SPDX-License-Identifier: MIT
# t_store_deleted.sh - the question this test answers: when the user deletes flowscope's
# database file (with its -wal and -shm, or alone) while it runs and records traffic, or puts
# another file in its place, does flowscope notice it, say so once and clearly (the log, GET
# /api/stats's "error"), and go on recording at the same path, as a user expects: a fresh store
# with the schema there, the list showing what is recorded from then on, and those flows still
# there after a restart (the writer used to go on writing into the deleted file, and every flow
# from then on was lost at the next start)?
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || { ok "jq is installed" false; done_testing; }
fs_start_nginx || done_testing
H="http://127.0.0.1:$NGINX_HTTP_PORT"
traffic() { # traffic TAG N: N requests through the proxy
	local i
	for i in $(seq 1 "$2"); do fs_curl -o /dev/null "$H/text.txt?$1=$i"; done
}
listed() { fs_api "/api/flows?limit=1" | jq -r .total; }
# wait_listed N: until the list counts N flows (<= 20 s)
wait_listed() { fs_poll 20 test_listed "$1"; }
test_listed() { [ "$(listed)" = "$1" ]; }
stats_error() { fs_api /api/stats | jq -r '.error // "none"'; }

# --- deleted with its -wal and -shm -----------------------------------------------------------
FS_DB_FILE="$T/gone.db" fs_start_flowscope || done_testing
traffic before 3
ok "flows stored" fs_wait_sql "select count(*) from flows where state='done'" 3
is "no error while it stores" "$(stats_error)" none
# the page's live stream: it hears "reset" once flows are stored in the fresh file
fs_spawn events node "$(dirname "$0")/web_events.mjs" --url "ws://127.0.0.1:$WEB_PORT/api/events" \
	--header "Authorization: Bearer testtoken" --until-reset --timeout 60 --ready "$T/events.ready"
ok "the event stream is open" fs_poll 10 test -f "$T/events.ready"
rm -f "$FS_DB" "$FS_DB-wal" "$FS_DB-shm"
traffic after 5
ok "the list shows the flows recorded since (a fresh store)" wait_listed 5
ok "the file is back at its path" test -s "$FS_DB"
is "it holds them, with the schema" \
	"$(fs_sql "select count(*) from flows where path like '/text.txt?after=%'")" 5
is "and only them" "$(fs_sql "select count(*) from flows")" 5
is "the database is sound" "$(fs_sql "pragma integrity_check")" ok
like "GET /api/stats says what happened" "$(stats_error)" "deleted.*fresh store"
is "said once in the log" "$(grep -c "the file was deleted while flowscope runs" "$FS_LOG")" 1
like "the log says what it does" "$(grep "the file was deleted" "$FS_LOG")" \
	"Starting a fresh store at $FS_DB"
ok "the page's event stream heard reset (its list starts over)" \
	fs_poll 20 grep -q '"type":"reset"' "$T/events.log"
is "the status line does not say flows are not stored" \
	"$(fs_api "/api/flows?limit=1" | jq -r '.store_error // "none"')" none
traffic more 2
ok "recording goes on" wait_listed 7
fs_stop_flowscope
FS_DB_FILE="$T/gone.db" fs_start_flowscope || done_testing
is "after a restart the flows recorded since are there" "$(listed)" 7
traffic restarted 1
ok "and recording goes on" wait_listed 8
fs_stop_flowscope

# --- the database file alone deleted: its old -wal must not become the new file's ----------
FS_DB_FILE="$T/alone.db" fs_start_flowscope || done_testing
traffic before 4
ok "flows stored" fs_wait_sql "select count(*) from flows where state='done'" 4
rm -f "$FS_DB"
traffic after 2
ok "the list shows the 2 flows recorded since" wait_listed 2
is "the new file holds only them" "$(fs_sql "select count(*) from flows")" 2
is "and is sound" "$(fs_sql "pragma integrity_check")" ok
fs_stop_flowscope
FS_DB_FILE="$T/alone.db" fs_start_flowscope || done_testing
is "after a restart they are there" "$(listed)" 2
fs_stop_flowscope

# --- replaced (a backup restored over it) ------------------------------------------------------
FS_DB_FILE="$T/swap.db" fs_start_flowscope || done_testing
traffic before 3
ok "flows stored" fs_wait_sql "select count(*) from flows where state='done'" 3
sqlite3 "$FS_DB" ".backup '$T/copy.db'"
traffic between 2
ok "two more stored" fs_wait_sql "select count(*) from flows where state='done'" 5
is "the list shows them (the page is open)" "$(listed)" 5
mv "$T/copy.db" "$FS_DB"
traffic after 4
ok "the list shows the restored file's flows and those recorded since" wait_listed 7
is "the file at the path holds them" "$(fs_sql "select count(*) from flows where path like \
'/text.txt?between=%'")/$(fs_sql "select count(*) from flows")" 0/7
like "GET /api/stats says the file was replaced" "$(stats_error)" "replaced"
is "said once in the log" "$(grep -c "the file was replaced while flowscope runs" "$FS_LOG")" 1
fs_stop_flowscope
FS_DB_FILE="$T/swap.db" fs_start_flowscope || done_testing
is "after a restart they are there" "$(listed)" 7
fs_stop_flowscope
done_testing
