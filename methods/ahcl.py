"""AHCL: Deep Contrastive Graph Representation via Adaptive Homotopy Learning (Zhang, Lu, Jiao & Li).

A Siamese autoencoder (one encoder with shared weights applied to every
member of every pair, a decoder that reconstructs the input) is trained with
the adaptive-homotopy contrastive loss plus a reconstruction term:

    d_ij = ||z_i - z_j||_2                                         (Eq. 12)
    f_ij = d_ij^2,   g_ij = max(m - d_ij, 0)^2                      (Eq. 13)
    y_ij = 0 if d_ij >= m;  g/(f+g) if 0 < d_ij < m;  1 if d_ij = 0 (Eq. 14)
    L_AHCL = 1/(2n) sum_i sum_j y_ij f_ij + (1 - y_ij) g_ij         (Eq. 15)
    L_MSE  = 1/n sum_i sum_j (x_ij - xhat_ij)^2                     (Eq. 16)
    L = L_AHCL + gamma * L_MSE                                      (Eq. 17)

The adaptive labels y_ij are recomputed from the current embedding at every
iteration and are not back-propagated through (Algorithm 1, line 5: y is
updated by Eq. 9 / 14, then z by gradient descent on Eq. 10 / 15). The pairs
of an iteration are all n^2 pairs of a batch of n randomly drawn samples
("random cross combination", Section 5.3): the Siamese branches share weights,
so one encoder pass over the batch and the (n, n) distance matrix give every
pair at once. After training, the deep graph Y (n_total, n_total) is Eq. 12-14
on the final Z (Algorithm 2, line 6), and three clusterings are returned as
Table 3 names them: KM-Z (k-means on Z), SC-Z (spectral clustering on Z) and
SC-Y (spectral clustering with Y as the affinity; AHCL's main result).

Architecture (Section 5.3, Figure 1): a convolution, three sets of residual
blocks, two fully connected layers to Z (128-d here; the paper says 512 or
128); decoder: a fully connected layer, then three transposed convolutions,
sigmoid output; ReLU elsewhere. Vector datasets stored as images (PALM and
USPS 16x16) are used as 1-channel images.

Settings (Section 5.3): Adam, initial learning rate 1e-3 decreased stepwise;
every epoch 20 iterations, each on 2,000 randomly drawn samples (all samples
when fewer); 60-140 epochs (Figure 2 shows epoch 140 on USPS); m in 0.7-0.8;
gamma in 0.01-0.001.

Reference: R. Zhang, C. Lu, Z. Jiao, X. Li, "Deep Contrastive Graph
Representation via Adaptive Homotopy Learning", arXiv:2106.09244. No public
code exists (shared/reference/image-methods.md section 4).

Choices where the paper is silent, and deviations (also in config/methods/ahcl.yaml):
- Eq. 15 is averaged over the n^2 pairs of the batch, 1/(2 n^2) (``pair_mean``;
  contrastive losses are implemented as a mean over pairs). With the printed
  1/(2n) the contrastive term outweighs gamma * L_MSE by a factor n, so the
  decoder cannot act on Z at all. ``pair_mean: false`` gives the printed form.
- Z is standardised per dimension with batch statistics (BatchNorm without
  affine parameters; final Z standardised with the statistics of all samples) and scaled by
  z_rms / sqrt(2k), so that the root-mean-square pair distance is z_rms, by
  default the margin m (``z_norm: batch``, ``z_rms``). The paper does not say how the scale of
  Z is fixed, and Eq. 15 alone is bistable: its gradient in d, 2d(m-d)(m-2d)/(f+g), attracts
  pairs closer than m/2 and repels pairs between m/2 and m, and both trivial minimisers (every
  pair at d = 0, or every pair beyond m) are reachable by a change of scale. Observed while
  developing (loss and Y diagnostics): unnormalised Z (``z_norm: none``) grew to pair
  distances ~40 and the AHCL term never engaged (all y = 0); L2-normalised Z (``z_norm: l2``)
  went to one trivial state or the other depending on the initial spread. A fixed second moment
  leaves Eq. 15 only the non-trivial way down: tight groups, far apart. Its value sets how many
  pairs start inside m/2: on scikit-learn digits (a suite-only development set, never one of
  AHCL's datasets), RMS 0.67-0.8 x m collapsed most pairs together (y mean 0.4-0.7, SC-Y
  21-41 % ACC), RMS 1.07-1.33 x m fragmented the classes into far-apart groups (y mean
  0.001-0.01, SC-Y 10-74 %), RMS 0.93 x m gave SC-Y 77-80 % and RMS = m 83-91 % (2 seeds
  each). The ratio, not the absolute scale, matters (Eq. 15 is homogeneous in (d, m)), so
  z_rms = m on every dataset; nothing was tuned on AHCL's datasets.
- Label-free restart guard (not in the paper; ``restart_y_mean`` 0.5, ``max_restarts`` 3): when
  more than half of all pairs are linked after the first epoch (mean y_ij > 0.5, against about
  1/C for balanced clusters), Eq. 15 pulls most pairs together and the run stays in that trivial
  state; the epoch is discarded and the network re-initialised (the run records ``restarts``).
  At the cpu budget without the guard, every seed whose first-epoch y mean exceeded 0.3 ended
  collapsed (UMIST seeds 0-2: 0.66-0.98; PALM seed 1: 0.95; COIL20 seed 1: 0.31, final 0.34) and
  every other seed started at 0.03-0.16. A guard that does not fire leaves the fit unchanged.
- No BatchNorm inside the encoder (the paper names none; ``batchnorm``).
  Development used scikit-learn digits (labels looked at there only, never
  on AHCL's datasets) to compare these variants.
- Z is the linear output of the second FC layer (``z_activation``).
- Widths are not given: stem conv 32 channels, residual sets of 32/64/128
  channels (one basic block each, strides 1/2/2), FC 512 -> 128.
- Step decay: learning rate x0.5 every ``lr_step`` (50) epochs.
- gamma, chosen without labels by the input dimension (Eq. 16 sums over the
  D input values, so its size grows with D): gamma = 0.001 when D >= 512
  (UMIST, COIL20, FASHION: 1024/784 values), 0.01 otherwise (PALM, USPS:
  256). m = 0.75 (the middle of 0.7-0.8) everywhere.
- d_ij is computed as sqrt(max(d_ij^2, 1e-12)) from the Gram matrix so that
  the gradient stays finite at d = 0 (the diagonal and duplicate images).
- Vector data without an image shape (the 2-D / 32-D synthetic sets) use an
  MLP encoder/decoder with the same layout (a linear layer, three residual
  blocks, two FC layers; a three-layer decoder with sigmoid output) and are
  min-max scaled per feature to [0, 1] so that a sigmoid can reconstruct them.
- SC-Z uses the suite's SC-Ncut graph (symmetric 10-NN, heat kernel) on Z;
  SC-Y and SC-Z both use the normalised-cut relaxation of clusterbench.blocks.spectral
  and k-means (10 restarts) on the spectral embedding. Y keeps y_ii = 1.
- Speed (not in the paper): the convolutions run in the channels_last (NHWC) memory format
  (``channels_last``, oneDNN's fast layout on a CPU): the same operations with a different rounding,
  which Adam steps carry into Z, so fits differ from the NCHW layout's (``channels_last: false``, the
  layout of the releases before the option) within seed noise. Gradients stay in that format (the subsampled
  shortcut and the flatten before the FC layers return them channels_last; a mixed-format ReLU backward is
  several times slower). Eq. 12-15 of a batch is one autograd node with its gradient in closed form
  (``ahcl_loss_fused``: the same loss and y, the gradient equal to autograd's to float rounding, tested).
  The deep graph Y is built as CSR from its upper triangle and mirrored: the same Y as (Y + Y^T) / 2 of
  full rows.
- ``features: mse`` trains the same network on L_MSE alone (Table 3's "MSE"
  rows); ``clustering`` picks which of KM-Z / SC-Z / SC-Y is ``labels``.
- The quick and smoke profiles use far smaller networks and budgets (CPU). The cpu profile
  (AHCL's datasets on 2 cores) keeps the schedule's shape at 10 epochs, channels 8/16/32, FC 128,
  and batches of max(256, 20 x clusters) samples (``batch_per_cluster``): each sample meets
  about 20 same-cluster partners per batch, as in the paper's 2,000-sample batches on PALM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn
from torch.nn import functional as F

from clusterbench.blocks.spectral import knn_affinity, spectral_embedding
from clusterbench.framework.base import ClusteringMethod, DivergenceError, Result
from clusterbench.blocks.kmeans_knn import kmeans
from clusterbench.framework.metrics import cluster_acc, nmi
from clusterbench.blocks.training import (as_tensor, check_finite, generator, predict_in_batches, progress,
                                          resolve_device)


@dataclass
class AHCLConfig:
    margin: float = 0.75              # m of Eq. 13-15 (paper: 0.7-0.8)
    gamma: float | None = None        # gamma of Eq. 17; None: 0.001 if input dim >= 512 else 0.01
    pair_mean: bool = True            # Eq. 15 as 1/2 mean over the n^2 pairs (True) or 1/(2n) sum (False)
    features: str = "ahcl"            # ahcl (Eq. 17) | mse (Eq. 16 only; Table 3 "MSE" rows)
    clustering: str = "sc_y"          # which clustering is ``labels``: sc_y | sc_z | km_z
    epochs: int = 100                 # paper: 60-140
    iterations: int = 20              # iterations per epoch (Section 5.3)
    batch_size: int = 2000            # samples drawn per iteration (all when fewer) ...
    batch_per_cluster: int | None = None  # ... at least this many per cluster on average (None: off)
    lr: float = 1e-3                  # Adam initial learning rate
    lr_step: int = 50                 # step decay every lr_step epochs ...
    lr_decay: float = 0.5             # ... by this factor
    z_dim: int = 128                  # embedding size (paper: 512 or 128)
    fc_hidden: int = 512              # first FC layer of the encoder
    widths: list = field(default_factory=lambda: [32, 64, 128])  # channels of the 3 residual sets
    blocks_per_set: int = 1           # residual blocks per set
    batchnorm: bool = False           # BatchNorm in the residual blocks (the paper names none)
    mlp_width: int = 256              # width of the MLP variant (vector data)
    z_norm: str = "batch"             # batch: standardise Z (RMS pair distance z_rms) | l2 | none
    z_rms: float | None = None        # RMS pair distance of the standardised Z; None: the margin m
    z_activation: str = "linear"      # linear | relu: activation of the second FC layer
    sc_neighbors: int = 10            # k of the k-NN graph of SC-Z
    n_init: int = 10                  # k-means restarts (KM-Z and on spectral embeddings)
    restart_y_mean: float | None = 0.5  # re-initialise when the first epoch's mean y_ij exceeds this ...
    max_restarts: int = 3             # ... at most this many times (label-free guard; off when the above is None)
    snapshot_epochs: list = field(default_factory=list)  # epochs whose full Z is kept (Figures 2-3) ...
    snapshot_seeds: list = field(default_factory=lambda: [0])  # ... for these seeds only (size)
    channels_last: bool = True        # NHWC memory format for the convolutions (speed; same maths, rounding differs)


# ----------------------------------------------------------------------------- Eq. 12-15
def pair_distances(Z: torch.Tensor) -> torch.Tensor:
    """d_ij = ||z_i - z_j||_2 (Eq. 12) for all pairs of Z (n, k) -> (n, n).

    Computed from the Gram matrix as sqrt(max(d^2, 1e-12)): finite gradient at d = 0.
    """
    sq = (Z * Z).sum(dim=1)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (Z @ Z.T)
    return d2.clamp_min(1e-12).sqrt()


def adaptive_labels(d: torch.Tensor, m: float) -> torch.Tensor:
    """y_ij of Eq. 14 from distances d (any shape); values in [0, 1], no gradient."""
    d = d.detach()
    f = d * d                                   # Eq. 13
    g = (m - d).clamp_min(0.0) ** 2             # Eq. 13
    y = g / (f + g).clamp_min(torch.finfo(d.dtype).tiny)
    y = torch.where(d >= m, torch.zeros_like(y), y)     # d >= m: 0
    return torch.where(d <= 0, torch.ones_like(y), y)   # d = 0: 1


def ahcl_loss(Z: torch.Tensor, m: float, pair_mean: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """L_AHCL of Eq. 15 over all n^2 pairs of a batch Z (n, k); returns (loss, y (n, n)).

    ``pair_mean``: divide the double sum by 2 n^2 (half the mean over pairs, as contrastive
    losses are implemented) instead of the printed 2 n (see module docstring).
    """
    n = Z.shape[0]
    d = pair_distances(Z)
    y = adaptive_labels(d, m)                   # Eq. 14, detached
    f = d * d                                   # Eq. 13
    g = (m - d).clamp_min(0.0) ** 2
    return (y * f + (1.0 - y) * g).sum() / (2 * n * (n if pair_mean else 1)), y


class _PairLoss(torch.autograd.Function):
    """Eq. 12-15 over all n^2 pairs of Z (n, k) with y held constant, and its gradient in closed form.

    The same quantities as ``ahcl_loss`` (d from the Gram matrix, clamped at 1e-12 before the root, y of
    Eq. 14, f and g of Eq. 13), computed in a few in-place passes over (n, n) instead of autograd's graph of
    temporaries (on PALM's 2,000-sample batches the pair terms cost as much as the network). Gradient of
    Eq. 15 with y fixed (Algorithm 1, line 5), s = 1 / denom: dL/dd_ij = s (y f' + (1 - y) g') =
    2 s (y d - (1 - y)(m - d)_+); W = dL/d(d^2) = s (y d - (1 - y)(m - d)_+) / d where d^2 >= 1e-12 (0 where
    clamped); with d^2_ij = |z_i|^2 + |z_j|^2 - 2 z_i.z_j: dL/dZ = 2 (diag(A 1) Z - A Z), A = W + W^T.
    """

    @staticmethod
    def forward(ctx, Z, m: float, denom: float):
        sq = (Z * Z).sum(dim=1)
        d = sq[:, None] + sq[None, :]
        d.sub_(Z @ Z.T, alpha=2.0)                                     # d^2 (Eq. 12)
        live = d >= 1e-12
        d.clamp_min_(1e-12).sqrt_()                                    # d
        r = (m - d).clamp_min_(0.0)                                    # (m - d)_+
        f = d * d                                                      # Eq. 13
        g = r * r
        y = g / (f + g)                                                # Eq. 14 (f >= 1e-12: y = 0 for d >= m)
        loss = (f.mul_(y).add_(g.mul_(1.0 - y))).sum() / denom         # Eq. 15
        ctx.save_for_backward(Z, d, r, y, live)
        ctx.denom = denom
        ctx.mark_non_differentiable(y)
        return loss, y

    @staticmethod
    def backward(ctx, grad_loss, _grad_y):
        Z, d, r, y, live = ctx.saved_tensors
        W = (y * d).sub_(r.mul_(1.0 - y)).div_(d).mul_(live).mul_(grad_loss / ctx.denom)   # dL/d(d^2)
        A = W.add_(W.T.clone())
        return 2.0 * (A.sum(dim=1, keepdim=True) * Z - A @ Z), None, None


def ahcl_loss_fused(Z: torch.Tensor, m: float, pair_mean: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """``ahcl_loss`` (Eq. 12-15, y detached) as one autograd node with its gradient in closed form; (loss, y)."""
    n = Z.shape[0]
    return _PairLoss.apply(Z, m, 2 * n * (n if pair_mean else 1))


def mse_loss(X: torch.Tensor, X_hat: torch.Tensor) -> torch.Tensor:
    """L_MSE of Eq. 16: squared error summed over the input values, averaged over samples."""
    return ((X - X_hat) ** 2).reshape(X.shape[0], -1).sum(dim=1).mean()


def _label_rows(Z: np.ndarray, m: float, chunk: int):
    """Yield (start, y rows (chunk, n)) of Eq. 12-14 on Z (n, k), chunk by chunk; d_ii = 0 exactly."""
    Zt = torch.as_tensor(np.ascontiguousarray(Z), dtype=torch.float32)
    sq = (Zt * Zt).sum(dim=1)
    for start in range(0, Zt.shape[0], chunk):
        Zc = Zt[start:start + chunk]
        d = (sq[start:start + chunk, None] + sq[None, :] - 2.0 * (Zc @ Zt.T)).clamp_min(0.0).sqrt()
        idx = torch.arange(Zc.shape[0])
        d[idx, start + idx] = 0.0
        yield start, adaptive_labels(d, m)


def deep_graph(Z: np.ndarray, m: float, chunk: int = 1024) -> sp.csr_matrix:
    """Deep graph Y (n, n) of Eq. 12-14 on the final embedding Z (n, k), sparse (y = 0 for d >= m).

    Symmetric, values in [0, 1], y_ii = 1. The upper triangle is built row chunk by row chunk directly as CSR
    (Eq. 14 evaluated on the pairs with d_ij < m only) and mirrored, so Y is exactly symmetric (d_ij and d_ji
    from Z Z^T can differ by rounding). Memory O(chunk * n + nnz).
    """
    Zt = torch.as_tensor(np.ascontiguousarray(Z), dtype=torch.float32)
    n = Zt.shape[0]
    sq = (Zt * Zt).sum(dim=1)
    counts, cols, vals = [], [], []
    for start in range(0, n, chunk):
        Zc = Zt[start:start + chunk]
        d = (sq[start:start + chunk, None] + sq[None, start:] - 2.0 * (Zc @ Zt[start:].T)).clamp_min(0.0).sqrt()
        idx = torch.arange(Zc.shape[0])
        d[idx, idx] = 0.0                                                   # d_ii = 0 exactly
        link = torch.triu(d < m)                                           # j >= i; y = 0 for d >= m
        i, j = torch.nonzero(link, as_tuple=True)                          # row-major: CSR order
        counts.append(link.sum(dim=1))
        cols.append((j + start).to(torch.int32))
        vals.append(adaptive_labels(d[i, j], m))                           # Eq. 13-14
    indptr = np.concatenate([[0], torch.cat(counts).cumsum(0).numpy()])
    U = sp.csr_matrix((torch.cat(vals).numpy(), torch.cat(cols).numpy(), indptr), shape=(n, n))
    U.has_sorted_indices = True
    strict = U.copy()
    strict.data[indptr[:-1]] = 0.0                                         # each row starts with its y_ii = 1
    strict.eliminate_zeros()
    return (U + strict.T.tocsr()).tocsr()                                  # disjoint patterns: exact mirror


def class_block_affinity(Z: np.ndarray, y: np.ndarray, m: float, chunk: int = 1024) -> np.ndarray:
    """Mean y_ij of Eq. 14 over (class a, class b) blocks (Figure 3); Z (n, k), labels y (n,) -> (C, C).

    For figures only (it reads the ground truth); chunked, memory O(chunk * n)."""
    classes, y_idx = np.unique(y, return_inverse=True)
    onehot = torch.nn.functional.one_hot(torch.as_tensor(y_idx), len(classes)).float()     # (n, C)
    total = torch.zeros(len(classes), len(classes))
    for start, rows in _label_rows(Z, m, chunk):                                            # Eq. 12-14
        total += onehot[start:start + rows.shape[0]].T @ rows @ onehot
    counts = onehot.sum(dim=0)
    return (total / (counts[:, None] * counts[None, :])).numpy()


# ----------------------------------------------------------------------------- network (Section 5.3)
def _norm2d(c: int, bn: bool) -> nn.Module:
    return nn.BatchNorm2d(c) if bn else nn.Identity()


def _norm1d(c: int, bn: bool) -> nn.Module:
    return nn.BatchNorm1d(c) if bn else nn.Identity()


class _Subsample(torch.autograd.Function):
    """x[:, :, ::s, ::s] (N, C, H, W) -> (N, C, ceil(H/s), ceil(W/s)) in x's memory format, with a gradient in
    that format too (autograd's slice backward returns NCHW, and mixed-format ReLU/add backward passes are ~5x
    slower on a CPU)."""

    @staticmethod
    def forward(ctx, x, s: int):
        ctx.s, ctx.shape, ctx.channels_last = s, x.shape, x.is_contiguous(memory_format=torch.channels_last)
        fmt = torch.channels_last if ctx.channels_last else torch.contiguous_format
        return x[:, :, ::s, ::s].contiguous(memory_format=fmt)

    @staticmethod
    def backward(ctx, grad):
        fmt = torch.channels_last if ctx.channels_last else torch.contiguous_format
        out = torch.empty(ctx.shape, dtype=grad.dtype, device=grad.device, memory_format=fmt).zero_()
        out[:, :, ::ctx.s, ::ctx.s] = grad
        return out, None


class _Flatten(torch.autograd.Function):
    """(N, C, H, W) -> (N, C·H·W) in NCHW order, with the gradient returned in x's memory format (a
    channels_last map would otherwise receive an NCHW gradient: a slow mixed-format ReLU backward)."""

    @staticmethod
    def forward(ctx, x):
        ctx.shape, ctx.channels_last = x.shape, x.is_contiguous(memory_format=torch.channels_last)
        return x.contiguous().reshape(x.shape[0], -1)

    @staticmethod
    def backward(ctx, grad):
        fmt = torch.channels_last if ctx.channels_last else torch.contiguous_format
        return grad.reshape(ctx.shape).contiguous(memory_format=fmt)


class Flatten(nn.Module):
    """nn.Flatten whose gradient keeps the input's memory format (``_Flatten``)."""

    def forward(self, x):
        return _Flatten.apply(x)


