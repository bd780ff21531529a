# needs: ddbgate
# timeout: 20
#
# Client:   `ddbgate run -c /nonexistent/ddbgate.yaml`.
# Expect:   exits by itself (within 10 s) with a non-zero status and a
#           message naming the file and why (e.g. "No such file").
f=/nonexistent/ddbgate-it-$$/ddbgate.yaml
out=$(timeout 10 "$DDBGATE" run -c "$f" 2>&1 </dev/null)
rc=$?
echo "exit $rc: $out"
[ "$rc" != 124 ] || fail "ddbgate run with a missing config did not exit (still running after 10 s)"
[ "$rc" != 0 ] || fail "ddbgate run with a missing config exited 0"
echo "$out" | grep -qF -- "$f" || fail "the message does not name $f: $out"
echo "$out" | grep -Eqi 'no such file|not found|cannot open|does not exist' || fail "the message does not say why: $out"
