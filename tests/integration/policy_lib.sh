# policy_lib.sh — helpers for the policy cases (70-79), sourced after lib.sh.
#
# Each policy case runs its own ddbgate (a "policy gateway") on a loopback
# address of its own, 127.0.0.<case number>, with endpoints that carry an
# IAM endpoint policy, principals, an account, and an audit log in a file,
# so its audit lines, access log and stderr belong to that case alone.
#
#   pgw_config_head IP          the common part (region, account, listener,
#                               certificate, resolver, limits, metrics off)
#   pgw_endpoint NAME HOST UP   one endpoint (service dynamodb, ca_file, allowed_cidrs);
#                               UP = good (stunnel -> dynalite) or a recorder name
#   pgw_start                   start it from $PGW_CFG; GW_IP/GW_OUT now point at it,
#                               so gw_request, alog_mark and alog_expect use it
#   with_hosts_pgw CMD...       like with_hosts, but dynamodb.us-east-1.amazonaws.com
#                               -> the policy gateway
#   audit_mark / audit_find / audit_count / audit_expect   the audit log (JSON lines)
#   alog_count MARK ERE...      access-log lines since MARK matching every ERE
#   expect_aws_error TYPE [MESSAGE-REGEX...]   the last response is DynamoDB's own
#                               error shape: 400, application/x-amz-json-1.0,
#                               __type com.amazon.coral.service#TYPE, Message
#   direct_request TARGET BODY  a signed call straight to dynalite (no ddbgate), for
#                               setting up tables and reading what reached dynalite
#   create_table_direct T [GSI] a table created that way

export POL_ACCOUNT=111122223333
export POL_REGION=us-east-1
export POL_VPCE=dynamodb.us-east-1.vpce.amazonaws.com
PGW_IP=""
PGW_CFG="$CASE_TMP/ddbgate-pgw.yaml"
PGW_BASE="$CASE_TMP/ddbgate-pgw"       # .out (access log), .err (process log)
PGW_AUDIT="$CASE_TMP/ddbgate-pgw-audit.out" # named *.out: no-item-data-in-logs searches it too

table_arn() { echo "arn:aws:dynamodb:$POL_REGION:$POL_ACCOUNT:table/$1"; }

# On failure, show what the case-local gateway said (run.sh shows only the
# main gateway's logs).
pgw_dump() {
	[ -n "$PGW_IP" ] || return 0
	echo "--- policy gateway config $PGW_CFG"; sed 's/^/  /' "$PGW_CFG" 2>/dev/null
	echo "--- policy gateway stderr (last 40 lines)"; tail -n 40 "$PGW_BASE.err" 2>/dev/null | sed 's/^/  /'
	echo "--- policy gateway access log (last 20 lines)"; tail -n 20 "$PGW_BASE.out" 2>/dev/null | sed 's/^/  /'
	echo "--- policy gateway audit log (last 20 lines)"; tail -n 20 "$PGW_AUDIT" 2>/dev/null | sed 's/^/  /'
}
fail() { pgw_dump; printf '\nFAIL: %s\n' "$*"; exit 1; }

# pgw_config_head IP — the common head of a policy gateway's configuration.
pgw_config_head() {
	PGW_IP=$1
	cat <<YAML
# case-local policy gateway ($(basename "$CASE_TMP" .d))
region: $POL_REGION
account: "$POL_ACCOUNT"
listeners:
  - address: $1:$GW_PORT
    mode: sni
tls:
  certificates:
    - cert: $PKI/gw-leaf.pem
      key: $PKI/gw-leaf.key
resolver:
  servers: ["$DNS"]
  timeout_ms: 500
access_log:
  path: "-"
audit:
  path: $PGW_AUDIT
metrics:
  address: "off"
limits:
  max_header_bytes: 16384
  max_body_bytes: 65536
  upstream_timeout_s: 5
YAML
}

# pgw_endpoint NAME HOST UP — the fixed part of one endpoint; the caller
# appends policy:, enforcement:, deny_replays: ... (4-space indent).
pgw_endpoint() {
	cat <<YAML
  - name: $1
    service: dynamodb
    hosts: [$2]
    upstream: vpce-$3-1234.$POL_VPCE:$UP_PORT
    ca_file: $PKI/upstream-ca.pem
    allowed_cidrs: [127.0.0.0/8]
YAML
}

# pgw_start — run the policy gateway of $PGW_CFG; from now on GW_IP / GW_OUT
# are the policy gateway's (gw_request, alog_mark, alog_expect use them).
pgw_start() {
	[ -n "$PGW_IP" ] || fail "test bug: pgw_config_head was not called"
	echo "--- policy gateway configuration:"; sed 's/^/  /' "$PGW_CFG"
	local out rc
	out=$(timeout 10 "$DDBGATE" check -c "$PGW_CFG" 2>&1)
	rc=$?
	[ "$rc" = 0 ] || fail "ddbgate check rejects the policy gateway configuration (exit $rc): $(echo "$out" | tail -n 5 | tr '\n' ' ')"
	echo "$out" | grep -i 'policy' | sed 's/^/  check: /'
	start_ddbgate "$PGW_CFG" "$PGW_BASE" "$PGW_IP" "$GW_PORT"
	# shellcheck disable=SC2034 # read by lib.sh (gw_request, raw_send)
	GW_IP=$PGW_IP
	GW_OUT="$PGW_BASE.out"
}

