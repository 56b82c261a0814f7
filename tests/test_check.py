"""Regression gate: published mode, reference mode, the CLI's exit status and the CI gate on the mirror."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from clusterbench.framework.gate import check_published, check_reference, load_config, reference_frame
from clusterbench.framework.cli import main
from clusterbench.framework.published import load_published

REPO = Path(__file__).resolve().parent.parent
SHARED_MIRROR = REPO.parent / "shared" / "datasets"
GATE_DATASETS = ("umist", "coil20", "palm", "usps")


def write_records(root: Path, profile: str, dataset: str, method: str, values: dict[str, list[float]],
                  status: str = "ok") -> None:
    """Hand-made run records: one record.json per seed with the given metric values."""
    from record_fakes import write_fake_record

    n = len(next(iter(values.values())))
    for seed in range(n):
        write_fake_record(root, profile, dataset, method, seed,
                          {k: v[seed] for k, v in values.items()} if status == "ok" else None, status,
                          None if status == "ok" else "dataset unavailable: test")


@pytest.fixture
def gate(tmp_path) -> Path:
    """A two-cell gate on AHCL Table 2 K-Means / UMIST (published 42.87 ACC, 65.47 NMI)."""
    config = {"profile": "paper", "tolerance": 3.0,
              "gated": [{"paper": "ahcl", "table": "2", "method": "kmeans", "dataset": "umist", "metric": "acc"},
                        {"paper": "ahcl", "table": "2", "method": "kmeans", "dataset": "umist",
                         "metric": "nmi_max", "published_metric": "nmi"}],
              "reference": {"z": 3.0, "floor": 0.5, "metrics": ["acc", "nmi_max"]}}
    path = tmp_path / "regression.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_pass_within_tolerance(tmp_path, gate):
    # ACC mean 0.4400 (published 42.87: gap +1.13 < 3); NMI 0.6500 (gap -0.47)
    write_records(tmp_path / "runs", "paper", "umist", "kmeans",
                  {"acc": [0.43, 0.45, 0.44, 0.44], "nmi_max": [0.65, 0.65, 0.64, 0.66]})
    report = check_published(load_config(gate), tmp_path / "runs", "paper", load_published())
    assert [r.status for r in report.rows] == ["PASS", "PASS"]
    assert report.rows[0].gap == pytest.approx(44.0 - 42.87)
    assert main(["check", "--config", str(gate), "--runs-root", str(tmp_path / "runs"),
                 "--out", str(tmp_path / "regression.md")]) == 0
    text = (tmp_path / "regression.md").read_text()
    assert "PASS: all 2 gated cells" in text and "git" in text


def test_gap_beyond_tolerance_fails_naming_cell(tmp_path, gate, capsys):
    # ACC 0.47 ± 0.0: gap +4.13 > max(3, 0) -> FAIL; NMI fine
    write_records(tmp_path / "runs", "paper", "umist", "kmeans",
                  {"acc": [0.47, 0.47, 0.47], "nmi_max": [0.65, 0.655, 0.66]})
    code = main(["check", "--config", str(gate), "--runs-root", str(tmp_path / "runs"),
                 "--out", str(tmp_path / "regression.md")])
    assert code == 1
    out = capsys.readouterr().out
    assert "FAIL: 1 of 2 gated cells failed: ahcl/2 kmeans umist acc" in out
    assert "ahcl/2 kmeans umist acc" in (tmp_path / "regression.md").read_text()


def test_seed_noise_widens_through_the_sem_not_the_std(tmp_path, gate):
    # gap +4.13 with std 2.5 points over 4 seeds: the old max(3, 2 std) = 5.0 passed it; the one rule's
    # max(3, 2 SEM) = max(3, 2 x 2.5 / sqrt(3)) = 3.0 does not. Over 4 seeds with std 6 the SEM widens it.
    write_records(tmp_path / "runs", "paper", "umist", "kmeans",
                  {"acc": [0.445, 0.495, 0.445, 0.495], "nmi_max": [0.65] * 4})
    report = check_published(load_config(gate), tmp_path / "runs", "paper", load_published())
    assert report.rows[0].allowed == pytest.approx(3.0)
    assert report.rows[0].status == "FAIL" and report.rows[0].verdict == "not reproduced"
    write_records(tmp_path / "wide", "paper", "umist", "kmeans",
                  {"acc": [0.39, 0.51, 0.39, 0.51], "nmi_max": [0.65] * 4})
    report = check_published(load_config(gate), tmp_path / "wide", "paper", load_published())
    assert report.rows[0].allowed == pytest.approx(2 * 6.0 / np.sqrt(3))
    assert report.rows[0].status == "PASS" and report.rows[0].verdict == "reproduced, unstable"


def test_reduced_budget_gate_is_a_regression_check(tmp_path):
    """A gate at the cpu profile (AHCL below its paper budget) passes cells within the bound as a regression
    check at that budget and never calls them reproduced."""
    config = {"profile": "cpu", "tolerance": 3.0,
              "gated": [{"paper": "ahcl", "table": "3", "method": "ahcl", "published_method": "ahcl_km_z",
                         "dataset": "usps", "metric": "acc_km_z", "published_metric": "acc"}]}
    path = tmp_path / "regression_cpu.yaml"
    path.write_text(yaml.safe_dump(config))
    write_records(tmp_path / "runs", "cpu", "usps", "ahcl", {"acc_km_z": [0.70, 0.71, 0.70]})
    report = check_published(load_config(path), tmp_path / "runs", "cpu", load_published())
    row = report.rows[0]
    assert row.status == "PASS" and row.verdict == "reduced budget" and row.budget == "1/14 of the paper's steps"
    assert main(["check", "--config", str(path), "--runs-root", str(tmp_path / "runs"),
                 "--out", str(tmp_path / "out.md")]) == 0
    text = (tmp_path / "out.md").read_text()
    assert "Regression check at budget `cpu` (not a reproduction)" in text
    assert "AHCL: 10 of 140 epochs" in text and "reproduce" not in text.split("**")[1]


def test_missing_or_unavailable_runs_fail(tmp_path, gate, capsys):
    assert main(["check", "--config", str(gate), "--runs-root", str(tmp_path / "none"), "--out", ""]) == 1
    assert "NO RUNS" in capsys.readouterr().out
    write_records(tmp_path / "runs", "paper", "umist", "kmeans", {"acc": [0.0, 0.0]}, status="unavailable")
    report = check_published(load_config(gate), tmp_path / "runs", "paper", load_published())
    assert all(r.status == "NO RUNS" for r in report.rows)
    assert "unavailable" in report.rows[0].detail


def test_unknown_config_key_is_an_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("gated: []\ntolerence: 3\n")
    with pytest.raises(ValueError, match="tolerence"):
        load_config(path)


def test_reference_mode_flags_moves_beyond_seed_noise(tmp_path, gate):
    rng = np.random.default_rng(0)
    acc = list(0.60 + 0.01 * rng.standard_normal(10))
    write_records(tmp_path / "runs", "quick", "digits", "kmeans", {"acc": acc, "nmi_max": acc})
    from clusterbench.framework.aggregate import aggregate

    reference = reference_frame(aggregate(tmp_path / "runs", "quick"), "quick", ["acc", "nmi_max"])
    assert list(reference.metric) == ["acc", "nmi_max"] and reference["n"].tolist() == [10, 10]
    config = load_config(gate)
    assert not check_reference(config, tmp_path / "runs", "quick", reference).failed
    # seed std 0.74 points over 10 seeds: noise of the difference 0.33 -> allowed 0.99 points
    write_records(tmp_path / "runs2", "quick", "digits", "kmeans",
                  {"acc": [a + 0.007 for a in acc], "nmi_max": acc})
    report = check_reference(config, tmp_path / "runs2", "quick", reference)
    assert not report.failed
    write_records(tmp_path / "runs3", "quick", "digits", "kmeans",
                  {"acc": [a + 0.03 for a in acc], "nmi_max": acc})
    report = check_reference(config, tmp_path / "runs3", "quick", reference)
    assert [r.cell for r in report.failed] == ["quick kmeans digits acc"]
    # the CLI writes and reads the reference file
    ref_path = tmp_path / "ref.csv"
    assert main(["check", "--config", str(gate), "--profile", "quick", "--runs-root", str(tmp_path / "runs"),
                 "--write-reference", str(ref_path)]) == 0
    assert main(["check", "--config", str(gate), "--profile", "quick", "--runs-root", str(tmp_path / "runs3"),
                 "--reference", str(ref_path), "--out", ""]) == 1


def test_repository_gate_config_is_consistent():
    """Gated cells have published values; deviations are the measured cells beyond max(3, 2 SEM) or too close
    to it to gate (tests/test_regression_configs.py)."""
    config = load_config(REPO / "config" / "regression.yaml")
    published = load_published()
    from clusterbench.framework.published import published_value

    cells = config["gated"] + config["deviations"]
    keys = {(c["method"], c["dataset"], c["metric"]) for c in cells}
    assert len(keys) == len(cells) == 2 * 2 * len(GATE_DATASETS), "every K-Means/SC-Ncut cell listed once"
    for cell in cells:
        assert published_value(published, cell["paper"], cell["table"], cell["method"], cell["dataset"],
                               cell.get("published_metric", cell["metric"])) is not None
    for dev in config["deviations"]:
        assert dev["explanation"].strip()


def test_stored_references_are_well_formed():
    for path in sorted((REPO / "results" / "reference").glob("*.csv")):
        frame = pd.read_csv(path)
        assert list(frame.columns) == ["profile", "dataset", "method", "metric", "mean", "std", "n",
                                       "git_revision"], path
        assert set(frame.profile) == {path.stem}
        assert (frame["n"] >= 2).all() and (frame["std"] >= 0).all()
        assert not frame.duplicated(["dataset", "method", "metric"]).any()


def test_quick_reference_digits_kmeans(tmp_path):
    """Self-reference gate on the embedded digits set: k-means' quick numbers match results/reference/quick.csv."""
    from clusterbench.framework.runner import run_seeds

    reference = REPO / "results" / "reference" / "quick.csv"
    if not reference.exists():
        pytest.skip("no stored quick reference")
    run_seeds("kmeans", "digits", list(range(10)), profile="quick", out=tmp_path, log=lambda m: None)
    assert main(["check", "--profile", "quick", "--runs-root", str(tmp_path), "--reference", str(reference),
                 "--methods", "kmeans", "--datasets", "digits", "--out", ""]) == 0


