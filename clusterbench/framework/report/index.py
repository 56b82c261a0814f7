"""``reports/index.md``: every table report with its sources and reproduction status.

For each table spec under ``config/tables/`` (``table2.yaml``,
``ahcl/table2.yaml``, ...) the index lists the report path, the published
sources, and the counts of the suite's one reproduction rule
(:func:`clusterbench.budget.reproduction`): published cells, those with a
reproduced counterpart, reproduced, at a reduced budget, unstable. Each spec is
listed at its own profile (paper tables: ``paper``; the main tables: the DAG's
profile) and again for every rendering under ``reports/{profile}/`` that exists.
Statuses are computed from the run records, so the index is right even when a
report file is stale.
"""

from __future__ import annotations

from pathlib import Path

from .tables import (build_cells, load_spec, sources_line, spec_pairs, spec_profile, status_line, suite_version,
                     table_status)


def table_specs(root: Path) -> list[tuple[str, Path]]:
    """(name, path) of every spec: ``ahcl/table2`` for ``config/tables/ahcl/table2.yaml``."""
    root = Path(root)
    specs = sorted(root.rglob("*.yaml"), key=lambda p: (len(p.relative_to(root).parts), str(p)))
    return [(str(p.relative_to(root).with_suffix("")), p) for p in specs]


def spec_status(spec: dict, runs_root: Path, profile: str, profile_datasets: list[str], published,
                table_profile: str | None = None) -> dict:
    """The table's status counts for the runs under ``runs_root``."""
    from ..aggregate import aggregate

    name = spec_profile(spec, profile, table_profile)
    runs = aggregate(Path(runs_root), name, spec_pairs(spec, profile_datasets))
    _, _, grid = build_cells(spec, runs, published, profile_datasets, name)
    return {**table_status(grid), "profile": name}


def report_path(name: str, spec: dict, profile: str, home_profile: str) -> str:
    """Where the rendering of spec ``name`` from ``profile`` lies, relative to ``reports/``: the spec's home
    profile (its ``profile`` key, else the DAG's) at ``{name}.md``, any other at ``{profile}/{name}.md``."""
    home = spec.get("profile") or home_profile
    return f"{name}.md" if profile == home else f"{profile}/{name}.md"


def render_index(tables_root: Path, runs_root: Path, reports_root: Path, profile: str,
                 profile_datasets: list[str], published, table_profile: str | None = None) -> str:
    """Markdown of the index: every spec at its home profile, and every other profile's rendering present."""
    from tabulate import tabulate

    from ..registry import PROFILES

    body = []
    keys = ("published", "compared", "reproduced", "reduced_budget", "unstable")
    totals = dict.fromkeys(keys, 0)
    reports_root = Path(reports_root)
    for name, path in table_specs(tables_root):
        spec = load_spec(path)
        home = spec_profile(spec, profile, table_profile)
        others = [p for p in PROFILES if p != home and (reports_root / report_path(name, spec, p, profile)).exists()]
        for which in [home] + others:
            status = spec_status(spec, runs_root, profile, profile_datasets, published, which)
            for key in keys:
                totals[key] += status[key]
            rel = report_path(name, spec, which, profile)
            link = f"[{rel[:-3]}]({rel})" + ("" if (reports_root / rel).exists() else " (not rendered)")
            title = spec.get("title", name).replace("{profile}", status["profile"])
            body.append([link, title, sources_line(spec).split(" (")[0] if spec.get("published") else "–",
                         status["profile"]] + [str(status[k]) for k in keys])
    headers = ["Report", "Title", "Source", "Profile", "Published cells", "With a reproduced counterpart",
               "Reproduced", "Reduced budget", "Unstable"]
    lines = [
        "# Reports", "",
        "Every table report, with the published table it lays out and its status under the suite's one "
        "reproduction rule (clusterbench.budget.reproduction): reproduced = the run is at the paper budget and "
        "|reproduced − published| ≤ max(3 points, 2 × SEM over the seeds); a cell at a reduced budget shows "
        "its Δ and never counts as reproduced; unstable = std over the seeds above 5 points. A report "
        "rendered from a profile other than its own lies under `reports/{profile}/`. The regression gates "
        "are `reports/regression*.md` (`clusterbench check`).", "",
        tabulate(body, headers=headers, tablefmt="pipe", disable_numparse=True), "",
        "Total: " + status_line(totals), "",
        "Sources: results/published/*.csv (transcriptions; results/published/README.md), "
        "bibliography in references.bib. Cite the suite with CITATION.cff.", "",
        f"Rendered by {suite_version()}.", "",
    ]
    return "\n".join(lines)
