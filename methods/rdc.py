"""R-DC: Rethinking deep clustering paradigms, dual-stage self-supervision (Shaheen et al.).

Phase 1, instance-level self-supervision (Sec. 3.1, Eq. 1-2): the
d-500-500-2000-10 autoencoder is pretrained with adversarially constrained
interpolation (ACAI) and shift/rotate augmentation. This is the suite's shared
``acai`` pretraining recipe (:mod:`clusterbench.blocks.pretrain`), the same weights
DynAE starts from ("identical ... pretraining phases", Sec. 3.5).

Phase 2, proximity-level self-supervision (Sec. 3.2-3.5, Algorithm 1, lines 11-27).
At every refresh, on Z = f(X) (N, p) for the whole data set:

    d_{i,m} = ||z_i − NN(z_i, m)||₂,  m = 1..M (M = 5)            (Eq. 3)
    r_i = min_m d_{i,m} / max_m d_{i,m}                            (Eq. 4)
    Ω = {i | r_i ≥ α}  (core points);  S = {z_i | i ∈ Ω}           (Eq. 5-6)
    d̄_i = min_m d_{i,m};  h_{i,m} = d_{i,m} − d̄_i                   (Eq. 7-8)
    Ω_nn^i = {m | h_{i,m} ≤ β};  S_nn^i = {NN(z_i, m) | m ∈ Ω_nn^i}  (Eq. 9-10)
    σ(x_i) = mean of S_nn^i  (centroid of the reliable neighbours)   (Eq. 11)

and for the following ``update_interval`` mini-batch steps (Adam, lr 1e-3),
with x̂_i = g(f(T x_i)) for the augmented input T x_i:

    L1 = Σ_i ||x_i − x̂_i||²          for border points i ∉ Ω
         Σ_i ||g(σ(x_i)) − x̂_i||²    for core points i ∈ Ω            (Eq. 12)
    L2 = Σ_{i ∈ Ω} ||f(T x_i) − σ(x_i)||²                          (Eq. 13)
    L  = L1 + L2                                                   (Eq. 14)
    τ  = |S| / |X|  (core-point ratio)                              (Eq. 15)

Training stops when a refresh brings no further increase of τ (Algorithm 1,
line 13; Sec. 3.5 "full stability"); the clusters are k-means on the final Z
(line 27). Nothing here reads ground-truth labels: no checkpoint, seed or
hyperparameter is selected against them (the authors' code saves the weights of
the best-accuracy iteration; the suite reports the final iterate).

α, β per data set come from Table 2 (config/methods/rdc.yaml ``datasets:``);
data sets outside Table 2 (USPS, MNIST, the embedded sets) use α = β = 0.6,
the value Table 2 gives CIFAR10 and FMNIST and the authors' code's default.

Choices where the paper is silent (also in the YAML ``notes``):
- "Refresh on schedule": Algorithm 1 recomputes Z, Ω and the centroids at every
  iteration of its while loop; the authors' code does so every 140 mini-batch
  steps (``update_interval``), which the suite follows. The stopping rule is
  checked at every refresh.
- Targets are constants for the gradient step: σ(x_i) comes from the refresh
  and g(σ(x_i)) is decoded by the current decoder without gradient (the
  authors' code, ``decoder.predict``). Border points reconstruct the
  un-augmented x_i from T x_i (DynAE's convention, which R-DC's code follows).
- Reductions: Eq. 12-13 sum squared norms over samples; the suite averages
  those per-sample squared norms over the batch (same constant 1/B for L1 and
  L2, so their relative weight is the paper's; Adam is insensitive to the scale).
- Mini-batches are drawn from a seeded shuffle (the code walks the data in file
  order); augmentation (shift 0.1, rotation 10°) applies to image data only.
- A core point's neighbours with h ≤ β always include its closest neighbour,
  so S_nn^i is never empty under the paper's rule.
- The paper writes ≥ α and ≤ β (Eq. 5, 9); the code uses strict > and <. The
  suite uses the paper's (equal for continuous distances).

The authors' code's variants (Amalsalem/Rethinking-DC, file ``DynAE``,
``train_second_phase``; shared/reference/autoencoder-family.md §5), each a
named option, off by default:
- ``m_counts_self``: ``NearestNeighbors(n_neighbors=M)`` counts the point
  itself, so M = 5 gives 4 real neighbours.
- ``global_min_radius``: the code's "closest distance" of Eq. 7 is a running
  minimum over all core points visited so far (in index order, starting from
  the last point's closest distance), which makes β an absolute radius.
- ``border_own_embedding``: border points are held to their own embedding and
  its decoding, (z_i, g(z_i)) from the refresh, in both terms, instead of the
  plain reconstruction of Eq. 12; their σ is z_i.
- ``code_loss``: L = MSE(f(T x), σ) + γ·MSE(g(f(T x)), g(σ)) with element
  means and γ = 100 (DynAE's loss with R-DC's targets), instead of Eq. 14.

Ablation options (Sec. 4.2.3, Table 8; off by default): ``phase2 = False``
skips P2 (k-means on the pretrained codes: P1 alone); ``dec_phase`` runs P3,
DEC's clustering phase (:meth:`clusterbench.baselines.dec.DEC.cluster`: KL(P‖Q), SGD 0.01,
momentum 0.9, target every ``dec_update_interval`` steps; the paper gives no
settings, these are DEC-keras's), after P1 (and P2); the labels are then DEC's
argmax q and R-DC's own result is kept in ``extras`` (``phase2_labels``).

Recorded for the figures (Figures 12-14 need the ground truth, which the fit
never reads): per refresh, the history row (losses, τ, neighbour counts, and
the latent geometry of Figures 1/15: ``twonn_id``, the TwoNN intrinsic
dimension from the refresh's own k-NN distances, and ``lid_pca90``, the
principal components for 90 % of the variance; clusterbench.blocks.geometry); in
``Result.extras`` the neighbour indices, reliable-neighbour and core masks of
the refreshes (thinned evenly, first and last always kept, within
``record_budget`` entries) and the phase-1 embedding; with
``record_assignments``, also the k-means assignment of every refresh (Figure
12's ACC over iterations, scored later; off by default: one k-means per refresh);
:meth:`RDC.scored_diagnostics` and :meth:`RDC.scored_history` score the
recorded assignments and neighbours against the labels after the fit (the
runner calls them; the latter becomes ``scored_history.csv``).

Reference: A. Shaheen, N. Mrabah, R. Ksantini, A. Alqaddoumi, "Rethinking Deep
Clustering Paradigms: Self-Supervision Is All You Need", Neural Networks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from clusterbench.blocks.geometry import latent_geometry
from clusterbench.blocks.pretrain import PretrainedAEMethod


@dataclass
class Config:
    """R-DC's phase-2 settings (Sec. 4.1.3, Table 2; refresh interval from the authors' code)."""

    M: int = 5                        # nearest neighbours in the latent space (Sec. 4.1.3)
    alpha: float = 0.6                # core-point threshold on r_i (Eq. 5); Table 2 per data set
    beta: float = 0.6                 # reliable-neighbour threshold on h_{i,m} (Eq. 9); Table 2
    lr: float = 1e-3                  # Adam (Sec. 4.1.3)
    batch_size: int = 256
    update_interval: int = 140        # mini-batch steps between refreshes of Ω, S_nn, σ (code)
    max_iterations: int = 100000      # cap on mini-batch steps (the code's maxiter)
    patience: int = 1                 # refreshes without a rise of τ before stopping (Algorithm 1: 1)
    augment: bool = True              # shift/rotate image data (Sec. 4.1.3, as DynAE)
    shift: float = 0.1
    degrees: float = 10.0
    kmeans_n_init: int = 20           # final k-means (the code's KMeans(n_init=20))
    # the authors' code's variants (all off: the paper's equations)
    m_counts_self: bool = False
    global_min_radius: bool = False
    border_own_embedding: bool = False
    code_loss: bool = False
    gamma: float = 100.0              # image-term weight of ``code_loss`` only
    # ablation (Sec. 4.2.3, Table 8): P1 is the pretraining, always on
    phase2: bool = True               # P2, proximity-level self-supervision (off: P1 alone, or P1 & P3)
    dec_phase: bool = False           # P3, DEC's clustering loss as pseudo-supervision after P1 (and P2)
    dec_lr: float = 0.01              # P3 = clusterbench.baselines.dec.DEC.cluster: SGD(0.01, 0.9), T, tol, max_iter
    dec_update_interval: int = 140    #   (DEC-keras's MNIST/FMNIST settings; the paper gives none for P3)
    dec_tol: float = 0.001
    dec_max_iter: int = 20000
    # recording
    record_budget: int = 2_000_000    # max stored neighbour entries (refreshes × N × M) in extras
    record_assignments: bool = False  # k-means labels at every refresh (Figure 12 scores them later)


# ----------------------------------------------------------------- Eq. 3-11 (numpy)

def core_points(D: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Core points Ω (Eq. 4-5). D: (N, M) distances to the M nearest neighbours.

    Returns (core (N,) bool, r (N,) ratios). A point whose neighbours all
    coincide with it (max distance 0) has r = 1.
    """
    d_min, d_max = D.min(axis=1), D.max(axis=1)
    r = np.divide(d_min, d_max, out=np.ones_like(d_min, dtype=np.float64), where=d_max > 0)  # Eq. 4
    return r >= alpha, r                                                                     # Eq. 5


