#!/usr/bin/env bash
# `make bench`, admission part: `kubeharden serve` under load over HTTPS keep-alive, POSTing a
# recorded AdmissionReview of a 10 KB Deployment-style Pod. Server and load generator share this
# machine's cores. Prints peak throughput (wrk) and the server's CPU per review, latency at half
# the peak rate, and resident memory idle and across a sustained run at full load
# (KH_SOAK_SECONDS, default 60).
#
# Latency at a rate needs requests sent on a schedule: wrk is closed-loop (a connection sends
# when its previous answer arrived, plus a delay in whole milliseconds that its event loop fires
# on millisecond ticks, so paced connections leave together in bursts). kh_loadgen
# (bench/loadgen.cpp) sends open-loop at evenly spaced times (wrk2's method) and at Poisson
# times, counting each request's latency from when it was due; wrk's paced figure is printed
# too, for comparison (docs/design/admission.md, "Measuring latency").
set -euo pipefail
kh=$1
loadgen=${2:-$(dirname "$kh")/kh_loadgen}
root=$(cd "$(dirname "$0")/.." && pwd)
review=$root/bench/data/review-pod-10k.json
port=${KH_BENCH_PORT:-18443}
soak=${KH_SOAK_SECONDS:-60}
tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"$kh" serve --listen "127.0.0.1:$port" --tls-cert "$root/tests/admission/tls/cert-a.pem" \
  --tls-key "$root/tests/admission/tls/key-a.pem" 2>"$tmp/serve.log" &
pid=$!
for _ in $(seq 100); do
  curl -skf "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -skf "https://127.0.0.1:$port/readyz" >/dev/null || { cat "$tmp/serve.log" >&2; exit 1; }
sleep 1

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$pid/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
tck=$(getconf CLK_TCK)
idle_kib=$(rss_kib)

cat >"$tmp/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open("$review", "rb"))
wrk.body = f:read("*a")
f:close()
local d = tonumber(os.getenv("KH_DELAY_MS") or "0")
if d > 0 then delay = function() return d end end
done = function(s, lat, req)
  io.write(string.format("requests=%d seconds=%.3f non2xx=%d errors=%d p50=%.3f p99=%.3f p999=%.3f max=%.3f\n",
    s.requests, s.duration / 1e6, s.errors.status,
    s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout,
    lat:percentile(50) / 1000, lat:percentile(99) / 1000, lat:percentile(99.9) / 1000, lat.max / 1000))
end
EOF

# run CONNECTIONS SECONDS DELAY_MS -> sets requests seconds non2xx errors p50 p99 p999 max cpu
run() {
  local c0 c1
  c0=$(cpu_ticks)
  KH_DELAY_MS=$3 wrk -t1 -c"$1" -d"$2"s --timeout 5s -s "$tmp/post.lua" \
    "https://127.0.0.1:$port/validate?timeout=10s" >"$tmp/wrk.out"
  c1=$(cpu_ticks)
  eval "$(grep '^requests=' "$tmp/wrk.out" | tr ' ' '\n')"
  cpu=$(awk -v t=$((c1 - c0)) -v h="$tck" 'BEGIN {printf "%.2f", t / h}')
}

run 16 3 0  # warm-up
run 16 10 0
peak=$(awk -v r="$requests" -v s="$seconds" 'BEGIN {printf "%d", r / s}')
per_core=$(awk -v r="$requests" -v c="$cpu" 'BEGIN {printf "%d", (c > 0) ? (r / c) : 0}')
peak_bad=$((non2xx + errors))
peak_p99=$p99
echo "peak:      $peak reviews/s (16 connections); server CPU ${cpu} s for $requests reviews = $per_core reviews per server core-second; p99 ${peak_p99} ms; non-2xx+errors $peak_bad"

