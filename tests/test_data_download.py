"""Every downloadable loader against a loopback HTTP server serving small files in the real formats.

The catalog entries are replaced (``dataclasses.replace``) by copies whose
RemoteFiles point at the server and carry hashes of the fake files, keeping each
entry's own ``build`` function and hash algorithm.
"""

from __future__ import annotations

import hashlib
import re
import socket
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import clusterbench.data as data
from clusterbench.data import DATASETS, ChecksumError, DatasetUnavailable, load_dataset, prepare
from clusterbench.data.catalog import IMAGENET10_WNIDS, IMAGENET_DOGS15_WNIDS

import data_fakes

DOWNLOADED = [name for name, spec in DATASETS.items() if spec.source not in ("embedded", "manual")]


@pytest.fixture(scope="module")
def server():
    fake = data_fakes.FakeServer()
    yield fake
    fake.close()


@pytest.fixture
def http(server):
    server.reset()
    return server


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    home = tmp_path / "data"
    monkeypatch.setenv("CLUSTERBENCH_DATA", str(home))
    monkeypatch.delenv("CLUSTERBENCH_MIRROR", raising=False)
    return home


def _hashes(remote, payload: bytes) -> dict:
    """The fake file's hash in the algorithm the real entry uses (none for COIL-100)."""
    return {"sha256": hashlib.sha256(payload).hexdigest() if remote.sha256 else None,
            "md5": hashlib.md5(payload).hexdigest() if remote.md5 else None}


def use_fakes(monkeypatch, server, name, *, serve=True, **overrides):
    """Point catalog entry ``name`` at the server; returns (spec, files, N, expected raw X)."""
    files, n, expected = data_fakes.fake_files(name)
    spec = DATASETS[name]
    remotes = []
    for remote in spec.files:
        path = f"upstream/{name}/{remote.name}"
        if serve:
            server.files[path] = files[remote.name]
        remotes.append(replace(remote, urls=(server.url(path),), **_hashes(remote, files[remote.name])))
    patched = replace(spec, files=tuple(remotes), n_samples=n, **overrides)
    monkeypatch.setitem(DATASETS, name, patched)
    return patched, files, n, expected


def leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


# ---------------------------------------------------------------- success, every loader
@pytest.mark.parametrize("name", DOWNLOADED)
def test_every_loader_reads_the_real_format(name, http, monkeypatch, cache):
    spec, files, n, expected = use_fakes(monkeypatch, http, name)
    ds = load_dataset(name)
    assert ds.X.shape == (n, *spec.shape) and ds.X.dtype == np.float32
    assert ds.y.dtype == np.int64 and ds.y.shape == (n,)
    assert ds.y.min() == 0 and ds.y.max() == spec.n_classes - 1 and np.unique(ds.y).size == spec.n_classes
    assert ds.n_classes == spec.n_classes and 0.0 <= ds.X.min() and ds.X.max() <= 1.0
    # layout and orientation: each image equals the pattern written into the upstream file
    np.testing.assert_allclose(ds.X, data._to_float(expected, spec.scale), atol=1e-6)
    np.testing.assert_array_equal(ds.y, data_fakes.labels(len(expected), spec.n_classes)[:n])
    assert leftovers(cache) == sorted([f"processed/{name}.npz"] + [f"raw/{name}/{f}" for f in files])
    assert all(http.hits[f"upstream/{name}/{f}"] == 1 for f in files)


def test_conversion_happens_once(http, monkeypatch, cache):
    spec, files, n, _ = use_fakes(monkeypatch, http, "cifar10")
    first = load_dataset("cifar10")
    hits = sum(http.hits.values())
    assert hits == 1
    stamp = (cache / "processed" / "cifar10.npz").stat().st_mtime_ns
    second = load_dataset("cifar10")
    assert sum(http.hits.values()) == hits  # no second fetch
    assert (cache / "processed" / "cifar10.npz").stat().st_mtime_ns == stamp  # no second conversion
    np.testing.assert_array_equal(first.X, second.X)
    # the processed .npz alone is enough: the raw archive is not read again
    (cache / "raw" / "cifar10" / "cifar-10-python.tar.gz").unlink()
    np.testing.assert_array_equal(load_dataset("cifar10").y, first.y)
    assert sum(http.hits.values()) == hits


