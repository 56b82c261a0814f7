"""Writers of small files in the real upstream formats, for the dataset tests.

Every fake image carries a known pattern ``pattern(n, c, shape)`` so that a test
can check that a loader recovers the true (N, C, H, W) layout and orientation,
not only the shape. Labels are ``n % K`` in the file's own convention (1-based
where the upstream file is 1-based). ``fake_files(name)`` returns
``{file name: bytes}`` for a catalog entry, plus the expected N.
"""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
import zipfile

import numpy as np


def pattern(n: int, shape: tuple[int, ...]) -> np.ndarray:
    """A uint8 image (C, H, W) or (C, D, H, W) distinct per sample and asymmetric in every axis."""
    grids = np.meshgrid(*[np.arange(s) for s in shape], indexing="ij")
    value = 11 * n
    for axis, grid in enumerate(grids):
        value = value + (3 + 4 * axis) * grid * (axis + 1)
    return (value % 251).astype(np.uint8)


def images(n_samples: int, shape: tuple[int, ...]) -> np.ndarray:
    """(N, *shape) uint8 stack of :func:`pattern`."""
    return np.stack([pattern(n, shape) for n in range(n_samples)])


def labels(n_samples: int, k: int) -> np.ndarray:
    return (np.arange(n_samples) % k).astype(np.int64)


# ---------------------------------------------------------------- writers
def idx_bytes(array: np.ndarray) -> bytes:
    """An unsigned-byte IDX file (MNIST format), gzip-compressed."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return gzip.compress(header + array.tobytes(), mtime=0)


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    return buffer.getvalue()


def cifar10_tar(X: np.ndarray, y: np.ndarray, per_batch: int) -> bytes:
    """cifar-10-python.tar.gz: five data batches then test_batch (python pickles, 'data' N x 3072)."""
    members, start = {}, 0
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        stop = start + per_batch
        batch = {"batch_label": name, "labels": [int(v) for v in y[start:stop]],
                 "data": X[start:stop].reshape(-1, 3072), "filenames": [f"{i}.png" for i in range(start, stop)]}
        members[f"cifar-10-batches-py/{name}"] = pickle.dumps(batch, protocol=2)
        start = stop
    members["cifar-10-batches-py/batches.meta"] = pickle.dumps({"label_names": [str(i) for i in range(10)]})
    return _tar_gz(members)


def cifar100_tar(X: np.ndarray, coarse: np.ndarray, n_train: int, fine: np.ndarray | None = None) -> bytes:
    """cifar-100-python.tar.gz: 'train' and 'test' pickles with fine_labels and coarse_labels."""
    if fine is None:
        fine = coarse * 5 + np.arange(len(coarse)) % 5  # fine classes nest in their superclass
    fine = np.asarray(fine).tolist()
    members = {}
    for name, part in (("train", slice(0, n_train)), ("test", slice(n_train, None))):
        members[f"cifar-100-python/{name}"] = pickle.dumps(
            {"data": X[part].reshape(-1, 3072), "fine_labels": fine[part], "coarse_labels": coarse[part].tolist()},
            protocol=2)
    members["cifar-100-python/meta"] = pickle.dumps({"fine_label_names": [], "coarse_label_names": []})
    return _tar_gz(members)


def stl10_tar(X: np.ndarray, y: np.ndarray, n_train: int) -> bytes:
    """stl10_binary.tar.gz: {split}_X.bin (each channel stored column-major) and {split}_y.bin (1..10)."""
    members = {}
    for split, part in (("train", slice(0, n_train)), ("test", slice(n_train, None))):
        members[f"stl10_binary/{split}_X.bin"] = np.ascontiguousarray(X[part].transpose(0, 1, 3, 2)).tobytes()
        members[f"stl10_binary/{split}_y.bin"] = (y[part] + 1).astype(np.uint8).tobytes()
    return _tar_gz(members)


def mat_bytes(variables: dict[str, np.ndarray]) -> bytes:
    from scipy.io import savemat

    buffer = io.BytesIO()
    savemat(buffer, variables)
    return buffer.getvalue()


def svhn_mat(X: np.ndarray, y: np.ndarray) -> bytes:
    """{split}_32x32.mat: X (32, 32, 3, N) uint8, y (N, 1) in 1..10 with 10 for digit 0."""
    digits = np.where(y == 0, 10, y).astype(np.uint8)
    return mat_bytes({"X": np.ascontiguousarray(X.transpose(2, 3, 1, 0)), "y": digits[:, None]})


def xy_mat(X: np.ndarray, y: np.ndarray, dtype=np.uint8) -> bytes:
    """AdaGAE's X/Y .mat: X (N, H*W) with each image flattened column-major (MATLAB), Y (N, 1) in 1..K."""
    flat = np.stack([image[0].reshape(-1, order="F") for image in X]).astype(dtype)
    return mat_bytes({"X": flat, "Y": (y + 1).astype(np.uint8)[:, None]})


