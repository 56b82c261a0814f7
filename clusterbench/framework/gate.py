"""Regression gate: reproduced numbers against published ones, and against the suite's own reference.

``config/regression.yaml`` names the gated cells::

    profile: paper                       # default profile of the gate
    tolerance: 3.0                       # points (percent scale): the floor of the one reproduction rule,
                                         # |mean - published| <= max(tolerance, 2 SEM) (clusterbench.budget)
    gated:
      - {paper: ahcl, table: "2", method: kmeans, dataset: umist, metric: acc}
      - {paper: ahcl, table: "2", method: kmeans, dataset: umist, metric: nmi_max, published_metric: nmi}
      # a run column read against a differently named published row (AHCL Table 3 "AHCL / KM-Z" is the
      # k-means-on-Z diagnostic of the `ahcl` runs, column acc_km_z):
      - {paper: ahcl, table: "3", method: ahcl, published_method: ahcl_km_z, dataset: usps,
         metric: acc_km_z, published_metric: acc}
    deviations:                          # measured, not gated: gap and explanation
      - {paper: ahcl, table: "2", method: kmeans, dataset: coil20, metric: acc, gap: 10.6, explanation: "..."}
    reference:
      z: 3.0                             # seed-noise multiplier of the reference mode
      floor: 0.5                         # points; smallest move that is flagged
      metrics: [acc, nmi, ari]

Published mode (``check_published``): every gated cell needs ok runs of
(profile, dataset, method) and is judged by the suite's one rule,
:func:`clusterbench.budget.reproduction`: at the paper budget it passes when it
reproduces (|mean − published| ≤ max(tolerance, 2 × SEM over the seeds)); at a
reduced budget (the cpu profile's AHCL, ...) the same bound makes it a
*regression check at that budget*, never a reproduction, and the report says so.
A cell whose seeds spread more than 5 points is marked unstable. A cell is gated only when its stored
run passes with room for a rerun (:func:`gating_problem`: inside the bound by at least 2√2 × SEM, two
standard errors of the difference of two seed means); the others are listed as deviations. Reference mode (``check_reference``):
``results/reference/{profile}.csv`` stores mean, std and n of the suite's own
earlier runs per (dataset, method, metric); a cell fails when the current mean
moves more than max(floor, z · sqrt(std_ref²/n_ref + std²/n)) from it (a
Welch-style bound on the difference of two seed means), so code changes that
move numbers beyond seed noise are caught where no published number exists.
Both return rows for a pass/fail table; a failure anywhere makes the command
exit non-zero.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from .registry import ConfigError

CONFIG_KEYS = {"profile", "tolerance", "gated", "deviations", "reference", "description"}
CELL_KEYS = {"paper", "table", "method", "dataset", "metric", "published_method", "published_metric", "tolerance",
             "note"}
DEVIATION_KEYS = CELL_KEYS | {"reproduced", "gap", "explanation"}
REFERENCE_COLUMNS = ["profile", "dataset", "method", "metric", "mean", "std", "n", "git_revision"]


@dataclass
class CheckRow:
    cell: str
    expected: str
    reproduced: str
    gap: float | None
    allowed: float | None
    status: str  # PASS | FAIL | NO RUNS
    detail: str = ""
    verdict: str = ""  # the rule's words: reproduced | not reproduced | reduced budget (+ ", unstable")
    budget: str = ""   # the cell's budget against the paper's, in words

    @property
    def failed(self) -> bool:
        return self.status != "PASS"


@dataclass
class Report:
    mode: str
    profile: str
    rows: list[CheckRow] = field(default_factory=list)
    deviations: list[dict] = field(default_factory=list)
    budgets: dict = field(default_factory=dict)  # method -> its budget in words, over the cells' datasets
    measured: dict = field(default_factory=dict)  # the gate file's provenance of its stored measurements

    @property
    def reduced(self) -> bool:
        """Some gated cell runs below the paper budget: the report is a regression check at that budget."""
        return any(r.verdict.startswith("reduced budget") for r in self.rows)

    @property
    def failed(self) -> list[CheckRow]:
        return [r for r in self.rows if r.failed]


def load_config(path: Path) -> dict:
    """A gate file checked against workflow/schemas/gate.schema.yaml; methods registered, datasets known."""
    from ..data import DATASETS
    from .registry import methods
    from .schema import load_yaml

    raw = load_yaml(path, "gate")
    registered = methods()
    for where in ("gated", "deviations"):
        for i, cell in enumerate(raw.get(where) or []):
            if cell["method"] not in registered:
                raise ConfigError(f"{path}: {where}.{i}.method: unknown method {cell['method']!r}; "
                                  f"registered: {', '.join(registered)}")
            if cell["dataset"] not in DATASETS:
                raise ConfigError(f"{path}: {where}.{i}.dataset: unknown dataset {cell['dataset']!r}")
    return raw


RERUN_Z = 2.0  # a gated cell passes its stored run with RERUN_Z standard errors of a rerun's move to spare


def rerun_margin(verdict) -> float:
    """How far a rerun's seed mean may move from the stored one: ``RERUN_Z`` standard errors of the difference
    of two independent n-seed means, 2 · √2 · SEM. Another processor or library build rounds differently, so a
    deep method's seeds follow other trajectories and a cell at the edge of the bound falls either side."""
    return RERUN_Z * math.sqrt(2.0) * verdict.sem


