#!/usr/bin/env bash
# README command 1: install if needed, then run the embedded default to reports/table2.md, the markdown
# leaderboard (reports/leaderboard.md) and the leaderboard site (reports/site/index.html).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
exec snakemake reports/table2.md reports/leaderboard.md reports/site/index.html --cores all "$@"
