"""Real data through the shared offline mirror (../shared/datasets); skipped when it is absent.

Checks the published sha256, N / shape / K, that the images come out upright
(checks that a transposed or scrambled reshape fails), and that k-means on UMIST through
the CLI lands near AHCL's published K-Means accuracy.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from clusterbench.data import DATASETS, load_dataset

ROOT = Path(__file__).resolve().parents[1]


def _find_mirror() -> Path | None:
    for candidate in (os.environ.get("CLUSTERBENCH_MIRROR"), "/work/shared/datasets", ROOT.parent / "shared" / "datasets"):
        if candidate and Path(candidate).is_dir() and (Path(candidate) / "UMIST.mat").is_file():
            return Path(candidate)
    return None


MIRROR = _find_mirror()
pytestmark = pytest.mark.skipif(MIRROR is None, reason="shared dataset mirror (../shared/datasets) not present")

REAL = {  # name: (N, shape, K), as the mirror's README lists them
    "coil20": (1440, (1, 32, 32), 20),
    "umist": (575, (1, 32, 32), 20),
    "palm": (2000, (1, 16, 16), 100),
    "usps": (9298, (1, 16, 16), 10),
}


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("mirror-cache")


@pytest.fixture(autouse=True)
def environment(cache, monkeypatch):
    monkeypatch.setenv("CLUSTERBENCH_DATA", str(cache))
    monkeypatch.setenv("CLUSTERBENCH_MIRROR", str(MIRROR))


@pytest.fixture(scope="module")
def loaded(cache):
    """Each real set loaded once (offline: downloads disabled) for the module."""
    previous = {k: os.environ.get(k) for k in ("CLUSTERBENCH_DATA", "CLUSTERBENCH_MIRROR")}
    os.environ["CLUSTERBENCH_DATA"], os.environ["CLUSTERBENCH_MIRROR"] = str(cache), str(MIRROR)
    try:
        return {name: load_dataset(name, download=False) for name in REAL}
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_set_loads_with_verified_sha256(name, loaded, cache):
    n, shape, k = REAL[name]
    ds = loaded[name]
    spec = DATASETS[name]
    assert (ds.n_samples, ds.X.shape[1:], ds.n_classes) == (n, shape, k) == (spec.n_samples, spec.shape, spec.n_classes)
    assert ds.X.dtype == np.float32 and 0.0 <= ds.X.min() < 0.05 and 0.9 < ds.X.max() <= 1.0
    if spec.scale == "uint8":  # pixels / 255
        np.testing.assert_allclose(ds.X * 255, np.round(ds.X * 255), atol=1e-3)
    else:  # Palm's float pixels, min-max scaled
        assert (ds.X.min(), ds.X.max()) == (0.0, 1.0)
    np.testing.assert_array_equal(np.unique(ds.y), np.arange(k))
    raw = cache / "raw" / name / spec.files[0].name
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    assert digest == spec.files[0].sha256 == hashlib.sha256((MIRROR / raw.name).read_bytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(REAL))
def test_real_images_are_images(name, loaded):
    """Neighbouring pixels agree far more than random pixel pairs: the reshape keeps pixels together."""
    X = loaded[name].X[:, 0].astype(np.float64)
    horizontal = np.abs(np.diff(X, axis=2)).mean()
    vertical = np.abs(np.diff(X, axis=1)).mean()
    rng = np.random.default_rng(0)
    flat = X.reshape(len(X), -1)
    shuffled = np.abs(flat[:, rng.permutation(flat.shape[1])] - flat).mean()
    assert max(horizontal, vertical) < 0.6 * shuffled


def test_usps_digits_are_upright_and_labelled(loaded):
    """USPS: a '1' is a vertical stroke (column profile peaked, row profile flat); a '0' has a dark centre."""
    ds = loaded["usps"]
    one = ds.X[ds.y == 1, 0].mean(0)
    assert one.mean(0).std() > 5 * one.mean(1).std()
    zero = ds.X[ds.y == 0, 0].mean(0)
    ring = np.concatenate([zero[3, 5:11], zero[12, 5:11], zero[5:11, 3], zero[5:11, 12]]).mean()
    assert zero[6:10, 6:10].mean() < 0.5 * ring


def test_umist_heads_turn_about_the_vertical_axis(loaded):
    """UMIST: each subject turns from profile to frontal, so the per-row profile (mean over columns) stays
    far steadier across a subject's images than the per-column profile; a transposed reshape inverts this."""
    ds = loaded["umist"]
    steadier = []
    for k in range(ds.n_classes):
        faces = ds.X[ds.y == k, 0]
        steadier.append(faces.mean(2).std(0).mean() < faces.mean(1).std(0).mean())
    assert np.mean(steadier) >= 0.9


def test_coil20_objects_are_left_right_symmetric(loaded):
    """COIL-20 objects stand on a turntable and many are solids of revolution (bottles, cups, jars): their
    images are mirror-symmetric left-right far more often than top-bottom; a transposed reshape inverts this."""
    ds = loaded["coil20"]
    X = ds.X[:, 0]
    left_right = np.abs(X - X[:, :, ::-1]).mean((1, 2))
    top_bottom = np.abs(X - X[:, ::-1, :]).mean((1, 2))
    per_class = [left_right[ds.y == k].mean() < top_bottom[ds.y == k].mean() for k in range(ds.n_classes)]
    assert np.sum(per_class) >= 14


def test_mirror_copy_is_reused_not_refetched(loaded, cache):
    """The second load reads processed/{name}.npz: it works with the mirror gone and downloads off."""
    ds = load_dataset("umist", mirror="/nonexistent", download=False)
    np.testing.assert_array_equal(ds.X, loaded["umist"].X)


def _published(paper: str, method: str, dataset: str, metric: str) -> float:
    with open(ROOT / "results" / "published" / f"{paper}.csv") as f:
        for row in csv.DictReader(f):
            if (row["paper"], row["method"], row["dataset"], row["metric"]) == (paper, method, dataset, metric):
                return float(row["value"]) / (100.0 if row["scale"] == "percent" else 1.0)
    raise LookupError(f"{paper} {method} {dataset} {metric}")


def test_cli_kmeans_on_umist_matches_ahcl(tmp_path, cache):
    """`clusterbench run --method kmeans --dataset umist --seed 0` offline through the mirror: ACC near AHCL's 42.87 %."""
    from clusterbench.framework.cli import main

    published = _published("ahcl", "kmeans", "umist", "acc")
    assert published == pytest.approx(0.4287)
    out = tmp_path / "runs"
    assert main(["run", "--method", "kmeans", "--dataset", "umist", "--seed", "0", "--out", str(out)]) == 0
    [path] = list(out.rglob("record.json"))
    record = json.loads(path.read_text())
    assert record["status"] == "ok"
    assert abs(record["metrics"]["acc"] - published) < 0.04, record["metrics"]
