"""Paper table specs, report rendering (markdown + LaTeX), the index and the bibliography."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from clusterbench.framework.published import REQUIRED_TABLES, load_published
from clusterbench.framework.report.index import render_index, table_specs
from clusterbench.framework.report.tables import build_cells, load_spec, render, spec_pairs, table_status

REPO = Path(__file__).resolve().parent.parent
TABLES = REPO / "config" / "tables"


@pytest.fixture(scope="module")
def published():
    return load_published()


def _spec_path(paper: str, table: str) -> Path:
    return TABLES / paper / f"table{table.replace('.', '')}.yaml"


def _runs(rows):
    """A runs.csv-like frame: (dataset, method, status, {metric: value}) per seed."""
    out = []
    for dataset, method, status, metrics in rows:
        out.append({"profile": "paper", "dataset": dataset, "method": method, "status": status,
                    "git_revision": "abc123", **metrics})
    return pd.DataFrame(out)


def test_every_published_table_has_a_spec_showing_all_its_cells(published):
    for paper, tables in REQUIRED_TABLES.items():
        for table in tables:
            path = _spec_path(paper, table)
            assert path.exists(), f"no spec for {paper} Table {table}"
            spec = load_spec(path)
            assert spec["published"] == [{"paper": paper, "table": table}]
            _, _, grid = build_cells(spec, pd.DataFrame(), published, [])
            n_cells = len(published[(published.paper == paper) & (published.table == table)])
            assert table_status(grid)["published"] == n_cells, f"{paper} Table {table}"


def test_rows_follow_the_papers_order(published):
    for paper, table in [("ahcl", "2"), ("ahcl", "3"), ("dccm", "2"), ("rdc", "3"), ("nmce", "3"), ("pad", "2")]:
        spec = load_spec(_spec_path(paper, table))
        printed = list(dict.fromkeys(published[(published.paper == paper) & (published.table == table)].row))
        assert [r["label"] for r in spec["rows"]] == printed


def test_metric_variants_follow_the_papers():
    def keys(paper, table):
        spec = load_spec(_spec_path(paper, table))
        return {m["published"]: m["key"] for m in spec["metrics"]}

    assert keys("ahcl", "2") == {"acc": "acc", "nmi": "nmi_max"}
    assert keys("dccm", "2") == {"nmi": "nmi_geometric", "acc": "acc", "ari": "ari"}
    assert load_spec(_spec_path("ahcl", "2"))["scale"] == "percent"
    assert load_spec(_spec_path("dccm", "2"))["scale"] == "fraction"


def test_ahcl_table2_cells(published):
    spec = load_spec(_spec_path("ahcl", "2"))
    runs = _runs([("umist", "kmeans", "ok", {"acc": 0.43, "nmi_max": 0.65}),
                  ("umist", "kmeans", "ok", {"acc": 0.45, "nmi_max": 0.66}),
                  ("fmnist_test", "kmeans", "unavailable", {})])
    rows, columns, grid = build_cells(spec, runs, published, [])
    assert len(rows) == 11 and len(columns) == 10
    labels = [r["label"] for r in rows]
    km = grid[labels.index("K-Means")]
    # paper budget, seeds shown, the caveat on AHCL's K-Means (a single random start) marked
    assert km[0].text == "44.00 ± 1.00 (n=2) ✓ [42.87, Δ +1.13] (c2)" and km[0].within
    assert km[6].text == "not run: dataset unavailable [47.65] (c2)"
    assert km[2].text == "not run: no records [58.26] (c2)"
    assert grid[labels.index("CAN")][0].text == "69.62 (published)"
    assert grid[labels.index("CAN")][6].text == "–"  # printed '-' in the paper
    assert spec_pairs(spec, [])[:1] == [("umist", "kmeans")]
    md, tex = render(spec, runs, published, "paper", [])
    assert "Published numbers: ahcl Table 2" in md and "Rendered by clusterbench" in md and " git " in md
    assert "runs from git abc123" in md
    assert r"\multicolumn{2}{c}{UMIST}" in tex and r"\toprule" in tex
    # the LaTeX carries the markdown's profile line, legend, notes, caveats and sources
    assert "Profile paper: every reproduced cell at the paper budget." in tex
    assert "NMI is AHCL's" in tex and "Comparability caveats" in tex and "single run from random" in tex
    assert r"$\surd$ reproduced under the suite's one rule" in tex and "Published numbers: ahcl Table 2" in tex


def test_variant_rows_read_a_methods_alternative_clusterings(published):
    spec = load_spec(_spec_path("ahcl", "3"))
    runs = _runs([("umist", "ahcl", "ok", {"acc": 0.60, "acc_km_z": 0.50, "acc_sc_z": 0.55, "acc_sc_y": 0.60,
                                           "nmi_max_km_z": 0.7}),
                  ("umist", "ahcl", "ok", {"acc": 0.62, "acc_km_z": 0.52, "acc_sc_z": 0.57, "acc_sc_y": 0.62,
                                           "nmi_max_km_z": 0.7})])
    rows, _, grid = build_cells(spec, runs, published, [])
    labels = [r["label"] for r in rows]
    assert grid[labels.index("AHCL / KM-Z")][0].text.startswith("51.00 ± 1.00 (n=2) [")
    assert grid[labels.index("AHCL / SC-Y")][0].text.startswith("61.00 ± 1.00 (n=2) [")
    assert grid[labels.index("AHCL / KM-Z")][1].text.startswith("70.00 ± 0.00 (n=2) ✓ [")
    assert grid[labels.index("AHCL / SC-Z")][1].text.startswith("not run: metric not computed")
    assert ("umist", "ahcl") in spec_pairs(spec, []) and ("umist", "ahcl_mse") in spec_pairs(spec, [])


def test_table_profile_overrides_the_specs_profile(tmp_path):
    from clusterbench.framework.cli import main
    from record_fakes import write_fake_record

    for seed, acc in enumerate([0.40, 0.42]):
        write_fake_record(tmp_path / "runs", "cpu", "umist", "kmeans", seed, {"acc": acc, "nmi_max": 0.6})
    out = tmp_path / "t2.md"
    spec = str(_spec_path("ahcl", "2"))
    assert main(["render", "--spec", spec, "--profile", "quick", "--runs-root", str(tmp_path / "runs"),
                 "--out", str(out)]) == 0
    assert "41.00 ± 1.00" not in out.read_text()            # the spec's own profile: paper, no runs
    assert main(["render", "--spec", spec, "--profile", "quick", "--table-profile", "cpu",
                 "--runs-root", str(tmp_path / "runs"), "--out", str(out)]) == 0
    text = out.read_text()
    assert "41.00 ± 1.00 (n=2) ✓ [42.87" in text and "Profile `cpu`" in text   # K-Means: the paper's settings


def _records(root, profile, dataset, method, values, status="ok"):
    from record_fakes import write_fake_record

    for seed, value in enumerate(values):
        write_fake_record(root, profile, dataset, method, seed, value, status=status)


def test_cpu_rendering_names_the_budget_in_every_cell_caption_and_latex(tmp_path, published):
    """AHCL Table 2 from the cpu profile: AHCL's cells carry †, the caption and the LaTeX name AHCL's budget
    as a fraction of the paper's, K-Means (paper settings) can still be reproduced."""
    runs = tmp_path / "runs"
    _records(runs, "cpu", "usps", "ahcl", [{"acc": 0.70, "nmi_max": 0.66}, {"acc": 0.72, "nmi_max": 0.68}])
    _records(runs, "cpu", "usps", "kmeans", [{"acc": 0.67, "nmi_max": 0.61}, {"acc": 0.67, "nmi_max": 0.61}])
    from clusterbench.framework.aggregate import aggregate

    spec = load_spec(_spec_path("ahcl", "2"))
    frame = aggregate(runs, "cpu")
    md, tex = render(spec, frame, published, "cpu", [])
    ahcl = next(line for line in md.splitlines() if line.startswith("| AHCL(ours)"))
    usps = [c.strip() for c in ahcl.split("|")][-3:-1]
    assert all("(n=2) †" in c and "✓" not in c for c in usps), usps
    assert "67.00 ± 0.00 (n=2) ✓ [64.83, Δ +2.17]" in md    # K-Means runs the paper's settings at cpu
    assert "Profile `cpu`: reproduced cells at a reduced budget (†)" in md
    assert "AHCL: 10 of 140 epochs, narrower network" in md and "AHCL: 10 of 140 epochs, narrower network" in tex
    assert r"\dag{}" in tex and "reduced budget (caption)" in tex
    status = table_status(build_cells(spec, frame, published, [], "cpu")[2])
    assert status["reduced_budget"] == 2 and status["reproduced"] == 2   # K-Means only: AHCL never at cpu


