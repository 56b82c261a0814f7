"""README command 1 writes its own wall time (reports/command1.md) instead of a number in the README."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_run_default_records_its_wall_time(tmp_path):
    script = (ROOT / "scripts" / "run_default.sh").read_text()
    assert "scripts/record_timing.py" in script and 'snakemake reports/table2.md' in script
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "record_timing.py"), "1000", "1075", "1700",
                          "--config", "profile=smoke"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    text = (tmp_path / "reports" / "command1.md").read_text()
    assert "| setup (venv, pip install) | 1 min 15 s |" in text
    assert "| Snakemake (runs, tables, leaderboard, site) | 10 min 25 s |" in text
    assert "| total | 11 min 40 s |" in text and "--config profile=smoke" in text and "cores" in text


def test_readme_holds_no_measured_wall_times():
    readme = (ROOT / "README.md").read_text()
    assert "reports/command1.md" in readme
    assert "git 4c7f2b9" not in readme and "Measured on a 2-core" not in readme
