"""The workflow's conventions (issue 17): per-rule envs, report() captions, no ruleorder, formatting,
DAGs that expand over the config (not over files that happen to exist), sweeps one job per cell,
and a rerun that recomputes exactly what is missing."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
RULES = sorted((REPO / "workflow/rules").glob("*.smk"))


def _copy_workflow(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("Snakefile", "environment.yml"):
        shutil.copy(REPO / name, dest / name)
    for name in ("workflow", "config"):
        shutil.copytree(REPO / name, dest / name)
    return dest


def _snakemake(cwd: Path, *args, check=True) -> str:
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(cwd), "OMP_NUM_THREADS": "1",
           "CLUSTERBENCH_DATA": str(cwd / "resources" / "data")}
    result = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=900)
    if check:
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result.stdout + result.stderr


def _jobs(dry_run_output: str) -> dict[str, int]:
    """rule -> count from a dry run's job stats table."""
    table = dry_run_output.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def _rule_blocks():
    for path in RULES:
        text = path.read_text()
        for match in re.finditer(r"^rule (\w+):\n(.*?)(?=^\S|\Z)", text, re.M | re.S):
            yield path, match.group(1), match.group(2)


# ---------------------------------------------------------------- envs, report(), formatting


def test_rule_envs_install_without_the_checkout():
    """workflow/envs/{training,reporting}.yaml: third-party packages with pyproject's pins, no `-e .`
    or path; every rule with a conda env uses one of them; reporting has no torch."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = {re.split(r"[=<>!~\[ ]", r, maxsplit=1)[0].lower(): r.replace(" ", "") for r in project["dependencies"]}
    envs = {}
    for name in ("training", "reporting"):
        env = yaml.safe_load((REPO / f"workflow/envs/{name}.yaml").read_text())
        pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
        for requirement in pip:
            assert not requirement.startswith(("-e", ".", "/", "file:", "git+")), (name, requirement)
            key = re.split(r"[=<>!~\[ ]", requirement, maxsplit=1)[0].lower()
            assert pins.get(key) == requirement, (name, requirement)
        envs[name] = {re.split(r"[=<>!~\[ ]", r, maxsplit=1)[0].lower() for r in pip}
    assert {"torch", "torchvision", "faiss-cpu", "medmnist"} <= envs["training"]
    assert not {"torch", "torchvision", "faiss-cpu"} & envs["reporting"]
    for path, rule, body in _rule_blocks():
        conda = re.search(r"conda:\n\s+\"([^\"]+)\"", body)
        if conda:
            assert conda.group(1) in ("../envs/training.yaml", "../envs/reporting.yaml"), (path.name, rule)


def _imported(tmp_path, code: str, modules: set[str]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has imported after running ``code``."""
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(set({sorted(modules)!r}) & set(sys.modules))))\n"
    out = subprocess.run([sys.executable, "-c", probe], check=True, cwd=tmp_path, capture_output=True, text=True)
    return json.loads(out.stdout)


def test_reporting_commands_import_no_torch(tmp_path):
    """The reporting env holds no torch: the CLI's reporting commands must not import it."""
    code = ("from clusterbench.framework import cli, aggregate, gate\n"
            "from clusterbench.framework.report import tables, index")
    assert _imported(tmp_path, code, {"torch", "faiss", "torchvision"}) == []


def test_cli_parser_imports_no_heavy_library(tmp_path):
    """Every DAG job starts by building the CLI's parser: it must not pay for pandas, scikit-learn, scipy or
    torch (a job imports what its command uses; the leaderboard's ranking pulled in pandas, 0.4 s a job)."""
    code = "from clusterbench.framework.cli import build_parser\nbuild_parser()"
    assert _imported(tmp_path, code, {"torch", "pandas", "sklearn", "scipy", "matplotlib"}) == []


def test_tables_and_figures_have_report_captions():
    """Every reports/*.md|png output of a rule is wrapped in report() with an existing caption."""
    captions = 0
    for path, rule, body in _rule_blocks():
        output = re.search(r"^    output:\n(.*?)(?=^    \w)", body, re.M | re.S)
        if not output:
            continue
        for line in output.group(1).splitlines():
            if re.search(r"\"reports/[^\"]+\.(md|png)\"", line) and "report(" not in line:
                pytest.fail(f"{path.name}:{rule}: {line.strip()} not wrapped in report()")
        for caption in re.findall(r"caption=\"([^\"]+)\"", output.group(1)):
            assert (path.parent / caption).resolve().exists(), (rule, caption)
            captions += 1
    assert captions >= 20


