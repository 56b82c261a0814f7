"""NMCE: Neural Manifold Clustering and Embedding (Li, Chen, LeCun & Sommer, 2022).

A network f maps x to a feature z on the unit sphere and cluster logits. With
two augmented views x¹, x² of each sample:

    Gumbel-softmax assignments   π^v = softmax((log softmax(logits^v) + g) / τ),  g ~ Gumbel(0, 1)
    view averages                z̄ = normalise(½(z¹ + z²)),   π̄ = ½(π¹ + π²)          (Sec. 4)
    NMCE objective (Eq. 4)       L = −R(z̄) + γ R_c(z̄, π̄) − λ · mean_i cos(z¹_i, z²_i)
    TCR objective (Eq. 5)        L = ½[−R(z¹) − R(z²)] − λ · mean_i cos(z¹_i, z²_i)

with the coding rates R, R_c of :mod:`clusterbench.blocks.coding_rate` (``eps`` is ε²,
as in the authors' code) and the constraint term "cosine similarity between
augmented views" (Sec. 3.5). Procedures (``procedure``):

- ``one_stage``: the full NMCE objective from scratch (double spiral, Fig. 1);
  MLP backbone, Gaussian-noise augmentation, Adam.
- ``two_stage``: TCR, then the full NMCE objective on the whole network
  (the synthetic two-manifold mixture, App. A.1).
- ``three_stage``: (1) TCR self-supervision of backbone + pre-feature layer
  (Linear 4096, BN, ReLU) + projection; (2) new subspace and cluster heads
  trained with NMCE on the frozen backbone; (3) NMCE fine-tuning of everything
  (images, Sec. 3.6 and 4.2). LARS-wrapped SGD (momentum 0.9, η 0.02, clipping),
  linear warm-up then cosine decay in stage 1; in stages 2-3 the cluster head
  has its own SGD with a fixed lr (0.5) and weight decay (Table B.1's "wd"
  column for S2/S3), the other parameters LARS with cosine decay.
- ``tcr_ensc``: TCR on the view-averaged z with Adam, full batch, then EnSC +
  spectral clustering of z (COIL-20/100, Sec. 4.1; :mod:`clusterbench.blocks.ensc`).

Assignments: argmax of the cluster logits of the un-augmented data (eval mode).
Diagnostics (Table A.1): mean |cos| of z between different found clusters and
within found clusters (``Result.extras``) and, computed by the runner through
:meth:`NMCE.scored_diagnostics`, between different true clusters.

Deviations from the paper and the authors' code (also in config/methods/nmce.yaml):
- the synthetic data are the registry's fixed points, not fresh samples per
  step: 2,000 (the batch is all of them when the paper's 4096 exceeds N), or
  40,000 for Figure 1, drawn in batches of 4,096;
- Figure 1 is drawn twice: with the paper's text (noise 0.05, weight decay 1e-6)
  and with the authors' notebook (data noise 0.1, augmentation noise 0.2,
  weight decay 1e-5, Adam betas (0.9, 0.99); dataset nmce_double_spiral_notebook).
  Only the notebook's settings separate the spirals (ACC 96.9 and 100.0 on
  seeds 0 and 1, against 66.5 with the paper's text; workflow/rules/figures_nmce.smk);
- two_stage uses the Table B.1 "Synthetic" row for both stages (3000 steps each)
  and τ = 0.2 (the toy's value; the paper gives no τ for it);
- the three-stage subspace head lr in stage 2 is the stage-3 lr (the paper
  lists only the cluster-head lr 0.5 for S2); backbone/subspace weight decay in
  S2/S3 is 1e-4 (authors' code); Table B.1's lr is used as given (no scaling
  by batch/256); the schedule is per step rather than per epoch;
- augmentations are vectorised re-implementations (:mod:`clusterbench.blocks.augment`)
  with per-sample parameters; CIFAR inputs are not mean/std-normalised;
- ACC is Hungarian (the code uses a greedy match).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from clusterbench.blocks.augment import gaussian_noise, random_shift_rotate, simclr_augment
from clusterbench.blocks.backbones import build_backbone
from clusterbench.framework.base import ClusteringMethod, Result
from clusterbench.blocks.coding_rate import mcr2_loss, tcr_loss
from clusterbench.blocks.lars import LARS
from clusterbench.blocks.training import as_tensor, check_finite, generator, predict_in_batches, resolve_device

PROCEDURES = ("one_stage", "two_stage", "three_stage", "tcr_ensc")


@dataclass
class NMCEConfig:
    """Defaults: CIFAR-10 with ResNet-18 (Table B.1 rows S1-S3); other experiments in the YAML."""

    procedure: str = "three_stage"     # one_stage | two_stage | three_stage | tcr_ensc
    backbone: str = "resnet18_cifar"   # mlp | resnet18_cifar | resnet34_cifar | resnet18_stl | ... (backbones.py)
    mlp_width: int = 128
    mlp_depth: int = 5
    resnet_width: int = 0              # 0: the architecture's own first-stage width
    pre_feature_dim: int = 4096        # Linear + BN + ReLU after the backbone; 0: none (MLP experiments)
    z_dim: int = 128                   # d_z
    eps: float = 0.2                   # ε² of the coding rates
    gamma: float = 1.0                 # γ weighting R_c
    tau: float = 1.0                   # Gumbel-softmax temperature
    augmentation: str = "cifar"        # auto | gaussian | shift_rotate | cifar | stl | coil
    noise: float = 0.05                # Gaussian augmentation magnitude
    batch_size: int = 1024
    unit: str = "epochs"               # stage lengths in "epochs" or optimiser "steps"
    optimizer: str = "lars"            # lars (SGD + LARS) | adam
    momentum: float = 0.9
    lars_eta: float = 0.02
    schedule: str = "cosine"           # cosine | constant
    warmup: int = 10                   # stage-1 linear warm-up, in `unit`
    adam_beta2: float = 0.999
    s1_length: int = 600               # stage 1 (TCR; the only stage of one_stage / tcr_ensc)
    s1_lr: float = 1.0
    s1_wd: float = 1e-6
    s1_lambda: float = 50.0
    s2_length: int = 100               # stage 2 (NMCE; heads only in three_stage)
    s2_lr: float = 0.003
    s2_wd: float = 1e-4
    s2_cluster_lr: float = 0.5
    s2_cluster_wd: float = 0.005
    s2_lambda: float = 50.0
    s3_length: int = 100               # stage 3 (NMCE fine-tuning, three_stage)
    s3_lr: float = 0.003
    s3_wd: float = 1e-4
    s3_cluster_lr: float = 0.5
    s3_cluster_wd: float = 0.005
    s3_lambda: float = 50.0
    ensc_gamma: float = 400.0          # EnSC γ (tcr_ensc)
    ensc_tau: float = 1.0              # EnSC τ (tcr_ensc)
    log_every: int = 10                # history row every this many steps
    diagnostics_max: int = 5000        # z-similarity diagnostics on at most this many samples


# --- objective pieces ---------------------------------------------------------------------------


def gumbel_softmax(logits: torch.Tensor, tau: float, gen: torch.Generator | None = None) -> torch.Tensor:
    """softmax((log softmax(logits) + g)/τ), g = −log(−log U), U ~ U(0, 1); not straight-through."""
    u = torch.rand(logits.shape, generator=gen).to(logits.device, logits.dtype)
    g = -torch.log(-torch.log(u.clamp(1e-20, 1 - 1e-7)))
    return ((F.log_softmax(logits, dim=1) + g) / tau).softmax(dim=1)


def view_cosine(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """mean_i cos(z¹_i, z²_i): the constraint term between the two views."""
    return F.cosine_similarity(z1, z2, dim=1).mean()


def view_average(z1, z2, p1=None, p2=None):
    """z̄ = normalise(½(z¹ + z²)) and π̄ = ½(π¹ + π²)."""
    z = F.normalize((z1 + z2) / 2, dim=1)
    return z if p1 is None else (z, (p1 + p2) / 2)


def nmce_objective(z1, z2, logits1, logits2, *, eps, gamma, lam, tau, gen):
    """Eq. 4 on a two-view batch; returns (loss, terms dict)."""
    p1, p2 = gumbel_softmax(logits1, tau, gen), gumbel_softmax(logits2, tau, gen)
    z, p = view_average(z1, z2, p1, p2)
    mcr, R, Rc = mcr2_loss(z, p, eps, gamma)
    cos = view_cosine(z1, z2)
    return mcr - lam * cos, {"R": R.item(), "Rc": Rc.item(), "zsim": cos.item()}


def tcr_objective(z1, z2, *, eps, lam, averaged=False):
    """Eq. 5 with the constraint: ½[−R(z¹) − R(z²)] − λ cos (or −R(z̄) − λ cos, COIL code)."""
    tcr = tcr_loss(view_average(z1, z2), eps) if averaged else (tcr_loss(z1, eps) + tcr_loss(z2, eps)) / 2
    cos = view_cosine(z1, z2)
    return tcr - lam * cos, {"R": -tcr.item(), "zsim": cos.item()}


def zsim_between_within(Z: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Mean |cos| of z over pairs in different clusters and over pairs (i ≠ j) in the same cluster."""
    Z = Z / np.maximum(np.linalg.norm(Z, axis=1, keepdims=True), 1e-12)
    G = np.abs(Z @ Z.T)
    _, inverse = np.unique(labels, return_inverse=True)
    M = np.eye(inverse.max() + 1)[inverse]                    # (N, K) one-hot
    S = M.T @ G @ M                                            # pair sums per cluster pair
    sizes = M.sum(0)
    n = len(labels)
    same_pairs = (sizes ** 2).sum() - n
    between_pairs = n ** 2 - (sizes ** 2).sum()
    within = (np.trace(S) - np.trace(G)) / same_pairs if same_pairs > 0 else float("nan")
    between = (S.sum() - np.trace(S)) / between_pairs if between_pairs > 0 else float("nan")
    return float(between), float(within)


