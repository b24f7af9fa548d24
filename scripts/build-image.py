#!/usr/bin/env python3
"""Builds kubeharden's own container image without a Docker daemon, reproducibly.

The root filesystem holds only what the binary needs at run time: the binary (/kubeharden), the
shared libraries it links and those it loads on demand (found from the build: the sonames the
binary names, resolved with the loader's cache, and their dependencies with ldd), the CA bundle,
/etc/os-release, passwd/group entries for the non-root user 65532, /tmp (sticky) and a home
directory, and one dpkg status file per Debian package a file came from
(/var/lib/dpkg/status.d/NAME, as distroless images have them) so that any scanner can identify
them. No shell, no package manager.

Reproducible: entries sorted, owners root (the home directory 65532), fixed modes, every time
stamp the commit's (SOURCE_DATE_EPOCH), gzip without a name or time: two builds of one commit on
one machine give the same image digest.

Writes to OUT: oci/ (an OCI image layout, tagged TAG), kubeharden-TAG.tar (a `docker save`
archive, RepoTags REPOSITORY:TAG) and digest (the manifest digest).
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time

NONROOT = 65532


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def loader_cache():
    """soname -> path, for this machine's architecture, from ldconfig -p."""
    found = {}
    for line in run("/sbin/ldconfig", "-p").splitlines():
        m = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
        if m and "x86-64" in m.group(2) and m.group(1) not in found:
            found[m.group(1)] = m.group(3)
    return found


def ldd(path):
    """The libraries `path` needs: [(name in the loader's view, path on this machine)]."""
    out = []
    for line in run("ldd", path).splitlines():
        line = line.strip()
        m = re.match(r"(\S+) => (\S+) \(", line)
        if m:
            out.append((m.group(1), m.group(2)))
        elif line.startswith("/"):  # the loader itself
            out.append((os.path.basename(line.split()[0]), line.split()[0]))
    return out


def runtime_libraries(binary):
    """Every shared library the binary links or dlopens, with their dependencies: soname -> path."""
    cache = loader_cache()
    wanted = {}
    for name, path in ldd(binary):
        wanted[name] = path
    # Sonames the binary names as strings: the libraries it loads on demand (base/dynlib.h).
    strings = run("strings", "-n", "8", binary)
    for soname in sorted(set(re.findall(r"^(lib[A-Za-z0-9_+.-]+\.so\.[0-9]+)$", strings, re.M))):
        if soname not in wanted and soname in cache:
            wanted[soname] = cache[soname]
            for name, path in ldd(cache[soname]):
                wanted.setdefault(name, path)
    return wanted


def debian_packages(paths):
    """path -> (package, version, architecture, source, source version) for every path a Debian
    package owns, with two dpkg-query calls in all (one per file is seconds slower)."""
    candidates = {}
    for path in paths:
        names = [path, os.path.realpath(path)]
        for c in list(names):
            names.append(c[4:] if c.startswith("/usr/") else "/usr" + c)
        candidates[path] = names
    owner = {}
    r = subprocess.run(["dpkg-query", "-S"] + sorted({c for cs in candidates.values() for c in cs}),
                       capture_output=True, text=True)  # non-zero when some candidate is unowned
    for line in r.stdout.splitlines():
        if line.startswith("diversion "):
            continue
        pkgs, _, file = line.partition(": ")
        owner.setdefault(file, pkgs.split(",")[0].split(":")[0].strip())
    wanted = sorted({owner[c] for cs in candidates.values() for c in cs if c in owner})
    fields = {}
    if wanted:
        out = run("dpkg-query", "-W", "-f",
                  "${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n",
                  *wanted)
        for line in out.splitlines():
            f = tuple(line.split("\t"))
            fields[f[0]] = f
    found = {}
    for path, cs in candidates.items():
        for c in cs:
            if c in owner and owner[c] in fields:
                found[path] = fields[owner[c]]
                break
    return found


