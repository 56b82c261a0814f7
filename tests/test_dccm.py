"""DCCM: each loss term on hand-built inputs, pair sampling, networks per input shape, transforms,
determinism, divergence as a failed run, the CIFAR-10 data path, the figure diagnostics."""

import dataclasses
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from clusterbench.blocks.augment import random_affine
from clusterbench.framework.base import DivergenceError, seed_everything
from clusterbench.data import Dataset
from clusterbench.methods.dccm import (DCCM, DCCMConfig, DCCMNet, Discriminator, graph_bcubed, jsd_mi, label_loss, pair_loss,
                          pseudo_graph, pseudo_labels, resolve_arch, sample_pairs, triplet_mi_loss)

TINY = dict(width=4, disc_width=8, mlp_width=16, head_dim=8, epochs=2, max_steps=6, diag_samples=50,
            snapshots=2, init_kmeans=False, batch_size=16)


def _unit(angle):
    return [math.cos(angle), math.sin(angle)]


# --- Eq. 2-3: pseudo-graph and pair loss ---------------------------------------------------------

def test_pseudo_graph_from_known_similarities():
    # cos(z0, z1) = cos(0.25) = 0.969 >= 0.95; cos(z0, z2) = cos(0.35) = 0.939 < 0.95; cos(z1, z2) = cos(0.1)
    z = torch.tensor([_unit(0.3), _unit(0.55), _unit(0.65)], dtype=torch.float64)
    W = pseudo_graph(z, 0.95)
    expected = torch.tensor([[1, 1, 0], [1, 1, 1], [0, 1, 1]], dtype=torch.float64)
    assert torch.equal(W, expected)
    assert torch.equal(pseudo_graph(z, 0.999), torch.eye(3, dtype=torch.float64))  # diagonal always linked
    # the threshold is inclusive: S_ij = thres1 links
    z2 = torch.tensor([[1.0, 0.0], [0.6, 0.8]], dtype=torch.float64)               # cos = 0.6 exactly
    assert pseudo_graph(z2, 0.6)[0, 1] == 1 and pseudo_graph(z2, 0.6000001)[0, 1] == 0


