"""IDEC: Improved Deep Embedded Clustering with local structure preservation (Guo et al., IJCAI 2017).

DEC (see :mod:`clusterbench.baselines.dec`) keeping the decoder: the clustering loss is
combined with the reconstruction loss, Eq. (L = L_r + γ L_c):

    L = MSE(x, g(f(x))) + γ · KL(P‖Q),  γ = 0.1,

and the encoder, decoder and centres are all updated. Settings from the
authors' code (XifengGuo/IDEC, reference/autoencoder-family.md §2): KMeans
n_init 20, batch 256, tol 0.001, max_iter 20,000, sequential batches; MNIST
Adam(1e-3) with T = 140; USPS SGD(0.1, momentum 0.99) with T = 30. MSE is
Keras's element mean, KL Keras's 'kld' (batch mean).

Deviations (named): IDEC loads DEC's layer-wise denoising weights and leaves
USPS in [0, 2] (MNIST × 0.02); the suite's default shares the end-to-end MSE
pretraining (``ae_mse``) of AE+k-means and DEC on [0, 1] inputs, so the three
rows start from one network ("identical pretraining phases"); the YAML key
``pretrain: ae_denoising`` selects the Caffe recipe. Batch order as in DEC.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch.nn.functional as F

from clusterbench.baselines.dec import DEC, DECConfig


@dataclass
class IDECConfig(DECConfig):
    optimizer: str = "adam"       # MNIST setting; USPS: sgd 0.1, momentum 0.99 (YAML datasets)
    lr: float = 0.001
    momentum: float = 0.99
    gamma: float = 0.1            # γ, weight of the clustering loss


class IDEC(DEC):
    Config = IDECConfig
    paper = "idec"
    pretrain = "ae_mse"
    trains_decoder = True

    def loss(self, kl, x_hat, xb):
        """IDEC: L = L_r + γ L_c with L_r = MSE(x, x̂) (element mean) and L_c = KL(P‖Q)."""
        rec = F.mse_loss(x_hat, xb)
        return rec + self.config.gamma * kl, {"loss_kl": kl.detach(), "loss_rec": rec.detach()}
