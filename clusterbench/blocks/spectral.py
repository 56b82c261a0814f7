"""Spectral building blocks: the k-NN heat-kernel affinity and the normalised-cut embedding.

``knn_affinity``: symmetric k-NN graph on the rows of X, W_ij = exp(-||x_i - x_j||^2 / (2 sigma^2))
for j among the k nearest neighbours of i or i among those of j, sigma the mean distance to the
k-th neighbour. ``spectral_embedding(normalization="ncut")``: the K generalised eigenvectors of (D - W) v = lambda D v with
smallest lambda (Shi & Malik 2000), as D^{-1/2} u for the top eigenvectors u of D^{-1/2} W D^{-1/2}.
``spectral_embedding`` is the one spectral embedding of the suite: normalised cut (SC-Ncut,
AHCL's SC-Y / SC-Z) or Ng-Jordan-Weiss (EnSC, :mod:`clusterbench.blocks.ensc`).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import eigh
from scipy.sparse.linalg import eigsh

from ..framework.base import DivergenceError
from .kmeans_knn import knn

DENSE_EIGH_MAX_N = 3000  # graphs up to this size use the exact dense eigensolver (about a second at n = 2,000)


def knn_affinity(X: np.ndarray, n_neighbors: int, weighting: str = "heat") -> sp.csr_matrix:
    """Symmetric sparse k-NN affinity W (N, N) of the rows of X (N, d)."""
    n = X.shape[0]
    dist, idx = knn(X, n_neighbors)
    if weighting == "heat":
        sigma = max(float(dist[:, -1].mean()), 1e-12)
        values = np.exp(-(dist ** 2) / (2 * sigma ** 2))
    elif weighting == "binary":
        values = np.ones_like(dist)
    else:
        raise ValueError(f"unknown weighting {weighting!r}")
    W = sp.csr_matrix((values.ravel(), (np.repeat(np.arange(n), n_neighbors), idx.ravel())), shape=(n, n))
    return W.maximum(W.T).tocsr()


def spectral_embedding(W: sp.spmatrix, n_clusters: int, *, seed: int = 0, normalization: str = "ncut",
                       dense_max: int | None = None, large_solver: str = "arpack") -> np.ndarray:
    """The spectral embedding (N, K) of a symmetric affinity W (N, N), as spectral clustering uses it.

    U: the K leading eigenvectors of M = D^{-1/2} W D^{-1/2} (D the degrees).
    ``normalization="ncut"``: D^{-1/2} U, the relaxed normalised-cut indicators (Shi & Malik 2000;
    scikit-learn's ``spectral_embedding(norm_laplacian=True, drop_first=False)`` spans the same space);
    a point without neighbours is a :class:`DivergenceError`. ``"njw"``: U with unit rows (Ng, Jordan
    & Weiss 2001, as EnSC's code); degrees are floored at 1e-12.
    Solver: the exact dense ``eigh`` up to ``dense_max`` samples (default DENSE_EIGH_MAX_N); above,
    ARPACK (``large_solver="arpack"``, a wide Lanczos basis and tight tolerance, since a graph with
    several components has eigenvalue 1 with multiplicity) or block LOBPCG (``"lobpcg"``).
    """
    from sklearn.preprocessing import normalize

    if normalization not in ("ncut", "njw"):
        raise ValueError(f"unknown normalization {normalization!r}; known: ncut, njw")
    degree = np.asarray(W.sum(axis=1)).ravel()
    if normalization == "ncut":
        if np.any(degree <= 0):
            raise DivergenceError("the k-NN graph has isolated points")
        d_inv_sqrt = sp.diags(1.0 / np.sqrt(degree))
    else:
        d_inv_sqrt = sp.diags(1.0 / np.sqrt(np.maximum(degree, 1e-12)))
    M = (d_inv_sqrt @ W @ d_inv_sqrt).tocsr()
    n = W.shape[0]
    if n <= (DENSE_EIGH_MAX_N if dense_max is None else dense_max):
        # exact dense solver: seconds for n of a few thousand, where ARPACK with many eigenvectors
        # of a near-degenerate spectrum (e.g. AHCL's dense deep graph Y, 100 clusters) can stall
        _, U = eigh(M.toarray(), subset_by_index=[n - n_clusters, n - 1])
    elif large_solver == "arpack":
        v0 = np.random.default_rng(seed).standard_normal(n)
        ncv = min(n - 1, max(4 * n_clusters + 1, 40))
        _, U = eigsh(M, k=n_clusters, which="LA", v0=v0, tol=1e-10, ncv=ncv)
    elif large_solver == "lobpcg":
        from scipy.sparse.linalg import lobpcg

        X0 = np.random.default_rng(seed).standard_normal((n, n_clusters))
        _, U = lobpcg(M, X0, largest=True, tol=1e-8, maxiter=500)
    else:
        raise ValueError(f"unknown large_solver {large_solver!r}; known: arpack, lobpcg")
    if normalization == "ncut":
        return (d_inv_sqrt @ U).astype(np.float32)
    return normalize(U, norm="l2", axis=1).astype(np.float32)
