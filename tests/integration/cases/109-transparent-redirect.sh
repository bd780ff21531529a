# needs: gateway
# timeout: 90
#
# Transparent mode: a firewall REDIRECT sends a client's port-443 traffic
# for the endpoint's address to the gateway, which reads the original
# destination (SO_ORIGINAL_DST) and the SNI (peeked from the ClientHello)
# and serves the connection like an sni one; without SNI, or with a name of
# no endpoint, the connection is closed unanswered and logged.
# Client:   curl, openssl s_client and boto3 (connect_boto3.py, no proxy,
#           verify = the gateway CA, a private /etc/hosts with
#           dynamodb.us-east-1.amazonaws.com -> 127.0.4.109), each run as
#           "the client": `setpriv --regid 4109 --clear-groups` (uid 0, gid
#           4109): the rules match that gid only, so the gateway's own
#           upstream connections (gid 0) are never redirected.
#           (a) curl signed ListTables https://dynamodb.us-east-1.amazonaws.com/
#               (resolved to 127.0.4.109); (b) boto3 create_table / waiter /
#               put_item / get_item; (c) curl https://record.ddbgate.test/ (->
#               127.0.4.109); (d) SNI other.ddbgate.test (no endpoint's host):
#               curl -k and s_client; (e) no SNI: s_client -noservername, curl
#               https://127.0.4.109/; (f) first of all, and (g) last: SNI
#               dynamodb.us-east-1.amazonaws.com to 127.0.4.110 (redirected by
#               an nftables rule).
# Config:   case-local ddbgate, workers: 1 (idle upstream connections are
#           pooled per worker: one worker makes the pool state certain):
#             listeners: [{address: 127.0.0.1:8109, mode: transparent}]
#               (a REDIRECT in the OUTPUT chain maps the destination to 127.0.0.1)
#             tls: {ca_cert, ca_key}: `ddbgate ca init` of this configuration
#             endpoints: [{name: ddb, hosts: [dynamodb.us-east-1.amazonaws.com],
#                          (no upstream: the original destination),
#                          allowed_cidrs: [127.0.4.109/32]},
#                         {name: rec, hosts: [record.ddbgate.test],
#                          upstream: vpce-record-1234...:8443}]
#           iptables -t nat: chain DDBGATE109 from OUTPUT: -m owner --gid-owner 4109
#             -p tcp -d 127.0.4.109 --dport 443 -j REDIRECT --to-ports 8109
#           nft: table ip ddbgate109, chain output (nat hook output, priority -100):
#             meta skgid 4109 ip daddr 127.0.4.110 tcp dport 443 redirect to :8109
#           (both removed when the case ends)
# Upstream: a case-local stunnel4 on 127.0.4.109:443 (leaf up-good) -> dynalite:
#           the "real" endpoint the client was going to; recorder "record".
# Expect:   (a) 200 with dynalite's answer over the gateway's minted certificate;
#               access log endpoint=ddb upstream=127.0.4.109:443 (the original
#               destination), audit upstreamAddress 127.0.4.109:443; the stunnel
#               front accepted exactly one connection (the gateway's).
#           (b) every boto3 step succeeds (the item read back); all its
#               requests went to upstream=127.0.4.109:443.
#           (c) 200 from the recorder (the endpoint's upstream wins over the
#               original destination).
#           (d) curl exit 35, s_client read 0 bytes (closed without a byte);
#               log "transparent connection to 127.0.4.109:443 refused: SNI
#               other.ddbgate.test is not a host of any endpoint" (twice);
#           (e) the same with "...: the ClientHello names no server (SNI)" (twice);
#               the stunnel front accepted no connection during (d), (e).
#           (f) 502 ddbgate#DestinationIpProhibited naming 127.0.4.110 and
#               allowed_cidrs [127.0.4.109/32] (the original destination is
#               guarded).  No item data in any log.
#           (g) the same 502, though the worker now holds an idle upstream
#               connection for endpoint ddb to 127.0.4.109:443: a request the
#               client sent to 127.0.4.110 must not go to another address.
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
[ "${IN_NETNS:-0}" = 1 ] || skip "needs the run's private network namespace (firewall rules)"
command -v iptables >/dev/null && command -v nft >/dev/null && command -v setpriv >/dev/null ||
	skip "needs iptables, nft and setpriv (Debian: iptables, nftables, util-linux)"
iptables -t nat -S >/dev/null 2>&1 || skip "iptables -t nat does not work here: $(iptables -t nat -S 2>&1 | head -n 1)"

LIP=127.0.0.1 LPORT=8109
DST=127.0.4.109 DST2=127.0.4.110
H=dynamodb.us-east-1.amazonaws.com
P=DynamoDB_20120810
as_client() { setpriv --regid 4109 --clear-groups -- "$@"; }