def reliable_neighbours(D: np.ndarray, core: np.ndarray, beta: float, *,
                        global_min_radius: bool = False) -> np.ndarray:
    """Reliable neighbours Ω_nn^i of every core point (Eq. 7-9): (N, M) bool, all False for border points.

    ``global_min_radius``: the authors' code's running minimum (see module docstring).
    """
    if not global_min_radius:
        d_bar = D.min(axis=1, keepdims=True)                                # Eq. 7
        H = D - d_bar                                                       # Eq. 8
    else:
        H = np.full(D.shape, np.inf)
        rows = np.flatnonzero(core)
        if rows.size:
            flat = D[rows].ravel()
            start = D[-1].min()  # the code's variable still holds the last point's closest distance
            running = np.minimum.accumulate(np.concatenate([[start], flat]))[1:]
            H[rows] = (flat - running).reshape(rows.size, D.shape[1])
    return (H <= beta) & core[:, None]                                      # Eq. 9


def centroids(Z: np.ndarray, indices: np.ndarray, reliable: np.ndarray) -> np.ndarray:
    """σ (Eq. 10-11): mean embedding of each point's reliable neighbours; z_i where there are none.

    Z: (N, p); indices, reliable: (N, M). Returns (N, p) float32.
    """
    w = reliable.astype(Z.dtype)
    count = w.sum(axis=1, keepdims=True)
    total = np.einsum("nm,nmp->np", w, Z[indices])
    return np.where(count > 0, total / np.maximum(count, 1), Z).astype(np.float32)