def test_pair_loss_is_bce_on_cosines():
    z = torch.tensor([_unit(0.3), _unit(0.55), _unit(0.65)], dtype=torch.float64)
    W = torch.tensor([[1, 1, 0], [1, 1, 1], [0, 1, 1]], dtype=torch.float64)
    S = torch.tensor([[1, math.cos(0.25), math.cos(0.35)], [math.cos(0.25), 1, math.cos(0.1)],
                      [math.cos(0.35), math.cos(0.1), 1]], dtype=torch.float64).clamp(1e-7, 1 - 1e-7)
    expected = -(W * torch.log(S) + (1 - W) * torch.log(1 - S)).mean()
    assert float(pair_loss(z, W)) == pytest.approx(float(expected), rel=1e-9)
    # one-hot predictions matching the graph: loss at its floor; contradicting it: large
    onehot = torch.eye(3, dtype=torch.float64)[[0, 0, 1]]
    agree = torch.tensor([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=torch.float64)
    assert float(pair_loss(onehot, agree)) < 1e-6
    assert float(pair_loss(onehot, 1 - agree)) > 10


# --- Eq. 7-9: pseudo-labels, confidence mask, label loss ------------------------------------------

def test_pseudo_labels_and_mask_at_threshold():
    z = torch.tensor([[0.9, 0.05, 0.05], [0.1, 0.89, 0.01], [0.02, 0.03, 0.95], [0.4, 0.3, 0.3]],
                     dtype=torch.float64)
    y, V = pseudo_labels(z, 0.9)
    assert y.tolist() == [0, 1, 2, 0]
    assert V.tolist() == [1.0, 0.0, 1.0, 0.0]                                      # p = 0.9 is kept (>=)
    expected = -(math.log(0.9) + math.log(0.95)) / 4                                # averaged over the batch
    assert float(label_loss(z, y, V, "ce")) == pytest.approx(expected, rel=1e-9)
    bce = F.binary_cross_entropy(z, F.one_hot(y, 3).double(), reduction="none").mean(1)
    assert float(label_loss(z, y, V, "bce")) == pytest.approx(float((V * bce).mean()), rel=1e-9)
    assert float(label_loss(z, y, torch.zeros(4, dtype=torch.float64))) == 0.0
    with pytest.raises(ValueError, match="label_loss"):
        label_loss(z, y, V, "mse")


# --- Eq. 13-14: JSD estimator, pair sampling, discriminator ---------------------------------------

def test_jsd_estimator_sign_and_values():
    zero = torch.zeros(100)
    assert float(jsd_mi(zero, zero)) == pytest.approx(-2 * math.log(2))            # T cannot separate J and M
    separable = float(jsd_mi(torch.full((100,), 20.0), torch.full((100,), -20.0)))
    assert -1e-6 < separable <= 0.0                                                 # the supremum, 0
    wrong = float(jsd_mi(torch.full((100,), -5.0), torch.full((100,), 5.0)))
    assert wrong < -2 * math.log(2)                                                 # always <= 0, decreasing in error
    rng = torch.Generator().manual_seed(0)
    for _ in range(5):
        a, b = torch.randn(50, generator=rng) * 3, torch.randn(50, generator=rng) * 3
        assert float(jsd_mi(a, b)) <= 0


def _train_disc(dependent: bool, steps=300):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    disc = Discriminator(2, 2, width=32)
    opt = torch.optim.Adam(disc.parameters(), lr=1e-2)
    for _ in range(steps):
        s = torch.randn(64, 2, 1, 1, generator=g)
        d = s.flatten(1) if dependent else torch.randn(64, 2, generator=g)
        i = torch.arange(64)
        j = torch.randperm(64, generator=g)
        mi = jsd_mi(disc(s, d, i, i), disc(s, d, i, j))
        opt.zero_grad()
        (-mi).backward()
        opt.step()
    return float(mi.detach())


def test_jsd_estimator_separable_versus_identical_inputs():
    """A trained discriminator: clearly above −2 log 2 when d depends on s, at −2 log 2 when J = M."""
    dependent, independent = _train_disc(True), _train_disc(False)
    assert dependent > -0.5
    assert independent == pytest.approx(-2 * math.log(2), abs=0.1)


def test_discriminator_split_first_layer_equals_concatenation():
    torch.manual_seed(0)
    disc = Discriminator(3, 5, width=8)
    s, d = torch.randn(4, 3, 2, 2), torch.randn(4, 5)
    i, j = torch.tensor([0, 1, 2]), torch.tensor([3, 1, 0])
    weight = torch.cat([disc.conv_s.weight, disc.lin_d.weight[:, :, None, None]], 1)
    x = torch.cat([s[i], d[j][:, :, None, None].expand(-1, -1, 2, 2)], 1)
    assert torch.allclose(disc(s, d, i, j), disc.rest(F.conv2d(x, weight)).flatten(1), atol=1e-6)


def test_pair_sampling_strategies_follow_the_graph():
    # two groups {0, 1, 2} and {3, 4}; similarities rank 2 above 1 as 0's partner
    W = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 0, 0], [1, 1, 1, 0, 0], [0, 0, 0, 1, 1], [0, 0, 0, 1, 1.0]])
    S = torch.tensor([[1, .96, .99, .1, .2], [.96, 1, .97, .3, .05], [.99, .965, 1, .2, .1], [.1, .3, .2, 1, .98],
                      [.2, .05, .1, .98, 1.0]])
    g = torch.Generator().manual_seed(0)
    pa, pp, na, nn_ = sample_pairs(W, S, "nearest_random", 2, g)
    assert pa[:5].tolist() == list(range(5)) and pp[:5].tolist() == list(range(5))   # every sample with itself
    assert dict(zip(pa[5:].tolist(), pp[5:].tolist())) == {0: 2, 1: 2, 2: 0, 3: 4, 4: 3}
    assert all(W[a, b] == 0 for a, b in zip(na.tolist(), nn_.tolist())) and len(na) == 10
    _, _, na, nn_ = sample_pairs(W, S, "nearest_farthest", 1, g)
    assert dict(zip(na.tolist(), nn_.tolist())) == {0: 3, 1: 4, 2: 4, 3: 0, 4: 1}
    pa, pp, _, _ = sample_pairs(W, S, "random_random", 1, g)
    assert all(W[a, b] == 1 and a != b for a, b in zip(pa[5:].tolist(), pp[5:].tolist()))
    pa, pp, _, _ = sample_pairs(W, S, "topn_random", 1, g)
    top = sorted(zip(pa[5:].tolist(), pp[5:].tolist()))
    assert top == sorted([(0, 2), (2, 0), (3, 4), (4, 3), (1, 2)])                  # the batch's 5 most similar links
    # a sample without W = 1 partners has only its self pair; a full graph has no negatives
    pa, pp, na, _ = sample_pairs(torch.eye(3), torch.eye(3), "nearest_random", 2, g)
    assert len(pa) == 3 and len(na) == 6
    disc = Discriminator(2, 3, 4)
    loss = triplet_mi_loss(disc, torch.randn(3, 2, 2, 2), torch.randn(3, 3), torch.ones(3, 3), torch.ones(3, 3),
                           "nearest_random", 2, g)
    assert torch.isfinite(loss)
    with pytest.raises(ValueError, match="sampling"):
        sample_pairs(W, S, "closest_random", 1, g)