cat >"$CASE_TMP/stunnel.conf" <<EOC
foreground = yes
pid =
syslog = no
debug = 5
[front109]
accept = $DST:443
connect = $DYNALITE_IP:$DYNALITE_PORT
cert = $PKI/up-good.pem
key = $PKI/up-good.key
EOC
start_bg "$CASE_TMP/stunnel" stunnel4 "$CASE_TMP/stunnel.conf"
wait_port $DST 443 "$BG_PID" || fail "stunnel did not listen on $DST:443: $(tail -n 3 "$CASE_TMP/stunnel.err")"
STL="$CASE_TMP/stunnel.err"
FAIL_SHOW+=("$STL")
st_conns() { grep -c 'Service \[front109\] accepted connection' "$STL"; }

cfg="$CASE_TMP/ddbgate.yaml"
{
	cgw_head
	cat <<YAML
workers: 1
listeners:
  - address: $LIP:$LPORT
    mode: transparent
endpoints:
  - name: ddb
    service: dynamodb
    hosts: [$H]
    ca_file: $PKI/upstream-ca.pem
    allowed_cidrs: [$DST/32]
YAML
	lgw_endpoint rec record.ddbgate.test "vpce-record-1234.$VPCE_SUFFIX:$UP_PORT"
} >"$cfg"
cgw_ca "$cfg"
cgw_start $LIP "$cfg" $LPORT

step "firewall: iptables REDIRECT for $DST:443, nftables redirect for $DST2:443 (gid 4109 only)"
at_case_end iptables -t nat -F DDBGATE109
at_case_end iptables -t nat -D OUTPUT -p tcp -j DDBGATE109
at_case_end iptables -t nat -X DDBGATE109
at_case_end nft delete table ip ddbgate109
iptables -t nat -N DDBGATE109 || fail "iptables -t nat -N failed"
iptables -t nat -A DDBGATE109 -m owner --gid-owner 4109 -p tcp -d $DST --dport 443 -j REDIRECT --to-ports $LPORT || fail "iptables rule"
iptables -t nat -A OUTPUT -p tcp -j DDBGATE109 || fail "iptables jump"
nft -f - <<NFT || fail "nft rules"
table ip ddbgate109 {
  chain output {
    type nat hook output priority -100;
    meta skgid 4109 ip daddr $DST2 tcp dport 443 redirect to :$LPORT
  }
}
NFT
iptables -t nat -S DDBGATE109 | sed 's/^/  /'
nft list table ip ddbgate109 | sed 's/^/  /'

# client_curl NAME ADDR [CURL-ARGS...] — as the client: signed ListTables to
# https://NAME/ with NAME resolved to ADDR, trusting the gateway CA.
client_curl() {
	local name=$1 addr=$2
	shift 2
	: >"$CASE_TMP/resp.headers"
	: >"$CASE_TMP/resp.body"
	RESP_STATUS=$(as_client curl -sS --max-time 10 --resolve "$name:443:$addr" --cacert "$CGW_CA" \
		--aws-sigv4 "aws:amz:us-east-1:dynamodb" --user "$AKID:$SECRET" \
		-H "X-Amz-Target: $P.ListTables" -H "Content-Type: application/x-amz-json-1.0" --data-binary '{}' \
		-D "$CASE_TMP/resp.headers" -o "$CASE_TMP/resp.body" -w '%{http_code}' "$@" "https://$name/" 2>"$CASE_TMP/curl.err")
	echo "client curl https://$name/ ($addr) -> $RESP_STATUS $(head -c 300 "$CASE_TMP/resp.body") $(cat "$CASE_TMP/curl.err")"
}

step "(f) nftables redirect of $DST2:443 (first request of the gateway): the original destination is guarded"
client_curl $H $DST2
expect_proxy_error 502 DestinationIpProhibited destination_ip_prohibited '127\.0\.4\.110' 'allowed_cidrs \[127\.0\.4\.109/32\]'

step "(a) curl to $H ($DST): redirected, intercepted, sent on to the original destination"
s0=$(st_conns)
mark=$(log_mark "$LGW_OUT")
amark=$(cgw_audit_mark)
client_curl $H $DST
expect_status 200
expect_json "isinstance(d['TableNames'], list)" "not dynalite's ListTables answer"
lgw_alog_expect "$mark" "target=$P\\.ListTables " 'status=200 ' "endpoint=ddb host=$H " "upstream=127\\.0\\.4\\.109:443 "
cgw_audit_expect "$amark" "d.get('eventName') == 'ListTables'" "no audit line for ListTables"
cgw_audit_check "d['upstreamAddress'] == '$DST:443' and d['endpoint'] == 'ddb' and d['decision'] == 'allow'" "the ListTables audit line"
sleep 0.2
[ $(($(st_conns) - s0)) = 1 ] || fail "the stunnel front on $DST:443 accepted $(($(st_conns) - s0)) connections, expected 1 (the gateway's)"

