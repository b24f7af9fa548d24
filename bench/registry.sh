#!/usr/bin/env bash
# `make bench`, registry part: the bench image (bench/make_image.py, 1.5 GB of files) pushed by
# skopeo into a local docker-registry (gzip layers, as a push makes them), then scanned by
# reference against the same image as an OCI archive on disk (the same compressed layers).
# Median of 5 runs and peak RSS: cold pulls (no cache), the tarball with and without
# --verify-layers (a pull always verifies), and a warm scan (layer cache filled: manifest and
# config only). With a Trivy binary (TRIVY=/path or `trivy` on PATH) the same registry image is
# scanned by `trivy image --insecure`, its cache emptied each run.
set -euo pipefail
kh=${1:-build-bench/kubeharden}
dir=$(dirname "$kh")
img="$dir/bench-image.tar"
here=$(cd "$(dirname "$0")" && pwd)
for tool in docker-registry skopeo; do
  if ! command -v "$tool" > /dev/null; then
    echo "registry bench: needs $tool (scripts/install-deps installs it); skipped"
    exit 0
  fi
done
if [ ! -f "$img" ]; then
  echo "building $img from this machine's packages ..."
  python3 "$here/make_image.py" "$img"
fi
tmp=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2> /dev/null || true; wait "$pid" 2> /dev/null || true; fi
  if [ -n "${KEEP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/registry.yml" << YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $tmp/store
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$tmp/registry.yml" > "$tmp/registry.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  if python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),1)" 2> /dev/null; then break; fi
  sleep 0.1
done
ref="127.0.0.1:$port/bench/app:1"
start=$(date +%s.%N)
skopeo --insecure-policy copy -q --dest-tls-verify=false "docker-archive:$img" "docker://$ref"
printf "%-52s %6.1f s\n" "skopeo push (gzip compression), for reference" "$(echo "$(date +%s.%N) - $start" | bc)"
skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$ref" "oci-archive:$tmp/bench.oci.tar"
ls -l "$tmp/bench.oci.tar" | awk '{printf "compressed image: %.2f GB (OCI archive of the pushed image)\n", $5/1e9}'

# shellcheck source=bench/measure.sh
source "$here/measure.sh"

measure "from the registry, cold (2 threads)" "$kh" image scan -j 2 -f json="$tmp/pulled.json" "$ref"
pulled=$(cat "$tmp/last")
measure "from the OCI archive, --verify-layers (2 threads)" "$kh" image scan -j 2 --verify-layers -f json="$tmp/local.json" "$tmp/bench.oci.tar"
verified=$(cat "$tmp/last")
measure "from the OCI archive (2 threads)" "$kh" image scan -j 2 -f json="$tmp/local.json" "$tmp/bench.oci.tar"
"$kh" image scan --cache-dir "$tmp/cache" -f json="$tmp/warm.json" "$ref" > /dev/null
measure "from the registry, warm layer cache" "$kh" image scan --cache-dir "$tmp/cache" -f json="$tmp/warm.json" "$ref"
python3 - "$tmp/pulled.json" "$tmp/local.json" "$pulled" "$verified" << 'PY'
import json, sys
def body(p):
    d = json.load(open(p))["images"][0]
    d.pop("image", None)
    # skopeo writes the OCI archive with OCI media types where the registry holds Docker ones.
    for l in d.get("layers", []):
        l.pop("mediaType", None)
    return d
a, b = body(sys.argv[1]), body(sys.argv[2])
for k in sorted(set(a) | set(b)):
    if a.get(k) != b.get(k):
        print(f"  differs: {k}: {json.dumps(a.get(k))[:300]} / {json.dumps(b.get(k))[:300]}")
print(f"pulled / archive (both verified): {float(sys.argv[3]) / float(sys.argv[4]):.2f}x; "
      f"reports {'identical' if a == b else 'DIFFER'} apart from the source: "
      f"{len(a['packages'])} packages, {a['files']} files, {len(a['secrets'])} secrets")
PY

trivy=${TRIVY:-$(command -v trivy || true)}
if [ -n "$trivy" ] && [ -x "$trivy" ]; then
  # Offline (no vulnerability database), jars skipped (it will not run without downloading its
  # Java database); the pull is the same as ours: every layer over HTTP from the registry.
  cat > "$tmp/trivy.sh" << SH
#!/usr/bin/env bash
rm -rf "$tmp/tc" && mkdir -p "$tmp/tc"
exec "$trivy" image --insecure --cache-dir "$tmp/tc" --skip-db-update --skip-java-db-update \
  --offline-scan --skip-files '**/*.jar' "\$@" "$ref"
SH
  chmod +x "$tmp/trivy.sh"
  measure "Trivy: pull + SBOM (CycloneDX)" "$tmp/trivy.sh" --format cyclonedx -o "$tmp/trivy.json"
  measure "Trivy: pull + secrets" "$tmp/trivy.sh" --scanners secret --format json -o "$tmp/trivy.json"
  measure "kubeharden: pull + SBOM (CycloneDX)" "$kh" image scan -j 2 --no-secrets -f cyclonedx="$tmp/bom.json" "$ref"
  python3 - "$tmp/trivy.json" "$tmp/bom.json" << 'PY'
import json, sys
t = json.load(open(sys.argv[1]))
secrets = sum(len(r.get("Secrets", [])) for r in t.get("Results", []))
b = json.load(open(sys.argv[2]))
print(f"Trivy found {secrets} secrets; kubeharden's SBOM lists {len(b.get('components', []))} components")
PY
else
  echo "(no Trivy binary: set TRIVY=/path to time trivy image --insecure side by side)"
fi
