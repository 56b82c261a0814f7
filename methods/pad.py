"""PAD: unsupervised deep learning via progressive affinity diffusion (Huang, Dong, Gong & Zhu, AAAI 2020).

Algorithm 1, every epoch:

1. k-NN affinity graph on the L2-normalised memory features (Eq. 1; cosine similarity,
   k = 5; faiss, exact inner product), a directed edge i → j for each j ∈ N_k(i).
2. Strongly connected subgraphs (Fig. 3, :func:`search_scs`): from each start vertex x_s
   (random order) a depth-first traversal, nearest neighbours first, each vertex visited
   once, over the vertices not yet in a subgraph; the traversal holds at most s vertices
   (scale threshold, s = 10). With the cyclic constraint the SCS is the strongly connected
   component of x_s in the traversed subgraph (Tarjan's lowlinks: every vertex lies on a
   cycle through x_s or on a cycle overlapping one); without it, the whole traversal.
   An SCS of two or more vertices is removed from the graph; vertices never taken are
   isolated (C(x) = {x}).
3. Mini-batches: features x = f_θ(augmented image), 128-d, L2-normalised; memory x̃;
   p_ij = exp(x_iᵀx̃_j/τ) / Σ_k exp(x_iᵀx̃_k/τ) (Eq. 2);
   L_scs = −1/n_bs Σ_i log Σ_{j ∈ C(x_i)} p_ij (Eq. 3);
   hard positive x_hp = the member of C(x_i) with the smallest affinity x̃_iᵀx̃_j (isolated:
   a second random transformation of x_i), forwarded through the network;
   L_hpe = 1/n_bs Σ_i Σ_j p_ij log(p_ij / p_hp,j) (Eq. 4, KL; option ``hpe: fcs``: 1 − x_iᵀx_hp);
   L = L_scs + λ L_hpe (Eq. 5, λ = 0.8); memory x̃_i ← (1 − η) x̃_i + η x_i, η = 0.5 (Eq. 6).
4. After training, k-means on the learned features of every sample (Table 2, †).

Tables 3-6 are options of this one class: ``diffusion: false`` (C(x) = x and its
``no_diffusion_k`` = 10 nearest neighbours), ``cyclic: false``, ``scale: 0`` (no scale
threshold), ``hpe: none | kl | fcs``, ``k``, ``scale``, ``lam``.

Figure 4: the history has the per-epoch SCS count, average size and coverage; the per-epoch
SCS assignments are kept in ``extras["scs_groups"]`` and the precision against the labels is
computed after the fit by :meth:`PAD.scored_history` (never inside the fit).

Choices where the paper is silent (AND's code, Raymond-sci/AND, where it has the value;
also in config/methods/pad.yaml):
- τ = 0.1, weight decay 5e-4, batch 128 (AND); memory rows re-normalised after Eq. 6 (AND);
- the memory starts as the untrained network's features of the un-augmented images (AND
  draws it at random, which would make the first epoch's subgraphs random);
- augmentation: RandomResizedCrop (scale 0.2-1, AND), horizontal flip 0.5, ColorJitter
  (0.4, 0.4, 0.4, 0.4; AND), as per-sample batched tensor ops (clusterbench.blocks.augment);
  AND's RandomGrayscale(0.2) is the option ``grayscale``, off (the paper lists flip, crop, jitter);
- "AlexNet" for 32×32 inputs (clusterbench.blocks.backbones.AlexNetSmall): conv1 5×5 stride 1,
  BN after every layer, fc 4096-4096, then a linear 128-d head, L2-normalised; grey images
  enter with one input channel (the first layer adapted), 16×16 and 28×28 images at their size;
  96×96 images (STL-10) are resized to 32×32 (``input_size``);
- the hard positive is the SCS member with the smallest memory affinity x̃_iᵀx̃_j (the
  affinity the subgraphs are built on); x_i and x_hp are forwarded as one batch and
  gradients flow through both predictions of Eq. 4;
- the scale threshold caps the traversal at s vertices (Fig. 3 shows the cap, not how it is
  enforced); start vertices are drawn in a fresh seeded random order every epoch;
- without diffusion C(x) holds x itself besides N_10(x) (as AND's −log(p_ii + Σ_j p_ij));
- ColorJitter applies its factors in a fixed order, hue as a YIQ rotation; no mean/std
  normalisation of the [0, 1] inputs;
- the linear protocol uses global-average-pooled conv5 features (the paper: conv5) and
  softmax regression; the kNN and linear protocols are run on fits that saw the test images
  unlabelled (the clustering setting; the paper's classification setting trains on the
  training split only), see clusterbench.framework.protocols.
Budgets below the paper's (smoke, quick, cpu) shrink the network (``width``, ``fc_dim``) and
the epochs, scaling the step schedule with them (config/methods/pad.yaml).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from clusterbench.blocks.augment import color_jitter, random_grayscale, random_hflip, random_resized_crop
from clusterbench.blocks.backbones import build_backbone
from clusterbench.blocks.kmeans_knn import kmeans
from clusterbench.blocks.training import as_tensor, check_finite, generator, predict_in_batches, resolve_device
from clusterbench.framework.base import ClusteringMethod, Result

HPE = ("kl", "fcs", "none")
log = logging.getLogger(__name__)


@dataclass
class PADConfig:
    """The paper's settings (Implementation details) and AND's where the paper is silent."""

    k: int = 5                     # Eq. 1 graph density
    scale: int = 10                # s, maximum SCS size; 0: no scale constraint (Table 4)
    cyclic: bool = True            # cyclic constraint (Table 4)
    diffusion: bool = True         # False: C(x) = {x} ∪ N_k'(x), k' = no_diffusion_k (Table 3)
    no_diffusion_k: int = 10
    lam: float = 0.8               # λ, Eq. 5
    hpe: str = "kl"                # kl (Eq. 4) | fcs (feature cosine similarity) | none (Table 5)
    eta: float = 0.5               # η, Eq. 6
    tau: float = 0.1               # τ, Eq. 2 (AND)
    feature_dim: int = 128
    backbone: str = "alexnet_small"
    width: float = 1.0             # channel multiplier of the AlexNet (budgets)
    fc_dim: int = 4096
    input_size: int = 0            # resize images to this side first; 0: as they are
    epochs: int = 200
    batch_size: int = 128
    lr: float = 0.03
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4     # AND
    lr_decay_offset: int = 80      # ×lr_decay_rate every lr_decay_step epochs after the first lr_decay_offset
    lr_decay_step: int = 40
    lr_decay_rate: float = 0.1
    crop_scale: float = 0.2        # RandomResizedCrop area (crop_scale, 1) (AND)
    hflip: bool = True
    jitter: float = 0.4            # ColorJitter brightness = contrast = saturation = hue (AND)
    grayscale: float = 0.0         # RandomGrayscale probability (AND: 0.2)
    kmeans_n_init: int = 10
    linear_epochs: int = 100       # linear protocol (clusterbench.framework.protocols); 0: skip
    keep_scs: bool = True          # per-epoch SCS assignments in extras (Figure 4)


# --- strongly connected subgraphs (Fig. 3) ------------------------------------------------------


def _scs_search(nbr: np.ndarray, order: np.ndarray, scale: int, cyclic: bool) -> np.ndarray:
    """Core of :func:`search_scs` (compiled with numba when available); returns group ids, −1 isolated."""
    n, k = nbr.shape
    group = np.full(n, -1, np.int64)
    removed = np.zeros(n, np.bool_)
    stamp = np.zeros(n, np.int64)              # id of the traversal that visited a vertex (0: none)
    index = np.zeros(n, np.int64)
    low = np.zeros(n, np.int64)
    onstack = np.zeros(n, np.bool_)
    cap = scale if scale > 0 else n
    vstack = np.empty(n, np.int64)             # DFS path
    pstack = np.empty(n, np.int64)             # next neighbour rank per path vertex
    tstack = np.empty(n, np.int64)             # Tarjan stack
    visited = np.empty(n, np.int64)
    members = np.empty(n, np.int64)
    n_groups = 0
    for t in range(n):
        s = order[t]
        if removed[s]:
            continue
        sid = t + 1
        stamp[s] = sid
        index[s] = 0
        low[s] = 0
        visited[0] = s
        nvis = 1
        top = 0
        vstack[0] = s
        pstack[0] = 0
        ttop = 0
        tstack[0] = s
        onstack[s] = True
        size = 0
        while top >= 0:
            v = vstack[top]
            p = pstack[top]
            if p < k:
                pstack[top] = p + 1
                w = nbr[v, p]                  # nearest neighbours first
                if w < 0 or removed[w]:
                    continue
                if stamp[w] != sid:            # unvisited: tree edge, unless the traversal is full
                    if nvis >= cap:
                        continue
                    stamp[w] = sid
                    index[w] = nvis
                    low[w] = nvis
                    visited[nvis] = w
                    nvis += 1
                    top += 1
                    vstack[top] = w
                    pstack[top] = 0
                    ttop += 1
                    tstack[ttop] = w
                    onstack[w] = True
                elif onstack[w]:               # edge back into the open component: a cycle
                    if index[w] < low[v]:
                        low[v] = index[w]
            else:
                top -= 1
                if top >= 0:
                    u = vstack[top]
                    if low[v] < low[u]:
                        low[u] = low[v]
                if low[v] == index[v]:         # v roots a strongly connected component
                    if v == s:                 # the component of the start vertex: all that is left
                        size = ttop + 1
                        for i in range(size):
                            members[i] = tstack[i]
                    while True:
                        w = tstack[ttop]
                        ttop -= 1
                        onstack[w] = False
                        if w == v:
                            break
        if not cyclic:                         # no cyclic constraint: the whole traversal
            size = nvis
            for i in range(size):
                members[i] = visited[i]
        if size >= 2:
            for i in range(size):
                group[members[i]] = n_groups
                removed[members[i]] = True
            n_groups += 1
    return group


try:  # compiled once per machine (cache in __pycache__)
    from numba import njit

    _scs_search_compiled = njit(cache=True, nogil=True)(_scs_search)
except ImportError:  # pragma: no cover - numba is a dependency; the pure-Python loop is ~100x slower
    _scs_search_compiled = _scs_search


def search_scs(neighbours: np.ndarray, *, scale: int = 10, cyclic: bool = True,
               seed: int = 0, order: np.ndarray | None = None) -> np.ndarray:
    """Disjoint strongly connected subgraphs of a k-NN graph (Fig. 3).

    neighbours: (N, k) int, row i = N_k(i) nearest first (−1: no edge). Start vertices are
    taken in a random order (``seed``) or ``order``. Returns group ids (N,) int64 in 0..G−1,
    −1 for isolated vertices.
    """
    nbr = np.ascontiguousarray(neighbours, dtype=np.int64)
    n = nbr.shape[0]
    if nbr.ndim != 2 or (nbr.size and (nbr.min() < -1 or nbr.max() >= n)):
        raise ValueError(f"neighbours must be an (N, k) array of indices in [-1, N); got shape {nbr.shape}, "
                         f"range [{nbr.min() if nbr.size else 0}, {nbr.max() if nbr.size else 0}]")
    if order is None:
        order = np.random.default_rng(seed).permutation(n)
    order = np.ascontiguousarray(order, dtype=np.int64)
    if order.shape != (n,) or not np.array_equal(np.sort(order), np.arange(n)):
        raise ValueError("order must be a permutation of the N vertices")
    return _scs_search_compiled(nbr, order, int(scale), bool(cyclic))


def knn_graph(features: np.ndarray, k: int) -> np.ndarray:
    """N_k of Eq. 1: (N, k) indices of the k most cosine-similar other rows, most similar first (faiss)."""
    import faiss

    X = np.ascontiguousarray(features, dtype=np.float32)
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    k_eff = min(k, X.shape[0] - 1)
    index = faiss.IndexFlatIP(X.shape[1])
    index.add(X)
    _, idx = index.search(X, k_eff + 1)
    own = idx == np.arange(X.shape[0])[:, None]
    keep = ~own
    keep[keep.sum(1) > k_eff, -1] = False      # the row itself may sit anywhere among ties
    return idx[keep].reshape(X.shape[0], k_eff).astype(np.int64)


def scs_statistics(groups: np.ndarray) -> dict:
    """Label-free Figure 4 quantities: SCS count, average size, share of samples in an SCS."""
    inside = groups >= 0
    n_scs = int(groups.max()) + 1 if inside.any() else 0
    return {"n_scs": n_scs, "scs_mean_size": float(inside.sum() / n_scs) if n_scs else 0.0,
            "scs_coverage": float(inside.mean())}


def scs_precision(groups: np.ndarray, y: np.ndarray) -> float:
    """Share of the samples inside subgraphs that carry their subgraph's majority label (NaN: no SCS)."""
    inside = groups >= 0
    if not inside.any():
        return float("nan")
    g, labels = groups[inside], np.asarray(y)[inside]
    table = np.zeros((int(g.max()) + 1, int(labels.max()) + 1), np.int64)
    np.add.at(table, (g, labels), 1)
    return float(table.max(1).sum() / inside.sum())


