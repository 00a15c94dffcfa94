#!/usr/bin/env bash
# Soak benchmark: the exporter (release build) against 100 simulated clusters, a third of
# them flapping between states, while 16 clients scrape /metrics without pause and the
# configuration is reloaded (SIGHUP) every minute. Samples resident memory and open file
# descriptors every 10 s and reports crashes, the scrape error rate and the RSS slope over the
# last 20 minutes (or the whole run, when shorter).
# Usage: bench/soak.sh [seconds]   (default 1800)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${1:-1800}
if ! command -v swift >/dev/null && [ -x /opt/swift/usr/bin/swift ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

swift build -c release --product redis-ocsp-exporter >/dev/null
swift build -c release --product redis-ocsp-simulator >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d /tmp/redis-ocsp-soak.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

scenarios=(healthy revoked disabled unsupported stale expiring server_error unauthorized)
args=()
for i in $(seq 1 100); do
  if [ $((i % 3)) -eq 0 ]; then s=changing; else s=${scenarios[$((i % ${#scenarios[@]}))]}; fi
  args+=(--cluster "c$i=$s")
done
"$bin/redis-ocsp-simulator" "${args[@]}" --change-period 10 --ca-out "$work/ca.pem" >"$work/simulator.out" 2>"$work/simulator.err" &
pids+=($!)
for _ in $(seq 1 300); do [ "$(wc -l <"$work/simulator.out")" -ge 100 ] && break; sleep 0.1; done
echo simulated > "$work/password"
{
  echo "poll_interval: 5s"
  echo "timeout: 3s"
  echo "clusters:"
  while read -r name _ url; do
    echo "  - {name: $name, url: \"$url\", username: ocsp-monitor@example.com, password_file: $work/password, tls: {ca_file: $work/ca.pem}}"
  done <"$work/simulator.out"
} >"$work/config.yml"
"$bin/redis-ocsp-exporter" --config.file="$work/config.yml" --web.listen-address=127.0.0.1:0 2>"$work/exporter.err" &
exporter=$!
pids+=($exporter)
port=$(scripts/wait-ready "$work/exporter.err" $exporter 30)
sleep 10  # the first poll rounds

sample() {  # elapsed seconds, RSS in MiB, open fds
  local rss fds
  rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$exporter/status")
  fds=$(ls "/proc/$exporter/fd" | wc -l)
  printf "%6s s  %8s MiB  %5s fds\n" "$1" "$rss" "$fds"
}
echo "soak: 100 clusters (33 flapping every 10 s), 16 clients scraping for $duration s, SIGHUP every 60 s"
echo "   time       RSS        fds"
sample 0 | tee "$work/samples"
wrk -t2 -c16 -d"${duration}s" --timeout 5s "http://127.0.0.1:$port/metrics" >"$work/wrk.out" 2>&1 &
wrkpid=$!
pids+=($wrkpid)
elapsed=0
reloads=0
while kill -0 "$wrkpid" 2>/dev/null; do
  sleep 10 || true
  elapsed=$((elapsed + 10))
  if ! kill -0 "$exporter" 2>/dev/null; then echo "CRASH: the exporter died"; cat "$work/exporter.err"; exit 1; fi
  if [ $((elapsed % 60)) -eq 0 ]; then kill -HUP "$exporter"; reloads=$((reloads + 1)); fi
  [ "$elapsed" -le "$duration" ] && sample "$elapsed" >>"$work/samples"
  [ $((elapsed % 300)) -eq 0 ] && tail -n 1 "$work/samples"
done
wait "$wrkpid" || true
sample end | tee -a "$work/samples"
requests=$(awk '/requests in/ {print $1}' "$work/wrk.out")
errors=$(awk '/Socket errors|Non-2xx/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) s += $i} END {print s + 0}' "$work/wrk.out")
from=$(( duration > 1200 ? duration - 1200 : 0 ))
awk -v from="$from" '$1 ~ /^[0-9]+$/ && $1 >= from { n++; sx += $1; sy += $3; sxx += $1 * $1; sxy += $1 * $3 }
  END { if (n > 1) printf "RSS slope from %d s on: %.3f MiB per 10 min over %d samples\n", from, 600 * (n * sxy - sx * sy) / (n * sxx - sx * sx), n }' "$work/samples"
awk '$1 ~ /^[0-9]+$/ { if (min == "" || $3 < min) min = $3; if ($3 > max) max = $3; if (fmin == "" || $5 < fmin) fmin = $5; if ($5 > fmax) fmax = $5 }
  END { printf "RSS %s-%s MiB, fds %s-%s\n", min, max, fmin, fmax }' "$work/samples"
echo "reloads: $reloads, configuration reloads that failed: $(grep -c 'reload failed' "$work/exporter.err" || true)"
echo "scrapes: $requests, failed: $errors ($(awk -v e="$errors" -v r="$requests" 'BEGIN {printf "%.4f", r ? 100 * e / r : 0}')%)"
grep -E "Requests/sec|Latency" "$work/wrk.out" | sed 's/^ */wrk: /'
if kill -0 "$exporter" 2>/dev/null && ! grep -q "Fatal error" "$work/exporter.err"; then echo "crashes: none"; else echo "crashes: the exporter died"; exit 1; fi