class Layer:
    def __init__(self, epoch):
        self.epoch = epoch
        self.entries = {}  # path -> (TarInfo, bytes or None)

    def _info(self, path, kind, mode, uid=0, gid=0):
        ti = tarfile.TarInfo(path)
        ti.type = kind
        ti.mode = mode
        ti.uid, ti.gid = uid, gid
        ti.uname = ti.gname = ""
        ti.mtime = self.epoch
        return ti

    def dir(self, path, mode=0o755, uid=0, gid=0):
        parts = path.strip("/").split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if parent not in self.entries:
                self.entries[parent] = (self._info(parent, tarfile.DIRTYPE, 0o755), None)
        self.entries[path.strip("/")] = (self._info(path.strip("/"), tarfile.DIRTYPE, mode, uid, gid), None)

    def file(self, path, data, mode=0o644):
        path = path.strip("/")
        if os.path.dirname(path) and os.path.dirname(path) not in self.entries:
            self.dir(os.path.dirname(path))
        ti = self._info(path, tarfile.REGTYPE, mode)
        ti.size = len(data)
        self.entries[path] = (ti, data)

    def symlink(self, path, target):
        path = path.strip("/")
        if os.path.dirname(path) and os.path.dirname(path) not in self.entries:
            self.dir(os.path.dirname(path))
        ti = self._info(path, tarfile.SYMTYPE, 0o777)
        ti.linkname = target
        self.entries[path] = (ti, None)

    def tar(self):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
            for path in sorted(self.entries):
                ti, data = self.entries[path]
                t.addfile(ti, io.BytesIO(data) if data is not None else None)
        return buf.getvalue()


def licenses(source_dir):
    """The SPDX expression of kubeharden's licence: the SPDX-License-Identifier line of the
    repository's LICENSE file, or NOASSERTION (SPDX's word for "not stated") while it has none."""
    try:
        with open(os.path.join(source_dir, "LICENSE"), encoding="utf-8") as f:
            for line in f:
                m = re.search(r"SPDX-License-Identifier:\s*(\S.*?)\s*$", line)
                if m:
                    return m.group(1)
    except FileNotFoundError:
        pass
    return "NOASSERTION"


