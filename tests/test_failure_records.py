"""Issue 16.7-16.8: numerical failures are failed records, not crashes: a diverging shared pretraining fails
every dependent method and seed with its reason and the table still renders; an overflowing learning rate
is a failed record; one label-free collapse rule makes a collapsed fit a failed record for every method."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from clusterbench.framework.base import COLLAPSE_FRACTION, Result, collapse_reason, numerical_failure
from clusterbench.framework.runner import run_seeds, seed_dir

REPO = Path(__file__).resolve().parent.parent
QUIET = dict(log=lambda *a: None)


# ---------------------------------------------------------------- 16.8 overflow and collapse

def test_an_overflowing_learning_rate_is_a_failed_record(tmp_path):
    records = run_seeds("dec", "digits", [0], profile="smoke", out=tmp_path, overrides={"lr": 1e300}, **QUIET)
    assert records[0]["status"] == "failed" and "overflow" in records[0]["reason"]
    assert "metrics" not in records[0]


def test_the_collapse_rule():
    n = 1000
    assert "one cluster" in collapse_reason(np.zeros(n), 10)
    nearly = np.zeros(n)
    nearly[:5] = np.arange(1, 6)  # 99.5 % in one cluster, five singletons
    assert "99.50 %" in collapse_reason(nearly, 10)
    imbalanced = (np.arange(n) < 30).astype(int)  # 97 / 3: a real minority class stays ok
    assert collapse_reason(imbalanced, 2) is None
    assert collapse_reason(np.arange(n) % 3, 10) is None  # poor (3 of 10 clusters) but not degenerate
    assert collapse_reason(np.zeros(n), 1) is None and COLLAPSE_FRACTION == 0.99


@pytest.mark.parametrize("method", ["kmeans", "spectral", "ae_kmeans"])
def test_a_collapsed_fit_is_a_failed_record_for_every_method(method, tmp_path, monkeypatch):
    from clusterbench.framework.registry import get_method

    cls = get_method(method).load_class()

    def collapsed(self, data, n_clusters, *, seed, device="cpu"):
        return Result(labels=np.zeros(data.n_samples, dtype=np.int64))

    monkeypatch.setattr(cls, "fit_predict", collapsed)
    records = run_seeds(method, "digits", [0], profile="smoke", out=tmp_path, **QUIET)
    assert records[0]["status"] == "failed" and records[0]["reason"].startswith("collapsed")
    directory = seed_dir(tmp_path, "smoke", "digits", method, 0)
    assert np.load(directory / "labels.npz")["labels"].max() == 0  # kept for inspection


def test_numerical_failures_and_bugs_are_told_apart():
    assert numerical_failure(RuntimeError("value cannot be converted to type float without overflow"))
    assert numerical_failure(ValueError("Input X contains NaN."))
    assert numerical_failure(ZeroDivisionError("bug")) is None
    assert numerical_failure(KeyError("n_init")) is None
    assert numerical_failure(ValueError("expected 2 labels")) is None


# ---------------------------------------------------------------- 16.7 divergence in a shared pretraining

def _diverging_config(tmp_path) -> Path:
    """A copy of config/ whose ae_mse smoke recipe has an overflowing learning rate."""
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    recipe_file = config / "pretrain" / "ae_mse.yaml"
    recipe = yaml.safe_load(recipe_file.read_text())
    recipe["profiles"]["smoke"].update(optimizer="sgd", lr=1e300)
    recipe_file.write_text(yaml.safe_dump(recipe))
    return config


def test_diverging_shared_pretraining_fails_every_dependent_run(tmp_path, monkeypatch):
    from clusterbench.blocks import pretrain

    monkeypatch.setenv("CLUSTERBENCH_CONFIG", str(_diverging_config(tmp_path)))
    monkeypatch.setenv("CLUSTERBENCH_PRETRAINED", str(tmp_path / "pretrained"))
    summary = pretrain.pretrain_seeds("ae_mse", "digits", "smoke", [0, 1], root=tmp_path / "pretrained", **QUIET)
    assert summary["status"] == "failed" and set(summary["failed"]) == {"0", "1"}
    assert "overflow" in summary["failed"]["0"]
    trained = pretrain.TRAIN_COUNT
    for method in ("ae_kmeans", "dec", "idec"):
        records = run_seeds(method, "digits", [0, 1], profile="smoke", out=tmp_path / "runs", **QUIET)
        assert [r["status"] for r in records] == ["failed", "failed"], method
        assert all("shared pretraining 'ae_mse'" in r["reason"] and "overflow" in r["reason"] for r in records)
    assert pretrain.TRAIN_COUNT == trained  # the failure is reused, not retrained per method and seed


@pytest.mark.slow
def test_dag_with_a_diverging_pretraining_renders_the_table(tmp_path):
    from test_shell_quoting import _copy_workflow, _snakemake

    _copy_workflow(tmp_path)
    shutil.rmtree(tmp_path / "config")
    _diverging_config(tmp_path)
    result = _snakemake(tmp_path, "reports/table2.md", "--cores", "1", "--config", "profile=smoke",
                        "methods=[kmeans,ae_kmeans,dec]", "datasets=[digits]", "seeds=2")
    assert result.returncode == 0, result.stdout + result.stderr
    for method in ("ae_kmeans", "dec"):
        for seed in (0, 1):
            record = json.loads((tmp_path / f"results/runs/smoke/digits/{method}/seed{seed}/record.json").read_text())
            assert record["status"] == "failed" and "shared pretraining" in record["reason"]
    table = (tmp_path / "reports/table2.md").read_text()
    dec_row = next(line for line in table.splitlines() if line.startswith("| DEC "))
    assert "fail" in dec_row.lower()
    kmeans_row = next(line for line in table.splitlines() if line.startswith("| K-Means "))
    assert "±" in kmeans_row
