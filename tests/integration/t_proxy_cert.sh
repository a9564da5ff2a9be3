#!/bin/bash
# t_proxy_cert.sh - The question this test answers: is the certificate flowscope forges for an
# intercepted host one that a strict client accepts - a chain that verifies against our CA,
# the origin's names (CN, SANs) plus the SNI or the IP, EKU serverAuth, an EC P-256 key,
# validity under 200 days and back-dated, cached per name - and is the CA created on first
# start (key 0600, PEM and DER), kept across restarts and offered at http://flowscope.cert/?
. "$(dirname "$0")/lib.sh"
. "$FS_DATA/tls_checks.sh"

fs_start_nginx || done_testing
fs_start_flowscope || done_testing

# --- the forged chain with SNI "localhost" -----------------------------------------------
leaf=$(leaf_via_proxy localhost "$NGINX_HTTPS_PORT" -servername localhost \
	-CAfile "$T/ca/ca.pem" -verify_return_error -verify_hostname localhost)
is "s_client through the proxy verifies the forged chain (exit status)" "$(cat "$T/s_client.rc")" 0
like "s_client: Verify return code 0" "$(cat "$T/s_client.out")" 'Verify return code: 0 \(ok\)'
echo "$leaf" >"$T/leaf.pem"
ok "a leaf certificate was shown" [ -s "$T/leaf.pem" ]
isnt_origin=$( [ "$(fingerprint <"$T/leaf.pem")" != "$(fingerprint <"$T/ca/origin.pem")" ] && echo y)
is "the leaf is forged, not the origin's own" "$isnt_origin" y
san=$(openssl x509 -in "$T/leaf.pem" -noout -ext subjectAltName 2>/dev/null)
like "forged SANs include DNS:localhost" "$san" 'DNS:localhost'
like "forged SANs include the origin's IP Address:127.0.0.1" "$san" 'IP Address:127\.0\.0\.1'
like "forged subject CN copies the origin's (localhost)" \
	"$(openssl x509 -in "$T/leaf.pem" -noout -subject -nameopt RFC2253)" 'CN=localhost'
is "forged issuer is our CA's subject" \
	"$(openssl x509 -in "$T/leaf.pem" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')" \
	"$(openssl x509 -in "$T/ca/ca.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
like "forged leaf has EKU serverAuth" \
	"$(openssl x509 -in "$T/leaf.pem" -noout -ext extendedKeyUsage 2>/dev/null)" \
	'TLS Web Server Authentication'
like "forged leaf key is EC P-256" "$(openssl x509 -in "$T/leaf.pem" -noout -text)" \
	'(prime256v1|P-256)'
nb=$(date -d "$(openssl x509 -in "$T/leaf.pem" -noout -startdate | cut -d= -f2)" +%s)
na=$(date -d "$(openssl x509 -in "$T/leaf.pem" -noout -enddate | cut -d= -f2)" +%s)
now=$(date +%s)
diag "forged validity: $(( (na - nb) / 86400 )) days, back-dated $(( (now - nb) / 60 )) minutes"
ok "forged validity is under 200 days" [ $((na - nb)) -lt $((200 * 86400)) ]
ok "forged notBefore is back-dated (before now)" [ "$nb" -lt "$now" ]
ok "forged notAfter is in the future" [ "$na" -gt "$now" ]
ok "the CA is not also the leaf (basicConstraints CA:FALSE or absent)" \
	bash -c "! openssl x509 -in '$T/leaf.pem' -noout -ext basicConstraints 2>/dev/null | grep -q 'CA:TRUE'"

# Cached by name: a second connection is shown the very same certificate.
leaf2=$(leaf_via_proxy localhost "$NGINX_HTTPS_PORT" -servername localhost -CAfile "$T/ca/ca.pem")
is "the forged certificate is cached (same fingerprint on the second connection)" \
	"$(echo "$leaf2" | fingerprint)" "$(fingerprint <"$T/leaf.pem")"

# --- no SNI (IP literal): the forged leaf carries the IP -----------------------------------
leaf=$(leaf_via_proxy 127.0.0.1 "$NGINX_HTTPS_PORT" -noservername -CAfile "$T/ca/ca.pem" \
	-verify_return_error -verify_ip 127.0.0.1)
is "without SNI, the chain verifies for IP 127.0.0.1" "$(cat "$T/s_client.rc")" 0
like "without SNI, SANs include IP Address:127.0.0.1" \
	"$(echo "$leaf" | openssl x509 -noout -ext subjectAltName 2>/dev/null)" 'IP Address:127\.0\.0\.1'