def usps_all_mat(X: np.ndarray, y: np.ndarray) -> bytes:
    """AnchorGAE's usps_all.mat: (N, 257) uint8, 16x16 pixels row-major then the label 1..10."""
    table = np.concatenate([X.reshape(len(X), 256), (y + 1)[:, None]], axis=1).astype(np.uint8)
    return mat_bytes({"usps_all": table})


def medmnist_npz(X: np.ndarray, y: np.ndarray, splits=(0.6, 0.2)) -> bytes:
    """A MedMNIST .npz: {train,val,test}_{images,labels}; images (N, H, W), (N, H, W, 3) or (N, D, H, W)."""
    if X.shape[1] == 3:  # RGB: channels last, as MedMNIST stores them
        stored = X.transpose(0, 2, 3, 1)
    else:
        stored = X[:, 0]
    n = len(X)
    cut1, cut2 = int(splits[0] * n), int((splits[0] + splits[1]) * n)
    parts = {"train": slice(0, cut1), "val": slice(cut1, cut2), "test": slice(cut2, None)}
    arrays = {}
    for split, part in parts.items():
        arrays[f"{split}_images"] = stored[part]
        arrays[f"{split}_labels"] = y[part].astype(np.uint8)[:, None]
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def png_bytes(image_chw: np.ndarray, fmt: str = "PNG") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image_chw.transpose(1, 2, 0))).save(buffer, format=fmt)
    return buffer.getvalue()


