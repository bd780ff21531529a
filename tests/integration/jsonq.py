#!/usr/bin/python3
"""jsonq.py FILE EXPR — evaluate a Python expression over a JSON document.

The document is `d`.  Prints the value (JSON for lists/dicts, plain text for
strings and numbers).  Exit 1 when FILE is not JSON or EXPR raises, 2 when the
value is False or None — so `jsonq.py f 'd["Count"] == 2'` is an assertion.
"""
import json
import sys

try:
    with open(sys.argv[1], "rb") as f:
        d = json.loads(f.read() or b"null")
    v = eval(sys.argv[2], {"__builtins__": {"len": len, "sorted": sorted, "set": set, "any": any, "all": all,
                                            "str": str, "int": int, "isinstance": isinstance, "dict": dict,
                                            "list": list}}, {"d": d})
except Exception as e:  # noqa: BLE001 — reported to the test
    print("jsonq: %s: %s" % (sys.argv[1], e), file=sys.stderr)
    sys.exit(1)
if v is False or v is None:
    sys.exit(2)
print(v if isinstance(v, (str, int, float)) and not isinstance(v, bool) else json.dumps(v))
