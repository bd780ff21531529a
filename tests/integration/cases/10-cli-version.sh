# needs: ddbgate
# timeout: 15
#
# Client:   `ddbgate version`.
# Expect:   exit 0; the output names ddbgate and a version number.
out=$(timeout 10 "$DDBGATE" version 2>&1)
rc=$?
echo "exit $rc: $out"
[ "$rc" = 0 ] || fail "ddbgate version exited $rc"
echo "$out" | grep -qi ddbgate || fail "version output does not name ddbgate"
echo "$out" | grep -Eq '[0-9]+\.[0-9]+' || fail "version output has no version number"
