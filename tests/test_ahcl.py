"""AHCL (methods/ahcl.py): Eq. 12-15 on hand-built inputs, the deep graph Y, determinism, registry."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from clusterbench.framework.base import DivergenceError  # noqa: E402
from clusterbench.data import Dataset  # noqa: E402
from clusterbench.framework.registry import resolve_config  # noqa: E402
from clusterbench.methods.ahcl import (AHCL, AHCLConfig, ConvEncoder, ResidualBlock, adaptive_labels,  # noqa: E402
                                       ahcl_loss, ahcl_loss_fused, deep_graph, default_gamma, mse_loss,
                                       pair_distances)

SMOKE = dict(epochs=2, iterations=2, batch_size=64, widths=[4, 8, 8], fc_hidden=16, z_dim=8, mlp_width=16,
             n_init=2, lr_step=1)


def _numpy_loss(Z: np.ndarray, m: float, pair_mean: bool) -> float:
    """Eq. 12-15 written directly (broadcast, no loops) in float64."""
    n = Z.shape[0]
    d = np.sqrt(((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1))
    f, g = d ** 2, np.maximum(m - d, 0) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.where(d >= m, 0.0, np.where(d == 0, 1.0, g / (f + g)))
    total = (y * f + (1 - y) * g).sum()
    return total / (2 * n * n) if pair_mean else total / (2 * n)


def _blobs(n_per: int = 40, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    X = np.concatenate([c + 0.4 * rng.standard_normal((n_per, 2)) for c in centres]).astype(np.float32)
    y = np.repeat(np.arange(3), n_per)
    return Dataset("blobs", X, y, 3)


def test_eq14_branches_and_boundary():
    m = 0.8
    d = torch.tensor([0.0, 0.2, 0.4, 0.7999, 0.8, 1.5], dtype=torch.float64)
    y = adaptive_labels(d, m)
    assert y[0] == 1.0                                      # d = 0
    assert y[1].item() == pytest.approx(0.36 / (0.04 + 0.36))  # g / (f + g)
    assert y[2].item() == pytest.approx(0.5)                # d = m/2: f = g
    assert 0 < y[3].item() < 1e-6                           # just inside the margin
    assert y[4] == 0.0 and y[5] == 0.0                      # d = m and d > m
    assert torch.all(torch.diff(y) <= 0)                    # decreasing in d


def test_labels_in_unit_interval_and_detached():
    Z = torch.randn(50, 4, requires_grad=True)
    d = pair_distances(Z * 0.3)
    y = adaptive_labels(d, 0.75)
    assert not y.requires_grad
    assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0
    assert torch.allclose(torch.diagonal(y), torch.ones(50, dtype=y.dtype))


@pytest.mark.parametrize("pair_mean", [True, False])
def test_loss_matches_direct_evaluation(pair_mean):
    rng = np.random.default_rng(3)
    Z = rng.uniform(0, 0.5, size=(12, 3))
    Z[5] = Z[2]                                             # a duplicate pair: d = 0 off the diagonal
    Zt = torch.tensor(Z, requires_grad=True)
    loss, y = ahcl_loss(Zt, 0.75, pair_mean)
    assert loss.item() == pytest.approx(_numpy_loss(Z, 0.75, pair_mean), rel=1e-6, abs=1e-9)
    loss.backward()
    assert torch.isfinite(Zt.grad).all()                    # finite at d = 0


@pytest.mark.parametrize("pair_mean", [True, False])
@pytest.mark.parametrize("n", [12, 300])
def test_fused_loss_equals_autograd_loss_and_gradient(pair_mean, n):
    """The closed-form gradient of Eq. 15 (y fixed) is autograd's to float rounding; loss and y identical."""
    rng = np.random.default_rng(n)
    Z = rng.standard_normal((n, 16)).astype(np.float32) * (0.75 / np.sqrt(32))   # RMS pair distance = m
    Z[5] = Z[2]                                                                   # d = 0 off the diagonal
    Z[7] = Z[1] * 40.0                                                            # a point beyond m of all
    a = torch.tensor(Z, requires_grad=True)
    b = torch.tensor(Z, requires_grad=True)
    loss_a, y_a = ahcl_loss(a, 0.75, pair_mean)
    loss_b, y_b = ahcl_loss_fused(b, 0.75, pair_mean)
    (3.0 * loss_a).backward()
    (3.0 * loss_b).backward()
    assert loss_b.item() == loss_a.item()
    assert torch.equal(y_a, y_b) and not y_b.requires_grad
    assert torch.isfinite(b.grad).all()
    assert (b.grad - a.grad).norm() <= 1e-6 * a.grad.norm()


