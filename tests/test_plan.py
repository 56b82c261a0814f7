"""`clusterbench plan`: jobs from Snakemake's dry run, steps from the registry, hours from measured costs."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clusterbench.framework.plan import (COST_COLUMNS, Job, format_plan, load_costs, parse_dry_run, price,
                                         shortened, this_machine, training_steps)
from clusterbench.framework.registry import resolve_config

REPO = Path(__file__).resolve().parent.parent

DRY_RUN = """Building DAG of jobs...
[Tue Dec  1 16:06:56 2026]
rule run_method:
    input: resources/datasets/usps.json, config/methods/ahcl.yaml
    output: results/runs/paper/usps/ahcl/summary.json
    jobid: 3
    wildcards: profile=paper, dataset=usps, method=ahcl
    resources: tmpdir=/tmp

[Tue Dec  1 16:06:56 2026]
rule pretrain:
    output: resources/pretrained/paper/usps/ae_mse/done.json
    wildcards: profile=paper, dataset=usps, recipe=ae_mse

localrule render_table:
    output: reports/ahcl/table2.md
    wildcards: table=ahcl/table2
"""


def test_parse_dry_run_reads_rules_and_wildcards():
    jobs = parse_dry_run(DRY_RUN)
    assert [j.rule for j in jobs] == ["run_method", "pretrain", "render_table"]
    assert jobs[0].wildcards == {"profile": "paper", "dataset": "usps", "method": "ahcl"}
    assert jobs[1].name == "pretrain:ae_mse"


def test_training_steps_follow_the_registry():
    _, cpu = resolve_config("ahcl", "usps", "cpu")
    _, paper = resolve_config("ahcl", "usps", "paper")
    assert training_steps(cpu) == 10 * 20 and training_steps(paper) == 140 * 20
    _, dec = resolve_config("dec", "usps", "cpu")
    assert training_steps(dec) == dec.max_iter
    _, km = resolve_config("kmeans", "usps", "cpu")
    assert training_steps(km) is None
    short = shortened(paper, 4)
    _, cfg = resolve_config("ahcl", "usps", "paper", short)
    assert training_steps(cfg) == 4
    # the early stops (DEC's tol, R-DC's tau rule) are off while measuring, so a fit runs the steps it is given
    _, dec_short = resolve_config("dec", "usps", "cpu", shortened(dec, 40))
    assert training_steps(dec_short) == 40 and dec_short.tol == 0
    _, rdc = resolve_config("rdc", "mnist5k", "quick")
    _, rdc_short = resolve_config("rdc", "mnist5k", "quick", shortened(rdc, 60))
    assert training_steps(rdc_short) == 60 and rdc_short.patience > 60 // rdc.update_interval + 1


def test_price_uses_measured_rows_and_says_not_measured_otherwise():
    jobs = parse_dry_run(DRY_RUN)
    costs = {("ahcl", "usps", "paper"): {"per_step_s": "2.0", "fixed_s": "10", "device": "cpu", "threads": "1",
                                         "machine": "test"}}
    priced = price(jobs, 10, costs)
    assert [j.rule for j in priced] == ["run_method", "pretrain"]
    ahcl = priced[0]
    assert ahcl.seconds == pytest.approx(10 * (10 + 2.0 * 2800))
    assert priced[1].seconds is None and "not measured" in priced[1].note
    text = format_plan("reports/ahcl/table2.md", "paper", priced, {"render_table": 1})
    assert f"{10 * (10 + 2.0 * 2800) / 3600:.2f}" in text
    assert "not measured: pretrain:ae_mse/usps" in text and "render_table x1" in text


def test_costs_rows_per_machine_and_the_preview_names_other_processors(tmp_path):
    """A (method, dataset, profile) can hold a row per processor: the preview takes this machine's, else the
    latest, and says when its hours come from another processor; costs.py upserts per processor."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from costs import CHECK_COLUMNS, upsert

    def row(machine, per_step, when):
        return {"kind": "method", "name": "ahcl", "dataset": "usps", "profile": "paper", "per_step_s": per_step,
                "fixed_s": "10", "steps_measured": "20+40", "device": "cpu", "threads": 1, "machine": machine,
                "commit": "x", "measured_at": when}

    path = tmp_path / "costs.csv"
    upsert(path, [row("CPU A, 2 CPUs", "2.0", "2026-12-01T10:00Z"), row("CPU B, 2 CPUs", "3.0", "2026-12-01T09:00Z")])
    upsert(path, [row("CPU B, 2 CPUs", "4.0", "2026-12-01T08:00Z")])  # replaces B's row only
    assert sorted(r["per_step_s"] for r in csv.DictReader(open(path))) == ["2.0", "4.0"]
    assert load_costs(path, machine="CPU B, 2 CPUs")[("ahcl", "usps", "paper")]["per_step_s"] == "4.0"
    assert load_costs(path, machine="CPU C, 2 CPUs")[("ahcl", "usps", "paper")]["per_step_s"] == "2.0"  # latest
    jobs = price(parse_dry_run(DRY_RUN), 10, load_costs(path, machine="CPU C, 2 CPUs"))
    text = format_plan("reports/ahcl/table2.md", "paper", jobs, {}, machine="CPU C, 2 CPUs")
    assert "Measured on CPU A, 2 CPUs (1 jobs); this machine is CPU C, 2 CPUs" in text
    same = format_plan("reports/ahcl/table2.md", "paper", jobs, {}, machine="CPU A, 2 CPUs")
    assert "this machine is" not in same
    assert this_machine().endswith(f", {os.cpu_count()} CPUs")
    # checks: one row per (check machine, row machine)
    checks = tmp_path / "check.csv"
    base = {"name": "ahcl", "dataset": "usps", "profile": "paper", "error_pct": "+1.0"}
    upsert(checks, [dict(base, machine="CPU A, 2 CPUs", row_machine="CPU A, 2 CPUs"),
                    dict(base, machine="CPU B, 2 CPUs", row_machine="CPU A, 2 CPUs")], CHECK_COLUMNS)
    upsert(checks, [dict(base, machine="CPU B, 2 CPUs", row_machine="CPU A, 2 CPUs", error_pct="-2.0")], CHECK_COLUMNS)
    assert sorted(r["error_pct"] for r in csv.DictReader(open(checks))) == ["+1.0", "-2.0"]


