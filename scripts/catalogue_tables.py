#!/usr/bin/env python3
"""Rewrites the "Checks by area" tables and the counts in docs/catalogue.md from
`kubeharden checks --format json` (a test fails when a check is missing from the page).

usage: scripts/catalogue_tables.py [build/kubeharden]
"""
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AREAS = [("pod", "Pod specs"), ("image", "Images"), ("secrets", "Secrets"), ("ns", "Namespaces"),
         ("network", "Network and exposure"), ("rbac", "RBAC"),
         ("pss", "Pod Security Standards"), ("misc", "Policy objects and APIs"),
         ("cp", "Control plane"),
         ("cluster", "Live cluster: versions, drift and running images"),
         ("encryption", "Encryption at rest"),
         ("audit-policy", "Audit policy"),
         ("audit-event", "Audit log detections"), ("admission", "Admission configuration"),
         ("kubeconfig", "Kubeconfig files"), ("dockerfile", "Dockerfiles"),
         ("rel", "Reliability (opt-in group)")]


# A paragraph under an area's heading, where one says more than the title.
INTROS = {
    "cluster": "The live cluster's Kubernetes against a dated release table, and replicas of one "
               "workload that\nstopped behaving alike (`cluster scan`, snapshots, or the same "
               "objects in files;\n[cluster.md](cluster.md#versions)).",
    "encryption": "The EncryptionConfiguration a kube-apiserver's `--encryption-provider-config` "
                  "names, judged as the\nAPI server reads it ([audit.md](audit.md#encryption-at-rest)).",
    "admission": "The API server's AdmissionConfiguration and PodSecurityConfiguration files "
                 "([audit.md](audit.md#admission-configuration)).",
    "kubeconfig": "Kubeconfig files, given or found in directories by their content "
                  "([audit.md](audit.md#kubeconfig-files)).",
    "audit-event": "Requests in the API server's audit logs, judged by `kubeharden audit detect` "
                   "(or `scan` of\nEvent files); bodies are judged by the checks `scan` runs "
                   "([audit.md](audit.md#detections)).",
    "audit-policy": "An audit Policy simulated with the API server's first-match semantics over probe "
             "requests\n([audit.md](audit.md#the-audit-policy)).",
}


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "kubeharden")
    checks = json.loads(subprocess.run([binary, "checks", "--format", "json"], check=True,
                                       capture_output=True, text=True).stdout)["checks"]
    out = []
    for prefix, title in AREAS:
        cs = [c for c in checks if c["id"].startswith(prefix + "-")]
        if not cs:
            continue  # an area whose checks are still to come
        intro = "\n" + INTROS[prefix] + "\n" if prefix in INTROS else ""
        out.append("\n### %s (%d)\n%s\n| check | severity | default | finds |\n|---|---|---|---|"
                   % (title, len(cs), intro))
        for c in cs:
            out.append("| [`%s`](checks/%s.md) | %s | %s | %s |" % (
                c["id"], c["id"], c["severity"], "on" if c["enabledByDefault"] else "opt-in",
                c["title"]))
    path = os.path.join(ROOT, "docs", "catalogue.md")
    with open(path) as f:
        text = f.read()
    a = text.index("## Checks by area\n") + len("## Checks by area\n")
    b = text.index("\n## Coverage of the merged catalogue")
    text = text[:a] + "\n".join(out) + "\n" + text[b:]
    rel = sum(c["id"].startswith("rel-") for c in checks)
    on = sum(c["enabledByDefault"] for c in checks)
    text = re.sub(r"kubeharden ships \d+ checks: \d+ security checks \(\d+ on by default",
                  "kubeharden ships %d checks: %d security checks (%d on by default"
                  % (len(checks), len(checks) - rel, on), text)
    with open(path, "w") as f:
        f.write(text)
    print("%d checks, %d security (%d on by default), %d reliability"
          % (len(checks), len(checks) - rel, on, rel))


if __name__ == "__main__":
    main()