def proximity_structure(Z: np.ndarray, config: Config) -> dict:
    """Eq. 3-11 on the current embedding Z (N, p): neighbours, core mask, reliable mask, σ, τ."""
    from clusterbench.blocks.kmeans_knn import knn

    k = config.M - 1 if config.m_counts_self else config.M
    D, indices = knn(Z, k)                                                  # Eq. 3 (faiss, exact)
    core, _ = core_points(D.astype(np.float64), config.alpha)               # Eq. 4-6
    reliable = reliable_neighbours(D.astype(np.float64), core, config.beta,
                                   global_min_radius=config.global_min_radius)  # Eq. 7-10
    sigma = centroids(Z, indices, reliable)                                 # Eq. 11
    return {"D": D, "indices": indices, "core": core, "reliable": reliable, "sigma": sigma,
            "tau": float(core.mean())}                                      # Eq. 15


# ----------------------------------------------------------------- Eq. 12-14 (torch)

def rdc_loss(z, x_hat, x, sigma, g_sigma, core, *, border_own_embedding: bool = False,
             z_ref=None, g_z_ref=None, code_loss: bool = False, gamma: float = 100.0):
    """Phase-2 loss of one batch. Returns (L, L1, L2) tensors.

    z: (B, p) = f(T x); x_hat: (B, d) = g(z); x: (B, d) un-augmented inputs;
    sigma: (B, p) centroids σ(x_i); g_sigma: (B, d) their decoding; core: (B,) bool.
    Paper (default): L1 (Eq. 12), L2 (Eq. 13) as per-sample squared norms averaged
    over the batch, L = L1 + L2 (Eq. 14). ``border_own_embedding``: border points
    target (z_ref, g_z_ref) in both terms. ``code_loss``: element means, L = L2 + γ L1.
    """
    import torch

    c = core.unsqueeze(1)
    if border_own_embedding:
        target_img = torch.where(c, g_sigma, g_z_ref)
        target_emb = torch.where(c, sigma, z_ref)
        weight_emb = torch.ones_like(core, dtype=z.dtype)
    else:
        target_img = torch.where(c, g_sigma, x)                  # Eq. 12: reconstruction for i ∉ Ω
        target_emb = sigma
        weight_emb = core.to(z.dtype)                            # Eq. 13: core points only
    if code_loss:
        l1 = (x_hat - target_img).pow(2).mean()
        l2 = ((z - target_emb).pow(2).mean(dim=1) * weight_emb).mean()
        return l2 + gamma * l1, l1, l2
    l1 = (x_hat - target_img).pow(2).sum(dim=1).mean()           # Eq. 12
    l2 = ((z - target_emb).pow(2).sum(dim=1) * weight_emb).mean()  # Eq. 13
    return l1 + l2, l1, l2                                       # Eq. 14