# --- networks (Table 4) ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape, arch, resize, s_shape", [
    ((3, 32, 32), "cifar", None, (64, 14, 14)),       # the code's 64x14x14 map
    ((1, 28, 28), "cifar", None, (64, 12, 12)),
    ((1, 16, 16), "cifar", 32, (64, 14, 14)),         # USPS: resized to 32
    ((1, 8, 8), "cifar", 32, (64, 14, 14)),
    ((3, 64, 64), "tiny", None, (64, 14, 14)),
    ((3, 96, 96), "stl", None, (64, 22, 22)),
    ((32,), "mlp", None, (256, 1, 1)),
])
def test_network_shapes_per_architecture(shape, arch, resize, s_shape):
    assert resolve_arch("auto", shape) == (arch, resize)
    torch.manual_seed(0)
    net = DCCMNet(shape, 10)
    x = torch.rand(4, *shape)
    z, s, d, logits = net(x)
    assert z.shape == (4, 10) and logits.shape == (4, 10)
    assert torch.allclose(z.sum(1), torch.ones(4)) and (z >= 0).all()           # Eq. 1
    assert s.shape == (4, *s_shape)
    assert d.shape == (4, 256 if arch == "tiny" else 64)
    # the code's initialisation and batch-statistics normalisation
    assert all(torch.equal(m.weight, torch.eye(*m.weight.shape)) for m in net.modules() if isinstance(m, torch.nn.Linear))
    assert all(m.running_mean is None for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))
    net.eval()
    z_eval, *_ = net(x)
    assert torch.allclose(z_eval, z)                                             # eval uses batch statistics too


def test_network_width_and_bad_arch():
    net = DCCMNet((1, 28, 28), 5, width=16)
    assert net.shallow_channels == 16 and net.fc1.in_features == 64
    with pytest.raises(ValueError, match="needs images"):
        DCCMNet((20,), 5, arch="cifar")
    with pytest.raises(ValueError, match="unknown arch"):
        DCCMNet((1, 28, 28), 5, arch="resnet")


# --- transformations (Sec. 3.3) --------------------------------------------------------------------

def test_affine_transform_ranges_and_identity():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(16, 3, 32, 32, generator=g) * 0.6 + 0.2                       # values in [0.2, 0.8]
    y = random_affine(x, gen=g)
    assert y.shape == x.shape and not torch.allclose(y, x)
    lo, hi = x.amin((1, 2, 3)), x.amax((1, 2, 3))
    assert (y.amin((1, 2, 3)) >= lo - 1e-6).all() and (y.amax((1, 2, 3)) <= hi + 1e-6).all()
    same = random_affine(x, degrees=0, shift=0, zoom=(1, 1), hflip=False, channel_shift=0, gen=g)
    assert torch.allclose(same, x, atol=1e-5)
    flipped = random_affine(x[:1].repeat(64, 1, 1, 1), degrees=0, shift=0, zoom=(1, 1), hflip=True,
                            channel_shift=0, gen=g)
    is_flip = torch.tensor([torch.allclose(f, x[0].flip(-1), atol=1e-5) for f in flipped])
    is_same = torch.tensor([torch.allclose(f, x[0], atol=1e-5) for f in flipped])
    assert (is_flip | is_same).all() and is_flip.any() and is_same.any()
    method = DCCM(DCCMConfig())
    views = method._transform(torch.rand(8, 1, 28, 28, generator=g), g)
    assert views.min() >= 0 and views.max() <= 0.95 + 1e-6                      # the code's x 0.95


