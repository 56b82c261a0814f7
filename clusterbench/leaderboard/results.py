"""The tidy results table: one row per (source, profile, method, dataset, metric), built from what
exists, never by re-running.

- ``reproduced``: the seeds a run summary lists (``results/runs/{profile}/{dataset}/{method}/summary.json``)
  with their records (runtime, peak RSS / GPU memory, git revision, config hash); budget from
  :func:`clusterbench.budget.budget`;
- ``published``: ``results/published/*.csv`` (paper, table, row), at the paper's budget, not reproduced;
- ``submitted``: ``submissions/*/`` (:mod:`.submissions`), not re-run.

Values are in display units: ACC, NMI, ARI, F1, BCubed in percent (records and fractions × 100);
published ``raw`` / ``seconds`` cells unchanged. ``std`` is over the seeds (ddof 0, as the reports),
``sem`` = std / sqrt(n − 1) (:func:`clusterbench.budget.sem`). ``values`` holds the per-seed values
the significance tests use.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..budget import sem as _sem
from ..framework.metrics import METRICS

COLUMNS = [
    "source", "profile", "method", "display", "dataset", "metric", "mean", "std", "sem", "n_ok", "n",
    "values", "seeds", "budget", "budget_details", "budget_fraction", "paper_budget", "runtime_s", "peak_rss_mb",
    "peak_gpu_mb", "git_revision", "config_hash", "summary", "paper", "table", "row", "note", "code_url",
    "paper_url", "hardware", "submission",
]

#: metrics kept per reproduced run (the records' METRICS)
RECORD_METRICS = tuple(METRICS)
#: published metric keys shown in percent when their scale is fraction / percent
_PERCENT_SCALES = ("percent", "fraction")


def _stats(values: list[float]) -> tuple[float | None, float | None, float | None]:
    if not values:
        return None, None, None
    arr = np.asarray(values, dtype=float)
    std = float(arr.std(ddof=0)) if len(arr) > 1 else 0.0
    return float(arr.mean()), std, _sem(std, len(arr))


def _display_names() -> dict[str, str]:
    from ..framework.registry import methods

    return {name: entry.display for name, entry in methods().items()}


def _read_json(path: Path):
    return json.loads(Path(path).read_text())


def _budget(method, dataset, profile) -> tuple[str, float | None, bool | None, str]:
    """(short words, fraction of the paper's steps, at the paper budget, description) of a run's budget."""
    from ..budget import budget

    try:
        b = budget(method, dataset, profile)
    except Exception as error:  # noqa: BLE001 - a method without a paper profile has no comparison
        text = f"profile {profile} (no paper budget to compare: {str(error).splitlines()[0][:80]})"
        return text, None, None, text
    return b.short, 1.0 if b.paper_budget else b.fraction, b.paper_budget, b.description


def reproduced_rows(runs_root: Path, profiles: list[str] | None = None, link_root: Path | None = None) -> list[dict]:
    """Rows of every run summary under ``runs_root`` (optionally only ``profiles``).

    The summary names the seeds of the job; each seed's record adds runtime, memory, git revision
    and config hash. ``summary`` is the summary's path relative to ``link_root`` (default: as found).
    """
    runs_root = Path(runs_root)
    displays = _display_names()
    rows = []
    for summary in sorted(runs_root.glob("*/*/*/summary.json")):
        method_dir = summary.parent
        profile, dataset, method = method_dir.parent.parent.name, method_dir.parent.name, method_dir.name
        if profiles is not None and profile not in profiles:
            continue
        entries = _read_json(summary)
        records = []
        for entry in entries:
            path = method_dir / f"seed{entry['seed']}" / "record.json"
            records.append(_read_json(path) if path.exists() else entry)
        ok = [r for r in records if r.get("status") == "ok"]
        budget_text, fraction, paper_budget, budget_details = _budget(method, dataset, profile)
        link = str(summary) if link_root is None else os.path.relpath(summary, link_root)
        common = {
            "source": "reproduced", "profile": profile, "method": method, "display": displays.get(method, method),
            "dataset": dataset, "n_ok": len(ok), "n": len(records), "seeds": [int(r["seed"]) for r in ok],
            "budget": budget_text, "budget_fraction": fraction, "paper_budget": paper_budget,
            "budget_details": budget_details, "runtime_s": _mean([r.get("wall_s") for r in ok]),
            "peak_rss_mb": _max([r.get("peak_rss_mb") for r in ok]),
            "peak_gpu_mb": _max([r.get("peak_gpu_mb") for r in ok]),
            "git_revision": ",".join(sorted({str((r.get("provenance") or {}).get("git_revision"))[:12]
                                             for r in ok if (r.get("provenance") or {}).get("git_revision")})),
            "config_hash": ",".join(sorted({str(r["config_hash"]) for r in ok if r.get("config_hash")})),
            "summary": link,
        }
        metrics = [m for m in RECORD_METRICS if any(m in (r.get("metrics") or {}) for r in ok)] or ["acc"]
        for metric in metrics:
            values = [100.0 * float(r["metrics"][metric]) for r in ok
                      if (r.get("metrics") or {}).get(metric) is not None]
            mean, std, sem = _stats(values)
            rows.append({**common, "metric": metric, "mean": mean, "std": std, "sem": sem, "values": values})
    return rows


def _mean(xs):
    xs = [float(x) for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return float(np.mean(xs)) if xs else None


def _max(xs):
    xs = [float(x) for x in xs if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return float(max(xs)) if xs else None


def published_rows(published: pd.DataFrame) -> list[dict]:
    """Rows of ``load_published()``: one printed cell each, at the paper's budget."""
    displays = _display_names()
    rows = []
    for r in published.itertuples(index=False):
        value = float(r.value)
        if r.scale == "fraction":
            value *= 100.0
        rows.append({
            "source": "published", "profile": "paper", "method": r.method,
            "display": r.row if r.method not in displays else displays[r.method],
            "dataset": r.dataset, "metric": r.metric, "mean": value, "std": None, "sem": None,
            "n_ok": None, "n": None, "values": [], "seeds": [], "budget": "paper (published)",
            "budget_fraction": 1.0, "paper_budget": True, "paper": r.paper, "table": str(r.table), "row": r.row,
            "note": str(r.note or "") + ("" if r.scale in _PERCENT_SCALES else f"{'; ' if r.note else ''}scale {r.scale}"),
        })
    return rows


def submitted_rows(submissions, link_root: Path | None = None) -> list[dict]:
    """Rows of the loaded submissions: one per (profile it joins, dataset, metric)."""
    rows = []
    for sub in submissions:
        meta = sub.meta
        datasets = sorted({d for d, _ in sub.values})
        for profile in meta["profiles"]:
            for dataset in datasets:
                seeds = sorted(s for d, s in sub.values if d == dataset)
                per_seed = [sub.values[(dataset, s)] for s in seeds]
                metrics = [m for m in RECORD_METRICS if any(m in v for v in per_seed)]
                for metric in metrics:
                    values = [100.0 * v[metric] for v in per_seed if metric in v]
                    mean, std, sem = _stats(values)
                    rows.append({
                        "source": "submitted", "profile": profile, "method": meta["method"],
                        "display": meta["display"], "dataset": dataset, "metric": metric, "mean": mean,
                        "std": std, "sem": sem, "n_ok": len(values), "n": len(per_seed), "values": values,
                        "seeds": [s for s, v in zip(seeds, per_seed) if metric in v],
                        "budget": meta["budget"]["description"],
                        "budget_fraction": meta["budget"].get("fraction"), "paper_budget": None,
                        "runtime_s": _mean([v.get("wall_s") for v in per_seed]),
                        "peak_rss_mb": _max([v.get("peak_rss_mb") for v in per_seed]),
                        "peak_gpu_mb": _max([v.get("peak_gpu_mb") for v in per_seed]),
                        "paper": meta["paper"], "paper_url": meta.get("paper_url"), "code_url": meta["code_url"],
                        "hardware": meta["hardware"], "note": meta.get("notes", ""),
                        "submission": str(sub.source_file) if link_root is None else os.path.relpath(sub.source_file, link_root),
                    })
    return rows


def results_table(runs_root: Path, published: pd.DataFrame | None, submissions=(), *,
                  profiles: list[str] | None = None, link_root: Path | None = None) -> pd.DataFrame:
    """The tidy table of every result the suite knows (reproduced, published, submitted)."""
    rows = reproduced_rows(runs_root, profiles, link_root)
    if published is not None:
        rows += published_rows(published)
    rows += submitted_rows(submissions, link_root)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    order = {"reproduced": 0, "submitted": 1, "published": 2}
    frame["_o"] = frame.source.map(order)
    frame = frame.sort_values(["_o", "profile", "dataset", "metric", "method", "paper", "table"],
                              kind="stable", na_position="first").drop(columns="_o").reset_index(drop=True)
    return frame


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """The tidy table as CSV (``values`` and ``seeds`` joined with ``;``), written atomically."""
    from ..framework.atomic import write_text

    out = frame.copy()
    for col in ("values", "seeds"):
        out[col] = out[col].map(lambda xs: ";".join(f"{x:.6g}" if isinstance(x, float) else str(x) for x in xs)
                                if isinstance(xs, list) else "")
    write_text(path, out.to_csv(index=False, float_format="%.6g"))
