#!/usr/bin/python3
"""schema_check.py — validate JSON documents against a JSON Schema (the subset docs/diag.schema.json uses).

Usage: schema_check.py SCHEMA.json DOC.json [DOC.json ...]

Prints "ok DOC" or one line per violation ("DOC: $.targets[0].steps[1].status: 'maybe' not in enum [...]"),
exit 0 when every document is valid, 1 when one is not, 2 on a usage error or
a schema that uses a keyword this checker does not implement.

Implemented (draft 2020-12 semantics): type (a name or a list; "integer"
excludes booleans and accepts 1.0 no more than JSON does), enum, required,
properties, additionalProperties (false or a schema), items (one schema for
every element), $ref (local "#/$defs/NAME" only), oneOf (exactly one
branch), minimum, maximum. Annotations ($schema, $id, title, description,
$defs) are ignored. Any other keyword is refused rather than ignored, so
the schema can never silently claim more than is checked.
"""
import json
import sys

ANNOTATIONS = {"$schema", "$id", "title", "description", "$defs"}
KEYWORDS = {"type", "enum", "required", "properties", "additionalProperties",
            "items", "$ref", "oneOf", "minimum", "maximum"}


class SchemaError(Exception):
    pass


def type_ok(value, name):
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "string":
        return isinstance(value, str)
    if name == "array":
        return isinstance(value, list)
    if name == "object":
        return isinstance(value, dict)
    raise SchemaError("unknown type %r" % name)


def same(a, b):
    """JSON equality: true is not 1, 1 is 1.0, null is only null."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) == type(b) and a == b


class Checker:
    def __init__(self, root):
        self.root = root

    def resolve(self, ref):
        if not ref.startswith("#/$defs/"):
            raise SchemaError("only local #/$defs/ references are implemented: %r" % ref)
        name = ref[len("#/$defs/"):]
        defs = self.root.get("$defs", {})
        if name not in defs:
            raise SchemaError("no $defs entry %r" % name)
        return defs[name]

    def check(self, schema, value, path, errors):
        if not isinstance(schema, dict):
            raise SchemaError("%s: a schema must be an object" % path)
        unknown = set(schema) - KEYWORDS - ANNOTATIONS
        if unknown:
            raise SchemaError("keywords not implemented: %s" % ", ".join(sorted(unknown)))
        if "$ref" in schema:
            self.check(self.resolve(schema["$ref"]), value, path, errors)
        if "type" in schema:
            names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(type_ok(value, n) for n in names):
                errors.append("%s: %s is not of type %s" % (path, json.dumps(value)[:80], "/".join(names)))
                return
        if "enum" in schema and not any(same(value, e) for e in schema["enum"]):
            errors.append("%s: %s not in enum %s" % (path, json.dumps(value)[:80], json.dumps(schema["enum"])))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                errors.append("%s: %s is below the minimum %s" % (path, value, schema["minimum"]))
            if "maximum" in schema and value > schema["maximum"]:
                errors.append("%s: %s is above the maximum %s" % (path, value, schema["maximum"]))
        if "oneOf" in schema:
            matched = 0
            for branch in schema["oneOf"]:
                sub = []
                self.check(branch, value, path, sub)
                matched += not sub
            if matched != 1:
                errors.append("%s: matches %d of the oneOf branches, not exactly one" % (path, matched))
        if isinstance(value, dict):
            for key in schema.get("required", []):
                if key not in value:
                    errors.append("%s: required property %r is missing" % (path, key))
            props = schema.get("properties", {})
            extra = schema.get("additionalProperties", True)
            for key, sub in value.items():
                where = "%s.%s" % (path, key)
                if key in props:
                    self.check(props[key], sub, where, errors)
                elif extra is False:
                    errors.append("%s: property not allowed here" % where)
                elif isinstance(extra, dict):
                    self.check(extra, sub, where, errors)
        if isinstance(value, list) and "items" in schema:
            for i, item in enumerate(value):
                self.check(schema["items"], item, "%s[%d]" % (path, i), errors)


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    checker = Checker(schema)
    bad = 0
    for doc_path in argv[2:]:
        try:
            with open(doc_path, encoding="utf-8") as f:
                doc = json.load(f)
        except ValueError as e:
            print("%s: not JSON: %s" % (doc_path, e))
            bad += 1
            continue
        errors = []
        try:
            checker.check(schema, doc, "$", errors)
        except SchemaError as e:
            print("%s: the schema uses something not implemented: %s" % (argv[1], e))
            return 2
        if errors:
            bad += 1
            for e in errors:
                print("%s: %s" % (doc_path, e))
        else:
            print("ok %s" % doc_path)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
