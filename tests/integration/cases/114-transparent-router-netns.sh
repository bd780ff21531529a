# needs: gateway
# timeout: 60
#
# Transparent mode on a ROUTER (docs/modes.md, "On a router"): the clients
# live in another network namespace and route the endpoint's address through
# the gateway's namespace, where a PREROUTING REDIRECT on the incoming
# interface hands their port-443 connections to the transparent listener.
# The gateway's own upstream connections start locally (OUTPUT), so they are
# never redirected: no owner match is needed, unlike transparent-redirect.
# Topology: client netns ddbgt-c114-PID (`ip netns add`; /run/netns gets a
#           private tmpfs first, in the run's mount namespace, so the
#           machine's own /run/netns never sees it) linked to the run's
#           namespace (the "router") by a veth pair:
#             ddbgt114-gw 10.114.0.1/30 (router)  <->  ddbgt114-cl 10.114.0.2/30
#             (client; also 10.114.1.2/32, outside allow_clients), client
#             default route via 10.114.0.1; router route 10.114.1.2/32 via
#             10.114.0.2.  10.114.9.9/32 is a local address of the router
#             (on a dummy interface ddbgt114-dst, or on lo when the kernel
#             has no dummy driver): the endpoint's "real" address, served by
#             a case-local stunnel4 on 10.114.9.9:443 (leaf up-good) ->
#             dynalite.
# Client:   in the client netns (`ip netns exec`), all to 10.114.9.9:443:
#           curl signed ListTables (--resolve NAME:443:10.114.9.9, --cacert
#           the case's gateway CA), boto3 (connect_boto3.py, no proxy, no
#           endpoint_url, a private /etc/hosts with
#           dynamodb.us-east-1.amazonaws.com -> 10.114.9.9 bound by
#           `unshare --mount` inside `ip netns exec`).
#           (0) no rule yet: curl trusting the upstream CA (direct);
#           iptables half, `iptables -t nat -A PREROUTING -i ddbgt114-gw -p tcp
#             -d 10.114.9.9 --dport 443 -j REDIRECT --to-ports 8114`:
#           (a) curl https://dynamodb.us-east-1.amazonaws.com/; (b) curl
#               https://other.example/ (SNI of no endpoint); (c) curl (a) from
#               source 10.114.1.2; rule removed, then (d) = (0) again;
#           nftables half, table inet ddbgate114, chain prerouting (nat hook
#             prerouting priority dstnat): iifname "ddbgt114-gw" ip daddr
#             10.114.9.9 tcp dport 443 counter redirect to :8114:
#           (e) boto3 create_table / waiter / put_item / get_item; (f) curl
#               https://record.ddbgate.test/; (g) = (b); table removed, then
#               (h) = (0) again.
# Config:   case-local ddbgate, workers: 1:
#             listeners: [{address: 10.114.0.1:8114, mode: transparent,
#                          allow_clients: [10.114.0.0/30]}]
#               (REDIRECT in PREROUTING rewrites the destination to the
#               incoming interface's address: 10.114.0.1, not 127.0.0.1)
#             tls: {ca_cert, ca_key}: `ddbgate ca init` of this configuration
#             endpoints: [{name: ddb, hosts: [dynamodb.us-east-1.amazonaws.com],
#                          (no upstream: the original destination),
#                          allowed_cidrs: [10.114.9.9/32]},
#                         {name: rec, hosts: [record.ddbgate.test],
#                          upstream: vpce-record-1234...:8443}]
# Upstream: the stunnel4 on 10.114.9.9:443 -> dynalite; recorder "record".
# Expect:   (0), (d), (h) 200 from dynalite with the upstream's own certificate,
#               the stunnel accepted one connection from 10.114.0.2, the
#               gateway wrote no access-log line (the rule is what redirects).
#           (a) 200, dynalite's ListTables over the gateway's minted
#               certificate; access log client=10.114.0.2:* endpoint=ddb
#               host=dynamodb.us-east-1.amazonaws.com upstream=10.114.9.9:443
#               (the original destination); audit upstreamAddress
#               10.114.9.9:443; the stunnel accepted exactly one connection,
#               from 10.114.9.9 (the gateway), none from 10.114.0.2; the
#               iptables rule counted packets.
#           (b), (g) curl exit 35 (closed without a byte); exactly one
#               "transparent connection to 10.114.9.9:443 refused: SNI
#               other.example is not a host of any endpoint" each; no access-log
#               line, no stunnel connection.
#           (c) curl exit 35; "listener 10.114.0.1:8114: refused client
#               10.114.1.2:PORT: not in allow_clients"; no access-log line.
#           (e) every boto3 step succeeds (the item read back); every access-log
#               line of the walk has client=10.114.0.2 and upstream=10.114.9.9:443.
#           (f) 200 from recorder "record": endpoint=rec upstream=127.0.0.22:8443
#               (the configured upstream wins over the original destination).
#           The nftables rule counted packets.  No item data in any log.
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
# Cleanup:  (at_case_end, whatever happens) the iptables rule (and the empty
#           ip nat PREROUTING chain iptables-nft made for it, when it was not
#           there before), the nftables table, the veth pair, the netns, the
#           dummy interface or lo address, the /run/netns tmpfs.
[ "${IN_NETNS:-0}" = 1 ] || skip "needs the run's private network namespace (a netns, veth, firewall rules)"
for tool in ip iptables nft; do
	command -v $tool >/dev/null || skip "needs ip, iptables and nft (Debian: iproute2, iptables, nftables)"
