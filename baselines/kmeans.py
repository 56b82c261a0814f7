"""k-means on the (scaled) input features.

Lloyd (1982) / MacQueen (1967), k-means++ seeding (Arthur & Vassilvitskii 2007).
The papers' K-Means rows cluster the raw pixels scaled to [0, 1]; the suite
keeps the dataset's [0, 1] features and restarts ``n_init`` times.
"""

from __future__ import annotations

from dataclasses import dataclass

from clusterbench.framework.base import ClusteringMethod, Result
from clusterbench.blocks.kmeans_knn import kmeans


@dataclass
class KMeansConfig:
    n_init: int = 10        # restarts, best inertia kept
    max_iter: int = 300
    backend: str = "auto"   # sklearn | faiss | auto (faiss above 20,000 samples)


class KMeans(ClusteringMethod):
    Config = KMeansConfig
    paper = "macqueen1967"

    def fit_predict(self, data, n_clusters, *, seed, device="cpu"):
        c = self.config
        labels, centres = kmeans(data.flat(), n_clusters, n_init=c.n_init, max_iter=c.max_iter,
                                 seed=seed, backend=c.backend)
        return Result(labels=labels, extras={"centres": centres})
