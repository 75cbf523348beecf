#!/usr/bin/env bash
# Runs the side-by-side benchmarks from anywhere (e.g. bench/run.sh -quick from
# the repository root). Flags pass through: -quick, -only, -reps, -pin, -list...
set -euo pipefail
cd "$(dirname "$0")"
exec go run ./bench "$@"