# ---------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("name, algorithm", [("mnist_test", "md5"), ("umist", "sha256")])
def test_wrong_checksum_names_file_and_hashes_and_removes_the_copy(name, algorithm, http, monkeypatch, cache):
    spec, files, _, _ = use_fakes(monkeypatch, http, name)
    remote = spec.files[0]
    wrong = "0" * len(getattr(remote, algorithm))
    monkeypatch.setitem(DATASETS, name, replace(spec, files=(replace(remote, **{algorithm: wrong}),) + spec.files[1:]))
    with pytest.raises(ChecksumError) as info:
        load_dataset(name)
    message = str(info.value)
    actual = hashlib.new(algorithm, files[remote.name]).hexdigest()
    assert remote.name in message and wrong in message and actual in message and algorithm in message
    assert "removed" in message
    assert leftovers(cache) == []  # bad copy removed, no .part, nothing in processed/


def test_corrupt_cached_copy_is_detected_and_replaced(http, monkeypatch, cache, capsys):
    spec, files, _, _ = use_fakes(monkeypatch, http, "umist")
    bad = cache / "raw" / "umist" / "UMIST.mat"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(files["UMIST.mat"][:-10] + b"0123456789")
    assert load_dataset("umist").n_samples == 40  # the bad copy is removed and a good one fetched
    assert re.search(r"UMIST\.mat.*sha256 mismatch.*" + spec.files[0].sha256, capsys.readouterr().err)
    assert bad.read_bytes() == files["UMIST.mat"]


@pytest.mark.parametrize("mode", ["short", "chunked"])
def test_truncated_transfer_leaves_nothing(mode, http, monkeypatch, cache):
    spec, files, _, _ = use_fakes(monkeypatch, http, "coil20")
    path = f"upstream/coil20/{spec.files[0].name}"
    http.modes[path] = mode
    with pytest.raises(DatasetUnavailable) as info:
        load_dataset("coil20")
    assert "COIL20.mat" in str(info.value) and http.url(path) in str(info.value)
    if mode == "short":
        assert "truncated transfer" in str(info.value)
    assert leftovers(cache) == []
    del http.modes[path]
    assert load_dataset("coil20").n_samples == 40


def test_truncated_transfer_falls_back_to_the_next_url(http, monkeypatch, cache):
    spec, files, _, _ = use_fakes(monkeypatch, http, "usps")
    remote = spec.files[0]
    http.files["broken/usps_all.mat"] = files["usps_all.mat"]
    http.modes["broken/usps_all.mat"] = "short"
    monkeypatch.setitem(DATASETS, "usps", replace(spec, files=(replace(
        remote, urls=(http.url("broken/usps_all.mat"),) + remote.urls),)))
    assert load_dataset("usps").n_samples == 20
    assert http.hits["broken/usps_all.mat"] == 1 and http.hits["upstream/usps/usps_all.mat"] == 1
    assert not list(cache.rglob("*.part"))