def gating_problem(verdict) -> str | None:
    """Why a measured cell (a :func:`clusterbench.budget.reproduction` verdict) is not gated, or None when it
    may be: outside the rule's bound, unstable, or inside the bound by less than :func:`rerun_margin`."""
    room, margin = verdict.allowed - abs(verdict.gap), rerun_margin(verdict)
    if not verdict.within:
        return f"outside the bound (|Δ| {abs(verdict.gap):.2f} > {verdict.allowed:.2f})"
    if verdict.unstable:
        return "unstable (std > 5 points)"
    if room < margin - 1e-9:
        return f"inside the bound by {room:.2f}, less than a rerun may move it (2√2 SEM = {margin:.2f})"
    return None


def stored_verdict(cell: dict, published: pd.DataFrame, tolerance: float = 3.0):
    """The rule's verdict on a cell's stored ``reproduced`` ("mean ± std (n=k)", percent cells), or None."""
    from ..budget import reproduction

    match = re.fullmatch(r"\s*([-\d.]+) ± ([\d.]+) \(n=(\d+)\)\s*", str(cell.get("reproduced", "")))
    pub = cell_published_value(published, cell)
    if match is None or pub is None or _scale_of(published, cell) != "percent":
        return None
    mean, std, n = float(match[1]), float(match[2]), int(match[3])
    # the budget changes the verdict's words, not its bound, gap or spread
    return reproduction(mean, std, n, pub, paper_budget=True, tolerance=float(cell.get("tolerance", tolerance)))


def cell_name(cell: dict) -> str:
    """``ahcl/2 kmeans umist acc``: how reports and errors name a gated cell."""
    return f"{cell['paper']}/{cell['table']} {cell['method']} {cell['dataset']} {cell['metric']}"


def _runs(runs_root: Path, profile: str, pairs, seeds: list[int] | None = None) -> pd.DataFrame:
    from .aggregate import aggregate

    return aggregate(Path(runs_root), profile, sorted(set(pairs)), seeds)


def _stats(runs: pd.DataFrame, dataset: str, method: str, metric: str) -> tuple[float, float, int, int] | None:
    """(mean, std, n_ok, n) of a metric over the ok seeds (fractions), or None without ok runs."""
    rows = runs[(runs.dataset == dataset) & (runs.method == method)] if len(runs) else runs
    ok = rows[rows.status == "ok"] if len(rows) else rows
    if len(ok) == 0 or metric not in ok.columns:
        return None
    values = ok[metric].astype(float)
    std = float(values.std(ddof=0)) if len(values) > 1 else 0.0
    return float(values.mean()), std, len(ok), len(rows)


def _why_no_runs(runs: pd.DataFrame, dataset: str, method: str) -> str:
    rows = runs[(runs.dataset == dataset) & (runs.method == method)] if len(runs) else runs
    if len(rows) == 0:
        return "no run records"
    reasons = sorted({str(r) for r in rows.reason.dropna()}) if "reason" in rows else []
    return f"no ok runs ({', '.join(sorted(set(rows.status)))}{': ' + reasons[0] if reasons else ''})"


