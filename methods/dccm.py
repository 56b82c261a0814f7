"""DCCM: Deep Comprehensive Correlation Mining (Wu, Long, Wang, Qian, Ding, Lin & Zha, ICCV 2019).

A CNN f maps an image x to a prediction feature z = f(x) after a softmax (Eq. 1),
Σ_t z_t = 1, z_t ≥ 0. On a mini-batch (Algorithm 1):

    S_ij = cos(z_i, z_j);   W_ij = [S_ij ≥ thres1]                           (Eq. 2)
    L_PG = Σ_ij ℓ_g(S_ij; W_ij),  ℓ_g = binary cross-entropy on S             (Eq. 3)
    y_i = argmax_k z_ik,  p_i = max_k z_ik,  V_i = [p_i ≥ thres2]             (Eq. 7-8)
    L_PL = Σ_i V_i · ℓ_l(z_i, y_i),  ℓ_l = cross-entropy                      (Eq. 9)
    L_LR = L'_PG + α L'_PL: the same W, y, V imposed on transformed x' = G·x  (Eq. 12)
    MI_JSD(D, S) = E_J[−sp(−T(d, s))] − E_M[sp(T(d, s))],  sp = softplus     (Eq. 13)
    L_MI = −MI_JSD over triplets: positives (same sample, and a W_ij = 1
           partner), negatives (W_ij = 0 partners), T a discriminator on the
           shallow feature map s (S) and the deep feature d (D)              (Eq. 14)
    L_DCCM = L̂_PG + α L̂_PL + β L_MI,  L̂_PG = L_PG + L'_PG,  L̂_PL = L_PL + L'_PL   (Eq. 15)

W, y and V are targets (no gradient). The cluster of x_i is y_i = argmax z_i of
the final network (Eq. 7). Paper values: α = 5, β = 0.1, thres1 = 0.95,
thres2 = 0.9, RMSprop lr 1e-4 (Sec. 4 "Implementation Details").

Networks (supplement Table 4): conv-BN-ReLU stacks per input size (CIFAR 32×32:
3×3 convs 64, 64, pool, 128, pool, 256, pool; Tiny-ImageNet 64×64 and
STL/ImageNet 96×96: 5×5 convs 64, 64, pool 4, 3×3 convs 128, 128, pool 4, 1×1
conv 256, pool), then Linear(256, 64) BN ReLU Linear(64, K) BN softmax (Tiny:
256 hidden). S = the map after the first pooling, D = the first fully connected
layer's output. As the authors' code (Cory-M/DCCM, models/cifar_C4_L2.py):
convolutions without padding, Kaiming-normal conv weights, identity (``eye_``)
Linear weights, batch normalisation with batch statistics at training and at
prediction (``track_running_stats=False``); the discriminator is three bias-free
1×1 convs (S-channels + D) → 512 → 512 → 1 with ReLU on the concatenation of
the map S and D tiled over its locations.

Options that follow the authors' code instead of the paper (``Config``; the
paper is the default, the YAML ``notes`` say which produced each number):
- ``graph_source="large_batch"``: W, y, V from a no-grad pass over a "large
  batch" of 1,000 originals, then ``repeats`` × small batches of 32 drawn from it,
  each with ``n_views`` = 2 transformed copies and its own step; only transformed
  images get gradients (code: main.py). Paper: W, y, V from the mini-batch
  itself (Algorithm 1, lines 4-5), losses on the originals and one transformed copy.
- ``beta=0.05`` (code's yaml ``coeff``; paper 0.1);
- ``label_loss="bce"``: per-class binary cross-entropy of z against the one-hot
  pseudo-label (code); paper: cross-entropy;
- ``mi_deep="logits"``: D = the K-dim output of Linear(64, K) before BN (code);
  paper: the 64-dim first fully connected layer ("Y(64)");
- ``sampling``: the pair-sampling strategies of supplement Table 6 — V1
  ``nearest_random`` (default: the W = 1 partner with the largest S, and random
  W = 0 partners), V2 ``nearest_farthest``, V3 ``random_random``, V4
  ``topn_random`` (the batch's top-n W = 1 pairs). ``n_negatives`` = 2 as the code
  (its positives: same image and top neighbour; negatives: two unmasked samples).

Deviations (also in config/methods/dccm.yaml ``notes``):
- training length: the paper gives none; the paper profile runs 200 epochs (the
  third-party run of the official config in the code's issue #8 reached epoch 199);
- the final-epoch labels are reported; the code keeps the epoch with the best
  NMI against the ground truth, which the suite never does;
- inputs whose side is below 22 px (USPS 16×16, the 8×8 digits) are resized
  bilinearly to 32×32 for the CIFAR network, sides 23-63 keep their size and
  the last pooling is global (identical to the 4×4 pool on 32×32 inputs);
  sides ≥ 64 use the Tiny-ImageNet network at 64, ≥ 96 the STL network at 96;
- grey images: the first convolution has 1 input channel (the paper's networks
  take RGB); the cpu, quick and smoke budgets also narrow the network (``width``:
  16, 8, 4 instead of 64) and the discriminator (``disc_width``: 64, 16, 8 instead
  of 512) and stop after a fixed number of steps (``max_steps``: cpu 150 steps of
  32, about 1/200 of the paper's 200 epochs on mnist5k);
- the code's augmentation flips horizontally also on digit sets (MNIST, USPS),
  where the flip is not label-preserving for every class; kept as the code does;
- vectors (not in the paper): a two-layer MLP (Linear, BN, ReLU; S = its first
  layer) replaces the convolutions and the transformation G is Gaussian noise of
  ``noise`` × each feature's standard deviation;
- augmentation: the code's Keras ImageDataGenerator (rotation ±20°, shifts 0.18,
  horizontal flip, zoom 0.85-1.15, channel shift 0.1, images × 0.95) as one
  batched affine warp per batch with per-sample parameters
  (:func:`clusterbench.blocks.augment.random_affine`);
- Eq. 3 and 9 sum over pairs / samples; the suite averages (same relative
  weights of the terms, RMSprop's step barely depends on the scale);
- the discriminator's score T is computed per location of S and the softplus
  terms averaged over locations (Deep InfoMax's local estimator, which the paper
  adopts); its first 1×1 conv is split into the S part and the D part so that
  D is tiled implicitly (the same function, fewer operations);
- Table 6's variants here train the full DCCM objective with each sampling
  strategy (the paper's Table 6 trains L_MI alone on a graph from a fixed model).

Diagnostics (``Result.history``, one row per epoch; never ground truth): the
loss terms, the pseudo-graph's density, the share of confident samples (V = 1),
the mean largest probability. ``Result.extras`` keeps, for the figures, the
predictions of a fixed subsample at every epoch (``epoch_probs``), its 64-d
features at a few epochs (``snapshot_features``), the largest probability of
every sample at initialisation and at the end, and the untrained network's
clusterings (argmax and k-means of D at initialisation). The runner scores them
against the labels after the fit (:meth:`DCCM.scored_history`: BCubed
precision/recall of the pseudo-graph per epoch and threshold, Figure 5;
:meth:`DCCM.scored_diagnostics`: the untrained network's ACC).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from clusterbench.blocks.augment import random_affine
from clusterbench.framework.base import ClusteringMethod, Result
from clusterbench.blocks.training import as_tensor, check_finite, generator, minibatches, resolve_device

ARCHS = ("auto", "cifar", "tiny", "stl", "mlp")
GRAPH_SOURCES = ("minibatch", "large_batch")
SAMPLINGS = ("nearest_random", "nearest_farthest", "random_random", "topn_random")
#: pseudo-graph thresholds scored per epoch for Figure 5 (0.95 is the paper's thres1)
FIGURE5_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
_LOG = logging.getLogger(__name__)


@dataclass
class DCCMConfig:
    """Defaults: the paper (Sec. 4) with CIFAR-10's network; budgets per profile in the YAML."""

    arch: str = "auto"                 # auto (by input size) | cifar | tiny | stl | mlp
    width: int = 64                    # first conv width; the Table 4 channels 64/64/128/256 scale with it
    head_dim: int = 0                  # first FC width; 0: Table 4's (64; Tiny-ImageNet 256)
    mlp_width: int = 256               # vectors: the MLP's width
    alpha: float = 5.0                 # α of Eq. 10, 12, 15
    beta: float = 0.1                  # β of Eq. 15 (code: 0.05)
    thres1: float = 0.95               # pseudo-graph threshold (Eq. 2)
    thres2: float = 0.9                # pseudo-label confidence threshold (Eq. 8)
    local_robustness: bool = True      # Eq. 12 terms on transformed samples
    n_views: int = 1                   # transformed copies per sample (code: 2)
    graph_source: str = "minibatch"    # minibatch (Algorithm 1) | large_batch (code)
    large_batch: int = 1000            # large_batch: originals per no-grad graph pass
    repeats: int = 10                  # large_batch: passes of small batches over each large batch
    label_loss: str = "ce"             # ce (paper) | bce (code)
    mi_deep: str = "fc1"               # D: fc1 (paper, 64-d) | logits (code, K-d before BN)
    sampling: str = "nearest_random"   # Table 6: nearest_random (V1) | nearest_farthest | random_random | topn_random
    n_negatives: int = 2               # negative partners per anchor
    disc_width: int = 512              # discriminator 1×1 conv width
    augmentation: str = "auto"         # auto | affine | gaussian | none
    rotation: float = 20.0             # degrees
    shift: float = 0.18                # fraction of width / height
    zoom_low: float = 0.85
    zoom_high: float = 1.15
    hflip: bool = True
    channel_shift: float = 0.1
    aug_scale: float = 0.95            # transformed images × 0.95 (code)
    noise: float = 0.1                 # vectors: Gaussian noise in units of each feature's std
    lr: float = 1e-4
    rmsprop_alpha: float = 0.9         # RMSprop smoothing (code)
    batch_size: int = 32
    epochs: int = 200
    max_steps: int = 0                 # cap on optimiser steps (0: none); small profiles
    diag_samples: int = 1000           # fixed subsample whose predictions are kept every epoch
    snapshots: int = 3                 # epochs whose subsample features are kept (Figure 3), besides the initial
    init_kmeans: bool = True           # k-means on the untrained D features (baseline diagnostic)
    log_every: int = field(default=0, metadata={"schema": {"minimum": 0}})  # also a history row of mean losses every this many steps (0: per epoch only)


