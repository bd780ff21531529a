# needs: infra ddbgate
# timeout: 60
#
# What diag reads from the answers themselves: NXDOMAIN and REFUSED fail
# the dns layer with their own hint; resolvers that disagree are a
# warning; TTLs of records and CNAMEs are reported; whether the asked-for
# (regional) name resolves privately is said; an endpoint without
# upstream routes by its own name.
# Client:   ddbgate diag -c CFG --endpoint NAME (human and --json).
# Config:   resolver.servers per configuration (timeout_ms 500); endpoints
#           (ca_file upstream-ca.pem, allowed_cidrs [127.0.0.0/8]):
#             nx122:   upstream vpce-missing122-1234...:8443   [A]
#             ref122:  upstream vpce-dns122-1234...:8443       [R]
#             sf122:   upstream vpce-dns122-1234...:8443       [S]
#             dis122:  hosts [dynamodb.us-east-1.amazonaws.com],
#                      upstream vpce-dns122-1234...:8443       [A, B]
#             cn122:   upstream vpce-alias122-1234...:8443     [A]
#             priv122: hosts [dynamodb.us-east-1.amazonaws.com], no
#                      upstream (diag dynamodb.us-east-1.amazonaws.com:8443)  [A]
# Upstream: A = dnsmasq 127.0.2.122:5353 (--local-ttl 60): vpce-dns122 ->
#           127.0.0.21 (stunnel -> dynalite); CNAME vpce-alias122 ->
#           vpce-dns122 with TTL 120; dynamodb.us-east-1.amazonaws.com ->
#           127.0.3.122 (private DNS in effect); nothing else (NXDOMAIN).
#           B = dnsmasq 127.0.6.122:5353: vpce-dns122 -> 127.0.3.122.
#           R = dnsmasq 127.0.7.122:5353 answering REFUSED to everything.
#           S = 127.0.4.122:5353, a responder answering SERVFAIL to everything.
#           127.0.3.122:8443: stunnel4 -> dynalite, a 90-day leaf for
#           dynamodb.us-east-1.amazonaws.com from the upstream CA.
# Expect:   nx122: exit 4, dns FAIL "nxdomain", hint "127.0.2.122:5353
#             says vpce-missing122-1234... does not exist (NXDOMAIN)".
#           ref122: exit 4, dns FAIL "refused", hint "answered REFUSED".
#           sf122: exit 4, dns FAIL "servfail", hint "answered SERVFAIL for
#             vpce-dns122-1234...: the resolver could not get an answer itself".
#           dis122: exit 0; dns WARN listing both answers, hint "the
#             resolvers disagree about vpce-dns122..."; agree false; tcp
#             2/2 and http 2/2 PASS; "dynamodb.us-east-1.amazonaws.com
#             (asked for) resolves privately (private DNS in effect)",
#             private_dns true.
#           cn122: dns PASS; the answer has the CNAME
#             vpce-alias122-1234... with TTL 120 and 127.0.0.21 with TTL 60.
#           priv122: exit 0; one name, routing and asked for, resolving to
#             127.0.3.122; tcp to 127.0.3.122:8443; private_dns true.
#           Every --json output validates against docs/diag.schema.json.
. "$IT_DIR/diag_lib.sh"
A=127.0.2.122:5353 B=127.0.6.122:5353 R=127.0.7.122:5353 S=127.0.4.122:5353
H=dynamodb.us-east-1.amazonaws.com
N="vpce-dns122-1234.$VPCE_SUFFIX" ALIAS="vpce-alias122-1234.$VPCE_SUFFIX"

dg_leaf up122 90 "$H" "$H"
dg_front up122 127.0.3.122 "$CASE_TMP/up122.pem" "$CASE_TMP/up122.key"
dnsmasq_start "$A" "$CASE_TMP/dnsmasq-a" --local-ttl=60 --host-record="$N,127.0.0.21" \
	--cname="$ALIAS,$N,120" --host-record="$H,127.0.3.122"
dnsmasq_start "$B" "$CASE_TMP/dnsmasq-b" --local-ttl=60 --host-record="$N,127.0.3.122"
dnsmasq_refusing_start "$R" "$CASE_TMP/dnsmasq-refusing"
dg_rcode_server "$S" 2

dg_endpoint nx122 record.ddbgate.test "vpce-missing122-1234.$VPCE_SUFFIX:$UP_PORT" | dg_conf "$CASE_TMP/nx.yaml" "$A"
dg_endpoint ref122 record.ddbgate.test "$N:$UP_PORT" | dg_conf "$CASE_TMP/ref.yaml" "$R"
dg_endpoint sf122 record.ddbgate.test "$N:$UP_PORT" | dg_conf "$CASE_TMP/sf.yaml" "$S"
dg_endpoint dis122 "$H" "$N:$UP_PORT" | dg_conf "$CASE_TMP/dis.yaml" "$A" "$B"
dg_endpoint cn122 record.ddbgate.test "$ALIAS:$UP_PORT" | dg_conf "$CASE_TMP/cn.yaml" "$A"
cat <<YAML | dg_conf "$CASE_TMP/priv.yaml" "$A"
  - name: priv122
    service: dynamodb
    hosts: [$H]
    ca_file: $PKI/upstream-ca.pem
    allowed_cidrs: [127.0.0.0/8]