# with_hosts_pgw CMD... — CMD in a private mount namespace where
# dynamodb.us-east-1.amazonaws.com is the policy gateway (see with_hosts).
with_hosts_pgw() {
	printf '127.0.0.1 localhost\n%s dynamodb.us-east-1.amazonaws.com\n' "$PGW_IP" >"$CASE_TMP/client-hosts"
	# shellcheck disable=SC2016 # expanded by the inner sh
	unshare --mount sh -c 'mount --bind "$1" /etc/hosts && mount --bind "$2" /etc/resolv.conf && shift 2 && exec "$@"' \
		with_hosts "$CASE_TMP/client-hosts" "$CLIENT_RESOLV" "$@"
}

# direct_request TARGET BODY — a signed call straight to dynalite's TLS front
# (stunnel 127.0.0.21:8443, SNI dynamodb.us-east-1.amazonaws.com), without any
# ddbgate: for setting up tables and for reading what really reached dynalite.
# Sets RESP_STATUS; leaves $CASE_TMP/resp.{headers,body}.
direct_request() {
	local h=dynamodb.us-east-1.amazonaws.com
	: >"$CASE_TMP/resp.headers"
	: >"$CASE_TMP/resp.body"
	RESP_STATUS=$(curl -sS --max-time 10 --resolve "$h:$UP_PORT:127.0.0.21" --cacert "$PKI/upstream-ca.pem" \
		--aws-sigv4 "aws:amz:us-east-1:dynamodb" --user "$AKID:$SECRET" \
		-H "X-Amz-Target: $1" -H "Content-Type: application/x-amz-json-1.0" \
		--data-binary "$2" -D "$CASE_TMP/resp.headers" -o "$CASE_TMP/resp.body" \
		-w '%{http_code}' "https://$h:$UP_PORT/" 2>"$CASE_TMP/curl.err")
	echo "direct $1 -> $RESP_STATUS $(head -c 300 "$CASE_TMP/resp.body")"
}

# --- the audit log -------------------------------------------------------------
audit_mark() { if [ -f "$PGW_AUDIT" ]; then wc -l <"$PGW_AUDIT"; else echo 0; fi; }

# _audit_scan MODE MARK EXPR — MODE first: print the first line after MARK
# (parsed as d) for which EXPR is true, exit 0, else exit 1; MODE count:
# print how many such lines.  Lines that are not JSON objects make it exit 3.
_audit_scan() {
	/usr/bin/python3 - "$PGW_AUDIT" "$@" <<'PY'
import json, sys
path, mode, mark, expr = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
try:
    lines = open(path, encoding="utf-8", errors="replace").read().splitlines()[mark:]
except FileNotFoundError:
    lines = []
n = 0
for line in lines:
    try:
        d = json.loads(line)
    except ValueError:
        print("not a JSON line in the audit log: %r" % line[:300])
        sys.exit(3)
    try:
        ok = eval(expr, {"d": d})  # d global: visible in comprehensions
    except Exception:
        ok = False
    if ok:
        n += 1
        if mode == "first":
            print(line)
            sys.exit(0)
if mode == "count":
    print(n)
    sys.exit(0)
sys.exit(1)
PY
}

# audit_find MARK EXPR — within 3 s, the first audit line after MARK with EXPR
# true (d = the line's JSON); it is left in $CASE_TMP/audit.line (for jsonq.py).
audit_find() {
	local out rc
	for _ in $(seq 1 30); do
		out=$(_audit_scan first "$1" "$2")
		rc=$?
		[ "$rc" = 3 ] && fail "$out"
		if [ "$rc" = 0 ]; then
			printf '%s\n' "$out" >"$CASE_TMP/audit.line"
			echo "audit: $out"
			return 0
		fi
		sleep 0.1
	done
	echo "audit lines since the request:"
	tail -n +"$(($1 + 1))" "$PGW_AUDIT" 2>/dev/null | sed 's/^/  /'
	return 1
}

# audit_expect MARK EXPR WHAT — audit_find or fail WHAT.
audit_expect() { audit_find "$1" "$2" || fail "$3 (no audit line with $2)"; }

# audit_count MARK EXPR — how many audit lines after MARK have EXPR true.
audit_count() { logs_settle; _audit_scan count "$1" "$2"; }

# audit_check EXPR WHAT — the line audit_find left satisfies EXPR.
audit_check() {
	/usr/bin/python3 -c 'import json, sys
d = json.loads(open(sys.argv[1]).read())
sys.exit(0 if eval(sys.argv[2], {"d": d}) else 2)  # d global: visible in comprehensions' "$CASE_TMP/audit.line" "$1" 2>"$CASE_TMP/audit.check.err" ||
		fail "$2: audit line $(cat "$CASE_TMP/audit.line") does not satisfy $1 $(head -c 300 "$CASE_TMP/audit.check.err")"
}

