"""Issue 16.2: the processed dataset cache is verified on every load (format version, N, shape, classes,
a stored sha256); a bad file is rebuilt from the raw files, or the load fails naming it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from clusterbench.framework.cli import main
from clusterbench.data import DatasetUnavailable, load_dataset, processed_path


@pytest.fixture
def digits():
    reference = load_dataset("digits")
    return reference, processed_path("digits")


def _rewrite(path, **changes):
    with np.load(path) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays.update(changes)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


@pytest.mark.parametrize("damage", ["truncated", "old_version", "wrong_labels", "fewer_samples", "garbage"])
def test_a_bad_processed_file_is_rebuilt(digits, damage, capsys):
    reference, path = digits
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a zip file at all")
    elif damage == "old_version":
        _rewrite(path, version=np.int64(1))
    elif damage == "wrong_labels":
        with np.load(path) as archive:
            y = archive["y"]
        _rewrite(path, y=np.roll(y, 1))  # right classes and counts, wrong samples: only the checksum sees it
    elif damage == "fewer_samples":
        with np.load(path) as archive:
            X, y = archive["X"], archive["y"]
        _rewrite(path, X=X[:-10], y=y[:-10])
    capsys.readouterr()
    data = load_dataset("digits")
    assert np.array_equal(data.y, reference.y) and np.array_equal(data.X, reference.X)
    assert str(path) in capsys.readouterr().err  # the rebuild names the file
    load_dataset("digits")  # the rebuilt file verifies
    assert str(path) not in capsys.readouterr().err


def test_prepare_command_repairs_a_truncated_file(digits, tmp_path, capsys):
    _, path = digits
    path.write_bytes(path.read_bytes()[:100])
    out = tmp_path / "digits.json"
    assert main(["prepare", "--dataset", "digits", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["status"] == "available"
    assert "Traceback" not in capsys.readouterr().err


def test_a_bad_file_that_cannot_be_rebuilt_is_named(tmp_path, monkeypatch, capsys):
    """A downloaded set whose raw files are gone: the error names the bad processed file."""
    from clusterbench.data import DATASETS

    spec = DATASETS["umist"]
    path = processed_path("umist")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK\x03\x04 truncated")
    monkeypatch.delenv("CLUSTERBENCH_MIRROR", raising=False)
    with pytest.raises(DatasetUnavailable, match="umist.npz"):
        load_dataset("umist", download=False)
    assert spec.name == "umist"
    code = main(["run", "--method", "kmeans", "--dataset", "umist", "--seed", "0", "--profile", "paper",
                 "--strict", "--out", str(tmp_path / "runs"), "--mirror", str(tmp_path / "no-mirror")])
    err = capsys.readouterr().err
    assert code == 2 and "umist.npz" in err and "Traceback" not in err