def test_plan_names_the_jobs_budgets_not_the_requested_profile():
    """reports/ahcl/table2.md always renders paper runs: a preview asked with --profile cpu says so."""
    priced = price(parse_dry_run(DRY_RUN), 10, {})
    text = format_plan("reports/ahcl/table2.md", "cpu", priced, {})
    assert text.splitlines()[0] == "# Cost preview: reports/ahcl/table2.md (budgets: paper)"
    assert "not --profile cpu" in text and "| run_method | ahcl | usps | paper | 10 |" in text
    assert "not --profile" not in format_plan("reports/ahcl/table2.md", "paper", priced, {})


def test_price_puts_rdc_table6_t4_time_beside():
    jobs = [Job("run_method", {"profile": "paper", "dataset": "fmnist", "method": "dec"})]
    (job,) = price(jobs, 10, {})
    assert job.t4_s_per_1000 == 107  # R-DC Table 6, DEC on FMNIST
    assert job.capped  # DEC's max_iter is a cap (tol); the preview says its hours are an upper bound
    costs = {("dec", "fmnist", "paper"): {"per_step_s": "0.01", "fixed_s": "1", "device": "cpu", "threads": "1",
                                         "machine": "test"}}
    text = format_plan("reports/rdc/table3.md", "paper", price(jobs, 10, costs), {})
    assert f"| ≤ {job.steps:,} |" in text and "upper bounds" in text
    (ahcl,) = price([Job("run_method", {"profile": "paper", "dataset": "usps", "method": "ahcl"})], 10, {})
    assert not ahcl.capped
    assert job.t4_seconds == pytest.approx(10 * 107 * training_steps(resolve_config("dec", "fmnist", "paper")[1]) / 1000)