# ------------------------------------------------------------------ the CI gate through the mirror
@pytest.fixture(scope="module")
def gate_runs(tmp_path_factory):
    """K-Means and SC-Ncut, seeds 0-9, profile paper, on the four mirror datasets (seconds each)."""
    if not (SHARED_MIRROR / "UMIST.mat").exists():
        pytest.skip("shared dataset mirror not present")
    import os

    from clusterbench.framework.runner import run_seeds

    root = tmp_path_factory.mktemp("gate_runs")
    cache = tmp_path_factory.mktemp("gate_data")
    old = os.environ.get("CLUSTERBENCH_DATA")
    os.environ["CLUSTERBENCH_DATA"] = str(cache)
    try:
        for dataset in GATE_DATASETS:
            for method in ("kmeans", "spectral"):
                records = run_seeds(method, dataset, list(range(10)), profile="paper", out=root,
                                    mirror=str(SHARED_MIRROR), log=lambda m: None)
                assert all(r["status"] == "ok" for r in records), (method, dataset)
    finally:
        if old is None:
            os.environ.pop("CLUSTERBENCH_DATA", None)
        else:
            os.environ["CLUSTERBENCH_DATA"] = old
    return root, cache


@pytest.mark.slow
def test_ci_gate_passes_on_mirror(gate_runs, tmp_path, capsys):
    root, _ = gate_runs
    out = tmp_path / "regression.md"
    code = main(["check", "--config", str(REPO / "config" / "regression.yaml"), "--runs-root", str(root),
                 "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "PASS: all 6 gated cells" in printed
    assert "Deviations (not gated)" in out.read_text()
    # the suite's own stored reference of these runs agrees too
    assert main(["check", "--profile", "paper", "--runs-root", str(root), "--reference",
                 str(REPO / "results" / "reference" / "paper.csv"), "--out", ""]) == 0


@pytest.mark.slow
def test_ci_gate_fails_on_broken_metric(gate_runs, tmp_path, monkeypatch, capsys):
    """Inject a broken ACC (labels scored against shuffled ground truth) into K-Means/UMIST: exit 1, cell named."""
    import shutil

    import clusterbench.framework.runner as runner

    root, cache = gate_runs
    broken_root = tmp_path / "runs"
    shutil.copytree(root, broken_root)
    monkeypatch.setenv("CLUSTERBENCH_DATA", str(cache))
    real = runner.evaluate

    def broken(y_true, y_pred):
        metrics = real(y_true, y_pred)
        metrics["acc"] = real(np.random.default_rng(0).permutation(y_true), y_pred)["acc"]  # misaligned labels
        return metrics

    monkeypatch.setattr(runner, "evaluate", broken)
    runner.run_seeds("kmeans", "umist", list(range(10)), profile="paper", out=broken_root,
                     mirror=str(SHARED_MIRROR), force=True, log=lambda m: None)
    code = main(["check", "--config", str(REPO / "config" / "regression.yaml"), "--runs-root", str(broken_root),
                 "--out", str(tmp_path / "regression.md")])
    printed = capsys.readouterr().out
    assert code == 1
    assert "FAIL: 1 of 6 gated cells failed: ahcl/2 kmeans umist acc" in printed


# ------------------------------------------------------------------ cells read from a run's variant column
def _variant_gate(tmp_path) -> Path:
    """AHCL Table 3 "AHCL / KM-Z" (USPS: 70.13 ACC) read from the `ahcl` runs' acc_km_z column, plus a
    K-Means / UMIST cell to show the dataset filter."""
    config = {"profile": "cpu", "tolerance": 3.0,
              "gated": [{"paper": "ahcl", "table": "3", "method": "ahcl", "published_method": "ahcl_km_z",
                         "dataset": "usps", "metric": "acc_km_z", "published_metric": "acc"},
                        {"paper": "ahcl", "table": "2", "method": "kmeans", "dataset": "umist", "metric": "acc"}]}
    path = tmp_path / "regression_variant.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_published_method_reads_variant_column(tmp_path):
    gate = _variant_gate(tmp_path)
    # acc (SC-Y) is far from 70.13; only acc_km_z may be compared with the KM-Z row
    write_records(tmp_path / "runs", "cpu", "usps", "ahcl",
                  {"acc": [0.50, 0.52], "acc_km_z": [0.70, 0.71]})
    report = check_published(load_config(gate), tmp_path / "runs", "cpu", load_published(), datasets_=["usps"])
    assert [r.cell for r in report.rows] == ["ahcl/3 ahcl usps acc_km_z"]
    assert report.rows[0].expected == "70.13" and report.rows[0].status == "PASS"
    assert report.rows[0].gap == pytest.approx(70.5 - 70.13)
    write_records(tmp_path / "far", "cpu", "usps", "ahcl", {"acc": [0.70, 0.70], "acc_km_z": [0.60, 0.61]})
    assert main(["check", "--config", str(gate), "--runs-root", str(tmp_path / "far"), "--datasets", "usps",
                 "--out", str(tmp_path / "r.md")]) == 1
    assert f"Gated cells from `{gate}`" in (tmp_path / "r.md").read_text()


def test_dataset_filter_without_cells_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="no gated cell"):
        check_published(load_config(_variant_gate(tmp_path)), tmp_path, "cpu", load_published(),
                        datasets_=["palm"])


def test_raw_scale_deviation_is_not_read_as_percent(tmp_path):
    """A deviation on a raw-scale published metric (NMCE Table A.1 z-sim, 0.017) is compared unscaled, even
    though the same published row also has a percent metric (accuracy)."""
    config = {"profile": "paper", "gated": [],
              "deviations": [{"paper": "nmce", "table": "A.1", "method": "nmce", "dataset": "nmce_two_manifold",
                              "metric": "zsim_true_cluster", "gap": 0.17, "reproduced": "x",
                              "explanation": "test"}]}
    path = tmp_path / "gate.yaml"
    path.write_text(yaml.safe_dump(config))
    write_records(tmp_path / "runs", "paper", "nmce_two_manifold", "nmce",
                  {"acc": [1.0, 1.0], "zsim_true_cluster": [0.18, 0.20]})
    report = check_published(load_config(path), tmp_path / "runs", "paper", load_published())
    dev = report.deviations[0]
    assert dev["published"] == "0.017" and dev["reproduced"] == "0.190 ± 0.010 (n=2)"
    assert dev["gap"] == pytest.approx(0.19 - 0.017)
