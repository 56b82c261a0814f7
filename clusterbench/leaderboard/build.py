"""``reports/leaderboard.json`` (schema ``schemas/leaderboard.schema.json``) and ``reports/leaderboard.md``.

A leaderboard is per profile: its reproduced rows are that profile's runs (each row carries its budget
against the paper's), its submitted rows are the submissions that name the profile, and its published
rows are the papers' numbers on its datasets (the papers' budgets; they take no rank).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from pathlib import Path

import pandas as pd

from . import SCHEMA_VERSION
from .ranking import ALPHA, cd_diagram, cross_dataset, rank_dataset

LEADERBOARD_METRICS = ("acc", "nmi", "ari")
METRIC_LABELS = {"acc": "ACC", "nmi": "NMI", "ari": "ARI"}
#: the NMI normalisation each paper used (results/published/README.md); the suite's ``nmi`` is arithmetic
PUBLISHED_NMI = {"ahcl": "max", "dccm": "geometric", "dec": "geometric", "idec": "geometric",
                 "deckeras": "geometric", "dynae": "arithmetic"}
ENTRY_KEYS = ("source", "method", "display", "rank", "group", "mean", "std", "sem", "n_ok", "n", "budget",
              "budget_details",
              "budget_fraction", "paper_budget", "runtime_s", "peak_rss_mb", "peak_gpu_mb", "p_adj", "p_leader",
              "summary", "git_revision", "config_hash", "paper", "table", "row", "note", "code_url", "paper_url",
              "hardware", "submission", "values")
TEST_TEXT = {
    "welch": "Welch's t-test (unequal variances, two-sided)",
    "mannwhitney": "Mann–Whitney U test (two-sided)",
}


def _dropped(cross: dict) -> str:
    """Left-out methods with the datasets they have results on: ``PAD (results on digits, mnist5k only)``."""
    coverage = cross.get("dropped_coverage") or {}
    return ", ".join(f"{cross['labels'].get(m, m)} (results on {', '.join(coverage[m]) or 'no dataset'} only)"
                     if m in coverage else cross["labels"].get(m, m) for m in cross["dropped_methods"])


def _clean(value):
    """JSON-safe: NaN → None, numpy scalars → Python."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (list, dict, str)):
        return _clean(value.item())
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def content_hash(doc: dict) -> str:
    """sha256 of the canonical JSON of everything but ``generated``, ``git_revision``, ``content_hash`` and
    the citations (which quote the hash): two builds from the same results share it."""
    body = {k: v for k, v in doc.items() if k not in ("generated", "git_revision", "content_hash", "suite")}
    body["leaderboards"] = [{k: v for k, v in b.items() if k != "citation"} for b in body.get("leaderboards", [])]
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def citation(doc: dict, board: dict) -> dict:
    """Plain-text and BibTeX snippets that pin one leaderboard's state."""
    h = doc["content_hash"].split(":", 1)[1]
    date = doc["generated"][:10]
    what = f"{board['dataset']}, {METRIC_LABELS.get(board['metric'], board['metric'])}, profile {board['profile']}"
    text = (f"clusterbench leaderboard ({what}), state sha256:{h[:16]}, git {doc['git_revision'] or 'unknown'}, "
            f"{date}. clusterbench: a reproducibility benchmark suite for deep clustering (CITATION.cff).")
    key = f"clusterbench_{board['profile']}_{board['dataset']}_{board['metric']}_{h[:8]}"
    bibtex = (f"@misc{{{key},\n  title = {{clusterbench leaderboard: {what}}},\n"
              f"  author = {{{{clusterbench contributors}}}},\n  year = {{{date[:4]}}},\n"
              f"  note = {{leaderboard.json state sha256:{h}, git {doc['git_revision'] or 'unknown'}, {date}}}\n}}")
    return {"text": text, "bibtex": bibtex}


def _dataset_order(profile_datasets: list[str], present: set[str]) -> list[str]:
    return [d for d in profile_datasets if d in present] + sorted(present - set(profile_datasets))