class ResidualBlock(nn.Module):
    """Basic residual block: conv3x3-(BN)-ReLU-conv3x3-(BN) plus (projected) shortcut, ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int, bn: bool):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=not bn)
        self.bn1 = _norm2d(c_out, bn)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=not bn)
        self.bn2 = _norm2d(c_out, bn)
        self.stride = stride
        # projection shortcut: a 1x1 convolution with this stride, written as subsampling then a 1x1
        # convolution with stride 1 (the same arithmetic; torch 2.14's CPU backward of a strided 1x1
        # convolution in channels_last segfaults on maps of 64x64 and larger, e.g. STL-10)
        self.shortcut = nn.Identity() if stride == 1 and c_in == c_out else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, 1, bias=not bn), _norm2d(c_out, bn))

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        skip = _Subsample.apply(x, self.stride) if self.stride > 1 else x
        return F.relu(self.bn2(self.conv2(h)) + self.shortcut(skip))


class ResidualMLPBlock(nn.Module):
    """Linear-(BN)-ReLU-Linear-(BN) plus identity shortcut, ReLU (MLP variant for vector data)."""

    def __init__(self, width: int, bn: bool):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(width, width), _norm1d(width, bn), nn.ReLU(),
                                  nn.Linear(width, width), _norm1d(width, bn))

    def forward(self, x):
        return F.relu(self.body(x) + x)


class ConvEncoder(nn.Module):
    """Convolution, three sets of residual blocks (strides 1, 2, 2), two FC layers -> Z."""

    def __init__(self, shape, widths, blocks_per_set, fc_hidden, z_dim, bn):
        super().__init__()
        c, h, w = shape
        layers = [nn.Conv2d(c, widths[0], 3, 1, 1, bias=not bn), _norm2d(widths[0], bn), nn.ReLU()]
        c_prev = widths[0]
        for s, width in enumerate(widths):
            for b in range(blocks_per_set):
                layers.append(ResidualBlock(c_prev, width, 2 if (s > 0 and b == 0) else 1, bn))
                c_prev = width
        self.features = nn.Sequential(*layers)
        self.out_hw = (math.ceil(h / 4), math.ceil(w / 4))
        self.fc = nn.Sequential(Flatten(), nn.Linear(c_prev * self.out_hw[0] * self.out_hw[1], fc_hidden),
                                nn.ReLU(), nn.Linear(fc_hidden, z_dim))

    def forward(self, x):
        return self.fc(self.features(x))


class ConvDecoder(nn.Module):
    """FC to a (widths[-1], H/4, W/4) map, then three transposed convolutions, sigmoid output."""

    def __init__(self, shape, widths, z_dim, in_hw):
        super().__init__()
        self.shape, self.in_hw, self.c0 = shape, in_hw, widths[-1]
        self.fc = nn.Sequential(nn.Linear(z_dim, widths[-1] * in_hw[0] * in_hw[1]), nn.ReLU())
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(widths[2], widths[1], 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(widths[1], widths[0], 4, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(widths[0], shape[0], 3, 1, 1), nn.Sigmoid())

    def forward(self, z):
        h = self.fc(z).view(-1, self.c0, *self.in_hw)
        if self.deconv[0].weight.is_contiguous(memory_format=torch.channels_last):
            h = h.contiguous(memory_format=torch.channels_last)
        return self.deconv(h)[:, :, :self.shape[1], :self.shape[2]]


class MLPEncoder(nn.Module):
    """Vector data: linear layer, three residual blocks, two FC layers -> Z."""

    def __init__(self, dim, width, blocks, fc_hidden, z_dim, bn):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, width), _norm1d(width, bn), nn.ReLU(),
                                 *[ResidualMLPBlock(width, bn) for _ in range(blocks)],
                                 nn.Linear(width, fc_hidden), nn.ReLU(), nn.Linear(fc_hidden, z_dim))

    def forward(self, x):
        return self.net(x)


class MLPDecoder(nn.Module):
    """Vector data: three linear layers, sigmoid output."""

    def __init__(self, dim, width, z_dim):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(),
                                 nn.Linear(width, dim), nn.Sigmoid())

    def forward(self, z):
        return self.net(z)


class SiameseAE(nn.Module):
    """Encoder (shared by both branches of every pair) and decoder; ``embed`` gives Z."""

    def __init__(self, shape, c: AHCLConfig):
        super().__init__()
        if c.z_norm not in ("batch", "l2", "none"):
            raise ValueError(f"z_norm must be batch, l2 or none, got {c.z_norm!r}")
        self.z_norm = c.z_norm
        self.relu_z = c.z_activation == "relu"
        # batch: per-dimension standardisation, then * z_rms / sqrt(2 k) so that E ||z_i - z_j||^2 = z_rms^2
        self.z_bn = nn.BatchNorm1d(c.z_dim, affine=False) if c.z_norm == "batch" else None
        z_rms = c.margin if c.z_rms is None else c.z_rms
        self.z_scale = z_rms / math.sqrt(2 * c.z_dim)
        if len(shape) == 3:
            self.encoder = ConvEncoder(shape, list(c.widths), c.blocks_per_set, c.fc_hidden, c.z_dim, c.batchnorm)
            self.decoder = ConvDecoder(shape, list(c.widths), c.z_dim, self.encoder.out_hw)
        else:
            self.encoder = MLPEncoder(shape[0], c.mlp_width, 3 * c.blocks_per_set, c.fc_hidden, c.z_dim, c.batchnorm)
            self.decoder = MLPDecoder(shape[0], c.mlp_width, c.z_dim)

    def raw(self, x):
        """Encoder output before the normalisation of Z."""
        z = self.encoder(x)
        return F.relu(z) if self.relu_z else z

    def embed(self, x):
        z = self.raw(x)
        if self.z_norm == "batch":
            return self.z_bn(z) * self.z_scale
        return F.normalize(z, dim=1) if self.z_norm == "l2" else z

    @torch.no_grad()
    def embed_all(self, X: torch.Tensor, batch_size: int = 2048) -> torch.Tensor:
        """Z of the whole data set; ``batch`` standardisation uses the statistics of all of X."""
        self.eval()
        if self.z_norm != "batch":
            return predict_in_batches(self.embed, X, batch_size)
        z = predict_in_batches(self.raw, X, batch_size)
        z = (z - z.mean(dim=0)) / torch.sqrt(z.var(dim=0, unbiased=False) + self.z_bn.eps)
        return z * self.z_scale

    def forward(self, x):
        z = self.embed(x)
        return z, self.decoder(z)


def _inputs(X: np.ndarray) -> np.ndarray:
    """Images as (N, C, H, W) in [0, 1]; vectors min-max scaled per feature to [0, 1]; volumes (N, C, D, H, W),
    outside AHCL's paper (VesselMNIST3D), flattened to (N, C·D·H·W) in [0, 1] for the MLP variant (the
    residual encoder is 2-D)."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim > 4:
        return X.reshape(X.shape[0], -1)
    if X.ndim == 2:
        lo, hi = X.min(axis=0), X.max(axis=0)
        X = (X - lo) / np.maximum(hi - lo, 1e-12)
    return X


