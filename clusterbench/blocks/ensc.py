"""Elastic-net subspace clustering, EnSC (You, Li, Robinson & Vidal, CVPR 2016).

Each sample x_j (row of X, (N, d)) is expressed by the others (self-expression):

    c_j = argmin_c  α_j (τ ||c||₁ + (1 − τ)/2 ||c||₂²) + ½ ||x_j − Σ_i c_i x_i||₂²,   c_j = 0

with α_j = α₀_j / γ and α₀_j = max_{i≠j} |⟨x_i, x_j⟩| / τ, the smallest α for which
c_j = 0 (You et al. Prop. 1; ``gamma_nz`` in the authors' code), so γ > 1.
The problem is solved by the oracle-guided *active support* algorithm (You et al.
Alg. 1): solve on a small support (initialised with the ``support_size`` most
coherent samples), add every sample whose coherence with the scaled residual
δ = (x_j − c X)/α_j exceeds τ, repeat until none does. Sub-problems use
scikit-learn (LassoLars for τ = 1, as NMCE's code; ElasticNet coordinate descent
otherwise). Only the ``n_nonzero`` largest |c_ij| of each row are kept.

Affinity A = ½(|Ĉ| + |Ĉ|ᵀ) with Ĉ the row-wise l2-normalised C; spectral clustering
as in the authors' code (Ng-Jordan-Weiss): the K leading eigenvectors U of
D^{-1/2} A D^{-1/2}, rows normalised, k-means (:func:`clusterbench.blocks.kmeans_knn.kmeans`).
A good EnSC affinity has (nearly) one connected component per subspace, so the
leading eigenvalue 1 is degenerate; single-vector Lanczos (``eigsh``, as in
:func:`clusterbench.blocks.spectral.ncut_embedding`) can miss copies of it, hence a dense
eigensolver up to 8,000 samples and block LOBPCG above.
The loop over samples is the algorithm (one elastic-net problem per sample).
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp


def _solve_subproblem(y: np.ndarray, Xs: np.ndarray, alpha: float, tau: float) -> np.ndarray:
    """argmin_c α(τ||c||₁ + (1−τ)/2||c||²) + ½||y − c Xs||²; y (d,), Xs (s, d) → c (s,)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import ElasticNet, LassoLars

    d = y.shape[0]
    # scikit-learn scales the residual by 1/(2 n_samples) with n_samples = d here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if tau >= 1.0 - 1e-10:
            model = LassoLars(alpha=alpha / d, fit_intercept=False)
        else:
            model = ElasticNet(alpha=alpha / d, l1_ratio=tau, fit_intercept=False, tol=1e-6, max_iter=5000)
        model.fit(Xs.T, y)
    return np.asarray(model.coef_, dtype=np.float64).ravel()


def active_support_elastic_net(X: np.ndarray, y: np.ndarray, alpha: float, tau: float,
                               support_size: int = 100, maxiter: int = 40) -> np.ndarray:
    """Solve one EnSC problem for y (d,) over the rows of X (N, d) (with y's own row zeroed)."""
    n = X.shape[0]
    if n <= support_size:
        supp = np.arange(n)
    else:
        supp = np.argpartition(-np.abs(X @ y), support_size)[:support_size]
    best = np.inf
    cs = np.zeros(len(supp))
    for _ in range(maxiter):
        Xs = X[supp]
        cs = _solve_subproblem(y, Xs, alpha, tau)
        delta = (y - cs @ Xs) / alpha
        obj = tau * np.abs(cs).sum() + (1 - tau) / 2 * (cs ** 2).sum() + alpha / 2 * (delta ** 2).sum()
        if best - obj < 1e-10 * best:
            break
        best = obj
        coherence = np.abs(X @ delta)
        coherence[supp] = 0
        added = np.flatnonzero(coherence > tau + 1e-10)
        if added.size == 0:      # optimality (You et al. Prop. 2): the support is complete
            break
        active = supp[np.abs(cs) > 1e-10]
        if active.size > 0.8 * support_size:
            support_size = min(int(round(max(active.size, support_size) * 1.1)), n)
        room = support_size - active.size
        if added.size > room:
            added = added[np.argpartition(-coherence[added], room - 1)[:room]] if room > 0 else added[:0]
        supp = np.concatenate([active, added])
    c = np.zeros(n)
    c[supp] = cs
    return c


def self_expression(X: np.ndarray, gamma: float, tau: float = 1.0, n_nonzero: int = 50,
                    support_size: int = 100) -> sp.csr_matrix:
    """Sparse self-representation matrix C (N, N) of the rows of X (N, d), c_jj = 0."""
    X = np.array(X, dtype=np.float64)
    n = X.shape[0]
    rows, cols, vals = [], [], []
    for j in range(n):
        y = X[j].copy()
        X[j] = 0.0
        alpha0 = np.abs(X @ y).max() / tau
        if alpha0 > 0:
            c = active_support_elastic_net(X, y, alpha0 / gamma, tau, support_size=support_size)
            index = np.flatnonzero(c)
            if index.size > n_nonzero:
                index = index[np.argsort(-np.abs(c[index]))[:n_nonzero]]
            rows.append(np.full(index.size, j))
            cols.append(index)
            vals.append(c[index])
        X[j] = y
    if not rows:
        return sp.csr_matrix((n, n))
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))


def ensc_affinity(C: sp.csr_matrix) -> sp.csr_matrix:
    """A = ½(|Ĉ| + |Ĉ|ᵀ), Ĉ = C with l2-normalised rows."""
    from sklearn.preprocessing import normalize

    Cn = abs(normalize(C, norm="l2", axis=1))
    return (0.5 * (Cn + Cn.T)).tocsr()


def njw_embedding(A: sp.csr_matrix, n_clusters: int, seed: int = 0, dense_max: int = 8000) -> np.ndarray:
    """Row-normalised K leading eigenvectors of D^{-1/2} A D^{-1/2}, (N, K)."""
    from scipy.linalg import eigh
    from scipy.sparse.linalg import lobpcg
    from sklearn.preprocessing import normalize

    n = A.shape[0]
    degree = np.asarray(A.sum(axis=1)).ravel()
    d_inv_sqrt = sp.diags(1.0 / np.sqrt(np.maximum(degree, 1e-12)))
    M = (d_inv_sqrt @ A @ d_inv_sqrt).tocsr()
    if n <= dense_max:
        _, U = eigh(M.toarray(), subset_by_index=[n - n_clusters, n - 1])
    else:
        X0 = np.random.default_rng(seed).standard_normal((n, n_clusters))
        _, U = lobpcg(M, X0, largest=True, tol=1e-8, maxiter=500)
    return normalize(U, norm="l2", axis=1).astype(np.float32)


def ensc(X: np.ndarray, n_clusters: int, *, gamma: float, tau: float = 1.0, n_nonzero: int = 50,
         n_init: int = 20, seed: int = 0) -> tuple[np.ndarray, sp.csr_matrix]:
    """EnSC labels (N,) and affinity (N, N) of the rows of X."""
    from .kmeans_knn import kmeans

    A = ensc_affinity(self_expression(X, gamma, tau, n_nonzero))
    V = njw_embedding(A, n_clusters, seed)
    labels, _ = kmeans(V, n_clusters, n_init=n_init, seed=seed)
    return labels, A
