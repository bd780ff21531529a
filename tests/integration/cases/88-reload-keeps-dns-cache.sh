# needs: gateway
# timeout: 60
#
# SIGHUP reload: a new configuration goes live (also for a kept-alive client
# connection, at its next request) while cached DNS answers are kept; the
# cache is flushed when the resolvers change, and a name no endpoint uses
# any more is dropped; a broken file or a listener change is refused and the
# running configuration keeps serving.
# Client:   curl signed ListTables / DeleteTable to https://record.ddbgate.test/
#           via the case-local gateway 127.0.1.88; rawclient.py: two signed
#           DeleteTable on one connection, 2 s apart, a reload in between.
# Config:   case-local ddbgate, generation 1:
#             resolver: {servers: ["127.0.2.88:5353"], timeout_ms: 500}
#             endpoints: [{name: reload88, hosts: [record.ddbgate.test],
#               upstream: vpce-reload88-1234.dynamodb.us-east-1.vpce.amazonaws.com:8443}]
#             limits: {upstream_pool_size: 0}
#           gen 2: + policy (Allow dynamodb:*, Deny dynamodb:DeleteTable: Sid
#           NoDeleteTable), enforcement: enforce.  Refused: a YAML syntax error;
#           listener 127.0.5.88.  gen 3: + servers ["127.0.2.88:5353",
#           "127.0.0.1:5353"].  gen 4: upstream vpce-reload88b-1234...:8443.
#           gen 5: upstream vpce-reload88-1234...:8443 again, no policy.
#           gen 6: the policy again.
# Upstream: case-local dnsmasq 127.0.2.88:5353: vpce-reload88-1234... -> 127.0.0.22
#           (recorder "record"), vpce-reload88b-1234... -> 127.0.3.88 (case-local
#           recorder "c88"), TTL 300.
# Expect:   gen 1: 200 from "record", 1 query[A] for vpce-reload88.  gen 2:
#           "reloaded: serving generation 2 from FILE" (no "DNS cache
#           flushed"); ListTables 200 with no new query; DeleteTable 400
#           AccessDeniedException, not forwarded.  Syntax
#           error: "reload failed, still serving generation 2: FILE:L:C: ...";
#           a listener on 192.0.2.88 (no such local address): "reload refused,
#           still serving generation 2: listeners[0] 192.0.2.88:443: ..."; after each, ListTables 200 and DeleteTable 400, no query.
#           gen 3: "reloaded: serving generation 3 ...; resolvers changed, DNS
#           cache flushed", then exactly one new query.  gen 4: 200 from "c88"
#           (1 query for vpce-reload88b).  gen 5: 200 from "record" and a new
#           query for vpce-reload88 (dropped while unused).  Kept-alive
#           connection: DeleteTable #1 under gen 5: 200 (forwarded); reload to
#           gen 6; DeleteTable #2 on the same connection 2 s later: 400
#           AccessDeniedException (not forwarded).
#           Last: the case-local gateway exits 0 within 10 s of SIGTERM.
NAME="vpce-reload88-1234.$VPCE_SUFFIX"
NAME2="vpce-reload88b-1234.$VPCE_SUFFIX"
DNS88=127.0.2.88:5353
rec_start c88 127.0.3.88
dnsmasq_start "$DNS88" "$CASE_TMP/dnsmasq" --host-record="$NAME,127.0.0.22,300" --host-record="$NAME2,127.0.3.88,300"
DLOG="$CASE_TMP/dnsmasq.log"
cat >"$CASE_TMP/policy.json" <<'JSON'
{
  "Version": "2012-10-17",
  "Statement": [
    { "Sid": "AllowAll", "Effect": "Allow", "Principal": "*", "Action": "dynamodb:*", "Resource": "*" },
    { "Sid": "NoDeleteTable", "Effect": "Deny", "Principal": "*", "Action": "dynamodb:DeleteTable", "Resource": "*" }
  ]
}
JSON

cfg="$CASE_TMP/ddbgate.yaml"
# write_cfg [policy] [servers2] [name2] [listener2] [broken]
write_cfg() {
	local o=" $* " up=$NAME ip=127.0.1.88 servers="\"$DNS88\""
	case $o in *" name2 "*) up=$NAME2 ;; esac
	case $o in *" listener2 "*) ip=192.0.2.88 ;; esac
	case $o in *" servers2 "*) servers="\"$DNS88\", \"$DNS\"" ;; esac
	{
		lgw_head "$ip"
		cat <<YAML
resolver:
  servers: [$servers]
  timeout_ms: 500
endpoints:
YAML
		lgw_endpoint reload88 record.ddbgate.test "$up:$UP_PORT"
		case $o in *" policy "*) printf '    policy: %s\n    enforcement: enforce\n' "$CASE_TMP/policy.json" ;; esac
		case $o in *" broken "*) echo '    hosts_extra: [a.example, b.example' ;; esac
		cat <<YAML
limits:
  upstream_pool_size: 0
  upstream_timeout_s: 5
YAML
	} >"$cfg.new" && mv "$cfg.new" "$cfg"
}

