"""DynAE: Deep clustering with a Dynamic Autoencoder (Mrabah, Khan, Ksantini, Lachiri; Neural Networks 2020).

Two phases, as the authors' code runs them (nairouz/DynAE ``DynAE.py``,
``dynAE.ipynb``; reference/autoencoder-family.md §4):

1. ACAI pretraining of the d-500-500-2000-10 autoencoder (shared recipe
   ``acai``: Adam(1e-4), λ = 0.5, 130,000 iterations, augmented batches).
2. Dynamic clustering. Centres: KMeans(K, n_init=10) on Z = f(X), then μ_j :=
   the embedding of the data point nearest each k-means centre, and the decoded
   centres g(μ_j), both fixed until the next centre update. With the Student-t
   q (α = 1) and thresholds β1 = κ/K, β2 = β1/2, a point is *unconflicted* when
   max_j q_ij > β1 and max_j q_ij − second_j q_ij > β2. Each iteration (batch
   256, SGD(0.001, momentum 0.9)) builds targets before the update:
   unconflicted points → (μ_ŷ, g(μ_ŷ)), conflicted points → (f(x), x), and
   minimises on the augmented batch T(x) (shift 0.1, rotation 10°)

       L = mean((f(T x) − t_emb)²) + γ · mean((g(f(T x)) − t_img)²),  γ = 100.

   Every 140 iterations the conflicted points of the whole data set are
   counted; when the count did not fall, the centres are recomputed and β1, β2
   lowered by Δκ/K, with the code's update order (Δκ ← 0.3κ, κ ← Δκ after the
   decrement). Stop when conflicted/N < tol = 0.01 or after 100,000 iterations.
3. Labels: a fresh KMeans(K, n_init=20) on the final embedding.

Deviations (named): the critic of the pretraining is trained (recipe
``acai``; the authors' frozen critic is ``acai_frozen``); batches walk one
seeded permutation of the data (the code walks file order); augmentation is
the suite's shift/rotate with zero fill (Keras: nearest) and only on image
data — the 2-D/32-D synthetic sets train without it.
"""

from __future__ import annotations

from dataclasses import dataclass


from clusterbench.framework.base import Result
from clusterbench.blocks.kmeans_knn import kmeans
from clusterbench.blocks.pretrain import PretrainedAEMethod


@dataclass
class DynAEConfig:
    kappa: float = 3.0            # κ: β1 = κ/K, β2 = β1/2
    gamma: float = 100.0          # γ, weight of the decoder term
    lr: float = 0.001             # SGD
    momentum: float = 0.9
    batch_size: int = 256
    update_interval: int = 140    # iterations between conflict counts
    tol: float = 0.01             # stop when conflicted/N < tol
    max_iter: int = 100000
    n_init_centres: int = 10      # k-means restarts of the centre updates
    n_init: int = 20              # restarts of the final k-means
    augment: bool = True          # shift/rotate image data
    shift: float = 0.1
    degrees: float = 10.0
    kmeans_backend: str = "auto"


def conflicted_mask(q, beta1: float, beta2: float):
    """True where a point is conflicted: not (q_max > β1 and q_max − q_second > β2). q: (N, K)."""
    top = q.topk(2, dim=1).values
    return ~((top[:, 0] > beta1) & (top[:, 0] - top[:, 1] > beta2))


