"""AHCL Figures 2-4 (workflow/scripts/ahcl_figures.py) drawn from a recorded smoke run."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("matplotlib")

REPO = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("ahcl_figures", REPO / "workflow" / "scripts" / "ahcl_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_figures_from_recorded_snapshots_and_histories(tmp_path):
    from clusterbench.framework.runner import run_seeds

    run_seeds("ahcl", "digits", [0], profile="smoke", out=tmp_path / "runs",
              overrides={"snapshot_epochs": [1, 2]}, log=lambda m: None)
    run_dir = tmp_path / "runs" / "smoke" / "digits" / "ahcl" / "seed0"
    assert (run_dir / "scored_history.csv").read_text().splitlines()[0] == "epoch,nmi_max,acc"
    figures = _script()
    figures.main(["snapshots", "--run", str(run_dir), "--tsne-samples", "120",
                  "--figure2", str(tmp_path / "f2.png"), "--figure3", str(tmp_path / "f3.png")])
    summary = run_dir.parent / "summary.json"
    summary.write_text(json.dumps({"seeds": [0]}))
    missing = tmp_path / "runs" / "smoke" / "usps" / "ahcl" / "summary.json"   # unavailable: skipped
    missing.parent.mkdir(parents=True)
    missing.write_text("{}")
    figures.main(["convergence", "--summaries", str(summary), str(missing), "--figure4", str(tmp_path / "f4.png")])
    for name in ("f2.png", "f3.png", "f4.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    (run_dir / "labels.npz").rename(run_dir / "all.npz")
    import numpy as np
    np.savez(run_dir / "labels.npz", labels=np.load(run_dir / "all.npz")["labels"])  # a run without snapshots
    with pytest.raises(SystemExit, match="no Z snapshots"):
        figures.main(["snapshots", "--run", str(run_dir), "--figure2", str(tmp_path / "x.png"),
                      "--figure3", str(tmp_path / "y.png")])
