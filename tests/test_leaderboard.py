"""Leaderboards: ranks and significance groups, Friedman / Nemenyi, submissions, the JSON and markdown."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest

from clusterbench.leaderboard import SCHEMA_VERSION
from clusterbench.leaderboard.build import build, content_hash, render_markdown
from clusterbench.leaderboard.ranking import complete_block, cross_dataset, holm, pairwise_p, rank_dataset
from clusterbench.leaderboard.results import results_table
from clusterbench.leaderboard.submissions import SubmissionError, load_submission, load_submissions

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "submissions" / "gmm_diag"
SCHEMA = REPO / "clusterbench" / "leaderboard" / "schemas" / "leaderboard.schema.json"


def _entry(method, values, source="reproduced"):
    return {"method": method, "source": source, "values": list(values),
            "mean": float(np.mean(values))}


def test_groups_share_the_leader_until_a_significant_gap():
    a = _entry("a", [90, 91, 89, 90, 92])
    b = _entry("b", [89.5, 90.5, 90, 91, 88])        # not told apart from a
    c = _entry("c", [50, 51, 49, 50, 52])            # far below
    d = _entry("d", [49, 52, 50, 51, 50.5])          # not told apart from c
    pub = _entry("paper_row", [70], source="published")
    ranked = rank_dataset([c, pub, b, d, a])
    assert [e["method"] for e in ranked] == ["a", "b", "paper_row", "d", "c"]
    by = {e["method"]: e for e in ranked}
    assert [by[m]["rank"] for m in "abdc"] == [1, 2, 3, 4]
    assert [by[m]["group"] for m in "abdc"] == [1, 1, 2, 2]
    assert by["paper_row"]["rank"] is None and by["paper_row"]["group"] is None
    assert by["b"]["p_adj"] >= 0.05 and by["c"]["p_leader"] < 0.05
    # Holm over the three comparisons with a
    from scipy import stats

    raw = [stats.ttest_ind(a["values"], o["values"], equal_var=False).pvalue for o in (b, d, c)]
    assert by["b"]["p_leader"] == pytest.approx(holm(raw)[0])


def test_holm_and_the_tests_edge_cases():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert pairwise_p([1, 1], [2, 2]) == 0.0          # deterministic methods that differ
    assert pairwise_p([1, 1], [1, 1]) == 1.0
    assert pairwise_p([1.0], [5.0, 6.0]) == 1.0       # one seed: no evidence
    # two seeds against two can never be significant under Mann-Whitney (smallest p = 1/3)
    assert pairwise_p([0, 1], [10, 11], "mannwhitney") == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="test"):
        pairwise_p([1, 2], [3, 4], "ttest")


def test_friedman_nemenyi_and_critical_difference():
    rng = np.random.default_rng(0)
    base = rng.uniform(40, 90, size=(6, 1))
    matrix = pd.DataFrame(base + np.array([[6.0, 4.0, 1.0, 0.0]]) + rng.normal(0, 0.3, (6, 4)),
                          index=[f"d{i}" for i in range(6)], columns=["m1", "m2", "m3", "m4"])
    out = cross_dataset(matrix)
    assert out["average_ranks"] == pytest.approx({"m1": 1.0, "m2": 2.0, "m3": 3.0, "m4": 4.0})
    from scipy import stats

    expected = stats.friedmanchisquare(*[matrix[c] for c in matrix.columns])
    assert out["friedman"]["statistic"] == pytest.approx(expected.statistic)
    # Demšar (2006) Table 5: q_0.05 = 2.569 for k = 4, CD = q sqrt(k (k + 1) / 6N)
    assert out["critical_difference"] == pytest.approx(2.569 * math.sqrt(4 * 5 / 36), abs=2e-3)
    assert out["nemenyi"]["m1"]["m4"] < 0.05 < out["nemenyi"]["m1"]["m2"]


def test_complete_block_drops_the_emptiest_method_or_dataset():
    m = pd.DataFrame({"a": [1, 2, 3], "b": [1, np.nan, np.nan], "c": [3, 2, 1]}, index=["x", "y", "z"])
    block, dropped_m, dropped_d = complete_block(m)
    assert list(block.columns) == ["a", "c"] and dropped_m == ["b"] and dropped_d == []
    m.loc["w"] = [np.nan, np.nan, np.nan]
    block, dropped_m, dropped_d = complete_block(m)
    assert "w" in dropped_d and not block.isna().any().any()
    out = cross_dataset(m)
    assert out["friedman"] is None and "3 methods" in out["reason"]


def test_example_submission_loads():
    sub = load_submission(EXAMPLE)
    assert sub.method == "gmm_diag" and sub.meta["profiles"] == ["quick", "smoke"]
    datasets = {d for d, _ in sub.values}
    assert {"digits", "rdc_four_curves"} <= datasets
    assert all(len([s for d2, s in sub.values if d2 == d]) == 10 for d in datasets)
    assert all(0 <= v["acc"] <= 1 for v in sub.values.values())


def _copy_example(tmp_path) -> Path:
    dest = tmp_path / "submissions" / "mine"
    shutil.copytree(EXAMPLE, dest)
    return dest


@pytest.mark.parametrize("edit, message", [
    (lambda y: y.replace("method: gmm_diag", "method: kmeans"), "method: 'kmeans' is implemented by the suite"),
    (lambda y: y.replace("code_url: https://", "code_url: ftp://"), "code_url: 'ftp://"),
    (lambda y: y.replace("profiles: [quick, smoke]", "profiles: [quick, fast]"), "unknown profile 'fast'"),
    (lambda y: y + "colour: blue\n", "Additional properties are not allowed ('colour'"),
    (lambda y: y.replace("hardware:", "hardwar:"), "'hardware' is a required property"),
    (lambda y: y.replace("results: results.csv", "results: other.csv"), "other.csv: no such file"),
])
def test_submission_metadata_errors_name_the_file_and_key(tmp_path, edit, message):
    dest = _copy_example(tmp_path)
    meta = dest / "submission.yaml"
    meta.write_text(edit(meta.read_text()))
    with pytest.raises(SubmissionError) as info:
        load_submission(dest)
    text = str(info.value)
    assert message in text and str(dest) in text and "\n" not in text


@pytest.mark.parametrize("edit, message", [
    (lambda rows: rows[:3] + ["digitz" + rows[3][len("digits"):]] + rows[4:], "line 4: dataset 'digitz'"),
    (lambda rows: rows[:2] + [rows[1]] + rows[2:], "line 3: duplicate (dataset, seed) (digits, 0)"),
    (lambda rows: [rows[0]] + [rows[1].replace(",0.", ",7.", 1)] + rows[2:], "line 2: acc '7."),
    (lambda rows: [rows[0].replace("acc", "accuracy")] + rows[1:], "line 1: unknown column(s) ['accuracy']"),
])
def test_submission_csv_errors_name_the_line(tmp_path, edit, message):
    dest = _copy_example(tmp_path)
    csv = dest / "results.csv"
    csv.write_text("\n".join(edit(csv.read_text().splitlines())) + "\n")
    with pytest.raises(SubmissionError) as info:
        load_submission(dest)
    assert message in str(info.value), str(info.value)


def test_two_submissions_of_one_method_are_refused(tmp_path):
    _copy_example(tmp_path)
    shutil.copytree(EXAMPLE, tmp_path / "submissions" / "again")
    with pytest.raises(SubmissionError, match="already submitted"):
        load_submissions(tmp_path / "submissions")


def test_bad_submission_is_one_line_and_exit_2_before_anything_is_written(tmp_path, capsys):
    from clusterbench.framework.cli import main

    dest = _copy_example(tmp_path)
    (dest / "submission.yaml").write_text((dest / "submission.yaml").read_text().replace("display:", "displayed:"))
    out = tmp_path / "reports"
    code = main(["leaderboard", "--profile", "smoke", "--runs-root", str(tmp_path / "runs"),
                 "--submissions", str(tmp_path / "submissions"), "--out-md", str(out / "leaderboard.md"),
                 "--out-json", str(out / "leaderboard.json"), "--out-csv", str(out / "results.csv"),
                 "--cd-prefix", str(out / "cd_")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "submission.yaml" in err and "display" in err
    assert not out.exists()


def _fake_runs(root: Path, profile="smoke"):
    """Run summaries + records of three methods on two datasets, three seeds each."""
    means = {"digits": {"kmeans": 0.70, "spectral": 0.72, "dec": 0.40},
             "rdc_four_curves": {"kmeans": 0.60, "spectral": 0.95, "dec": 0.55}}
    for dataset, per in means.items():
        for method, mean in per.items():
            d = root / profile / dataset / method
            summary = []
            for seed in range(3):
                acc = mean + 0.01 * (seed - 1)
                record = {"profile": profile, "dataset": dataset, "method": method, "seed": seed, "status": "ok",
                          "reason": None, "metrics": {"acc": acc, "nmi": acc - 0.1, "ari": acc - 0.2},
                          "wall_s": 1.0 + seed, "peak_rss_mb": 100.0, "peak_gpu_mb": None, "config_hash": "h" + method,
                          "provenance": {"git_revision": "abcdef1234567890"}}
                (d / f"seed{seed}").mkdir(parents=True)
                (d / f"seed{seed}" / "record.json").write_text(json.dumps(record))
                summary.append({k: record[k] for k in ("seed", "status", "reason", "metrics", "wall_s")})
            (d / "summary.json").write_text(json.dumps(summary))


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    from clusterbench.framework.published import load_published
    from clusterbench.framework.registry import load_profile

    tmp_path = tmp_path_factory.mktemp("leaderboard")
    _fake_runs(tmp_path / "runs")
    published = load_published()
    # a published row on one of the datasets (the transcriptions have none on the embedded sets)
    extra = published.iloc[:1].copy()
    extra[["paper", "table", "row", "method", "dataset", "metric", "value", "scale"]] = [
        "ahcl", "2", "SomeNet", "somenet", "digits", "acc", "71.0", "percent"]
    extra["value"] = extra["value"].astype(float)
    published = pd.concat([published, extra], ignore_index=True)
    table = results_table(tmp_path / "runs", published, load_submissions(REPO / "submissions"),
                          link_root=tmp_path)
    return build(table, "smoke", load_profile("smoke"), git_revision="abc", suite="clusterbench test",
                 diagram_names={"acc": "leaderboard_cd_acc.png"})


def test_leaderboard_document_follows_its_schema_and_hash(doc):
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["content_hash"] == content_hash(doc)
    # the hash covers results, not the time or revision of the build
    again = dict(doc, generated="1999-01-01T00:00:00+00:00", git_revision="other")
    assert content_hash(again) == doc["content_hash"]
    changed = json.loads(json.dumps(doc))
    changed["leaderboards"][0]["entries"][0]["mean"] += 1
    assert content_hash(changed) != doc["content_hash"]


def test_leaderboard_rows_ranks_and_cross_dataset(doc):
    board = next(b for b in doc["leaderboards"] if b["id"] == "smoke/digits/acc")
    methods = [e["method"] for e in board["entries"]]
    assert methods[:2] == ["gmm_diag", "spectral"] or methods.index("spectral") < methods.index("kmeans")
    pub = next(e for e in board["entries"] if e["source"] == "published")
    assert pub["rank"] is None and pub["mean"] == 71.0 and pub["paper"] == "ahcl"
    sub = next(e for e in board["entries"] if e["source"] == "submitted")
    assert sub["rank"] is not None and sub["n_ok"] == 10 and sub["budget"].startswith("EM to convergence")
    spectral = next(e for e in board["entries"] if e["method"] == "spectral")
    assert spectral["mean"] == pytest.approx(72.0) and spectral["n_ok"] == 3
    assert spectral["summary"].endswith("runs/smoke/digits/spectral/summary.json")
    assert spectral["std"] == pytest.approx(np.std([71, 72, 73]))
    cross = next(c for c in doc["cross_dataset"] if c["metric"] == "acc")
    assert set(cross["methods"]) == {"kmeans", "spectral", "dec", "gmm_diag"}
    assert cross["average_ranks"]["dec"] == max(cross["average_ranks"].values())
    assert cross["friedman"]["k"] == 4 and cross["friedman"]["n"] == 2


def test_markdown_sections_and_published_rows_without_rank(doc):
    md = render_markdown(doc)
    assert "## digits" in md and "## rdc_four_curves" in md and "## Across datasets (ACC)" in md
    pub = next(line for line in md.splitlines() if "SomeNet" in line)
    assert pub.startswith("| *–*") and "not reproduced" in pub
    assert "submitted, not re-run" in md and "Holm" in md and "Cite: clusterbench leaderboard (digits" in md


def test_table2_markdown_is_one_table_per_metric():
    from clusterbench.framework.report.tables import load_spec, render

    spec = load_spec(REPO / "config" / "tables" / "table2.yaml")
    runs = pd.DataFrame([{"dataset": d, "method": "kmeans", "status": "ok", "acc": 0.5, "nmi": 0.4, "ari": 0.3,
                          "git_revision": "abc"} for d in ("digits", "mnist5k") for _ in range(2)])
    md, tex = render(spec, runs, None, "quick", ["digits", "mnist5k"])
    assert [line for line in md.splitlines() if line.startswith("### ")] == ["### ACC", "### NMI", "### ARI"]
    widths = {line.count("|") for line in md.splitlines() if line.startswith("| Method")}
    assert widths == {4}  # Method + 2 datasets
    assert tex.count(r"\toprule") == 1 and "leaderboard.md" in md


def test_submission_from_run_records(tmp_path):
    """The second format: suite run records instead of a CSV; a failed seed counts in n, not in the mean."""
    from clusterbench.leaderboard.results import submitted_rows

    dest = _copy_example(tmp_path)
    (dest / "results.csv").unlink()
    meta = dest / "submission.yaml"
    meta.write_text(meta.read_text().replace("results: results.csv", "records: records/"))
    _fake_runs(tmp_path / "runs")
    shutil.copytree(tmp_path / "runs" / "smoke" / "digits" / "kmeans", dest / "records" / "digits")
    failed = dest / "records" / "digits" / "seed3"
    failed.mkdir()
    (failed / "record.json").write_text(json.dumps({"dataset": "digits", "seed": 3, "status": "failed"}))
    sub = load_submission(dest)
    rows = {r["metric"]: r for r in submitted_rows([sub]) if r["profile"] == "smoke"}
    assert rows["acc"]["n_ok"] == 3 and rows["acc"]["n"] == 4 and rows["acc"]["mean"] == pytest.approx(70.0)
    # a second record of the same seed is refused, naming the file
    shutil.copytree(dest / "records" / "digits" / "seed0", dest / "records" / "copy")
    with pytest.raises(SubmissionError, match=r"record.json: duplicate \(dataset, seed\) \('digits', 0\)"):
        load_submission(dest)


@pytest.mark.slow
def test_embedded_default_dag_builds_leaderboard_and_site_from_every_pair(tmp_path):
    """Command 1's targets: the leaderboard rule takes every (dataset, method) summary of the quick
    profile (all registered methods over the embedded datasets) and the site follows it."""
    import subprocess
    import sys

    from clusterbench.framework.registry import applicable, load_profile

    for name in ("Snakefile", "environment.yml"):
        shutil.copy(REPO / name, tmp_path / name)
    for name in ("workflow", "config", "submissions"):
        shutil.copytree(REPO / name, tmp_path / name)
    shutil.copytree(REPO / "results" / "published", tmp_path / "results" / "published")
    out = subprocess.run([sys.executable, "-m", "snakemake", "-n", "-p", "reports/leaderboard.md",
                          "reports/site/index.html"], cwd=tmp_path, capture_output=True, text=True,
                         env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path)},
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    text = out.stdout + out.stderr
    assert "rule leaderboard" in text and "rule site" in text
    profile = load_profile("quick")
    pairs = [(d, m) for d in profile["datasets"] for m in profile["methods"] if applicable(m, d)]
    assert len(pairs) >= 30
    for d, m in pairs:
        assert f"results/runs/quick/{d}/{m}/summary.json" in text, (d, m)
    assert text.count("clusterbench leaderboard --profile quick") == 1


def test_a_method_left_out_of_the_complete_block_names_its_datasets(tmp_path):
    """An image-only method (PAD on the embedded default) drops out of the Friedman block; the leaderboard says
    where it has results instead of leaving the reader to guess."""
    from clusterbench.framework.published import load_published
    from clusterbench.framework.registry import load_profile

    _fake_runs(tmp_path / "runs")
    src, dst = tmp_path / "runs" / "smoke" / "digits" / "dec", tmp_path / "runs" / "smoke" / "digits" / "pad"
    shutil.copytree(src, dst)
    for record in dst.glob("seed*/record.json"):
        record.write_text(record.read_text().replace('"method": "dec"', '"method": "pad"'))
    table = results_table(tmp_path / "runs", load_published(), load_submissions(REPO / "submissions"),
                          link_root=tmp_path)
    doc = build(table, "smoke", load_profile("smoke"), git_revision="abc", suite="clusterbench test")
    cross = next(c for c in doc["cross_dataset"] if c["metric"] == "acc")
    assert cross["dropped_methods"] == ["pad"] and cross["dropped_coverage"] == {"pad": ["digits"]}
    assert "methods PAD (results on digits only); datasets none" in render_markdown(doc)
