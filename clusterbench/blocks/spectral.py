"""Spectral building blocks: the k-NN heat-kernel affinity and the normalised-cut embedding.

``knn_affinity``: symmetric k-NN graph on the rows of X, W_ij = exp(-||x_i - x_j||^2 / (2 sigma^2))
for j among the k nearest neighbours of i or i among those of j, sigma the mean distance to the
k-th neighbour. ``ncut_embedding``: the K generalised eigenvectors of (D - W) v = lambda D v with
smallest lambda (Shi & Malik 2000), as D^{-1/2} u for the top eigenvectors u of D^{-1/2} W D^{-1/2}.
Used by SC-Ncut (:mod:`clusterbench.baselines.spectral`) and AHCL's SC-Y / SC-Z.
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


def ncut_embedding(W: sp.csr_matrix, n_clusters: int, seed: int) -> np.ndarray:
    """Rows of the K relaxed Ncut indicator vectors D^{-1/2} U, (N, K)."""
    degree = np.asarray(W.sum(axis=1)).ravel()
    if np.any(degree <= 0):
        raise DivergenceError("the k-NN graph has isolated points")
    d_inv_sqrt = sp.diags(1.0 / np.sqrt(degree))
    M = d_inv_sqrt @ W @ d_inv_sqrt
    n = W.shape[0]
    if n <= DENSE_EIGH_MAX_N:
        # exact dense solver: seconds for n of a few thousand, where ARPACK with many eigenvectors
        # of a near-degenerate spectrum (e.g. AHCL's dense deep graph Y, 100 clusters) can stall
        _, U = eigh(M.toarray(), subset_by_index=[n - n_clusters, n - 1])
        return (d_inv_sqrt @ U).astype(np.float32)
    v0 = np.random.default_rng(seed).standard_normal(n)
    # a graph with several components has eigenvalue 1 with multiplicity: a wide Lanczos basis
    # and a tight tolerance keep ARPACK from missing copies of it
    ncv = min(W.shape[0] - 1, max(4 * n_clusters + 1, 40))
    _, U = eigsh(M, k=n_clusters, which="LA", v0=v0, tol=1e-10, ncv=ncv)
    return (d_inv_sqrt @ U).astype(np.float32)