# --- objective (Eq. 2-5) ------------------------------------------------------------------------


def positive_mask(batch: torch.Tensor, groups: torch.Tensor | None, neighbours: torch.Tensor | None,
                  n: int) -> torch.Tensor:
    """(B, N) bool: j ∈ C(x_i) for the batch's samples i (always including i itself).

    ``groups`` (N,) SCS ids with isolated samples −1; or ``neighbours`` (N, k') for C(x) = N_k'(x).
    """
    mask = torch.zeros(batch.shape[0], n, dtype=torch.bool, device=batch.device)
    rows = torch.arange(batch.shape[0], device=batch.device)
    mask[rows, batch] = True
    if neighbours is not None:
        nb = neighbours[batch]
        mask[rows[:, None].expand_as(nb), nb] = True
    elif groups is not None:
        g = groups[batch]
        mask |= (g[:, None] == groups[None, :]) & (g[:, None] >= 0)
    return mask


def scs_loss(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Eq. 3: −mean_i log Σ_{j ∈ C(x_i)} p_ij, with p = softmax(logits) over the N memory slots (Eq. 2)."""
    pos = torch.logsumexp(logits.masked_fill(~mask, float("-inf")), dim=1)
    return (torch.logsumexp(logits, dim=1) - pos).mean()


def hpe_kl(logits: torch.Tensor, logits_hp: torch.Tensor) -> torch.Tensor:
    """Eq. 4: mean_i Σ_j p_ij log(p_ij / p_hp,j)."""
    logp, logq = F.log_softmax(logits, dim=1), F.log_softmax(logits_hp, dim=1)
    return (logp.exp() * (logp - logq)).sum(1).mean()


def hpe_fcs(x: torch.Tensor, x_hp: torch.Tensor) -> torch.Tensor:
    """Table 5's FCS design: mean_i (1 − cos(x_i, x_hp)) on the normalised features."""
    return (1 - (x * x_hp).sum(1)).mean()


def hard_positives(affinity: torch.Tensor, mask: torch.Tensor, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(index of x_hp per row, whether the row has one): the member of C(x_i) \\ {x_i} with the smallest
    ``affinity`` (B, N); rows without another member get their own index."""
    others = mask.clone()
    others[torch.arange(batch.shape[0], device=batch.device), batch] = False
    has = others.any(1)
    hp = affinity.detach().masked_fill(~others, float("inf")).argmin(1)
    return torch.where(has, hp, batch), has


def ema_update(memory: torch.Tensor, idx: torch.Tensor, x: torch.Tensor, eta: float) -> None:
    """Eq. 6: x̃_i ← (1 − η) x̃_i + η x_i, then re-normalised (AND); in place."""
    memory[idx] = F.normalize((1 - eta) * memory[idx] + eta * x.detach(), dim=1)


def step_lr(epoch: int, base: float, offset: int, step: int, rate: float) -> float:
    """lr at ``epoch`` (0-based): base until ``offset``, then ×rate every ``step`` epochs."""
    if epoch < offset:
        return base
    return base * rate ** ((epoch - offset) // max(step, 1) + 1)


# --- network ------------------------------------------------------------------------------------


class PADNet(nn.Module):
    """AlexNet backbone → linear 128-d head → L2 normalisation."""

    def __init__(self, input_shape, c: PADConfig):
        super().__init__()
        self.backbone = build_backbone(c.backbone, input_shape, alexnet_width=c.width, alexnet_fc=c.fc_dim)
        self.head = nn.Linear(self.backbone.out_dim, c.feature_dim)

    def forward(self, x):
        return F.normalize(self.head(self.backbone(x)), dim=1)

    def conv5(self, x):
        return self.backbone.conv5(x)


# --- the method ---------------------------------------------------------------------------------


class PAD(ClusteringMethod):
    Config = PADConfig
    paper = "pad"
    needs_torch = True
    #: the suite scores the learned features with weighted kNN and a linear classifier (Table 1)
    protocols = ("knn", "linear")

    def _augment(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """Cropping, horizontal flipping, colour jittering (Implementation details), per sample."""
        c = self.config
        x = random_resized_crop(x, x.shape[-1], (c.crop_scale, 1.0), gen=gen)
        if c.hflip:
            x = random_hflip(x, 0.5, gen)
        if c.jitter > 0:
            x = color_jitter(x, c.jitter, c.jitter, c.jitter, min(c.jitter, 0.5), p=1.0, gen=gen)
        if c.grayscale > 0:
            x = random_grayscale(x, c.grayscale, gen)
        return x

    def _check(self, data):
        c = self.config
        if c.hpe not in HPE:
            raise ValueError(f"hpe must be one of {HPE}, got {c.hpe!r}")
        if data.X.ndim != 4:
            raise ValueError(f"PAD needs images (N, C, H, W); {data.name} has shape {data.X.shape[1:]}")
        if c.k < 1 or c.scale < 0 or c.epochs < 1:
            raise ValueError("PAD needs k >= 1, scale >= 0 and epochs >= 1")

    def fit_predict(self, data, n_clusters, *, seed, device="cpu"):
        c = self.config
        self._check(data)
        dev = resolve_device(device)
        torch.manual_seed(seed)
        gen = generator(seed)
        rng = np.random.default_rng(seed)
        X = as_tensor(data.X, dev)
        if c.input_size and X.shape[-1] != c.input_size:
            X = F.interpolate(X, size=(c.input_size, c.input_size), mode="bilinear", antialias=True,
                              align_corners=False)
        n = X.shape[0]
        net = PADNet(tuple(X.shape[1:]), c).to(dev)
        opt = torch.optim.SGD(net.parameters(), lr=c.lr, momentum=c.momentum, nesterov=c.nesterov,
                              weight_decay=c.weight_decay)
        net.eval()
        memory = predict_in_batches(net, X, 512)                       # x̃ at epoch 0: the untrained network
        init_features = memory.cpu().numpy()
        bs = min(c.batch_size, n)
        history, scs_epochs = [], []
        for epoch in range(c.epochs):
            t0 = time.perf_counter()
            lr = step_lr(epoch, c.lr, c.lr_decay_offset, c.lr_decay_step, c.lr_decay_rate)
            for group in opt.param_groups:
                group["lr"] = lr
            # Algorithm 1: graph (Eq. 1) and subgraphs (Fig. 3) on the memory features, once per epoch
            mem_np = memory.cpu().numpy()
            if c.diffusion:
                nbr = knn_graph(mem_np, c.k)
                groups_np = search_scs(nbr, scale=c.scale, cyclic=c.cyclic, seed=int(rng.integers(2**31)))
                groups, neighbours = torch.as_tensor(groups_np, device=dev), None
                stats = scs_statistics(groups_np)
            else:
                groups_np = None
                groups, neighbours = None, torch.as_tensor(knn_graph(mem_np, c.no_diffusion_k), device=dev)
                stats = {}
            t_graph = time.perf_counter() - t0
            if groups_np is not None and c.keep_scs:
                scs_epochs.append(groups_np.astype(np.int32))
            net.train()
            sums = np.zeros(3)
            steps = 0
            order = torch.randperm(n, generator=gen)
            for start in range(0, n - bs + 1, bs):                     # drop_last
                idx = order[start:start + bs].to(dev)
                xb = X[idx]
                mask = positive_mask(idx, groups, neighbours, n)
                if c.hpe == "none":
                    x = net(self._augment(xb, gen))
                    logits = x @ memory.T / c.tau                      # Eq. 2 (before the softmax)
                    l_hpe = torch.zeros((), device=dev)
                else:
                    # x_hp: the SCS member least similar to x_i in the memory (isolated: x_i, newly transformed)
                    hp, _ = hard_positives(memory[idx] @ memory.T, mask, idx)
                    both = net(torch.cat([self._augment(xb, gen), self._augment(X[hp], gen)]))
                    x, x_hp = both[:bs], both[bs:]
                    logits = x @ memory.T / c.tau
                    if c.hpe == "kl":
                        l_hpe = hpe_kl(logits, x_hp @ memory.T / c.tau)   # Eq. 4
                    else:
                        l_hpe = hpe_fcs(x, x_hp)
                l_scs = scs_loss(logits, mask)                         # Eq. 3
                loss = l_scs + c.lam * l_hpe                            # Eq. 5
                check_finite(loss.detach(), "PAD loss", epoch * (n // bs) + steps)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                with torch.no_grad():
                    ema_update(memory, idx, x, c.eta)                   # Eq. 6
                sums += (loss.item(), l_scs.item(), l_hpe.item())
                steps += 1
            mean = sums / max(steps, 1)
            history.append({"epoch": epoch, "lr": lr, "loss": mean[0], "loss_scs": mean[1], "loss_hpe": mean[2],
                            **stats, "graph_s": t_graph, "epoch_s": time.perf_counter() - t0})
            log.info("PAD epoch %d/%d: loss %.4f (scs %.4f, hpe %.4f), %d SCS of mean size %.2f, %.1f s",
                     epoch + 1, c.epochs, mean[0], mean[1], mean[2], stats.get("n_scs", 0),
                     stats.get("scs_mean_size", 0.0), history[-1]["epoch_s"])
        net.eval()
        features = predict_in_batches(net, X, 512).cpu().numpy()
        check_finite(float(np.abs(features).sum()), "PAD features")
        conv5 = predict_in_batches(net.conv5, X, 512).cpu().numpy()
        labels, _ = kmeans(features, n_clusters, n_init=c.kmeans_n_init, seed=seed)
        labels_init, _ = kmeans(init_features, n_clusters, n_init=c.kmeans_n_init, seed=seed)
        extras = {"labels_init": labels_init.astype(np.int64)}
        if scs_epochs:
            extras["scs_groups"] = np.stack(scs_epochs)
        return Result(labels=labels.astype(np.int64), embedding=features, history=history, extras=extras,
                      features={"conv5": conv5})

    @staticmethod
    def scored_diagnostics(result: Result, y: np.ndarray) -> dict:
        """After the fit: ACC of k-means on the untrained network's features (the baseline PAD must beat)."""
        from clusterbench.framework.metrics import cluster_acc

        init = result.extras.get("labels_init")
        return {} if init is None else {"acc_init": cluster_acc(y, init)}

    @staticmethod
    def scored_history(result: Result, y: np.ndarray) -> list[dict]:
        """Figure 4: per-epoch SCS average size and precision against the labels (after the fit)."""
        groups = result.extras.get("scs_groups")
        if groups is None:
            return []
        return [{"epoch": e, **scs_statistics(g), "scs_precision": scs_precision(g, y)}
                for e, g in enumerate(np.asarray(groups))]