def sha256(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--repository", default="ghcr.io/kubeharden/kubeharden")
    ap.add_argument("--source", default="https://github.com/kubeharden/kubeharden")
    ap.add_argument("--revision", default="")
    ap.add_argument("--epoch", type=int, default=int(os.environ.get("SOURCE_DATE_EPOCH", "0")))
    ap.add_argument("--rootfs", help="also unpack the root filesystem into this directory (the "
                    "Dockerfile copies it into a scratch image)")
    args = ap.parse_args()
    epoch = args.epoch
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))

    layer = Layer(epoch)
    for d in ["etc", "etc/ssl/certs", "usr/lib/x86_64-linux-gnu", "usr/lib64", "var/lib/dpkg/status.d"]:
        layer.dir(d)
    layer.dir("tmp", 0o1777)
    layer.dir("home/nonroot", 0o755, NONROOT, NONROOT)
    layer.symlink("lib", "usr/lib")
    layer.symlink("lib64", "usr/lib64")
    with open(args.binary, "rb") as f:
        layer.file("kubeharden", f.read(), 0o755)

    packages = {}
    libs = runtime_libraries(args.binary)
    ca_owner = "/usr/share/ca-certificates"
    owners = debian_packages(list(libs.values()) + ["/usr/lib/os-release", ca_owner])
    for name, path in sorted(libs.items()):
        with open(os.path.realpath(path), "rb") as f:
            data = f.read()
        if name.startswith("ld-linux"):
            layer.file("usr/lib/x86_64-linux-gnu/" + name, data, 0o755)
            layer.symlink("usr/lib64/" + name, "../lib/x86_64-linux-gnu/" + name)
        else:
            layer.file("usr/lib/x86_64-linux-gnu/" + name, data, 0o644)
        pkg = owners.get(path)
        if pkg is None:
            sys.exit(f"build-image: no Debian package owns {path}: cannot describe it in the image")
        packages[pkg[0]] = pkg

    for path, pkg_path in [("etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs/ca-certificates.crt"),
                           ("etc/os-release", "/usr/lib/os-release")]:
        with open(pkg_path, "rb") as f:
            layer.file(path, f.read())
        pkg = owners.get(ca_owner if path == "etc/ssl/certs/ca-certificates.crt" else pkg_path)
        if pkg:
            packages[pkg[0]] = pkg
    layer.file("etc/passwd", b"root:x:0:0:root:/root:/sbin/nologin\n"
               b"nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")
    layer.file("etc/group", b"root:x:0:\nnonroot:x:65532:\n")
    layer.file("etc/nsswitch.conf", b"passwd: files\ngroup: files\nhosts: files dns\n")
    for name, version, arch, src, src_version in sorted(packages.values()):
        text = f"Package: {name}\nStatus: install ok installed\nVersion: {version}\nArchitecture: {arch}\n"
        if src and src != name:
            text += f"Source: {src}" + (f" ({src_version})" if src_version and src_version != version else "") + "\n"
        layer.file(f"var/lib/dpkg/status.d/{name}", text.encode())

    tar = layer.tar()
    gz = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=gz, mtime=0, compresslevel=6) as g:
        g.write(tar)
    gz = gz.getvalue()
    diff_id, layer_digest = sha256(tar), sha256(gz)

    labels = {
        "org.opencontainers.image.source": args.source,
        "org.opencontainers.image.revision": args.revision,
        "org.opencontainers.image.version": args.tag,
        "org.opencontainers.image.created": created,
        "org.opencontainers.image.title": "kubeharden",
        "org.opencontainers.image.licenses": licenses(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))),
    }
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "config": {
            "User": f"{NONROOT}:{NONROOT}",
            "Entrypoint": ["/kubeharden"],
            "WorkingDir": "/home/nonroot",
            "Env": ["HOME=/home/nonroot", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],
            "Labels": labels,
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": created, "created_by": "scripts/build-image.py (make image)"}],
    }
    config_b = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha256(config_b), "size": len(config_b)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": layer_digest, "size": len(gz)}],
        "annotations": labels,
    }
    manifest_b = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
    digest = sha256(manifest_b)

    out = args.out
    oci = os.path.join(out, "oci")
    shutil.rmtree(oci, ignore_errors=True)
    os.makedirs(os.path.join(oci, "blobs", "sha256"))
    for b in (config_b, gz, manifest_b):
        with open(os.path.join(oci, "blobs", "sha256", sha256(b)[7:]), "wb") as f:
            f.write(b)
    with open(os.path.join(oci, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest,
        "size": len(manifest_b), "platform": {"os": "linux", "architecture": "amd64"},
        "annotations": {"org.opencontainers.image.ref.name": args.tag}}]}
    with open(os.path.join(oci, "index.json"), "w") as f:
        json.dump(index, f, sort_keys=True, separators=(",", ":"))

    # The docker save archive: uncompressed layer, config and manifest.json.
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w", format=tarfile.USTAR_FORMAT) as t:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(data), epoch, 0o644
            t.addfile(ti, io.BytesIO(data))
        add(sha256(config_b)[7:] + ".json", config_b)
        add(diff_id[7:] + "/layer.tar", tar)
        add("manifest.json", json.dumps([{
            "Config": sha256(config_b)[7:] + ".json",
            "RepoTags": [f"{args.repository}:{args.tag}"],
            "Layers": [diff_id[7:] + "/layer.tar"]}], separators=(",", ":")).encode())
    with open(os.path.join(out, f"kubeharden-{args.tag}.tar"), "wb") as f:
        f.write(archive.getvalue())
    if args.rootfs:
        shutil.rmtree(args.rootfs, ignore_errors=True)
        os.makedirs(args.rootfs)
        with tarfile.open(fileobj=io.BytesIO(tar)) as t:
            t.extractall(args.rootfs, numeric_owner=True)
    with open(os.path.join(out, "digest"), "w") as f:
        f.write(digest + "\n")
    print(f"{args.repository}:{args.tag}@{digest}: {len(libs)} libraries from {len(packages)} "
          f"Debian packages, {len(tar) / 1e6:.1f} MB ({len(gz) / 1e6:.1f} MB compressed)")


if __name__ == "__main__":
    main()
