#!/usr/bin/env bash
# README command 1: install if needed, then run the embedded default to reports/table2.md, the markdown
# leaderboard (reports/leaderboard.md) and the leaderboard site (reports/site/index.html). Its wall time goes
# to reports/command1.md (scripts/record_timing.py).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/setup.sh
after_setup=$(date +%s)
export PATH="$PWD/.venv/bin:$PATH"
snakemake reports/table2.md reports/leaderboard.md reports/site/index.html --cores all "$@"
.venv/bin/python scripts/record_timing.py "$start" "$after_setup" "$(date +%s)" "$@"
