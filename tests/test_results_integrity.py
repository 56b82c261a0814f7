"""Issue 16.1-16.5: the reports average exactly the requested seeds under the current configuration; a seed
is done only when all its files validate; one seed is written as one unit under a lock; files respect the
umask."""

from __future__ import annotations

import json
import os
import stat
import threading
import time

import numpy as np
import pytest

from clusterbench.framework.aggregate import aggregate
from clusterbench.framework.cli import main
from clusterbench.framework.records import RecordError
from clusterbench.framework.runner import run_seeds, seed_dir

QUIET = dict(log=lambda *a: None)


def _runs(tmp_path, seeds, **kw):
    return run_seeds("kmeans", "digits", seeds, profile="smoke", out=tmp_path / "runs", **QUIET, **kw)


# ---------------------------------------------------------------- 16.1 exact seeds and config hash

def test_aggregate_takes_exactly_the_requested_seeds_and_config(tmp_path):
    _runs(tmp_path, [0, 1, 2, 3])
    # seed 1 rerun under a --set override: its record now carries another config hash
    _runs(tmp_path, [1], overrides={"n_init": 3})
    logged = []
    frame = aggregate(tmp_path / "runs", "smoke", [("digits", "kmeans")], seeds=[0, 1], log=logged.append)
    assert list(frame.seed) == [0]
    ignored = frame.attrs["ignored"]
    assert any("seed1" in line and "config hash" in line for line in ignored)
    assert any("seed2" in line and "not requested" in line for line in ignored)
    assert any("seed3" in line for line in ignored) and len(ignored) == 3
    assert logged and "ignored 3 record(s)" in logged[0]
    # default: the profile's seeds (smoke: 0, 1)
    assert list(aggregate(tmp_path / "runs", "smoke", [("digits", "kmeans")], log=logged.append).seed) == [0]


def test_render_and_check_use_the_requested_seeds(tmp_path, capsys):
    _runs(tmp_path, [0, 1, 2, 3])
    out = tmp_path / "runs.csv"
    assert main(["aggregate", "--profile", "smoke", "--runs", str(tmp_path / "runs"), "--pairs", "digits/kmeans",
                 "--seeds", "0-1", "--out", str(out)]) == 0
    import pandas as pd

    assert sorted(pd.read_csv(out).seed) == [0, 1]
    assert "seed2" in capsys.readouterr().err


@pytest.mark.slow
def test_dag_with_fewer_seeds_reports_fewer_seeds(tmp_path):
    """The issue's recipe: smoke with seeds=4, then seeds=2; runs.csv and the table show two seeds."""
    from test_shell_quoting import _copy_workflow, _snakemake

    _copy_workflow(tmp_path)
    for n in (4, 2):
        result = _snakemake(tmp_path, "results/smoke/runs.csv", "reports/table2.md", "--cores", "1",
                            "--config", "profile=smoke", "methods=[kmeans]", f"seeds={n}")
        assert result.returncode == 0, result.stdout + result.stderr
    import pandas as pd

    runs = pd.read_csv(tmp_path / "results/smoke/runs.csv")
    assert sorted(set(runs.seed)) == [0, 1] and len(runs) == 4  # two datasets x two seeds
    records = [json.loads((tmp_path / f"results/runs/smoke/digits/kmeans/seed{s}/record.json").read_text())
               for s in (0, 1)]
    mean = 100 * np.mean([r["metrics"]["acc"] for r in records])
    table = (tmp_path / "reports/table2.md").read_text()
    assert f"{mean:.1f} ±" in table or f"{mean:.2f} ±" in table


# ---------------------------------------------------------------- 16.3 a seed is done only when its files validate

def test_missing_labels_or_corrupt_record_reruns_the_seed(tmp_path):
    _runs(tmp_path, [0, 1, 2])
    d0, d1, d2 = (seed_dir(tmp_path / "runs", "smoke", "digits", "kmeans", s) for s in (0, 1, 2))
    (d0 / "labels.npz").unlink()
    (d1 / "record.json").write_text('{"status": "ok", "metr')
    mtime = (d2 / "record.json").stat().st_mtime_ns
    logged = []
    records = run_seeds("kmeans", "digits", [0, 1, 2], profile="smoke", out=tmp_path / "runs", log=logged.append)
    assert [r["status"] for r in records] == ["ok", "ok", "ok"]
    assert (d0 / "labels.npz").exists() and json.loads((d1 / "record.json").read_text())["status"] == "ok"
    assert (d2 / "record.json").stat().st_mtime_ns == mtime  # the intact seed was not rerun
    assert sum("rerun" in line for line in logged) == 2


