"""Latent-space geometry: intrinsic dimension (TwoNN) and linear dimension (PCA), label-free.

R-DC (Shaheen et al., Sec. 1 and 4.2.2, Figures 1 and 15) tracks two numbers of
the embedding Z (N, p) through training:

- ID, the intrinsic dimension by TwoNN (Facco et al., Sci. Rep. 2017): with
  r1, r2 the distances of a point to its first and second neighbours,
  μ = r2 / r1 is Pareto-distributed, F(μ) = 1 − μ^(−d), so
  −log(1 − F_emp(μ)) = d · log μ; d is the slope of a least-squares line
  through the origin over the smallest ``fraction`` of the sorted μ
  (Ansuini et al., NeurIPS 2019, whose estimator discards the largest 10 %).
- LID, the linear dimension: the number of principal components whose
  cumulative share of the variance first reaches ``threshold`` (90 %, the
  paper's Figure 1 caption).
"""

from __future__ import annotations

import numpy as np


def twonn_dimension(X: np.ndarray | None = None, *, distances: np.ndarray | None = None,
                    fraction: float = 0.9) -> float:
    """TwoNN intrinsic dimension of the rows of X (N, p).

    ``distances`` (N, k ≥ 2): the distances of every point to its nearest
    neighbours, ascending, the point itself excluded (reuses a k-NN already
    computed); otherwise they are computed with :func:`clusterbench.blocks.kmeans_knn.knn`.
    Points whose first neighbour coincides with them (r1 = 0) are dropped.
    Returns NaN with fewer than 3 usable points.
    """
    if distances is None:
        from .kmeans_knn import knn

        distances, _ = knn(np.asarray(X, dtype=np.float32), 2)
    D = np.asarray(distances, dtype=np.float64)
    r1, r2 = D[:, 0], D[:, 1]
    keep = r1 > 0
    mu = np.sort(r2[keep] / r1[keep])
    n = mu.size
    if n < 3:
        return float("nan")
    F = np.arange(1, n + 1, dtype=np.float64) / n                 # empirical CDF of μ
    m = max(2, min(n - 1, int(np.floor(n * fraction))))           # drop the largest μ (and F = 1)
    x, y = np.log(mu[:m]), -np.log(1.0 - F[:m])
    denom = float(x @ x)
    return float(x @ y / denom) if denom > 0 else float("nan")


def pca_dimension(X: np.ndarray, threshold: float = 0.9) -> int:
    """Number of principal components of X (N, p) that explain at least ``threshold`` of the variance."""
    X = np.asarray(X, dtype=np.float64)
    Xc = X - X.mean(axis=0)
    var = np.linalg.svd(Xc, compute_uv=False) ** 2                 # eigenvalues of the covariance (× N−1)
    total = var.sum()
    if total <= 0:
        return 0
    share = np.cumsum(var) / total
    return int(np.searchsorted(share, threshold - 1e-12) + 1)


def latent_geometry(Z: np.ndarray, *, distances: np.ndarray | None = None) -> dict:
    """{"twonn_id": ID, "lid_pca90": LID} of the embedding Z (N, p) (see module docstring)."""
    return {"twonn_id": twonn_dimension(Z, distances=distances), "lid_pca90": pca_dimension(Z, 0.9)}
