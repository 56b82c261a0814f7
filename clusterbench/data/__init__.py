"""Datasets: registry, fetching, conversion to a cached ``.npz``, loading.

``load_dataset(name)`` returns a :class:`Dataset` with float32 features. The
first call fetches the upstream files (cache → mirror → URLs, checksummed) and
converts them once to ``$CLUSTERBENCH_DATA/processed/{name}.npz``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..framework.atomic import atomic_path
from .catalog import DATASETS, DatasetSpec
from .download import ChecksumError, DatasetUnavailable, RemoteFile, data_home, fetch, mirror_setting

__all__ = [
    "DATASETS", "Dataset", "DatasetSpec", "DatasetUnavailable", "ChecksumError", "RemoteFile",
    "get_spec", "load_dataset", "processed_path", "data_home", "mirror_setting",
]

PROCESSED_VERSION = 1


@dataclass
class Dataset:
    """Features ``X`` float32 (N, *shape), labels ``y`` int64 (N,) in 0..K-1."""

    name: str
    X: np.ndarray
    y: np.ndarray
    n_classes: int
    spec: DatasetSpec | None = field(default=None, repr=False)

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def is_image(self) -> bool:
        return self.X.ndim >= 4

    def flat(self) -> np.ndarray:
        """Features as a (N, d) matrix."""
        return self.X.reshape(self.n_samples, -1)


def get_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}") from None


def processed_path(name: str, cache: Path | None = None) -> Path:
    return (Path(cache) if cache else data_home()) / "processed" / f"{name}.npz"


def _obtain(spec: DatasetSpec, mirror, cache, download) -> dict[str, Path]:
    if spec.source == "manual":
        folder = (Path(cache) if cache else data_home()) / "manual" / spec.name
        mirrored = Path(mirror_setting(mirror) or "/nonexistent") / spec.name
        for candidate in (folder, mirrored):
            if candidate.is_dir() and any(candidate.iterdir()):
                return {"folder": candidate}
        raise DatasetUnavailable(
            f"dataset {spec.name!r} needs manual placement: " + spec.manual.replace("{folder}", str(folder)))
    return {f.name: fetch(f, spec.name, mirror=mirror, cache=cache, download=download) for f in spec.files}


def _to_float(X: np.ndarray, scale: str) -> np.ndarray:
    if scale == "uint8":
        return X.astype(np.float32) / np.float32(255.0)
    if scale == "minmax":
        lo, hi = float(X.min()), float(X.max())
        return ((X - lo) / (hi - lo if hi > lo else 1.0)).astype(np.float32)
    if scale == "none":
        return X.astype(np.float32)
    raise ValueError(f"unknown scale {scale!r}")


def prepare(name: str, *, mirror: str | None = None, cache: Path | None = None, download: bool = True) -> Path:
    """Make sure ``processed/{name}.npz`` exists and return its path."""
    spec = get_spec(name)
    target = processed_path(name, cache)
    if target.exists():
        return target
    paths = _obtain(spec, mirror, cache, download)
    try:
        X, y = spec.build(paths)
    except ValueError as error:
        # Files without a published checksum are verified by their format: a copy
        # that does not parse is removed like one with a wrong checksum.
        unverified = [paths[f.name] for f in spec.files if not (f.sha256 or f.md5)]
        for path in unverified:
            path.unlink(missing_ok=True)
        if unverified:
            removed = ", ".join(str(p) for p in unverified)
            raise ValueError(f"{error}; the unverified copy {removed} was removed") from error
        raise
    X, y = np.asarray(X), np.asarray(y, dtype=np.int64)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"dataset {name!r}: {X.shape[0]} samples but {y.shape[0]} labels")
    if tuple(X.shape[1:]) != tuple(spec.shape):
        raise ValueError(f"dataset {name!r}: expected sample shape {spec.shape}, got {tuple(X.shape[1:])}")
    if spec.source != "manual" and X.shape[0] != spec.n_samples:
        raise ValueError(f"dataset {name!r}: expected {spec.n_samples} samples, got {X.shape[0]}")
    n_classes = np.unique(y).size
    if n_classes != spec.n_classes or y.min() != 0 or y.max() != spec.n_classes - 1:
        raise ValueError(f"dataset {name!r}: expected labels 0..{spec.n_classes - 1}, got {n_classes} classes "
                         f"in {y.min()}..{y.max()}")
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, X=X, y=y, version=PROCESSED_VERSION)
    return target


def load_dataset(name: str, *, mirror: str | None = None, cache: Path | None = None,
                 download: bool = True) -> Dataset:
    """Load (preparing once if needed) dataset ``name`` as float32 features."""
    spec = get_spec(name)
    path = prepare(name, mirror=mirror, cache=cache, download=download)
    with np.load(path) as archive:
        X, y = archive["X"], archive["y"]
    return Dataset(name=name, X=_to_float(X, spec.scale), y=y.astype(np.int64), n_classes=spec.n_classes, spec=spec)