def test_a_damaged_labels_file_reruns_the_seed(tmp_path):
    _runs(tmp_path, [0])
    d0 = seed_dir(tmp_path / "runs", "smoke", "digits", "kmeans", 0)
    (d0 / "labels.npz").write_bytes((d0 / "labels.npz").read_bytes()[:100])
    mtime = (d0 / "record.json").stat().st_mtime_ns
    _runs(tmp_path, [0])
    assert (d0 / "record.json").stat().st_mtime_ns != mtime
    np.load(d0 / "labels.npz")["labels"]


def test_reporting_names_a_corrupt_record(tmp_path, capsys):
    _runs(tmp_path, [0, 1])
    bad = seed_dir(tmp_path / "runs", "smoke", "digits", "kmeans", 1) / "record.json"
    bad.write_text("{not json")
    with pytest.raises(RecordError, match="seed1/record.json"):
        aggregate(tmp_path / "runs", "smoke", [("digits", "kmeans")], seeds=[0, 1])
    code = main(["aggregate", "--profile", "smoke", "--runs", str(tmp_path / "runs"), "--pairs", "digits/kmeans",
                 "--out", str(tmp_path / "runs.csv")])
    err = capsys.readouterr().err
    assert code == 2 and str(bad) in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs.csv").exists()


# ---------------------------------------------------------------- 16.4 one seed, two configurations at once

def test_two_configurations_of_one_seed_never_mix(tmp_path, monkeypatch):
    """Run A (n_init=4) pauses between writing its labels and its record while run B (n_init=3) of the same
    seed runs; the record left must sit beside its own labels."""
    from clusterbench.baselines import kmeans as km

    from clusterbench.framework import records as records_module
    from clusterbench.framework.base import Result

    real_fit = km.KMeans.fit_predict
    a_wrote_labels, release_a = threading.Event(), threading.Event()

    def fit(self, data, n_clusters, *, seed, device="cpu"):
        if self.config.n_init == 4:  # run A: a constant labelling, recognisable on disk
            return Result(labels=np.zeros(data.n_samples, dtype=np.int64) + np.arange(data.n_samples) % 2)
        return real_fit(self, data, n_clusters, seed=seed, device=device)

    real_write_file = records_module.write_file

    def write_file(directory, name, write):
        digest = real_write_file(directory, name, write)
        if name == "labels.npz" and threading.current_thread().name == "A":
            a_wrote_labels.set()
            release_a.wait(10)
        return digest

    monkeypatch.setattr(km.KMeans, "fit_predict", fit)
    monkeypatch.setattr(records_module, "write_file", write_file)
    import clusterbench.framework.runner as runner

    monkeypatch.setattr(runner, "write_file", write_file)
    a = threading.Thread(target=_runs, args=(tmp_path, [0]), kwargs={"overrides": {"n_init": 4}}, name="A")
    b = threading.Thread(target=_runs, args=(tmp_path, [0]), kwargs={"overrides": {"n_init": 3}}, name="B")
    a.start()
    assert a_wrote_labels.wait(30)
    b.start()
    time.sleep(1.0)  # B would finish now without a lock
    release_a.set()
    a.join(60)
    b.join(60)
    d = seed_dir(tmp_path / "runs", "smoke", "digits", "kmeans", 0)
    record = json.loads((d / "record.json").read_text())
    labels = np.load(d / "labels.npz")["labels"]
    constant = np.array_equal(labels, np.arange(labels.size) % 2)
    assert constant == (record["config"]["n_init"] == 4), "one configuration's record beside the other's labels"


# ---------------------------------------------------------------- 16.5 the umask

@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_files_respect_the_umask(tmp_path, umask, monkeypatch):
    from clusterbench.data import RemoteFile, load_dataset, processed_path
    from clusterbench.data.download import fetch

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    (mirror / "a.bin").write_bytes(b"x" * 10)
    old = os.umask(umask)
    try:
        _runs(tmp_path, [0])
        load_dataset("digits")
        fetched = fetch(RemoteFile("a.bin", size=10), "fake", mirror=str(mirror), cache=tmp_path / "cache")
    finally:
        os.umask(old)
    expected = 0o666 & ~umask
    d = seed_dir(tmp_path / "runs", "smoke", "digits", "kmeans", 0)
    for path in (d / "record.json", d / "labels.npz", d / "history.csv", processed_path("digits"), fetched):
        assert stat.S_IMODE(path.stat().st_mode) == expected, (path, oct(path.stat().st_mode))
