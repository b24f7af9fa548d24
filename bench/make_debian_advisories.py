#!/usr/bin/env python3
"""Generates N OSV advisories for Debian 12 in a zip archive: make_debian_advisories.py OUT.zip [N]

For the matching benchmark of `make bench`: most advisories name source packages installed on
this machine (so the benchmark image's packages have many candidate records to evaluate); as in
a maintained release, most of those are already fixed below the installed version, one in ten
still affects it (fixed above it, not fixed, or a second window with last_affected); the rest
name packages that are not installed. Deterministic (fixed seed). Nothing is downloaded.
"""
import json
import random
import sys
import zipfile


def installed_sources():
    out = {}
    stanza = {}
    with open("/var/lib/dpkg/status", encoding="utf-8", errors="replace") as f:
        for line in list(f) + ["\n"]:
            if not line.strip():
                if stanza.get("Status", "").endswith(" installed") and "Package" in stanza:
                    src = stanza.get("Source", stanza["Package"])
                    name, _, ver = src.partition(" (")
                    out[name] = ver.rstrip(")") if ver else stanza.get("Version", "1.0")
                stanza = {}
                continue
            if line[0] in " \t" or ":" not in line:
                continue
            k, v = line.split(":", 1)
            stanza[k] = v.strip()
    return out


def bump(version, rng):
    tweak = rng.choice(["~rc1", "+deb12u1", ".1", "-1", "+b1", ""])
    return version + tweak if rng.random() < 0.5 else "1:" + version if rng.random() < 0.1 else "0." + version


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    rng = random.Random(12)
    sources = sorted(installed_sources().items())
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for i in range(n):
            if rng.random() < 0.8 and sources:
                name, version = rng.choice(sources)
            else:
                name, version = f"not-installed-{rng.randrange(20000)}", "1.0-1"
            r = rng.random()
            if r < 0.9:  # fixed long ago
                events = [{"introduced": "0"}, {"fixed": "0." + version}]
            elif r < 0.95:  # fixed in a later version
                events = [{"introduced": "0"}, {"fixed": version + "+deb12u99"}]
            elif r < 0.98:  # no fix yet
                events = [{"introduced": "0"}]
            else:  # a second window
                events = [{"introduced": "0"}, {"fixed": "0.1"}, {"introduced": "0.2"},
                          {"last_affected": bump(version, rng)}]
            rec = {
                "id": f"BENCH-DEB-{i:06d}",
                "modified": "2026-01-01T00:00:00Z",
                "aliases": [f"CVE-2099-{i:05d}"],
                "affected": [{"package": {"ecosystem": "Debian:12", "name": name},
                              "ranges": [{"type": "ECOSYSTEM", "events": events}]}],
            }
            if rng.random() < 0.3:
                rec["severity"] = [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]
            z.writestr(f"BENCH-DEB-{i:06d}.json", json.dumps(rec))
    print(f"{out}: {n} advisories for {len(sources)} installed source packages", file=sys.stderr)


if __name__ == "__main__":
    main()