def test_palm_ahcl_cell_is_scored_with_sc_z(published):
    """AHCL's published PALM value is its SC-Z number: the suite's PALM cell reads acc_sc_z, the others SC-Y."""
    spec = load_spec(_spec_path("ahcl", "2"))
    runs = _runs([("palm", "ahcl", "ok", {"acc": 0.90, "acc_sc_z": 0.95, "nmi_max": 0.97, "nmi_max_sc_z": 0.99}),
                  ("usps", "ahcl", "ok", {"acc": 0.70, "acc_sc_z": 0.10, "nmi_max": 0.66, "nmi_max_sc_z": 0.1})])
    rows, columns, grid = build_cells(spec, runs, published, [])
    line = grid[[r["label"] for r in rows].index("AHCL(ours)")]
    palm = [j for j, c in enumerate(columns) if c["dataset"] == "palm"]
    usps = [j for j, c in enumerate(columns) if c["dataset"] == "usps"]
    assert [line[j].mean for j in palm] == pytest.approx([95.0, 99.0])
    assert [line[j].mean for j in usps] == pytest.approx([70.0, 66.0])
    assert all("(c" in line[j].text for j in palm) and not any("(c" in line[j].text for j in usps)


def test_unregistered_method_says_not_implemented_then_fills_in(published, monkeypatch):
    from clusterbench.framework.report import tables

    spec = {"rows": [{"label": "Future", "method": "future_method", "published": "kmeans"}],
            "datasets": [{"dataset": "umist", "label": "UMIST"}], "metrics": [{"key": "acc"}],
            "published": [{"paper": "ahcl", "table": "2"}]}
    runs = _runs([("umist", "future_method", "ok", {"acc": 0.5})])
    _, _, grid = build_cells(spec, runs, published, [])
    assert grid[0][0].text == "not run: method not implemented [42.87]"
    assert spec_pairs(spec, []) == []
    registered = dict(tables.methods())
    registered["future_method"] = SimpleNamespace(applies_to=lambda dataset: True)
    monkeypatch.setattr(tables, "methods", lambda: registered)
    _, _, grid = build_cells(spec, runs, published, [])
    assert grid[0][0].text.startswith("50.00 ± 0.00 (n=1) † [42.87")  # no YAML: its budget is unknown
    assert spec_pairs(spec, []) == [("umist", "future_method")]


