#!/usr/bin/env python3
"""Checks what a schema cannot in the PrometheusRules of a rendered overlay.

    check-prometheus-rules.py <rendered.yaml> <repo root> [<rules out.yaml>]

- every alert has a severity label, a summary and a runbook_url of the form
  docs/operations.md#<anchor>, and that heading exists in docs/operations.md;
- every metric name in an expr is registered by the code (`ephemeral_` + a
  `name: '...'` in apps/*/src/metrics/*.ts, histogram suffixes allowed) or
  listed, with where it comes from, in tools/k8s/external-metrics.txt;
- with a third argument, writes the rule groups as a plain Prometheus rules
  file (for `promtool check rules`).

Needs PyYAML (validate.sh puts its cached copy on PYTHONPATH). Exits 1 with
one line per problem.
"""

import glob
import os
import re
import sys

import yaml

PROMQL_KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
    "group_right", "offset", "bool", "inf", "nan",
}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def code_metric_names(root):
    names = set()
    for path in glob.glob(os.path.join(root, "apps", "*", "src", "metrics", "*.ts")):
        if path.endswith(".spec.ts"):
            continue
        with open(path, encoding="utf-8") as source:
            names.update("ephemeral_" + n for n in re.findall(r"name: '([a-z_]+)'", source.read()))
    return names


def external_metric_names(root):
    names = set()
    with open(os.path.join(root, "tools", "k8s", "external-metrics.txt"), encoding="utf-8") as source:
        for line in source:
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, origin = line.partition(" ")
                if not origin.strip():
                    raise SystemExit(f"external-metrics.txt: {name} says nowhere where it comes from")
                names.add(name)
    return names


def metric_names_in(expr):
    """The metric names an expression selects (best effort, no full parser)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # range durations
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    text = re.sub(r"\boffset\s+\d+[smhdwy]", " ", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        token = match.group(0)
        rest = text[match.end():].lstrip()
        if token.lower() in PROMQL_KEYWORDS or rest.startswith("("):
            continue  # a keyword or a function
        names.add(token)
    return names


def heading_anchors(path):
    anchors = set()
    with open(path, encoding="utf-8") as source:
        for line in source:
            match = re.match(r"#+\s+(.*)", line)
            if match:
                title = match.group(1).strip().lower()
                anchors.add(re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", title)))
    return anchors


def main():
    rendered, root = sys.argv[1], sys.argv[2]
    out = sys.argv[3] if len(sys.argv) > 3 else None
    with open(rendered, encoding="utf-8") as source:
        rules = [d for d in yaml.safe_load_all(source) if d and d.get("kind") == "PrometheusRule"]
    problems = []
    if not rules:
        problems.append(f"{rendered}: no PrometheusRule")
    known = code_metric_names(root) | external_metric_names(root)
    anchors = heading_anchors(os.path.join(root, "docs", "operations.md"))
    groups, alerts = [], 0
    for rule in rules:
        name = rule["metadata"]["name"]
        for group in rule["spec"]["groups"]:
            groups.append(group)
            for entry in group["rules"]:
                alert = entry.get("alert") or entry.get("record")
                alerts += 1
                where = f"PrometheusRule {name}, {group['name']}, {alert}"
                for metric in sorted(metric_names_in(entry["expr"])):
                    base = metric
                    for suffix in HISTOGRAM_SUFFIXES:
                        if metric.endswith(suffix) and metric[: -len(suffix)] in known:
                            base = metric[: -len(suffix)]
                    if base not in known:
                        problems.append(f"{where}: metric {metric} is registered nowhere in apps/*/src/metrics nor listed in tools/k8s/external-metrics.txt")
                if "alert" not in entry:
                    continue
                if not entry.get("labels", {}).get("severity"):
                    problems.append(f"{where}: no severity label")
                annotations = entry.get("annotations", {})
                if not annotations.get("summary"):
                    problems.append(f"{where}: no summary")
                runbook = annotations.get("runbook_url", "")
                match = re.fullmatch(r"docs/operations\.md#([\w-]+)", runbook)
                if not match:
                    problems.append(f"{where}: runbook_url '{runbook}' is not docs/operations.md#<section>")
                elif match.group(1) not in anchors:
                    problems.append(f"{where}: docs/operations.md has no section #{match.group(1)}")
    for problem in problems:
        print(f"FAIL {problem}")
    if out:
        with open(out, "w", encoding="utf-8") as target:
            yaml.safe_dump({"groups": groups}, target, sort_keys=False)
    if problems:
        sys.exit(1)
    print(f"{alerts} rules in {len(groups)} groups: metric names known, runbooks found")


if __name__ == "__main__":
    main()
