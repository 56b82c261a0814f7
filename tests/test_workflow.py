"""End to end: the smoke profile through Snakemake in a temporary copy of the workflow."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parent.parent
SNAKEMAKE = Path(sys.executable).parent / "snakemake"


def _copy_workflow(dest: Path) -> None:
    shutil.copy(REPO / "Snakefile", dest / "Snakefile")
    shutil.copy(REPO / "environment.yml", dest / "environment.yml")
    shutil.copytree(REPO / "workflow", dest / "workflow")
    shutil.copytree(REPO / "config", dest / "config")


def _snakemake(cwd, *args, check=True):
    env = {"PATH": f"{SNAKEMAKE.parent}:/usr/bin:/bin", "HOME": str(cwd), "OMP_NUM_THREADS": "1",
           "CLUSTERBENCH_DATA": str(cwd / "resources" / "data")}
    return subprocess.run([str(SNAKEMAKE), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          check=check, timeout=900)


@pytest.mark.slow
def test_smoke_profile_end_to_end(tmp_path):
    _copy_workflow(tmp_path)
    _snakemake(tmp_path, "reports/table2.md", "reports/table1.md", "--cores", "2",
               "--config", "profile=smoke", "methods=[kmeans,spectral]")
    table = (tmp_path / "reports" / "table2.md").read_text()
    assert (tmp_path / "reports" / "table2.tex").read_text().count(r"\toprule") == 1
    # every cell of table2 equals the mean of its records
    for method, label in (("kmeans", "K-Means"), ("spectral", "SC-Ncut")):
        for dataset in ("digits", "rdc_four_curves"):
            records = [json.loads(p.read_text()) for p in
                       (tmp_path / "results/runs/smoke" / dataset / method).glob("seed*/record.json")]
            assert len(records) == 2 and all(r["status"] == "ok" for r in records)
            mean_acc = 100 * sum(r["metrics"]["acc"] for r in records) / 2
            acc = table.split("### ACC", 1)[1].split("###", 1)[0].splitlines()  # markdown: one table per metric
            row = next(line for line in acc if line.startswith(f"| {label} "))
            cells = [c.strip() for c in row.strip("|").split("|")]
            header = next(line for line in acc if line.startswith("| Method"))
            columns = [c.strip() for c in header.strip("|").split("|")]
            cell = cells[columns.index(dataset)]
            shown = float(re.search(r"([0-9.]+) ±", cell).group(1))
            assert shown == pytest.approx(mean_acc, abs=0.051)
    runs = pd.read_csv(tmp_path / "results/smoke/runs.csv") if (tmp_path / "results/smoke/runs.csv").exists() else None
    # a second invocation has nothing to do (resumable, no surprise reruns)
    dry = _snakemake(tmp_path, "reports/table2.md", "-n", "--config", "profile=smoke", "methods=[kmeans,spectral]")
    assert "Nothing to be done" in dry.stdout + dry.stderr
    assert runs is None or len(runs) >= 0


@pytest.mark.slow
def test_unknown_method_in_config_is_rejected_before_any_job(tmp_path):
    _copy_workflow(tmp_path)
    result = _snakemake(tmp_path, "-n", "--config", "profile=smoke", "methods=[kmeens]", check=False)
    assert result.returncode != 0
    assert "kmeens" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_unknown_config_key_and_profile_are_rejected(tmp_path):
    _copy_workflow(tmp_path)
    bad_key = _snakemake(tmp_path, "-n", "--config", "profle=smoke", check=False)
    assert bad_key.returncode != 0 and "profle" in bad_key.stdout + bad_key.stderr
    bad_profile = _snakemake(tmp_path, "-n", "--config", "profile=fast", check=False)
    assert bad_profile.returncode != 0 and "fast" in bad_profile.stdout + bad_profile.stderr


@pytest.mark.slow
def test_gpu_precision_needs_a_cuda_device_before_any_job(tmp_path):
    _copy_workflow(tmp_path)
    cpu = _snakemake(tmp_path, "-n", "--config", "profile=smoke", "precision=bf16", check=False)
    assert cpu.returncode != 0 and "precision=bf16 needs device=cuda" in cpu.stdout + cpu.stderr
    bad = _snakemake(tmp_path, "-n", "--config", "profile=smoke", "precision=fp9", check=False)
    assert bad.returncode != 0 and "fp9" in bad.stdout + bad.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_paper_dag_lays_out_offline(tmp_path):
    _copy_workflow(tmp_path)
    result = _snakemake(tmp_path, "reports/table2.md", "-n", "--config", "profile=paper")
    out = result.stdout + result.stderr
    assert "prepare_dataset" in out and "run_method" in out
    assert not (tmp_path / "resources").exists()


@pytest.mark.slow
def test_paper_table_from_the_cpu_profile_runs_its_datasets_only(tmp_path):
    """reports/cpu/nmce/table1.md: NMCE Table 1 runs COIL20 at the cpu budget, not COIL100 (outside that
    profile); the paper report's own path reads the paper profile only."""
    _copy_workflow(tmp_path)
    out = _snakemake(tmp_path, "reports/cpu/nmce/table1.md", "-n").stdout
    assert "results/runs/cpu/coil20/nmce/summary.json" in out
    assert "coil100" not in out and "render_table_profile" in out
    # the paper profile (the spec's own) keeps both columns
    out = _snakemake(tmp_path, "reports/nmce/table1.md", "-n").stdout
    assert "results/runs/paper/coil100/nmce/summary.json" in out and "results/runs/cpu" not in out