def should_stop(taus: list[float], patience: int = 1) -> bool:
    """Algorithm 1, line 13: stop once τ has not risen over the last ``patience`` refreshes."""
    if len(taus) <= patience:
        return False
    recent = taus[-patience - 1:]
    return all(b <= a for a, b in zip(recent[:-1], recent[1:]))


# ----------------------------------------------------------------- recording

class _Snapshots:
    """Neighbour indices / reliable / core masks of refreshes, thinned to a budget (first and last kept)."""

    def __init__(self, n: int, m: int, budget: int):
        self.capacity = max(2, budget // max(1, n * m))
        self.enabled = n * m * 2 <= budget
        self.stride, self.items, self.last = 1, [], None

    def add(self, refresh: int, step: int, s: dict) -> None:
        if not self.enabled:
            return
        item = (refresh, step, s["indices"].astype(np.int32), s["reliable"].copy(), s["core"].copy())
        self.last = item
        if refresh % self.stride == 0:
            self.items.append(item)
        while len(self.items) + 1 > self.capacity and self.stride < 1 << 30:
            self.stride *= 2
            self.items = [it for it in self.items if it[0] % self.stride == 0]

    def arrays(self) -> dict:
        if not self.enabled or self.last is None:
            return {}
        items = self.items if self.items[-1][0] == self.last[0] else self.items + [self.last]
        return {"nn_refresh": np.array([it[0] for it in items], np.int32),
                "nn_step": np.array([it[1] for it in items], np.int64),
                "nn_indices": np.stack([it[2] for it in items]),
                "nn_reliable": np.stack([it[3] for it in items]),
                "nn_core": np.stack([it[4] for it in items])}


def true_neighbour_shares(y: np.ndarray, indices: np.ndarray, reliable: np.ndarray, core: np.ndarray) -> dict:
    """Share of neighbours with the point's own label: all points, core points, reliable neighbours."""
    same = y[indices] == y[:, None]
    out = {"all": float(same.mean())}
    out["core"] = float(same[core].mean()) if core.any() else float("nan")
    out["reliable"] = float(same[reliable].mean()) if reliable.any() else float("nan")
    return out


# ----------------------------------------------------------------- the method

class RDC(PretrainedAEMethod):
    """R-DC: ACAI pretraining (shared recipe) + proximity-level self-supervision + k-means."""

    Config = Config
    paper = "rdc"
    needs_torch = True
    pretrain = "acai"

    def fit_predict(self, data, n_clusters: int, *, seed: int, device: str = "cpu"):
        bundle = self.pretrained(data, seed, device)          # phase 1 (Eq. 1-2), shared weights
        X = bundle.inputs(data)
        image_shape = tuple(data.X.shape[1:]) if data.is_image else None
        return self.fit_phase2(bundle.ae, X, n_clusters, seed=seed, device=device, image_shape=image_shape)

    def fit_phase2(self, ae, X: np.ndarray, n_clusters: int, *, seed: int, device: str = "cpu",
                   image_shape=None):
        """Phase 2 (Algorithm 1, lines 11-27) on a pretrained autoencoder ``ae`` (encoder/decoder
        modules) and inputs X (N, d); trains ``ae`` in place. Returns a Result."""
        import torch

        from clusterbench.framework.base import DivergenceError, Result
        from clusterbench.blocks.kmeans_knn import kmeans
        from clusterbench.blocks.pretrain import shift_rotate_flat
        from clusterbench.blocks.training import as_tensor, check_finite, generator, minibatches, predict_in_batches, \
            resolve_device

        c = self.config
        if c.M < (3 if c.m_counts_self else 2):
            raise ValueError("M must leave at least two real neighbours")
        dev = resolve_device(device)
        ae.to(dev)
        Xt = as_tensor(X, dev)
        n = X.shape[0]
        gen = generator(seed)
        augment = c.augment and image_shape is not None
        opt = torch.optim.Adam(ae.parameters(), lr=c.lr)

        def embed() -> np.ndarray:
            Z = predict_in_batches(ae.encoder, Xt).cpu().numpy()
            if not np.isfinite(Z).all():
                raise DivergenceError("R-DC embedding became non-finite")
            return Z

        def batches():
            while True:
                yield from minibatches(n, c.batch_size, gen, shuffle=True)

        t0 = time.perf_counter()
        Z = embed()
        Z_phase1 = Z.copy()
        snapshots = _Snapshots(n, c.M, c.record_budget)
        assignments = []
        history, taus = [], []
        step, refresh = 0, 0
        sums, count = torch.zeros(3), 0
        stream = batches()
        while True:
            # Algorithm 1, lines 14-19 (and 25): Z, D, Ω, S, Ω_nn, S_nn, σ, τ
            s = proximity_structure(Z, c)
            taus.append(s["tau"])
            snapshots.add(refresh, step, s)
            if c.record_assignments:
                assignments.append(kmeans(Z, n_clusters, n_init=c.kmeans_n_init, seed=seed)[0].astype(np.int32))
            row = {"refresh": refresh, "step": step, "tau": s["tau"], "n_core": int(s["core"].sum()),
                   "reliable_per_core": float(s["reliable"].sum() / max(1, s["core"].sum())),
                   "mean_nn_distance": float(s["D"].mean()),
                   **latent_geometry(Z, distances=s["D"]),          # Figures 1 / 15: ID (TwoNN), LID (PCA 90 %)
                   "wall_s": time.perf_counter() - t0}
            if count:
                loss, l1, l2 = (sums / count).tolist()
                row.update(loss=check_finite(loss, "R-DC loss", step), loss_l1=l1, loss_l2=l2)
                sums.zero_()
                count = 0
            history.append(row)
            if not c.phase2 or should_stop(taus, c.patience) or step >= c.max_iterations:  # line 13
                break
            sigma = torch.as_tensor(s["sigma"], device=dev)
            core = torch.as_tensor(s["core"], device=dev)
            z_ref = torch.as_tensor(Z, device=dev) if c.border_own_embedding else None
            for _ in range(min(c.update_interval, c.max_iterations - step)):
                idx = next(stream).to(dev)
                xb = Xt[idx]
                x_in = shift_rotate_flat(xb, image_shape, c.shift, c.degrees, gen) if augment else xb
                with torch.no_grad():  # targets: g(σ) (and g(z_i)) from the current decoder
                    g_sigma = ae.decoder(sigma[idx])
                    g_z_ref = ae.decoder(z_ref[idx]) if z_ref is not None else None
                z = ae.encoder(x_in)
                x_hat = ae.decoder(z)
                loss, l1, l2 = rdc_loss(z, x_hat, xb, sigma[idx], g_sigma, core[idx],
                                        border_own_embedding=c.border_own_embedding,
                                        z_ref=z_ref[idx] if z_ref is not None else None, g_z_ref=g_z_ref,
                                        code_loss=c.code_loss, gamma=c.gamma)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                step += 1
                sums += torch.stack([loss.detach(), l1.detach(), l2.detach()]).cpu()
                count += 1
                if step % 20 == 0:
                    check_finite(loss.detach(), "R-DC loss", step)
            refresh += 1
            Z = embed()
        labels, _ = kmeans(Z, n_clusters, n_init=c.kmeans_n_init, seed=seed)  # line 27
        extras = {"phase1_embedding": Z_phase1, "tau_final": np.float64(taus[-1]),
                  "iterations": np.float64(step), "refreshes": np.float64(refresh),
                  "phase2_wall_s": np.float64(time.perf_counter() - t0)}
        extras.update(snapshots.arrays())
        if assignments:
            extras["refresh_assignments"] = np.stack(assignments)       # (refreshes + 1, N)
        if c.dec_phase:  # P3 (ablation): DEC's KL(P‖Q) on the encoder; labels = argmax q
            extras["phase2_embedding"], extras["phase2_labels"] = Z, labels
            labels, Z, dec_history = self._dec_phase(ae, Xt, n_clusters, seed)
            extras["dec_iterations"] = np.float64(dec_history[-1]["iter"])
            history += [dict(row, phase="P3") for row in dec_history]
        return Result(labels=labels, embedding=Z, history=history, extras=extras)

    def _dec_phase(self, ae, Xt, n_clusters: int, seed: int):
        """P3 of the ablation (Sec. 4.2.3): DEC's clustering phase (:meth:`clusterbench.baselines.dec.DEC.cluster`,
        KL(P‖Q), SGD with momentum 0.9, batch 256) on ``ae``. Returns (labels, Z, history)."""
        from clusterbench.baselines.dec import DEC, DECConfig

        c = self.config
        dec = DEC(DECConfig(n_init=c.kmeans_n_init, lr=c.dec_lr, batch_size=c.batch_size,
                            update_interval=c.dec_update_interval, tol=c.dec_tol, max_iter=c.dec_max_iter))
        r = dec.cluster(ae, Xt, n_clusters, seed=seed)
        return r.labels, r.embedding, r.history

    @staticmethod
    def scored_history(result, y) -> list[dict]:
        """Per-refresh scores against the labels (Figures 12-14), computed after the fit (the runner
        writes them to scored_history.csv): ACC of the refresh's k-means assignment (with
        ``record_assignments``) and the share of true neighbours among all M neighbours of every
        point, of the core points, and among the reliable neighbours after filtering (recorded refreshes)."""
        from clusterbench.framework.metrics import cluster_acc

        ex, y = result.extras, np.asarray(y)
        rows: dict[int, dict] = {}
        steps = {int(h["refresh"]): int(h["step"]) for h in result.history if "refresh" in h and "phase" not in h}
        if "refresh_assignments" in ex:
            for r, labels in enumerate(ex["refresh_assignments"]):
                rows.setdefault(r, {"refresh": r, "step": steps.get(r)})["acc"] = cluster_acc(y, labels)
        if "nn_indices" in ex:
            for j, r in enumerate(ex["nn_refresh"].tolist()):
                shares = true_neighbour_shares(y, ex["nn_indices"][j], ex["nn_reliable"][j], ex["nn_core"][j])
                rows.setdefault(r, {"refresh": r, "step": int(ex["nn_step"][j])}).update(
                    {f"true_nn_{k}": v for k, v in shares.items()})
        return [rows[r] for r in sorted(rows)]

    @staticmethod
    def scored_diagnostics(result, y) -> dict:
        """Share of true neighbours before/after filtering at the first and last recorded refresh
        (Figures 13-14); computed by the runner after the fit, never inside it."""
        ex = result.extras
        if "nn_indices" not in ex:
            return {}
        y = np.asarray(y)
        out = {}
        for tag, r in (("first", 0), ("last", -1)):
            shares = true_neighbour_shares(y, ex["nn_indices"][r], ex["nn_reliable"][r], ex["nn_core"][r])
            out.update({f"true_nn_{k}_{tag}": v for k, v in shares.items()})
        return out
