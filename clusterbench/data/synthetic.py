"""The papers' synthetic datasets, generated deterministically (numpy only).

Each generator returns ``(X, y)`` with X float32 (N, d) and y int64. The data
are fixed (generator seed 0) so that every method and seed sees the same points;
run seeds vary the methods, not the data.
"""

from __future__ import annotations

import numpy as np

DATA_SEED = 0


def double_spiral(n_per_spiral: int = 1000, noise: float = 0.05, seed: int = DATA_SEED):
    """NMCE's double spiral (Appendix B.1; NMCE_toy notebook): two 2-D swiss rolls.

    Each spiral is a swiss roll's (x, z) plane, t ~ U(1.5π, 4.5π), (t cos t, t sin t),
    radius up to about 14 ("approximately 15"); the second spiral is the first
    negated. Isotropic Gaussian noise of magnitude ``noise`` (paper: 0.05; the
    notebook uses 0.1). X: (2 n, 2).
    """
    rng = np.random.default_rng(seed)
    t = 1.5 * np.pi * (1 + 2 * rng.random(2 * n_per_spiral))
    points = np.stack([t * np.cos(t), t * np.sin(t)], axis=1)
    points[n_per_spiral:] *= -1
    points += noise * rng.standard_normal(points.shape)
    y = np.repeat(np.arange(2), n_per_spiral)
    return points.astype(np.float32), y.astype(np.int64)


def _random_leaky_net(rng, dims, bias: bool):
    """A random MLP with Leaky-ReLU (slope 0.2), PyTorch's default U(±1/sqrt(fan_in)) init."""
    layers = []
    for fan_in, fan_out in zip(dims[:-1], dims[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        W = rng.uniform(-bound, bound, size=(fan_in, fan_out))
        b = rng.uniform(-bound, bound, size=fan_out) if bias else np.zeros(fan_out)
        layers.append((W, b))

    def forward(z):
        for i, (W, b) in enumerate(layers):
            z = z @ W + b
            if i < len(layers) - 1:
                z = np.where(z > 0, z, 0.2 * z)
        return z

    return forward


def two_manifold_mixture(identifiable: bool, n_per_manifold: int = 1000, ambient_dim: int = 32,
                         hidden: int = 64, seed: int = DATA_SEED):
    """NMCE Appendix A.1: a union of a 3-d and a 6-d manifold.

    i.i.d. Gaussian latents of dimension 3 and 6 are passed through two randomly
    initialised networks with Leaky-ReLU (slope 0.2). With random biases the two
    manifolds lie apart (identifiable); without biases both pass through 0 and
    intersect where the density is high (not identifiable). The paper gives no
    widths: here d -> 64 -> 64 -> 32 and 1,000 points per manifold (suite choice).
    """
    rng = np.random.default_rng(seed)
    parts = []
    for latent_dim in (3, 6):
        net = _random_leaky_net(rng, [latent_dim, hidden, hidden, ambient_dim], bias=identifiable)
        parts.append(net(rng.standard_normal((n_per_manifold, latent_dim))))
    X = np.concatenate(parts)
    y = np.repeat(np.arange(2), n_per_manifold)
    return X.astype(np.float32), y.astype(np.int64)


def four_curved_clusters(n_per_cluster: int = 250, noise: float = 0.06, seed: int = DATA_SEED):
    """R-DC's 2-D data set with four curved clusters (Figures 2 and 16).

    The paper shows the data but gives no generator; the suite uses two pairs of
    interleaved half-moons (unit radius arcs, Gaussian noise ``noise``), the
    second pair shifted by (3.5, 0), so that the four clusters are curved and
    not linearly separable. X: (4 n, 2).
    """
    rng = np.random.default_rng(seed)
    clusters = []
    for pair in range(2):
        t = np.pi * rng.random((2, n_per_cluster))
        upper = np.stack([np.cos(t[0]), np.sin(t[0])], axis=1)
        lower = np.stack([1 - np.cos(t[1]), 0.5 - np.sin(t[1])], axis=1)
        shift = np.array([3.5 * pair, 0.0])
        clusters += [upper + shift, lower + shift]
    X = np.concatenate(clusters)
    X += noise * rng.standard_normal(X.shape)
    y = np.repeat(np.arange(4), n_per_cluster)
    return X.astype(np.float32), y.astype(np.int64)
