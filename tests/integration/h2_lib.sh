# h2_lib.sh — helpers for the HTTP/2 cases (140-149), sourced after lib.sh.
#
# Case 14N runs its own ddbgate on 127.0.1.14N (sni on :443 unless it says
# otherwise) and its own upstreams on 127.0.3.14N / 127.0.4.14N:8443, all
# stopped by PID when the case ends (lib.sh start_bg).  The HTTP/2 clients
# are curl --http2, nghttp, h2load and h2client.py (frame by frame: see
# its docstring), the upstream is `h2client.py upstream` (answers as the
# request's x-h2test field says) or recorder.py.
#
#   h2up_start NAME ADDR     an `h2client.py upstream` on ADDR:$UP_PORT (leaf
#                            up-good) recording into $CASE_TMP/up-NAME
#                            (conn-NNNN.in, events.log); sets BG_PID
#   h2up_conns NAME          how many connections it has accepted
#   h2up_expect_marker_absent NAME MARKER...   no MARKER in what it received
#   h2py [ARGS...]           /usr/bin/python3 running stdin with IT_DIR on
#                            sys.path (import h2client); H2_ADDR, H2_SNI, H2_CA
#                            from the environment by convention
#   h2curl ADDR PORT HOST [CURL-ARGS...]   a signed ListTables with curl -v
#                            to https://HOST:PORT/ at ADDR, verified against
#                            $H2_CA; sets RESP_STATUS, HTTP_VERSION
#                            (%{http_version}), NUM_CONNECTS and ALPN (what
#                            curl -v says the server accepted, "-" if nothing)
#   h2_gw_alive              the case-local gateway still runs

H2_CA=${H2_CA:-$PKI/gw-ca.pem}

h2up_start() {
	local name=$1 addr=$2
	start_bg "$CASE_TMP/up-$name" /usr/bin/python3 -B "$IT_DIR/h2client.py" upstream --name "$name" \
		--listen "$addr:$UP_PORT" --cert "$PKI/up-good.pem" --key "$PKI/up-good.key" --dir "$CASE_TMP/up-$name"
	FAIL_SHOW+=("$CASE_TMP/up-$name/events.log" "$CASE_TMP/up-$name.err")
	local pid=$BG_PID
	for _ in $(seq 1 100); do
		grep -q listening "$CASE_TMP/up-$name.out" 2>/dev/null && { BG_PID=$pid; return 0; }
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "upstream $name did not listen on $addr:$UP_PORT: $(tail -n 3 "$CASE_TMP/up-$name.err")"
}

h2up_conns() { find "$CASE_TMP/up-$1" -name 'conn-*.in' | wc -l; }

h2up_expect_marker_absent() {
	local name=$1 m
	shift
	for m in "$@"; do
		if grep -lF -- "$m" "$CASE_TMP/up-$name"/conn-*.in >/dev/null 2>&1; then
			fail "a request carrying $m reached upstream $name: $(grep -lF -- "$m" "$CASE_TMP/up-$name"/conn-*.in | head -3)"
		fi
	done
	echo "upstream $name never received any of these $# marker(s): $(echo "$*" | cut -c1-120)..."
}

h2py() { H2_CA="$H2_CA" PYTHONPATH="$IT_DIR" PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 - "$@"; }

h2curl() {
	local addr=$1 port=$2 host=$3 url out
	shift 3
	url="https://$host:$port/"
	: >"$CASE_TMP/resp.headers"
	: >"$CASE_TMP/resp.body"
	out=$(curl -sS -v --max-time "${CURL_MAX_TIME:-10}" --resolve "$host:$port:$addr" --cacert "$H2_CA" \
		--aws-sigv4 "aws:amz:us-east-1:dynamodb" --user "$AKID:$SECRET" \
		-H "X-Amz-Target: DynamoDB_20120810.ListTables" -H "Content-Type: application/x-amz-json-1.0" \
		--data-binary '{}' -D "$CASE_TMP/resp.headers" -o "$CASE_TMP/resp.body" \
		-w '%{http_code} %{http_version} %{num_connects}' "$@" "$url" 2>"$CASE_TMP/curl.err")
	RESP_STATUS=${out%% *}
	out=${out#* }
	HTTP_VERSION=${out%% *}
	NUM_CONNECTS=${out#* }
	ALPN=$(sed -n 's/^\* ALPN[:,] server accepted \(to use \)\{0,1\}//p' "$CASE_TMP/curl.err" | head -n 1 | tr -d '\r')
	ALPN=${ALPN:--}
	echo "curl $* https://$host:$port/ at $addr -> $RESP_STATUS, HTTP/$HTTP_VERSION, ALPN $ALPN, $NUM_CONNECTS new connection(s): $(head -c 200 "$CASE_TMP/resp.body")"
}

h2_gw_alive() { kill -0 "$LGW_PID" 2>/dev/null || fail "the case-local gateway died: $(tail -n 20 "$LGW_ERR")"; }