def cell_published_value(published: pd.DataFrame, cell: dict) -> float | None:
    """The published value a cell is compared with (``published_method`` / ``published_metric`` default to
    the run's ``method`` / ``metric``)."""
    from .published import published_value

    return published_value(published, cell["paper"], str(cell["table"]),
                           cell.get("published_method", cell["method"]), cell["dataset"],
                           cell.get("published_metric", cell["metric"]))


def _scale_of(published: pd.DataFrame, cell: dict) -> str:
    """The published row's scale (percent, fraction or raw) of the cell's own metric."""
    method = cell.get("published_method", cell["method"])
    hit = published[(published.paper == cell["paper"]) & (published.table == str(cell["table"]))
                    & (published.method == method) & (published.dataset == cell["dataset"])
                    & (published.metric == cell.get("published_metric", cell["metric"]))]
    return str(hit.scale.iloc[0]) if len(hit) else "fraction"


def _selected(cells: list[dict], methods_: list[str] | None, datasets_: list[str] | None) -> list[dict]:
    """The cells of these methods and datasets (all when None)."""
    return [c for c in cells
            if (not methods_ or c["method"] in methods_) and (not datasets_ or c["dataset"] in datasets_)]


def check_published(config: dict, runs_root: Path, profile: str, published: pd.DataFrame,
                    methods_: list[str] | None = None, datasets_: list[str] | None = None,
                    seeds: list[int] | None = None) -> Report:
    """Every gated cell (of ``methods_`` / ``datasets_`` if given) against its published value, over the
    requested ``seeds`` (default: the profile's)."""
    report = Report("published", profile, deviations=_selected(list(config.get("deviations") or []), methods_,
                                                               datasets_), measured=dict(config.get("measured") or {}))
    cells = _selected(list(config.get("gated") or []), methods_, datasets_)
    if not cells and (methods_ or datasets_):
        raise ConfigError(f"no gated cell for methods {methods_ or 'all'} and datasets {datasets_ or 'all'}")
    runs = _runs(runs_root, profile, [(c["dataset"], c["method"]) for c in cells + report.deviations], seeds)
    from ..budget import budget as _budget, caption_line, reproduction

    budgets = {}

    def budget_of(method, dataset):
        if (method, dataset) not in budgets:
            try:
                budgets[(method, dataset)] = _budget(method, dataset, profile)
            except ConfigError:
                budgets[(method, dataset)] = None
        return budgets[(method, dataset)]

    for cell in cells:
        name = cell_name(cell)
        metric = cell["metric"]
        pub = cell_published_value(published, cell)
        if pub is None:
            raise ConfigError(f"gated cell {name}: no published value in results/published")
        scale = _scale_of(published, cell)
        factor = 100.0 if scale == "percent" else 1.0
        tolerance = float(cell.get("tolerance", config.get("tolerance", 3.0)))
        if scale != "percent" and "tolerance" not in cell:
            tolerance /= 100.0
        stats = _stats(runs, cell["dataset"], cell["method"], metric)
        expected = f"{pub:.2f}" if scale == "percent" else f"{pub:.3f}"
        b = budget_of(cell["method"], cell["dataset"])
        if stats is None:
            report.rows.append(CheckRow(name, expected, "–", None, None, "NO RUNS",
                                        _why_no_runs(runs, cell["dataset"], cell["method"]),
                                        budget=b.short if b else ""))
            continue
        mean, std, n_ok, n = stats[0] * factor, stats[1] * factor, stats[2], stats[3]
        verdict = reproduction(mean, std, n_ok, pub, paper_budget=bool(b and b.paper_budget),
                               scale="percent" if scale == "percent" else "fraction", tolerance=tolerance,
                               unstable_above=None if scale in ("percent", "fraction") else float("inf"))
        ok = verdict.reproduced or (not verdict.paper_budget and verdict.within)
        detail = "; ".join(part for part in (
            "" if n_ok == n else f"{n - n_ok} of {n} seeds not ok",
            (gating_problem(verdict) or "") if ok else "") if part)
        digits = 2 if scale == "percent" else 3
        reproduced = f"{mean:.{digits}f} ± {std:.{digits}f} (n={n_ok})"
        report.rows.append(CheckRow(name, expected, reproduced, verdict.gap, verdict.allowed,
                                    "PASS" if ok else "FAIL", detail, verdict.label, b.short if b else ""))
    measured = []
    for dev in report.deviations:
        dev = dict(dev)
        pub = cell_published_value(published, dev)
        dev["published"] = "" if pub is None else f"{pub:.2f}" if _scale_of(published, dev) == "percent" else f"{pub:.3f}"
        stats = _stats(runs, dev["dataset"], dev["method"], dev["metric"])
        if stats is not None and pub is not None:
            percent = _scale_of(published, dev) == "percent"
            factor, digits = (100.0, 2) if percent else (1.0, 3)
            dev["reproduced"] = f"{stats[0] * factor:.{digits}f} ± {stats[1] * factor:.{digits}f} (n={stats[2]})"
            dev["gap"] = stats[0] * factor - pub
            b = budget_of(dev["method"], dev["dataset"])
            dev["verdict"] = reproduction(stats[0] * factor, stats[1] * factor, stats[2], pub,
                                          paper_budget=bool(b and b.paper_budget),
                                          scale="percent" if percent else "fraction",
                                          unstable_above=None if percent or _scale_of(published, dev) == "fraction"
                                          else float("inf")).label
        measured.append(dev)
    report.deviations = measured
    per_method = {}
    for (method, _), b in budgets.items():
        if b is not None:
            per_method.setdefault(method, []).append(b)
    report.budgets = {m: caption_line(bs) for m, bs in per_method.items()}
    return report


