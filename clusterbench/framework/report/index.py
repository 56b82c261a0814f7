"""``reports/index.md``: every table report with its sources and reproduction status.

For each table spec under ``config/tables/`` (``table2.yaml``,
``ahcl/table2.yaml``, ...) the index lists the report path, the published
sources, and how many published cells have a reproduced counterpart and how
many of those lie within the spec's tolerance. Statuses are computed from the
run records, so the index is right even when a report file is stale.
"""

from __future__ import annotations

from pathlib import Path

from .tables import build_cells, load_spec, sources_line, spec_pairs, spec_profile, suite_version, table_status


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
    _, _, grid = build_cells(spec, runs, published, profile_datasets)
    return {**table_status(grid), "profile": name}


def render_index(tables_root: Path, runs_root: Path, reports_root: Path, profile: str,
                 profile_datasets: list[str], published, table_profile: str | None = None) -> str:
    """Markdown of the index."""
    from tabulate import tabulate

    body = []
    totals = {"published": 0, "reproduced": 0, "within": 0}
    for name, path in table_specs(tables_root):
        spec = load_spec(path)
        status = spec_status(spec, runs_root, profile, profile_datasets, published, table_profile)
        for key in totals:
            totals[key] += status[key]
        report = Path(reports_root) / f"{name}.md"
        link = f"[{name}]({name}.md)" + ("" if report.exists() else " (not rendered)")
        title = spec.get("title", name).replace("{profile}", status["profile"])
        body.append([link, title, sources_line(spec).split(" (")[0] if spec.get("published") else "–",
                     status["profile"], str(status["published"]), str(status["reproduced"]),
                     str(status["within"])])
    headers = ["Report", "Title", "Source", "Profile", "Published cells", "Reproduced", "Within tolerance"]
    lines = [
        "# Reports", "",
        "Every table report, with the published table it lays out and its status: how many published cells "
        "have a reproduced counterpart (runs of the suite, mean over seeds), and how many of those lie within "
        "tolerance (|reproduced − published| ≤ max(tolerance, 2 std); 3 points unless the spec says otherwise). "
        "The regression gate is `reports/regression.md` (`clusterbench check`).", "",
        tabulate(body, headers=headers, tablefmt="pipe", disable_numparse=True), "",
        f"Total: {totals['reproduced']} of {totals['published']} published cells reproduced, "
        f"{totals['within']} within tolerance.", "",
        "Sources: results/published/*.csv (transcriptions; results/published/README.md), "
        "bibliography in references.bib. Cite the suite with CITATION.cff.", "",
        f"Rendered by {suite_version()}.", "",
    ]
    return "\n".join(lines)