def default_gamma(input_dim: int) -> float:
    """gamma without labels: 0.001 for inputs of >= 512 values, else 0.01 (L_MSE grows with the dimension)."""
    return 0.001 if input_dim >= 512 else 0.01


class AHCL(ClusteringMethod):
    """Adaptive homotopy contrastive learning + deep graph Y; labels by SC-Y (or KM-Z / SC-Z)."""

    Config = AHCLConfig
    paper = "zhang2021ahcl"
    needs_torch = True

    def fit_predict(self, data, n_clusters, *, seed, device="cpu"):
        c = self.config
        if c.features not in ("ahcl", "mse"):
            raise ValueError(f"features must be 'ahcl' or 'mse', got {c.features!r}")
        if c.clustering not in ("sc_y", "sc_z", "km_z"):
            raise ValueError(f"clustering must be sc_y, sc_z or km_z, got {c.clustering!r}")
        dev = resolve_device(device)
        torch.manual_seed(seed)
        gen = generator(seed)
        X = as_tensor(_inputs(data.X), dev)
        N = X.shape[0]
        D = int(np.prod(X.shape[1:]))
        gamma = c.gamma if c.gamma is not None else default_gamma(D)
        model, opt, sched = self._build(tuple(X.shape[1:]), dev)
        n = min(max(c.batch_size, (c.batch_per_cluster or 0) * n_clusters), N)
        history, extras = progress(c.epochs, "AHCL", step_key="epoch"), {}
        step, restarts, epoch = 0, 0, 1
        pairs = max(n * n - n, 1)
        while epoch <= c.epochs:
            model.train()
            sums = np.zeros(5)
            for _ in range(c.iterations):
                idx = torch.randperm(N, generator=gen)[:n].to(dev)     # 2,000 random samples
                Xb = X[idx]
                Zb, Xb_hat = model(Xb)                                 # Siamese: shared encoder
                l_ahcl, y = ahcl_loss_fused(Zb, c.margin, c.pair_mean)  # Eq. 12-15, y detached
                l_mse = mse_loss(Xb, Xb_hat)                           # Eq. 16
                loss = l_ahcl + gamma * l_mse if c.features == "ahcl" else l_mse   # Eq. 17
                step += 1
                value = check_finite(loss.detach(), "AHCL objective", step)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                diag = y.diagonal()                                    # pairs i != j (diagnostics)
                sums += [value, float(l_ahcl.detach()), float(l_mse.detach()),
                         float(y.sum() - diag.sum()) / pairs,
                         float(torch.count_nonzero(y) - torch.count_nonzero(diag)) / pairs]
            mean = sums / c.iterations
            if epoch == 1 and self._trivial(mean[3]) and restarts < c.max_restarts:
                # label-free guard: Y links most pairs after the first epoch, and Eq. 15 would pull them
                # together (the trivial state); start again from a new initialisation
                restarts += 1
                model, opt, sched = self._build(tuple(X.shape[1:]), dev)
                continue
            history.append({"epoch": epoch, "objective": mean[0], "loss_ahcl": mean[1], "loss_mse": mean[2],
                            "y_mean": mean[3], "y_positive_frac": mean[4], "lr": opt.param_groups[0]["lr"],
                            "batch": n})
            sched.step()
            if epoch in set(c.snapshot_epochs) and seed in set(c.snapshot_seeds):
                extras[f"z_epoch{epoch}"] = self._embed_all(model, X)
            epoch += 1
        extras["restarts"] = np.float64(restarts)
        Z = self._embed_all(model, X)
        if not np.isfinite(Z).all():
            raise DivergenceError("the embedding Z has non-finite values")
        labels = self.cluster(Z, n_clusters, seed)
        extras.update({f"labels_{k}": v for k, v in labels.items()})
        return Result(labels=labels[c.clustering], embedding=Z, history=history, extras=extras)

    def _build(self, shape: tuple[int, ...], dev):
        """A freshly initialised Siamese AE with its Adam optimiser and step decay."""
        c = self.config
        model = SiameseAE(shape, c).to(dev)
        if c.channels_last and len(shape) == 3:
            model = model.to(memory_format=torch.channels_last)  # oneDNN's fast layout (1.6x on a CPU)
        opt = torch.optim.Adam(model.parameters(), lr=c.lr)
        return model, opt, torch.optim.lr_scheduler.StepLR(opt, step_size=c.lr_step, gamma=c.lr_decay)

    def _trivial(self, y_mean: float) -> bool:
        """Whether the first epoch ended in the trivial state: more than ``restart_y_mean`` of all pairs
        linked (mean y_ij; balanced clusters give about 1/C). Only AHCL features use Y."""
        c = self.config
        return c.features == "ahcl" and c.restart_y_mean is not None and y_mean > c.restart_y_mean

    @staticmethod
    def scored_diagnostics(result: Result, y: np.ndarray) -> dict:
        """ACC and NMI (max normalisation, AHCL's Eq. 19) of KM-Z, SC-Z and SC-Y (Table 3 columns).

        Called by the runner after the fit (the method never reads the labels); keys ``acc_km_z``,
        ``nmi_max_sc_y``, ...
        """
        scores = {}
        for name in ("km_z", "sc_z", "sc_y"):
            labels = result.extras.get(f"labels_{name}")
            if labels is not None:
                scores[f"acc_{name}"] = cluster_acc(y, labels)
                scores[f"nmi_max_{name}"] = nmi(y, labels, "max")
        return scores

    @staticmethod
    def scored_history(result: Result, y: np.ndarray) -> list[dict]:
        """Per snapshot epoch (Figure 2): NMI (max) and ACC of k-means on that epoch's Z (n, k).

        Called by the runner after the fit; rows {epoch, nmi_max, acc}. Empty without snapshots.
        """
        rows = []
        k = len(np.unique(y))
        for key in sorted((k_ for k_ in result.extras if k_.startswith("z_epoch")), key=lambda s: int(s[7:])):
            labels, _ = kmeans(np.asarray(result.extras[key]), k, n_init=10, seed=0)
            rows.append({"epoch": int(key[7:]), "nmi_max": nmi(y, labels, "max"), "acc": cluster_acc(y, labels)})
        return rows

    @staticmethod
    def _embed_all(model, X) -> np.ndarray:
        return model.embed_all(X).cpu().numpy().astype(np.float32)

    def cluster(self, Z: np.ndarray, n_clusters: int, seed: int) -> dict[str, np.ndarray]:
        """KM-Z, SC-Z and SC-Y (Table 3) on the final embedding Z (n, k)."""
        c = self.config
        km_z, _ = kmeans(Z, n_clusters, n_init=c.n_init, seed=seed)
        V = spectral_embedding(knn_affinity(Z, c.sc_neighbors, "heat"), n_clusters, seed=seed)
        sc_z, _ = kmeans(V, n_clusters, n_init=c.n_init, seed=seed)
        Y = deep_graph(Z, c.margin)                                    # Eq. 12-14 on the final Z
        V = spectral_embedding(Y, n_clusters, seed=seed)
        sc_y, _ = kmeans(V, n_clusters, n_init=c.n_init, seed=seed)
        return {"km_z": km_z, "sc_z": sc_z, "sc_y": sc_y}
