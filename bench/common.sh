# common.sh — sourced by bench/h2load.sh, bench/compare.sh and bench/dax.sh: the ddbgate
# side both benchmarks measure (the same configuration, the same policy).

# write_ddbgate_config FILE WHO — ddbgate with one worker, an sni listener
# on $GW_ADDR:$PORT, one endpoint ($HOSTNAME_DDB) to the upstream at
# $UP_ADDR:$PORT verified with $W/pki/ca.pem, and bench/policy-20.json
# (copied to $W/policy.json): 20 statements, the request's principal
# $AKID among three. The caller may append top-level keys (limits).
write_ddbgate_config() {
	cp "$top/bench/policy-20.json" "$W/policy.json"
	cat >"$1" <<EOF
# ddbgate under $2: one worker, sni, one endpoint to nginx
region: us-east-1
account: "111122223333"
workers: 1
state_dir: $W/state
listeners:
  - address: $GW_ADDR:$PORT
    mode: sni
    allow_clients: [127.0.0.0/8]
tls:
  certificates:
    - cert: $W/pki/gateway.pem
      key: $W/pki/gateway.key
endpoints:
  - name: dynamodb
    service: dynamodb
    hosts: [$HOSTNAME_DDB]
    upstream: $UP_ADDR:$PORT
    ca_file: $W/pki/ca.pem
    allowed_cidrs: [127.0.0.0/8]
    policy: $W/policy.json
EOF
	write_ddbgate_principals_and_logs >>"$1"
}

# write_ddbgate_principals_and_logs — what every benchmarked ddbgate has
# besides its listener and endpoint: three principals ($AKID, whose
# requests are measured, among them), the audit line built and written to
# /dev/null, no access log, no metrics listener.
write_ddbgate_principals_and_logs() {
	cat <<EOF
principals:
  - access_key_id: $AKID
    arn: arn:aws:iam::111122223333:role/bench-app
    userid: AROAEXAMPLEBENCHROLE1:bench
  - access_key_id: AKIAIOSFODNN7ORDERS1
    arn: arn:aws:iam::111122223333:role/orders-app
  - access_key_id: AKIAIOSFODNN7REPORT1
    arn: arn:aws:iam::111122223333:role/reporting
audit:
  path: /dev/null
access_log:
  path: "off"
metrics:
  address: "off"
EOF
}
