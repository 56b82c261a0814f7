"""EnSC: recovery of a union of random subspaces, structure of C and A, determinism."""

import numpy as np
import pytest

from clusterbench.blocks.ensc import ensc, ensc_affinity, self_expression
from clusterbench.framework.metrics import evaluate


def _union_of_subspaces(n_per=40, dims=(3, 3, 4, 2), ambient=20, seed=0):
    rng = np.random.default_rng(seed)
    X, y = [], []
    for k, d in enumerate(dims):
        basis = np.linalg.qr(rng.standard_normal((ambient, d)))[0]
        X.append(rng.standard_normal((n_per, d)) @ basis.T)
        y += [k] * n_per
    X = np.concatenate(X)
    return X / np.linalg.norm(X, axis=1, keepdims=True), np.array(y)


@pytest.mark.parametrize("tau", [1.0, 0.5])
def test_recovers_union_of_random_subspaces(tau):
    X, y = _union_of_subspaces()
    labels, A = ensc(X, 4, gamma=50.0, tau=tau, seed=0)
    assert evaluate(y, labels)["acc"] == pytest.approx(1.0)


def test_self_expression_structure():
    X, y = _union_of_subspaces(n_per=30)
    C = self_expression(X, gamma=50.0, tau=1.0, n_nonzero=5)
    assert np.all(C.diagonal() == 0)
    assert (np.diff(C.indptr) <= 5).all() and (np.diff(C.indptr) > 0).all()
    dense = C.toarray()
    assert np.abs(dense[y[:, None] != y[None, :]]).sum() == pytest.approx(0.0, abs=1e-8)  # subspace-preserving
    A = ensc_affinity(C)
    assert abs(A - A.T).max() < 1e-12 and A.min() >= 0


def test_active_support_matches_full_problem():
    X, _ = _union_of_subspaces(n_per=40)
    full = self_expression(X, gamma=20.0, tau=0.5, n_nonzero=1000, support_size=10_000).toarray()
    active = self_expression(X, gamma=20.0, tau=0.5, n_nonzero=1000, support_size=20).toarray()
    assert np.allclose(full, active, atol=1e-4)


def test_deterministic():
    X, _ = _union_of_subspaces(n_per=25)
    a, _ = ensc(X, 4, gamma=30.0, tau=0.7, seed=1)
    b, _ = ensc(X, 4, gamma=30.0, tau=0.7, seed=1)
    assert np.array_equal(a, b)
