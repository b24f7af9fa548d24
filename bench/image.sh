#!/usr/bin/env bash
# `make bench`, image part: `kubeharden image scan` on an image built from this machine's own
# Debian packages (bench/make_image.py: about 1.5 GB of files, two layers, every installed
# package in the dpkg database). Median of 5 runs and peak RSS for: inventory + CycloneDX SBOM,
# then with the secret scan, on 1 and 2 threads, and with a warm layer cache. With a Trivy binary
# (TRIVY=/path or `trivy` on PATH; offline, its own cache emptied each run) the same work by Trivy
# is timed side by side.
set -euo pipefail
kh=${1:-build-bench/kubeharden}
dir=$(dirname "$kh")
img="$dir/bench-image.tar"
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -f "$img" ]; then
  echo "building $img from this machine's packages ..."
  python3 "$here/make_image.py" "$img"
fi
ls -l "$img" | awk '{printf "image: %s, %.2f GB\n", $NF, $5/1e9}'
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# shellcheck source=bench/measure.sh
source "$here/measure.sh"

measure "inventory + SBOM, 2 threads" "$kh" image scan -j 2 --no-secrets -f cyclonedx="$tmp/bom.json" "$img"
measure "inventory + SBOM, 1 thread" "$kh" image scan -j 1 --no-secrets -f cyclonedx="$tmp/bom.json" "$img"
measure "inventory + secrets + config, 2 threads" "$kh" image scan -j 2 -f json="$tmp/out.json" "$img"
measure "inventory + secrets + config, 1 thread" "$kh" image scan -j 1 -f json="$tmp/out.json" "$img"
"$kh" image scan --cache-dir "$tmp/cache" -f json="$tmp/out.json" "$img"
measure "same, warm layer cache" "$kh" image scan --cache-dir "$tmp/cache" -f json="$tmp/out.json" "$img"
python3 - "$tmp/out.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["images"][0]
s = d["secretScan"]
print(f"found: {len(d['packages'])} packages, {d['files']} files, {len(d['secrets'])} secrets "
      f"({s['files']} text files scanned, {s['skippedBinary']} binary, {s['skippedLarge']} large, "
      f"{s['skippedPath']} documentation/test files skipped)")
PY

# Vulnerability matching: the database holds ../shared/vulndata (AlmaLinux, PyPI) and 100,000
# generated Debian 12 advisories; the image's ~840 packages are matched against it.
vulndata="$here/../../shared/vulndata"
adv="$dir/bench-debian-advisories.zip"
if [ ! -f "$adv" ]; then python3 "$here/make_debian_advisories.py" "$adv"; fi
if [ -d "$vulndata" ]; then
  rm -f "$tmp/v.db"
  /usr/bin/time -f "%e" -o "$tmp/imp" "$kh" image db import --db "$tmp/v.db" "$vulndata" > /dev/null
  printf "%-52s %6.2f s\n" "import AlmaLinux + PyPI advisories (8,341 records)" "$(cat "$tmp/imp")"
  /usr/bin/time -f "%e" -o "$tmp/imp" "$kh" image db import --db "$tmp/v.db" "$adv" > /dev/null
  printf "%-52s %6.2f s\n" "import 100,000 generated Debian advisories" "$(cat "$tmp/imp")"
  measure "inventory, 1 thread, no database" "$kh" image scan -j 1 --no-secrets -f json="$tmp/o.json" "$img"
  measure "inventory + matching, 1 thread" "$kh" image scan -j 1 --no-secrets --db "$tmp/v.db" -f json="$tmp/o.json" "$img"
  python3 -c "import json,sys; d=json.load(open(sys.argv[1]))['images'][0]; print(f\"matched: {len(d['vulnerabilities'])} vulnerabilities\")" "$tmp/o.json"
fi

trivy=${TRIVY:-$(command -v trivy || true)}
if [ -n "$trivy" ] && [ -x "$trivy" ]; then
  # Offline; jars skipped because Trivy will not run without downloading its Java database.
  cat > "$tmp/trivy.sh" <<SH
#!/usr/bin/env bash
rm -rf "$tmp/tc" && mkdir -p "$tmp/tc"
exec "$trivy" image --cache-dir "$tmp/tc" --skip-db-update --skip-java-db-update --offline-scan \
  --skip-files '**/*.jar' --input "$img" "\$@"
SH
  chmod +x "$tmp/trivy.sh"
  measure "Trivy: SBOM (CycloneDX)" "$tmp/trivy.sh" --format cyclonedx -o "$tmp/trivy.json"
  measure "Trivy: secrets" "$tmp/trivy.sh" --scanners secret --format json -o "$tmp/trivy.json"
else
  echo "(no Trivy binary: set TRIVY=/path to time it side by side)"
fi