# --- network ------------------------------------------------------------------------------------


class NMCENet(nn.Module):
    """backbone → pre-feature (Linear, BN, ReLU; optional) → subspace head (z, normalised) and cluster head."""

    def __init__(self, backbone: nn.Module, pre_feature_dim: int, z_dim: int, n_clusters: int):
        super().__init__()
        self.backbone = backbone
        d = backbone.out_dim
        if pre_feature_dim:
            self.pre_feature = nn.Sequential(nn.Linear(d, pre_feature_dim), nn.BatchNorm1d(pre_feature_dim),
                                             nn.ReLU())
            d = pre_feature_dim
        else:
            self.pre_feature = nn.Identity()
        self.feature_dim = d
        self.subspace = nn.Linear(d, z_dim)
        self.cluster = nn.Linear(d, n_clusters)

    def features(self, x):
        return self.pre_feature(self.backbone(x))

    def heads(self, h):
        return F.normalize(self.subspace(h), dim=1), self.cluster(h)

    def forward(self, x):
        return self.heads(self.features(x))

    def new_heads(self):
        """Fresh subspace and cluster heads (stage 2 of three_stage)."""
        self.subspace = nn.Linear(self.feature_dim, self.subspace.out_features).to(self.subspace.weight.device)
        self.cluster = nn.Linear(self.feature_dim, self.cluster.out_features).to(self.cluster.weight.device)


