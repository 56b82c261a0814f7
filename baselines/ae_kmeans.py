"""AE+k-means: k-means on the embedding of a pretrained autoencoder.

The baseline row of DEC (Xie et al. 2016), IDEC (Guo et al. 2017), DynAE and
R-DC: the d-500-500-2000-10 autoencoder is pretrained (shared recipe, by
default DEC-keras's end-to-end MSE, see :mod:`clusterbench.blocks.pretrain`) and
KMeans(K, n_init=20, k-means++, max_iter 300) clusters the 10-d embedding
Z = f(X) of the whole data set (reference/autoencoder-family.md §3: in
DEC-keras and IDEC this is iteration 0 of the clustering log).

Deviations: none beyond the pretraining recipe's (see its module docstring).
"""

from __future__ import annotations

from dataclasses import dataclass

from clusterbench.framework.base import Result
from clusterbench.blocks.kmeans_knn import kmeans
from clusterbench.blocks.pretrain import PretrainedAEMethod


@dataclass
class AEKMeansConfig:
    n_init: int = 20          # k-means restarts (DEC-keras, IDEC)
    max_iter: int = 300
    backend: str = "auto"     # sklearn | faiss | auto


class AEKMeans(PretrainedAEMethod):
    Config = AEKMeansConfig
    paper = "dec"
    pretrain = "ae_mse"

    def fit_predict(self, data, n_clusters, *, seed, device="cpu"):
        from clusterbench.blocks.training import predict_in_batches

        c = self.config
        bundle = self.pretrained(data, seed, device)
        X = bundle.input_tensor(data)
        Z = predict_in_batches(bundle.ae.encoder, X).cpu().numpy()  # (N, 10) embedding f(X)
        labels, centres = kmeans(Z, n_clusters, n_init=c.n_init, max_iter=c.max_iter, seed=seed,
                                 backend=c.backend)
        return Result(labels=labels, embedding=Z, history=bundle.history, extras={"centres": centres})