# Half the peak rate, open loop: evenly spaced and Poisson arrivals over 16 keep-alive
# connections (as many as wrk used for the peak), 10 s measured after 1 s of warm-up.
half=$((peak / 2))
# generate ARRIVALS -> sets requests rate non2xx errors late p50 p90 p99 p999 max
generate() {
  "$loadgen" --port "$port" --path "/validate?timeout=10s" --body "$review" --rate "$half" \
    --arrivals "$1" --connections 16 --seconds 10 --warmup 1 >"$tmp/lg.out"
  eval "$(tr ' ' '\n' <"$tmp/lg.out" | grep -E '^(requests|rate|non2xx|errors|late|p50|p90|p99|p999|max)=')"
}
curl -sk "https://127.0.0.1:$port/metrics" >"$tmp/m0"
generate even
base_p99=$p99
curl -sk "https://127.0.0.1:$port/metrics" >"$tmp/m1"
# The server's own p99 (request read to answer ready) from its histogram: the smallest bucket
# holding 99% of this run's reviews.
server_p99=$(awk '/^kubeharden_admission_duration_seconds_bucket/ {
    match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5)
    if (FILENAME == ARGV[1]) a[le] = $2; else { b[le] = $2; order[++n] = le }
  }
  END { total = b["+Inf"] - a["+Inf"]
        for (i = 1; i <= n; i++) if (b[order[i]] - a[order[i]] >= 0.99 * total) {
          printf "%s", order[i] == "+Inf" ? "+Inf" : order[i] * 1000; exit } }' "$tmp/m0" "$tmp/m1")
late_pct() { awk -v l="$late" -v r="$requests" 'BEGIN {printf "%.1f", (r > 0) ? 100 * l / r : 0}'; }
echo "half peak: $half reviews/s offered, open loop (kh_loadgen), 16 connections, latency from each request's scheduled time:"
echo "  evenly spaced: $rate/s, p50 ${p50} ms, p90 ${p90} ms, p99 ${p99} ms, p99.9 ${p999} ms, max ${max} ms; sent >0.1 ms late $(late_pct)%; non-2xx+errors $((non2xx + errors)); server-side p99 <= ${server_p99} ms"
generate poisson
echo "  Poisson:       $rate/s, p50 ${p50} ms, p90 ${p90} ms, p99 ${p99} ms, p99.9 ${p999} ms, max ${max} ms; sent >0.1 ms late $(late_pct)%; non-2xx+errors $((non2xx + errors))"
# wrk paced to about the same rate: connections that each pause 2 ms between reviews.
conns=$(awk -v p="$peak" 'BEGIN {c = int(p / 2 * 0.0025 + 0.5); print c < 1 ? 1 : c}')
run "$conns" 10 2
echo "  wrk, $conns connections pausing 2 ms (released together on millisecond ticks): $(awk -v r="$requests" -v s="$seconds" 'BEGIN {printf "%d", r / s}')/s, p50 ${p50} ms, p99 ${p99} ms, p99.9 ${p999} ms, max ${max} ms; non-2xx+errors $((non2xx + errors))"

before_kib=$(rss_kib)
run 16 "$soak" 0
after_kib=$(rss_kib)
soak_rate=$(awk -v r="$requests" -v s="$seconds" 'BEGIN {printf "%d", r / s}')
echo "memory:    RSS idle $(awk -v k="$idle_kib" 'BEGIN {printf "%.1f", k / 1024}') MiB; ${soak} s at full load ($soak_rate reviews/s, non-2xx+errors $((non2xx + errors))): $(awk -v k="$before_kib" 'BEGIN {printf "%.1f", k / 1024}') -> $(awk -v k="$after_kib" 'BEGIN {printf "%.1f", k / 1024}') MiB ($(awk -v a="$before_kib" -v b="$after_kib" 'BEGIN {printf "%+.1f", (b - a) * 100 / a}')%)"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
echo "SIGTERM:   exit $status"

