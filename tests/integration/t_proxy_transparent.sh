#!/bin/bash
# t_proxy_transparent.sh - The question this test answers: does a `--mode transparent`
# listener serve connections that nftables REDIRECTed to it, as a client that never heard of
# a proxy makes them? A network namespace plays that client: curl inside it reaches origins on
# the host side of a veth pair; an nftables REDIRECT (prerouting, on the host's end of the
# veth, so that the proxy's own connections to the origins are not caught) hands those
# connections to flowscope in the host namespace. Plain HTTP and HTTPS (curl trusting the
# flowscope CA) are decrypted and recorded under the name the client asked for (Host, SNI),
# with the original address as server (IPv4 and IPv6; an nftables TPROXY too, where the kernel
# has it); a host the rules pass through is relayed whole; a
# connection straight to the transparent listener (no original destination but itself) is
# refused with a log line that says why; the proxy stays up. The namespace, the veth pair
# and the nftables table are removed by the exit trap. Skipped when namespaces are not
# permitted (not root, or a container without CAP_SYS_ADMIN/CAP_NET_ADMIN).
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	skip "transparent mode needs root (ip netns, nftables): running as uid $(id -u)"
	done_testing
fi
command -v nft >/dev/null || { skip "nft is not installed"; done_testing; }

NS="fst$$"
VH="fsth$$"
VN="fstn$$"
TABLE="fs_transparent_$$"
# a /30 of 10.200.0.0/16 picked from the PID, so that parallel runs do not collide
NET="10.200.$(($$ % 250)).$((($$ / 250 % 60) * 4))"
IFS=. read -r a b c d <<<"$NET"
HOST_IP="$a.$b.$c.$((d + 1))"
NS_IP="$a.$b.$c.$((d + 2))"
NET6="fd00:200:$(printf %x $(($$ % 65536)))"
HOST6="$NET6::1"
NS6="$NET6::2"

cleanup_net() {
	nft delete table ip "$TABLE" 2>/dev/null
	nft delete table ip6 "$TABLE" 2>/dev/null
	nft delete table ip "${TABLE}_tp" 2>/dev/null
	ip link del "$VH" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
}
trap 'cleanup_net; _fs_cleanup' EXIT

if ! ip netns add "$NS" 2>"$T/netns.err"; then
	skip "ip netns add is not permitted here: $(head -c 200 "$T/netns.err")"
	done_testing
fi
if ! { ip link add "$VH" type veth peer name "$VN" &&
	ip link set "$VN" netns "$NS" &&
	ip addr add "$HOST_IP/30" dev "$VH" && ip link set "$VH" up &&
	ip netns exec "$NS" ip addr add "$NS_IP/30" dev "$VN" &&
	ip netns exec "$NS" ip link set "$VN" up &&
	ip netns exec "$NS" ip link set lo up; } 2>"$T/veth.err"; then
	skip "cannot set up the veth pair: $(head -c 200 "$T/veth.err")"
	done_testing
fi
# IPv6 on the pair too, when the kernel has it (a host may run with IPv6 disabled)
HAVE6=0
ip addr add "$HOST6/64" dev "$VH" nodad 2>"$T/v6.err" &&
	ip netns exec "$NS" ip addr add "$NS6/64" dev "$VN" nodad 2>>"$T/v6.err" && HAVE6=1

# Origins on the host's end of the veth (plain and TLS), reachable from the namespace.
port=$(fs_free_port)
fs_spawn origin python3 "$FS_DATA/origin.py" --host "$HOST_IP" --port "$port"
ORIG_PORT=$port
port=$(fs_free_port)
fs_spawn origin-tls python3 "$FS_DATA/origin.py" --host "$HOST_IP" --port "$port" \
	--cert "$T/ca/origin.pem" --key "$T/ca/origin.key"
ORIG_TLS_PORT=$port
TPX_PORT=$(fs_free_port)
fs_spawn origin-tproxy python3 "$FS_DATA/origin.py" --host "$HOST_IP" --port "$TPX_PORT"
PASS_PORT=$(fs_free_port)
fs_spawn origin-pass python3 "$FS_DATA/origin.py" --host "$HOST_IP" --port "$PASS_PORT" \
	--cert "$T/ca/origin.pem" --key "$T/ca/origin.key"
# IPv6: the standard library's file server
ORIG6_PORT=$(fs_free_port)
mkdir -p "$T/www6" && echo "over IPv6" >"$T/www6/six.txt"
if [ "$HAVE6" = 1 ]; then
	fs_spawn origin6 python3 -m http.server --bind "$HOST6" --directory "$T/www6" "$ORIG6_PORT"
	ok "origin on [$HOST6]:$ORIG6_PORT answers" timeout 10 bash -c \
		"until curl -s -o /dev/null 'http://[$HOST6]:$ORIG6_PORT/'; do sleep 0.05; done"