# --- fits -----------------------------------------------------------------------------------------

def _digits_like(n=96, shape=(1, 12, 12), k=3):
    rng = np.random.default_rng(0)
    y = np.arange(n) % k
    X = rng.random((n, *shape)).astype(np.float32) * 0.3
    for c in range(k):
        X[y == c, ..., c * 3:(c + 1) * 3, :] += 0.7
    return Dataset("toy", X.clip(0, 1), y, k)


@pytest.mark.parametrize("graph_source", ["minibatch", "large_batch"])
def test_fit_is_deterministic_and_records_diagnostics(graph_source):
    data = _digits_like()
    cfg = DCCMConfig(graph_source=graph_source, large_batch=48, repeats=1, n_views=2, **{**TINY, "max_steps": 9})
    runs = []
    for _ in range(2):
        seed_everything(5)
        runs.append(DCCM(cfg).fit_predict(data, 3, seed=5))
    a, b = runs
    assert np.array_equal(a.labels, b.labels) and np.array_equal(a.embedding, b.embedding)
    assert a.labels.shape == (96,) and a.embedding.shape == (96, 8)
    assert [h["epoch"] for h in a.history] == [1, 2] and a.history[-1]["step"] == 9
    assert {"loss", "pg", "pl", "mi", "density", "confident", "mean_max_prob"} <= set(a.history[0])
    assert a.extras["epoch_probs"].shape == (3, 50, 3) and a.extras["epochs"].tolist() == [0, 1, 2]
    assert a.extras["snapshot_features"].shape[1:] == (50, 8) and a.extras["snapshot_epochs"][0] == 0
    assert a.extras["max_prob_init"].shape == (96,) and a.extras["init_labels_argmax"].shape == (96,)


def test_loss_falls_and_ablation_switches():
    data = _digits_like()
    seed_everything(0)
    full = DCCM(DCCMConfig(**{**TINY, "epochs": 8, "max_steps": 0, "lr": 1e-3})).fit_predict(data, 3, seed=0)
    assert full.history[-1]["loss"] < full.history[0]["loss"]
    m1 = DCCM(DCCMConfig(**{**TINY, "local_robustness": False, "alpha": 0.0, "beta": 0.0})).fit_predict(data, 3, seed=0)
    assert all(h["pl"] == 0 and h["mi"] == 0 for h in m1.history)


def test_vectors_fit_with_mlp():
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-2, 0.3, (40, 5)), rng.normal(2, 0.3, (40, 5))]).astype(np.float32)
    data = Dataset("blobs", X, np.repeat([0, 1], 40), 2)
    result = DCCM(DCCMConfig(**TINY)).fit_predict(data, 2, seed=0)
    assert result.labels.shape == (80,) and set(np.unique(result.labels)) <= {0, 1}


def test_nan_input_raises_divergence_and_runner_records_failure(tmp_path, monkeypatch):
    data = _digits_like()
    bad = dataclasses.replace(data, X=np.full_like(data.X, np.nan))
    with pytest.raises(DivergenceError):
        DCCM(DCCMConfig(**TINY)).fit_predict(bad, 3, seed=0)
    # a loss that turns non-finite mid-training also fails the run, recorded with its reason
    from clusterbench.framework import runner
    from clusterbench.framework.registry import resolve_config

    monkeypatch.setattr("clusterbench.methods.dccm.pair_loss", lambda z, W: torch.tensor(float("nan")) + z.sum() * 0)
    cls, config = resolve_config("dccm", "digits", "smoke")
    record = runner.run_one(cls, config, data, method="dccm", profile="smoke", seed=0, device="cpu",
                            directory=tmp_path / "seed0")
    assert record["status"] == "failed" and "DCCM loss" in record["reason"]
    assert not (tmp_path / "seed0" / "labels.npz").exists()


def test_runner_scores_init_baseline_and_graph_bcubed(tmp_path):
    from clusterbench.framework.runner import run_seeds

    records = run_seeds("dccm", "digits", [0], profile="smoke", out=tmp_path, log=lambda *_: None)
    assert records[0]["status"] == "ok"
    assert 0 <= records[0]["diagnostics"]["acc_init_argmax"] <= 1
    import pandas as pd

    scored = pd.read_csv(tmp_path / "smoke" / "digits" / "dccm" / "seed0" / "scored_history.csv")
    assert {"epoch", "threshold", "precision", "recall"} <= set(scored.columns)
    assert scored.precision.between(0, 1).all() and scored.recall.between(0, 1).all()