# curl (a strict client) accepts it both by name and by IP.
is "curl --cacert accepts https://localhost through the proxy" \
	"$(fs_curl -o /dev/null -w '%{http_code}' "https://localhost:$NGINX_HTTPS_PORT/1k")" 200
is "curl --cacert accepts https://127.0.0.1 through the proxy" \
	"$(fs_curl -o /dev/null -w '%{http_code}' "https://127.0.0.1:$NGINX_HTTPS_PORT/1k")" 200

# --- http://flowscope.cert/ ---------------------------------------------------------------
page=$(fs_curl -D "$T/h.certpage" http://flowscope.cert/)
is "http://flowscope.cert/ answers 200" "$(head -1 "$T/h.certpage" | awk '{print $2}')" 200
like "the page links a PEM download" "$page" '[Pp][Ee][Mm]'
ok "the page is HTML" grep -qi '^content-type: *text/html' "$T/h.certpage"
hrefs=$(printf '%s' "$page" | grep -Eo 'href="[^"]*"' | sed 's/^href="//; s/"$//')
pem_url=""
der_url=""
for h in $hrefs; do
	case "$h" in http*) u="$h" ;; /*) u="http://flowscope.cert$h" ;; *) u="http://flowscope.cert/$h" ;; esac
	case "$(echo "$h" | tr A-Z a-z)" in
	*pem*) pem_url="$u" ;;
	*der* | *crt* | *cer*) der_url="$u" ;;
	esac
done
diag "download links: pem=$pem_url der=$der_url"
if [ -n "$pem_url" ]; then
	fs_curl -o "$T/dl.pem" "$pem_url"
	is "the PEM download is our CA" "$(fingerprint <"$T/dl.pem")" "$(fingerprint <"$T/ca/ca.pem")"
else
	ok "the page has a PEM link" false
fi
if [ -n "$der_url" ]; then
	fs_curl -o "$T/dl.der" "$der_url"
	is "the DER download is our CA" \
		"$(openssl x509 -inform DER -in "$T/dl.der" -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2)" \
		"$(fingerprint <"$T/ca/ca.pem")"
else
	ok "the page has a DER link" false
fi
fs_stop_flowscope

# --- a fresh confdir: the CA is created, then reused ---------------------------------------
FS_CONF_DIR="$T/fresh"
FS_NO_TEST_CA=1
FS_DB_FILE="$T/fresh.db"
fs_start_flowscope || done_testing
ok "first start creates ca.pem" [ -s "$FS_CONF/ca.pem" ]
ok "first start creates ca.der" [ -s "$FS_CONF/ca.der" ]
ok "first start creates ca.key" [ -s "$FS_CONF/ca.key" ]
is "ca.key has mode 0600" "$(stat -c %a "$FS_CONF/ca.key" 2>/dev/null)" 600
like "the new CA is CA:TRUE" \
	"$(openssl x509 -in "$FS_CONF/ca.pem" -noout -ext basicConstraints 2>/dev/null)" 'CA:TRUE'
is "ca.der is ca.pem in DER" \
	"$(openssl x509 -inform DER -in "$FS_CONF/ca.der" -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2)" \
	"$(fingerprint <"$FS_CONF/ca.pem")"
ok "ca.key matches ca.pem" bash -c "[ \"\$(openssl pkey -in '$FS_CONF/ca.key' -pubout 2>/dev/null)\" = \"\$(openssl x509 -in '$FS_CONF/ca.pem' -noout -pubkey)\" ]"
leaf=$(leaf_via_proxy localhost "$NGINX_HTTPS_PORT" -servername localhost \
	-CAfile "$FS_CONF/ca.pem" -verify_return_error)
is "the forged chain verifies against the newly created CA" "$(cat "$T/s_client.rc")" 0
first=$(fingerprint <"$FS_CONF/ca.pem")
fs_stop_flowscope
fs_start_flowscope || done_testing
is "a second start keeps the same CA" "$(fingerprint <"$FS_CONF/ca.pem")" "$first"
leaf=$(leaf_via_proxy localhost "$NGINX_HTTPS_PORT" -servername localhost \
	-CAfile "$FS_CONF/ca.pem" -verify_return_error)
is "after restart the forged chain still verifies against that CA" "$(cat "$T/s_client.rc")" 0
fs_stop_flowscope

done_testing