@pytest.mark.slow
def test_report_paths_per_profile(tmp_path):
    """A cpu rendering never lands on the paper report's path: reports/cpu/ahcl/table2.md (and the AHCL
    figures under reports/cpu/ahcl/), while reports/ahcl/table2.md stays the paper profile's. The retired
    tables_profile key is refused with one line naming the new path."""
    _copy_workflow(tmp_path)
    out = _snakemake(tmp_path, "reports/cpu/ahcl/table2.md", "reports/cpu/ahcl/figure4.png", "-n").stdout
    assert "reports/cpu/ahcl/table2.md" in out and "results/runs/cpu/usps/ahcl/summary.json" in out
    assert "results/runs/paper" not in out and "reports/ahcl/table2.md" not in out.replace("cpu/ahcl", "")
    paper = _snakemake(tmp_path, "reports/ahcl/table2.md", "-n").stdout
    assert "results/runs/paper/usps/ahcl/summary.json" in paper and "results/runs/cpu" not in paper
    refused = _snakemake(tmp_path, "reports/ahcl/table2.md", "-n", "--config", "tables_profile=cpu", check=False)
    assert refused.returncode != 0 and "reports/cpu/ahcl/table2.md" in refused.stdout + refused.stderr


@pytest.mark.slow
def test_lint_is_clean(tmp_path):
    _copy_workflow(tmp_path)
    result = _snakemake(tmp_path, "--lint", check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_gate_reports_lay_out_their_runs(tmp_path):
    """reports/regression_ahcl.md needs the cpu-profile runs of its cells, gated (AHCL on USPS) and deviations
    (MSE on COIL20, DEC on UMIST), since the report measures both; every gate file has a report."""
    _copy_workflow(tmp_path)
    out = _snakemake(tmp_path, "reports/regression_ahcl.md", "-n").stdout
    for path in ("results/runs/cpu/usps/ahcl/summary.json", "results/runs/cpu/coil20/ahcl_mse/summary.json",
                 "results/runs/cpu/umist/dec/summary.json"):
        assert path in out, path
    assert "rule render_table" not in out
    for gate in sorted((REPO / "config").glob("regression*.yaml")):
        result = _snakemake(tmp_path, f"reports/{gate.stem}.md", "-n", check=False)
        assert result.returncode == 0 and "rule regression" in result.stdout, result.stdout + result.stderr