done
iptables -t nat -S >/dev/null 2>&1 || skip "iptables -t nat does not work here: $(iptables -t nat -S 2>&1 | head -n 1)"

NS="ddbgt-c114-$$"
GIF=ddbgt114-gw CIF=ddbgt114-cl DIF=ddbgt114-dst
GWA=10.114.0.1 CLA=10.114.0.2 OUTSIDE=10.114.1.2
DST=10.114.9.9 LPORT=8114
H=dynamodb.us-east-1.amazonaws.com
P=DynamoDB_20120810
IPT_RULE=(PREROUTING -i "$GIF" -p tcp -d "$DST" --dport 443 -j REDIRECT --to-ports "$LPORT")

# --- cleanup (registered before anything is created) ------------------------
RUN_NETNS_MADE=0 RUN_NETNS_MOUNTED=0 DST_ON=""
NAT_PRE_EXISTED=1
nft list chain ip nat PREROUTING >/dev/null 2>&1 || NAT_PRE_EXISTED=0
net_cleanup() {
	iptables -t nat -C "${IPT_RULE[@]}" 2>/dev/null && iptables -t nat -D "${IPT_RULE[@]}"
	# iptables-nft made table ip nat / chain PREROUTING for the rule: remove
	# them when they were not there before and are empty now
	# (nft -a: the chain line and each rule carry "# handle N")
	if [ "$NAT_PRE_EXISTED" = 0 ] && [ "$(nft -a list chain ip nat PREROUTING 2>/dev/null | grep -c '# handle')" = 1 ]; then
		nft delete chain ip nat PREROUTING
		nft list table ip nat 2>/dev/null | grep -qw chain || nft delete table ip nat 2>/dev/null
	fi
	nft list table inet ddbgate114 >/dev/null 2>&1 && nft delete table inet ddbgate114
	ip link show $GIF >/dev/null 2>&1 && ip link del $GIF
	[ -e "/run/netns/$NS" ] && ip netns del "$NS"
	case $DST_ON in
	dummy) ip link del $DIF ;;
	lo) ip addr del $DST/32 dev lo ;;
	esac
	[ "$RUN_NETNS_MOUNTED" = 1 ] && { umount /run/netns || umount -l /run/netns; }
	[ "$RUN_NETNS_MADE" = 1 ] && rmdir /run/netns
	return 0
}
at_case_end net_cleanup

# --- the client namespace and the link --------------------------------------
step "topology: netns $NS ($CLA/30, $OUTSIDE/32) --veth-- router ($GWA/30), endpoint address $DST on the router"
if [ ! -d /run/netns ]; then
	mkdir -p /run/netns 2>/dev/null || skip "cannot create /run/netns (ip netns needs it)"
	RUN_NETNS_MADE=1
fi
# A tmpfs private to the run's mount namespace: the netns file never appears
# in the machine's own /run/netns.
mount -t tmpfs -o size=64k,mode=0755 ddbgt114 /run/netns 2>"$CASE_TMP/mount.err" ||
	skip "cannot mount a private tmpfs on /run/netns: $(cat "$CASE_TMP/mount.err")"
RUN_NETNS_MOUNTED=1
ip netns add "$NS" 2>"$CASE_TMP/netns.err" || skip "ip netns add $NS failed: $(cat "$CASE_TMP/netns.err")"
in_client() { ip netns exec "$NS" "$@"; }

