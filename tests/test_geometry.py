"""Latent geometry (clusterbench/blocks/geometry.py): TwoNN intrinsic dimension and the PCA-90 % linear dimension
(R-DC Figures 1 and 15) on point sets of known dimension."""

from __future__ import annotations

import numpy as np
import pytest

from clusterbench.blocks.geometry import latent_geometry, pca_dimension, twonn_dimension


@pytest.mark.parametrize("d", [2, 5])
def test_twonn_recovers_the_dimension_of_a_rotated_cube(d):
    rng = np.random.default_rng(0)
    U = rng.random((3000, d))                                       # uniform in a d-cube
    Q, _ = np.linalg.qr(rng.standard_normal((12, 12)))
    X = np.c_[U, np.zeros((3000, 12 - d))] @ Q                       # linearly embedded in 12-D
    assert twonn_dimension(X) == pytest.approx(d, rel=0.15)


def test_twonn_sees_a_curved_manifold_as_low_dimensional():
    # a 1-D helix in 3-D: TwoNN ~ 1 while PCA needs 3 components for 90 % (LID > ID: curvature)
    t = np.random.default_rng(1).uniform(0, 6 * np.pi, 2000)
    X = np.c_[np.cos(t), np.sin(t), 0.3 * t / (2 * np.pi)]
    g = latent_geometry(X.astype(np.float32))
    assert g["twonn_id"] == pytest.approx(1.0, rel=0.15)
    assert g["lid_pca90"] >= 2


def test_twonn_reuses_given_distances_and_drops_duplicates():
    from clusterbench.blocks.kmeans_knn import knn

    X = np.random.default_rng(2).random((500, 3)).astype(np.float32)
    D, _ = knn(X, 5)
    assert twonn_dimension(distances=D) == pytest.approx(twonn_dimension(X), rel=1e-6)
    dup = np.r_[X, X[:50]]                                           # r1 = 0 for the duplicated points
    assert np.isfinite(twonn_dimension(dup))
    assert np.isnan(twonn_dimension(distances=np.zeros((10, 2))))


def test_pca_dimension_counts_components_for_90_percent():
    rng = np.random.default_rng(3)
    # variances 6, 3, 0.6, 0.3, 0.1 (total 10): cumulative 0.6, 0.9, 0.96 -> 2 components reach 90 %
    sd = np.sqrt([6, 3, 0.6, 0.3, 0.1])
    Z = rng.standard_normal((20000, 5))
    Z = (Z - Z.mean(0)) / Z.std(0) * sd
    Q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    assert pca_dimension(Z @ Q, 0.9) == 2
    assert pca_dimension(Z @ Q, 0.95) == 3
    assert pca_dimension(Z, 0.5) == 1
    assert pca_dimension(np.ones((10, 3))) == 0                       # no variance