def test_no_ruleorder_and_snakefmt_clean():
    for path in [REPO / "Snakefile", *RULES]:
        assert "ruleorder:" not in path.read_text(), path
    if shutil.which("snakefmt", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("snakefmt not installed (pip install -e '.[test]')")
    result = subprocess.run([sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow/"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# ---------------------------------------------------------------- DAG shape (dry runs, seconds)


@pytest.mark.slow
def test_index_dag_does_not_depend_on_existing_reports(tmp_path):
    """reports/index.md asks for the same jobs whether or not some table reports exist."""
    bare = _copy_workflow(tmp_path / "bare")
    before = _jobs(_snakemake(bare, "-n", "reports/index.md", "--config", "profile=smoke"))
    (bare / "reports/nmce").mkdir(parents=True)
    (bare / "reports/nmce/table2.md").write_text("stale\n")
    after = _jobs(_snakemake(bare, "-n", "reports/index.md", "--config", "profile=smoke"))
    assert before == after
    assert before["render_table"] >= 1 and before["index"] == 1


@pytest.mark.slow
def test_reports_of_other_rules_need_no_ruleorder(tmp_path):
    wf = _copy_workflow(tmp_path / "wf")
    out = _snakemake(wf, "-n", "reports/ahcl/table1.md", "reports/rdc/table8_measured.md",
                     "reports/rdc/table6_measured.md", "reports/table1.md", "reports/regression.md")
    jobs = _jobs(out)
    assert "render_table" not in jobs
    assert {"ahcl_table1", "rdc_table8", "rdc_table6", "table1", "regression"} <= set(jobs)


@pytest.mark.slow
def test_nmce_figure1_records_are_written_by_one_rule(tmp_path):
    wf = _copy_workflow(tmp_path / "wf")
    out = _snakemake(wf, "-n", "reports/nmce/figure1.png")
    assert _jobs(out)["nmce_figure1_record"] == 6
    assert "results/figures/nmce/paper/nmce_double_spiral_40k/nmce/seed0/record.json" in out
    assert "results/runs/paper/nmce_double_spiral" not in out


def _materialise(wf: Path, out: str) -> list[Path]:
    """Create every output a dry run lists, oldest first in DAG order (a stand-in for a finished run)."""
    paths = []
    for block in out.split("\nrule ")[1:] + out.split("\nlocalrule ")[1:]:
        match = re.search(r"^    output: (.*)$", block, re.M)
        if match:
            paths += [p.strip() for p in match.group(1).split(",")]
    # DAG order: records/cells before summaries before reports
    order = ["pretrained/", "/cells/", ".csv", "reports/"]
    paths = sorted(set(paths), key=lambda p: next((i for i, k in enumerate(order) if k in p), len(order)))
    now = time.time() - 1000
    for i, p in enumerate(paths):
        path = wf / p
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")
        os.utime(path, (now + i, now + i))
    return paths


@pytest.mark.slow
def test_rdc_sweeps_one_job_per_cell_and_a_deleted_cell_alone_reruns(tmp_path):
    """Figures 17, 20 and Table 8 expand to one job per grid cell (25 + 6 + 4) sharing one pretraining;
    with everything present, deleting one cell's CSV reruns that cell and what reads it, nothing else."""
    wf = _copy_workflow(tmp_path / "wf")
    targets = ["reports/rdc/figure17.png", "reports/rdc/figure20.png", "reports/rdc/table8_measured.md"]
    out = _snakemake(wf, "-n", *targets, "--config", "rdc_figures_budget=smoke")
    jobs = _jobs(out)
    assert jobs["rdc_sweep_cell"] == 25 + 6 + 4 and jobs["rdc_sweep_pretrain"] == 1 and jobs["rdc_sweep"] == 3
    _materialise(wf, out)
    assert "Nothing to be done" in _snakemake(wf, "-n", *targets, "--config", "rdc_figures_budget=smoke")
    (wf / "results/figures/rdc/smoke/cells/alpha-beta/a0.8_b0.7.csv").unlink()
    out = _snakemake(wf, "-n", *targets, "--config", "rdc_figures_budget=smoke")
    assert _jobs(out) == {"rdc_sweep_cell": 1, "rdc_sweep": 1, "rdc_figure17": 1}
    assert "cell=a0.8_b0.7" in out


# ---------------------------------------------------------------- a real (tiny) run: report, resume


@pytest.mark.slow
def test_missing_run_summary_is_recomputed_alone_and_report_zip_builds(tmp_path):
    """A rerun after a run summary is lost recomputes that run only (Snakemake by itself would call the
    newer table up to date), the table comes back the same, and `snakemake --report` has content."""
    wf = _copy_workflow(tmp_path / "wf")
    config = ["--config", "profile=smoke", "methods=[kmeans,spectral]"]
    targets = ["reports/table2.md", "results/smoke/runs.csv"]
    _snakemake(wf, "--cores", "2", *config, "--", *targets)
    table = (wf / "reports/table2.md").read_text()
    assert "Nothing to be done" in _snakemake(wf, "-n", *config, "--", *targets)

    (wf / "results/runs/smoke/digits/spectral/summary.json").unlink()
    out = _snakemake(wf, "-n", *config, "--", *targets)
    assert _jobs(out) == {"run_method": 1, "render_table": 1, "aggregate": 1}, out[-3000:]
    assert "dataset=digits, method=spectral" in out
    _snakemake(wf, "--cores", "2", *config, "--", *targets)
    assert (wf / "reports/table2.md").read_text() == table
    assert "Nothing to be done" in _snakemake(wf, "-n", *config, "--", *targets)

    _snakemake(wf, "--report", "reports/report.zip", *config, "--", *targets)
    import zipfile

    with zipfile.ZipFile(wf / "reports/report.zip") as archive:
        names = archive.namelist()
    assert any(n.endswith("table2.md") for n in names) and any(n.endswith("runs.csv") for n in names), names


@pytest.mark.slow
def test_slurm_profile_asks_a_gpu_only_for_torch_jobs_on_cuda(tmp_path):
    """workflow/profiles/slurm as shipped: no blanket GPU or CPU count, threads for rules that exist;
    with device=cuda pretraining and torch methods ask one GPU and k-means none; with cpu nothing does.
    Memory comes from the measured peaks (workflow/resources.yaml)."""
    profile = yaml.safe_load((REPO / "workflow/profiles/slurm/config.yaml").read_text())
    text = (REPO / "workflow/profiles/slurm/config.yaml").read_text()
    assert "gres" not in text and "cpus_per_task" not in text and "slurm_partition" not in str(profile)
    assert (REPO / profile["slurm-partition-config"]).exists()
    rules = {rule for _, rule, _ in _rule_blocks()}
    assert set(profile["set-threads"]) <= rules, set(profile["set-threads"]) - rules
    wf = _copy_workflow(tmp_path / "wf")
    config = ["profile=smoke", "methods=[kmeans,ae_kmeans]"]
    for device, gpus in (("cuda", {"kmeans": "0", "ae_kmeans": "1", "ae_mse": "1"}),
                         ("cpu", {"kmeans": "0", "ae_kmeans": "0", "ae_mse": "0"})):
        out = _snakemake(wf, "-n", "--config", *config, f"device={device}", "--", "results/smoke/runs.csv")
        for block in out.split("\nrule ")[1:]:
            name = re.search(r"(?:method|recipe)=(\w+)", block)
            if block.startswith(("run_method", "pretrain")):
                assert f"gpu={gpus[name.group(1)]}," in block, (device, block)
                peaks = yaml.safe_load((REPO / "workflow/resources.yaml").read_text())["peaks"]["smoke"]
                dataset = re.search(r"dataset=(\w+)", block).group(1)
                job = name.group(1) if block.startswith("run_method") else f"pretrain/{name.group(1)}"
                expected = 256 * -(-(1.5 * peaks[dataset][job]["peak_mb"] + 512) // 256)
                assert f"mem_mb={int(expected)}," in block, block
