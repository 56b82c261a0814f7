"""Issue 16.15: every config value that reaches a shell command is quoted (no injection, real paths with
quotes and spaces work), whether it comes from ``--config mirror=`` or ``$CLUSTERBENCH_MIRROR``."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
SHARED_MIRROR = Path(os.environ.get("CLUSTERBENCH_MIRROR") or REPO.parent / "shared" / "datasets")


def _copy_workflow(dest: Path) -> None:
    shutil.copy(REPO / "Snakefile", dest / "Snakefile")
    shutil.copy(REPO / "environment.yml", dest / "environment.yml")
    shutil.copytree(REPO / "workflow", dest / "workflow")
    shutil.copytree(REPO / "config", dest / "config")


def _snakemake(cwd, *args, env_extra=None):
    env = {"PATH": f"{SNAKEMAKE.parent}:/usr/bin:/bin", "HOME": str(cwd), "OMP_NUM_THREADS": "1",
           "CLUSTERBENCH_DATA": str(cwd / "resources" / "data"), **(env_extra or {})}
    return subprocess.run([str(SNAKEMAKE), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.slow
def test_mirror_with_a_quote_cannot_inject_commands(tmp_path):
    _copy_workflow(tmp_path)
    canary = tmp_path / "PWNED"
    evil = f"/nonexistent'; touch {canary}; echo 'x"
    result = _snakemake(tmp_path, "resources/datasets/digits.json", "--cores", "1",
                        "--config", "profile=smoke", f"mirror={evil}")
    assert not canary.exists(), "the mirror value ran as a shell command"
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads((tmp_path / "resources/datasets/digits.json").read_text())["status"] == "available"


@pytest.mark.slow
@pytest.mark.parametrize("via", ["config", "environment"])
def test_mirror_path_with_a_quote_and_a_space_works(tmp_path, via):
    if not (SHARED_MIRROR / "UMIST.mat").exists():
        pytest.skip("shared dataset mirror not present")
    _copy_workflow(tmp_path)
    mirror = tmp_path / "it's a mirror"
    mirror.mkdir()
    shutil.copy(SHARED_MIRROR / "UMIST.mat", mirror / "UMIST.mat")
    args = ["resources/datasets/umist.json", "--cores", "1", "--config", "profile=smoke"]
    env = {}
    if via == "config":
        args.append(f"mirror={mirror}")
    else:
        env["CLUSTERBENCH_MIRROR"] = str(mirror)
    result = _snakemake(tmp_path, *args, env_extra=env)
    assert result.returncode == 0, result.stdout + result.stderr
    status = json.loads((tmp_path / "resources/datasets/umist.json").read_text())
    assert status["status"] == "available", status