def build(table: pd.DataFrame, profile: str, profile_info: dict, *, test: str = "welch", alpha: float = ALPHA,
          primary: str = "acc", git_revision: str | None = None, suite: str = "", reports: list[dict] = (),
          diagram_names: dict[str, str] | None = None) -> dict:
    """The leaderboard document of ``profile`` from the tidy ``table`` (:func:`.results.results_table`)."""
    from ..data import DATASETS

    own = table[(table.profile == profile) & table.source.isin(["reproduced", "submitted"])
                & table.metric.isin(LEADERBOARD_METRICS) & table["mean"].notna()]
    # a submission joins the profile on the profile's datasets (and those it has runs of), not on all of its own
    reproduced = set(own[own.source == "reproduced"].dataset)
    own = own[(own.source == "reproduced") | own.dataset.isin(set(profile_info.get("datasets", [])) | reproduced)]
    datasets = _dataset_order(profile_info.get("datasets", []), set(own.dataset))
    published = table[(table.source == "published") & table.dataset.isin(datasets)
                      & table.metric.isin(LEADERBOARD_METRICS)]
    boards, rows_used = [], []
    for dataset in datasets:
        for metric in LEADERBOARD_METRICS:
            part = pd.concat([own[(own.dataset == dataset) & (own.metric == metric)],
                              published[(published.dataset == dataset) & (published.metric == metric)]])
            if part.empty:
                continue
            rows_used.append(part)
            entries = []
            for r in part.to_dict("records"):
                e = {k: _clean(r.get(k)) for k in ENTRY_KEYS if k in r}
                for k in ("n_ok", "n"):
                    e[k] = None if e.get(k) is None else int(e[k])
                if r["source"] == "published" and metric == "nmi":
                    variant = PUBLISHED_NMI.get(r["paper"], "not stated")
                    e["note"] = "; ".join(x for x in (f"NMI normalisation: {variant}", e.get("note")) if x)
                entries.append(e)
            ranked = rank_dataset(entries, test=test, alpha=alpha)
            for i, e in enumerate(ranked):
                e["id"] = f"{profile}/{dataset}/{metric}/{e['source']}/{e['method']}" + (
                    f"/{e['paper']}-{e['table']}" if e["source"] == "published" else "")
            spec = DATASETS.get(dataset)
            boards.append({"id": f"{profile}/{dataset}/{metric}", "profile": profile, "dataset": dataset,
                           "dataset_title": getattr(spec, "title", dataset), "metric": metric,
                           "higher_is_better": True, "entries": ranked})
    cross = []
    for metric in LEADERBOARD_METRICS:
        sub = own[own.metric == metric]
        matrix = sub.pivot_table(index="dataset", columns="method", values="mean", aggfunc="first")
        matrix = matrix.reindex(index=[d for d in datasets if d in matrix.index])
        result = cross_dataset(matrix, alpha=alpha) if not matrix.empty else {
            "methods": [], "datasets": [], "dropped_methods": [], "dropped_datasets": [], "average_ranks": {},
            "friedman": None, "nemenyi": None, "critical_difference": None, "reason": "no results"}
        displays = dict(zip(sub.method, sub.display))
        # where a left-out method has results (e.g. an image-only method on a profile with vector datasets)
        result["dropped_coverage"] = {m: [d for d in matrix.index if pd.notna(matrix.loc[d, m])]
                                      for m in result["dropped_methods"] if m in matrix.columns}
        result.update({"id": f"{profile}/{metric}", "profile": profile, "metric": metric,
                       "labels": {m: displays.get(m, m) for m in set(result["methods"]) | set(result["dropped_methods"])},
                       "diagram": (diagram_names or {}).get(metric)})
        cross.append(result)
    results = pd.concat(rows_used) if rows_used else table.iloc[:0]
    doc = {
        "schema": "clusterbench-leaderboard",
        "schema_version": SCHEMA_VERSION,
        "suite": suite,
        "git_revision": git_revision,
        "generated": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "profile": {"name": profile, "description": str(profile_info.get("description", "")).strip(),
                    "seeds": len(profile_info.get("seeds", [])), "datasets": datasets},
        "primary_metric": primary,
        "metrics": list(LEADERBOARD_METRICS),
        "test": {"name": test, "description": TEST_TEXT[test], "correction": "holm", "alpha": alpha,
                 "grouping": "the best ranked entry leads group 1; every entry whose Holm-adjusted p-value "
                             "against it is at least alpha joins; the best remaining entry leads the next group",
                 "cross_dataset": "average ranks over the datasets where all compared methods have results; "
                                  "Friedman test (scipy), Nemenyi post-hoc test (scikit-posthocs), "
                                  "critical difference of Demšar (2006)"},
        "budget_note": (f"Reproduced rows ran at profile {profile}'s budgets (each row's budget is given against "
                        "the paper's); submitted rows state their own budget; published rows are the papers' "
                        "numbers at the papers' budgets and take no rank."),
        "leaderboards": boards,
        "cross_dataset": cross,
        "reports": list(reports),
        "results": [{k: _clean(v) for k, v in r.items()} for r in results.to_dict("records")],
    }
    return seal(json.loads(json.dumps(doc, default=_clean, allow_nan=False)))


