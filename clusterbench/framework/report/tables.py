"""Render a table spec (YAML) with run results and published numbers to markdown and LaTeX.

Spec keys::

    title: "Main results"              # {profile} is substituted
    caption: "..."
    profile: paper                     # optional: the profile whose runs the table shows
                                       # (default: the profile given to render)
    rows: registered                   # or a list of rows (below)
    datasets: profile                  # or a list of {dataset, label}
    metrics: [{key: acc, label: ACC, published: acc}, ...]
    columns: [...]                     # optional, replaces datasets x metrics (below)
    scale: percent                     # percent | fraction
    digits: 2
    tolerance: 3.0                     # the reproduction rule's floor (display units; default 3 points /
                                       # 0.03): clusterbench.budget.reproduction
    published: [{paper: ahcl, table: "2"}]   # where published values are looked up, in order
    notes: "..."
    caveats:                           # comparability caveats, marked in the cells they concern
      - {method: kmeans, dataset: coil20, metric: acc, text: "..."}   # any of method/dataset/metric
    markdown: per_metric                # optional: the markdown as one table per metric (datasets as
                                       # columns) instead of one wide table; LaTeX keeps one table

A row is ``{label, method, published, published_only, dataset, metric, variant}``:
``method`` is the suite's method key (reproduced values come from its runs),
``variants`` a per-dataset ``variant`` (``{palm: sc_z}``: that column reads the SC-Z clustering),
``published`` the ``method`` column of ``results/published/*.csv`` (default:
``method``), ``published_only: true`` (or no ``method``) shows the published
value alone. ``dataset`` and ``metric`` let a row fix what the columns
otherwise give (tables whose rows are datasets or metrics). ``variant`` reads a
method's alternative clustering: metric key ``{key}_{variant}`` (AHCL Table 3).

A metric is ``{key, published, label, scale, digits, transform, lower_is_better}``:
``key`` is the runs.csv column (``null`` when the suite does not compute
it), ``published`` the CSV ``metric`` name, ``scale`` overrides the table's
scale (``raw``/``seconds``: shown unscaled), ``transform: complement`` shows
1 - value (error rates). A column is ``{label, group, dataset, metric,
published}``; the generated columns are datasets × metrics, grouped by
dataset.

A cell shows the reproduced mean ± std and the number of ok seeds (``n=10``, or
``n=8/10`` when some failed), the marks of the one reproduction rule
(:func:`clusterbench.budget.reproduction`: ``✓`` reproduced, ``†`` reduced budget,
``‡`` unstable), then the published value and the difference in brackets. The
caption names the profile and each method's budget against the paper's
(:mod:`clusterbench.budget`); markdown and LaTeX carry the same notes. The best
reproduced mean of a column is bold, the second underlined (only where a
column has two reproduced means or more). A cell without
reproduced numbers says why: "not run: method not implemented", "not run:
dataset unavailable", "not run: no records", ...
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ... import __version__
from ..registry import ConfigError, main_methods, methods

SPEC_KEYS = {"title", "caption", "rows", "datasets", "metrics", "columns", "scale", "digits", "published",
             "notes", "profile", "tolerance", "caveats", "markdown"}
ROW_KEYS = {"label", "method", "published", "published_only", "dataset", "metric", "variant", "variants"}
CAVEAT_KEYS = {"method", "dataset", "metric", "text"}
METRIC_KEYS = {"key", "label", "published", "scale", "digits", "transform", "lower_is_better", "tolerance"}
COLUMN_KEYS = {"label", "group", "dataset", "metric", "published"}
SCALES = ("percent", "fraction", "raw", "seconds")


@dataclass
class Cell:
    text: str
    mean: float | None = None
    std: float | None = None
    n: int = 0
    published: float | None = None
    tolerance: float | None = None
    reason: str | None = None
    n_records: int = 0
    budget: object = None       # clusterbench.budget.Budget of the runs (reproduced cells)
    verdict: object = None      # clusterbench.budget.Verdict (cells with a published value)
    caveats: list = None        # numbers of the spec's caveats that concern the cell

    @property
    def reproduced(self) -> bool:
        """A reproduced mean beside a published value (whatever the rule says)."""
        return self.mean is not None and self.published is not None

    @property
    def within(self) -> bool | None:
        """The one rule says reproduced (paper budget, |Δ| ≤ max(3, 2 SEM)); None when not comparable."""
        return None if self.verdict is None else self.verdict.reproduced


def load_spec(path: Path) -> dict:
    """A table spec checked against workflow/schemas/table.schema.yaml, then its names (:func:`check_spec_names`)."""
    from ..schema import load_yaml

    spec = load_yaml(path, "table")
    for key in () if "columns" in spec else ("datasets", "metrics"):
        if key not in spec:
            raise ConfigError(f"{path}: {key}: missing (a spec without columns needs datasets and metrics)")
    check_spec_names(spec, path)
    for caveat in spec.get("caveats") or []:
        if not isinstance(caveat, dict) or set(caveat) - CAVEAT_KEYS or not caveat.get("text"):
            raise ConfigError(f"{path}: caveat {caveat}: needs 'text' and only {sorted(CAVEAT_KEYS)}")
    return spec


def check_spec_names(spec: dict, path) -> None:
    """Refuse a row method that is neither registered nor published, an unknown dataset or metric key."""
    from ...data import DATASETS
    from ..aggregate import COLUMNS
    from ..published import load_published

    registered = methods()
    try:
        published = load_published()
        published_methods, published_datasets = set(published.method), set(published.dataset)
    except ValueError:
        published_methods, published_datasets = set(), set()
    diagnostics = {d for entry in registered.values() for d in entry.diagnostics}
    known_keys = set(COLUMNS) | diagnostics

    def metric_key(m, where):
        key = m.get("key") if isinstance(m, dict) else m
        if key is not None and key not in known_keys:
            raise ConfigError(f"{path}: {where}: unknown metric {key!r}; known: metrics of the suite "
                              f"({', '.join(sorted(set(COLUMNS) & set(_METRIC_NAMES())))}) and method diagnostics "
                              f"({', '.join(sorted(diagnostics)) or 'none'})")

    def dataset(name, where):
        if name not in DATASETS and name not in published_datasets:
            raise ConfigError(f"{path}: {where}: unknown dataset {name!r}: neither in the catalogue nor in "
                              f"results/published")

    for i, m in enumerate(spec.get("metrics") or []):
        metric_key(m, f"metrics.{i}")
    if isinstance(spec.get("datasets"), list):
        for i, d in enumerate(spec["datasets"]):
            dataset(d["dataset"] if isinstance(d, dict) else d, f"datasets.{i}")
    for i, c in enumerate(spec.get("columns") or []):
        if "dataset" in c:
            dataset(c["dataset"], f"columns.{i}.dataset")
        if "metric" in c:
            metric_key(c["metric"], f"columns.{i}.metric")
    if isinstance(spec["rows"], list):
        for i, r in enumerate(spec["rows"]):
            r = r if isinstance(r, dict) else {"method": r}
            method = r.get("method")
            if method is not None and not r.get("published_only") and method not in registered \
                    and method not in published_methods:
                raise ConfigError(f"{path}: rows.{i}.method: unknown method {method!r}: neither registered "
                                  f"({', '.join(registered)}) nor in results/published")
            if "dataset" in r:
                dataset(r["dataset"], f"rows.{i}.dataset")
            if "metric" in r:
                metric_key(r["metric"], f"rows.{i}.metric")


def _METRIC_NAMES():
    from ..metrics import METRICS

    return METRICS


def _metric(m) -> dict | None:
    if m is None:
        return None
    m = m if isinstance(m, dict) else {"key": m}
    key = m.get("key")
    published = m.get("published", key)
    label = m.get("label", (key or published or "").upper())
    return {**m, "key": key, "published": published, "label": label}


def _rows(spec) -> list[dict]:
    if spec["rows"] == "registered":
        return [{"method": name, "label": entry.display, "published": name}
                for name, entry in main_methods().items()]
    out = []
    for r in spec["rows"]:
        r = dict(r) if isinstance(r, dict) else {"method": r, "label": r}
        if r.get("published_only"):
            r.setdefault("published", r.pop("method", None))
        r.setdefault("published", r.get("method"))
        r.setdefault("label", r.get("method") or r.get("published") or "")
        if "metric" in r:
            r["metric"] = _metric(r["metric"])
        out.append(r)
    return out


def _datasets(spec, profile_datasets) -> list[dict]:
    if spec.get("datasets", "profile") == "profile":
        return [{"dataset": d, "label": d} for d in profile_datasets]
    return [d if isinstance(d, dict) else {"dataset": d, "label": d} for d in spec["datasets"]]


def _metrics(spec) -> list[dict]:
    return [_metric(m) for m in spec.get("metrics") or []]


def _columns(spec, profile_datasets) -> list[dict]:
    if spec.get("columns"):
        out = []
        for c in spec["columns"]:
            c = dict(c)
            if "metric" in c:
                c["metric"] = _metric(c["metric"])
            out.append(c)
        return out
    metrics_ = _metrics(spec)
    return [{"dataset": d["dataset"], "metric": m, "label": m["label"],
             "group": d.get("label", d["dataset"]) if len(metrics_) > 1 else None,
             **({} if len(metrics_) > 1 else {"label": f"{d.get('label', d['dataset'])} {m['label']}"})}
            for d in _datasets(spec, profile_datasets) for m in metrics_]


def _coords(row: dict, column: dict) -> dict:
    """The cell's (method, published method, dataset, metric): the row's values first.

    A row's ``variant`` (e.g. ``km_z``) reads the metric a method recorded for one of its
    alternative clusterings, the runs column ``{key}_{variant}`` (AHCL's KM-Z / SC-Z / SC-Y).
    """
    metric = row.get("metric") or column.get("metric")
    dataset = row.get("dataset") or column.get("dataset")
    variant = (row.get("variants") or {}).get(dataset) or row.get("variant")
    if variant and metric and metric.get("key"):
        metric = {**metric, "key": f"{metric['key']}_{variant}"}
    return {
        "method": None if row.get("published_only") else row.get("method"),
        "published": row.get("published") or column.get("published"),
        "dataset": dataset,
        "metric": metric,
    }


def _scale(spec, metric) -> str:
    return (metric or {}).get("scale") or spec.get("scale", "percent")


def _convert(value: float, source: str, target: str) -> float:
    if source == "percent" and target == "fraction":
        return value / 100
    if source == "fraction" and target == "percent":
        return value * 100
    return value


def published_lookup(published, sources, method, dataset, metric) -> tuple[float, str, str] | None:
    """(value, scale, note) of the first source with this cell, or None."""
    if published is None or published.empty or not method or not metric:
        return None
    for source in sources:
        hit = published[(published.paper == source["paper"]) & (published.table.astype(str) == str(source["table"]))
                        & (published.method == method) & (published.dataset == dataset)
                        & (published.metric == metric)]
        if len(hit):
            row = hit.iloc[0]
            return float(row.value), row.scale, str(row.note or "")
    return None


def _published_value(published, sources, method, dataset, metric, scale) -> float | None:
    hit = published_lookup(published, sources, method, dataset, metric)
    return None if hit is None else _convert(hit[0], hit[1], scale)


def spec_profile(spec: dict, default: str, override: str | None = None) -> str:
    """The profile whose runs a table shows: ``override`` (config ``tables_profile``), else the spec's
    ``profile`` key, else ``default``."""
    return override or spec.get("profile") or default


def spec_pairs(spec: dict, profile_datasets: list[str]) -> list[tuple[str, str]]:
    """(dataset, method) pairs whose runs the table shows: registered methods, known datasets, computed metrics."""
    from ...data import DATASETS

    registered = methods()
    pairs = []
    for row in _rows(spec):
        for column in _columns(spec, profile_datasets):
            c = _coords(row, column)
            if (c["method"] in registered and c["dataset"] in DATASETS and c["metric"]
                    and c["metric"].get("key") and registered[c["method"]].applies_to(c["dataset"])
                    and (c["dataset"], c["method"]) not in pairs):
                pairs.append((c["dataset"], c["method"]))
    return pairs


def _fmt(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def _reproduced(runs: pd.DataFrame, method, dataset, metric, factor, digits) -> Cell | None:
    rows = runs[(runs.method == method) & (runs.dataset == dataset)] if len(runs) else runs
    if rows is None or len(rows) == 0:
        return None
    ok = rows[rows.status == "ok"]
    n = len(rows)
    if len(ok) == 0:
        statuses = set(rows.status)
        if statuses == {"unavailable"}:
            return Cell("not run: dataset unavailable", reason="dataset unavailable", n_records=n)
        return Cell(f"failed (n=0/{n})", reason="failed", n_records=n)
    if metric["key"] not in ok.columns:
        return Cell("not run: metric not computed by the suite", reason="metric not computed")
    values = ok[metric["key"]].astype(float)
    if metric.get("transform") == "complement":
        values = 1.0 - values
    values = values * factor
    mean = float(values.mean())
    std = float(values.std(ddof=0)) if len(values) > 1 else 0.0
    seeds = f"n={len(ok)}" if len(ok) == n else f"n={len(ok)}/{n}"
    return Cell(f"{_fmt(mean, digits)} ± {_fmt(std, digits)} ({seeds})", mean, std, len(ok), n_records=n)


def _cell_budget(method: str, dataset: str, profile: str):
    """The Budget of (method, dataset, profile), or None where it cannot be resolved (unknown profile)."""
    from ...budget import budget
    from ..registry import ConfigError as _ConfigError

    try:
        return budget(method, dataset, profile)
    except (_ConfigError, KeyError):
        return None


def _caveats_of(spec, c: dict) -> list[int]:
    """1-based numbers of the spec's caveats that concern a cell (method, published method, dataset, metric)."""
    out = []
    names = {c.get("method"), c.get("published")} - {None}
    metric = c.get("metric") or {}
    texts = caveat_texts(spec)
    for caveat in spec.get("caveats") or []:
        i = texts.index(" ".join(caveat["text"].split())) + 1
        if "method" in caveat and caveat["method"] not in names:
            continue
        if "dataset" in caveat and caveat["dataset"] != c.get("dataset"):
            continue
        if "metric" in caveat and caveat["metric"] not in (metric.get("published"), metric.get("key")):
            continue
        if {"method", "dataset", "metric"} & set(caveat) and i not in out:
            out.append(i)
    return out


def caveat_texts(spec) -> list[str]:
    """The spec's distinct caveat texts, numbered (c1, c2, ...) in this order (several cells may share one)."""
    return list(dict.fromkeys(" ".join(cv["text"].split()) for cv in spec.get("caveats") or []))


def _default_tolerance(spec, scale) -> float | None:
    if scale not in ("percent", "fraction"):
        return None
    if "tolerance" in spec:
        return float(spec["tolerance"]) if spec.get("scale", "percent") == scale else _convert(
            float(spec["tolerance"]), spec.get("scale", "percent"), scale)
    return 3.0 if scale == "percent" else 0.03


def build_cells(spec, runs, published, profile_datasets, profile: str | None = None):
    """Grid of Cells: rows × columns, the rows and the columns.

    ``profile``: the profile the runs come from (default: the runs' ``profile`` column, else ``paper``);
    it sets each reproduced cell's budget and so the reproduction rule's verdict."""
    from ...budget import reproduction
    from ...data import DATASETS

    base_scale = spec.get("scale", "percent")
    base_digits = int(spec.get("digits", 2 if base_scale == "percent" else 3))
    sources = spec.get("published") or []
    registered = methods()
    rows, columns = _rows(spec), _columns(spec, profile_datasets)
    runs = runs if runs is not None else pd.DataFrame()
    if profile is None:
        profile = str(runs.profile.iloc[0]) if len(runs) and "profile" in runs.columns else "paper"
    grid = []
    for row in rows:
        line = []
        for column in columns:
            c = _coords(row, column)
            metric = c["metric"] or {}
            scale = _scale(spec, metric)
            factor = 100.0 if scale == "percent" else 1.0
            digits = int(metric.get("digits", base_digits))
            hit = published_lookup(published, sources, c["published"], c["dataset"], metric.get("published"))
            pub = None if hit is None else _convert(hit[0], hit[1], scale)
            doubtful = hit is not None and hit[2].startswith("doubtful")
            method = c["method"]
            if not method:
                cell = Cell("–" if pub is None else f"{_fmt(pub, digits)} (published)", published=pub)
            else:
                reason = None
                if method not in registered:
                    reason = "method not implemented"
                elif c["dataset"] not in DATASETS:
                    reason = "dataset not in the suite"
                elif not registered[method].applies_to(c["dataset"]):
                    reason = "not one of the method's datasets"
                elif not metric.get("key"):
                    reason = "metric not computed by the suite"
                cell = None if reason else _reproduced(runs, method, c["dataset"], metric, factor, digits)
                if cell is None:
                    reason = reason or "no records"
                    cell = Cell(f"not run: {reason}", reason=reason)
                cell.published = pub
                cell.tolerance = metric.get("tolerance", _default_tolerance(spec, scale))
                if cell.mean is not None:
                    cell.budget = _cell_budget(method, c["dataset"], profile)
                    paper_budget = bool(cell.budget and cell.budget.paper_budget)
                    marks = "" if paper_budget else "†"
                    if pub is not None and cell.tolerance is not None:
                        cell.verdict = reproduction(cell.mean, cell.std or 0.0, cell.n, pub,
                                                    paper_budget=paper_budget, scale=scale,
                                                    tolerance=cell.tolerance,
                                                    unstable_above=None if scale in ("percent", "fraction")
                                                    else float("inf"))
                        marks = ("✓" if cell.verdict.reproduced else "") + marks
                    if scale in ("percent", "fraction") and (cell.std or 0.0) > (5.0 if scale == "percent" else 0.05):
                        marks += "‡"
                    cell.text += (" " + marks) if marks else ""
                if pub is not None:
                    if cell.mean is not None:
                        cell.text += f" [{_fmt(pub, digits)}, Δ {cell.mean - pub:+.{digits}f}]"
                    else:
                        cell.text += f" [{_fmt(pub, digits)}]"
            cell.caveats = _caveats_of(spec, c)
            if cell.caveats:
                cell.text += " " + "".join(f"(c{i})" for i in cell.caveats)
            if doubtful:
                cell.text += " ?"
            line.append(cell)
        grid.append(line)
    return rows, columns, grid


def table_status(grid) -> dict:
    """Counts of the one rule over a grid: published cells, those with a reproduced counterpart
    (``compared``), reproduced under the rule, at a reduced budget, unstable; cells with a mean."""
    cells = [c for line in grid for c in line]
    compared = [c for c in cells if c.reproduced]
    return {
        "published": sum(c.published is not None for c in cells),
        "compared": len(compared),
        "reproduced": sum(bool(c.verdict and c.verdict.reproduced) for c in compared),
        "reduced_budget": sum(bool(c.verdict and not c.verdict.paper_budget) for c in compared),
        "unstable": sum(bool(c.verdict and c.verdict.unstable) for c in compared),
        "run_cells": sum(c.mean is not None for c in cells),
    }


def status_line(status: dict) -> str:
    """The status counts in words (tables and the index)."""
    return (f"{status['compared']} of {status['published']} published cells have a reproduced counterpart; "
            f"{status['reproduced']} reproduced under the suite's rule, {status['reduced_budget']} at a reduced "
            f"budget (never counted as reproduced), {status['unstable']} unstable.")


def _ranks(grid, columns=None) -> dict[tuple[int, int], int]:
    """(row, col) → 1 for the best reproduced mean in a column, 2 for the second; no marks in a column with
    fewer than two reproduced means (one reproduced row beside published-only rows is not "best")."""
    ranks = {}
    for j in range(len(grid[0]) if grid else 0):
        lower = bool(columns and (columns[j].get("metric") or {}).get("lower_is_better"))
        means = sorted({c.mean for c in (row[j] for row in grid) if c.mean is not None and not math.isnan(c.mean)},
                       reverse=not lower)
        if len(means) < 2:
            continue
        for i, row in enumerate(grid):
            if row[j].mean is not None:
                if row[j].mean == means[0]:
                    ranks[(i, j)] = 1
                elif len(means) > 1 and row[j].mean == means[1]:
                    ranks[(i, j)] = 2
    return ranks


_LATEX = {
    "\\": r"\textbackslash{}", "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#", "$": r"\$", "{": r"\{",
    "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "±": r"$\pm$", "Δ": r"$\Delta$", "×": r"$\times$", "✓": r"$\surd$", "λ": r"$\lambda$", "–": "--",
    "—": "---", "≤": r"$\leq$", "≥": r"$\geq$", "α": r"$\alpha$", "β": r"$\beta$", "†": r"\dag{}",
    "é": r"\'e", "ü": r'\"u', "ö": r'\"o', "’": "'", "‡": r"\ddag{}", "−": "-", "`": "",
}


def _latex_escape(text: str) -> str:
    out = "".join(_LATEX.get(ch, ch) for ch in str(text))
    return out.encode("ascii", "replace").decode("ascii")


def suite_version() -> str:
    """``clusterbench <version>, git <revision>`` of the checkout that renders."""
    from ..runner import _git_revision

    return f"clusterbench {__version__}, git {_git_revision() or 'unknown'}"


@lru_cache(maxsize=1)
def _bib_titles() -> dict[str, str]:
    titles = {}
    from ..resources import packaged

    # the published sources' bibliography, packaged from results/published/references.bib (its titles
    # agree with the repository's references.bib, tests/test_published.py)
    for path in (packaged("published") / "references.bib",):
        if path.is_file():
            for key, body in re.findall(r"@\w+\{([^,\s]+),(.*?)\n\}", path.read_text(), flags=re.S):
                title = re.search(r"\btitle\s*=\s*\{(.*)\},?\s*$", body, flags=re.M)
                if title and key not in titles:
                    titles[key] = title.group(1).replace("{", "").replace("}", "")
    return titles


def sources_line(spec) -> str:
    """The published sources of a spec in words, e.g. ``ahcl Table 2 (Deep Contrastive ...)``."""
    parts = []
    for s in spec.get("published") or []:
        title = _bib_titles().get(s["paper"])
        parts.append(f"{s['paper']} Table {s['table']}" + (f" ({title})" if title else ""))
    return "; ".join(parts)


def _run_revisions(runs) -> str:
    if runs is None or not len(runs) or "git_revision" not in runs.columns:
        return ""
    revisions = sorted({str(r)[:12] for r in runs.git_revision.dropna()})
    return ", ".join(revisions)


def budget_lines(grid, rows) -> list[str]:
    """Per method with reproduced cells, its budget against the paper's in words (datasets sharing a
    description grouped): ``AHCL: 10 of 140 epochs, narrower network, ...``."""
    from ...budget import caption_line

    per_method: dict[str, dict] = {}
    for row, line in zip(rows, grid):
        for cell in line:
            if cell.budget is not None:
                per_method.setdefault(cell.budget.method, {})[cell.budget.dataset] = cell.budget
    return [caption_line(list(b.values())) for b in per_method.values()]


def legend(grid) -> list[str]:
    """The notes every rendering of a table carries (markdown and LaTeX alike): profile budgets, marks."""
    cells = [c for line in grid for c in line]
    out = []
    if any(c.budget is not None and not c.budget.paper_budget for c in cells):
        out.append("† reduced budget (caption): the run is not at the paper's budget; its Δ is shown and never "
                   "counted as reproduced.")
    if any(c.text.count("✓") for c in cells) or any(c.verdict is not None for c in cells):
        out.append("✓ reproduced under the suite's one rule: paper budget and |Δ| ≤ max(3 points, 2 × SEM over "
                   "the seeds) (clusterbench.budget.reproduction).")
    if any("‡" in c.text for c in cells):
        out.append("‡ unstable: std over the seeds above 5 points.")
    if any(c.mean is not None for c in cells):
        out.append("n: seeds whose runs finished (n=8/10: 8 of 10 records ok); failed, unavailable and stale "
                   "records are never averaged in.")
    return out


def render(spec: dict, runs: pd.DataFrame, published: pd.DataFrame | None, profile: str,
           profile_datasets: list[str]) -> tuple[str, str]:
    """(markdown, latex) of one table; both carry the same caption, budgets, legend, notes and caveats."""
    from tabulate import tabulate

    rows, columns, grid = build_cells(spec, runs, published, profile_datasets, profile)
    ranks = _ranks(grid, columns)
    title = spec.get("title", "").replace("{profile}", profile)
    caption = spec.get("caption", "").replace("{profile}", profile).strip()
    headers = ["Method"] + [f"{c['group']} {c['label']}" if c.get("group") else c["label"] for c in columns]
    budgets = budget_lines(grid, rows)
    reduced = any(c.budget is not None and not c.budget.paper_budget for line in grid for c in line)
    profile_line = f"Profile `{profile}`" + (
        ": reproduced cells at a reduced budget (†), as a fraction of the paper's: " + "; ".join(budgets) + "."
        if reduced else (": every reproduced cell at the paper budget." if budgets else "."))

    def md_cell(i, j, cell):
        rank = ranks.get((i, j))
        return f"**{cell.text}**" if rank == 1 else f"<u>{cell.text}</u>" if rank == 2 else cell.text

    body = [[row["label"]] + [md_cell(i, j, c) for j, c in enumerate(line)] for i, (row, line) in
            enumerate(zip(rows, grid))]
    scale_note = "%" if spec.get("scale", "percent") == "percent" else "fractions"
    status = table_status(grid)
    layout = (f"Values in {scale_note}: reproduced mean ± std over seeds (n) [published value, Δ reproduced − "
              "published]; best reproduced mean in bold, second underlined.")
    notes = legend(grid)
    if spec.get("notes"):
        notes.append(" ".join(spec["notes"].split()))
    if any(c.text.endswith(" ?") for line in grid for c in line):
        notes.append("?: the transcription marks the published cell as doubtful (see results/published/README.md).")
    caveats = [f"(c{i}) {text}" for i, text in enumerate(caveat_texts(spec), 1)]
    if status["published"]:
        notes.append("Status: " + status_line(status))
    sources = sources_line(spec)
    revisions = _run_revisions(runs)
    tail = ([f"Published numbers: {sources} (references.bib; results/published/)."] if sources else []) + [
        f"Rendered by {suite_version()}" + (f"; runs from git {revisions}" if revisions else "") + "."]
    md = [f"# {title}", ""] + ([caption, ""] if caption else []) + [profile_line, "", layout, "",
          *_markdown_tables(spec, columns, headers, body)]
    md += [line for note in notes for line in (note, "")]
    if caveats:
        md += ["Comparability caveats:", ""] + [f"- {c}" for c in caveats] + [""]
    md += [line for t in tail for line in (t, "")]

    def tex_cell(i, j, cell):
        text = _latex_escape(cell.text)
        rank = ranks.get((i, j))
        return rf"\textbf{{{text}}}" if rank == 1 else rf"\underline{{{text}}}" if rank == 2 else text

    tex_caption = _latex_escape(title) + (f". {_latex_escape(caption)}" if caption else "") + (
        f" {_latex_escape(profile_line.replace('`', ''))}")
    if sources:
        tex_caption += f" Published numbers: {_latex_escape(sources)}."
    tex = [f"% {_latex_escape(title)}", f"% Rendered by {_latex_escape(suite_version())}"
           + (f"; runs from git {_latex_escape(revisions)}" if revisions else ""),
           r"\begin{table}[t]", r"\centering", r"\small",
           rf"\caption{{{tex_caption}}}",
           r"\begin{tabular}{l" + "c" * len(columns) + "}", r"\toprule"]
    if any(c.get("group") for c in columns):
        groups, rules, start = [""], [], 2
        j = 0
        while j < len(columns):
            g = columns[j].get("group")
            k = j
            while k + 1 < len(columns) and columns[k + 1].get("group") == g:
                k += 1
            span = k - j + 1
            groups.append(rf"\multicolumn{{{span}}}{{c}}{{{_latex_escape(g or '')}}}")
            if g:
                rules.append(rf"\cmidrule(lr){{{start}-{start + span - 1}}}")
            start += span
            j = k + 1
        tex += [" & ".join(groups) + r" \\", " ".join(rules)]
        tex.append(" & ".join(["Method"] + [_latex_escape(c["label"]) for c in columns]) + r" \\")
    else:
        tex.append(" & ".join(_latex_escape(h) for h in headers) + r" \\")
    tex.append(r"\midrule")
    for i, (row, line) in enumerate(zip(rows, grid)):
        tex.append(" & ".join([_latex_escape(row["label"])] + [tex_cell(i, j, c) for j, c in enumerate(line)])
                   + r" \\")
    tex += [r"\bottomrule", r"\end{tabular}", r"\par\smallskip", r"\begin{minipage}{\linewidth}\footnotesize"]
    tex += [_latex_escape(layout) + r"\par"] + [_latex_escape(n) + r"\par" for n in notes]
    if caveats:
        tex += [r"Comparability caveats:\par"] + [_latex_escape(c) + r"\par" for c in caveats]
    tex += [_latex_escape(t) + r"\par" for t in tail]
    tex += [r"\end{minipage}", r"\end{table}", ""]
    return "\n".join(md), "\n".join(tex)


def render_dataset_table(datasets: list[str], statuses: dict[str, dict], profile: str,
                         published=None, source: tuple[str, str] | None = None) -> tuple[str, str]:
    """Table 1: the profile's datasets (source, N, shape, classes, availability, citation).

    With ``published`` (load_published()) and ``source`` = (paper, table), a column gives the
    paper's samples / dimensions / classes beside the suite's, marking each that differs.
    """
    from tabulate import tabulate

    from ...data import get_spec

    headers = ["Dataset", "Description", "Source", "N", "Shape", "Classes", "Status", "Reference"]
    if source:
        headers.insert(6, f"{source[0]} Table {source[1]}: N / D / classes")
    body, differs = [], False
    for name in datasets:
        spec = get_spec(name)
        status = statuses.get(name, {})
        state = status.get("status", "not prepared")
        n = int(status.get("n_samples", spec.n_samples))
        row = [name, spec.title, spec.source, str(n), "×".join(map(str, spec.shape)), str(spec.n_classes),
               state, spec.citation]
        if source:
            ours = {"samples": n, "dimensions": int(np.prod(spec.shape)), "classes": spec.n_classes}
            printed = []
            for metric, value in ours.items():
                hit = published_lookup(published, [{"paper": source[0], "table": source[1]}], "dataset", name, metric)
                if hit is None:
                    printed.append("–")
                    continue
                printed.append(f"{hit[0]:g}" + ("" if hit[0] == value else "*"))
                differs |= hit[0] != value
            row.insert(6, " / ".join(printed))
        body.append(row)
    lines = [f"# Table 1: datasets of profile `{profile}`", "",
             tabulate(body, headers=headers, tablefmt="pipe", disable_numparse=True), ""]
    if source:
        lines += [f"Published: {source[0]} Table {source[1]} (D = values per sample). "
                  + ("* differs from the suite's dataset." if differs else "Every printed value matches the suite's dataset."), ""]
    md = "\n".join(lines + [f"Rendered by {suite_version()}.", ""])
    tex = [r"\begin{table}[t]", r"\centering", r"\small", rf"\caption{{Datasets of profile {profile}.}}",
           r"\begin{tabular}{" + "l" * len(headers) + "}", r"\toprule", " & ".join(headers) + r" \\", r"\midrule"]
    tex += [" & ".join(_latex_escape(c) for c in row) + r" \\" for row in body]
    tex += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return md, "\n".join(tex)


def _markdown_tables(spec, columns, headers, body) -> list[str]:
    """The markdown table(s): one wide table, or with ``markdown: per_metric`` one ``### {metric}``
    table per metric label with the column groups (datasets) as columns."""
    from tabulate import tabulate

    if spec.get("markdown") != "per_metric" or not any(c.get("group") for c in columns):
        return [tabulate(body, headers=headers, tablefmt="pipe", disable_numparse=True), ""]
    out = []
    for label in dict.fromkeys(c["label"] for c in columns):
        js = [j for j, c in enumerate(columns) if c["label"] == label]
        out += [f"### {label}", "",
                tabulate([[row[0]] + [row[j + 1] for j in js] for row in body],
                         headers=[headers[0]] + [columns[j].get("group") or "" for j in js],
                         tablefmt="pipe", disable_numparse=True), ""]
    return out
