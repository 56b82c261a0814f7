"""Spectral clustering with the normalised cut, "SC-Ncut" (Shi & Malik 2000).

Graph: symmetric k-NN graph on the [0, 1] features, W_ij = exp(-||x_i - x_j||^2 / (2 sigma^2))
for j among the k nearest neighbours of i or i among those of j, with sigma the
mean distance to the k-th neighbour (a common self-tuning choice; the AHCL paper
does not state its graph). Ncut relaxation: the K generalised eigenvectors of
(D - W) v = lambda D v with smallest lambda, computed as D^{-1/2} u for the top
eigenvectors u of D^{-1/2} W D^{-1/2}; rows clustered by k-means.
"""

from __future__ import annotations

from dataclasses import dataclass

from clusterbench.blocks.kmeans_knn import kmeans
from clusterbench.blocks.spectral import knn_affinity, ncut_embedding
from clusterbench.framework.base import ClusteringMethod, Result


@dataclass
class SpectralConfig:
    n_neighbors: int = 10       # k of the k-NN graph
    weighting: str = "heat"     # heat (Gaussian) | binary
    n_init: int = 10            # k-means restarts on the spectral embedding


class SpectralClustering(ClusteringMethod):
    Config = SpectralConfig
    paper = "shi2000ncut"

    def fit_predict(self, data, n_clusters, *, seed, device="cpu"):
        c = self.config
        W = knn_affinity(data.flat(), c.n_neighbors, c.weighting)
        V = ncut_embedding(W, n_clusters, seed)
        labels, _ = kmeans(V, n_clusters, n_init=c.n_init, seed=seed)
        return Result(labels=labels, embedding=V)