def test_rows_and_columns_can_carry_dataset_and_metric(published):
    a1 = load_spec(_spec_path("nmce", "A.1"))
    _, _, grid = build_cells(a1, pd.DataFrame(), published, [])
    assert grid[0][0].published == 100.0 and grid[1][0].published == 69.8
    assert grid[1][1].published == pytest.approx(0.717)  # raw scale kept
    t2 = load_spec(_spec_path("nmce", "2"))
    _, _, grid = build_cells(t2, pd.DataFrame(), published, [])
    assert grid[1][2].text.startswith("0.105 (published)")  # kNN on Pool features


def test_error_rate_is_the_complement_of_acc(published):
    spec = load_spec(_spec_path("nmce", "1"))
    runs = _runs([("coil20", "kmeans", "ok", {"acc": 0.9}), ("coil20", "spectral", "ok", {"acc": 0.8})])
    from clusterbench.framework.report import tables

    spec = dict(spec, rows=[{"label": "NMCE", "method": "kmeans", "published": "nmce"},
                            {"label": "SC", "method": "spectral"}])
    rows, columns, grid = build_cells(spec, runs, published, [])
    assert grid[0][0].mean == pytest.approx(10.0) and grid[1][0].mean == pytest.approx(20.0)
    assert tables._ranks(grid, columns) == {(0, 0): 1, (1, 0): 2}   # the lower error is the best


def test_registered_rows_keep_the_table2_format(published):
    spec = load_spec(TABLES / "table2.yaml")
    runs = _runs([("digits", "kmeans", "ok", {"acc": 0.8, "nmi": 0.7, "ari": 0.6})])
    md, tex = render(spec, runs, published, "quick", ["digits"])
    # markdown: one table per metric, the datasets as columns (LaTeX keeps the grouped table)
    assert "| Method " in md and "### ACC" in md and "| digits " in md and "80.0 ± 0.0" in md


def test_index_lists_every_report(tmp_path, published):
    runs = tmp_path / "runs"
    from record_fakes import write_fake_record

    write_fake_record(runs, "paper", "umist", "kmeans", 0, {"acc": 0.43, "nmi_max": 0.65})
    md = render_index(TABLES, runs, tmp_path / "reports", "quick", ["digits"], published)
    names = [name for name, _ in table_specs(TABLES)]
    assert "ahcl/table2" in names and "nmce/tableA1" in names and len(names) >= 24
    for name in names:
        assert f"[{name}]({name}.md)" in md
    line = next(l for l in md.splitlines() if "[ahcl/table2]" in l)
    cells = [c.strip() for c in line.split("|")][5:10]
    assert cells == ["104", "2", "2", "0", "0"]  # 104 published, 2 compared (ACC, NMI), both reproduced
    assert "ahcl/table2" in md and "[cpu/ahcl/table2]" not in md
    (tmp_path / "reports" / "cpu" / "ahcl").mkdir(parents=True)
    (tmp_path / "reports" / "cpu" / "ahcl" / "table2.md").write_text("x")
    md = render_index(TABLES, runs, tmp_path / "reports", "quick", ["digits"], published)
    assert "[cpu/ahcl/table2](cpu/ahcl/table2.md)" in md


