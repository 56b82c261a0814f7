"""Datasets: registry, fetching, conversion to a cached ``.npz``, loading.

``load_dataset(name)`` returns a :class:`Dataset` with float32 features. The
first call fetches the upstream files (cache → mirror → URLs, checksummed) and
converts them once to ``$CLUSTERBENCH_DATA/processed/{name}.npz``. That file
stores its format version, N, the sample shape, the class count and a sha256
of X and y; every load checks them against the file and the catalog, and a file
that fails (truncated, an older format, wrong labels) is rebuilt from the raw
files, or the load fails naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..framework.atomic import atomic_path, remove_stale_parts
from .catalog import DATASETS, DatasetSpec
from .download import ChecksumError, DatasetUnavailable, RemoteFile, data_home, fetch, mirror_setting

__all__ = [
    "DATASETS", "Dataset", "DataView", "DatasetSpec", "DatasetUnavailable", "ChecksumError", "ProcessedFileError",
    "RemoteFile",
    "get_spec", "load_dataset", "processed_path", "data_home", "mirror_setting",
]

#: 2: the file stores n_samples, shape, n_classes and the sha256 of X and y
PROCESSED_VERSION = 2


class ProcessedFileError(RuntimeError):
    """A processed ``.npz`` does not load or does not match its stored checksum or the catalog; names the file."""


class _Features:
    """What a dataset and a method's view of it share: ``X`` float32 (N, *shape)."""

    X: np.ndarray

    @property
    def n_samples(self) -> int:
        return int(self.X.shape[0])

    @property
    def is_image(self) -> bool:
        return self.X.ndim >= 4

    def flat(self) -> np.ndarray:
        """Features as a (N, d) matrix."""
        return self.X.reshape(self.n_samples, -1)


@dataclass
class Dataset(_Features):
    """Features ``X`` float32 (N, *shape), labels ``y`` int64 (N,) in 0..K-1."""

    name: str
    X: np.ndarray
    y: np.ndarray
    n_classes: int
    spec: DatasetSpec | None = field(default=None, repr=False)

    def view(self) -> "DataView":
        """What a method receives: the features without the labels."""
        return DataView(name=self.name, X=self.X, n_classes=self.n_classes, spec=self.spec)


@dataclass(frozen=True)
class DataView(_Features):
    """A dataset as a clustering method sees it: features ``X`` float32 (N, *shape), no labels.

    ``n_classes`` is the K the method is asked for; ``name`` and ``spec`` say which dataset it is
    (per-dataset settings, pretrained weights). There is no ``y``: labels stay with the runner.
    """

    name: str
    X: np.ndarray
    n_classes: int
    spec: DatasetSpec | None = field(default=None, repr=False)


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
    remove_stale_parts(target.parent)  # left by a killed conversion
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, X=X, y=y, version=PROCESSED_VERSION, n_samples=X.shape[0], shape=np.asarray(X.shape[1:]),
                     n_classes=spec.n_classes, sha256=_digest(X, y))
    return target


def _digest(X: np.ndarray, y: np.ndarray) -> str:
    """sha256 of X and y (dtype, shape and bytes): what the processed file stores and is checked against."""
    import hashlib

    h = hashlib.sha256()
    for array in (X, y):
        array = np.ascontiguousarray(array)
        h.update(f"{array.dtype.str}{array.shape}".encode())
        h.update(memoryview(array).cast("B"))
    return h.hexdigest()


def read_processed(path: Path, spec: DatasetSpec) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) of a processed file, verified: it loads, has this format version, its stored N / shape /
    classes / sha256 match its arrays, and they match the catalog entry. Raises :class:`ProcessedFileError`."""
    import zipfile

    def bad(why: str):
        return ProcessedFileError(f"{path}: {why}")

    try:
        with np.load(path, allow_pickle=False) as archive:
            stored = {k: archive[k] for k in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise bad(f"does not load ({type(error).__name__}: {error})") from None
    version = int(stored["version"]) if "version" in stored else None
    if version != PROCESSED_VERSION:
        raise bad(f"format version {version}, this suite writes {PROCESSED_VERSION}")
    missing = {"X", "y", "n_samples", "shape", "n_classes", "sha256"} - set(stored)
    if missing:
        raise bad(f"missing array(s) {sorted(missing)}")
    X, y = stored["X"], stored["y"]
    if _digest(X, y) != str(stored["sha256"]):
        raise bad("X and y do not match the stored sha256 (damaged or edited)")
    n = X.shape[0]
    if int(stored["n_samples"]) != n or y.shape != (n,):
        raise bad(f"{n} samples and {y.shape[0]} labels, the file says {int(stored['n_samples'])}")
    if spec.source != "manual" and n != spec.n_samples:
        raise bad(f"{n} samples, the catalog says {spec.n_samples}")
    if tuple(X.shape[1:]) != tuple(spec.shape) or tuple(int(s) for s in stored["shape"]) != tuple(spec.shape):
        raise bad(f"sample shape {tuple(X.shape[1:])}, the catalog says {tuple(spec.shape)}")
    classes = np.unique(y)
    if int(stored["n_classes"]) != spec.n_classes or classes.size != spec.n_classes \
            or classes[0] != 0 or classes[-1] != spec.n_classes - 1:
        raise bad(f"labels {classes.size} classes in {classes[0]}..{classes[-1]}, the catalog says "
                  f"0..{spec.n_classes - 1}")
    return X, y


def load_dataset(name: str, *, mirror: str | None = None, cache: Path | None = None,
                 download: bool = True) -> Dataset:
    """Load (preparing once if needed) dataset ``name`` as float32 features.

    A processed file that fails verification is removed and rebuilt from the raw files once; when that
    fails too, the error names the file.
    """
    import sys

    spec = get_spec(name)
    path = prepare(name, mirror=mirror, cache=cache, download=download)
    try:
        X, y = read_processed(path, spec)
    except ProcessedFileError as error:
        print(f"{error}; rebuilding it", file=sys.stderr, flush=True)
        path.unlink(missing_ok=True)
        try:
            path = prepare(name, mirror=mirror, cache=cache, download=download)
        except DatasetUnavailable as unavailable:
            raise DatasetUnavailable(f"{error}; it was removed and cannot be rebuilt: {unavailable}") from None
        X, y = read_processed(path, spec)
    return Dataset(name=name, X=_to_float(X, spec.scale), y=y.astype(np.int64), n_classes=spec.n_classes, spec=spec)
