"""Parsers for the upstream file formats. Each returns ``(X, y)``.

X keeps the file's dtype (uint8 pixels stay uint8) in (N, C, H, W) layout for
images; y is int64 in 0..K-1. A file that does not have the expected layout
raises ``ValueError`` naming the file.
"""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
import zipfile
from pathlib import Path

import numpy as np


def _fail(path, message: str):
    raise ValueError(f"{Path(path).name}: {message}")


def read_idx(path: Path) -> np.ndarray:
    """An IDX file (MNIST / Fashion-MNIST), gzip-compressed or plain."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as error:
        _fail(path, f"not a readable IDX file ({error})")
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        _fail(path, "not an unsigned-byte IDX file")
    ndim = data[3]
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    offset = 4 + 4 * ndim
    if len(data) - offset != int(np.prod(dims)):
        _fail(path, f"IDX header says {dims} but the payload has {len(data) - offset} bytes")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def idx_pair(images: Path, labels: Path) -> tuple[np.ndarray, np.ndarray]:
    X = read_idx(images)
    y = read_idx(labels).astype(np.int64)
    if X.shape[0] != y.shape[0]:
        _fail(images, f"{X.shape[0]} images but {y.shape[0]} labels")
    return X[:, None, :, :], y


def cifar_tar(path: Path, members: list[str], label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR python pickles inside the upstream tar.gz, concatenated in ``members`` order."""
    xs, ys = [], []
    try:
        with tarfile.open(path, "r:gz") as tar:
            names = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
            for member in members:
                if member not in names:
                    _fail(path, f"missing member {member}")
                batch = pickle.load(tar.extractfile(names[member]), encoding="latin1")
                xs.append(np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
                ys.append(np.asarray(batch[label_key], dtype=np.int64))
    except (tarfile.TarError, EOFError, OSError, pickle.UnpicklingError, KeyError) as error:
        _fail(path, f"not a CIFAR archive ({error})")
    return np.concatenate(xs), np.concatenate(ys)


#: CIFAR-100 fine → 20 superclasses, as the coarse labels of the upstream files.
def cifar100_20(path: Path, test: bool = True) -> tuple[np.ndarray, np.ndarray]:
    return cifar_tar(path, ["train", "test"] if test else ["train"], "coarse_labels")


def cifar100_fine(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-100 train + test with the 100 fine labels."""
    return cifar_tar(path, ["train", "test"], "fine_labels")


def cifar10(path: Path, test: bool = True) -> tuple[np.ndarray, np.ndarray]:
    return cifar_tar(path, [f"data_batch_{i}" for i in range(1, 6)] + (["test_batch"] if test else []), "labels")


def stl10_tar(path: Path, splits=("train", "test")) -> tuple[np.ndarray, np.ndarray]:
    """STL-10 binary archive: uint8 images stored column-major (N, 3, 96, 96); labels 1..10."""
    xs, ys = [], []
    try:
        with tarfile.open(path, "r:gz") as tar:
            names = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
            for split in splits:
                for member in (f"{split}_X.bin", f"{split}_y.bin"):
                    if member not in names:
                        _fail(path, f"missing member {member}")
                raw = np.frombuffer(tar.extractfile(names[f"{split}_X.bin"]).read(), dtype=np.uint8)
                if raw.size % (3 * 96 * 96):
                    _fail(path, f"{split}_X.bin is not a whole number of 3x96x96 images")
                xs.append(raw.reshape(-1, 3, 96, 96).transpose(0, 1, 3, 2))
                ys.append(np.frombuffer(tar.extractfile(names[f"{split}_y.bin"]).read(), dtype=np.uint8).astype(np.int64) - 1)
    except (tarfile.TarError, EOFError, OSError) as error:
        _fail(path, f"not an STL-10 archive ({error})")
    X, y = np.concatenate(xs), np.concatenate(ys)
    if X.shape[0] != y.shape[0]:
        _fail(path, f"{X.shape[0]} images but {y.shape[0]} labels")
    return np.ascontiguousarray(X), y


def _loadmat(path: Path) -> dict:
    from scipy.io import loadmat

    try:
        return loadmat(path)
    except Exception as error:  # scipy raises several types for a bad file
        _fail(path, f"not a readable MATLAB file ({error})")


def svhn_mat(*paths: Path) -> tuple[np.ndarray, np.ndarray]:
    """SVHN cropped digits: X (32, 32, 3, N) uint8, y 1..10 with 10 meaning digit 0."""
    xs, ys = [], []
    for path in paths:
        mat = _loadmat(path)
        if "X" not in mat or "y" not in mat:
            _fail(path, "expected variables X and y")
        xs.append(np.transpose(mat["X"], (3, 2, 0, 1)))
        ys.append(mat["y"].astype(np.int64).ravel() % 10)
    return np.concatenate(xs), np.concatenate(ys)


def xy_mat(path: Path, image_shape: tuple[int, ...] | None, order: str = "F") -> tuple[np.ndarray, np.ndarray]:
    """The X/Y .mat files of the AdaGAE repository: X (N, d), Y (N,) labels.

    Images are stored as flattened MATLAB (column-major) arrays; ``order`` says
    how to reshape them back. Labels are re-indexed to 0..K-1.
    """
    mat = _loadmat(path)
    if "X" not in mat or "Y" not in mat:
        _fail(path, "expected variables X and Y")
    X = np.asarray(mat["X"])
    _, y = np.unique(np.asarray(mat["Y"]).ravel(), return_inverse=True)
    if X.shape[0] != y.shape[0]:
        _fail(path, f"{X.shape[0]} rows in X but {y.shape[0]} labels")
    if image_shape is not None:
        h, w = image_shape
        X = X.reshape(-1, w, h).transpose(0, 2, 1) if order == "F" else X.reshape(-1, h, w)
        X = X[:, None]
    return X, y.astype(np.int64)


def usps_all_mat(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """``usps_all``: (9298, 257) uint8, pixel columns 0..255 (16x16, row-major), label last (1..10)."""
    mat = _loadmat(path)
    if "usps_all" not in mat:
        _fail(path, "expected variable usps_all")
    table = np.asarray(mat["usps_all"])
    if table.ndim != 2 or table.shape[1] != 257:
        _fail(path, f"expected shape (N, 257), got {table.shape}")
    X = table[:, :256].reshape(-1, 1, 16, 16)
    _, y = np.unique(table[:, 256], return_inverse=True)
    return X, y.astype(np.int64)


def medmnist_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A MedMNIST .npz: train/val/test images and labels, concatenated in that order.

    2-D sets are (N, H, W) or (N, H, W, 3); 3-D sets (N, D, H, W) stay 3-D with one channel.
    """
    try:
        archive = np.load(path)
        xs = [archive[f"{split}_images"] for split in ("train", "val", "test")]
        ys = [archive[f"{split}_labels"] for split in ("train", "val", "test")]
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        _fail(path, f"not a MedMNIST archive ({error})")
    X = np.concatenate(xs)
    if X.ndim == 4 and X.shape[-1] == 3:
        X = X.transpose(0, 3, 1, 2)
    else:
        X = X[:, None]
    y = np.concatenate(ys).astype(np.int64).reshape(len(X), -1)
    if y.shape[1] != 1:
        _fail(path, f"expected one label per image, got {y.shape[1]}")
    return X, y[:, 0]


def coil100_zip(path: Path, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """Columbia COIL-100 zip: 7,200 PNGs ``obj{k}__{angle}.png`` (128x128 RGB), resized to ``size``."""
    from PIL import Image

    images, labels = [], []
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".png") and "/obj" in "/" + n]
            # obj{k}__{angle}: ordered by object, then angle (numerically)
            keys = {n: tuple(int(part) for part in Path(n).stem[3:].split("__")) for n in names}
            for name in sorted(names, key=keys.__getitem__):
                labels.append(keys[name][0] - 1)
                with Image.open(io.BytesIO(archive.read(name))) as image:
                    image = image.convert("RGB").resize((size, size), Image.BILINEAR)
                    images.append(np.asarray(image).transpose(2, 0, 1))
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        _fail(path, f"not the COIL-100 archive ({error})")
    if not images:
        _fail(path, "no obj*__*.png images inside")
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def image_folder(root: Path, classes: list[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Manually placed ImageNet subsets: ``root/{wnid}/*.JPEG``, resized to ``size`` x ``size`` RGB."""
    from PIL import Image

    images, labels = [], []
    for k, wnid in enumerate(classes):
        folder = root / wnid
        files = sorted(p for p in folder.glob("*") if p.suffix.lower() in {".jpeg", ".jpg", ".png"})
        if not files:
            _fail(root, f"class folder {wnid}/ is missing or empty")
        for file in files:
            with Image.open(file) as image:
                image = image.convert("RGB").resize((size, size), Image.BILINEAR)
                images.append(np.asarray(image).transpose(2, 0, 1))
            labels.append(k)
    return np.stack(images), np.asarray(labels, dtype=np.int64)
