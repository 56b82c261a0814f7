"""Render a table spec (YAML) with run results and published numbers to markdown and LaTeX.

Spec keys::

    title: "Main results"              # {profile} is substituted
    caption: "..."
    rows: registered                   # or a list of {method, label}
    datasets: profile                  # or a list of {dataset, label}
    metrics: [{key: acc, label: ACC, published: acc}, ...]
    scale: percent                     # percent | fraction
    digits: 2
    published: [{paper: ahcl, table: "2"}]   # where published values are looked up, in order

A cell shows the reproduced mean ± std over ok seeds (with n_ok/n when some
failed), then the published value and the difference in brackets. The best
reproduced mean of a column is bold, the second underlined. A cell with no
record says "not run" (with the reason when the records give one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from ..registry import ConfigError, methods

SPEC_KEYS = {"title", "caption", "rows", "datasets", "metrics", "scale", "digits", "published", "notes"}


@dataclass
class Cell:
    text: str
    mean: float | None = None


def load_spec(path: Path) -> dict:
    spec = yaml.safe_load(Path(path).read_text()) or {}
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {sorted(unknown)}; allowed: {sorted(SPEC_KEYS)}")
    for key in ("rows", "datasets", "metrics"):
        if key not in spec:
            raise ConfigError(f"{path}: missing key {key!r}")
    if spec.get("scale", "percent") not in ("percent", "fraction"):
        raise ConfigError(f"{path}: scale must be percent or fraction")
    return spec


def _rows(spec) -> list[dict]:
    if spec["rows"] == "registered":
        return [{"method": name, "label": entry.display} for name, entry in methods().items()]
    return [r if isinstance(r, dict) else {"method": r, "label": r} for r in spec["rows"]]


def _datasets(spec, profile_datasets) -> list[dict]:
    if spec["datasets"] == "profile":
        return [{"dataset": d, "label": d} for d in profile_datasets]
    return [d if isinstance(d, dict) else {"dataset": d, "label": d} for d in spec["datasets"]]


def _metrics(spec) -> list[dict]:
    out = []
    for m in spec["metrics"]:
        m = m if isinstance(m, dict) else {"key": m}
        out.append({"key": m["key"], "label": m.get("label", m["key"].upper()),
                    "published": m.get("published", m["key"])})
    return out


def _published_value(published, sources, method, dataset, metric, scale) -> float | None:
    if published is None or published.empty:
        return None
    for source in sources:
        hit = published[(published.paper == source["paper"]) & (published.table.astype(str) == str(source["table"]))
                        & (published.method == method) & (published.dataset == dataset)
                        & (published.metric == metric)]
        if len(hit):
            row = hit.iloc[0]
            value = float(row.value)
            if row.scale == "percent" and scale == "fraction":
                value /= 100
            elif row.scale == "fraction" and scale == "percent":
                value *= 100
            return value
    return None


def spec_pairs(spec: dict, profile_datasets: list[str]) -> list[tuple[str, str]]:
    """(dataset, method) pairs whose runs the table shows: registered methods only."""
    registered = methods()
    rows = [r for r in _rows(spec) if r["method"] in registered and not r.get("published_only")]
    return [(d["dataset"], r["method"]) for d in _datasets(spec, profile_datasets) for r in rows]


def _reproduced(runs: pd.DataFrame, method, dataset, key, factor, digits) -> Cell | None:
    rows = runs[(runs.method == method) & (runs.dataset == dataset)] if len(runs) else runs
    if rows is None or len(rows) == 0:
        return None
    ok = rows[rows.status == "ok"]
    n = len(rows)
    if len(ok) == 0:
        statuses = set(rows.status)
        if statuses == {"unavailable"}:
            return Cell("not run: dataset unavailable")
        return Cell(f"failed ({n}/{n})")
    values = ok[key].astype(float) * factor
    mean = float(values.mean())
    std = float(values.std(ddof=0)) if len(values) > 1 else 0.0
    text = f"{mean:.{digits}f} ± {std:.{digits}f}"
    if len(ok) < n:
        text += f" ({len(ok)}/{n} ok)"
    return Cell(text, mean)


def build_cells(spec, runs, published, profile_datasets):
    """Grid of Cells: rows × (dataset, metric) columns, and the column headers."""
    scale = spec.get("scale", "percent")
    factor = 100.0 if scale == "percent" else 1.0
    digits = int(spec.get("digits", 2 if scale == "percent" else 3))
    sources = spec.get("published") or []
    rows, datasets, metrics_ = _rows(spec), _datasets(spec, profile_datasets), _metrics(spec)
    columns = [(d, m) for d in datasets for m in metrics_]
    grid = []
    for row in rows:
        line = []
        for d, m in columns:
            cell = _reproduced(runs, row["method"], d["dataset"], m["key"], factor, digits)
            pub = _published_value(published, sources, row["method"], d["dataset"], m["published"], scale)
            if cell is None:
                cell = Cell("not run" if pub is None or not row.get("published_only") else "")
            if pub is not None:
                if cell.mean is not None:
                    cell.text += f" [{pub:.{digits}f}, Δ {cell.mean - pub:+.{digits}f}]"
                elif row.get("published_only"):
                    cell.text = f"{pub:.{digits}f} (published)"
                else:
                    cell.text += f" [{pub:.{digits}f}]"
            line.append(cell)
        grid.append(line)
    return rows, columns, grid


def _ranks(grid) -> dict[tuple[int, int], int]:
    """(row, col) → 1 for the best mean in a column, 2 for the second."""
    ranks = {}
    for j in range(len(grid[0]) if grid else 0):
        means = sorted({c.mean for c in (row[j] for row in grid) if c.mean is not None and not math.isnan(c.mean)},
                       reverse=True)
        for i, row in enumerate(grid):
            if row[j].mean is not None and means:
                if row[j].mean == means[0]:
                    ranks[(i, j)] = 1
                elif len(means) > 1 and row[j].mean == means[1]:
                    ranks[(i, j)] = 2
    return ranks


def _latex_escape(text: str) -> str:
    return (text.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("%", r"\%")
            .replace("&", r"\&").replace("#", r"\#").replace("±", r"$\pm$").replace("Δ", r"$\Delta$"))


def render(spec: dict, runs: pd.DataFrame, published: pd.DataFrame | None, profile: str,
           profile_datasets: list[str]) -> tuple[str, str]:
    """(markdown, latex) of one table."""
    from tabulate import tabulate

    rows, columns, grid = build_cells(spec, runs, published, profile_datasets)
    ranks = _ranks(grid)
    title = spec.get("title", "").replace("{profile}", profile)
    caption = spec.get("caption", "").replace("{profile}", profile)
    headers = ["Method"] + [f"{d['label']} {m['label']}" for d, m in columns]

    def md_cell(i, j, cell):
        rank = ranks.get((i, j))
        return f"**{cell.text}**" if rank == 1 else f"<u>{cell.text}</u>" if rank == 2 else cell.text

    body = [[row["label"]] + [md_cell(i, j, c) for j, c in enumerate(line)] for i, (row, line) in
            enumerate(zip(rows, grid))]
    scale_note = "%" if spec.get("scale", "percent") == "percent" else "fractions"
    md = [f"# {title}", "", caption, "",
          f"Profile `{profile}`; values in {scale_note}: reproduced mean ± std over seeds "
          "[published value, Δ reproduced − published]; best in **bold**, second <u>underlined</u>.", "",
          tabulate(body, headers=headers, tablefmt="pipe", disable_numparse=True), ""]
    if spec.get("notes"):
        md += [spec["notes"].strip(), ""]

    def tex_cell(i, j, cell):
        text = _latex_escape(cell.text)
        rank = ranks.get((i, j))
        return rf"\textbf{{{text}}}" if rank == 1 else rf"\underline{{{text}}}" if rank == 2 else text

    tex = [r"\begin{table}[t]", r"\centering", r"\small",
           rf"\caption{{{_latex_escape(title)}. {_latex_escape(caption)}}}",
           r"\begin{tabular}{l" + "c" * len(columns) + "}", r"\toprule",
           " & ".join(_latex_escape(h) for h in headers) + r" \\", r"\midrule"]
    for i, (row, line) in enumerate(zip(rows, grid)):
        tex.append(" & ".join([_latex_escape(row["label"])] + [tex_cell(i, j, c) for j, c in enumerate(line)])
                   + r" \\")
    tex += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(md), "\n".join(tex)


def render_dataset_table(datasets: list[str], statuses: dict[str, dict], profile: str) -> tuple[str, str]:
    """Table 1: the profile's datasets (source, N, shape, classes, availability, citation)."""
    from tabulate import tabulate

    from ..data import get_spec

    headers = ["Dataset", "Description", "Source", "N", "Shape", "Classes", "Status", "Reference"]
    body = []
    for name in datasets:
        spec = get_spec(name)
        status = statuses.get(name, {})
        state = status.get("status", "not prepared")
        body.append([name, spec.title, spec.source, str(status.get("n_samples", spec.n_samples)),
                     "×".join(map(str, spec.shape)), str(spec.n_classes), state, spec.citation])
    md = "\n".join([f"# Table 1: datasets of profile `{profile}`", "",
                    tabulate(body, headers=headers, tablefmt="pipe", disable_numparse=True), ""])
    tex = [r"\begin{table}[t]", r"\centering", r"\small", rf"\caption{{Datasets of profile {profile}.}}",
           r"\begin{tabular}{" + "l" * len(headers) + "}", r"\toprule", " & ".join(headers) + r" \\", r"\midrule"]
    tex += [" & ".join(_latex_escape(c) for c in row) + r" \\" for row in body]
    tex += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    return md, "\n".join(tex)
