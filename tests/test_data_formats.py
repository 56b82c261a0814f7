"""The upstream-format parsers: layouts on hand-built files, and a ValueError naming the file for bad input."""

from __future__ import annotations

import gzip
import io
import tarfile

import numpy as np
import pytest

from clusterbench.data import DATASETS, formats

import data_fakes


def write(tmp_path, name, payload: bytes):
    path = tmp_path / name
    path.write_bytes(payload)
    return path


def test_idx_round_trip_and_bad_headers(tmp_path):
    X = data_fakes.images(3, (1, 28, 28))[:, 0]
    np.testing.assert_array_equal(formats.read_idx(write(tmp_path, "ok-idx3-ubyte.gz", data_fakes.idx_bytes(X))), X)
    plain = gzip.decompress(data_fakes.idx_bytes(X))
    np.testing.assert_array_equal(formats.read_idx(write(tmp_path, "plain-idx3-ubyte", plain)), X)
    with pytest.raises(ValueError, match=r"short-idx3-ubyte\.gz: IDX header says \(3, 28, 28\)"):
        formats.read_idx(write(tmp_path, "short-idx3-ubyte.gz", gzip.compress(plain[:-5])))
    with pytest.raises(ValueError, match=r"float-idx3-ubyte\.gz: not an unsigned-byte IDX file"):
        formats.read_idx(write(tmp_path, "float-idx3-ubyte.gz", gzip.compress(b"\x00\x00\x0d\x01" + plain[4:])))
    with pytest.raises(ValueError, match=r"html-idx3-ubyte\.gz: not a readable IDX file"):
        formats.read_idx(write(tmp_path, "html-idx3-ubyte.gz", b"<html>not found</html>"))


def test_idx_pair_count_mismatch(tmp_path):
    images = write(tmp_path, "i.gz", data_fakes.idx_bytes(data_fakes.images(3, (1, 4, 4))[:, 0]))
    labels = write(tmp_path, "l.gz", data_fakes.idx_bytes(np.arange(2)))
    with pytest.raises(ValueError, match=r"i\.gz: 3 images but 2 labels"):
        formats.idx_pair(images, labels)


def test_cifar_archives(tmp_path):
    X, y = data_fakes.images(12, (3, 32, 32)), data_fakes.labels(12, 10)
    path = write(tmp_path, "cifar-10-python.tar.gz", data_fakes.cifar10_tar(X, y, per_batch=2))
    Xa, ya = formats.cifar10(path)
    np.testing.assert_array_equal(Xa, X)
    np.testing.assert_array_equal(ya, y)
    Xt, yt = formats.cifar10(path, test=False)
    np.testing.assert_array_equal(Xt, X[:10])
    coarse = data_fakes.labels(12, 20)
    path = write(tmp_path, "cifar-100-python.tar.gz", data_fakes.cifar100_tar(X, coarse, n_train=8))
    np.testing.assert_array_equal(formats.cifar100_20(path)[1], coarse)  # the coarse, not the fine, labels
    np.testing.assert_array_equal(formats.cifar100_20(path, test=False)[0], X[:8])


