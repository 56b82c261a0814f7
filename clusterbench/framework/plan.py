"""Cost preview of a Snakemake target before it runs: ``clusterbench plan reports/ahcl/table2.md --profile paper``.

The jobs come from Snakemake's own dry run of the target (``snakemake -n``; ``--all`` adds ``--forceall``, the
cost of a run from scratch), so the preview lists exactly what the DAG would run. Each ``run_method`` job
(all seeds of one method on one dataset) and ``pretrain`` job (one shared pretraining recipe) is priced as

    seconds = seeds x (fixed + per_step x steps)

with ``steps`` the training steps of the resolved configuration (:func:`training_steps`) and ``per_step`` /
``fixed`` measured for that (method, dataset, profile) on this kind of machine by
``benchmarks/costs.py`` (a straight line through fits at two shortened budgets: ``fixed`` is what does not
grow with the budget: data loading, the final clustering). Costs live in ``results/costs.csv``
(generated; rows carry the machine, threads and commit they were measured with, and a (method, dataset,
profile) can hold one row per processor model: the preview takes this machine's row where there is one, else
the latest, and says which machines priced it, since per-step CPU seconds differ between processors). A job
without a measured row is listed as "not measured", never guessed. Beside each job the preview prints R-DC Table 6's T4 time
(seconds per 1,000 iterations) scaled to the job's steps where the paper timed that (method, dataset): the
only published GPU times in the suite's papers.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

COSTS_CSV = Path("results/costs.csv")
COST_COLUMNS = ("kind", "name", "dataset", "profile", "per_step_s", "fixed_s", "steps_measured", "device", "threads",
                "machine", "commit", "measured_at")
PRICED_RULES = ("run_method", "pretrain")


def training_steps(config, n_samples: int | None = None) -> int | None:
    """Optimisation steps a resolved method or pretraining config trains for (None: no length key).

    AHCL-style ``epochs`` x ``iterations``; NMCE's stage lengths summed (``unit: epochs`` counts epochs of
    N / batch); DEC / IDEC / DynAE ``max_iter`` (a cap); R-DC ``max_iterations``; the layer-wise pretraining's
    iterations per layer pair x pairs + fine-tuning; MSE pretraining epochs x ceil(N / batch), capped by
    ``max_steps``. (The same conventions as the reports' budget marks.)
    """
    c = dataclasses.asdict(config)
    per_epoch = math.ceil(n_samples / int(c.get("batch_size") or 256)) if n_samples else 1
    if "epochs" in c and "iterations" in c:
        return int(c["epochs"]) * int(c["iterations"])
    if "s1_length" in c:
        stages = {"one_stage": 1, "tcr_ensc": 1, "two_stage": 2, "three_stage": 3}.get(c.get("procedure"), 3)
        unit = per_epoch if c.get("unit") == "epochs" else 1
        return sum(int(c.get(f"s{k}_length") or 0) for k in range(1, stages + 1)) * unit
    if "max_iterations" in c:
        return int(c["max_iterations"])
    if "max_iter" in c and "update_interval" in c:
        return int(c["max_iter"])
    if "layer_iterations" in c:
        return int(c["layer_iterations"]) * (len(c.get("hidden") or []) + 1) + int(c.get("finetune_iterations") or 0)
    if "iterations" in c:
        return int(c["iterations"])
    if "epochs" in c:
        steps = int(c["epochs"]) * per_epoch
        return min(steps, int(c["max_steps"])) if c.get("max_steps") else steps
    return None


def early_stop(config) -> bool:
    """Whether a config may stop before its ``training_steps`` (DEC-family ``tol`` > 0, R-DC's tau rule)."""
    c = dataclasses.asdict(config)
    return bool(c.get("tol")) or ("patience" in c and "max_iterations" in c)


def shortened(config, steps: int, n_samples: int | None = None) -> dict:
    """Overrides that make ``config`` train for about ``steps`` steps (for measuring), or {} when unknown."""
    c = dataclasses.asdict(config)
    if "epochs" in c and "iterations" in c:  # one epoch of ``steps`` iterations (the cost per step is the same)
        return {"epochs": 1, "iterations": steps}
    if "max_iterations" in c:  # R-DC: its tau rule (Algorithm 1, line 13) must not stop a measuring fit early
        return {"max_iterations": steps, **({"patience": steps + 1} if "patience" in c else {})}
    if "max_iter" in c and "update_interval" in c:  # DEC / IDEC / DynAE: no early stop while measuring
        return {"max_iter": steps, **({"tol": 0.0} if "tol" in c else {})}
    if "s1_length" in c and c.get("unit", "steps") == "steps":
        return {"s1_length": steps, "s2_length": 0, "s3_length": 0} if "s3_length" in c else {"s1_length": steps}
    if "epochs" in c:
        per_epoch = math.ceil(n_samples / int(c.get("batch_size") or 256)) if n_samples else 1
        return {"epochs": max(1, round(steps / per_epoch)), **({"max_steps": steps} if "max_steps" in c else {})}
    return {}


@dataclass
class Job:
    rule: str
    wildcards: dict
    seeds: int = 0
    steps: int | None = None
    per_step_s: float | None = None
    fixed_s: float | None = None
    t4_s_per_1000: float | None = None
    note: str = ""
    machine: str = ""  # the processor its costs row was measured on
    capped: bool = False  # steps are a cap: the method may stop earlier (DEC's tol, R-DC's tau rule)

    @property
    def name(self) -> str:
        return self.wildcards.get("method") or f"pretrain:{self.wildcards.get('recipe')}"

    @property
    def seconds(self) -> float | None:
        if self.per_step_s is None:
            return None
        return self.seeds * (self.fixed_s + self.per_step_s * (self.steps or 0))

    @property
    def t4_seconds(self) -> float | None:
        if self.t4_s_per_1000 is None or self.steps is None:
            return None
        return self.seeds * self.t4_s_per_1000 * self.steps / 1000


def dry_run_jobs(target: str, profile: str, forceall: bool = False, snakefile: str | None = None,
                 extra_config: list[str] | None = None) -> list[Job]:
    """The jobs of ``snakemake -n TARGET --config profile=PROFILE`` (rule and wildcards of each)."""
    cmd = [sys.executable, "-m", "snakemake", "-n", "--config", f"profile={profile}", *(extra_config or [])]
    if forceall:
        cmd.append("--forceall")
    if snakefile:
        cmd += ["--snakefile", snakefile]
    out = subprocess.run(cmd + ["--", target], capture_output=True, text=True)
    if out.returncode != 0:
        tail = (out.stderr or out.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"snakemake dry run of {target!r} failed: " + " | ".join(tail))
    return parse_dry_run(out.stdout + "\n" + out.stderr)


_RULE = re.compile(r"^(?:local)?rule (\w+):\s*$")
_WILDCARDS = re.compile(r"^\s+wildcards: (.*)$")


def parse_dry_run(text: str) -> list[Job]:
    """Jobs (rule, wildcards) from the text of a Snakemake dry run."""
    jobs, rule = [], None
    for line in text.splitlines():
        m = _RULE.match(line)
        if m:
            rule = m.group(1)
            jobs.append(Job(rule, {}))
            continue
        m = _WILDCARDS.match(line)
        if m and jobs and rule:
            jobs[-1].wildcards = dict(part.split("=", 1) for part in m.group(1).split(", ") if "=" in part)
    return jobs


def this_machine() -> str:
    """The CPU model (as run records name it) and count, as costs rows record it: ``"AMD EPYC, 2 CPUs"``."""
    from .runner import _cpu_model  # imported here: parsing a dry run needs none of the runner's imports

    return f"{_cpu_model()}, {os.cpu_count()} CPUs"


def load_costs(path: Path = COSTS_CSV, machine: str | None = None) -> dict[tuple[str, str, str], dict]:
    """Measured costs keyed by (name, dataset, profile); name is a method or ``pretrain:{recipe}``. Where a key
    has rows from several machines: the row of ``machine`` (default: this one), else the latest measured."""
    if not Path(path).exists():
        return {}
    machine = machine or this_machine()

    def rank(row: dict) -> tuple[bool, str]:
        return row.get("machine") == machine, row.get("measured_at", "")

    out: dict[tuple[str, str, str], dict] = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            key = (r["name"], r["dataset"], r["profile"])
            if key not in out or rank(r) > rank(out[key]):
                out[key] = r
    return out


def _t4_times() -> dict[tuple[str, str], float]:
    """R-DC Table 6: seconds for 1,000 training iterations on a T4, by (method, dataset)."""
    try:
        from .published import load_published
    except ImportError:  # pragma: no cover
        return {}
    frame = load_published()
    rows = frame[(frame.paper == "rdc") & (frame.table.astype(str) == "6") & (frame.metric == "runtime_s")]
    return {(r.method, r.dataset): float(r.value) for r in rows.itertuples()}


def price(jobs: list[Job], seeds: int, costs: dict) -> list[Job]:
    """Fill steps, measured costs and the T4 reference into the priced jobs; other rules are dropped."""
    from ..blocks.pretrain import resolve_recipe
    from ..data import get_spec
    from .registry import resolve_config

    t4 = _t4_times()
    out = []
    for job in jobs:
        if job.rule not in PRICED_RULES:
            continue
        w = job.wildcards
        profile, dataset = w["profile"], w["dataset"]
        n = get_spec(dataset).n_samples
        if job.rule == "run_method":
            _, config = resolve_config(w["method"], dataset, profile)
        else:
            config = resolve_recipe(w["recipe"], dataset, profile)
        job.seeds, job.steps = seeds, training_steps(config, n)
        job.capped = early_stop(config)
        row = costs.get((job.name, dataset, profile))
        if row is not None:
            job.per_step_s, job.fixed_s = float(row["per_step_s"]), float(row["fixed_s"])
            job.note = f"{row['device']}, {row['threads']} thread(s), {row['machine']}"
            job.machine = row["machine"]
        else:
            job.note = "not measured (benchmarks/costs.py)"
        job.t4_s_per_1000 = t4.get((w.get("method"), dataset))
        out.append(job)
    return out


def _hours(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 3600:.2f}"


def format_plan(target: str, profile: str, jobs: list[Job], skipped: dict[str, int],
                machine: str | None = None) -> str:
    """Markdown table of the priced jobs and the totals."""
    budgets = sorted({j.wildcards.get("profile", profile) for j in jobs}) or [profile]
    lines = [f"# Cost preview: {target} (budgets: {', '.join(budgets)})", "",
             f"Jobs at the {', '.join(budgets)} profile's budgets" +
             (f"; the target fixes them, not --profile {profile}, which sets the seeds only "
              "(reports/{profile}/{table}.md renders a table from another profile's runs)"
              if budgets != [profile] else "") + ". "
             "CPU hours = seeds x (fixed + per step x steps), from results/costs.csv. "
             "T4 hours: R-DC Table 6 (seconds per 1,000 iterations on a T4) x steps, where the paper timed it.", "",
             "| job | name | dataset | profile | seeds | steps/seed | s/step | fixed s/seed | CPU hours "
             "| T4 hours (R-DC Table 6) | measured on |",
             "|---|---|---|---|---:|---:|---:|---:|---:|---:|---|"]
    jobs = sorted(jobs, key=lambda j: (j.rule != "pretrain", j.name, j.wildcards["dataset"]))
    for j in jobs:
        steps = "-" if j.steps is None else ("≤ " if j.capped else "") + f"{j.steps:,}"
        lines.append(f"| {j.rule} | {j.name} | {j.wildcards['dataset']} | {j.wildcards.get('profile', '-')} | "
                     f"{j.seeds} | {steps} | "
                     f"{'-' if j.per_step_s is None else f'{j.per_step_s:.4f}'} | "
                     f"{'-' if j.fixed_s is None else f'{j.fixed_s:.1f}'} | {_hours(j.seconds)} | "
                     f"{_hours(j.t4_seconds)} | {j.note} |")
    measured = [j.seconds for j in jobs if j.seconds is not None]
    missing = [j for j in jobs if j.seconds is None]
    missing_names = ", ".join(f"{j.name}/{j.wildcards['dataset']}" for j in missing)
    lines += ["", f"Total CPU hours (measured jobs): {sum(measured) / 3600:.2f} over {len(measured)} of "
              f"{len(jobs)} priced jobs" + (f"; not measured: {missing_names}" if missing else "") + "."]
    machine = machine or this_machine()
    sources = Counter(j.machine for j in jobs if j.machine)
    if sources and set(sources) != {machine}:
        lines.append("Measured on " + "; ".join(f"{m} ({n} jobs)" for m, n in sorted(sources.items())) +
                     f"; this machine is {machine}. Per-step CPU seconds differ between processors (checks across "
                     "machines: results/costs_check.csv); `python benchmarks/costs.py` measures this machine's rows.")
    if any(j.capped and j.seconds is not None for j in jobs):
        lines.append("Steps marked ≤ are a cap (DEC's tol, R-DC's tau rule may stop the fit earlier): those jobs' "
                     "hours, and the total, are upper bounds.")
    t4 = [j.t4_seconds for j in jobs if j.t4_seconds is not None]
    if t4:
        lines.append(f"T4 hours where R-DC Table 6 gives a time: {sum(t4) / 3600:.2f} over {len(t4)} jobs.")
    if skipped:
        lines.append("Other jobs (not priced: seconds each): " + ", ".join(f"{k} x{v}" for k, v in sorted(skipped.items())) + ".")
    return "\n".join(lines) + "\n"


def plan(target: str, profile: str, *, seeds: int | None = None, forceall: bool = False,
         costs_path: Path = COSTS_CSV) -> str:
    from .registry import load_profile

    seeds = seeds or len(load_profile(profile)["seeds"])
    jobs = dry_run_jobs(target, profile, forceall, extra_config=[f"seeds={seeds}"] if seeds else None)
    skipped: dict[str, int] = {}
    for j in jobs:
        if j.rule not in PRICED_RULES:
            skipped[j.rule] = skipped.get(j.rule, 0) + 1
    return format_plan(target, profile, price(jobs, seeds, load_costs(costs_path)), skipped)