fi
for p in "$ORIG_PORT" "$ORIG_TLS_PORT" "$PASS_PORT" "$TPX_PORT"; do
	ok "origin on $HOST_IP:$p answers" \
		timeout 10 bash -c "until (exec 3<>/dev/tcp/$HOST_IP/$p) 2>/dev/null; do sleep 0.05; done"
done

TP_PORT=$(fs_free_port)
TP6_PORT=$(fs_free_port)
# The origin's certificate names localhost: the upstream side is not verified here (what is
# tested is the client side: the forged certificate for the name asked for).
six=()
[ "$HAVE6" = 1 ] && six=(--mode "transparent@[::]:$TP6_PORT")
fs_start_flowscope --mode regular --mode "transparent@0.0.0.0:$TP_PORT" "${six[@]}" \
	--ssl-insecure --ignore-hosts "^pass\\.test:" || done_testing
for _ in $(seq 50); do
	[ "$(grep -c 'proxy listening on' "$FS_LOG")" -ge $((2 + HAVE6)) ] && break
	sleep 0.1
done
like "banner: the transparent listener" "$(cat "$FS_LOG")" \
	"listening on http://0.0.0.0:$TP_PORT \\(mode transparent,"

if ! nft -f - <<EOF 2>"$T/nft.err"; then
table ip $TABLE {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "$VH" ip daddr $HOST_IP tcp dport { $ORIG_PORT, $ORIG_TLS_PORT, $PASS_PORT } redirect to :$TP_PORT
	}
}
EOF
	skip "nftables REDIRECT not permitted: $(head -c 200 "$T/nft.err")"
	done_testing
fi
if [ "$HAVE6" = 1 ]; then
	nft -f - <<EOF 2>"$T/nft6.err"
table ip6 $TABLE {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "$VH" ip6 daddr $HOST6 tcp dport $ORIG6_PORT redirect to :$TP6_PORT
	}
}
EOF
	ok "nftables: the IPv6 REDIRECT is set" test $? = 0
fi

in_ns() { ip netns exec "$NS" "$@"; }
ncurl() { in_ns curl -sS --max-time 20 --http1.1 "$@"; }

# --- plain HTTP: recorded under the Host's name, connected to the original address ----------
out=$(ncurl --resolve "plain.test:$ORIG_PORT:$HOST_IP" "http://plain.test:$ORIG_PORT/headers?t=1")
like "http: the origin answers the redirected request" "$out" '^GET /headers\?t=1 HTTP/1.1'
like "http: the origin gets the client's Host" "$out" "Host: plain.test:$ORIG_PORT"
ok "http: recorded under the Host's name" fs_wait_sql \
	"SELECT count(*) FROM flows WHERE host='plain.test' AND port=$ORIG_PORT AND scheme='http'
	 AND path='/headers?t=1' AND status=200 AND state='done'" 1
is "http: the server address is the original destination" \
	"$(fs_sql "SELECT server_addr FROM flows WHERE host='plain.test'")" "$HOST_IP:$ORIG_PORT"
is "http: the flow names the transparent listener" \
	"$(fs_sql "SELECT mode FROM flows WHERE host='plain.test'")" "transparent@0.0.0.0:$TP_PORT"

# two requests on one connection (keep-alive), and a body up and back
got=$(ncurl --resolve "plain.test:$ORIG_PORT:$HOST_IP" "http://plain.test:$ORIG_PORT/status/201" \
	"http://plain.test:$ORIG_PORT/status/202" -o /dev/null -o /dev/null \
	-w '%{http_code}/%{num_connects} ')
is "http: two requests on one kept-alive connection" "$got" "201/1 202/0 "
head -c 20000 /dev/urandom >"$T/body"
ncurl --resolve "plain.test:$ORIG_PORT:$HOST_IP" --data-binary @"$T/body" \
	"http://plain.test:$ORIG_PORT/echo" -o "$T/echoed"
is "http: a POST body goes through and back" "$(fs_sha "$T/echoed")" "$(fs_sha "$T/body")"

# --- IPv6: the original destination from IP6T_SO_ORIGINAL_DST ------------------------------
if [ "$HAVE6" = 1 ]; then
	out=$(ncurl -g "http://[$HOST6]:$ORIG6_PORT/six.txt")
	is "ipv6: the origin answers the redirected request" "$out" "over IPv6"
	ok "ipv6: recorded, the original address as server" fs_wait_sql \
		"SELECT count(*) FROM flows WHERE host='$HOST6' AND port=$ORIG6_PORT AND status=200
		 AND server_addr='[$HOST6]:$ORIG6_PORT'" 1
