"""NMCE: coding rates against numpy, invariances, Gumbel-softmax, LARS, diagnostics, fits."""

import dataclasses

import numpy as np
import pytest
import torch

from clusterbench.framework.base import DivergenceError, seed_everything
from clusterbench.blocks.coding_rate import coding_rate, coding_rate_per_cluster, mcr2_loss, tcr_loss
from clusterbench.data import Dataset
from clusterbench.blocks.lars import LARS
from clusterbench.methods.nmce import NMCE, NMCEConfig, gumbel_softmax, view_average, zsim_between_within


def _np_R(Z, eps):
    m, p = Z.shape
    return 0.5 * np.linalg.slogdet(np.eye(p) + p / (m * eps) * Z.T @ Z)[1]


def _np_Rc(Z, Pi, eps):
    m, p = Z.shape
    total = 0.0
    for j in range(Pi.shape[1]):
        tr = Pi[:, j].sum() + 1e-8
        cov = Z.T @ np.diag(Pi[:, j]) @ Z
        total += tr / (2 * m) * np.linalg.slogdet(np.eye(p) + p / (tr * eps) * cov)[1]
    return total


@pytest.fixture
def Z():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((60, 7))
    return Z / np.linalg.norm(Z, axis=1, keepdims=True)


def test_coding_rates_match_numpy(Z):
    rng = np.random.default_rng(1)
    Pi = rng.dirichlet(np.ones(4), size=60)                     # soft memberships
    Zt, Pt = torch.tensor(Z), torch.tensor(Pi)
    for eps in (0.5, 0.01):
        assert float(coding_rate(Zt, eps)) == pytest.approx(_np_R(Z, eps), rel=1e-10)
        assert float(coding_rate_per_cluster(Zt, Pt, eps)) == pytest.approx(_np_Rc(Z, Pi, eps), rel=1e-10)
        loss, R, Rc = mcr2_loss(Zt, Pt, eps, gamma=0.7)
        assert float(loss) == pytest.approx(-_np_R(Z, eps) + 0.7 * _np_Rc(Z, Pi, eps), rel=1e-10)
        assert float(tcr_loss(Zt, eps)) == pytest.approx(-_np_R(Z, eps), rel=1e-10)


def test_hard_memberships_give_per_cluster_rates(Z):
    labels = np.arange(60) % 3
    Pi = np.eye(3)[labels]
    expected = sum((labels == j).sum() / 60 * _np_R(Z[labels == j], 0.2) for j in range(3))
    assert float(coding_rate_per_cluster(torch.tensor(Z), torch.tensor(Pi), 0.2)) == pytest.approx(expected)


def test_rate_invariant_to_rotations_and_reduction_nonnegative(Z):
    Q, _ = np.linalg.qr(np.random.default_rng(2).standard_normal((7, 7)))
    Zt = torch.tensor(Z)
    assert float(coding_rate(torch.tensor(Z @ Q), 0.1)) == pytest.approx(float(coding_rate(Zt, 0.1)), rel=1e-10)
    Pi = torch.tensor(np.random.default_rng(3).dirichlet(np.ones(3), size=60))
    # concavity of logdet: R >= R_c for any memberships
    assert float(coding_rate(Zt, 0.1)) >= float(coding_rate_per_cluster(Zt, Pi, 0.1))


def test_gumbel_softmax_shapes_and_temperature():
    logits = torch.randn(500, 5, generator=torch.Generator().manual_seed(0))
    for tau in (0.05, 1.0, 100.0):
        p = gumbel_softmax(logits, tau, torch.Generator().manual_seed(1))
        assert p.shape == (500, 5)
        assert torch.allclose(p.sum(1), torch.ones(500, dtype=p.dtype))
    cold = gumbel_softmax(logits, 0.01, torch.Generator().manual_seed(1))
    hot = gumbel_softmax(logits, 100.0, torch.Generator().manual_seed(1))
    assert float(cold.max(1).values.mean()) > 0.98
    assert float(hot.max(1).values.max()) < 0.25
    a = gumbel_softmax(logits, 1.0, torch.Generator().manual_seed(7))
    b = gumbel_softmax(logits, 1.0, torch.Generator().manual_seed(7))
    assert torch.equal(a, b)
    # with a sharply peaked distribution the sample follows the logits
    peaked = torch.tensor([[20.0, 0.0, 0.0]]).repeat(100, 1)
    assert (gumbel_softmax(peaked, 0.5).argmax(1) == 0).all()


def test_view_average_normalises():
    z1 = torch.nn.functional.normalize(torch.randn(10, 4), dim=1)
    z2 = torch.nn.functional.normalize(torch.randn(10, 4), dim=1)
    z, p = view_average(z1, z2, torch.full((10, 2), 0.2), torch.full((10, 2), 0.8))
    assert torch.allclose(z.norm(dim=1), torch.ones(10))
    assert torch.allclose(p, torch.full((10, 2), 0.5))


