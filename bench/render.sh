#!/usr/bin/env bash
# `make bench`, Helm charts: `kubeharden scan DIR` on a directory of 50 chart sources (the 40
# Bitnami charts of ../shared/charts/bitnami and second copies of the 10 largest, copied to a
# scratch directory), rendered in parallel, against the sequential pipeline it replaces: `helm
# template` on each chart one after the other, then today's scan of the rendered output. Also the
# split for the largest chart (how much is helm). Median of BENCH_RUNS runs.
set -euo pipefail
bin=${1:?kubeharden binary}
runs=${BENCH_RUNS:-5}
root="$(cd "$(dirname "$0")/.." && pwd)"
charts="$root/../shared/charts/bitnami"
helm=${HELM:-$root/deps/npm/node_modules/.bin-tools/helm}
if [ ! -d "$charts" ] || [ ! -x "$helm" ]; then
  echo "render bench: needs $charts and helm ($helm); skipped"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/charts" "$work/out" "$work/home"
cp -r "$charts"/. "$work/charts/"
# The 10 largest charts by rendered size get a second copy (another directory name).
for c in "$charts"/*; do
  printf '%s %s\n' "$(HOME=$work/home "$helm" template release-name "$c" --include-crds 2>/dev/null | wc -c)" "$(basename "$c")"
done | sort -rn | head -10 | while read -r _ name; do cp -r "$charts/$name" "$work/charts/$name-2"; done
n=$(find "$work/charts" -mindepth 1 -maxdepth 1 -type d | wc -l)
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }

seq_times=() scan_times=() kh_times=() kh1_times=()
for _ in $(seq "$runs"); do
  rm -rf "$work/out" && mkdir -p "$work/out"
  s=$(now)
  for c in "$work"/charts/*; do
    HOME=$work/home "$helm" template release-name "$c" --include-crds >"$work/out/$(basename "$c").yaml" 2>/dev/null
  done
  e=$(now)
  seq_times+=("$(echo "$e - $s" | bc)")
  s=$(now)
  "$bin" scan "$work/out" --no-render --fail-on none -f json -o /dev/null
  e=$(now)
  scan_times+=("$(echo "$e - $s" | bc)")
  s=$(now)
  "$bin" scan "$work/charts" --helm "$helm" --fail-on none -f json -o /dev/null
  e=$(now)
  kh_times+=("$(echo "$e - $s" | bc)")
  s=$(now)
  "$bin" scan "$work/charts" --helm "$helm" --fail-on none -j 1 -f json -o /dev/null
  e=$(now)
  kh1_times+=("$(echo "$e - $s" | bc)")
done
helm_s=$(printf '%s\n' "${seq_times[@]}" | median)
scan_s=$(printf '%s\n' "${scan_times[@]}" | median)
kh_s=$(printf '%s\n' "${kh_times[@]}" | median)
kh1_s=$(printf '%s\n' "${kh1_times[@]}" | median)
objects=$("$bin" scan "$work/out" --no-render --fail-on none -f json | python3 -c 'import json,sys; print(json.load(sys.stdin)["objects"])')
awk -v n="$n" -v h="$helm_s" -v sc="$scan_s" -v k="$kh_s" -v k1="$kh1_s" -v o="$objects" 'BEGIN {
  printf "%d chart sources, %d objects rendered\n", n, o
  printf "sequential pipeline: helm template x%d %.2f s + kubeharden scan of the output %.3f s = %.2f s\n", n, h, sc, h + sc
  printf "kubeharden scan DIR (renders in parallel, all cores): %.2f s = %.2fx the sequential pipeline (goal <= 1.1x)\n", k, k / (h + sc)
  printf "kubeharden scan DIR -j 1 (one rendering at a time): %.2f s = %.2fx the sequential pipeline\n", k1, k1 / (h + sc)
  printf "how much is helm: %.0f%% of the sequential pipeline (%.2f s of %.2f s); the scan of its output is %.3f s\n", 100 * h / (h + sc), h, h + sc, sc
}'
# The largest chart: the split between helm and the rest.
big=$(ls -d "$work"/charts/*-2 | head -1)
big=${big%-2}
hs=() ks=()
for _ in $(seq "$runs"); do
  s=$(now); HOME=$work/home "$helm" template release-name "$big" --include-crds >"$work/big.yaml" 2>/dev/null; e=$(now)
  hs+=("$(echo "$e - $s" | bc)")
  s=$(now); "$bin" scan "$big" --helm "$helm" --fail-on none -f json -o /dev/null; e=$(now)
  ks+=("$(echo "$e - $s" | bc)")
done
h1=$(printf '%s\n' "${hs[@]}" | median)
k1=$(printf '%s\n' "${ks[@]}" | median)
awk -v name="$(basename "$big")" -v h="$h1" -v k="$k1" -v b="$(wc -c <"$work/big.yaml")" 'BEGIN {
  printf "largest chart (%s, %d KB rendered): kubeharden scan %.3f s, of which helm template %.3f s (%.0f%%), rendering-side work and checks %.3f s\n",
    name, b / 1024, k, h, 100 * h / k, k - h }'
