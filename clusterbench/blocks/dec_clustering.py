"""DEC's clustering phase (Xie et al. 2016, Sec. 3.1-3.2), shared by DEC, IDEC and R-DC's P3 ablation.

Initialise the centres by k-means on the encoder's embedding, then minimise KL(P‖Q) (Eq. 2) over the
encoder (and the decoder for IDEC) and the centres, Q the Student-t soft assignment (Eq. 1), P the
target distribution (Eq. 3) recomputed on the full data every T iterations, until fewer than ``tol`` of
the labels change between two updates or after ``max_iter`` iterations. See
:mod:`clusterbench.baselines.dec` for the settings and their sources.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..framework.base import ClusteringMethod, Result
from .kmeans_knn import kmeans


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


class DECClustering:
    """DEC's clustering phase on any autoencoder with ``encoder`` / ``decoder`` (see the module docstring)."""

    #: IDEC trains the decoder too
    trains_decoder = False
    #: figures only: ``monitor(iteration, Z (N, e) numpy, labels (N,)) -> dict`` merged into the
    #: history row of every target update (e.g. clusterbench.blocks.geometry.latent_geometry); None: off
    monitor = None

    Config = DECConfig

    def __init__(self, config: DECConfig | None = None, **kwargs) -> None:
        config = config if config is not None else self.Config()
        if isinstance(self, ClusteringMethod):       # DEC / IDEC: a registered method
            super().__init__(config, **kwargs)
        else:                                        # a phase of another method (R-DC's P3)
            self.config = config

    def loss(self, kl, x_hat, xb):
        """DEC: L = KL(P‖Q) (Eq. 2)."""
        return kl, {"loss_kl": kl.detach()}

    def cluster(self, ae, X, n_clusters: int, *, seed: int) -> Result:
        """DEC's clustering phase on any autoencoder with ``encoder``/``decoder``; X: (N, d) tensor."""
        import torch

        from .dec_loss import kl_divergence, soft_assignment, target_distribution
        from .pretrain import make_optimizer
        from .training import check_finite, generator, predict_in_batches, progress

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
        history, index, p = progress(c.max_iter, type(self).__name__, step_key="iter"), 0, None
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