ip link add $GIF type veth peer name $CIF || fail "ip link add veth"
ip link set $CIF netns "$NS" || fail "moving $CIF into $NS"
ip addr add $GWA/30 dev $GIF || fail "address $GWA/30"
ip link set $GIF up || fail "link $GIF up"
ip route add $OUTSIDE/32 via $CLA dev $GIF || fail "route to $OUTSIDE"
in_client ip link set lo up || fail "client lo up"
in_client ip addr add $CLA/30 dev $CIF || fail "client address $CLA/30"
in_client ip addr add $OUTSIDE/32 dev $CIF || fail "client address $OUTSIDE/32"
in_client ip link set $CIF up || fail "client link up"
in_client ip route add default via $GWA || fail "client default route"
if ip link add $DIF type dummy 2>/dev/null; then
	DST_ON=dummy
	{ ip addr add $DST/32 dev $DIF && ip link set $DIF up; } || fail "address $DST on $DIF"
else
	echo "no dummy driver in this kernel: $DST goes on lo"
	DST_ON=lo
	ip addr add $DST/32 dev lo || fail "address $DST on lo"
fi
in_client ip -br addr | sed 's/^/  client: /'
in_client ip route | sed 's/^/  client route: /'
ip -br addr show $GIF | sed 's/^/  router: /'

# --- the "real" endpoint and the gateway ------------------------------------
cat >"$CASE_TMP/stunnel.conf" <<EOC
foreground = yes
pid =
syslog = no
debug = 5
[front114]
accept = $DST:443
connect = $DYNALITE_IP:$DYNALITE_PORT
cert = $PKI/up-good.pem
key = $PKI/up-good.key
EOC
start_bg "$CASE_TMP/stunnel" stunnel4 "$CASE_TMP/stunnel.conf"
wait_port $DST 443 "$BG_PID" || fail "stunnel did not listen on $DST:443: $(tail -n 3 "$CASE_TMP/stunnel.err")"
STL="$CASE_TMP/stunnel.err"
FAIL_SHOW+=("$STL")
# st_from MARK ADDR — connections the stunnel accepted from ADDR after log line MARK.
st_from() { log_since "$STL" "$1" | grep -c "Service \\[front114\\] accepted connection from ${2//./\\.}:"; }
st_all() { log_since "$STL" "$1" | grep -c 'Service \[front114\] accepted connection'; }
# wait_port's probe above was one connection from $DST: count from here.
sleep 0.2

