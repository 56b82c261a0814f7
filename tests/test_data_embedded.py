"""Embedded datasets (no network): registry N / shape / K, determinism, and the synthetic sets' geometry."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from clusterbench.data import DATASETS, load_dataset, synthetic

EMBEDDED = [name for name, spec in DATASETS.items() if spec.source == "embedded"]


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERBENCH_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("CLUSTERBENCH_MIRROR", raising=False)
    return tmp_path / "data"


def test_the_embedded_sets_are_registered():
    assert set(EMBEDDED) == {"digits", "mnist5k", "nmce_double_spiral", "nmce_double_spiral_40k",
                             "nmce_double_spiral_notebook", "nmce_two_manifold",
                             "nmce_two_manifold_nonid", "rdc_four_curves"}


@pytest.mark.parametrize("name", EMBEDDED)
def test_embedded_matches_registry_and_is_deterministic(name, tmp_path, monkeypatch):
    spec = DATASETS[name]
    ds = load_dataset(name)
    assert ds.X.shape == (spec.n_samples, *spec.shape) and ds.X.dtype == np.float32
    assert ds.y.dtype == np.int64 and ds.n_classes == spec.n_classes
    np.testing.assert_array_equal(np.unique(ds.y), np.arange(spec.n_classes))
    assert np.isfinite(ds.X).all()
    if spec.kind == "image":
        assert ds.X.min() >= 0 and ds.X.max() <= 1 and ds.X.max() > 0.9
    if name == "digits":
        assert set(np.unique(ds.X * 16).round(4)) <= set(range(17))  # pixel counts 0..16, divided by 16
    if name == "mnist5k":
        assert np.allclose(ds.X * 255, np.round(ds.X * 255), atol=1e-3)  # uint8 pixels / 255
        assert np.bincount(ds.y).min() > 400  # all ten digits well represented
    again = load_dataset(name)  # from the cached .npz
    np.testing.assert_array_equal(ds.X, again.X)
    np.testing.assert_array_equal(ds.y, again.y)
    if "synthetic" in spec.tags:
        # a fresh cache regenerates exactly the same points
        monkeypatch.setenv("CLUSTERBENCH_DATA", str(tmp_path / "other"))
        fresh = load_dataset(name)
        np.testing.assert_array_equal(ds.X, fresh.X)
        np.testing.assert_array_equal(ds.y, fresh.y)


def test_double_spiral_geometry():
    """NMCE B.1: two arms of (t cos t, t sin t), t in [1.5π, 4.5π], the second the first negated."""
    X, y = synthetic.double_spiral()
    r = np.linalg.norm(X, axis=1)
    assert 13.5 < r.max() < 15.0 and 4.0 < r.min() < 5.0  # "radius approximately 15" (14.1 without noise)
    assert np.bincount(y).tolist() == [1000, 1000]
    # on arm k the polar angle equals r + kπ (mod 2π): two interleaved arms, no mixing
    phase = np.angle(np.exp(1j * (np.arctan2(X[:, 1], X[:, 0]) - r - np.pi * y)))
    assert np.abs(phase).max() < 0.3
    assert np.abs(X.std(0) - X.std(0).mean()).max() < 1.0  # no axis preferred
    noisier, _ = synthetic.double_spiral(noise=0.1)
    assert not np.allclose(noisier, X)


def _local_dimension(Z: np.ndarray, k: int = 30, n: int = 60, drop: float = 0.35) -> float:
    """Median number of local-PCA singular values above ``drop`` of the largest, over ``n`` neighbourhoods."""
    D = cdist(Z[:n], Z)
    counts = []
    for i in range(n):
        neighbours = Z[np.argsort(D[i])[:k]]
        s = np.linalg.svd(neighbours - neighbours.mean(0), compute_uv=False)
        counts.append(int((s / s[0] > drop).sum()))
    return float(np.median(counts))


@pytest.mark.parametrize("identifiable", [True, False])
def test_two_manifold_mixture_dimensions(identifiable):
    X, y = synthetic.two_manifold_mixture(identifiable=identifiable)
    assert X.shape == (2000, 32) and np.bincount(y).tolist() == [1000, 1000]
    assert _local_dimension(X[y == 0]) == 3  # a 3-d manifold
    assert _local_dimension(X[y == 1]) == 6  # a 6-d manifold


def test_two_manifold_identifiable_vs_not():
    """With biases the manifolds lie apart; without, both pass through 0 (the networks are homogeneous)."""
    Xi, yi = synthetic.two_manifold_mixture(identifiable=True)
    Xn, yn = synthetic.two_manifold_mixture(identifiable=False)

    def nearest_within(X):
        D = cdist(X, X)
        np.fill_diagonal(D, np.inf)
        return np.median(D.min(1))

    gap_i = cdist(Xi[yi == 0], Xi[yi == 1]).min() / nearest_within(Xi[yi == 0])
    gap_n = cdist(Xn[yn == 0], Xn[yn == 1]).min() / nearest_within(Xn[yn == 0])
    assert gap_i > 5 and gap_n < 2
    for k in (0, 1):
        norms_n = np.linalg.norm(Xn[yn == k], axis=1)
        norms_i = np.linalg.norm(Xi[yi == k], axis=1)
        assert norms_n.min() < 0.25 * np.median(norms_n)  # passes near the origin
        assert norms_i.min() > 0.5 * np.median(norms_i)  # shifted away by the biases


def test_two_manifold_nonid_is_positively_homogeneous():
    """The bias-free generator maps a·z to a·f(z) for a > 0: the manifolds are cones through 0."""
    rng = np.random.default_rng(1)
    net = synthetic._random_leaky_net(rng, [3, 64, 64, 32], bias=False)
    z = rng.standard_normal((5, 3))
    np.testing.assert_allclose(net(2.5 * z), 2.5 * net(z), rtol=1e-10)
    np.testing.assert_allclose(net(np.zeros((1, 3))), 0.0)


def test_four_curved_clusters_are_arcs():
    """R-DC's four curved clusters: unit half-circle arcs (two pairs of interleaved moons)."""
    X, y = synthetic.four_curved_clusters()
    assert np.bincount(y).tolist() == [250] * 4
    centres = np.array([[0, 0], [1, 0.5], [3.5, 0], [4.5, 0.5]])
    for k in range(4):
        radius = np.linalg.norm(X[y == k] - centres[k], axis=1)
        assert abs(np.median(radius) - 1) < 0.05 and radius.std() < 0.1
    # curved, not blob-like: a cluster's mean lies off its own points
    for k in range(4):
        assert np.linalg.norm(X[y == k] - X[y == k].mean(0), axis=1).min() > 0.1