else
	skip "no IPv6 on the veth pair: $(head -c 200 "$T/v6.err")"
fi

# --- HTTPS: the SNI's name, a forged certificate the client trusts, decrypted ----------------
out=$(ncurl --cacert "$T/ca/ca.pem" --resolve "secure.test:$ORIG_TLS_PORT:$HOST_IP" \
	"https://secure.test:$ORIG_TLS_PORT/headers?t=2")
like "https: decrypted and answered (curl trusts the forged certificate)" "$out" \
	'^GET /headers\?t=2 HTTP/1.1'
ok "https: recorded under the SNI's name" fs_wait_sql \
	"SELECT count(*) FROM flows WHERE host='secure.test' AND port=$ORIG_TLS_PORT
	 AND scheme='https' AND path='/headers?t=2' AND status=200 AND tls_sni='secure.test'" 1
is "https: the server address is the original destination" \
	"$(fs_sql "SELECT server_addr FROM flows WHERE host='secure.test'")" "$HOST_IP:$ORIG_TLS_PORT"
issuer=$(in_ns openssl s_client -connect "$HOST_IP:$ORIG_TLS_PORT" -servername secure.test \
	</dev/null 2>/dev/null | openssl x509 -noout -issuer -subject -ext subjectAltName 2>/dev/null)
like "https: the certificate is forged for the SNI's name" "$issuer" 'DNS:secure.test'

# HTTP/2 inside the decrypted connection: each stream's upstream pinned to the address too
out=$(in_ns curl -sS --max-time 20 --http2 --cacert "$T/ca/ca.pem" \
	--resolve "secure.test:$ORIG_TLS_PORT:$HOST_IP" "https://secure.test:$ORIG_TLS_PORT/status/201" \
	-o /dev/null -w '%{http_version} %{http_code}')
is "https: HTTP/2 with the client, answered" "$out" "2 201"

# --- a host the rules pass through: relayed whole, the origin's own certificate -------------
out=$(ncurl --cacert "$T/ca/ca.pem" --resolve "pass.test:$PASS_PORT:$HOST_IP" \
	"https://pass.test:$PASS_PORT/status/200" -o /dev/null -w '%{http_code}' 2>&1)
like "passed through: the forged CA does not sign the origin's certificate" "$out" \
	'(certificate|SSL)'
out=$(ncurl -k --resolve "pass.test:$PASS_PORT:$HOST_IP" "https://pass.test:$PASS_PORT/status/202" \
	-o /dev/null -w '%{http_code}')
is "passed through: answered by the origin" "$out" 202
ok "passed through: one tunnel flow per connection under the SNI's name" fs_wait_sql \
	"SELECT count(*) >= 2 FROM flows WHERE kind='tunnel' AND host='pass.test' AND port=$PASS_PORT" 1

# --- TPROXY: the connection keeps its destination; no NAT -------------------------------------
if nft -f - <<EOF 2>"$T/nft-tp.err"; then
table ip ${TABLE}_tp {
	chain pre {
		type filter hook prerouting priority mangle; policy accept;
		iifname "$VH" ip daddr $HOST_IP tcp dport $TPX_PORT tproxy to :$TP_PORT
	}
}
EOF
	out=$(ncurl --resolve "tproxy.test:$TPX_PORT:$HOST_IP" "http://tproxy.test:$TPX_PORT/headers?tp=1")
	like "tproxy: the origin answers" "$out" '^GET /headers\?tp=1 HTTP/1.1'
	ok "tproxy: recorded under the Host's name, the original address as server" fs_wait_sql \
		"SELECT count(*) FROM flows WHERE host='tproxy.test' AND port=$TPX_PORT AND status=200
		 AND server_addr='$HOST_IP:$TPX_PORT'" 1
else
	skip "nftables tproxy not available: $(head -c 200 "$T/nft-tp.err")"
fi

# --- a connection straight to the listener: refused, not looped ------------------------------
out=$(ncurl "http://$HOST_IP:$TP_PORT/" 2>&1)
ok "direct connection to the transparent port: refused (no answer)" test -n "$out"
ok "direct connection: the log says it would loop" \
	timeout 10 bash -c "until grep -q 'transparent: refusing .*is flowscope itself' '$FS_LOG'; do sleep 0.1; done"

# --- still serving after all that; the store holds no flow for the refused connection --------
out=$(ncurl --resolve "plain.test:$ORIG_PORT:$HOST_IP" "http://plain.test:$ORIG_PORT/status/203" \
	-o /dev/null -w '%{http_code}')
is "still serving after the refused connection" "$out" 203
is "no flow recorded towards the listener itself" \
	"$(fs_sql "SELECT count(*) FROM flows WHERE port=$TP_PORT")" 0

fs_stop_flowscope
done_testing