def _latex_document(bodies: list[str]) -> str:
    return "\n".join([r"\documentclass{article}", r"\usepackage[utf8]{inputenc}", r"\usepackage[T1]{fontenc}",
                      r"\usepackage{booktabs}", r"\usepackage[margin=1cm,landscape]{geometry}",
                      r"\begin{document}"] + bodies + [r"\end{document}", ""])


def test_latex_tables_compile(tmp_path, published):
    engine = shutil.which("pdflatex") or shutil.which("lualatex") or shutil.which("xelatex")
    if engine is None:
        pytest.skip("no LaTeX engine installed")
    bodies = []
    runs = _runs([("umist", "kmeans", "ok", {"acc": 0.43, "nmi_max": 0.65}),   # quick = paper settings: ✓
                  ("umist", "ahcl", "ok", {"acc": 0.40, "nmi_max": 0.60}),     # reduced budget (†), unstable (‡)
                  ("umist", "ahcl", "ok", {"acc": 0.60, "nmi_max": 0.70})])
    for _, path in table_specs(TABLES):
        spec = load_spec(path)
        _, tex = render(spec, runs, published, "quick", ["digits"])
        bodies += [tex, r"\clearpage"]
    (tmp_path / "tables.tex").write_text(_latex_document(bodies))
    result = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "tables.tex"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "tables.pdf").exists()
    assert r"\dag{}" in "".join(bodies) and r"\ddag{}" in "".join(bodies) and r"$\surd$" in "".join(bodies)


def _bib_entries(path: Path) -> dict[str, str]:
    return dict(re.findall(r"@\w+\{([^,\s]+),(.*?)\n\}", path.read_text(), flags=re.S))


def test_bibliography_covers_papers_baselines_and_datasets():
    from clusterbench.data import DATASETS
    from clusterbench.framework.registry import methods

    entries = _bib_entries(REPO / "references.bib")
    for paper in ("ahcl", "pad", "dccm", "rdc", "nmce", "dec", "idec", "dynae"):
        assert paper in entries, paper
    tagged = {tag for body in entries.values() for tag in re.findall(r"dataset:(\w+)", body)}
    missing = sorted(set(DATASETS) - tagged)
    assert not missing, f"datasets without a references.bib entry (keywords = {{dataset:...}}): {missing}"
    method_tags = {tag for body in entries.values() for tag in re.findall(r"method:(\w+)", body)}
    for name in ("kmeans", "spectral", "dec", "idec", "dynae", "ae_kmeans"):
        assert name in method_tags, name
    keys = set(entries) | {k.strip() for body in entries.values()
                           for ids in re.findall(r"\bids\s*=\s*\{([^}]*)\}", body) for k in ids.split(",")}
    unknown = sorted(n for n in methods() if n not in method_tags and methods()[n].paper not in keys)
    assert not unknown, f"registered methods without a references.bib entry: {unknown}"


def test_citation_cff():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0" and cff["title"] and cff["message"]
    assert cff["version"] == __import__("clusterbench").__version__


def test_dataset_table_prints_the_papers_table1_beside(published):
    from clusterbench.framework.report.tables import render_dataset_table

    md, tex = render_dataset_table(["umist", "palm", "digits"], {}, "cpu", published, ("ahcl", "1"))
    assert "| 575 / 1024 / 20 " in md and "| 2000 / 256 / 100 " in md
    assert "| – / – / – " in md                              # digits is not in AHCL's Table 1
    assert "Every printed value matches" in md and r"\toprule" in tex
    changed = published.copy()
    changed.loc[(changed.paper == "ahcl") & (changed.table == "1") & (changed.dataset == "palm")
                & (changed.metric == "classes"), "value"] = 99.0
    md, _ = render_dataset_table(["palm"], {}, "cpu", changed, ("ahcl", "1"))
    assert "2000 / 256 / 99*" in md and "* differs" in md


def test_best_marks_need_two_reproduced_means():
    """One reproduced row beside published-only rows is not marked best; with two, the lower error is."""
    from clusterbench.framework.report.tables import Cell, _ranks

    error = [{"metric": {"lower_is_better": True}}]
    published_only, ours = Cell("1.79 (published)"), Cell("40.06 ± 2.45", mean=40.06)
    assert _ranks([[published_only], [ours]], error) == {}
    assert _ranks([[published_only], [ours], [Cell("30.00", mean=30.0)]], error) == {(2, 0): 1, (1, 0): 2}