# verifyImages with a warm cache: the same review with its three images pinned to a digest whose
# cosign signature (made by Sigstore's JavaScript signer, tests/tools/sigstore-sign.js) is in a
# local docker-registry, on a second server whose config requires it; one review warms the
# cache, then the same evenly spaced load as above. The added latency is this p99 minus the one
# above (the two runs share the machine with the load generator: compare, do not subtract to the
# microsecond; kh_bench's BM_AdmissionVerifyImagesWarmCache gives the added step alone).
if ! command -v docker-registry >/dev/null || ! command -v node >/dev/null ||
  [ ! -d "$root/deps/npm/node_modules/@sigstore/sign" ]; then
  echo "verifyImages: needs docker-registry, node and deps/npm (scripts/install-deps); skipped"
  exit 0
fi
rport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$tmp/registry.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $tmp/store
http:
  addr: 127.0.0.1:$rport
YML
docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
rpid=$!
trap 'kill $rpid 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$rport/v2/" >/dev/null 2>&1 && break
  sleep 0.1
done
digest="sha256:$(printf 'kubeharden bench image' | sha256sum | cut -c1-64)"
node "$root/tests/tools/sigstore-sign.js" --out "$tmp/sig" --key --legacy \
  --image "127.0.0.1:$rport/shop/app@$digest" >"$tmp/sign.log" 2>&1 || { cat "$tmp/sign.log" >&2; exit 1; }
sed -E "s#registry\.example\.com/shop/[a-z-]+:[0-9.]+#127.0.0.1:$rport/shop/app@$digest#g" "$review" >"$tmp/signed-review.json"
cat >"$tmp/verify.yaml" <<YML
admission:
  verifyImages:
    trustedRoot: $tmp/sig/trusted_root.json
    rules:
      - name: shop
        images: ["127.0.0.1:*/shop/**"]
        attestors:
          - key: $tmp/sig/key.pem
YML
"$kh" serve --listen "127.0.0.1:$port" --tls-cert "$root/tests/admission/tls/cert-a.pem" \
  --tls-key "$root/tests/admission/tls/key-a.pem" -c "$tmp/verify.yaml" 2>"$tmp/serve2.log" &
pid=$!
for _ in $(seq 100); do
  curl -skf "https://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
warm=$(curl -sk -H 'Content-Type: application/json' --data-binary "@$tmp/signed-review.json" \
  "https://127.0.0.1:$port/validate?timeout=10s")
case "$warm" in
  *'"kubeharden.io/image-verification":"127.0.0.1:'*'signature verified by key'*) ;;
  *) echo "verifyImages: the warm-up review was not verified: $warm" >&2; exit 1 ;;
esac
# Alternating on this one server, so both see the same machine: the original review (its images
# are governed by no rule: no verification) and the signed one (three cached verdicts).
plain_review=$review
for round in 1 2 3; do
  review=$plain_review
  generate even
  eval "plain_p50_$round=$p50 plain_p99_$round=$p99"
  review=$tmp/signed-review.json
  generate even
  eval "signed_p50_$round=$p50 signed_p99_$round=$p99 signed_bad_$round=$((non2xx + errors))"
done
curl -sk "https://127.0.0.1:$port/metrics" >"$tmp/m2"
hits=$(awk -F' ' '/image_verifications_total\{result="cache"\}/ {print $2}' "$tmp/m2")
misses=$(awk -F' ' '/image_verifications_total\{result="verified"\}/ {print $2}' "$tmp/m2")
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
echo "verifyImages, warm cache, $half/s evenly spaced, alternating 10 s runs on one server (median of 3; each run's p99):"
echo "  images governed by no rule: p50 $(median3 "$plain_p50_1" "$plain_p50_2" "$plain_p50_3") ms, p99 $(median3 "$plain_p99_1" "$plain_p99_2" "$plain_p99_3") ms ($plain_p99_1, $plain_p99_2, $plain_p99_3)"
echo "  three signed images, cached: p50 $(median3 "$signed_p50_1" "$signed_p50_2" "$signed_p50_3") ms, p99 $(median3 "$signed_p99_1" "$signed_p99_2" "$signed_p99_3") ms ($signed_p99_1, $signed_p99_2, $signed_p99_3); non-2xx+errors $((signed_bad_1 + signed_bad_2 + signed_bad_3)); verdicts from the cache $hits, verified $misses"
kill -TERM "$pid"
wait "$pid" || true
pid=""
