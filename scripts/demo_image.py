#!/usr/bin/env python3
"""Writes the small image `make demo` scans: demo_image.py OUT.tar

A `docker save` tarball of an Alpine-style application image with three layers, made here with
the standard library (no Docker daemon, nothing downloaded): an apk database, a Python package,
an npm dependency, a credentials file added in one layer and deleted in the next (still in the
image), and a config that runs as root, carries a token in ENV and exposes SSH.
"""
import hashlib
import io
import json
import sys
import tarfile


def tar_of(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


APK = b"""P:musl
V:1.2.4_git20230717-r4
A:x86_64
L:MIT
o:musl
F:lib
R:ld-musl-x86_64.so.1

P:busybox
V:1.36.1-r15
A:x86_64
L:GPL-2.0-only
o:busybox

P:py3-six
V:1.16.0-r8
A:noarch
L:MIT
o:py-six
F:usr/lib/python3.11/site-packages/six-1.16.0.dist-info
R:METADATA

"""


def main():
    out = sys.argv[1]
    layers = [
        tar_of([("etc/os-release", b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\n'
                                   b'PRETTY_NAME="Alpine Linux v3.19"\n'),
                ("lib/apk/db/installed", APK),
                ("usr/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA",
                 b"Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nLicense: MIT\n")]),
        tar_of([("app/package.json", b'{"name":"demo-app","version":"1.0.0"}'),
                ("app/node_modules/lodash/package.json",
                 b'{"name":"lodash","version":"4.17.20","license":"MIT"}'),
                ("app/venv/lib/requests-2.25.0.dist-info/METADATA",
                 b"Metadata-Version: 2.1\nName: requests\nVersion: 2.25.0\nLicense: Apache 2.0\n"),
                ("root/.aws/credentials",
                 b"[default]\naws_access_key_id = AKIAQ3ZT5BWX7KD2MN4R\n")]),
        tar_of([("root/.aws/.wh.credentials", b"")]),
    ]
    diff_ids = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                           "GITHUB_TOKEN=ghp_R2d2C3poL8k4j5h6g7f8d9s0a1q2w3e4r5t6"],
                   "ExposedPorts": {"22/tcp": {}, "8080/tcp": {}},
                   "Cmd": ["node", "/app/server.js"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": "/bin/sh -c #(nop) ADD file:5b1e in / "},
                    {"created_by": "COPY app /app # buildkit"},
                    {"created_by": "RUN /bin/sh -c rm /root/.aws/credentials # buildkit"}],
    }).encode()
    members = [f"{d[7:]}/layer.tar" for d in diff_ids]
    image = [("manifest.json", json.dumps([{"Config": "config.json", "RepoTags": ["demo/app:1.0"],
                                            "Layers": members}]).encode()),
             ("config.json", config)] + list(zip(members, layers))
    with open(out, "wb") as f:
        f.write(tar_of(image))


if __name__ == "__main__":
    main()
