#!/usr/bin/env python3
"""Builds the image benchmark input from this machine's own root filesystem.

make_image.py OUT.tar [BUDGET_BYTES]

A `docker save` tarball (legacy layout: manifest.json, a config, one uncompressed layer.tar per
layer) of two layers:
  layer 0: /etc, the dpkg database as it would be with the first half of the installed packages,
           and those packages' files;
  layer 1: the other packages' files and the full dpkg database.
Packages are taken whole, smallest first, until BUDGET_BYTES (default 1.5 GB) of file content is
reached, then laid out in name order; every installed package stays listed in the database (about 900 on a Debian 12 build
machine). Everything is read from the live system; nothing is downloaded. Deterministic for a
given machine: the same packages and files in the same order give the same bytes.
"""
import hashlib
import io
import json
import os
import stat
import sys
import tarfile

BUDGET = int(sys.argv[2]) if len(sys.argv) > 2 else 1_500_000_000


def package_files():
    info = "/var/lib/dpkg/info"
    by_pkg = {}
    for name in sorted(os.listdir(info)):
        if name.endswith(".list"):
            with open(os.path.join(info, name), encoding="utf-8", errors="replace") as f:
                by_pkg[name[:-5]] = [l.rstrip("\n") for l in f if l.strip() not in ("", "/.")]
    return by_pkg


def status_stanzas():
    with open("/var/lib/dpkg/status", encoding="utf-8", errors="replace") as f:
        text = f.read()
    return [s for s in text.split("\n\n") if s.strip()]


def add_path(tar, path, seen):
    if path in seen:
        return 0
    try:
        st = os.lstat(path)
    except OSError:
        return 0
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        return 0
    if stat.S_ISREG(st.st_mode) and not os.access(path, os.R_OK):
        return 0
    seen.add(path)
    ti = tar.gettarinfo(path, arcname=path.lstrip("/"))
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = "root"
    ti.mtime = 0
    if ti.isreg():
        with open(path, "rb") as f:
            tar.addfile(ti, f)
        return ti.size
    tar.addfile(ti)
    return 0


def add_bytes(tar, name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = 0o644
    tar.addfile(ti, io.BytesIO(data))


def main():
    out = sys.argv[1]
    by_pkg = package_files()
    stanzas = status_stanzas()
    sizes = {}
    for p in by_pkg:
        size = 0
        for f in by_pkg[p]:
            try:
                st = os.lstat(f)
                if stat.S_ISREG(st.st_mode):
                    size += st.st_size
            except OSError:
                pass
        sizes[p] = size
    # Smallest packages first, so the budget holds as many real packages as it can.
    chosen, total = [], 0
    for p in sorted(by_pkg, key=lambda p: (sizes[p], p)):
        if total + sizes[p] > BUDGET:
            break
        chosen.append(p)
        total += sizes[p]
    chosen.sort()
    half = set(chosen[: len(chosen) // 2])

    def pkg_of(stanza):
        for line in stanza.splitlines():
            if line.startswith("Package: "):
                return line[9:]
        return ""

    layers = []
    seen = set()
    for index in (0, 1):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            if index == 0:
                for root, dirs, files in os.walk("/etc"):
                    dirs.sort()
                    for n in sorted(dirs + files):
                        add_path(tar, os.path.join(root, n), seen)
            pkgs = [p for p in chosen if (p in half) == (index == 0)]
            for p in pkgs:
                for f in by_pkg[p]:
                    if not f.startswith("/etc/"):
                        add_path(tar, f, seen)
            # The dpkg database as it is after this layer: layer 0 knows its half only.
            keep = [s for s in stanzas if index == 1 or pkg_of(s).split(":")[0] in
                    {h.split(":")[0] for h in half}]
            add_bytes(tar, "var/lib/dpkg/status", ("\n\n".join(keep) + "\n").encode())
            for p in pkgs:
                lst = f"/var/lib/dpkg/info/{p}.list"
                if os.path.exists(lst):
                    with open(lst, "rb") as f:
                        add_bytes(tar, lst.lstrip("/"), f.read())
        layers.append(buf.getvalue())
        print(f"layer {index}: {len(pkgs)} packages, {len(buf.getvalue()) / 1e6:.0f} MB", file=sys.stderr)
    diff_ids = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"User": "10001", "Cmd": ["/bin/bash"]},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids},
                         "history": [{"created_by": "bench layer 0"}, {"created_by": "bench layer 1"}]}).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    with tarfile.open(out + ".tmp", mode="w") as tar:
        members = [f"{d[7:]}/layer.tar" for d in diff_ids]
        add_bytes(tar, "manifest.json", json.dumps([{"Config": config_name,
                                                     "RepoTags": ["kubeharden-bench:rootfs"],
                                                     "Layers": members}]).encode())
        add_bytes(tar, config_name, config)
        for m, l in zip(members, layers):
            add_bytes(tar, m, l)
    os.replace(out + ".tmp", out)
    print(f"{out}: {len(chosen)} packages' files ({total / 1e9:.2f} GB), "
          f"{len(stanzas)} packages in the database", file=sys.stderr)


if __name__ == "__main__":
    main()
