"""A registry entry's `only_datasets` limits the method to those datasets (config, DAG pairs, reports)."""

import dataclasses

import pytest

from clusterbench.framework.registry import ConfigError, _methods, applicable, methods, resolve_config
from clusterbench.framework.published import load_published
from clusterbench.framework.report.tables import build_cells, spec_pairs


def _entry(tmp_path, monkeypatch, body: str):
    (tmp_path / "methods").mkdir(exist_ok=True)
    (tmp_path / "methods" / "kmeans.yaml").write_text(
        "display: K\nimplementation: clusterbench.baselines.kmeans:KMeans\nkind: baseline\n" + body)
    monkeypatch.setenv("CLUSTERBENCH_CONFIG", str(tmp_path))
    _methods.cache_clear()


def test_only_datasets_limits_the_method(tmp_path, monkeypatch):
    _entry(tmp_path, monkeypatch, "only_datasets: [digits, usps]\ndatasets: {usps: {n_init: 3}}\n")
    try:
        entry = methods()["kmeans"]
        assert entry.applies_to("digits") and entry.applies_to("usps") and not entry.applies_to("coil20")
        assert applicable("kmeans", "usps") and not applicable("kmeans", "coil20")
        assert resolve_config("kmeans", "usps", "paper")[1].n_init == 3
        with pytest.raises(ConfigError, match="does not run on 'coil20'"):
            resolve_config("kmeans", "coil20", "paper")
        # table specs ask only for the method's datasets; other cells say why they are empty
        spec = {"rows": "registered", "datasets": "profile", "metrics": [{"key": "acc", "label": "ACC"}]}
        assert spec_pairs(spec, ["digits", "coil20"]) == [("digits", "kmeans")]
        _, _, grid = build_cells(spec, None, load_published(), ["digits", "coil20"])
        assert grid[0][1].text == "not run: not one of the method's datasets"
        assert grid[0][0].text == "not run: no records"
    finally:
        _methods.cache_clear()


@pytest.mark.parametrize("body, message", [
    ("only_datasets: [digitz]\n", "unknown dataset"),
    ("only_datasets: []\n", "non-empty list"),
    ("only_datasets: digits\n", "non-empty list"),
    ("only_datasets: [digits]\ndatasets: {usps: {n_init: 3}}\n", "not in only_datasets"),
])
def test_only_datasets_is_validated(tmp_path, monkeypatch, body, message):
    _entry(tmp_path, monkeypatch, body)
    try:
        with pytest.raises(ConfigError, match=message):
            methods()
    finally:
        _methods.cache_clear()


def test_nmce_runs_on_its_papers_datasets_only():
    """NMCE: the paper's datasets plus the embedded sets of the quick/smoke profiles; not e.g. VesselMNIST3D."""
    entry = methods()["nmce"]
    for dataset in ("nmce_two_manifold", "nmce_two_manifold_nonid", "nmce_double_spiral", "nmce_double_spiral_40k",
                    "coil20", "coil100",
                    "cifar10_train", "cifar100_20_train", "stl10", "imagenet10", "imagenet_dogs15", "digits",
                    "mnist5k", "rdc_four_curves"):
        assert entry.applies_to(dataset), dataset
    for dataset in ("vesselmnist3d", "usps", "cifar10", "tiny_imagenet"):
        assert not entry.applies_to(dataset), dataset
    # Figure 1's 40,000-point spiral gets the Table B.1 "Double Spiral" row (batches of 4,096 drawn from it)
    assert resolve_config("nmce", "nmce_double_spiral_40k", "paper")[1] == resolve_config(
        "nmce", "nmce_double_spiral", "paper")[1]
    # the authors' notebook spiral: the same row but the notebook's noise, weight decay and Adam β2
    notebook, paper = (resolve_config("nmce", d, "paper")[1] for d in ("nmce_double_spiral_notebook",
                                                                        "nmce_double_spiral"))
    assert (notebook.noise, notebook.s1_wd, notebook.adam_beta2) == (0.2, 1e-5, 0.99)
    assert (notebook.s1_length, notebook.batch_size, notebook.s1_lambda) == (paper.s1_length, paper.batch_size,
                                                                             paper.s1_lambda)
    # the cpu profile: Table B.1's COIL-20 row with 100 of its 2,000 TCR steps, nothing else changed
    cpu, paper = (resolve_config("nmce", "coil20", p)[1] for p in ("cpu", "paper"))
    assert (paper.s1_length, cpu.s1_length) == (2000, 100)
    assert dataclasses.replace(cpu, s1_length=paper.s1_length) == paper
    # the CIFAR rows of Table B.1 are keyed by the training splits NMCE clusters
    assert resolve_config("nmce", "cifar100_20_train", "paper")[1].s2_cluster_wd == 0.001
