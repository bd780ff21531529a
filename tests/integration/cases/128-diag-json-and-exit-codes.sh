# needs: infra ddbgate
# timeout: 60
#
# The exit code is that of the first failing layer in path order over
# every target, whatever the order of the endpoints; the --json document
# validates against docs/diag.schema.json for every kind of outcome
# (including a configuration that does not load and the built-in
# defaults) and says the same as the human output; usage errors exit 2
# and print nothing on standard output. The validator itself rejects
# documents that break the schema.
# Client:   ddbgate diag (human and --json) with the configurations below;
#           schema_check.py on its output and on broken copies of it.
# Config:   CFG, endpoints in reverse path order (ca_file upstream-ca.pem,
#           allowed_cidrs [127.0.0.0/8], resolver the test bed's dnsmasq):
#             h128: record.ddbgate.test -> 127.0.0.22:8443 (recorder: http fails)
#             s128: expired.ddbgate.test -> 127.0.0.31:8443 (tls fails)
#             t128: other.ddbgate.test -> 127.0.0.40:8443 (tcp fails)
#             d128: guard.ddbgate.test -> vpce-missing128-1234...:8443 (NXDOMAIN)
#           BROKEN: a YAML file with an unknown key; MISSING: no such file.
# Upstream: the test bed's recorder, recorders with bad certificates,
#           refused address and dnsmasq.
# Expect:   whole CFG: exit 4 (not 7, the first endpoint's); --endpoint
#             h128/s128/t128/d128: exit 7/6/5/4; the JSON's exit_code and
#             per-target statuses agree; the human output has one line per
#             JSON step, with the same statuses in the same order.
#           BROKEN: exit 3, summary with file:line:column; MISSING: exit 3;
#             both JSON documents have one target with name null.
#           Built-in defaults (no -c, --timeout-ms 200): the document
#             validates, config "(built-in defaults)", three targets.
#           Usage: an unknown option, --timeout-ms 10, --endpoint nope (the
#             message lists the endpoints), two targets: exit 2, empty stdout.
#           schema_check.py: every document above "ok"; copies with status
#             "maybe", without exit_code, with an unknown step property, with
#             port "443" are each rejected (exit 1).
. "$IT_DIR/diag_lib.sh"
cfg="$CASE_TMP/diag.yaml"
{
	dg_endpoint h128 record.ddbgate.test "127.0.0.22:$UP_PORT"
	dg_endpoint s128 expired.ddbgate.test "127.0.0.31:$UP_PORT"
	dg_endpoint t128 other.ddbgate.test "127.0.0.40:$UP_PORT"
	dg_endpoint d128 guard.ddbgate.test "vpce-missing128-1234.$VPCE_SUFFIX:$UP_PORT"
} | dg_conf "$cfg" "$DNS"

step "the first failing layer in path order wins"
diag_json all -c "$cfg"
expect_exit 4
dq '[t(n)["status"] for n in ("h128", "s128", "t128", "d128")] == ["fail"] * 4' "every target fails"
dq '[[x["step"] for x in t(n)["steps"] if x["status"] == "fail"] for n in ("h128", "s128", "t128", "d128")] == [["http"], ["tls"], ["tcp"], ["dns"]]' \
	"each fails at its own layer"
cp "$DIAG_JSON" "$CASE_TMP/all.json"
diag_run all -c "$cfg"
expect_exit 4
expect_line '^result: FAIL, first failing layer: dns \(exit 4\)$'
/usr/bin/python3 - "$CASE_TMP/all.json" "$DIAG_OUT" <<'PY' || fail "the human output and the JSON disagree"
import json, re, sys
d = json.load(open(sys.argv[1]))
want = [(s["status"].upper(), s["step"]) for t in d["targets"] for s in t["steps"]]
got = re.findall(r"^  (PASS|WARN|FAIL|SKIP)  (\w+) ", open(sys.argv[2]).read(), re.M)
print("JSON steps:", want)
print("text steps:", got)
sys.exit(0 if want == got else 1)
PY
for e in h128:7 s128:6 t128:5 d128:4; do
	diag_json "${e%:*}" -c "$cfg" --endpoint "${e%:*}"
	expect_exit "${e#*:}"
done

step "configurations that do not load"
printf 'region: us-east-1\nlisteners:\n  - address: 127.0.0.1:1\n    mode: connect\nendpoints: []\nno_such_key: 1\n' >"$CASE_TMP/broken.yaml"
diag_run broken -c "$CASE_TMP/broken.yaml"
expect_exit 3
expect_line "^configuration ${CASE_TMP//./\\.}/broken\.yaml$" \
	"^  FAIL  config +[0-9]+ ms  the configuration does not load: ${CASE_TMP//./\\.}/broken\.yaml:[0-9]+:[0-9]+: " \
	'^        hint: fix what the message names' '^result: FAIL, first failing layer: config \(exit 3\)$'
diag_json broken -c "$CASE_TMP/broken.yaml"
expect_exit 3
dq 'len(d["targets"]) == 1 and d["targets"][0]["name"] is None and d["targets"][0]["port"] is None' "one nameless target"
diag_json missing -c "$CASE_TMP/no-such-file.yaml"
expect_exit 3
dq '"No such file" in d["targets"][0]["steps"][0]["summary"]' "says the file is missing"

step "the built-in defaults"
diag_json defaults --timeout-ms 200
case $DIAG_RC in 0 | [3-9]) ;; *) fail "unexpected exit $DIAG_RC" ;; esac
dq 'd["config"] == "(built-in defaults)" and [x["name"] for x in d["targets"]] == ["dynamodb.us-east-1.amazonaws.com", "streams.dynamodb.us-east-1.amazonaws.com", "dax.us-east-1.amazonaws.com"]' \
	"the three regional names of us-east-1"

step "usage errors"
for args in "--no-such-option" "--timeout-ms 10" "--endpoint nope" "record.ddbgate.test other.ddbgate.test"; do
	# shellcheck disable=SC2086 # split on purpose
	diag_run usage -c "$cfg" $args
	expect_exit 2
	[ -s "$DIAG_OUT" ] && fail "diag $args: a usage error prints nothing on stdout"
done
diag_run usage -c "$cfg" --endpoint nope
grep -q 'endpoints: h128 s128 t128 d128' "$CASE_TMP/diag-usage.err" || fail "the message does not list the endpoints"

step "the validator rejects what breaks the schema"
/usr/bin/python3 - "$CASE_TMP/all.json" "$CASE_TMP" <<'PY'
import copy, json, sys
d = json.load(open(sys.argv[1]))
bad = {
    "status": lambda x: x.__setitem__("status", "maybe"),
    "noexit": lambda x: x.pop("exit_code"),
    "extra": lambda x: x["targets"][0]["steps"][0].__setitem__("colour", "red"),
    "port": lambda x: x["targets"][0].__setitem__("port", "443"),
}
for name, f in bad.items():
    x = copy.deepcopy(d)
    f(x)
    json.dump(x, open("%s/bad-%s.json" % (sys.argv[2], name), "w"))
PY
for b in status noexit extra port; do
	/usr/bin/python3 "$IT_DIR/schema_check.py" "$DIAG_SCHEMA" "$CASE_TMP/bad-$b.json" >"$CASE_TMP/bad-$b.out"
	rc=$?
	echo "bad-$b: exit $rc: $(head -n 2 "$CASE_TMP/bad-$b.out" | tr '\n' ' ')"
	[ "$rc" = 1 ] || fail "schema_check.py accepted the broken document bad-$b (exit $rc)"
done
