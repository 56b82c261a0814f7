#!/usr/bin/env bash
# Create .venv (if missing) and install clusterbench with its pinned dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
# torch 2.14.1 / torchvision 0.29.1 are pinned; on the project's machines pip takes them from local disk.
.venv/bin/python -m pip install --quiet -e ".[test]"
# the bench extra (ClustPy) for reports/performance.md and its CI check; optional: the report says when it is missing
.venv/bin/python -m pip install --quiet -e ".[bench]" || echo "setup: the bench extra (ClustPy) did not install; reports/performance.md compares with plain PyTorch only"