def test_graph_bcubed_on_hand_built_graph():
    y = np.array([0, 0, 0, 1, 1])
    W = np.eye(5, dtype=bool)
    assert graph_bcubed(W, y) == pytest.approx((1.0, (1 / 3 * 3 + 1 / 2 * 2) / 5))
    perfect = y[:, None] == y[None, :]
    assert graph_bcubed(perfect, y) == pytest.approx((1.0, 1.0))
    full = np.ones((5, 5), dtype=bool)
    assert graph_bcubed(full, y) == pytest.approx(((3 / 5 * 3 + 2 / 5 * 2) / 5, 1.0))


def test_cifar10_real_format_from_loopback_server(monkeypatch, tmp_path):
    """CIFAR-10 in its real archive format, served over HTTP on 127.0.0.1, through the loader into a fit."""
    import data_fakes
    from test_data_download import use_fakes

    from clusterbench.data import load_dataset

    monkeypatch.setenv("CLUSTERBENCH_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("CLUSTERBENCH_MIRROR", raising=False)
    server = data_fakes.FakeServer()
    try:
        use_fakes(monkeypatch, server, "cifar10")
        data = load_dataset("cifar10")
    finally:
        server.close()
    assert data.X.shape == (60, 3, 32, 32) and 0 <= data.X.min() and data.X.max() <= 1
    seed_everything(0)
    result = DCCM(DCCMConfig(**TINY)).fit_predict(data, 10, seed=0)
    assert result.labels.shape == (60,) and result.extras["epoch_probs"].shape[2] == 10


def test_registry_entries_resolve():
    from clusterbench.framework.registry import methods, resolve_config

    for name in ("dccm", "dccm_code", "dccm_m1", "dccm_m2", "dccm_m3", "dccm_v2", "dccm_v3", "dccm_v4"):
        assert name in methods()
        for profile in ("smoke", "quick", "cpu", "paper"):
            dataset = "cifar10"
            _, config = resolve_config(name, dataset, profile)
            DCCM(config)._validate()
    _, paper = resolve_config("dccm", "cifar10", "paper")
    assert (paper.alpha, paper.beta, paper.thres1, paper.thres2, paper.lr) == (5.0, 0.1, 0.95, 0.9, 1e-4)
    _, code = resolve_config("dccm_code", "cifar10", "paper")
    assert (code.beta, code.graph_source, code.n_views, code.label_loss, code.mi_deep) == (
        0.05, "large_batch", 2, "bce", "logits")
    assert resolve_config("dccm_m1", "cifar10", "paper")[1].local_robustness is False


def test_figure_scripts_draw_from_records(tmp_path):
    """workflow/scripts/dccm_figures.py: Figures 3-6 and the cpu summary from recorded runs only."""
    import importlib.util
    from pathlib import Path

    from clusterbench.framework.runner import run_seeds

    script = Path(__file__).resolve().parent.parent / "workflow" / "scripts" / "dccm_figures.py"
    spec = importlib.util.spec_from_file_location("dccm_figures", script)
    figures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(figures)
    run_seeds("dccm", "digits", [0, 1], profile="smoke", out=tmp_path / "runs", log=lambda *_: None)
    run = tmp_path / "runs" / "smoke" / "digits" / "dccm"
    sweep = tmp_path / "sweep" / "thres2_0.5"
    run_seeds("dccm", "digits", [0], profile="smoke", out=sweep, overrides={"thres2": 0.5}, log=lambda *_: None)
    figures.figure3(run / "seed0", tmp_path / "f3.png")
    figures.figure5(run / "seed0", tmp_path / "f5.png")
    figures.figure6(run / "seed0", [sweep], tmp_path / "f6.png")
    figures.figure4(tmp_path / "f4.md")
    figures.cpu_summary([run], tmp_path / "cpu.md")
    for name in ("f3.png", "f5.png", "f6.png"):
        assert (tmp_path / name).stat().st_size > 1000
    assert "metric not computed" in (tmp_path / "f4.md").read_text()
    table = (tmp_path / "cpu.md").read_text()
    assert "| digits | 2/2 |" in table and "untrained ACC (argmax)" in table