def coil100_zip(n_classes: int = 100, per_class: int = 1, size: int = 32) -> bytes:
    """coil-100.zip: coil-100/obj{k}__{angle}.png RGB images (here ``size`` px, so resizing is identity)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("coil-100/convertGroupppm2png.pl", "# not an image\n")
        for k in range(n_classes):
            for a in range(per_class):
                n = k * per_class + a
                archive.writestr(f"coil-100/obj{k + 1}__{5 * a}.png", png_bytes(pattern(n, (3, size, size))))
    return buffer.getvalue()


def image_folder(root, wnids, per_class: int = 2, size: int = 8, fmt: str = "JPEG") -> None:
    """A manual-placement folder ``root/{wnid}/{wnid}_{i}.JPEG``."""
    from pathlib import Path

    for k, wnid in enumerate(wnids):
        folder = Path(root) / wnid
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            (folder / f"{wnid}_{i}.{fmt}").write_bytes(png_bytes(pattern(k * per_class + i, (3, size, size)), fmt))


# ---------------------------------------------------------------- per catalog entry
def fake_files(name: str) -> tuple[dict[str, bytes], int, np.ndarray | None]:
    """Small upstream files for catalog entry ``name``: (files, N, expected raw X or None)."""
    if name in ("mnist", "mnist_test", "fmnist", "fmnist_test"):
        X, y = images(30, (1, 28, 28)), labels(30, 10)
        files = {"t10k-images-idx3-ubyte.gz": idx_bytes(X[20:, 0]), "t10k-labels-idx1-ubyte.gz": idx_bytes(y[20:])}
        if name.endswith("_test"):
            return files, 10, X[20:]
        files.update({"train-images-idx3-ubyte.gz": idx_bytes(X[:20, 0]),
                      "train-labels-idx1-ubyte.gz": idx_bytes(y[:20])})
        return files, 30, X
    if name in ("cifar10", "cifar10_train"):
        X, y = images(60, (3, 32, 32)), labels(60, 10)
        data = {"cifar-10-python.tar.gz": cifar10_tar(X, y, per_batch=10)}
        return (data, 60, X) if name == "cifar10" else (data, 50, X[:50])
    if name in ("cifar100_20", "cifar100_20_train"):
        X, y = images(60, (3, 32, 32)), labels(60, 20)
        data = {"cifar-100-python.tar.gz": cifar100_tar(X, y, n_train=40)}
        return (data, 60, X) if name == "cifar100_20" else (data, 40, X[:40])
    if name == "cifar100":
        X, fine = images(120, (3, 32, 32)), labels(120, 100)
        return {"cifar-100-python.tar.gz": cifar100_tar(X, fine // 5, n_train=100, fine=fine)}, 120, X
    if name == "stl10":
        X, y = images(20, (3, 96, 96)), labels(20, 10)
        return {"stl10_binary.tar.gz": stl10_tar(X, y, n_train=10)}, 20, X
    if name == "svhn":
        X, y = images(20, (3, 32, 32)), labels(20, 10)
        return {"train_32x32.mat": svhn_mat(X[:12], y[:12]), "test_32x32.mat": svhn_mat(X[12:], y[12:])}, 20, X
    medmnist = {"pneumoniamnist": ((1, 28, 28), 2), "breastmnist": ((1, 28, 28), 2),
                "bloodmnist": ((3, 28, 28), 8), "vesselmnist3d": ((1, 28, 28, 28), 2)}
    if name in medmnist:
        shape, k = medmnist[name]
        X, y = images(4 * k, shape), labels(4 * k, k)
        return {f"{name}.npz": medmnist_npz(X, y)}, 4 * k, X
    xy = {"coil20": ("COIL20.mat", 32, 20, np.uint8), "umist": ("UMIST.mat", 32, 20, np.uint8),
          "palm": ("Palm.mat", 16, 100, np.float64)}
    if name in xy:
        file, side, k, dtype = xy[name]
        X, y = images(2 * k, (1, side, side)), labels(2 * k, k)
        return {file: xy_mat(X, y, dtype)}, 2 * k, X
    if name == "usps":
        X, y = images(20, (1, 16, 16)), labels(20, 10)
        return {"usps_all.mat": usps_all_mat(X, y)}, 20, X
    if name == "coil100":
        return {"coil-100.zip": coil100_zip()}, 100, images(100, (3, 32, 32))
    raise KeyError(f"no fake files for {name!r}")


# ---------------------------------------------------------------- loopback HTTP server
class FakeServer:
    """An HTTP server on 127.0.0.1 (ephemeral port) serving ``files`` {path: bytes}.

    ``hits`` counts GET requests per path; ``modes[path]`` breaks a transfer:
    ``"short"`` announces a Content-Length larger than the body it sends and
    closes; ``"chunked"`` sends one chunk of a chunked body and closes.
    """

    def __init__(self):
        import collections
        import http.server
        import threading

        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                path = self.path.lstrip("/")
                server.hits[path] += 1
                if path not in server.files:
                    self.send_error(404)
                    return
                body, mode = server.files[path], server.modes.get(path)
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                if mode == "chunked":
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    self.wfile.write(b"%x\r\n" % 16 + body[:16] + b"\r\n")
                else:
                    extra = 1000 if mode == "short" else 0
                    self.send_header("Content-Length", str(len(body) + extra))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2] if mode == "short" else body)
                self.wfile.flush()
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.files: dict[str, bytes] = {}
        self.modes: dict[str, str] = {}
        self.hits = collections.Counter()
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}"

    def reset(self) -> None:
        self.files.clear()
        self.modes.clear()
        self.hits.clear()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
