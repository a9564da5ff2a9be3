#!/bin/bash
# t_proxy_tls_records.sh - The question this test answers: when several TLS records reach the
# proxy in one TCP segment (a TLS 1.3 client's Finished with its first request; pipelined
# requests, one record each, sent at once), is every request answered? The proxy reads TLS
# ahead, so records beyond what libevent asked for wait inside OpenSSL, where no socket event
# would wake it for them.
. "$(dirname "$0")/lib.sh"

fs_start_nginx || done_testing
fs_start_flowscope || done_testing

for n in 1 3 8; do
	out=$(timeout 30 python3 "$FS_DATA/tls_records.py" --proxy-port "$PROXY_PORT" \
		--port "$NGINX_HTTPS_PORT" --ca "$FS_CONF/ca.pem" -n "$n" 2>&1)
	diag "$n: $(echo $out)"
	is "$n request(s) sent at once in $n record(s): all answered" \
		"$(echo "$out" | sed -n 's/^done //p')" "$n"
	is "$n request(s): each a whole 1 KiB body" "$(echo "$out" | grep -c '^200 1024$')" "$n"
done

# The same over a connection whose first request came with the handshake, from the store's
# side: every one recorded.
ok "every request recorded" fs_wait_sql \
	"select count(*) from flows where scheme='https' and path='/1k' and status=200" 12

done_testing