cfg="$CASE_TMP/ddbgate.yaml"
{
	cgw_head
	cat <<YAML
workers: 1
listeners:
  - address: $GWA:$LPORT
    mode: transparent
    allow_clients: [10.114.0.0/30]
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
cgw_start $GWA "$cfg" $LPORT

# client_curl NAME CA [CURL-ARGS...] — in the client netns: signed ListTables
# to https://NAME/ with NAME resolved to $DST, trusting CA.  Sets RESP_STATUS
# and CURL_RC; $CASE_TMP/resp.{headers,body}, curl.err.
client_curl() {
	local name=$1 ca=$2
	shift 2
	: >"$CASE_TMP/resp.headers"
	: >"$CASE_TMP/resp.body"
	RESP_STATUS=$(in_client curl -sS --max-time 10 --resolve "$name:443:$DST" --cacert "$ca" \
		--aws-sigv4 "aws:amz:us-east-1:dynamodb" --user "$AKID:$SECRET" \
		-H "X-Amz-Target: $P.ListTables" -H "Content-Type: application/x-amz-json-1.0" --data-binary '{}' \
		-D "$CASE_TMP/resp.headers" -o "$CASE_TMP/resp.body" -w '%{http_code}' "$@" "https://$name/" 2>"$CASE_TMP/curl.err")
	CURL_RC=$?
	echo "client curl https://$name/ ($DST) -> exit $CURL_RC, $RESP_STATUS $(head -c 300 "$CASE_TMP/resp.body") $(cat "$CASE_TMP/curl.err")"
}

# direct_check WHAT — no redirect in place: the client reaches the stunnel on
# $DST:443 itself (its up-good certificate, verified with the upstream CA),
# and the gateway logs nothing.
direct_check() {
	local sm am
	sm=$(log_mark "$STL")
	am=$(log_mark "$LGW_OUT")
	client_curl $H "$PKI/upstream-ca.pem"
	expect_status 200
	expect_json "isinstance(d['TableNames'], list)" "not dynalite's ListTables answer ($1)"
	sleep 0.2
	[ "$(st_from "$sm" $CLA)" = 1 ] || fail "$1: the stunnel on $DST:443 accepted $(st_from "$sm" $CLA) connections from $CLA, expected 1"
	[ "$(log_since "$LGW_OUT" "$am" | wc -l)" = 0 ] || fail "$1: the gateway logged a request though no rule redirects: $(log_since "$LGW_OUT" "$am")"
	echo "$1: the client reached $DST:443 directly (stunnel), the gateway saw nothing"
}

# refused_sni_check — curl with SNI other.example to $DST: closed without a
# byte, exactly one log line naming the original destination, nothing
# forwarded, nothing in the access log.
refused_sni_check() {
	local sm am em n
	sm=$(log_mark "$STL")
	am=$(log_mark "$LGW_OUT")
	em=$(log_mark "$LGW_ERR")
	client_curl other.example "$CGW_CA"
	[ "$CURL_RC" = 35 ] || fail "curl with SNI other.example: expected exit 35 (closed during the handshake), got $CURL_RC: $(cat "$CASE_TMP/curl.err")"
	for _ in $(seq 1 30); do
		n=$(log_since "$LGW_ERR" "$em" | grep -c 'transparent connection to 10\.114\.9\.9:443 refused: SNI other\.example is not a host of any endpoint$')
		[ "$n" = 1 ] && break
		sleep 0.1
	done
	log_since "$LGW_ERR" "$em" | grep 'transparent connection' | sed 's/^/  log: /'
	[ "$n" = 1 ] || fail "$n 'transparent connection to 10.114.9.9:443 refused: SNI other.example is not a host of any endpoint' lines, expected 1"
	sleep 0.2
	[ "$(st_all "$sm")" = 0 ] || fail "the stunnel accepted $(st_all "$sm") connection(s) for a refused SNI"
	[ "$(log_since "$LGW_OUT" "$am" | wc -l)" = 0 ] || fail "access-log line(s) for a refused SNI: $(log_since "$LGW_OUT" "$am")"
}

step "(0) no rule yet: the client reaches $DST:443 itself"
direct_check "(0)"

# --- iptables half -----------------------------------------------------------
step "iptables: ${IPT_RULE[*]}"
iptables -t nat -A "${IPT_RULE[@]}" || fail "iptables -t nat -A ${IPT_RULE[*]}"
iptables -t nat -S PREROUTING | sed 's/^/  /'

step "(a) curl to $H ($DST): redirected on $GIF, served, sent on to the original destination"
sm=$(log_mark "$STL")
mark=$(log_mark "$LGW_OUT")
amark=$(cgw_audit_mark)
client_curl $H "$CGW_CA"
expect_status 200
expect_json "isinstance(d['TableNames'], list)" "not dynalite's ListTables answer"
lgw_alog_expect "$mark" "client=10\\.114\\.0\\.2:[0-9]+ " "endpoint=ddb host=$H " "target=$P\\.ListTables " 'status=200 ' "upstream=10\\.114\\.9\\.9:443 "
cgw_audit_expect "$amark" "d.get('eventName') == 'ListTables'" "no audit line for ListTables"
cgw_audit_check "d['upstreamAddress'] == '$DST:443' and d['endpoint'] == 'ddb' and d['decision'] == 'allow' and d['sourceIPAddress'].startswith('$CLA')" "the ListTables audit line"
sleep 0.2
log_since "$STL" "$sm" | grep 'accepted connection' | sed 's/^/  stunnel: /'
[ "$(st_all "$sm")" = 1 ] || fail "the stunnel on $DST:443 accepted $(st_all "$sm") connections, expected 1 (the gateway's)"
[ "$(st_from "$sm" $DST)" = 1 ] || fail "the stunnel's connection did not come from the gateway ($DST)"
pk=$(iptables -t nat -L PREROUTING -n -v -x | awk -v p="$LPORT" '/REDIRECT/ && $0 ~ ("redir ports " p) { print $1; exit }')
echo "iptables REDIRECT rule: ${pk:-?} packets"
[ "${pk:-0}" -ge 1 ] || fail "the iptables PREROUTING rule counted no packet"

step "(b) SNI other.example to $DST (iptables): closed unanswered"
refused_sni_check

step "(c) the client from $OUTSIDE (not in allow_clients): closed at accept"
am=$(log_mark "$LGW_OUT")
em=$(log_mark "$LGW_ERR")
client_curl $H "$CGW_CA" --interface $OUTSIDE
[ "$CURL_RC" = 35 ] || fail "curl from $OUTSIDE: expected exit 35, got $CURL_RC: $(cat "$CASE_TMP/curl.err")"
wait_log "$LGW_ERR" "$em" "listener $GWA:$LPORT: refused client 10\\.114\\.1\\.2:[0-9]+: not in allow_clients\$" 30 | sed 's/^/  log: /'
[ "${PIPESTATUS[0]}" = 0 ] || fail "no 'listener $GWA:$LPORT: refused client $OUTSIDE:PORT: not in allow_clients' line"
sleep 0.2
[ "$(log_since "$LGW_OUT" "$am" | wc -l)" = 0 ] || fail "access-log line(s) for a refused client: $(log_since "$LGW_OUT" "$am")"

step "iptables rule removed"
iptables -t nat -D "${IPT_RULE[@]}" || fail "iptables -t nat -D ${IPT_RULE[*]}"
iptables -t nat -C "${IPT_RULE[@]}" 2>/dev/null && fail "the iptables rule is still there"

step "(d) without the rule the client reaches $DST:443 itself again"
direct_check "(d)"

# --- nftables half -----------------------------------------------------------
step "nftables: table inet ddbgate114 (prerouting, iifname $GIF)"
nft -f - <<NFT || fail "nft rules"
table inet ddbgate114 {
  chain prerouting {
    type nat hook prerouting priority dstnat;
    iifname "$GIF" ip daddr $DST tcp dport 443 counter redirect to :$LPORT
  }
}
NFT
nft list table inet ddbgate114 | sed 's/^/  /'

step "(e) boto3 in the client netns, no proxy, no endpoint_url: the whole walk"
printf '127.0.0.1 localhost\n%s %s\n' $DST $H >"$CASE_TMP/hosts"
TB="Tr$(unique)"
mark=$(log_mark "$LGW_OUT")
# shellcheck disable=SC2016 # expanded by the inner sh
in_client unshare --mount sh -c 'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"' \
	with_hosts "$CASE_TMP/hosts" "$CLIENT_RESOLV" timeout 40 /usr/bin/python3 "$IT_DIR/connect_boto3.py" --ca "$CGW_CA" \
	--table "$TB" --value "SECRET-ITEM-VALUE-router-$(unique)" || fail "boto3 in the client netns through the router: see above"
for t in CreateTable DescribeTable PutItem GetItem; do
	lgw_alog_expect "$mark" "client=10\\.114\\.0\\.2:[0-9]+ " "endpoint=ddb " "target=$P\\.$t " 'status=200 ' "upstream=10\\.114\\.9\\.9:443 "
done
n_all=$(log_since "$LGW_OUT" "$mark" | wc -l)
n_ok=$(lgw_alog_count "$mark" 'client=10\.114\.0\.2:[0-9]+ ' 'upstream=10\.114\.9\.9:443 ')
[ "$n_ok" = "$n_all" ] || fail "$n_ok of $n_all boto3 access-log lines have client $CLA and upstream $DST:443"
direct_ddb $P.DeleteTable "{\"TableName\":\"$TB\"}"

step "(f) record.ddbgate.test ($DST): the endpoint's configured upstream wins"
mark=$(log_mark "$LGW_OUT")
client_curl record.ddbgate.test "$CGW_CA"
expect_from record
lgw_alog_expect "$mark" "client=10\\.114\\.0\\.2:[0-9]+ " 'endpoint=rec ' "upstream=127\\.0\\.0\\.22:$UP_PORT "

step "(g) SNI other.example to $DST (nftables): closed unanswered"
refused_sni_check

np=$(nft list table inet ddbgate114 | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p' | head -n 1)
echo "nftables redirect rule: ${np:-?} packets"
[ "${np:-0}" -ge 1 ] || fail "the nftables prerouting rule counted no packet"

step "nftables table removed"
nft delete table inet ddbgate114 || fail "nft delete table inet ddbgate114"

step "(h) without the table the client reaches $DST:443 itself again"
direct_check "(h)"

cgw_expect_no_item_data

step "the case-local gateway stops cleanly"
lgw_stop
