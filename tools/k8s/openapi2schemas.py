#!/usr/bin/env python3
"""Write kubeconform schemas from the Kubernetes OpenAPI spec and from CRDs.

kubeconform looks a resource's schema up by kind and apiVersion with the
`-schema-location` template used by tools/k8s/validate.sh:

    <out>/{{ .ResourceKind }}{{ .KindSuffix }}.json

so `apps/v1 Deployment` is `deployment-apps-v1.json`, `v1 Service` is
`service-v1.json` and `kafka.strimzi.io/v1 KafkaTopic` is
`kafkatopic-kafka-v1.json`.

Each file is standalone: the definitions it needs (the transitive closure of
its $refs) are copied into its own `definitions`, so nothing is fetched or
resolved outside the file at validation time. The schemas are strict: every
object schema that lists its properties gets `additionalProperties: false`
unless the API says the object keeps unknown fields, so a misspelled field is
an error, as `kubectl apply --validate=strict` would make it on a cluster.

Only the Python standard library is used, so it runs on a fresh machine.

    openapi2schemas.py k8s <swagger.json> <out-dir>
    openapi2schemas.py crd <swagger.json> <out-dir> <crd.json>...
"""

import copy
import json
import os
import sys

REF_PREFIX = "#/definitions/"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
# Types the API server accepts in two JSON shapes that the OpenAPI v2 spec
# declares only as "string": `port: 8080` and `port: http` are both valid, and
# so are `cpu: 1` and `cpu: 500m`.
INT_OR_STRING = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
QUANTITY = {"oneOf": [{"type": "string"}, {"type": "number"}]}
SPECIAL = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": INT_OR_STRING,
    "io.k8s.apimachinery.pkg.api.resource.Quantity": QUANTITY,
}
# Keywords that carry documentation only; dropped to keep the files small.
DROP = {"description", "example", "externalDocs"}


def kind_suffix(group, version):
    """The suffix kubeconform's template gives `{{ .KindSuffix }}`."""
    if not group:
        return "-" + version.lower()
    return "-" + group.split(".")[0].lower() + "-" + version.lower()


def tighten(node):
    """Rewrite one schema (recursively) into strict JSON Schema for kubeconform."""
    if isinstance(node, list):
        return [tighten(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("x-kubernetes-int-or-string"):
        return copy.deepcopy(INT_OR_STRING)
    if node.get("format") == "int-or-string":
        return copy.deepcopy(INT_OR_STRING)
    out = {}
    for key, value in node.items():
        if key in DROP or key.startswith("x-"):
            continue
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {name: tighten(sub) for name, sub in value.items()}
        else:
            out[key] = tighten(value)
    if node.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    out.pop("nullable", None)
    keeps_unknown = node.get("x-kubernetes-preserve-unknown-fields") is True
    if "properties" in out and "additionalProperties" not in out and not keeps_unknown:
        out["additionalProperties"] = False
    return out


def refs_in(node, found):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            found.add(ref[len(REF_PREFIX):])
        for value in node.values():
            refs_in(value, found)
    elif isinstance(node, list):
        for value in node:
            refs_in(value, found)


def closure(definitions, roots):
    """Names of every definition reachable from `roots` through $ref."""
    seen = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        if name not in definitions:
            raise SystemExit(f"openapi2schemas: unresolved $ref to {name}")
        seen.add(name)
        found = set()
        refs_in(definitions[name], found)
        todo.extend(found - seen)
    return seen


def load_definitions(swagger_path):
    with open(swagger_path, encoding="utf-8") as handle:
        spec = json.load(handle)
    raw = spec.get("definitions")
    if not raw:
        raise SystemExit(f"openapi2schemas: {swagger_path} has no definitions (not an OpenAPI v2 spec?)")
    definitions = {}
    for name, schema in raw.items():
        definitions[name] = copy.deepcopy(SPECIAL[name]) if name in SPECIAL else tighten(schema)
    return raw, definitions


def standalone(root, definitions):
    """`root` plus the definitions it reaches, as one self-contained schema."""
    found = set()
    refs_in(root, found)
    schema = dict(root)
    needed = closure(definitions, found)
    if needed:
        schema["definitions"] = {name: definitions[name] for name in sorted(needed)}
    return schema


def write(out_dir, filename, schema):
    with open(os.path.join(out_dir, filename), "w", encoding="utf-8") as handle:
        json.dump(schema, handle, separators=(",", ":"), sort_keys=True)


def k8s(swagger_path, out_dir):
    raw, definitions = load_definitions(swagger_path)
    count = 0
    for name, schema in raw.items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            kind, group, version = gvk["kind"], gvk.get("group", ""), gvk["version"]
            filename = kind.lower() + kind_suffix(group, version) + ".json"
            root = standalone({"$ref": REF_PREFIX + name}, definitions)
            write(out_dir, filename, root)
            count += 1
    return count


def crd(swagger_path, out_dir, crd_paths):
    _, definitions = load_definitions(swagger_path)
    count = 0
    for crd_path in crd_paths:
        with open(crd_path, encoding="utf-8") as handle:
            document = json.load(handle)
        spec = document["spec"]
        group, kind = spec["group"], spec["names"]["kind"]
        for version in spec["versions"]:
            source = (version.get("schema") or {}).get("openAPIV3Schema")
            if not source or not version.get("served", True):
                continue
            schema = tighten(source)
            # A CRD may only say `metadata: {type: object}`; the API server
            # still validates it as ObjectMeta, so check it as one here too.
            schema.setdefault("properties", {})["metadata"] = {"$ref": REF_PREFIX + OBJECT_META}
            filename = kind.lower() + kind_suffix(group, version["name"]) + ".json"
            write(out_dir, filename, standalone(schema, definitions))
            count += 1
    return count


def main(argv):
    if len(argv) < 4 or argv[1] not in ("k8s", "crd") or (argv[1] == "crd" and len(argv) < 5):
        raise SystemExit(__doc__)
    mode, swagger_path, out_dir = argv[1], argv[2], argv[3]
    os.makedirs(out_dir, exist_ok=True)
    count = k8s(swagger_path, out_dir) if mode == "k8s" else crd(swagger_path, out_dir, argv[4:])
    if count == 0:
        raise SystemExit(f"openapi2schemas: no schema written from {swagger_path}")
    print(f"openapi2schemas: wrote {count} {mode} schemas to {out_dir}")


if __name__ == "__main__":
    main(sys.argv)
