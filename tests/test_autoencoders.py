"""Autoencoder family: DEC's equations, shared pretraining reuse, AE+k-means / DEC / IDEC / DynAE fits."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from clusterbench.blocks import pretrain
from clusterbench.framework.base import DivergenceError
from clusterbench.data import load_dataset
from clusterbench.blocks.dec_loss import kl_divergence, soft_assignment, target_distribution
from clusterbench.framework.registry import resolve_config
from clusterbench.framework.runner import run_seeds

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _pretrained_root(tmp_path, monkeypatch):
    """Every test pretrains into its own folder."""
    monkeypatch.setenv("CLUSTERBENCH_PRETRAINED", str(tmp_path / "pretrained"))
    torch.set_num_threads(1)


def _fit(method, dataset="digits", profile="smoke", seed=0, **overrides):
    data = load_dataset(dataset)
    cls, config = resolve_config(method, dataset, profile, overrides or None)
    instance = cls(config)
    instance.profile = profile
    return data, instance, instance.fit_predict(data, data.n_classes, seed=seed)


# ----------------------------------------------------------------- equations on hand-built inputs

def test_soft_assignment_eq1_by_hand():
    z = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    mu = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    q = soft_assignment(z, mu)
    # kernel (1 + d²)^-1: point 0 → [1, 1/2], normalised [2/3, 1/3]
    assert torch.allclose(q, torch.tensor([[2 / 3, 1 / 3], [1 / 3, 2 / 3]]))
    q3 = soft_assignment(z, mu, alpha=3.0)  # (1 + d²/3)^-2 → [1, 9/16]
    assert torch.allclose(q3[0], torch.tensor([16 / 25, 9 / 25]))


def test_target_distribution_rows_sum_to_one_and_sharpen():
    gen = torch.Generator().manual_seed(0)
    q = torch.softmax(torch.randn(200, 5, generator=gen), dim=1)
    p = target_distribution(q)
    assert torch.allclose(p.sum(1), torch.ones(200))
    entropy = lambda a: -(a * a.log()).sum(1)  # noqa: E731
    assert (p.max(1).values >= q.max(1).values - 1e-6).float().mean() > 0.95
    assert entropy(p).mean() < entropy(q).mean()
    # Eq. (3) by hand: q = [[.6,.4],[.2,.8]], f = [.8, 1.2]
    q2 = torch.tensor([[0.6, 0.4], [0.2, 0.8]])
    w = torch.tensor([[0.36 / 0.8, 0.16 / 1.2], [0.04 / 0.8, 0.64 / 1.2]])
    assert torch.allclose(target_distribution(q2), w / w.sum(1, keepdim=True))


def test_kl_is_keras_kld_batch_mean():
    p = torch.tensor([[0.7, 0.3], [0.1, 0.9], [0.5, 0.5]])
    q = torch.tensor([[0.5, 0.5], [0.2, 0.8], [0.4, 0.6]])
    by_hand = (p * (p / q).log()).sum(1).mean()  # Keras 'kld': sum over clusters, mean over samples
    assert torch.allclose(kl_divergence(p, q), by_hand)


def test_idec_loss_is_mse_element_mean_plus_gamma_kl():
    from clusterbench.baselines.idec import IDEC

    method = IDEC(IDEC.Config(gamma=0.1))
    x = torch.tensor([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]])
    x_hat = torch.zeros_like(x)
    kl = torch.tensor(2.0)
    loss, parts = method.loss(kl, x_hat, x)
    assert float(parts["loss_rec"]) == pytest.approx(8 / 6)
    assert float(loss) == pytest.approx(8 / 6 + 0.2)


def test_dynae_conflicted_mask_by_hand():
    from clusterbench.baselines.dynae import conflicted_mask

    q = torch.tensor([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25], [0.2, 0.5, 0.3]])
    # β1 = 0.3, β2 = 0.15: row 0 confident, row 1 margin 0.05 → conflicted, row 2 margin 0.2 → unconflicted
    assert conflicted_mask(q, 0.3, 0.15).tolist() == [False, True, False]


def test_autoencoder_shape_and_linear_embedding():
    from clusterbench.blocks.nets import Autoencoder, Critic

    ae = Autoencoder(2)  # input narrower than the 10-d embedding: the network is unchanged
    assert ae.dims == [2, 500, 500, 2000, 10]
    assert isinstance(ae.encoder[-1], torch.nn.Linear) and isinstance(ae.decoder[-1], torch.nn.Linear)
    z, x_hat = ae(torch.randn(4, 2))
    assert z.shape == (4, 10) and x_hat.shape == (4, 2) and (z < 0).any()
    assert Critic(2, [8, 8, 8])(torch.randn(4, 2)).shape == (4,)


# ----------------------------------------------------------------- pretraining: reuse, staleness, recipes

def test_pretrained_weights_are_reused_not_retrained(tmp_path):
    data = load_dataset("digits")
    first = pretrain.pretrained_autoencoder(data, "ae_mse", "smoke", 0)
    assert first.trained and first.path.exists() and first.path.with_suffix(".json").exists()
    count, mtime = pretrain.TRAIN_COUNT, first.path.stat().st_mtime_ns
    second = pretrain.pretrained_autoencoder(data, "ae_mse", "smoke", 0)
    assert not second.trained and pretrain.TRAIN_COUNT == count
    assert first.path.stat().st_mtime_ns == mtime
    for a, b in zip(first.ae.state_dict().values(), second.ae.state_dict().values()):
        assert torch.equal(a, b)
    # a changed recipe config makes the stored file stale: retrained, under the same path
    third = pretrain.pretrained_autoencoder(data, "ae_mse", "smoke", 0, overrides={"max_steps": 2})
    assert third.trained and third.hash != first.hash and pretrain.TRAIN_COUNT == count + 1


def test_methods_share_one_pretraining_and_record_it(tmp_path):
    count = pretrain.TRAIN_COUNT
    out = tmp_path / "runs"
    for method in ("ae_kmeans", "dec", "idec"):
        records = run_seeds(method, "digits", [0], profile="smoke", out=out, log=lambda m: None)
        assert records[0]["status"] == "ok"
        info = records[0]["run_info"]["pretrain"]
        assert info["recipe"] == "ae_mse" and info["config"]["hidden"] == [32, 32, 64]
        assert info["trained_in_this_run"] == (method == "ae_kmeans")
    assert pretrain.TRAIN_COUNT == count + 1


def test_training_in_process_or_loading_gives_identical_labels():
    _, _, trained = _fit("dec")  # pretrains
    _, _, loaded = _fit("dec")   # loads the stored weights
    assert np.array_equal(trained.labels, loaded.labels)
    _, _, dyn1 = _fit("dynae")
    _, _, dyn2 = _fit("dynae")
    assert np.array_equal(dyn1.labels, dyn2.labels)


def test_acai_critic_trained_by_default_frozen_as_option():
    data = load_dataset("digits")
    config = pretrain.resolve_recipe("acai", "digits", "smoke")
    X = pretrain.recipe_inputs(data, config)
    trained = pretrain.train_recipe("acai", config, X, data.X.shape[1:], 0, torch.device("cpu"))
    frozen_config = pretrain.resolve_recipe("acai_frozen", "digits", "smoke")
    assert not frozen_config.critic_trained
    frozen = pretrain.train_recipe("acai_frozen", frozen_config, X, data.X.shape[1:], 0, torch.device("cpu"))
    # same seed → same initial critic (train_recipe seeds torch, then builds autoencoder and critic)
    torch.manual_seed(0)
    _, initial = pretrain._build(frozen_config, X.shape[1], with_critic=True)
    assert all(torch.equal(a, b) for a, b in zip(initial.parameters(), frozen.critic.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(initial.parameters(), trained.critic.parameters()))
    assert {"loss_rec", "loss_ae", "loss_critic"} <= set(trained.history[-1])


def test_layerwise_denoising_recipe_runs():
    data = load_dataset("rdc_four_curves")
    config = pretrain.resolve_recipe("ae_denoising", "rdc_four_curves", "smoke")
    bundle = pretrain.train_recipe("ae_denoising", config, pretrain.recipe_inputs(data, config), None, 0,
                                   torch.device("cpu"))
    stages = [row["stage"] for row in bundle.history]
    assert stages[0] == "layer0" and "layer3" in stages and stages[-1] == "finetune"
    assert all(np.isfinite(row["loss"]) for row in bundle.history)


# ----------------------------------------------------------------- fits

def test_ae_kmeans_beats_chance_on_digits():
    from clusterbench.framework.metrics import evaluate

    data, _, result = _fit("ae_kmeans")
    assert result.embedding.shape == (data.n_samples, 10)
    assert evaluate(data.y, result.labels)["acc"] > 0.3  # chance: 0.1


def test_dec_and_idec_follow_their_schedule():
    _, method, result = _fit("dec", max_iter=6, update_interval=2, tol=0.0)
    assert [row["iter"] for row in result.history] == [0, 2, 4, 6]
    assert "loss_kl" in result.history[1] and result.extras["centres"].shape == (10, 10)
    _, _, result = _fit("idec", max_iter=4, update_interval=2, tol=0.0)
    assert {"loss_kl", "loss_rec"} <= set(result.history[1])


def test_divergence_is_a_failed_record(tmp_path):
    records = run_seeds("dec", "digits", [0], profile="smoke", out=tmp_path / "runs",
                        overrides={"lr": 1e12, "momentum": 0.0}, log=lambda m: None)
    assert records[0]["status"] == "failed" and "diverged" in records[0]["reason"]
    data = load_dataset("digits")
    with pytest.raises(DivergenceError):
        pretrain.pretrained_autoencoder(data, "ae_mse", "smoke", 0,
                                        overrides={"optimizer": "sgd", "lr": 1e12, "momentum": 0.0})


# ----------------------------------------------------------------- the DAG shares pretraining

def test_dag_has_one_pretraining_job_per_dataset_and_recipe(tmp_path):
    snakemake = Path(sys.executable).parent / "snakemake"
    shutil.copy(REPO / "Snakefile", tmp_path / "Snakefile")
    shutil.copy(REPO / "environment.yml", tmp_path / "environment.yml")
    shutil.copytree(REPO / "workflow", tmp_path / "workflow")
    shutil.copytree(REPO / "config", tmp_path / "config")
    env = {"PATH": f"{snakemake.parent}:/usr/bin:/bin", "HOME": str(tmp_path), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([str(snakemake), "-n", "--config", "profile=smoke",
                          "methods=[ae_kmeans,dec,idec,dynae]", "--", "reports/table2.md"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=True).stdout
    pretrain_jobs = re.findall(r"rule pretrain:\n(?:.*\n)*?\s+output: (\S+)", out)
    assert sorted(pretrain_jobs) == sorted(f"resources/pretrained/smoke/{d}/{r}/done.json"
                                           for d in ("digits", "rdc_four_curves") for r in ("acai", "ae_mse"))
    inputs = re.findall(r"rule run_method:\n(?:.*\n)*?\s+input: (.*)\n", out)
    for dataset in ("digits", "rdc_four_curves"):
        for method, recipe in (("ae_kmeans", "ae_mse"), ("dec", "ae_mse"), ("idec", "ae_mse"), ("dynae", "acai")):
            line = next(i for i in inputs if f"methods/{method}.yaml" in i and f"/{dataset}.json" in i)
            assert f"resources/pretrained/smoke/{dataset}/{recipe}/done.json" in line


def test_cli_pretrain_writes_weights_beside_done_json(tmp_path, monkeypatch):
    from clusterbench.framework.cli import main
    from clusterbench.framework.atomic import read_json

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLUSTERBENCH_PRETRAINED")
    out = Path("resources/pretrained/smoke/rdc_four_curves/acai/done.json")
    assert main(["pretrain", "--recipe", "acai", "--dataset", "rdc_four_curves", "--profile", "smoke",
                 "--seed", "0-1", "--out", str(out)]) == 0
    done = read_json(out)
    assert done["status"] == "ok" and done["trained"] == [0, 1]
    assert sorted(p.name for p in out.parent.glob("seed*.pt")) == ["seed0.pt", "seed1.pt"]
    # the method finds them through the default root (resources/pretrained in the working directory)
    data, _, result = _fit("dynae", dataset="rdc_four_curves")
    assert result.labels.shape == (data.n_samples,)
    assert main(["pretrain", "--recipe", "acai", "--dataset", "rdc_four_curves", "--profile", "smoke",
                 "--seed", "0-1", "--out", str(out)]) == 0
    assert read_json(out)["trained"] == []
