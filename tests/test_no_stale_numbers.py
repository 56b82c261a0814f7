"""Measured numbers and commits live in data (gate files' `measured` / `reproduced`, results/, generated reports),
never in comments, docstrings or the README where they go stale unseen."""

from __future__ import annotations

import re
from pathlib import Path

from clusterbench.framework.gate import Report, format_report

ROOT = Path(__file__).resolve().parents[1]
COMMIT = re.compile(r"\bgit [0-9a-f]{7,40}\b|\b[0-9a-f]{7}'s fits\b|Measured (at|with) git")
SOURCES = ["README.md", "Snakefile", "docs", "config", "methods", "baselines", "clusterbench", "workflow/rules",
           "scripts"]


def _files():
    for name in SOURCES:
        path = ROOT / name
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*")
                                                     if p.suffix in {".py", ".yaml", ".md", ".smk", ".sh", ".rst"})
        yield from files


def test_no_commit_hashes_in_comments_docstrings_or_readme():
    found = [f"{p.relative_to(ROOT)}:{i}" for p in _files()
             for i, line in enumerate(p.read_text(errors="replace").splitlines(), 1) if COMMIT.search(line)]
    assert not found, "measured-at commits belong in data (gate files' `measured`, results/): " + ", ".join(found)


def test_gate_files_carry_their_provenance_as_data():
    import yaml

    for path in sorted((ROOT / "config").glob("regression*.yaml")):
        gate = yaml.safe_load(path.read_text())
        stored = [c for c in (gate.get("gated") or []) + (gate.get("deviations") or []) if "reproduced" in c]
        if stored:
            assert re.fullmatch(r"[0-9a-f]{7,40}( .+)?", gate["measured"]["commit"]), path.name


def test_the_gate_report_prints_the_provenance_of_stored_deviations():
    report = Report("published", "paper", deviations=[
        {"paper": "ahcl", "table": "2", "method": "dec", "dataset": "usps", "metric": "acc", "published": 42.0,
         "reproduced": "74.51 ± 2.08 (n=10)", "gap": 32.5, "explanation": "budget"}],
        measured={"commit": "abc1234", "seeds": "0-9", "machine": "2 CPU cores"})
    _, md = format_report(report, "HEAD")
    assert "measured at commit abc1234 (seeds 0-9; 2 CPU cores)" in md