# --- objective (Eq. 1-15) -------------------------------------------------------------------------


def cosine_matrix(z: torch.Tensor) -> torch.Tensor:
    """S_ij = z_i · z_j / (||z_i|| ||z_j||) for z (B, K)."""
    zn = F.normalize(z, dim=1, eps=1e-12)
    return zn @ zn.T


def pseudo_graph(z: torch.Tensor, thres1: float) -> torch.Tensor:
    """W_ij = 1 if S_ij ≥ thres1 else 0 (Eq. 2), float (B, B), diagonal included; no gradient."""
    with torch.no_grad():
        return (cosine_matrix(z) >= thres1).to(z.dtype)


def pair_loss(z: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Eq. 3 with ℓ_g = binary cross-entropy between S_ij and W_ij, averaged over all pairs."""
    S = cosine_matrix(z).clamp(1e-7, 1 - 1e-7)
    return F.binary_cross_entropy(S, W)


def pseudo_labels(z: torch.Tensor, thres2: float) -> tuple[torch.Tensor, torch.Tensor]:
    """y_i = argmax_k z_ik (Eq. 7) and V_i = [max_k z_ik ≥ thres2] (Eq. 8); no gradient."""
    with torch.no_grad():
        p, y = z.max(dim=1)
        return y, (p >= thres2).to(z.dtype)


def label_loss(z: torch.Tensor, y: torch.Tensor, V: torch.Tensor, kind: str = "ce") -> torch.Tensor:
    """Eq. 9 averaged over the batch: V_i · ℓ_l(z_i, y_i); ℓ_l cross-entropy (paper) or per-class BCE (code)."""
    if kind == "ce":
        per_sample = -torch.log(z.gather(1, y[:, None]).squeeze(1).clamp_min(1e-7))
    elif kind == "bce":
        target = F.one_hot(y, z.shape[1]).to(z.dtype)
        per_sample = F.binary_cross_entropy(z.clamp(1e-7, 1 - 1e-7), target, reduction="none").mean(1)
    else:
        raise ValueError(f"unknown label_loss {kind!r}; known: ce, bce")
    return (V * per_sample).mean()


def jsd_mi(t_joint: torch.Tensor, t_marginal: torch.Tensor) -> torch.Tensor:
    """MI_JSD = E_J[−sp(−T)] − E_M[sp(T)] (Eq. 13); ≤ 0, −2 log 2 when T cannot tell J from M."""
    return (-F.softplus(-t_joint)).mean() - F.softplus(t_marginal).mean()


def _masked_pick(mask: torch.Tensor, scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row, the k columns with the largest ``scores`` among ``mask``; (B, k) indices and validity."""
    k = min(k, mask.shape[1])
    idx = scores.masked_fill(~mask, -math.inf).topk(k, dim=1).indices
    return idx, mask.gather(1, idx)


def sample_pairs(W: torch.Tensor, S: torch.Tensor, strategy: str, n_negatives: int,
                 gen: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Triplet pairs from the pseudo-graph (Sec. 3.4, supplement Table 6).

    Returns (pos_anchor, pos_partner, neg_anchor, neg_partner) index vectors. Every
    sample is its own positive; one more positive per anchor from W_ij = 1 (j ≠ i) and
    ``n_negatives`` negatives from W_ij = 0, chosen by ``strategy``:
    nearest (largest S) / random / top-n (the batch's B most similar W = 1 pairs)
    positives; random / farthest (smallest S) negatives. Anchors without a
    candidate contribute no such pair.
    """
    if strategy not in SAMPLINGS:
        raise ValueError(f"unknown sampling {strategy!r}; known: {SAMPLINGS}")
    B = W.shape[0]
    eye = torch.eye(B, dtype=torch.bool, device=W.device)
    pos_mask, neg_mask = (W > 0) & ~eye, W <= 0
    rand = torch.rand((B, B), generator=gen).to(W.device)
    anchors = torch.arange(B, device=W.device)
    pos_a, pos_p = [anchors], [anchors]
    pos_kind, neg_kind = strategy.split("_")
    if pos_kind == "topn":
        scores = S.masked_fill(~pos_mask, -math.inf).flatten()
        n = min(B, int(pos_mask.sum()))
        if n:
            flat = scores.topk(n).indices
            pos_a.append(flat // B)
            pos_p.append(flat % B)
    else:
        idx, ok = _masked_pick(pos_mask, S if pos_kind == "nearest" else rand, 1)
        pos_a.append(anchors[ok[:, 0]])
        pos_p.append(idx[ok[:, 0], 0])
    idx, ok = _masked_pick(neg_mask, -S if neg_kind == "farthest" else rand, n_negatives)
    neg_a = anchors[:, None].expand_as(idx)[ok]
    return torch.cat(pos_a), torch.cat(pos_p), neg_a, idx[ok]


class Discriminator(nn.Module):
    """T(s, d): three bias-free 1×1 convs (C_s + D) → w → w → 1 with ReLU, on [s ; d tiled] (Deep InfoMax).

    The first conv is split into its s and d parts: conv([s; tile(d)]) = conv_s(s) + lin_d(d),
    so a pair (i, j) costs one addition before the remaining layers.
    """

    def __init__(self, shallow_channels: int, deep_dim: int, width: int = 512):
        super().__init__()
        self.conv_s = nn.Conv2d(shallow_channels, width, 1, bias=False)
        self.lin_d = nn.Linear(deep_dim, width, bias=False)
        self.rest = nn.Sequential(nn.ReLU(), nn.Conv2d(width, width, 1, bias=False), nn.ReLU(),
                                  nn.Conv2d(width, 1, 1, bias=False))
        first = torch.empty(width, shallow_channels + deep_dim, 1, 1)
        nn.init.kaiming_normal_(first)                       # as one 1×1 conv on the concatenation
        with torch.no_grad():
            self.conv_s.weight.copy_(first[:, :shallow_channels])
            self.lin_d.weight.copy_(first[:, shallow_channels:, 0, 0])
        for m in self.rest:
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, s: torch.Tensor, d: torch.Tensor, i: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
        """Scores T(s_i, d_j) per location of s: (P, H·W) for index vectors i, j of length P."""
        h = self.conv_s(s)[i] + self.lin_d(d)[j][:, :, None, None]
        return self.rest(h).flatten(1)


def triplet_mi_loss(disc: Discriminator, s: torch.Tensor, d: torch.Tensor, W: torch.Tensor, S: torch.Tensor,
                    strategy: str, n_negatives: int, gen=None) -> torch.Tensor:
    """L_MI = −MI_JSD over the pseudo-graph's positive and negative pairs (Eq. 14)."""
    pa, pp, na, nn_ = sample_pairs(W, S, strategy, n_negatives, gen)
    t_pos = disc(s, d, pa, pp)
    if not len(na):                                          # every pair linked: no negatives in the batch
        return F.softplus(-t_pos).mean()
    return -jsd_mi(t_pos, disc(s, d, na, nn_))


# --- networks (supplement Table 4) ----------------------------------------------------------------


def _bn2d(c):
    return nn.BatchNorm2d(c, track_running_stats=False)


def _bn1d(c):
    return nn.BatchNorm1d(c, track_running_stats=False)


def _conv(cin, cout, k):
    return [nn.Conv2d(cin, cout, k), _bn2d(cout), nn.ReLU()]


def resolve_arch(arch: str, input_shape: tuple[int, ...]) -> tuple[str, int | None]:
    """(architecture, side to resize images to or None) for inputs of ``input_shape``."""
    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}; known: {ARCHS}")
    if len(input_shape) != 3:
        if arch not in ("auto", "mlp"):
            raise ValueError(f"arch {arch!r} needs images (C, H, W), got input shape {input_shape}")
        return "mlp", None
    side = min(input_shape[1:])
    if arch == "auto":
        arch = "stl" if side >= 96 else "tiny" if side >= 64 else "cifar"
    if arch == "mlp":
        return "mlp", None
    target = {"stl": 96, "tiny": 64}.get(arch)
    if arch == "cifar":
        target = 32 if side < 22 or side > 63 else None
    if target is not None and tuple(input_shape[1:]) == (target, target):
        target = None
    return arch, target


class DCCMNet(nn.Module):
    """Table 4's network: ``shallow`` (up to S) → ``deep`` → fc1 (D) → BN ReLU → fc2 → BN → softmax.

    ``forward(x)`` returns (z, s, d_fc1, logits): z (B, K) softmax prediction feature,
    s (B, C_s, h, w) the shallow map, d_fc1 (B, head) the first FC output, logits (B, K)
    the second FC output before its BN.
    """

    def __init__(self, input_shape: tuple[int, ...], n_clusters: int, arch: str = "auto", width: int = 64,
                 head_dim: int = 0, mlp_width: int = 256):
        super().__init__()
        self.arch, self.resize = resolve_arch(arch, input_shape)
        w = width
        if self.arch == "mlp":
            d = int(math.prod(input_shape))
            self.shallow = nn.Sequential(nn.Flatten(), nn.Linear(d, mlp_width), _bn1d(mlp_width), nn.ReLU(),
                                         nn.Unflatten(1, (mlp_width, 1, 1)))
            self.deep = nn.Sequential(nn.Flatten(), nn.Linear(mlp_width, mlp_width), _bn1d(mlp_width), nn.ReLU())
            s_channels, out = mlp_width, mlp_width
        else:
            c = input_shape[0]
            if self.arch == "cifar":
                self.shallow = nn.Sequential(*_conv(c, w, 3), *_conv(w, w, 3), nn.MaxPool2d(2, 2))
                self.deep = nn.Sequential(*_conv(w, 2 * w, 3), nn.MaxPool2d(2, 2), *_conv(2 * w, 4 * w, 3),
                                          nn.AdaptiveAvgPool2d(1), nn.Flatten())
            else:  # tiny (64×64) and stl (96×96): 5×5, 5×5, pool 4 | 3×3, 3×3, pool 4, 1×1, average pool
                self.shallow = nn.Sequential(*_conv(c, w, 5), *_conv(w, w, 5), nn.MaxPool2d(4, 4))
                self.deep = nn.Sequential(*_conv(w, 2 * w, 3), *_conv(2 * w, 2 * w, 3), nn.MaxPool2d(4, 4),
                                          *_conv(2 * w, 4 * w, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
            s_channels, out = w, 4 * w
        head = head_dim or (256 if self.arch == "tiny" else 64)
        self.fc1, self.bn1 = nn.Linear(out, head), _bn1d(head)
        self.fc2, self.bn2 = nn.Linear(head, n_clusters), _bn1d(n_clusters)
        self.shallow_channels, self.head_dim = s_channels, head
        for m in self.modules():              # the code's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.Linear):
                nn.init.eye_(m.weight)

    def forward(self, x: torch.Tensor):
        if self.resize:
            x = F.interpolate(x, size=(self.resize, self.resize), mode="bilinear", align_corners=False)
        s = self.shallow(x)
        d = self.fc1(self.deep(s))
        logits = self.fc2(F.relu(self.bn1(d)))
        return F.softmax(self.bn2(logits), dim=1), s, d, logits


# --- the method ---------------------------------------------------------------------------------


class DCCM(ClusteringMethod):
    Config = DCCMConfig
    paper = "dccm"
    needs_torch = True

    def _validate(self):
        c = self.config
        for name, value, known in (("graph_source", c.graph_source, GRAPH_SOURCES), ("sampling", c.sampling, SAMPLINGS),
                                   ("label_loss", c.label_loss, ("ce", "bce")), ("mi_deep", c.mi_deep, ("fc1", "logits")),
                                   ("augmentation", c.augmentation, ("auto", "affine", "gaussian", "none"))):
            if value not in known:
                raise ValueError(f"unknown {name} {value!r}; known: {known}")
        if not (0 < c.thres1 <= 1 and 0 < c.thres2 <= 1):
            raise ValueError(f"thres1 and thres2 must lie in (0, 1], got {c.thres1}, {c.thres2}")
        if c.batch_size < 2 or c.n_views < 1:
            raise ValueError("batch_size must be at least 2 and n_views at least 1")

    # transformations G (Sec. 3.3) ------------------------------------------------
    def _transform(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        c = self.config
        policy = c.augmentation
        if policy == "auto":
            policy = "affine" if x.dim() == 4 else "gaussian"
        if policy == "none":
            return x
        if policy == "gaussian":
            noise = torch.randn(x.shape, generator=gen).to(x.device, x.dtype)
            return x + c.noise * self._feature_std * noise
        if x.dim() != 4:
            raise ValueError("affine augmentation needs images (B, C, H, W)")
        y = random_affine(x, c.rotation, c.shift, (c.zoom_low, c.zoom_high), c.hflip, c.channel_shift, gen)
        return y * c.aug_scale

    # one optimiser step -----------------------------------------------------------
    def _step(self, loss, optimizer, step):
        check_finite(loss.detach(), "DCCM loss", step)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    # predictions --------------------------------------------------------------------
    @torch.no_grad()
    def _predict(self, net, X: torch.Tensor):
        """(z, d) for all of X in near-equal chunks of at most ``large_batch`` (batch statistics, ≥ 2 each)."""
        n = X.shape[0]
        chunks = max(1, math.ceil(n / max(2, self.config.large_batch)))
        zs, ds = [], []
        for part in torch.tensor_split(torch.arange(n), chunks):
            z, _, d, _ = net(X[part.to(X.device)])
            zs.append(z)
            ds.append(d)
        return torch.cat(zs), torch.cat(ds)

    # epochs ---------------------------------------------------------------------------
    def _epoch_minibatch(self, net, opt, X, gen, step, tally):
        """Algorithm 1: W, y, V from each mini-batch's own predictions; originals and transformed copies."""
        c = self.config
        for idx in minibatches(X.shape[0], min(c.batch_size, X.shape[0]), gen, drop_last=True):
            if c.max_steps and step >= c.max_steps:
                break
            xb = X[idx.to(X.device)]
            views = [self._transform(xb, gen) for _ in range(c.n_views)] if c.local_robustness else []
            batches = [xb] + views
            z, s, d, logits = net(torch.cat(batches))
            B = xb.shape[0]
            W = pseudo_graph(z[:B], c.thres1)                          # Eq. 2
            y, V = pseudo_labels(z[:B], c.thres2)                      # Eq. 7-8
            loss, terms = self._terms(z, s, d, logits, B, len(batches), W, y, V, gen, mi_parts=[0])
            self._step(loss, opt, step)
            step += 1
            tally.add(step, loss=loss.item(), density=W.mean().item(), confident=V.mean().item(), **terms)
        return step

    def _epoch_large_batch(self, net, opt, X, gen, step, tally):
        """The code's loop: a no-grad graph over each large batch, then repeats × small batches of views."""
        c = self.config
        n = X.shape[0]
        for large in minibatches(n, min(c.large_batch, n), gen, drop_last=False):
            if c.max_steps and step >= c.max_steps or len(large) < 2:
                break
            XL = X[large.to(X.device)]
            zL, _ = self._predict(net, XL)
            WL = pseudo_graph(zL, c.thres1)
            yL, VL = pseudo_labels(zL, c.thres2)
            for _ in range(c.repeats):
                for idx in minibatches(len(large), min(c.batch_size, len(large)), gen, drop_last=True):
                    if c.max_steps and step >= c.max_steps:
                        break
                    idx = idx.to(X.device)
                    xb = XL[idx]
                    batches = ([self._transform(xb, gen) for _ in range(c.n_views)] if c.local_robustness
                               else [xb])
                    z, s, d, logits = net(torch.cat(batches))
                    W = WL[idx][:, idx]
                    loss, terms = self._terms(z, s, d, logits, len(idx), len(batches), W, yL[idx], VL[idx], gen,
                                              mi_parts=list(range(len(batches))))
                    self._step(loss, opt, step)
                    step += 1
                    tally.add(step, loss=loss.item(), density=W.mean().item(), confident=VL[idx].mean().item(),
                              **terms)
        return step

    def _terms(self, z, s, d, logits, B, parts, W, y, V, gen, mi_parts):
        """Eq. 15 on ``parts`` stacked copies of a batch of B: L̂_PG + α L̂_PL + β L_MI (MI on ``mi_parts``)."""
        c = self.config
        terms = {"pg": 0.0, "pl": 0.0, "mi": 0.0}
        loss = z.new_zeros(())
        for v in range(parts):
            part = slice(v * B, (v + 1) * B)
            zv = z[part]
            pg = pair_loss(zv, W)                                      # Eq. 3; for a view, L'_PG of Eq. 12
            loss = loss + pg
            terms["pg"] += pg.item()
            if c.alpha:
                pl = label_loss(zv, y, V, c.label_loss)                # Eq. 9; for a view, L'_PL of Eq. 12
                loss = loss + c.alpha * pl
                terms["pl"] += pl.item()
            if c.beta and v in mi_parts:
                deep = d[part] if c.mi_deep == "fc1" else logits[part]
                mi = triplet_mi_loss(self.disc, s[part], deep, W, cosine_matrix(zv.detach()), c.sampling,
                                     c.n_negatives, gen)               # Eq. 13-14
                loss = loss + c.beta * mi / len(mi_parts)
                terms["mi"] += mi.item() / len(mi_parts)
        return loss, terms

    # fit ---------------------------------------------------------------------------------
    def fit_predict(self, data, n_clusters, *, seed, device="cpu"):
        c = self.config
        self._validate()
        dev = resolve_device(device)
        torch.manual_seed(seed)
        gen = generator(seed)
        X = as_tensor(data.X, dev)
        check_finite(float(X.abs().sum()), "DCCM input")
        n = X.shape[0]
        # Gaussian transformations (non-image inputs: vectors, 3-D volumes) scale the noise per feature
        self._feature_std = X.std(dim=0, keepdim=True).clamp_min(1e-8) if X.dim() != 4 else None
        net = DCCMNet(tuple(X.shape[1:]), n_clusters, c.arch, c.width, c.head_dim, c.mlp_width).to(dev)
        deep_dim = net.head_dim if c.mi_deep == "fc1" else n_clusters
        self.disc = Discriminator(net.shallow_channels, deep_dim, c.disc_width).to(dev)
        params = list(net.parameters()) + (list(self.disc.parameters()) if c.beta else [])
        opt = torch.optim.RMSprop(params, lr=c.lr, alpha=c.rmsprop_alpha)

        diag = _subsample(n, c.diag_samples, seed)
        Xd = X[torch.as_tensor(diag, device=dev)]
        snapshot_at = set(np.unique(np.round(np.linspace(1, c.epochs, c.snapshots)).astype(int)).tolist()) \
            if c.snapshots and c.epochs else set()
        z0, d0 = self._predict(net, X)
        init_labels = z0.argmax(1).cpu().numpy()
        extras = {"init_labels_argmax": init_labels.astype(np.int64),
                  "max_prob_init": z0.max(1).values.cpu().numpy().astype(np.float16),
                  "diag_index": diag.astype(np.int64)}
        if c.init_kmeans:
            from sklearn.cluster import KMeans

            extras["init_labels_kmeans"] = KMeans(n_clusters, n_init=10, random_state=seed).fit_predict(
                d0.cpu().numpy().astype(np.float64)).astype(np.int64)
        epoch_probs, epochs_kept, snap_feats, snap_epochs = [], [], [], []

        # keep at most ~5M probabilities (Tiny-ImageNet: 200 classes): every `stride`-th epoch and the last
        stride = max(1, math.ceil((c.epochs + 1) * len(diag) * n_clusters / 5e6))

        def record_epoch(epoch, last=False):
            zd, dd = self._predict(net, Xd)
            if epoch % stride == 0 or last:
                epoch_probs.append(zd.cpu().numpy().astype(np.float16))
                epochs_kept.append(epoch)
            if epoch == 0 or epoch in snapshot_at or last:
                snap_feats.append(dd.cpu().numpy().astype(np.float32))
                snap_epochs.append(epoch)
            return zd

        record_epoch(0)
        history, step, cpu0 = [], 0, time.process_time()
        net.train()
        run_epoch = self._epoch_minibatch if c.graph_source == "minibatch" else self._epoch_large_batch
        for epoch in range(1, c.epochs + 1):
            tally = _Tally(c.log_every)
            step = run_epoch(net, opt, X, gen, step, tally)
            if tally.n == 0:
                break
            last = epoch == c.epochs or bool(c.max_steps and step >= c.max_steps)
            zd = record_epoch(epoch, last)
            pmax = zd.max(1).values
            means = tally.means()
            history += [{"row": "window", "epoch": epoch, **row} for row in tally.rows]
            history.append({"row": "epoch", "epoch": epoch, "step": step, **means,
                            "mean_max_prob": pmax.mean().item(),
                            "confident_subsample": (pmax >= c.thres2).float().mean().item(),
                            "clusters_used": int(torch.unique(zd.argmax(1)).numel()),
                            "cpu_s": time.process_time() - cpu0})
            _LOG.info("DCCM epoch %d/%d, step %d: loss %.4f (pg %.4f, pl %.4f, mi %.4f), %.0f CPU-s", epoch,
                      c.epochs, step, means["loss"], means["pg"], means["pl"], means["mi"], history[-1]["cpu_s"])
            if c.max_steps and step >= c.max_steps:
                break

        z, d = self._predict(net, X)
        check_finite(float(z.sum()), "DCCM predictions")
        labels = z.argmax(1).cpu().numpy().astype(np.int64)           # Eq. 7, final epoch
        extras.update({"max_prob_final": z.max(1).values.cpu().numpy().astype(np.float16),
                       "epoch_probs": np.stack(epoch_probs), "epochs": np.asarray(epochs_kept, dtype=np.int64),
                       "snapshot_features": np.stack(snap_feats),
                       "snapshot_epochs": np.asarray(snap_epochs, dtype=np.int64),
                       "steps": np.int64(step)})
        return Result(labels=labels, embedding=d.cpu().numpy(), history=history, extras=extras)

    # label-dependent scores, computed by the runner after the fit -------------------------------
    @staticmethod
    def scored_diagnostics(result: Result, y: np.ndarray) -> dict:
        """ACC / NMI of the untrained network's clusterings (argmax of z, k-means of D at initialisation)."""
        from clusterbench.framework.metrics import cluster_acc, nmi

        out = {}
        for name in ("argmax", "kmeans"):
            labels = result.extras.get(f"init_labels_{name}")
            if labels is not None:
                out[f"acc_init_{name}"] = cluster_acc(y, labels)
                out[f"nmi_init_{name}"] = nmi(y, labels)
        return out

    @staticmethod
    def scored_history(result: Result, y: np.ndarray) -> list[dict]:
        """Per kept epoch and pseudo-graph threshold: BCubed precision / recall of W on the subsample (Figure 5)."""
        from clusterbench.framework.metrics import cluster_acc

        probs = result.extras.get("epoch_probs")
        if probs is None:
            return []
        yy = np.asarray(y)[result.extras["diag_index"]]
        rows = []
        for epoch, P in zip(result.extras["epochs"], probs):
            P = P.astype(np.float32)
            P = P / np.maximum(np.linalg.norm(P, axis=1, keepdims=True), 1e-12)
            S = P @ P.T
            for t in FIGURE5_THRESHOLDS:
                precision, recall = graph_bcubed(S >= t, yy)
                rows.append({"epoch": int(epoch), "threshold": t, "precision": precision, "recall": recall,
                             "acc_subsample": cluster_acc(yy, P.argmax(1))})
        return rows


class _Tally:
    """Mean loss terms over an epoch, and rows of their means over every ``every`` steps (history)."""

    def __init__(self, every: int = 0):
        self.every, self.n, self.rows = every, 0, []
        self.total, self.window, self.window_n = {}, {}, 0

    def add(self, step: int, **values: float) -> None:
        for key, value in values.items():
            self.total[key] = self.total.get(key, 0.0) + value
            self.window[key] = self.window.get(key, 0.0) + value
        self.n += 1
        self.window_n += 1
        if self.every and self.window_n == self.every:
            self.rows.append({"step": step, **{k: v / self.window_n for k, v in self.window.items()}})
            self.window, self.window_n = {}, 0

    def means(self) -> dict:
        return {k: v / max(self.n, 1) for k, v in self.total.items()}


def graph_bcubed(W: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """BCubed precision and recall of a pseudo-graph W (n, n) bool (W_ii = 1) against labels y.

    For each item i, with N(i) = {j : W_ij = 1} and C(i) = {j : y_j = y_i}:
    precision_i = |N(i) ∩ C(i)| / |N(i)|, recall_i = |N(i) ∩ C(i)| / |C(i)|; both averaged over i
    (Amigó et al. 2009, applied to the graph's neighbourhoods as DCCM's Figure 5).
    """
    _, inverse = np.unique(y, return_inverse=True)
    onehot = np.eye(inverse.max() + 1, dtype=np.float32)[inverse]
    Wf = W.astype(np.float32)
    same = (Wf @ onehot)[np.arange(len(y)), inverse]
    precision = same / np.maximum(Wf.sum(1), 1)
    recall = same / onehot.sum(0)[inverse]
    return float(precision.mean()), float(recall.mean())


def _subsample(n: int, limit: int, seed: int) -> np.ndarray:
    """All indices, or a seeded random subset of ``limit`` of them (sorted)."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))