# alog_count MARK ERE... — access-log lines after MARK matching every ERE.
alog_count() {
	local mark=$1 line ok re n=0
	shift
	logs_settle
	while IFS= read -r line; do
		ok=1
		for re in "$@"; do
			echo "$line" | grep -Eq -- "$re" || { ok=0; break; }
		done
		[ "$ok" = 1 ] && n=$((n + 1))
	done < <(tail -n +"$((mark + 1))" "$GW_OUT")
	echo "$n"
}

# expect_aws_error TYPE [MESSAGE-REGEX...] — the last response is an error in
# DynamoDB's own shape (spec 2.3/2.4): HTTP 400, Content-Type
# application/x-amz-json-1.0, an x-amzn-RequestId, body
# {"__type":"com.amazon.coral.service#TYPE","Message":...} (TYPE may be an ERE
# alternative such as 'AccessDeniedException|UnknownOperationException'), and
# when REGEXes are given, a Message (or message) matching every one (ERE).
expect_aws_error() {
	local type=$1 re ct msg
	shift
	expect_status 400
	ct=$(header Content-Type)
	case "$ct" in
	application/x-amz-json-1.0*) ;;
	*) show_response; fail "Content-Type is '$ct', expected application/x-amz-json-1.0" ;;
	esac
	[ -n "$(header x-amzn-RequestId)" ] || { show_response; fail "no x-amzn-RequestId header"; }
	"$IT_DIR/jsonq.py" "$CASE_TMP/resp.body" "d['__type']" >"$CASE_TMP/resp.type" 2>&1 ||
		{ show_response; fail "the error body has no __type"; }
	grep -Eqx "com\.amazon\.coral\.service#($type)" "$CASE_TMP/resp.type" ||
		{ show_response; fail "__type is '$(cat "$CASE_TMP/resp.type")', expected com.amazon.coral.service#$type"; }
	[ $# = 0 ] && { echo "aws error ok: $(cat "$CASE_TMP/resp.body")"; return 0; }
	msg=$("$IT_DIR/jsonq.py" "$CASE_TMP/resp.body" "d.get('Message') or d.get('message')") ||
		{ show_response; fail "the error body has no Message"; }
	for re in "$@"; do
		printf '%s' "$msg" | grep -Eq -- "$re" || { show_response; fail "message '$msg' does not match /$re/"; }
	done
	echo "aws error ok: $(cat "$CASE_TMP/resp.body")"
}

# expect_access_denied ACTION RESOURCE implicit|explicit [PRINCIPAL] — the last
# response is the AccessDeniedException of spec 2.4, word for word.
expect_access_denied() {
	local action=$1 res=$2 kind=$3 who=${4:-$AKID} want
	if [ "$kind" = explicit ]; then
		want="User: $who is not authorized to perform: $action on resource: $res with an explicit deny in a VPC endpoint policy"
	else
		want="User: $who is not authorized to perform: $action on resource: $res because no VPC endpoint policy allows the $action action"
	fi
	expect_aws_error AccessDeniedException
	local got
	got=$("$IT_DIR/jsonq.py" "$CASE_TMP/resp.body" "d.get('Message')")
	[ "$got" = "$want" ] || { show_response; fail "AccessDenied message is '$got', expected '$want'"; }
	"$IT_DIR/jsonq.py" "$CASE_TMP/resp.body" "sorted(d) == ['Message', '__type']" >/dev/null ||
		{ show_response; fail "the AccessDenied body has other members than __type and Message"; }
}

# create_table_direct TABLE [GSI-NAME] — a table (pk S HASH, sk S RANGE; the
# GSI on attribute c) created straight in dynalite, waited for ACTIVE.
create_table_direct() {
	local t=$1 gsi=${2:-} attrs gsis=""
	attrs='{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"S"}'
	if [ -n "$gsi" ]; then
		attrs="$attrs"',{"AttributeName":"c","AttributeType":"S"}'
		gsis=',"GlobalSecondaryIndexes":[{"IndexName":"'"$gsi"'","KeySchema":[{"AttributeName":"c","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}]'
	fi
	direct_request DynamoDB_20120810.CreateTable \
		'{"TableName":"'"$t"'","AttributeDefinitions":['"$attrs"'],"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],"BillingMode":"PAY_PER_REQUEST"'"$gsis"'}'
	expect_status 200
	for _ in $(seq 1 50); do
		direct_request DynamoDB_20120810.DescribeTable '{"TableName":"'"$t"'"}' >/dev/null
		[ "$RESP_STATUS" = 200 ] && "$IT_DIR/jsonq.py" "$CASE_TMP/resp.body" "d['Table']['TableStatus'] == 'ACTIVE'" >/dev/null && return 0
		sleep 0.1
	done
	show_response
	fail "table $t did not become ACTIVE"
}