def seal(doc: dict) -> dict:
    """Set ``content_hash`` and the citations that quote it (again after any change)."""
    doc["content_hash"] = content_hash(doc)
    for board in doc["leaderboards"]:
        board["citation"] = citation(doc, board)
    return doc


def draw_diagrams(doc: dict, paths: dict[str, Path]) -> None:
    """One critical-difference diagram per metric; a metric without a post-hoc test gets a figure that
    says why (so the file always exists and never shows a result that was not computed) and no
    ``diagram`` in the document, which is sealed again."""
    for result in doc["cross_dataset"]:
        path = paths.get(result["metric"])
        if path is None:
            continue
        title = f"Profile {doc['profile']['name']}: {METRIC_LABELS[result['metric']]} average ranks"
        if not cd_diagram(result, path, title, result["labels"]):
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            from ..framework.atomic import atomic_path

            fig, ax = plt.subplots(figsize=(7.5, 1.2), dpi=120)
            ax.axis("off")
            ax.text(0.5, 0.5, f"{title}: no critical-difference diagram ({result['reason']})", ha="center",
                    va="center", fontsize=8, wrap=True)
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format="png")
            plt.close(fig)
            result["diagram"] = None
    seal(doc)


def _fmt(x, digits=1):
    return "–" if x is None else f"{x:.{digits}f}"


def _p(x):
    return "" if x is None else ("< 0.001" if x < 0.001 else f"{x:.3f}")


def _source(e):
    if e["source"] == "published":
        return f"published ({e['paper']} Table {e['table']}), not reproduced"
    if e["source"] == "submitted":
        return "submitted, not re-run"
    return "reproduced"