def test_channels_last_blocks_keep_their_format_and_gradients():
    """Subsampled shortcut and flatten: same values and gradients as slicing / nn.Flatten, gradients in the
    input's memory format (no slow mixed-format ReLU backward)."""
    torch.manual_seed(0)
    block = ResidualBlock(4, 8, 2, bn=False)
    x = torch.randn(3, 4, 9, 9)
    ref = block.conv2(torch.relu(block.conv1(x))) + block.shortcut(x[:, :, ::2, ::2])
    xl = x.clone().contiguous(memory_format=torch.channels_last).requires_grad_()
    blk = ResidualBlock(4, 8, 2, bn=False)
    blk.load_state_dict(block.state_dict())
    blk = blk.to(memory_format=torch.channels_last)
    out = blk(xl)
    assert torch.allclose(out, torch.relu(ref), atol=1e-5)
    out.sum().backward()
    xr = x.clone().requires_grad_()
    block(xr).sum().backward()
    assert xl.grad.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(xl.grad, xr.grad, atol=1e-5)
    enc = ConvEncoder((1, 8, 8), [4, 4, 8], 1, 16, 4, False).to(memory_format=torch.channels_last)
    fmap = torch.randn(2, 8, 2, 2).contiguous(memory_format=torch.channels_last).requires_grad_()
    flat = enc.fc[0](fmap)
    assert torch.equal(flat, fmap.detach().flatten(1))
    flat.pow(2).sum().backward()
    assert fmap.grad.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(fmap.grad, 2 * fmap.detach())


def test_mse_is_sum_over_values_mean_over_samples():
    X = torch.zeros(4, 1, 2, 2)
    X_hat = torch.full_like(X, 0.5)
    assert mse_loss(X, X_hat).item() == pytest.approx(4 * 0.25)  # Eq. 16


def test_deep_graph_symmetric_and_eq14():
    rng = np.random.default_rng(0)
    Z = rng.normal(scale=0.4, size=(300, 5)).astype(np.float32)
    Y = deep_graph(Z, 0.75, chunk=64)
    dense = Y.toarray()
    assert np.array_equal(dense, dense.T)
    assert dense.min() >= 0 and dense.max() <= 1
    assert np.allclose(np.diag(dense), 1.0)
    d = np.sqrt(((Z[:, None].astype(np.float64) - Z[None]) ** 2).sum(-1))
    f, g = d ** 2, np.maximum(0.75 - d, 0) ** 2
    with np.errstate(invalid="ignore"):
        expected = np.where(d >= 0.75, 0.0, g / (f + g))
    np.fill_diagonal(expected, 1.0)
    assert np.allclose(dense, expected, atol=1e-5)


def test_default_gamma_rule():
    assert default_gamma(1024) == 0.001 and default_gamma(784) == 0.001
    assert default_gamma(256) == 0.01 and default_gamma(2) == 0.01


def test_same_seed_same_labels_and_outputs():
    data = _blobs()
    a = AHCL(AHCLConfig(**SMOKE)).fit_predict(data, 3, seed=5)
    b = AHCL(AHCLConfig(**SMOKE)).fit_predict(data, 3, seed=5)
    assert np.array_equal(a.labels, b.labels)
    for key in ("labels_km_z", "labels_sc_z", "labels_sc_y"):
        assert np.array_equal(a.extras[key], b.extras[key]) and a.extras[key].shape == (120,)
    assert np.array_equal(a.labels, a.extras["labels_sc_y"])        # main row = SC-Y
    assert a.embedding.shape == (120, 8)
    assert [h["epoch"] for h in a.history] == [1, 2] and all(np.isfinite(h["objective"]) for h in a.history)
    assert a.history[0]["batch"] == 64                              # min(batch_size, N)
    c = AHCL(AHCLConfig(**{**SMOKE, "batch_per_cluster": 30})).fit_predict(data, 3, seed=5)
    assert c.history[0]["batch"] == 90                              # 30 per cluster x 3 clusters


def test_image_network_and_clustering_choice():
    rng = np.random.default_rng(1)
    X = rng.uniform(size=(60, 1, 8, 8)).astype(np.float32)
    data = Dataset("noise", X, np.zeros(60, dtype=np.int64), 2)
    r = AHCL(AHCLConfig(**SMOKE, clustering="km_z", snapshot_epochs=[1], z_norm="l2")).fit_predict(data, 2, seed=0)
    assert np.array_equal(r.labels, r.extras["labels_km_z"])
    assert r.extras["z_epoch1"].shape == (60, 8)
    assert np.allclose(np.linalg.norm(r.embedding, axis=1), 1.0, atol=1e-5)  # L2-normalised Z


@pytest.mark.parametrize("z_rms", [None, 1.0])
def test_batch_standardised_z_has_rms_pair_distance_m(z_rms):
    from clusterbench.methods.ahcl import SiameseAE
    torch.manual_seed(0)
    c = AHCLConfig(**SMOKE, z_rms=z_rms)
    model = SiameseAE((5,), c).train()
    Z = model.embed(torch.rand(256, 5))
    d2 = pair_distances(Z.detach()) ** 2
    mean_d2 = float(d2.sum() / (256 * 256))               # = z_rms^2 * (sum of per-dimension variances / k)
    target = (c.margin if z_rms is None else z_rms) ** 2   # default: RMS pair distance = m
    assert 0.8 * target < mean_d2 <= target * (1.0 + 1e-4)  # (below only for near-constant dimensions)


