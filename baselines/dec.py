"""DEC: Deep Embedded Clustering (Xie, Girshick, Farhadi, ICML 2016).

Algorithm (paper Sec. 3; authors' code piiswrong/dec and the Keras port
XifengGuo/DEC-keras, reference/autoencoder-family.md §1):

1. Pretrain the d-500-500-2000-10 autoencoder (shared recipe; default
   DEC-keras's end-to-end MSE ``ae_mse``; DEC's Caffe layer-wise denoising
   recipe is ``ae_denoising``), keep the encoder f.
2. Initialise the centres μ_j by KMeans(K, n_init=20) on Z = f(X).
3. Minimise L = KL(P‖Q) (Eq. 2) over the encoder weights and μ with SGD(0.01,
   momentum 0.9), batch 256. q_ij is the Student-t soft assignment (Eq. 1,
   α = 1); the target P (Eq. 3) is recomputed on the full data every T
   iterations (T = update_interval; DEC-keras: 140 on MNIST/FMNIST, 30 on USPS).
4. Stop when fewer than tol = 0.1 % of the labels argmax_j q_ij changed
   between two updates of P, or after max_iter = 20,000 iterations.
5. Labels: argmax_j q_ij of the final network.

Reductions as in the Keras code: 'kld' = Σ_j p log(p/q), batch mean.

Deviations (named): mini-batches walk the data sequentially, as the Keras
code does, but through one seeded random permutation of the data (the
embedded sets are stored sorted by class, where file order would give
one-class batches); the final labels come from the final network rather than
from the last P update (identical when the tolerance stops the run).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clusterbench.framework.base import Result
from clusterbench.blocks.kmeans_knn import kmeans
from clusterbench.blocks.pretrain import PretrainedAEMethod


@dataclass
class DECConfig:
    n_init: int = 20              # k-means restarts for μ
    optimizer: str = "sgd"        # sgd | adam
    lr: float = 0.01
    momentum: float = 0.9
    batch_size: int = 256
    update_interval: int = 140    # T: iterations between target-distribution updates
    tol: float = 0.001            # stop when the fraction of changed labels falls below tol
    max_iter: int = 20000
    alpha: float = 1.0            # Student-t degrees of freedom
    kmeans_backend: str = "auto"


class DEC(PretrainedAEMethod):
    Config = DECConfig
    paper = "dec"
    pretrain = "ae_mse"
    #: IDEC trains the decoder too
    trains_decoder = False
    #: figures only: ``monitor(iteration, Z (N, e) numpy, labels (N,)) -> dict`` merged into the
    #: history row of every target update (e.g. clusterbench.blocks.geometry.latent_geometry); None: off
    monitor = None

    def loss(self, kl, x_hat, xb):
        """DEC: L = KL(P‖Q) (Eq. 2)."""
        return kl, {"loss_kl": kl.detach()}

    def fit_predict(self, data, n_clusters, *, seed, device="cpu"):
        bundle = self.pretrained(data, seed, device)          # step 1: shared pretraining
        return self.cluster(bundle.ae, bundle.input_tensor(data), n_clusters, seed=seed)

    def cluster(self, ae, X, n_clusters: int, *, seed: int) -> Result:
        """DEC's clustering phase on any autoencoder with ``encoder``/``decoder``; X: (N, d) tensor."""
        import torch

        from clusterbench.blocks.dec_loss import kl_divergence, soft_assignment, target_distribution
        from clusterbench.blocks.pretrain import make_optimizer
        from clusterbench.blocks.training import check_finite, generator, predict_in_batches

        c = self.config
        dev = X.device
        n = X.shape[0]
        gen = generator(seed)

        # step 2: μ from k-means on the pretrained embedding
        Z = predict_in_batches(ae.encoder, X).cpu().numpy()
        y_last, centres = kmeans(Z, n_clusters, n_init=c.n_init, seed=seed, backend=c.kmeans_backend)
        phase1_labels = y_last  # k-means on the pretrained embedding (R-DC Figure 3's phase 1)
        mu = torch.nn.Parameter(torch.as_tensor(centres, device=dev))
        params = list(ae.encoder.parameters()) + [mu]
        if self.trains_decoder:
            params += list(ae.decoder.parameters())
        opt = make_optimizer(params, c.optimizer, c.lr, c.momentum)
        ae.train()

        order = torch.randperm(n, generator=gen).to(dev)  # fixed batch order (see docstring)
        history, index, p = [], 0, None
        sums: dict = {}
        steps_since = 0
        for ite in range(c.max_iter + 1):
            if ite % c.update_interval == 0 or ite == c.max_iter:
                with torch.no_grad():
                    Zt = predict_in_batches(ae.encoder, X)
                    q = soft_assignment(Zt, mu, c.alpha)
                    p = target_distribution(q)  # Eq. (3) on the full data
                y_pred = q.argmax(1).cpu().numpy()
                delta = float(np.mean(y_pred != y_last))
                y_last = y_pred
                row = {"iter": ite, "delta_label": delta, "clusters_used": int(np.unique(y_pred).size)}
                if self.monitor is not None:
                    row.update(self.monitor(ite, Zt.cpu().numpy(), y_pred))
                for key, total in sums.items():
                    row[key] = check_finite(total / max(steps_since, 1), key, ite)
                history.append(row)
                sums, steps_since = {}, 0
                if (ite > 0 and delta < c.tol) or ite == c.max_iter:
                    break
            idx = order[index * c.batch_size: min((index + 1) * c.batch_size, n)]
            xb = X[idx]
            z = ae.encoder(xb)
            x_hat = ae.decoder(z) if self.trains_decoder else None
            kl = kl_divergence(p[idx], soft_assignment(z, mu, c.alpha))
            loss, parts = self.loss(kl, x_hat, xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            for key, value in parts.items():
                sums[key] = sums.get(key, 0.0) + value
            steps_since += 1
            index = index + 1 if (index + 1) * c.batch_size <= n else 0

        ae.eval()
        with torch.no_grad():
            Z = predict_in_batches(ae.encoder, X)
            q = soft_assignment(Z, mu, c.alpha)
        check_finite(q.sum(), "soft assignment")
        labels = q.argmax(1).cpu().numpy().astype(np.int64)
        return Result(labels=labels, embedding=Z.cpu().numpy(), history=history,
                      extras={"centres": mu.detach().cpu().numpy(), "phase1_labels": phase1_labels})
