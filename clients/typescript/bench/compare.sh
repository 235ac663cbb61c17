#!/usr/bin/env bash
# Alternating rounds of BENCH.md's w2_single, w2_bulk and w1 for the
# TypeScript client and BullMQ, on a Redis of their own (flushed before each
# run: never point this at a shared Redis). One JSON line per run.
#
#   redis-server --port 6441 --save '' --appendonly no --daemonize yes
#   BULLMQ_DIR=/tmp/bullbench clients/typescript/bench/compare.sh 6441 3
set -euo pipefail
port="${1:?usage: compare.sh <private redis port> [rounds]}"
rounds="${2:-3}"
here="$(cd "$(dirname "$0")" && pwd)"
url="redis://127.0.0.1:$port"
for round in $(seq 1 "$rounds"); do
  for workload in w2_single w2_bulk w1; do
    for system in jobqueue bullmq; do
      redis-cli -p "$port" flushall >/dev/null
      if [ "$system" = jobqueue ]; then script="$here/bench.mjs"; else script="$here/bullmq_bench.mjs"; fi
      printf '{"round":%s,' "$round"
      node "$script" "$workload" --url "$url" 2>/dev/null | sed 's/^{//'
    done
  done
done