def test_class_block_affinity_on_two_tight_groups():
    from clusterbench.methods.ahcl import class_block_affinity
    rng = np.random.default_rng(0)
    Z = np.concatenate([rng.normal(0, 0.01, (30, 3)), rng.normal(0, 0.01, (20, 3)) + [2.0, 0, 0]]).astype(np.float32)
    y = np.repeat([4, 7], [30, 20])
    block = class_block_affinity(Z, y, m=0.75, chunk=16)    # several chunks
    assert block.shape == (2, 2) and np.allclose(block, block.T, atol=1e-6)
    assert block[0, 1] == 0.0                               # groups 2 apart: every d >= m
    assert block[0, 0] > 0.9 and block[1, 1] > 0.9          # d ~ 0.02 << m/2: y close to 1
    dense = adaptive_labels(pair_distances(torch.as_tensor(Z)), 0.75).numpy()
    assert block[0, 0] == pytest.approx(dense[:30, :30].mean(), abs=1e-4)


def test_scored_clusterings_are_the_recorded_ones():
    from clusterbench.framework.metrics import cluster_acc, nmi
    data = _blobs()
    r = AHCL(AHCLConfig(**SMOKE, snapshot_epochs=[1, 2])).fit_predict(data, 3, seed=0)
    scores = AHCL.scored_diagnostics(r, data.y)
    assert set(scores) == {f"{m}_{c}" for m in ("acc", "nmi_max") for c in ("km_z", "sc_z", "sc_y")}
    assert scores["acc_sc_y"] == pytest.approx(cluster_acc(data.y, r.labels))
    assert scores["nmi_max_km_z"] == pytest.approx(nmi(data.y, r.extras["labels_km_z"], "max"))
    rows = AHCL.scored_history(r, data.y)
    assert [row["epoch"] for row in rows] == [1, 2] and all(0 <= row["nmi_max"] <= 1 for row in rows)
    other = AHCL(AHCLConfig(**SMOKE, snapshot_epochs=[1, 2])).fit_predict(data, 3, seed=1)
    assert not any(k.startswith("z_epoch") for k in other.extras)  # snapshots for seed 0 only


def test_smoke_fit_beats_chance_on_blobs():
    data = _blobs()
    r = AHCL(AHCLConfig(**{**SMOKE, "epochs": 6, "iterations": 5})).fit_predict(data, 3, seed=0)
    from clusterbench.framework.metrics import cluster_acc
    assert cluster_acc(data.y, r.extras["labels_km_z"]) > 0.6


def test_divergence_raises():
    data = _blobs()
    data.X[7, 0] = np.nan                                   # a NaN input makes the objective NaN
    with pytest.raises(DivergenceError):
        AHCL(AHCLConfig(**SMOKE)).fit_predict(data, 3, seed=0)


def test_registry_profiles_resolve():
    _, paper = resolve_config("ahcl", "umist", "paper")
    assert (paper.epochs, paper.iterations, paper.batch_size, paper.lr) == (140, 20, 2000, 1e-3)
    assert paper.gamma == 0.001 and 0.7 <= paper.margin <= 0.8
    _, usps = resolve_config("ahcl", "usps", "paper")
    assert usps.gamma == 0.01 and usps.snapshot_epochs == [1, 20, 140]
    _, quick = resolve_config("ahcl", "digits", "quick")
    assert quick.epochs * quick.iterations <= 20
    _, cpu = resolve_config("ahcl", "umist", "cpu")
    assert (cpu.epochs, cpu.iterations, cpu.lr, cpu.z_dim) == (10, 20, 1e-3, 128) and cpu.gamma == paper.gamma
    assert (cpu.batch_size, cpu.batch_per_cluster, paper.batch_per_cluster) == (256, 20, None)
    _, mse = resolve_config("ahcl_mse", "coil20", "paper")
    assert mse.features == "mse"


def test_trivial_first_epoch_restarts_from_a_new_initialisation():
    """The label-free guard: a first epoch whose mean y_ij exceeds restart_y_mean is discarded and the network
    re-initialised, at most max_restarts times; an untriggered guard leaves the fit unchanged."""
    data = _blobs()
    base = AHCL(AHCLConfig(**SMOKE, restart_y_mean=None)).fit_predict(data, 3, seed=2)
    untriggered = AHCL(AHCLConfig(**SMOKE, restart_y_mean=1.0)).fit_predict(data, 3, seed=2)
    assert untriggered.extras["restarts"] == 0 and base.extras["restarts"] == 0
    assert np.array_equal(base.embedding, untriggered.embedding)
    always = AHCL(AHCLConfig(**SMOKE, restart_y_mean=-1.0, max_restarts=2)).fit_predict(data, 3, seed=2)
    assert always.extras["restarts"] == 2                         # then trains on despite the state
    assert [h["epoch"] for h in always.history] == [1, 2]          # discarded epochs are not recorded
    assert not np.array_equal(always.embedding, base.embedding)    # a different initialisation
    mse = AHCL(AHCLConfig(**SMOKE, features="mse", restart_y_mean=-1.0)).fit_predict(data, 3, seed=2)
    assert mse.extras["restarts"] == 0                             # the MSE ablation does not use Y