def test_cifar_missing_member_and_garbage(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    path = write(tmp_path, "cifar-10-python.tar.gz", buffer.getvalue())
    with pytest.raises(ValueError, match=r"cifar-10-python\.tar\.gz: missing member data_batch_2"):
        formats.cifar10(path)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:  # every member present, none a pickle
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = 3
            tar.addfile(info, io.BytesIO(b"abc"))
    path = write(tmp_path, "cifar-10-python.tar.gz", buffer.getvalue())
    with pytest.raises(ValueError, match=r"cifar-10-python\.tar\.gz: not a CIFAR archive"):
        formats.cifar10(path)
    path = write(tmp_path, "cifar-100-python.tar.gz", b"garbage")
    with pytest.raises(ValueError, match=r"cifar-100-python\.tar\.gz: not a CIFAR archive"):
        formats.cifar100_20(path)


def test_stl10_is_column_major(tmp_path):
    X, y = data_fakes.images(4, (3, 96, 96)), data_fakes.labels(4, 10)
    Xs, ys = formats.stl10_tar(write(tmp_path, "stl10_binary.tar.gz", data_fakes.stl10_tar(X, y, n_train=2)))
    np.testing.assert_array_equal(Xs, X)
    np.testing.assert_array_equal(ys, y)  # 1..10 in the file


def test_svhn_label_ten_is_digit_zero(tmp_path):
    X, y = data_fakes.images(10, (3, 32, 32)), np.arange(10)
    Xs, ys = formats.svhn_mat(write(tmp_path, "train_32x32.mat", data_fakes.svhn_mat(X, y)))
    np.testing.assert_array_equal(Xs, X)
    np.testing.assert_array_equal(ys, y)
    with pytest.raises(ValueError, match=r"test_32x32\.mat: not an SVHN file"):
        formats.svhn_mat(write(tmp_path, "test_32x32.mat", b"<html>404</html>"))


def test_the_libraries_parse_their_formats(tmp_path, monkeypatch):
    """torchvision and medmnist do the parsing (not a hand-written copy): their readers are called."""
    import medmnist
    import torchvision.datasets.mnist as tv_mnist

    calls = []
    real = tv_mnist.read_sn3_pascalvincent_tensor
    monkeypatch.setattr(tv_mnist, "read_sn3_pascalvincent_tensor", lambda *a, **k: calls.append("idx") or real(*a, **k))
    formats.read_idx(write(tmp_path, "i.gz", data_fakes.idx_bytes(data_fakes.images(2, (1, 4, 4))[:, 0])))
    real_init = medmnist.BloodMNIST.__init__
    monkeypatch.setattr(medmnist.BloodMNIST, "__init__",
                        lambda self, *a, **k: calls.append("medmnist") or real_init(self, *a, **k))
    X = data_fakes.images(10, (3, 28, 28))
    formats.medmnist_npz(write(tmp_path, "bloodmnist.npz", data_fakes.medmnist_npz(X, data_fakes.labels(10, 8))))
    assert calls == ["idx", "medmnist", "medmnist", "medmnist"]
    import torchvision.datasets

    for name in ("CIFAR10", "CIFAR100", "STL10", "SVHN"):
        assert issubclass(formats._torchvision(name), getattr(torchvision.datasets, name))


def test_xy_mat_column_major_images_and_labels(tmp_path):
    X, y = data_fakes.images(6, (1, 32, 32)), data_fakes.labels(6, 3)
    path = write(tmp_path, "UMIST.mat", data_fakes.xy_mat(X, y))
    Xm, ym = formats.xy_mat(path, (32, 32))
    np.testing.assert_array_equal(Xm, X)
    np.testing.assert_array_equal(ym, y)
    assert formats.xy_mat(path, None)[0].shape == (6, 1024)
    with pytest.raises(ValueError, match=r"bad\.mat: expected variables X and Y"):
        formats.xy_mat(write(tmp_path, "bad.mat", data_fakes.mat_bytes({"fea": np.zeros((2, 4))})), None)
    with pytest.raises(ValueError, match=r"junk\.mat: not a readable MATLAB file"):
        formats.xy_mat(write(tmp_path, "junk.mat", b"<html>404</html>"), None)


def test_usps_all_layout(tmp_path):
    X, y = data_fakes.images(10, (1, 16, 16)), np.arange(10)
    Xu, yu = formats.usps_all_mat(write(tmp_path, "usps_all.mat", data_fakes.usps_all_mat(X, y)))
    np.testing.assert_array_equal(Xu, X)
    np.testing.assert_array_equal(yu, y)
    with pytest.raises(ValueError, match=r"usps_all\.mat: expected shape \(N, 257\)"):
        formats.usps_all_mat(write(tmp_path, "usps_all.mat", data_fakes.mat_bytes({"usps_all": np.zeros((3, 256))})))


@pytest.mark.parametrize("flag,shape", [("pneumoniamnist", (1, 28, 28)), ("bloodmnist", (3, 28, 28)),
                                        ("vesselmnist3d", (1, 28, 28, 28))])
def test_medmnist_grey_rgb_and_3d(flag, shape, tmp_path):
    X, y = data_fakes.images(10, shape), data_fakes.labels(10, 2)
    Xm, ym = formats.medmnist_npz(write(tmp_path, f"{flag}.npz", data_fakes.medmnist_npz(X, y)))
    np.testing.assert_array_equal(Xm, X)
    np.testing.assert_array_equal(ym, y)


def test_medmnist_rejects_multilabel_and_garbage(tmp_path):
    arrays = {f"{s}_images": np.zeros((2, 28, 28), np.uint8) for s in ("train", "val", "test")}
    arrays.update({f"{s}_labels": np.zeros((2, 14), np.uint8) for s in ("train", "val", "test")})
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with pytest.raises(ValueError, match=r"chestmnist\.npz: expected one label per image, got 14"):
        formats.medmnist_npz(write(tmp_path, "chestmnist.npz", buffer.getvalue()))
    with pytest.raises(ValueError, match=r"bloodmnist\.npz: not a MedMNIST archive"):
        formats.medmnist_npz(write(tmp_path, "bloodmnist.npz", b"PK\x03\x04 truncated"))
    with pytest.raises(ValueError, match=r"x\.npz: not a MedMNIST file name"):
        formats.medmnist_npz(write(tmp_path, "x.npz", b""))


def test_coil100_order_and_resize(tmp_path):
    path = write(tmp_path, "coil-100.zip", data_fakes.coil100_zip(n_classes=12, per_class=3, size=64))
    X, y = formats.coil100_zip(path, 32)
    assert X.shape == (36, 3, 32, 32) and X.dtype == np.uint8
    np.testing.assert_array_equal(y, np.repeat(np.arange(12), 3))  # obj1, obj2, ..., obj10 (not obj1, obj10, ...)
    empty = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("readme.txt", "no images")
    with pytest.raises(ValueError, match=r"coil-100\.zip: no obj\*__\*\.png images inside"):
        formats.coil100_zip(write(tmp_path, "coil-100.zip", empty.getvalue()))


def test_every_registered_dataset_is_complete():
    """Each registry entry carries its source, files, checksums or a stated reason, N, shape, K, citation."""
    for name, spec in DATASETS.items():
        assert spec.name == name and spec.n_samples > 0 and spec.n_classes >= 2 and spec.citation, name
        assert spec.source in {"embedded", "torchvision", "medmnist", "url", "manual"}, name
        if spec.source in ("torchvision", "medmnist", "url"):
            assert spec.files, name
            for remote in spec.files:
                assert remote.urls and all(u.startswith(("http://", "https://")) for u in remote.urls), name
                assert remote.hash_source, name
                if remote.sha256:
                    assert len(remote.sha256) == 64 and int(remote.sha256, 16) >= 0, name
                elif remote.md5:
                    assert len(remote.md5) == 32 and int(remote.md5, 16) >= 0, name
                else:
                    assert "no" in remote.hash_source and spec.notes, name  # says why there is none
        if spec.source == "manual":
            assert "{folder}" in spec.manual, name
    assert DATASETS["cifar10_train"].n_samples == 50000 and DATASETS["cifar100_20_train"].n_classes == 20


@pytest.mark.slow
def test_checksums_are_the_ones_upstream_libraries_publish():
    """Every md5 in the catalog is the one torchvision's or medmnist's resource list publishes (imports torch)."""
    tv = pytest.importorskip("torchvision.datasets")
    info = pytest.importorskip("medmnist.info")
    published = {name: md5 for name, md5 in tv.MNIST.resources}
    fashion = {name: md5 for name, md5 in tv.FashionMNIST.resources}
    published.update({"cifar-10-python.tar.gz": tv.CIFAR10.tgz_md5, "cifar-100-python.tar.gz": tv.CIFAR100.tgz_md5,
                      "stl10_binary.tar.gz": tv.STL10.tgz_md5})
    published.update({file: md5 for _, file, md5 in tv.SVHN.split_list.values()})
    for name, spec in DATASETS.items():
        for remote in spec.files:
            if spec.source == "torchvision":
                table = fashion if name.startswith("fmnist") else published
                assert remote.md5 == table[remote.name], (name, remote.name)
            elif spec.source == "medmnist":
                entry = info.INFO[name]
                assert remote.md5 == entry["MD5"] and spec.n_samples == sum(entry["n_samples"].values()), name
