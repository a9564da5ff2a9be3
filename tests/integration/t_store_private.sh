#!/bin/bash
# SPDX-License-Identifier: MIT
# t_store_private.sh - the question this test answers: are the store's files (flows.db, its
# -wal and -shm) the user's alone, mode 0600, whatever the umask
# (a permissive 022 and a restrictive 077), with --db outside the 0700 config directory? And
# is a store an older flowscope created 0644 made private at the next start?
. "$(dirname "$0")/lib.sh"

modes() { # modes DB: the modes of DB, DB-wal, DB-shm
	local f out=""
	for f in "$1" "$1-wal" "$1-shm"; do
		out+="$(stat -c %a "$f" 2>/dev/null || echo none) "
	done
	echo "${out% }"
}

fs_start_nginx || done_testing
for mask in 022 077; do
	mkdir -p "$T/open$mask"
	chmod 755 "$T/open$mask"
	umask "$mask"
	FS_DB_FILE="$T/open$mask/flows.db" fs_start_flowscope || done_testing
	umask 022
	fs_curl -o /dev/null "http://127.0.0.1:$NGINX_HTTP_PORT/text.txt"
	ok "umask $mask: a flow stored" fs_wait_sql "select count(*) from flows" 1
	is "umask $mask: flows.db, -wal and -shm are 0600" "$(modes "$FS_DB")" "600 600 600"
	fs_stop_flowscope
	is "umask $mask: flows.db after the stop" "$(stat -c %a "$FS_DB")" 600
done

# a store left 0644 (by an older flowscope) is made private at start
chmod 644 "$FS_DB"
umask 022
FS_DB_FILE="$FS_DB" fs_start_flowscope || done_testing
fs_curl -o /dev/null "http://127.0.0.1:$NGINX_HTTP_PORT/text.txt?again"
ok "older store: the new flow stored" fs_wait_sql "select count(*) from flows" 2
is "older store: made 0600, its -wal and -shm too" "$(modes "$FS_DB")" "600 600 600"
fs_stop_flowscope
done_testing
