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

from clusterbench.blocks.dec_clustering import DECClustering, DECConfig
from clusterbench.blocks.pretrain import PretrainedAEMethod

__all__ = ["DEC", "DECConfig"]


class DEC(DECClustering, PretrainedAEMethod):
    """DEC: shared pretraining (step 1), then DEC's clustering phase (steps 2-5,
    :class:`clusterbench.blocks.dec_clustering.DECClustering`)."""

    Config = DECConfig
    paper = "dec"
    pretrain = "ae_mse"

    def fit_predict(self, data, n_clusters, *, seed, device="cpu"):
        bundle = self.pretrained(data, seed, device)          # step 1: shared pretraining
        return self.cluster(bundle.ae, bundle.input_tensor(data), n_clusters, seed=seed)
