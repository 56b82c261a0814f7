"""Parsers for the upstream file formats. Each returns ``(X, y)``.

X keeps the file's dtype (uint8 pixels stay uint8) in (N, C, H, W) layout for
images; y is int64 in 0..K-1. A file that does not have the expected layout
raises ``ValueError`` naming the file.

The suite downloads and verifies every upstream file itself (``download.py``:
the whole file's SHA-256 or MD5, the mirror first); the field's libraries then
parse the formats they define: torchvision for MNIST / Fashion-MNIST (IDX),
CIFAR-10, CIFAR-100 (fine labels), STL-10 and SVHN, medmnist for MedMNIST.
Their own per-member MD5 checks are switched off, since the archive they come
from is already verified (and tests feed small files in the same formats).
Hand-written readers remain where no library reads the exact file: CIFAR-100's
coarse (20-superclass) labels, which torchvision's ``CIFAR100`` does not load,
the AdaGAE / AnchorGAE ``.mat`` files, COIL-100 and the ImageNet subsets.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import pickle
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np


class FormatError(ValueError):
    """A file that does not have its format's layout; the message starts with the file's name."""


def _fail(path, message: str):
    raise FormatError(f"{Path(path).name}: {message}")


@contextlib.contextmanager
def _folder(path: Path, layout: dict[str, Path]):
    """A temporary root laid out as a library expects: ``{relative name: source file}`` as symlinks."""
    with tempfile.TemporaryDirectory(prefix="clusterbench-") as root:
        for name, source in layout.items():
            target = Path(root) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(Path(source).resolve(), target)
        yield root


def _extract(path: Path, members: list[str], folder: Path) -> None:
    """Copy the tar.gz members named ``members`` (base names) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "r:gz") as tar:
        names = {Path(m.name).name: m for m in tar.getmembers() if m.isfile()}
        for member in members:
            if member not in names:
                _fail(path, f"missing member {member}")
            with tar.extractfile(names[member]) as source, open(folder / member, "wb") as target:
                shutil.copyfileobj(source, target)


def _torchvision(name: str):
    """torchvision's dataset class ``name`` without its per-member MD5 checks (the suite verified the file)."""
    from torchvision import datasets

    base = getattr(datasets, name)
    return type(name, (base,), {"_check_integrity": lambda self: True, "_load_meta": lambda self: None})


def read_idx(path: Path) -> np.ndarray:
    """An unsigned-byte IDX file (MNIST / Fashion-MNIST), gzip-compressed or plain, parsed by torchvision."""
    from torchvision.datasets.mnist import read_sn3_pascalvincent_tensor

    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as error:
        _fail(path, f"not a readable IDX file ({error})")
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08 or not 1 <= data[3] <= 3:
        _fail(path, "not an unsigned-byte IDX file")
    with tempfile.NamedTemporaryFile(prefix="clusterbench-", suffix="-idx-ubyte") as plain:
        plain.write(data)
        plain.flush()
        try:
            return read_sn3_pascalvincent_tensor(plain.name, strict=True).numpy()
        except (AssertionError, RuntimeError, ValueError):
            dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=data[3], offset=4))
            _fail(path, f"IDX header says {dims} but the payload has {len(data) - 4 - 4 * data[3]} bytes")


def idx_pair(images: Path, labels: Path) -> tuple[np.ndarray, np.ndarray]:
    X = read_idx(images)
    y = read_idx(labels).astype(np.int64)
    if X.shape[0] != y.shape[0]:
        _fail(images, f"{X.shape[0]} images but {y.shape[0]} labels")
    return X[:, None, :, :], y


_CIFAR_ERRORS = (tarfile.TarError, EOFError, OSError, pickle.UnpicklingError, KeyError, RuntimeError, ValueError)


def _cifar_torchvision(path: Path, name: str, folder: str, train: list[str], test: list[str] | None):
    """CIFAR-10 / CIFAR-100 (fine labels) through torchvision: train then (optionally) test split."""
    try:
        with tempfile.TemporaryDirectory(prefix="clusterbench-") as root:
            _extract(path, train + (test or []), Path(root) / folder)
            cls = _torchvision(name)
            parts = [cls(root, train=True)] + ([cls(root, train=False)] if test else [])
            X = np.concatenate([p.data for p in parts]).transpose(0, 3, 1, 2)   # torchvision keeps HWC
            y = np.concatenate([np.asarray(p.targets, dtype=np.int64) for p in parts])
    except FormatError:
        raise
    except _CIFAR_ERRORS as error:
        _fail(path, f"not a CIFAR archive ({error})")
    return np.ascontiguousarray(X), y