def test_interrupted_transfer_leaves_no_part(http, monkeypatch, cache):
    """A crash (here KeyboardInterrupt) in the middle of a transfer removes the .part file."""
    import clusterbench.data.download as download

    use_fakes(monkeypatch, http, "umist")

    def copy_then_crash(url, part):
        part.write_bytes(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(download, "_copy_url", copy_then_crash)
    with pytest.raises(KeyboardInterrupt):
        load_dataset("umist")
    assert leftovers(cache) == []


def test_unparsable_file_without_checksum_names_the_file(http, monkeypatch, cache):
    """COIL-100 has no published hash: a copy with the right name but the wrong format fails its format check."""
    spec, files, _, _ = use_fakes(monkeypatch, http, "coil100", serve=False)
    assert not (spec.files[0].sha256 or spec.files[0].md5)
    http.files["upstream/coil100/coil-100.zip"] = b"<html>moved</html>" * 100
    with pytest.raises(ValueError, match=r"coil-100\.zip: not the COIL-100 archive") as info:
        load_dataset("coil100")
    assert "removed" in str(info.value)
    assert leftovers(cache) == []  # the unverified copy is gone, nothing in processed/
    http.files["upstream/coil100/coil-100.zip"] = files["coil-100.zip"]
    assert load_dataset("coil100").n_classes == 100


# ---------------------------------------------------------------- mirror
def _mirror_folder(root: Path, name: str, files: dict[str, bytes], nested: bool) -> Path:
    folder = root / name if nested else root
    folder.mkdir(parents=True, exist_ok=True)
    for file, payload in files.items():
        (folder / file).write_bytes(payload)
    return root


@pytest.mark.parametrize("nested", [True, False])
@pytest.mark.parametrize("via", ["env", "argument"])
def test_mirror_local_folder(via, nested, http, monkeypatch, tmp_path, cache):
    _, files, n, _ = use_fakes(monkeypatch, http, "fmnist_test", serve=False)  # upstream would 404
    mirror = _mirror_folder(tmp_path / "mirror", "fmnist_test", files, nested)
    if via == "env":
        monkeypatch.setenv("CLUSTERBENCH_MIRROR", str(mirror))
        ds = load_dataset("fmnist_test")
    else:
        ds = load_dataset("fmnist_test", mirror=str(mirror))
    assert ds.n_samples == n and sum(http.hits.values()) == 0
    assert sorted(p.name for p in (cache / "raw" / "fmnist_test").iterdir()) == sorted(files)


@pytest.mark.parametrize("via", ["env", "argument"])
def test_mirror_base_url(via, http, monkeypatch, cache):
    _, files, n, _ = use_fakes(monkeypatch, http, "svhn", serve=False)
    for file, payload in files.items():
        http.files[f"mirror/svhn/{file}"] = payload
    base = http.url("mirror")
    if via == "env":
        monkeypatch.setenv("CLUSTERBENCH_MIRROR", base + "/")
        ds = load_dataset("svhn")
    else:
        ds = load_dataset("svhn", mirror=base)
    assert ds.n_samples == n
    assert {p: c for p, c in http.hits.items() if c} == {f"mirror/svhn/{f}": 1 for f in files}


def test_mirror_with_a_bad_copy_falls_back_to_the_upstream_url(http, monkeypatch, tmp_path, cache, capsys):
    """Issue 16.14: a corrupt mirror copy is reported and the next source (the upstream URL) is tried."""
    _, files, n, _ = use_fakes(monkeypatch, http, "palm")
    mirror = _mirror_folder(tmp_path / "mirror", "palm", {"Palm.mat": b"not the palm file"}, nested=False)
    assert load_dataset("palm", mirror=str(mirror)).n_samples == n
    assert re.search(r"Palm\.mat from .*mirror.*sha256 mismatch", capsys.readouterr().err)
    assert sum(http.hits.values()) == 1
    assert (mirror / "Palm.mat").exists()  # the mirror itself is never touched


def test_mirror_with_a_bad_copy_and_no_other_source_is_a_checksum_error(http, monkeypatch, tmp_path, cache):
    use_fakes(monkeypatch, http, "palm", serve=False)  # upstream 404
    mirror = _mirror_folder(tmp_path / "mirror", "palm", {"Palm.mat": b"not the palm file"}, nested=False)
    with pytest.raises(ChecksumError, match=r"Palm\.mat from .*mirror.*sha256 mismatch") as info:
        load_dataset("palm", mirror=str(mirror))
    assert isinstance(info.value, DatasetUnavailable)  # without strict: the dataset renders as unavailable
    assert (mirror / "Palm.mat").exists()
    assert leftovers(cache) == []


def test_mirror_with_a_bad_copy_is_unavailable_without_strict(http, monkeypatch, tmp_path, cache):
    """strict=false: a run gets 'unavailable' records naming the bad copy, not a crash."""
    from clusterbench.framework.runner import run_seeds

    use_fakes(monkeypatch, http, "palm", serve=False)
    mirror = _mirror_folder(tmp_path / "mirror", "palm", {"Palm.mat": b"not the palm file"}, nested=False)
    records = run_seeds("kmeans", "palm", [0], profile="paper", out=tmp_path / "runs", mirror=str(mirror),
                        log=lambda *a: None)
    assert records[0]["status"] == "unavailable" and "sha256 mismatch" in records[0]["reason"]


# ---------------------------------------------------------------- offline
def test_offline_without_file_says_what_where_and_where_to_put_it(cache):
    """The real catalog entry, downloads disabled, no mirror: one clear message."""
    with pytest.raises(DatasetUnavailable) as info:
        load_dataset("umist", download=False)
    message = str(info.value)
    assert "UMIST.mat" in message
    assert "https://raw.githubusercontent.com/hyzhang98/AdaGAE/main/data/UMIST.mat" in message
    assert str(cache / "raw" / "umist") in message and "CLUSTERBENCH_MIRROR" in message
    assert DATASETS["umist"].files[0].sha256 in message
    assert leftovers(cache) == []


def test_offline_unreachable_host(monkeypatch, cache):
    """No network: the upstream URL refuses the connection (a closed loopback port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/stl10_binary.tar.gz"
    spec = DATASETS["stl10"]
    monkeypatch.setitem(DATASETS, "stl10", replace(spec, files=(replace(spec.files[0], urls=(dead,)),)))
    with pytest.raises(DatasetUnavailable, match=r"cannot obtain stl10_binary\.tar\.gz.*Download it from " + dead):
        prepare("stl10")
    assert leftovers(cache) == []


def test_offline_with_a_mirror_that_lacks_the_file(tmp_path, cache):
    (tmp_path / "mirror").mkdir()
    with pytest.raises(DatasetUnavailable) as info:
        load_dataset("coil20", mirror=str(tmp_path / "mirror"), download=False)
    assert str(tmp_path / "mirror" / "COIL20.mat") + ": not found" in str(info.value)


# ---------------------------------------------------------------- manual placement
@pytest.mark.parametrize("name, wnids", [("imagenet10", IMAGENET10_WNIDS), ("imagenet_dogs15", IMAGENET_DOGS15_WNIDS)])
def test_manual_placement_loads(name, wnids, cache):
    data_fakes.image_folder(cache / "manual" / name, wnids, per_class=2)
    ds = load_dataset(name)
    assert ds.X.shape == (2 * len(wnids), 3, 96, 96) and ds.X.dtype == np.float32
    np.testing.assert_array_equal(ds.y, np.repeat(np.arange(len(wnids)), 2))  # classes in the catalog's order


def test_manual_placement_png_keeps_orientation(cache):
    data_fakes.image_folder(cache / "manual" / "imagenet10", IMAGENET10_WNIDS, per_class=1, size=96, fmt="png")
    ds = load_dataset("imagenet10")
    np.testing.assert_allclose(ds.X * 255, data_fakes.images(10, (3, 96, 96)), atol=1e-3)


def test_manual_placement_through_the_mirror(tmp_path, cache):
    data_fakes.image_folder(tmp_path / "mirror" / "imagenet10", IMAGENET10_WNIDS, per_class=1)
    assert load_dataset("imagenet10", mirror=str(tmp_path / "mirror")).n_samples == 10


def test_tiny_imagenet_placement(cache):
    root = cache / "manual" / "tiny_imagenet" / "train"
    for k in range(200):
        data_fakes.image_folder(root / f"n{k:08d}", ["images"], per_class=1, size=4)
    ds = load_dataset("tiny_imagenet")
    assert ds.X.shape == (200, 3, 64, 64) and ds.n_classes == 200 and np.unique(ds.y).size == 200


@pytest.mark.parametrize("name, wnids", [("imagenet10", IMAGENET10_WNIDS), ("imagenet_dogs15", IMAGENET_DOGS15_WNIDS)])
def test_manual_missing_gives_instructions(name, wnids, cache):
    with pytest.raises(DatasetUnavailable) as info:
        load_dataset(name)
    message = str(info.value)
    assert "manual placement" in message and str(cache / "manual" / name) in message
    assert all(wnid in message for wnid in wnids) and "ILSVRC" in message
    assert leftovers(cache) == []


def test_manual_placement_with_a_missing_class_names_it(cache):
    data_fakes.image_folder(cache / "manual" / "imagenet10", IMAGENET10_WNIDS[:-1], per_class=1)
    with pytest.raises(ValueError, match=f"class folder {IMAGENET10_WNIDS[-1]}/ is missing"):
        load_dataset("imagenet10")
    assert not (cache / "processed").exists()


def test_concurrent_fetches_of_one_file_both_succeed(http, monkeypatch, cache):
    """Two runs that start at once (e.g. AHCL and its MSE ablation) fetch the same raw file side by side:
    each writes its own part file, so neither finds its copy renamed away by the other."""
    import threading

    import clusterbench.data.download as download

    spec, _, _, _ = use_fakes(monkeypatch, http, "usps")
    barrier = threading.Barrier(2)
    real_copy = download._copy_url

    def copy_in_step(url, part):
        real_copy(url, part)
        barrier.wait(timeout=10)            # both copies written before either renames

    monkeypatch.setattr(download, "_copy_url", copy_in_step)
    results, errors = [], []

    def fetch():
        try:
            results.append(download.fetch(spec.files[0], "usps", cache=cache))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(results) == 2 and results[0] == results[1]
    assert not list(cache.rglob("*.part"))
    assert load_dataset("usps").n_samples == 20
