"""Shared k-means and k-nearest-neighbour search (scikit-learn for small N, faiss for large N; faiss on the
run's GPU when the device is CUDA and faiss has GPU support, see ``faiss_device``)."""

from __future__ import annotations

import contextlib

import numpy as np

#: above this many samples k-means and k-NN use faiss
FAISS_MIN_SAMPLES = 20000

#: the GPU faiss runs on when a run's device is CUDA and faiss has GPU support (the ``gpu`` extra,
#: faiss-gpu); None: CPU faiss. Set for the duration of a fit by :func:`faiss_device`.
_FAISS_GPU: int | None = None


def faiss_gpus() -> int:
    """How many GPUs this faiss build can use (0 for the CPU-only package)."""
    try:
        import faiss
    except ImportError:
        return 0
    return int(faiss.get_num_gpus()) if hasattr(faiss, "get_num_gpus") else 0


@contextlib.contextmanager
def faiss_device(device: str):
    """Within the block, k-means' Lloyd iterations and the k-NN search run on GPU ``device`` (cuda, cuda:N)
    when faiss has GPU support; otherwise, and for a CPU device, on the CPU. Same algorithm, float32 either
    way; the GPU's reduction order differs, so labels can differ at ties. Yields the GPU index or None."""
    global _FAISS_GPU
    saved = _FAISS_GPU
    gpu = None
    if device.startswith("cuda") and faiss_gpus() > 0:
        gpu = int(device.partition(":")[2] or 0)
    _FAISS_GPU = gpu
    try:
        yield gpu
    finally:
        _FAISS_GPU = saved


def _flat_index(d: int):
    """Exact L2 index: on the block's GPU (``faiss_device``) or the CPU."""
    import faiss

    if _FAISS_GPU is None:
        return faiss.IndexFlatL2(d)
    config = faiss.GpuIndexFlatConfig()
    config.device = _FAISS_GPU
    return faiss.GpuIndexFlatL2(faiss.StandardGpuResources(), d, config)


def kmeans(X: np.ndarray, n_clusters: int, *, n_init: int = 10, max_iter: int = 300, seed: int = 0,
           backend: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means with k-means++ seeding, best of ``n_init`` restarts by inertia.

    X: (N, d). Returns (labels (N,), centres (K, d)). ``backend``: "sklearn",
    "faiss" or "auto" (faiss when N > FAISS_MIN_SAMPLES). Both seed with scikit-learn's greedy
    k-means++ (Arthur & Vassilvitskii 2007); faiss runs the Lloyd iterations. Deterministic for a seed.
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    if backend == "auto":
        backend = "faiss" if X.shape[0] > FAISS_MIN_SAMPLES else "sklearn"
    if backend == "sklearn":
        from sklearn.cluster import KMeans

        model = KMeans(n_clusters, n_init=n_init, max_iter=max_iter, random_state=seed).fit(X)
        return model.labels_.astype(np.int64), model.cluster_centers_.astype(np.float32)
    if backend == "faiss":
        import faiss
        from sklearn.cluster import kmeans_plusplus

        # k-means++ seeding as scikit-learn's KMeans does it (greedy, 2 + log K candidates per centre;
        # faiss's own k-means++ init is the non-greedy variant and ends at a higher inertia), then Lloyd's
        # iterations in faiss; the best of n_init restarts by inertia.
        rng = np.random.RandomState(seed)
        best = None
        for _ in range(n_init):
            init, _ = kmeans_plusplus(X, n_clusters, random_state=rng)
            model = faiss.Kmeans(X.shape[1], n_clusters, niter=max_iter, nredo=1, seed=int(rng.randint(2 ** 31 - 1)),
                                 spherical=False, verbose=False, max_points_per_centroid=1 << 20)
            model.index = _flat_index(X.shape[1])                      # CPU, or the faiss_device GPU
            model.train(X, init_centroids=np.ascontiguousarray(init, dtype=np.float32))
            sq, labels = model.index.search(X, 1)
            inertia = float(sq.sum(dtype=np.float64))
            if best is None or inertia < best[0]:
                best = (inertia, labels[:, 0].astype(np.int64), model.centroids.astype(np.float32))
        return best[1], best[2]
    raise ValueError(f"unknown k-means backend {backend!r}")


def knn(X: np.ndarray, k: int, *, include_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Exact Euclidean k nearest neighbours of every row of X (N, d).

    Returns (distances (N, k), indices (N, k)), nearest first; the point itself
    is excluded unless ``include_self``. Uses faiss (exact, flat L2 index; on the GPU of ``faiss_device``).
    """
    X = np.ascontiguousarray(X, dtype=np.float32)
    extra = 0 if include_self else 1
    index = _flat_index(X.shape[1])
    index.add(X)
    sq, idx = index.search(X, k + extra)
    if not include_self:
        # drop the query itself (it may not sit in column 0 when duplicates exist)
        self_mask = idx == np.arange(X.shape[0])[:, None]
        keep = ~self_mask
        keep[keep.sum(axis=1) > k, -1] = False
        idx = idx[keep].reshape(X.shape[0], k)
        sq = sq[keep].reshape(X.shape[0], k)
    return np.sqrt(np.maximum(sq, 0)), idx