step "(b) boto3, no proxy, no endpoint_url: the whole walk through the redirect"
printf '127.0.0.1 localhost\n%s %s\n' $DST $H >"$CASE_TMP/hosts"
TB="Tp$(unique)"
mark=$(log_mark "$LGW_OUT")
as_client unshare --mount sh -c 'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"' \
	with_hosts "$CASE_TMP/hosts" "$CLIENT_RESOLV" /usr/bin/python3 "$IT_DIR/connect_boto3.py" --ca "$CGW_CA" \
	--table "$TB" --value "SECRET-ITEM-VALUE-transparent-$(unique)" || fail "boto3 through the transparent gateway: see above"
for t in CreateTable DescribeTable PutItem GetItem; do
	lgw_alog_expect "$mark" "target=$P\\.$t " 'status=200 ' "upstream=127\\.0\\.4\\.109:443 "
done
[ "$(lgw_alog_count "$mark" 'upstream=127\.0\.4\.109:443 ')" = "$(log_since "$LGW_OUT" "$mark" | wc -l)" ] ||
	fail "not every boto3 request went to the original destination"
direct_ddb $P.DeleteTable "{\"TableName\":\"$TB\"}"

step "(c) record.ddbgate.test ($DST): the endpoint's upstream wins"
mark=$(log_mark "$LGW_OUT")
client_curl record.ddbgate.test $DST
expect_from record
lgw_alog_expect "$mark" 'endpoint=rec ' "upstream=127\\.0\\.0\\.22:$UP_PORT "

step "(d) SNI of no endpoint: closed unanswered"
s0=$(st_conns)
emark=$(log_mark "$LGW_ERR")
client_curl other.ddbgate.test $DST -k
grep -q '^curl: (35) ' "$CASE_TMP/curl.err" || fail "curl with SNI other.ddbgate.test: expected exit 35 (TLS connect error), got: $(cat "$CASE_TMP/curl.err")"
as_client timeout 10 openssl s_client -connect $DST:443 -servername other.ddbgate.test </dev/null >"$CASE_TMP/sc.out" 2>&1
grep -E 'SSL handshake has read|no peer certificate' "$CASE_TMP/sc.out" | sed 's/^/  s_client: /'
grep -q 'SSL handshake has read 0 bytes' "$CASE_TMP/sc.out" || fail "the gateway sent bytes to a ClientHello with SNI other.ddbgate.test"
for _ in $(seq 1 30); do
	n=$(log_since "$LGW_ERR" "$emark" | grep -c "transparent connection to 127\\.0\\.4\\.109:443 refused: SNI other\\.ddbgate\\.test is not a host of any endpoint\$")
	[ "$n" = 2 ] && break
	sleep 0.1
done
log_since "$LGW_ERR" "$emark" | grep 'transparent connection' | sed 's/^/  log: /'
[ "$n" = 2 ] || fail "$n 'transparent connection to 127.0.4.109:443 refused: SNI other.ddbgate.test is not a host of any endpoint' lines, expected 2"

step "(e) no SNI: closed unanswered"
emark=$(log_mark "$LGW_ERR")
as_client timeout 10 openssl s_client -connect $DST:443 -noservername </dev/null >"$CASE_TMP/sc.out" 2>&1
grep -q 'SSL handshake has read 0 bytes' "$CASE_TMP/sc.out" || fail "the gateway sent bytes to a ClientHello without SNI"
as_client curl -sS --max-time 10 -k -o /dev/null "https://$DST/" 2>"$CASE_TMP/curl.err"
grep -q '^curl: (35) ' "$CASE_TMP/curl.err" || fail "curl https://$DST/ (no SNI): expected exit 35, got: $(cat "$CASE_TMP/curl.err")"
for _ in $(seq 1 30); do
	n=$(log_since "$LGW_ERR" "$emark" | grep -c 'transparent connection to 127\.0\.4\.109:443 refused: the ClientHello names no server (SNI)$')
	[ "$n" = 2 ] && break
	sleep 0.1
done
log_since "$LGW_ERR" "$emark" | grep 'transparent connection' | sed 's/^/  log: /'
[ "$n" = 2 ] || fail "$n 'transparent connection to 127.0.4.109:443 refused: the ClientHello names no server (SNI)' lines, expected 2"
sleep 0.2
[ "$(st_conns)" = "$s0" ] || fail "the stunnel front accepted $(($(st_conns) - s0)) connection(s) for refused clients"

cgw_expect_no_item_data

step "(g) $DST2 again, now that a pooled upstream connection to $DST:443 exists"
mark=$(log_mark "$LGW_OUT")
client_curl $H $DST2
expect_proxy_error 502 DestinationIpProhibited destination_ip_prohibited '127\.0\.4\.110' 'allowed_cidrs \[127\.0\.4\.109/32\]'

step "the case-local gateway stops cleanly"
lgw_stop
