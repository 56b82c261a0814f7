"""Issue 16.6: SIGTERM leaves no part file; part files of killed processes are removed by the next writer;
after a SIGKILL of Snakemake the README's recovery commands (--unlock, then --rerun-incomplete) work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clusterbench.framework.runner import run_seeds, seed_dir

SLOW_WRITER = """
import sys, time
from clusterbench.framework import atomic, cli

def slow_write_text(path, text):
    with atomic.atomic_path(path) as tmp:
        tmp.write_text(text)
        print("writing", flush=True)
        time.sleep(60)

atomic.write_text = slow_write_text
sys.exit(cli.main(["datasets-table", "--profile", "smoke", "--status-dir", "none", "--out", sys.argv[1]]))
"""


def test_sigterm_removes_the_part_file(tmp_path):
    out = tmp_path / "reports" / "table1.md"
    process = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(out)], stdout=subprocess.PIPE, text=True,
                               cwd=tmp_path)
    assert process.stdout.readline().strip() == "writing"
    assert list(out.parent.glob(".*.part"))  # the write is under way
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 128 + signal.SIGTERM
    assert not list(out.parent.glob(".*.part")) and not out.exists()


def test_part_files_of_dead_processes_are_removed(tmp_path):
    run_seeds("kmeans", "digits", [0], profile="smoke", out=tmp_path, log=lambda *a: None)
    directory = seed_dir(tmp_path, "smoke", "digits", "kmeans", 0)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = directory / f".labels.npz.{dead}.k3j2x9.part"  # left by a SIGKILL
    live = directory / f".labels.npz.{os.getpid()}.a8b7c6.part"  # a writer still running
    stale.write_bytes(b"half")
    live.write_bytes(b"half")
    run_seeds("kmeans", "digits", [0], profile="smoke", out=tmp_path, force=True, log=lambda *a: None)
    assert not stale.exists() and live.exists()


@pytest.mark.slow
def test_snakemake_recovers_after_sigkill(tmp_path):
    """kill -9 of Snakemake and its jobs mid-run; the README's recovery: --unlock, then --rerun-incomplete."""
    from test_shell_quoting import SNAKEMAKE, _copy_workflow, _snakemake

    _copy_workflow(tmp_path)
    args = ["results/smoke/runs.csv", "--cores", "1", "--config", "profile=smoke", "methods=[ae_kmeans]",
            "datasets=[digits]"]
    env = {"PATH": f"{SNAKEMAKE.parent}:/usr/bin:/bin", "HOME": str(tmp_path), "OMP_NUM_THREADS": "1",
           "CLUSTERBENCH_DATA": str(tmp_path / "resources" / "data")}
    process = subprocess.Popen([str(SNAKEMAKE), *args], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while not (tmp_path / "logs/pretrain/smoke/digits/ae_mse.log").exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    os.killpg(process.pid, signal.SIGKILL)  # Snakemake and its running job, as a node failure would
    process.wait(30)
    again = _snakemake(tmp_path, *args)
    assert again.returncode != 0 and "unlock" in again.stdout + again.stderr
    assert _snakemake(tmp_path, "--unlock", *args).returncode == 0
    done = _snakemake(tmp_path, *args, "--rerun-incomplete")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "results/smoke/runs.csv").read_text().count("\n") == 3  # header + seeds 0, 1
