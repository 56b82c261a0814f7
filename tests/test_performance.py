"""benchmarks/performance.py at its tiny size: every section renders with numbers (not a timing test)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_performance_report_renders_at_tiny_size(tmp_path):
    out, costs = tmp_path / "performance.md", tmp_path / "costs.csv"
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "performance.py"), "--size", "tiny", "--repeats",
                          "1", "--out", str(out), "--costs", str(costs)], capture_output=True, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert run.returncode == 0, run.stderr[-3000:]
    text = out.read_text()
    for section in ("## Start-up and imports", "## k-means on digits", "## SC-Ncut on digits",
                    "## AE-family clustering loops", "## Cheap wins", "## Per-iteration cost of every deep method"):
        assert section in text
    for case in ("k-means: scikit-learn KMeans", "k-means: faiss.Kmeans", "SC-Ncut: scikit-learn SpectralClustering",
                 "DEC loop: plain PyTorch", "AE pretraining step: Adam fused", "AHCL deep graph Y: 18087c1",
                 "AHCL training on digits: suite", "AHCL training on digits: NCHW + autograd Eq. 12-15 (18087c1 layout and loss)"):
        assert f"| {case} |" in text
    job = next(line for line in text.splitlines() if line.startswith("| clusterbench run: k-means on digits"))
    assert "fits CPU s" in job and "outside the fits %" in job
    assert "commit" in text and "Machine:" in text
    rows = list(csv.DictReader(open(costs)))
    assert {"ahcl", "dec", "idec"} <= {r["name"] for r in rows}
    assert all(float(r["per_step_s"]) >= 0 and r["machine"] for r in rows)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_hotpaths_report_names_top_operators_and_functions(tmp_path):
    out = tmp_path / "hotpaths.md"
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "hotpaths.py"), "--case", "ahcl:digits:smoke:4",
                          "--top", "3", "--out", str(out)], capture_output=True, text=True,
                         env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert run.returncode == 0, run.stderr[-3000:]
    text = out.read_text()
    assert "## ahcl on digits, smoke profile, 4 training steps" in text and "commit" in text
    ops = [line for line in text.splitlines() if line.startswith("| aten::") or line.startswith("| Optimizer")]
    funcs = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(ops) == 3 and len(funcs) == 3
    assert all(line.rstrip(" |").endswith("%") for line in ops + funcs)
    bad = subprocess.run([sys.executable, str(REPO / "benchmarks" / "hotpaths.py"), "--case", "ahcl-digits"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "method:dataset:profile:steps" in bad.stderr