YAML

step "NXDOMAIN"
diag_run nx -c "$CASE_TMP/nx.yaml"
expect_exit 4
expect_line "^  FAIL  dns +[0-9]+ ms  vpce-missing122-1234\.$VPCE_SUFFIX: $A nxdomain" \
	"^        hint: 127\.0\.2\.122:5353 says vpce-missing122-1234\.$VPCE_SUFFIX does not exist \(NXDOMAIN\): check the name against the endpoint's DNS names"
diag_json nx -c "$CASE_TMP/nx.yaml"
dq 'ev("nx122", "dns")["names"][0]["answers"][0]["status"] == "nxdomain"' "nxdomain in the evidence"

step "REFUSED"
diag_run ref -c "$CASE_TMP/ref.yaml"
expect_exit 4
expect_line "^  FAIL  dns +[0-9]+ ms  $N: $R refused" \
	"^        hint: 127\.0\.7\.122:5353 answered REFUSED for $N: it does not serve this host or this zone"
diag_json ref -c "$CASE_TMP/ref.yaml"
dq 'ev("ref122", "dns")["names"][0]["answers"][0]["status"] == "refused"' "refused in the evidence"

step "SERVFAIL"
diag_run sf -c "$CASE_TMP/sf.yaml"
expect_exit 4
expect_line "^  FAIL  dns +[0-9]+ ms  $N: $S servfail" \
	"^        hint: 127\.0\.4\.122:5353 answered SERVFAIL for $N: the resolver could not get an answer itself"
diag_json sf -c "$CASE_TMP/sf.yaml"
dq 'ev("sf122", "dns")["names"][0]["answers"][0]["status"] == "servfail"' "servfail in the evidence"

step "two resolvers that disagree; the asked-for name resolves privately"
diag_run dis -c "$CASE_TMP/dis.yaml"
expect_exit 0
expect_line "^  WARN  dns +[0-9]+ ms  $N: $A 127\.0\.0\.21 \(ttl 60\), $B 127\.0\.3\.122 \(ttl 60\); $H \(asked for\) resolves privately \(private DNS in effect\)$" \
	"^        hint: the resolvers disagree about $N" \
	'^  PASS  tcp +[0-9]+ ms  2/2 connected' '^  PASS  http +[0-9]+ ms  2/2 answered 400 MissingAuthenticationTokenException'
diag_json dis -c "$CASE_TMP/dis.yaml"
expect_exit 0
dq 's("dis122", "dns")["status"] == "warn" and ev("dis122", "dns")["private_dns"] is True' "warn; private DNS in effect"
dq '[n["agree"] for n in ev("dis122", "dns")["names"] if n["routing"]] == [False]' "agree: false"
dq '[(n["name"], n["routing"], n["asked"]) for n in ev("dis122", "dns")["names"]] == [("'"$N"'", True, False), ("'"$H"'", False, True)]' \
	"the routing name, then the asked-for name"

step "a CNAME and its TTL"
diag_json cn -c "$CASE_TMP/cn.yaml"
dq 's("cn122", "dns")["status"] == "pass"' "dns passes"
dq 'ev("cn122", "dns")["names"][0]["answers"][0]["cnames"] == [{"name": "'"$ALIAS"'", "ttl": 120}]' "the CNAME with its TTL"
dq '[(a["address"], a["ttl"]) for a in ev("cn122", "dns")["names"][0]["answers"][0]["addresses"]] == [("127.0.0.21", 60)]' "the address with its TTL"

step "an endpoint without upstream routes by its own name"
diag_run priv -c "$CASE_TMP/priv.yaml" "$H:$UP_PORT"
expect_exit 0
expect_line "^  PASS  dns +[0-9]+ ms  $H: $A 127\.0\.3\.122 \(ttl 60\)$" '^  PASS  tcp +[0-9]+ ms  1/1 connected: 127\.0\.3\.122:8443'
diag_json priv -c "$CASE_TMP/priv.yaml" "$H:$UP_PORT"
dq 't("priv122")["port"] == 8443 and len(ev("priv122", "dns")["names"]) == 1' "one name, the port asked for"
dq 'ev("priv122", "dns")["names"][0]["routing"] and ev("priv122", "dns")["names"][0]["asked"] and ev("priv122", "dns")["private_dns"] is True' \
	"routing and asked for; private"