def reference_frame(runs: pd.DataFrame, profile: str, metrics: list[str]) -> pd.DataFrame:
    """mean/std/n per (dataset, method, metric) of the ok runs: what ``results/reference`` stores."""
    rows = []
    ok = runs[runs.status == "ok"] if len(runs) else runs
    for (dataset, method), group in ok.groupby(["dataset", "method"], sort=True):
        revision = sorted({str(r) for r in group.git_revision.dropna()})
        for metric in metrics:
            values = group[metric].astype(float)
            rows.append({"profile": profile, "dataset": dataset, "method": method, "metric": metric,
                         "mean": round(float(values.mean()), 6),
                         "std": round(float(values.std(ddof=0)) if len(values) > 1 else 0.0, 6),
                         "n": len(values), "git_revision": ";".join(revision)})
    return pd.DataFrame(rows, columns=REFERENCE_COLUMNS)


def check_reference(config: dict, runs_root: Path, profile: str, reference: pd.DataFrame,
                    methods_: list[str] | None = None, datasets_: list[str] | None = None,
                    seeds: list[int] | None = None) -> Report:
    """The profile's current runs against the stored reference (fractions, shown in points)."""
    settings = config.get("reference") or {}
    z = float(settings.get("z", 3.0))
    floor = float(settings.get("floor", 0.5)) / 100.0
    report = Report("reference", profile)
    ref = reference[reference.profile == profile] if "profile" in reference else reference
    if methods_:
        ref = ref[ref.method.isin(methods_)]
    if datasets_:
        ref = ref[ref.dataset.isin(datasets_)]
    runs = _runs(runs_root, profile, list(zip(ref.dataset, ref.method)), seeds)
    for r in ref.itertuples(index=False):
        name = f"{profile} {r.method} {r.dataset} {r.metric}"
        expected = f"{100 * r.mean:.2f} ± {100 * r.std:.2f} (n={r.n})"
        stats = _stats(runs, r.dataset, r.method, r.metric)
        if stats is None:
            report.rows.append(CheckRow(name, expected, "–", None, None, "NO RUNS",
                                        _why_no_runs(runs, r.dataset, r.method)))
            continue
        mean, std, n_ok, _ = stats
        noise = math.sqrt(r.std ** 2 / max(r.n, 1) + std ** 2 / max(n_ok, 1))
        allowed = max(floor, z * noise)
        gap = mean - r.mean
        report.rows.append(CheckRow(name, expected, f"{100 * mean:.2f} ± {100 * std:.2f} (n={n_ok})",
                                    100 * gap, 100 * allowed, "PASS" if abs(gap) <= allowed + 1e-12 else "FAIL"))
    return report