def test_zsim_diagnostics_on_hand_built_features():
    Z = np.array([[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 2)
    between, within = zsim_between_within(Z, np.array([0, 0, 0, 1, 1]))
    assert between == pytest.approx(0.0) and within == pytest.approx(1.0)
    Z2 = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    between, within = zsim_between_within(Z2, np.array([0, 0, 1, 1]))
    assert within == pytest.approx(0.0) and between == pytest.approx(0.5)


def test_lars_step_matches_hand_computation():
    w = torch.nn.Parameter(torch.tensor([[3.0, 4.0]]))       # ||w|| = 5
    b = torch.nn.Parameter(torch.tensor([1.0]))
    opt = LARS([w, b], lr=0.1, momentum=0.0, weight_decay=0.01, eta=0.02, clip=True)
    w.grad = torch.tensor([[0.6, 0.8]])                        # ||g|| = 1
    b.grad = torch.tensor([0.5])
    opt.step()
    local = min(0.02 * 5 / (1 + 0.01 * 5 + 1e-8) / 0.1, 1.0)
    expected = torch.tensor([[3.0, 4.0]]) - 0.1 * local * (torch.tensor([[0.6, 0.8]]) + 0.01 * torch.tensor([[3.0, 4.0]]))
    assert torch.allclose(w.data, expected)
    assert torch.allclose(b.data, torch.tensor([1.0 - 0.1 * 0.5]))   # bias: no adaptation, no decay


def _two_blobs(n=120):
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(-3, 0.3, (n // 2, 4)), rng.normal(3, 0.3, (n // 2, 4))]).astype(np.float32)
    return Dataset("blobs", X, np.repeat(np.arange(2), n // 2), 2)


SMALL = dict(backbone="mlp", mlp_width=32, mlp_depth=2, pre_feature_dim=0, z_dim=4, eps=0.1, tau=0.2,
             augmentation="gaussian", noise=0.1, batch_size=64, unit="steps", optimizer="adam",
             schedule="constant", warmup=0, s1_lr=1e-3, s2_lr=1e-3, s3_lr=1e-3, s1_lambda=1.0,
             s2_lambda=1.0, s3_lambda=1.0, log_every=1)


@pytest.mark.parametrize("procedure", ["one_stage", "two_stage", "three_stage"])
def test_fit_is_deterministic(procedure):
    data = _two_blobs()
    cfg = NMCEConfig(procedure=procedure, s1_length=8, s2_length=4, s3_length=4, **SMALL)
    runs = []
    for _ in range(2):
        seed_everything(3)
        runs.append(NMCE(cfg).fit_predict(data, 2, seed=3))
    assert np.array_equal(runs[0].labels, runs[1].labels)
    assert np.array_equal(runs[0].embedding, runs[1].embedding)
    assert runs[0].labels.shape == (120,) and set(np.unique(runs[0].labels)) <= {0, 1}
    assert {h["stage"] for h in runs[0].history} >= {"nmce" if procedure != "three_stage" else "finetune"}


def test_one_stage_separates_two_blobs():
    data = _two_blobs()
    cfg = NMCEConfig(procedure="one_stage", s1_length=150, **{**SMALL, "s1_lambda": 0.5})
    seed_everything(0)
    result = NMCE(cfg).fit_predict(data, 2, seed=0)
    agreement = (result.labels == data.y).mean()
    assert max(agreement, 1 - agreement) > 0.9


def test_nan_input_raises_divergence():
    data = _two_blobs()
    data = dataclasses.replace(data, X=np.full_like(data.X, np.nan))
    with pytest.raises(DivergenceError):
        NMCE(NMCEConfig(procedure="one_stage", s1_length=3, **SMALL)).fit_predict(data, 2, seed=0)


def test_tcr_ensc_on_small_images_with_resnet():
    rng = np.random.default_rng(0)
    X = rng.random((60, 1, 16, 16)).astype(np.float32)
    data = Dataset("imgs", X, np.zeros(60, dtype=np.int64), 3)
    cfg = NMCEConfig(procedure="tcr_ensc", backbone="resnet10_coil", resnet_width=4, pre_feature_dim=16,
                     z_dim=8, eps=0.01, augmentation="coil", batch_size=60, unit="steps", optimizer="adam",
                     schedule="cosine", warmup=0, s1_length=2, s1_lr=1e-3, s1_lambda=20.0, ensc_gamma=50.0)
    seed_everything(0)
    result = NMCE(cfg).fit_predict(data, 3, seed=0)
    assert result.labels.shape == (60,) and result.embedding.shape == (60, 8)
    assert set(np.unique(result.labels)) <= {0, 1, 2}


def test_runner_records_zsim_diagnostics(tmp_path):
    from clusterbench.framework.runner import run_seeds

    records = run_seeds("nmce", "rdc_four_curves", [0], profile="smoke", out=tmp_path, log=lambda *_: None)
    assert records[0]["status"] == "ok"
    diagnostics = records[0]["diagnostics"]
    assert "zsim_true_cluster" in diagnostics and 0.0 <= diagnostics["zsim_true_cluster"] <= 1.0


def test_mlp_elu_matches_torch_elu():
    """The exp-based ELU of the MLP backbone equals F.elu (values and gradients) to float32 rounding."""
    from clusterbench.blocks.backbones import ELU

    x = torch.linspace(-30, 30, 2001).reshape(-1, 3).requires_grad_()
    x_ref = x.detach().clone().requires_grad_()
    y, y_ref = ELU()(x), torch.nn.functional.elu(x_ref)
    assert torch.allclose(y, y_ref, atol=1e-6, rtol=1e-6)
    (y * torch.cos(x)).sum().backward()
    (y_ref * torch.cos(x_ref)).sum().backward()
    assert torch.allclose(x.grad, x_ref.grad, atol=1e-6, rtol=1e-6)


def test_gate_file_covers_table_a1():
    """config/regression_nmce.yaml: every Table A.1 cell is gated or listed as a measured deviation
    (|gap| beyond the tolerance, with an explanation); gated cells name published numbers."""
    from pathlib import Path

    from clusterbench.framework.gate import load_config
    from clusterbench.framework.published import load_published, published_value

    config = load_config(Path(__file__).resolve().parent.parent / "config" / "regression_nmce.yaml")
    published = load_published()
    cells = config["gated"] + config["deviations"]
    expected = {(d, m) for d in ("nmce_two_manifold", "nmce_two_manifold_nonid")
                for m in ("acc", "zsim_true_cluster", "zsim_found_clusters", "zsim_within_cluster")}
    assert {(c["dataset"], c["metric"]) for c in cells} == expected and len(cells) == len(expected)
    assert config["gated"] and all(c["method"] == "nmce" and c["table"] == "A.1" for c in cells)
    for cell in cells:
        assert published_value(published, "nmce", "A.1", "nmce", cell["dataset"], cell["metric"]) is not None
    tolerance = float(config["tolerance"])
    for dev in config["deviations"]:
        scale = 1.0 if dev["metric"] == "acc" else 100.0      # z-sim cells are raw cosines: tolerance / 100
        assert abs(float(dev["gap"])) * scale > tolerance and dev["explanation"].strip()


def test_figure1_script_draws_recorded_labels(tmp_path):
    """workflow/scripts/nmce_figure1.py: one panel per recorded run, budget from the record, missing runs named."""
    import importlib.util
    import json
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "workflow" / "scripts" / "nmce_figure1.py"
    spec = importlib.util.spec_from_file_location("nmce_figure1", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    configs = {"kmeans": {"n_init": 10, "max_iter": 300}, "dec": {"n_init": 20, "max_iter": 20000, "update_interval": 140},
               "nmce": {"s1_length": 30000, "unit": "steps", "batch_size": 4096}}
    for method, config in configs.items():
        directory = tmp_path / "paper" / "nmce_double_spiral" / method / "seed0"
        directory.mkdir(parents=True)
        np.savez(directory / "labels.npz", labels=np.arange(2000) % 2)
        (directory / "record.json").write_text(json.dumps(
            {"status": "ok", "metrics": {"acc": 0.5}, "config": config, "n_samples": 2000}))
    labels, record = module.load_run(tmp_path, "paper", "nmce", 0)
    assert labels.shape == (2000,) and module.budget(record) == "30,000 steps, batch 2,000"
    assert module.budget(module.load_run(tmp_path, "paper", "kmeans", 0)[1]) == "best of 10 restarts"
    assert module.budget(module.load_run(tmp_path, "paper", "dec", 0)[1]) == "at most 20,000 iterations"
    assert module.load_run(tmp_path, "paper", "idec", 0) == (None, None)
    out = tmp_path / "figure1.png"
    module.main(["--runs", str(tmp_path), "--profile", "paper", "--out", str(out)])
    assert out.read_bytes()[:4] == b"\x89PNG"
    # two rows (paper / notebook settings); the second data set has no records: its panels say so
    module.main(["--runs", str(tmp_path), "--profile", "paper", "--out", str(out),
                 "--datasets", "nmce_double_spiral,nmce_double_spiral_notebook"])
    assert out.read_bytes()[:4] == b"\x89PNG"