def cifar10(path: Path, test: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10: the five training batches, then the test batch."""
    return _cifar_torchvision(path, "CIFAR10", "cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)],
                              ["test_batch"] if test else None)


def cifar100_fine(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-100 train + test with the 100 fine labels."""
    return _cifar_torchvision(path, "CIFAR100", "cifar-100-python", ["train"], ["test"])


def cifar_tar(path: Path, members: list[str], label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR python pickles inside the upstream tar.gz, concatenated in ``members`` order, labels under
    ``label_key``; for CIFAR-100's coarse labels, which torchvision's ``CIFAR100`` does not load."""
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
    except FormatError:
        raise
    except _CIFAR_ERRORS as error:
        _fail(path, f"not a CIFAR archive ({error})")
    return np.concatenate(xs), np.concatenate(ys)


def cifar100_20(path: Path, test: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-100 with the 20 superclasses: the coarse labels of the upstream files."""
    return cifar_tar(path, ["train", "test"] if test else ["train"], "coarse_labels")


def stl10_tar(path: Path, splits=("train", "test")) -> tuple[np.ndarray, np.ndarray]:
    """STL-10 binary archive through torchvision: labelled (N, 3, 96, 96) uint8, labels 1..10 -> 0..9.
    Only the labelled members are extracted (not the 2.6 GB ``unlabeled_X.bin``)."""
    try:
        with tempfile.TemporaryDirectory(prefix="clusterbench-") as root:
            _extract(path, [f"{s}_{p}.bin" for s in splits for p in ("X", "y")], Path(root) / "stl10_binary")
            cls = _torchvision("STL10")
            parts = [cls(root, split=split) for split in splits]
            X = np.concatenate([p.data for p in parts])
            y = np.concatenate([p.labels.astype(np.int64) for p in parts])
    except FormatError:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError, RuntimeError) as error:
        _fail(path, f"not an STL-10 archive ({error})")
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
    """SVHN cropped digits through torchvision: ``{split}_32x32.mat`` files, label 10 is digit 0."""
    xs, ys = [], []
    for path in paths:
        try:  # torchvision's split only names the file it opens
            with _folder(path, {"train_32x32.mat": path}) as root:
                part = _torchvision("SVHN")(root, split="train")
        except Exception as error:  # scipy raises several types for a bad file
            _fail(path, f"not an SVHN file ({type(error).__name__}: {error})")
        xs.append(part.data)
        ys.append(part.labels.astype(np.int64))
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
    """A MedMNIST ``{flag}.npz`` through medmnist: train/val/test images and labels, concatenated in that order.

    2-D sets are (N, H, W) or (N, H, W, 3); 3-D sets (N, D, H, W) stay 3-D with one channel.
    """
    import medmnist

    flag = Path(path).name.removesuffix(".npz")
    if flag not in medmnist.INFO:
        _fail(path, f"not a MedMNIST file name (known: {', '.join(sorted(medmnist.INFO))})")
    cls = getattr(medmnist, medmnist.INFO[flag]["python_class"])
    try:
        with _folder(path, {f"{flag}.npz": path}) as root:
            parts = [cls(split=split, root=root) for split in ("train", "val", "test")]
            xs, ys = [np.asarray(p.imgs) for p in parts], [np.asarray(p.labels) for p in parts]
    except FormatError:
        raise
    except (OSError, KeyError, ValueError, RuntimeError, zipfile.BadZipFile) as error:
        _fail(path, f"not a MedMNIST archive ({error})")
    X = np.concatenate(xs)
    if X.ndim == 4 and X.shape[-1] == 3:
        X = X.transpose(0, 3, 1, 2)
    else:
        X = X[:, None]
    y = np.concatenate(ys).astype(np.int64).reshape(len(X), -1)
    if y.shape[1] != 1:
        _fail(path, f"expected one label per image, got {y.shape[1]}")
    return np.ascontiguousarray(X), y[:, 0]


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