def render_markdown(doc: dict, metric: str | None = None, site_link: str = "site/index.html") -> str:
    """``reports/leaderboard.md``: one section per dataset (the primary metric), then the cross-dataset ranks."""
    from tabulate import tabulate

    metric = metric or doc["primary_metric"]
    label = METRIC_LABELS[metric]
    prof = doc["profile"]
    test = doc["test"]
    lines = [f"# Leaderboard: profile `{prof['name']}`, {label}", "",
             f"{prof['description']}", "",
             f"{doc['budget_note']} Ranked by {label} (mean ± std over seeds, in %); **Group**: entries that "
             f"share group 1 cannot be told apart from the leader ({test['description']}, Holm-corrected over the "
             f"comparisons with the group's leader, α = {test['alpha']}); the best remaining entry leads group 2, and "
             "so on. *Published rows in italics* stand at their value without rank or group. "
             f"NMI and ARI leaderboards, filters and sorting: [the site]({site_link}); data: "
             "[leaderboard.json](leaderboard.json) (schema version "
             f"{doc['schema_version']}), every result: [results.csv](results.csv).", ""]
    for board in (b for b in doc["leaderboards"] if b["metric"] == metric):
        lines += [f"## {board['dataset']} ({board['dataset_title']})", ""]
        body = []
        for e in board["entries"]:
            pub = e["source"] == "published"
            cells = ["–" if pub else str(e["rank"]), "" if pub else str(e["group"]),
                     e["display"] + (f" (`{e['method']}`)" if e["display"] != e["method"] else ""),
                     _source(e),
                     _fmt(e["mean"]) if pub else f"{_fmt(e['mean'])} ± {_fmt(e['std'])}",
                     "" if pub else f"{e['n_ok']}/{e['n']}",
                     e["budget"] or "", _fmt(e.get("runtime_s"), 2) if e.get("runtime_s") is not None else "",
                     _p(e.get("p_leader"))]
            if pub:
                cells = [f"*{c}*" if c else c for c in cells]
            elif e.get("summary") or e.get("submission"):
                cells[4] = f"[{cells[4]}]({e.get('summary') or e['submission']})"
            body.append(cells)
        lines += [tabulate(body, headers=["Rank", "Group", "Method", "Source", label, "n ok", "Budget",
                                          "Runtime (s)", "p vs leader (Holm)"],
                           tablefmt="pipe", disable_numparse=True), "",
                  f"Cite: {board['citation']['text']}", ""]
    cross = next(c for c in doc["cross_dataset"] if c["metric"] == metric)
    lines += [f"## Across datasets ({label})", ""]
    if cross["average_ranks"]:
        ranks = [[cross["labels"].get(m, m), f"{r:.2f}"] for m, r in cross["average_ranks"].items()]
        lines += [f"Average ranks (1 = best) over {len(cross['datasets'])} datasets with results for every "
                  f"compared method ({', '.join(cross['datasets'])}).", "",
                  tabulate(ranks, headers=["Method", "Average rank"], tablefmt="pipe", disable_numparse=True), ""]
    if cross["dropped_methods"] or cross["dropped_datasets"]:
        lines += [f"Left out to keep the block complete: methods {_dropped(cross) or 'none'}; datasets "
                  f"{', '.join(cross['dropped_datasets']) or 'none'}.", ""]
    if cross["friedman"]:
        f = cross["friedman"]
        lines += [f"Friedman χ² = {f['statistic']:.2f}, p = {f['p_value']:.3g} ({f['k']} methods, {f['n']} datasets); "
                  f"Nemenyi critical difference CD = {cross['critical_difference']:.2f} at α = {test['alpha']}: two "
                  "methods whose average ranks differ by less than CD cannot be told apart.", ""]
    else:
        lines += [f"No Friedman test: {cross['reason']}.", ""]
    if cross.get("diagram"):
        lines += [f"![critical-difference diagram]({cross['diagram']})", ""]
    if doc["reports"]:
        lines += ["## The papers' tables and figures", "",
                  ", ".join(f"[{r['name']}]({r['path']})" for r in doc["reports"]), ""]
    lines += [f"Leaderboard state {doc['content_hash']} ({doc['suite']}; built {doc['generated']}).", ""]
    return "\n".join(lines)


def paper_reports(reports_root: Path) -> list[dict]:
    """The papers' rendered tables and figures present under ``reports_root`` (paths relative to it)."""
    root = Path(reports_root)
    out = []
    for path in sorted(root.rglob("*")):
        if "site" in path.relative_to(root).parts or path.suffix not in (".md", ".png"):
            continue
        if path.name.startswith(("table", "figure")):
            rel = path.relative_to(root).as_posix()
            out.append({"name": rel.rsplit(".", 1)[0].replace("/", " "), "path": rel,
                        "kind": "table" if path.name.startswith("table") else "figure"})
    return out