def format_report(report: Report, revision: str, source: str = "config/regression.yaml") -> tuple[str, str]:
    """(plain text table for the terminal, markdown for reports/regression.md); ``source``: the gate file."""
    from tabulate import tabulate

    from ..budget import RULE_TEXT

    published_mode = report.mode == "published"
    headers = ["Cell", "Published" if published_mode else "Reference", "Reproduced", "Gap", "Allowed", "Status"] + (
        ["Rule", "Budget"] if published_mode else []) + ["Detail"]
    body = [[r.cell, r.expected, r.reproduced, "–" if r.gap is None else f"{r.gap:+.2f}",
             "–" if r.allowed is None else f"{r.allowed:.2f}", r.status]
            + ([r.verdict or "–", r.budget or "–"] if published_mode else []) + [r.detail] for r in report.rows]
    failed = report.failed
    what = f"gated cells (regression check at budget {report.profile})" if report.reduced else "gated cells"
    verdict = (f"FAIL: {len(failed)} of {len(report.rows)} {what} failed: "
               + ", ".join(r.cell for r in failed)) if failed else f"PASS: all {len(report.rows)} {what}"
    if published_mode and not report.reduced and not failed:
        verdict += " reproduce"
    text = tabulate(body, headers=headers, tablefmt="simple", disable_numparse=True) + "\n" + verdict + "\n"
    if published_mode:
        rule = (f"the suite's one rule ({RULE_TEXT}). A gated cell at the paper budget passes when it is "
                "reproduced; one at a reduced budget passes when |Δ| lies within the same bound, a regression "
                "check at that budget, not a reproduction")
    else:
        rule = "the current mean lies within max(floor, z · sqrt(std_ref²/n_ref + std²/n)) of the reference mean"
    title = (f"# Regression check at budget `{report.profile}` (not a reproduction)" if published_mode and report.reduced
             else f"# Regression check ({report.mode}, profile `{report.profile}`)")
    md = [title, "", f"Gated cells from `{source}`; rule: {rule}. Gap and allowed are in points.", ""]
    if published_mode and report.reduced and report.budgets:
        md += ["Budgets against the papers': " + "; ".join(report.budgets.values()) + ".", ""]
    md += [tabulate(body, headers=headers, tablefmt="pipe", disable_numparse=True), "", f"**{verdict}**", ""]
    if published_mode and report.deviations:
        dev_headers = ["Cell", "Published", "Reproduced (measured)", "Gap", "Rule", "Explanation"]
        notes = list(dict.fromkeys(d.get("explanation", "") for d in report.deviations if d.get("explanation")))
        dev_body = [[cell_name(d), str(d.get("published", "")), str(d.get("reproduced", "")),
                     f"{float(d['gap']):+.2f}" if d.get("gap") is not None else "", d.get("verdict", "–"),
                     f"[{notes.index(d['explanation']) + 1}]" if d.get("explanation") else ""]
                    for d in report.deviations]
        md += ["## Deviations (not gated)", "",
               "Cells outside the rule's bound (|Δ| ≤ max(3 points, 2 × SEM)), unstable, or inside it by less "
               "than a rerun's mean may move (2√2 × SEM: another processor rounds differently). They are not gated "
               "(a bound is never widened to make a cell pass); the self-reference mode (`clusterbench check "
               "--reference`) covers them.", "",
               tabulate(dev_body, headers=dev_headers, tablefmt="pipe", disable_numparse=True), ""]
        if report.measured:
            m = report.measured
            md += [f"Deviations as stored in the gate file, measured at commit {m['commit']} (seeds {m['seeds']}; "
                   f"{m['machine']})" + (f"; {m['note'].strip()}" if m.get("note") else "") + ".", ""]
        md += [f"[{i}] {note.strip()}" + "\n" for i, note in enumerate(notes, 1)]
    md += ["Sources: results/published/*.csv (see references.bib); "
           + ("runs under results/runs/" if published_mode else
              "reference in results/reference/") + ".", "", f"Checked by {revision}.", ""]
    return text, "\n".join(md)
