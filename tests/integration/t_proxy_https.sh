#!/bin/bash
# t_proxy_https.sh - The question this test answers: does intercepted HTTPS (CONNECT, forged
# certificate trusted via the test CA, upstream TLS verified via SSL_CERT_FILE) carry the same
# traffic as plain HTTP unchanged - bodies byte-identical from 0 B to 64 MiB with bounded
# memory, chunked, keep-alive, HTTP/1.0, POST bodies, Expect: 100-continue - and is each
# decrypted exchange recorded with its TLS details?
. "$(dirname "$0")/lib.sh"
. "$FS_DATA/transfer_checks.sh"

fs_start_nginx || done_testing
fs_start_origin --tls || done_testing
fs_start_flowscope || done_testing

transfer_checks https "$NGINX_HTTPS_PORT" "$ORIGIN_TLS_PORT"
flow_checks https "$NGINX_HTTPS_PORT"
if fs_have_flows; then
	ok "https flows: SNI and TLS version recorded" fs_wait_sql \
		"select count(*) > 0 from flows where scheme='https' and tls_sni='localhost' and tls_version like 'TLS%'" 1
fi

fs_stop_flowscope
done_testing
