"""R-DC figure machinery: the pretraining / DEC / DynAE monitors, the runner's pretraining override and
scored history, and workflow/scripts/rdc_figures.py + rdc_plots.py end to end at the smoke budget."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

REPO = Path(__file__).resolve().parent.parent


def _script(name):
    spec = importlib.util.spec_from_file_location(name, REPO / "workflow" / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _digits():
    from clusterbench.data import load_dataset

    return load_dataset("digits")


def test_pretraining_monitor_is_called_at_log_steps_and_changes_nothing():
    from clusterbench.blocks import pretrain

    data = _digits()
    for recipe in ("ae_mse", "acai_frozen"):
        cfg = pretrain.resolve_recipe(recipe, "digits", "smoke")
        X = pretrain.recipe_inputs(data, cfg)
        calls = []
        plain = pretrain.train_recipe(recipe, cfg, X, data.X.shape[1:], 0, torch.device("cpu"))
        seen = pretrain.train_recipe(recipe, cfg, X, data.X.shape[1:], 0, torch.device("cpu"),
                                     monitor=lambda step, ae: calls.append(step) or {"probe": float(step)})
        assert calls[0] == 0 and calls[1:] == [h["step"] for h in plain.history]
        assert [h["probe"] for h in seen.history] == [float(s) for s in calls]
        for a, b in zip(plain.ae.state_dict().values(), seen.ae.state_dict().values()):
            torch.testing.assert_close(a, b)


def test_dec_and_dynae_monitor_and_phase1_labels():
    from clusterbench.baselines.dec import DEC, DECConfig
    from clusterbench.baselines.dynae import DynAE, DynAEConfig
    from clusterbench.blocks.geometry import latent_geometry
    from clusterbench.blocks.nets import Autoencoder

    data = _digits()
    X = torch.as_tensor(data.flat())
    torch.manual_seed(0)
    ae = Autoencoder(X.shape[1], [16, 16, 32], 4)
    dec = DEC(DECConfig(n_init=2, update_interval=3, max_iter=6))
    dec.monitor = lambda ite, Z, labels: latent_geometry(Z)
    r = dec.cluster(copy.deepcopy(ae), X, 10, seed=0)
    assert all("twonn_id" in h and "lid_pca90" in h for h in r.history)
    assert r.extras["phase1_labels"].shape == (X.shape[0],)
    dyn = DynAE(DynAEConfig(n_init=2, n_init_centres=2, update_interval=3, max_iter=6))
    got = []
    dyn.monitor = lambda ite, Z, labels: got.append(labels) or {"n": int(np.unique(labels).size)}
    r2 = dyn.cluster(copy.deepcopy(ae), X, 10, seed=0, image_shape=data.X.shape[1:])
    assert len(got) == len(r2.history) and all("n" in h for h in r2.history)
    assert r2.extras["phase1_labels"].shape == (X.shape[0],)


def test_runner_pretraining_override_and_scored_history(tmp_path, monkeypatch):
    from clusterbench.framework.runner import run_hash, run_seeds

    monkeypatch.setenv("CLUSTERBENCH_PRETRAINED", str(tmp_path / "pre"))
    over = {"recipe": "acai_frozen", "overrides": {"iterations": 6}}
    rec = run_seeds("rdc", "digits", [0], profile="smoke", out=tmp_path / "runs", pretrain=over,
                    log=lambda *a: None)[0]
    assert rec["status"] == "ok"
    assert rec["run_info"]["pretrain"]["recipe"] == "acai_frozen"
    assert rec["run_info"]["pretrain"]["config"]["iterations"] == 6
    from clusterbench.framework.registry import resolve_config

    cfg = resolve_config("rdc", "digits", "smoke")[1]
    assert rec["config_hash"] == run_hash("rdc", "digits", "smoke", cfg, over) != run_hash("rdc", "digits", "smoke", cfg)
    assert (tmp_path / "runs" / "smoke" / "digits" / "rdc" / "seed0" / "scored_history.csv").exists()


def test_figure_scripts_record_then_plot_at_smoke_budget(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    rec, plots = _script("rdc_figures"), _script("rdc_plots")
    stem = tmp_path / "dyn_digits.npz"
    rec.main(["dynamics", "--dataset", "digits", "--budget", "smoke", "--out", str(stem)])
    meta = json.loads(stem.with_suffix(".json").read_text())
    for key in ("dec", "idec", "dynae", "rdc", "rdc_code_nn"):
        assert 0 <= meta["runs"][key]["metrics"]["acc"] <= 1
    assert all("twonn_id" in h for h in meta["runs"]["pretrain_acai_frozen"]["history"])
    assert len(meta["runs"]["dynae"]["update_acc"]) == len(meta["runs"]["dynae"]["history"])
    assert meta["runs"]["rdc"]["scored_history"][0]["acc"] == pytest.approx(meta["runs"]["rdc"]["phase1_acc"])
    for fig in ("figure1", "figure3", "figure12", "figure13", "figure14", "figure15", "figure18"):
        plots.main([fig, "--dynamics", str(stem.with_suffix(".json")), "--out", str(tmp_path / f"{fig}.png")])
        assert (tmp_path / f"{fig}.png").stat().st_size > 5000
    ablation = tmp_path / "sweeps" / "ablation.csv"
    rec.main(["ablation", "--budget", "smoke", "--datasets", "digits", "--seeds", "0", "--out", str(ablation)])
    assert (tmp_path / "sweeps" / "pretrained").is_dir()                # weights kept apart from the DAG's
    assert len(ablation.read_text().splitlines()) == 5
    plots.main(["table8", "--summary", str(ablation), "--out", str(tmp_path / "t8.md")])
    table = (tmp_path / "t8.md").read_text()
    assert "P1 & P2 & P3" in table and table.count("|") > 20


def test_table6_prints_the_papers_t4_seconds_beside_the_measured(tmp_path):
    plots = _script("rdc_plots")
    rows = [{"dataset": "fmnist", "method": m, "seconds": 12.5, "iterations": 1000, "acc": 0.5, "peak_gpu_mb": 812.0}
            for m in ("dec", "rdc")] + [{"dataset": "mnist5k", "method": "dec", "seconds": 3.0, "iterations": 1000,
                                         "acc": 0.5, "peak_gpu_mb": None}]
    runtime = tmp_path / "runtime.json"
    runtime.write_text(json.dumps({"budget": "paper", "iterations": 1000, "seed": 0, "rows": rows,
                                   "torch_threads": 1, "precision": "tf32",
                                   "provenance": {"device": "cuda:0", "gpu_model": "Tesla T4", "cpu_count": 8,
                                                  "hostname": "h"}}))
    plots.main(["table6", "--runtime", str(runtime), "--out", str(tmp_path / "t6.md")])
    table = (tmp_path / "t6.md").read_text()
    assert "| DEC | 12.5 [T4: 107], 812 MB | 3.0 |" in table           # Table 6: DEC on FMNIST, 107 s
    assert "| R-DC | 12.5 [T4: 425], 812 MB | not run |" in table
    assert "| IDEC | not run [T4: 120] | not run |" in table
    assert "precision tf32" in table and "Tesla T4" in table