# --- the method ---------------------------------------------------------------------------------


class NMCE(ClusteringMethod):
    Config = NMCEConfig
    paper = "li2022nmce"
    needs_torch = True

    # views ---------------------------------------------------------------------
    def _augment(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        c = self.config
        policy = c.augmentation
        if policy == "auto":
            policy = "gaussian" if x.dim() == 2 else "shift_rotate"
        if policy == "gaussian":
            return gaussian_noise(x, c.noise, gen)
        if policy == "shift_rotate":
            return random_shift_rotate(x, gen=gen)
        return simclr_augment(x, policy, gen)

    def _views(self, xb, gen):
        return torch.cat([self._augment(xb, gen), self._augment(xb, gen)])

    # schedules -----------------------------------------------------------------
    def _steps(self, length: int, n: int) -> tuple[int, int]:
        """(total steps, steps per unit) of a stage of ``length`` units."""
        per_unit = 1 if self.config.unit == "steps" else max(1, n // min(self.config.batch_size, n))
        return length * per_unit, per_unit

    def _scheduler(self, optimizer, total: int, warmup: int):
        cosine = self.config.schedule == "cosine"

        def factor(t: int) -> float:
            if t < warmup:
                return (t + 1) / warmup
            return 0.5 * (1 + math.cos(math.pi * t / total)) if cosine else 1.0

        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)

    def _optimizer(self, params, lr, wd):
        c = self.config
        if c.optimizer == "lars":
            return LARS(params, lr=lr, momentum=c.momentum, weight_decay=wd, eta=c.lars_eta)
        if c.optimizer == "adam":
            return torch.optim.Adam(params, lr=lr, betas=(0.9, c.adam_beta2), weight_decay=wd)
        raise ValueError(f"unknown optimizer {c.optimizer!r}")

    # one stage -----------------------------------------------------------------
    def _run_stage(self, name, net, X, gen, *, length, objective, optimizers, schedulers, frozen_backbone=False):
        c = self.config
        n = X.shape[0]
        bs = min(c.batch_size, n)
        total, _ = self._steps(length, n)
        step = 0
        while step < total:
            order = torch.randperm(n, generator=gen)
            for start in range(0, n - bs + 1, bs):             # drop_last, as the authors' loaders
                if step >= total:
                    break
                xb = X[order[start:start + bs].to(X.device)]
                views = self._views(xb, gen)
                if frozen_backbone:
                    with torch.no_grad():
                        h = net.features(views)
                    z, logits = net.heads(h)
                else:
                    z, logits = net(views)
                z1, z2 = z.chunk(2)
                l1, l2 = logits.chunk(2)
                loss, terms = objective(z1, z2, l1, l2)
                check_finite(loss.detach(), f"NMCE {name} loss", step)
                for opt in optimizers:
                    opt.zero_grad(set_to_none=True)
                loss.backward()
                for opt in optimizers:
                    opt.step()
                for sched in schedulers:
                    sched.step()
                if step % c.log_every == 0 or step == total - 1:
                    self.history.append({"stage": name, "step": step, "loss": loss.item(), **terms})
                step += 1

    def _tcr(self, lam, averaged=False):
        c = self.config
        return lambda z1, z2, l1, l2: tcr_objective(z1, z2, eps=c.eps, lam=lam, averaged=averaged)

    def _nmce(self, lam, gen):
        c = self.config
        return lambda z1, z2, l1, l2: nmce_objective(z1, z2, l1, l2, eps=c.eps, gamma=c.gamma, lam=lam,
                                                     tau=c.tau, gen=gen)

    def _simple_stage(self, name, net, X, gen, length, lr, wd, objective, warmup=0):
        """A stage training every parameter with one optimiser (one/two-stage, tcr_ensc, stage 1)."""
        opt = self._optimizer(net.parameters(), lr, wd)
        total, per_unit = self._steps(length, X.shape[0])
        sched = self._scheduler(opt, total, warmup * per_unit)
        self._run_stage(name, net, X, gen, length=length, objective=objective, optimizers=[opt],
                        schedulers=[sched])

    def _head_stage(self, name, net, X, gen, *, length, lr, wd, cluster_lr, cluster_wd, lam, train_backbone):
        """Stages 2-3 of three_stage: subspace (+ backbone) with the main optimiser, cluster head with SGD."""
        c = self.config
        params = list(net.subspace.parameters())
        if train_backbone:
            params = list(net.backbone.parameters()) + list(net.pre_feature.parameters()) + params
        opt = self._optimizer(params, lr, wd)
        total, _ = self._steps(length, X.shape[0])
        scheds = [self._scheduler(opt, total, 0)]
        if c.optimizer == "lars":
            opt_c = torch.optim.SGD(net.cluster.parameters(), lr=cluster_lr, momentum=c.momentum,
                                    weight_decay=cluster_wd)
        else:
            opt_c = self._optimizer(net.cluster.parameters(), lr, cluster_wd)
            scheds.append(self._scheduler(opt_c, total, 0))
        self._run_stage(name, net, X, gen, length=length, objective=self._nmce(lam, gen),
                        optimizers=[opt, opt_c], schedulers=scheds, frozen_backbone=not train_backbone)

    # fit -----------------------------------------------------------------------
    def fit_predict(self, data, n_clusters, *, seed, device="cpu"):
        c = self.config
        if c.procedure not in PROCEDURES:
            raise ValueError(f"unknown procedure {c.procedure!r}; known: {PROCEDURES}")
        dev = resolve_device(device)
        torch.manual_seed(seed)
        gen = generator(seed)
        X = as_tensor(data.X, dev)
        backbone = build_backbone(c.backbone, tuple(X.shape[1:]), mlp_width=c.mlp_width, mlp_depth=c.mlp_depth,
                                  resnet_width=c.resnet_width or None)
        net = NMCENet(backbone, c.pre_feature_dim, c.z_dim, n_clusters).to(dev)
        net.train()
        self.history = []

        if c.procedure == "one_stage":
            self._simple_stage("nmce", net, X, gen, c.s1_length, c.s1_lr, c.s1_wd, self._nmce(c.s1_lambda, gen))
        elif c.procedure == "two_stage":
            self._simple_stage("tcr", net, X, gen, c.s1_length, c.s1_lr, c.s1_wd, self._tcr(c.s1_lambda),
                               warmup=c.warmup)
            self._simple_stage("nmce", net, X, gen, c.s2_length, c.s2_lr, c.s2_wd, self._nmce(c.s2_lambda, gen))
        elif c.procedure == "tcr_ensc":
            self._simple_stage("tcr", net, X, gen, c.s1_length, c.s1_lr, c.s1_wd,
                               self._tcr(c.s1_lambda, averaged=True), warmup=c.warmup)
        else:
            self._simple_stage("tcr", net, X, gen, c.s1_length, c.s1_lr, c.s1_wd, self._tcr(c.s1_lambda),
                               warmup=c.warmup)
            net.new_heads()
            self._head_stage("heads", net, X, gen, length=c.s2_length, lr=c.s2_lr, wd=c.s2_wd,
                             cluster_lr=c.s2_cluster_lr, cluster_wd=c.s2_cluster_wd, lam=c.s2_lambda,
                             train_backbone=False)
            self._head_stage("finetune", net, X, gen, length=c.s3_length, lr=c.s3_lr, wd=c.s3_wd,
                             cluster_lr=c.s3_cluster_lr, cluster_wd=c.s3_cluster_wd, lam=c.s3_lambda,
                             train_backbone=True)

        net.eval()
        out = predict_in_batches(lambda x: torch.cat(net(x), dim=1), X)
        z = out[:, :c.z_dim].cpu().numpy()
        check_finite(float(np.abs(z).sum()), "NMCE features")
        if c.procedure == "tcr_ensc":
            from clusterbench.blocks.ensc import ensc

            labels, _ = ensc(z, n_clusters, gamma=c.ensc_gamma, tau=c.ensc_tau, seed=seed)
        else:
            labels = out[:, c.z_dim:].argmax(1).cpu().numpy()
        extras = {}
        sub = _subsample(len(labels), c.diagnostics_max)
        extras["zsim_found_clusters"], extras["zsim_within_cluster"] = zsim_between_within(z[sub], labels[sub])
        extras = {k: np.float64(v) for k, v in extras.items() if np.isfinite(v)}   # nan: a single cluster
        return Result(labels=labels.astype(np.int64), embedding=z, history=self.history, extras=extras)

    @staticmethod
    def scored_diagnostics(result: Result, y: np.ndarray) -> dict:
        """Label-dependent diagnostic of Table A.1, called by the runner after the fit:
        mean |cos| of z between samples of different *true* clusters."""
        if result.embedding is None:
            return {}
        sub = _subsample(len(y), 5000)
        between, _ = zsim_between_within(np.asarray(result.embedding)[sub], np.asarray(y)[sub])
        return {"zsim_true_cluster": between} if np.isfinite(between) else {}


def _subsample(n: int, limit: int) -> np.ndarray:
    """All indices, or a fixed random subset of ``limit`` of them."""
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, limit, replace=False))