# reload ERE — SIGHUP the gateway; within 5 s its stderr says ERE; prints that line.
reload() {
	local m line
	m=$(log_mark "$LGW_ERR")
	kill -HUP "$LGW_PID"
	line=$(wait_log "$LGW_ERR" "$m" "$1" 50) || { log_since "$LGW_ERR" "$m"; fail "after SIGHUP, no line matching /$1/"; }
	echo "ddbgate: $line"
	RELOAD_LINE=$line
}
qn() { dns_count "$DLOG" "$1"; }
expect_q() { # NAME WANT WHAT
	[ "$(qn "$1")" = "$2" ] || { grep -F "$1" "$DLOG" | sed 's/^/  dnsmasq: /'; fail "$3: dnsmasq logged $(qn "$1") query[A] for $1, expected $2"; }
}
list_ok() { # FROM
	gw_request record.ddbgate.test DynamoDB_20120810.ListTables '{}'
	expect_from "$1"
}
delete_denied() {
	gw_request record.ddbgate.test DynamoDB_20120810.DeleteTable "{\"TableName\":\"reload88-$MARK\"}"
	expect_status 400
	grep -q 'AccessDeniedException' "$CASE_TMP/resp.body" || { show_response; fail "DeleteTable was not denied with AccessDeniedException"; }
	rec_expect_marker_absent "reload88-$MARK"
}
MARK=$(unique)
FILE_RE=${cfg//./\\.}

write_cfg
lgw_start 127.0.1.88 "$cfg"

step "generation 1"
list_ok record
expect_q "$NAME" 1 "generation 1"

step "generation 2: a policy (a reload that changes neither resolvers nor names)"
write_cfg policy
reload "reloaded: serving generation 2 from $FILE_RE"
echo "$RELOAD_LINE" | grep -q 'flushed' && fail "the resolvers did not change, yet: $RELOAD_LINE"
step "generation 2: the new policy applies, the cached answer is kept"
list_ok record
delete_denied
expect_q "$NAME" 1 "generation 2"

step "a broken file is refused; generation 2 keeps serving"
write_cfg policy broken
reload "reload failed, still serving generation 2: $FILE_RE:[0-9]+:[0-9]+: "
list_ok record
delete_denied
expect_q "$NAME" 1 "after the failed reload"

step "a listener that cannot be bound (192.0.2.88) is refused; generation 2 keeps serving"
write_cfg policy listener2
reload "reload refused, still serving generation 2: listeners\\[0\\] 192\\.0\\.2\\.88:[0-9]+: "
list_ok record
delete_denied

step "generation 3: the resolvers changed: cache flushed"
write_cfg policy servers2
reload "reloaded: serving generation 3 from $FILE_RE; resolvers changed, DNS cache flushed"
list_ok record
expect_q "$NAME" 2 "generation 3 (flushed)"
list_ok record
expect_q "$NAME" 2 "generation 3, second request"
delete_denied

step "generation 4: another upstream name"
write_cfg policy servers2 name2
reload "reloaded: serving generation 4 from $FILE_RE\$"
list_ok c88
expect_q "$NAME2" 1 "generation 4"

step "generation 5: back to the first name, which was dropped while unused; no policy"
write_cfg servers2
reload "reloaded: serving generation 5 from $FILE_RE\$"
list_ok record
expect_q "$NAME" 3 "generation 5"

step "generation 6 (the policy again) while a client connection is kept alive"
build_request record.ddbgate.test DynamoDB_20120810.DeleteTable "{\"TableName\":\"reload88-keep-$MARK\"}" >"$CASE_TMP/del1"
build_request record.ddbgate.test DynamoDB_20120810.DeleteTable "{\"TableName\":\"reload88-$MARK\"}" >"$CASE_TMP/del2"
mkdir -p "$CASE_TMP/keep.d"
start_bg "$CASE_TMP/keep" /usr/bin/python3 "$IT_DIR/rawclient.py" send --connect "$GW_IP:$GW_PORT" \
	--sni record.ddbgate.test --cafile "$PKI/gw-ca.pem" --in "$CASE_TMP/del1" --in "$CASE_TMP/del2" \
	--pause 2 --timeout 15 --save-dir "$CASE_TMP/keep.d"
KEEP_PID=$BG_PID
wait_log "$CASE_TMP/keep.out" 0 '"status"' 50 >/dev/null || fail "the kept-alive client got no first response: $(cat "$CASE_TMP/keep.err")"
write_cfg policy servers2
reload "reloaded: serving generation 6 from $FILE_RE\$"
for _ in $(seq 1 100); do kill -0 "$KEEP_PID" 2>/dev/null || break; sleep 0.1; done
wait "$KEEP_PID"
rc=$?
cut -c 1-300 "$CASE_TMP/keep.out"
[ "$rc" = 0 ] || fail "the kept-alive client did not get both responses on its connection (exit $rc): $(cat "$CASE_TMP/keep.err")"
st1=$(head -n 1 "$CASE_TMP/keep.d/resp.1.headers" | cut -d' ' -f2)
st2=$(head -n 1 "$CASE_TMP/keep.d/resp.2.headers" | cut -d' ' -f2)
[ "$st1" = 200 ] || fail "DeleteTable #1 (generation 5, no policy) answered $st1, expected 200"
grep -rlF "reload88-keep-$MARK" "$REC/record" --include='conn-*.in' >/dev/null || fail "DeleteTable #1 did not reach the upstream"
keep_err=""
if ! { [ "$st2" = 400 ] && grep -q 'AccessDeniedException' "$CASE_TMP/keep.d/resp.2.body"; }; then
	keep_err="DeleteTable #2 on the kept-alive connection, sent 2 s after the reload to generation 6: HTTP $st2 $(head -c 200 "$CASE_TMP/keep.d/resp.2.body"), expected 400 AccessDeniedException (the connection still used generation 5)"
elif grep -rlF "reload88-$MARK" "$REC" --include='conn-*.in' >/dev/null 2>&1; then
	keep_err="DeleteTable #2 on the kept-alive connection reached an upstream"
fi

step "the case-local gateway stops cleanly (after six reloads)"
lgw_stop
[ -z "$keep_err" ] || fail "$keep_err"