@pytest.mark.slow
def test_plan_command_end_to_end(tmp_path):
    """The CLI runs Snakemake's dry run of a target in a copy of the workflow and prices its run_method job."""
    work = tmp_path / "wf"
    work.mkdir()
    for name in ("Snakefile", "config", "workflow"):
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, work / name)
    costs = tmp_path / "costs.csv"
    with open(costs, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COST_COLUMNS)
        w.writeheader()
        w.writerow({"kind": "method", "name": "ahcl", "dataset": "digits", "profile": "smoke", "per_step_s": "0.5",
                    "fixed_s": "3", "steps_measured": "2+4", "device": "cpu", "threads": 1, "machine": "test",
                    "commit": "x", "measured_at": "now"})
    out = subprocess.run([sys.executable, "-m", "clusterbench", "plan", "results/runs/smoke/digits/ahcl/summary.json",
                          "--profile", "smoke", "--seeds", "2", "--costs", str(costs)], cwd=work,
                         capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert out.returncode == 0, out.stderr[-2000:]
    _, smoke = resolve_config("ahcl", "digits", "smoke")
    hours = 2 * (3 + 0.5 * training_steps(smoke)) / 3600
    assert "| run_method | ahcl | digits | smoke | 2 |" in out.stdout and f"{hours:.2f}" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "clusterbench", "plan", "no/such/target.md", "--profile", "smoke"],
                         cwd=work, capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "dry run" in bad.stderr


@pytest.mark.slow
def test_costs_measures_pretraining_and_checks_a_row(tmp_path):
    """benchmarks/costs.py: a shared pretraining gets its own row (priced by the preview), and --check compares
    one more fit with the row's prediction."""
    costs, checked = tmp_path / "costs.csv", tmp_path / "check.csv"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    script = str(REPO / "benchmarks" / "costs.py")
    run = subprocess.run([sys.executable, script, "--method", "pretrain:ae_mse", "ahcl", "--dataset", "digits",
                          "--profile", "smoke", "--steps", "4", "40", "--out", str(costs)],
                         capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    rows = {r["name"]: r for r in csv.DictReader(open(costs))}
    assert rows["pretrain:ae_mse"]["kind"] == "pretrain" and rows["ahcl"]["kind"] == "method"
    assert float(rows["pretrain:ae_mse"]["per_step_s"]) > 0 and rows["ahcl"]["steps_measured"] == "4+40"
    run = subprocess.run([sys.executable, script, "--check", "0", "--method", "ahcl", "--dataset", "digits",
                          "--profile", "smoke", "--out", str(costs), "--check-out", str(checked)],
                         capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    (row,) = csv.DictReader(open(checked))
    _, smoke = resolve_config("ahcl", "digits", "smoke")
    assert int(row["steps_run"]) == int(row["full_steps"]) == training_steps(smoke) and row["seed"] == "0"
    assert row["machine"] == row["row_machine"] == this_machine()
    per_step, fixed = float(rows["ahcl"]["per_step_s"]), float(rows["ahcl"]["fixed_s"])
    assert float(row["predicted_s"]) == pytest.approx(fixed + per_step * training_steps(smoke), abs=0.01)
    preview, scaled = float(row["preview_s"]), float(row["scaled_s"])
    # the columns are written to 0.01 s and 0.1 %: at smoke size (tenths of a second) their rounding alone
    # moves the recomputed error by up to 100 * 0.005 * (1/scaled + preview/scaled²) points
    rounding = 100 * 0.005 * (1 / scaled + preview / scaled ** 2) + 0.05
    assert float(row["error_pct"]) == pytest.approx(100 * (preview - scaled) / scaled, abs=rounding)
    jobs = [Job("pretrain", {"profile": "smoke", "dataset": "digits", "recipe": "ae_mse"})]
    (job,) = price(jobs, 2, {(r["name"], r["dataset"], r["profile"]): r for r in rows.values()})
    assert job.seconds is not None and "not measured" not in job.note
    missing = subprocess.run([sys.executable, script, "--check", "0", "--method", "dec", "--dataset", "digits",
                              "--profile", "smoke", "--out", str(costs), "--check-out", str(checked)],
                             capture_output=True, text=True, env=env)
    assert missing.returncode != 0 and "no row for dec/digits/smoke" in missing.stderr