class DynAE(PretrainedAEMethod):
    Config = DynAEConfig
    paper = "dynae"
    pretrain = "acai"
    #: figures only: ``monitor(iteration, Z (N, e) numpy, argmax q (N,)) -> dict`` merged into the
    #: history row of every conflict count; None: off
    monitor = None

    def _centres(self, ae, X, n_clusters, seed):
        """μ (K, e): embeddings of the points nearest the k-means centres; g(μ) (K, d); k-means labels (N,)."""
        import torch

        from clusterbench.blocks.training import predict_in_batches

        Z = predict_in_batches(ae.encoder, X)
        labels, centres = kmeans(Z.cpu().numpy(), n_clusters, n_init=self.config.n_init_centres, seed=seed,
                                 backend=self.config.kmeans_backend)
        nearest = torch.cdist(torch.as_tensor(centres, device=Z.device), Z).argmin(dim=1)
        mu = Z[nearest]
        with torch.no_grad():
            return mu, ae.decoder(mu), labels

    def fit_predict(self, data, n_clusters, *, seed, device="cpu"):
        bundle = self.pretrained(data, seed, device)
        image_shape = data.X.shape[1:] if data.X.ndim == 4 else None  # (C, H, W) images only
        return self.cluster(bundle.ae, bundle.input_tensor(data), n_clusters, seed=seed, image_shape=image_shape)

    def cluster(self, ae, X, n_clusters: int, *, seed: int, image_shape=None) -> Result:
        """DynAE's clustering phase on a pretrained autoencoder ``ae``; X: (N, d) tensor on its device."""
        import torch
        import torch.nn.functional as F

        from clusterbench.blocks.dec_loss import soft_assignment
        from clusterbench.blocks.pretrain import shift_rotate_flat
        from clusterbench.blocks.training import check_finite, generator, predict_in_batches

        c = self.config
        dev = X.device
        n, K = X.shape[0], n_clusters
        image_shape = image_shape if c.augment else None
        gen = generator(seed)

        mu, mu_img, phase1_labels = self._centres(ae, X, K, seed)
        kappa = c.kappa
        beta1 = kappa / K
        beta2 = beta1 / 2
        delta_kappa = 0.3 * kappa
        opt = torch.optim.SGD(ae.parameters(), lr=c.lr, momentum=c.momentum)
        ae.train()
        order = torch.randperm(n, generator=gen).to(dev)
        history, index, updates = [], 0, 0
        nb_conf_prev, nb_conf = n, n
        loss_sum, steps_since = 0.0, 0
        for ite in range(c.max_iter):
            if ite % c.update_interval == 0:
                with torch.no_grad():
                    Zt = predict_in_batches(ae.encoder, X)
                    q = soft_assignment(Zt, mu)
                if ite > 0:
                    nb_conf_prev = nb_conf
                nb_conf = int(conflicted_mask(q, beta1, beta2).sum())
                row = {"iter": ite, "conflicted": nb_conf, "beta1": beta1, "beta2": beta2}
                if self.monitor is not None:
                    row.update(self.monitor(ite, Zt.cpu().numpy(), q.argmax(1).cpu().numpy()))
                if steps_since:
                    row["loss"] = check_finite(loss_sum / steps_since, "DynAE loss", ite)
                loss_sum, steps_since = 0.0, 0
                if nb_conf >= nb_conf_prev:  # conflicts stopped falling: new centres, relaxed thresholds
                    updates += 1
                    mu, mu_img, _ = self._centres(ae, X, K, seed + updates)
                    beta1 -= delta_kappa / K
                    beta2 -= delta_kappa / K
                    delta_kappa = 0.3 * kappa
                    kappa = delta_kappa
                    row["centres_updated"] = 1
                history.append(row)
                if nb_conf / n < c.tol:
                    break
            idx = order[index * c.batch_size: min((index + 1) * c.batch_size, n)]
            xb = X[idx]
            with torch.no_grad():  # supervisory signals from the un-augmented batch, before the update
                z0 = ae.encoder(xb)
                qb = soft_assignment(z0, mu)
                unconf = ~conflicted_mask(qb, beta1, beta2)
                y_hat = qb.argmax(1)
                t_emb = torch.where(unconf[:, None], mu[y_hat], z0)
                t_img = torch.where(unconf[:, None], mu_img[y_hat], xb)
            xt = shift_rotate_flat(xb, image_shape, c.shift, c.degrees, gen) if image_shape is not None else xb
            z = ae.encoder(xt)
            loss = F.mse_loss(z, t_emb) + c.gamma * F.mse_loss(ae.decoder(z), t_img)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach()
            steps_since += 1
            index = index + 1 if (index + 1) * c.batch_size <= n else 0

        ae.eval()
        Z = predict_in_batches(ae.encoder, X)
        check_finite(Z.sum(), "DynAE embedding")
        Z = Z.cpu().numpy()
        labels, centres = kmeans(Z, K, n_init=c.n_init, seed=seed, backend=c.kmeans_backend)
        return Result(labels=labels, embedding=Z, history=history,
                      extras={"centres": centres, "phase1_labels": phase1_labels})
