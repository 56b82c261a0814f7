"""R-DC (methods/rdc.py): filtering (Eq. 3-11) on hand-built points, loss terms (Eq. 12-14),
the stopping rule (Eq. 15 / Algorithm 1), determinism, divergence, an end-to-end smoke run."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from clusterbench.methods.rdc import (RDC, Config, centroids, core_points, proximity_structure, rdc_loss,  # noqa: E402
                         reliable_neighbours, should_stop, true_neighbour_shares)

# Distances of five points to their M = 3 nearest neighbours (ascending), with known answers
# for alpha = 0.5, beta = 0.5.
D = np.array([[1.0, 1.0, 1.0],    # r = 1       core; h = 0, 0, 0       -> all reliable
              [1.0, 2.0, 4.0],    # r = 0.25    border
              [2.0, 2.4, 3.0],    # r = 2/3     core; h = 0, 0.4, 1     -> T T F
              [0.0, 0.0, 0.0],    # duplicates: r = 1, core; h = 0      -> all reliable
              [1.0, 1.5, 2.0]])   # r = 0.5 = alpha (>= : core); h = 0, 0.5, 1 -> T T(<=) F


def test_core_points_eq4_5():
    core, r = core_points(D, 0.5)
    np.testing.assert_allclose(r, [1.0, 0.25, 2 / 3, 1.0, 0.5])
    assert core.tolist() == [True, False, True, True, True]


def test_reliable_neighbours_eq7_9():
    core, _ = core_points(D, 0.5)
    rel = reliable_neighbours(D, core, 0.5)
    assert rel.tolist() == [[True, True, True], [False, False, False], [True, True, False],
                            [True, True, True], [True, True, False]]


def test_global_min_radius_variant_makes_beta_absolute():
    # running minimum over core rows 0, 2, 3, 4 in order, starting from row 4's closest (1.0):
    # row 0: min 1 -> h 0 0 0; row 2: min 1 -> h 1, 1.4, 2 (none); row 3: min 0 -> h 0;
    # row 4: min 0 -> h 1, 1.5, 2 (none)
    core, _ = core_points(D, 0.5)
    rel = reliable_neighbours(D, core, 0.5, global_min_radius=True)
    assert rel.tolist() == [[True, True, True], [False] * 3, [False] * 3, [True, True, True], [False] * 3]


def test_centroids_eq11_and_border_keeps_own_code():
    Z = np.array([[0, 0], [2, 0], [0, 4], [10, 10]], dtype=np.float32)
    idx = np.array([[1, 2], [0, 2], [0, 1], [0, 1]])
    rel = np.array([[True, True], [True, False], [False, False], [False, False]])
    sigma = centroids(Z, idx, rel)
    np.testing.assert_allclose(sigma, [[1, 2], [0, 0], [0, 4], [10, 10]])


def test_proximity_structure_on_hand_built_points():
    # a unit square (4 core points whose two adjacent corners are reliable, centroid (.5, .5))
    # and a far, tight pair (border: closest 0.1, farthest about 9)
    Z = np.array([[0, 0], [1, 0], [0, 1], [1, 1], [10, 0], [10, 0.1]], dtype=np.float32)
    s = proximity_structure(Z, Config(M=3, alpha=0.6, beta=0.3))
    assert s["core"].tolist() == [True, True, True, True, False, False]
    assert s["tau"] == pytest.approx(4 / 6)                                    # Eq. 15
    assert s["reliable"][:4].sum(axis=1).tolist() == [2, 2, 2, 2]
    assert not s["reliable"][4:].any()
    np.testing.assert_allclose(s["sigma"][:4], 0.5, atol=1e-6)
    np.testing.assert_allclose(s["sigma"][4:], Z[4:])
    # the neighbours never include the point itself; M counting the point itself leaves M - 1
    assert not (s["indices"] == np.arange(6)[:, None]).any()
    s2 = proximity_structure(Z, Config(M=3, alpha=0.6, beta=0.3, m_counts_self=True))
    assert s2["indices"].shape == (6, 2)
    shares = true_neighbour_shares(np.array([0, 0, 0, 0, 1, 1]), s["indices"], s["reliable"], s["core"])
    assert shares["reliable"] == 1.0 and shares["core"] == 1.0 and shares["all"] < 1.0


def test_loss_terms_eq12_14():
    g = torch.Generator().manual_seed(0)
    B, p, d = 4, 3, 5
    z, sigma = torch.randn(B, p, generator=g), torch.randn(B, p, generator=g)
    x_hat, x, g_sigma = (torch.randn(B, d, generator=g) for _ in range(3))
    core = torch.tensor([True, False, True, False])
    loss, l1, l2 = rdc_loss(z, x_hat, x, sigma, g_sigma, core)
    zn, sn, xh, xn, gs, c = (t.numpy() for t in (z, sigma, x_hat, x, g_sigma, core))
    l1_ref = sum(((gs[i] - xh[i]) ** 2).sum() if c[i] else ((xn[i] - xh[i]) ** 2).sum() for i in range(B)) / B
    l2_ref = sum(((zn[i] - sn[i]) ** 2).sum() for i in range(B) if c[i]) / B
    assert float(l1) == pytest.approx(l1_ref, rel=1e-5)
    assert float(l2) == pytest.approx(l2_ref, rel=1e-5)
    assert float(loss) == pytest.approx(l1_ref + l2_ref, rel=1e-5)
    # the code's variant: border points held to (z_ref, g(z_ref)); element means, L2 + gamma L1
    z_ref, g_z = torch.randn(B, p, generator=g), torch.randn(B, d, generator=g)
    loss_c, l1_c, l2_c = rdc_loss(z, x_hat, x, sigma, g_sigma, core, border_own_embedding=True, z_ref=z_ref,
                                  g_z_ref=g_z, code_loss=True, gamma=100.0)
    ti = np.where(c[:, None], gs, g_z.numpy())
    te = np.where(c[:, None], sn, z_ref.numpy())
    assert float(l1_c) == pytest.approx(((xh - ti) ** 2).mean(), rel=1e-5)
    assert float(l2_c) == pytest.approx(((zn - te) ** 2).mean(), rel=1e-5)
    assert float(loss_c) == pytest.approx(float(l2_c) + 100 * float(l1_c), rel=1e-5)


def test_stopping_rule():
    assert not should_stop([0.1])
    assert not should_stop([0.1, 0.2, 0.3])
    assert should_stop([0.1, 0.3, 0.3])                # stable
    assert should_stop([0.1, 0.3, 0.2])                # fell
    assert not should_stop([0.1, 0.3, 0.2, 0.25], patience=2)
    assert should_stop([0.3, 0.2, 0.2], patience=2)


def _tiny_ae(d, seed=0):
    from clusterbench.blocks.nets import Autoencoder

    torch.manual_seed(seed)
    return Autoencoder(d, [16, 16, 32], 4)


def _fit(data, seed=0, **overrides):
    cfg = Config(update_interval=5, max_iterations=15, batch_size=32, kmeans_n_init=2, **overrides)
    method = RDC(cfg)
    img = tuple(data.X.shape[1:]) if data.is_image else None
    return method.fit_phase2(_tiny_ae(data.flat().shape[1]), data.flat(), data.n_classes, seed=seed,
                             image_shape=img)


def test_fit_deterministic_records_and_stops(blobs):
    from clusterbench.framework.metrics import evaluate

    a, b = _fit(blobs, seed=3), _fit(blobs, seed=3)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.embedding, b.embedding)
    assert evaluate(blobs.y, a.labels)["acc"] > 0.9        # well separated: far above chance (1/3)
    taus = [h["tau"] for h in a.history]
    steps = int(a.extras["iterations"])
    assert steps == 15 or (len(taus) >= 2 and taus[-1] <= taus[-2])   # stopped by Algorithm 1 or the cap
    assert a.extras["nn_indices"].shape[1:] == (120, 5) and a.extras["nn_core"].shape[1:] == (120,)
    assert a.extras["phase1_embedding"].shape == (120, 4)
    diag = RDC.scored_diagnostics(a, blobs.y)
    assert 0 <= diag["true_nn_reliable_last"] <= 1
    c = _fit(blobs, seed=3, record_assignments=True)
    np.testing.assert_array_equal(c.labels, a.labels)                  # recording does not perturb training
    assert c.extras["refresh_assignments"].shape == (len(c.history), 120)


def test_fit_with_augmentation_and_code_variants():
    from clusterbench.data import Dataset

    rng = np.random.default_rng(0)
    X = rng.random((64, 1, 8, 8)).astype(np.float32)
    data = Dataset("tiny_images", X, np.repeat(np.arange(2), 32), 2)
    r1 = _fit(data, seed=1, m_counts_self=True, global_min_radius=True, border_own_embedding=True,
              code_loss=True)
    r2 = _fit(data, seed=1, m_counts_self=True, global_min_radius=True, border_own_embedding=True,
              code_loss=True)
    np.testing.assert_array_equal(r1.labels, r2.labels)
    assert r1.extras["nn_indices"].shape[2] == 4


def test_divergence_raises(blobs):
    from clusterbench.framework.base import DivergenceError

    with pytest.raises(DivergenceError):
        _fit(blobs, lr=1e30)


def test_registered_smoke_run(tmp_path, monkeypatch):
    from clusterbench.framework.runner import run_seeds

    monkeypatch.setenv("CLUSTERBENCH_PRETRAINED", str(tmp_path / "pre"))
    records = run_seeds("rdc", "digits", [0], profile="smoke", out=tmp_path / "runs", log=lambda *a: None)
    assert records[0]["status"] == "ok"
    assert records[0]["run_info"]["pretrain"]["recipe"] == "acai"
    assert records[0]["metrics"]["acc"] > 0.15                       # above chance (0.1)
    arrays = np.load(tmp_path / "runs" / "smoke" / "digits" / "rdc" / "seed0" / "labels.npz")
    assert "extra_nn_indices" in arrays and "extra_phase1_embedding" in arrays
    run = tmp_path / "runs" / "smoke" / "digits" / "rdc" / "seed0"
    assert "twonn_id" in (run / "history.csv").read_text().splitlines()[0]
    assert "true_nn_reliable" in (run / "scored_history.csv").read_text().splitlines()[0]


def test_table2_alpha_beta_resolved():
    from clusterbench.framework.registry import resolve_config

    assert (resolve_config("rdc", "pneumoniamnist", "paper")[1].alpha,
            resolve_config("rdc", "pneumoniamnist", "paper")[1].beta) == (0.8, 1.0)
    _, vessel = resolve_config("rdc", "vesselmnist3d", "paper")
    assert (vessel.alpha, vessel.beta) == (0.3, 0.5)
    _, usps = resolve_config("rdc", "usps", "paper")
    assert (usps.alpha, usps.beta, usps.M, usps.lr) == (0.6, 0.6, 5, 1e-3)


def test_figure16_script_records_then_plots(tmp_path):
    import importlib.util

    pytest.importorskip("matplotlib")
    path = __import__("pathlib").Path(__file__).resolve().parent.parent / "workflow" / "scripts" / "rdc_figure16.py"
    spec = importlib.util.spec_from_file_location("rdc_figure16", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    npz = tmp_path / "rec.npz"
    script.main(["record", "--out", str(npz), "--epochs", "3", "--dec-update-interval", "8", "--dec-max-iter", "16"])
    rec = np.load(npz)
    assert rec["Z_pretrained"].shape == rec["Z_dec"].shape == rec["Z_rdc"].shape == (1000, 2)
    script.main(["plot", "--embeddings", str(npz), "--figure2", str(tmp_path / "f2.png"),
                 "--figure16", str(tmp_path / "f16.png")])
    assert (tmp_path / "f2.png").stat().st_size > 1000 and (tmp_path / "f16.png").stat().st_size > 1000


def test_history_records_latent_geometry_and_scored_history(blobs):
    from clusterbench.blocks.geometry import pca_dimension

    r = _fit(blobs, seed=0, record_assignments=True, patience=10 ** 6)
    assert all(np.isfinite(h["twonn_id"]) and 1 <= h["lid_pca90"] <= 4 for h in r.history)
    assert r.history[-1]["lid_pca90"] == pca_dimension(r.embedding)        # last refresh is on the final Z
    rows = RDC.scored_history(r, blobs.y)
    assert [row["refresh"] for row in rows] == [h["refresh"] for h in r.history]
    assert [row["step"] for row in rows] == [h["step"] for h in r.history]
    assert rows[-1]["acc"] > 0.9
    # scores are the recorded neighbour sets scored by true_neighbour_shares, refresh by refresh
    j = len(r.extras["nn_refresh"]) - 1
    ref = true_neighbour_shares(blobs.y, r.extras["nn_indices"][j], r.extras["nn_reliable"][j], r.extras["nn_core"][j])
    assert rows[int(r.extras["nn_refresh"][j])]["true_nn_reliable"] == ref["reliable"]


def test_true_neighbour_shares_by_hand():
    y = np.array([0, 0, 1, 1])
    idx = np.array([[1, 2], [0, 3], [3, 0], [2, 1]])
    core = np.array([True, True, False, True])
    reliable = np.array([[True, False], [True, True], [False, False], [True, False]])
    s = true_neighbour_shares(y, idx, reliable, core)
    assert s["all"] == pytest.approx(4 / 8)          # same-label neighbours: 1, 0, 3, 2
    assert s["core"] == pytest.approx(3 / 6)         # rows 0, 1, 3
    assert s["reliable"] == pytest.approx(3 / 4)     # (0,1) yes, (1,0) yes, (1,3) no, (3,2) yes


def test_ablation_options_p1_p3(blobs):
    from clusterbench.blocks.kmeans_knn import kmeans

    p1 = _fit(blobs, seed=0, phase2=False)
    assert p1.extras["iterations"] == 0 and len(p1.history) == 1
    np.testing.assert_array_equal(p1.embedding, p1.extras["phase1_embedding"])   # k-means on the P1 codes
    np.testing.assert_array_equal(p1.labels, kmeans(p1.embedding, 3, n_init=2, seed=0)[0])
    p13 = _fit(blobs, seed=0, phase2=False, dec_phase=True, dec_update_interval=2, dec_max_iter=6)
    assert [h["phase"] for h in p13.history if "phase" in h] and p13.extras["dec_iterations"] <= 6
    assert not np.allclose(p13.embedding, p13.extras["phase1_embedding"])       # DEC moved the encoder
    p123 = _fit(blobs, seed=0, dec_phase=True, dec_update_interval=2, dec_max_iter=6)
    assert p123.extras["iterations"] > 0 and "phase2_labels" in p123.extras
