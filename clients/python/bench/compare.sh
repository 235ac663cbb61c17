#!/usr/bin/env bash
# Runs bench.py (jobqueue's Python client), bullmq_bench.py (BullMQ Python)
# and celery_bench.py (Celery 5) back to back on ONE PRIVATE Redis, in
# alternating rounds, flushing it between runs (never point it at a shared
# Redis: it runs FLUSHALL). Prints one JSON line per run.
#
#   redis-server --port 6471 --save '' --appendonly no --daemonize yes
#   PY=/tmp/venv/bin/python URL=redis://127.0.0.1:6471 ROUNDS=3 clients/python/bench/compare.sh
#
# PY must import jobqueue_client (pip install ./clients/python, or
# PYTHONPATH=clients/python), bullmq and celery.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
PY="${PY:-python3}"
URL="${URL:?set URL to a private Redis (it is flushed between runs)}"
ROUNDS="${ROUNDS:-3}"
WORKLOADS="${WORKLOADS:-w1 w2_single w2_bulk}"
for workload in $WORKLOADS; do
  for round in $(seq 1 "$ROUNDS"); do
    for bench in bench.py bullmq_bench.py celery_bench.py; do
      redis-cli -u "$URL" FLUSHALL >/dev/null
      line="$("$PY" "$here/$bench" "$workload" --url "$URL" 2>/dev/null | tail -1)"
      echo "{\"round\":$round,\"bench\":\"$bench\",\"result\":$line}"
    done
  done
done
