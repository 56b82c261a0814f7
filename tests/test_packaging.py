"""pyproject.toml and environment.yml list the same packages with the same pins; README commands exist."""

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[=<>!~\[ ]", requirement, maxsplit=1)[0].lower()


def test_environment_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = {_name(r): r.replace(" ", "") for r in project["dependencies"] + extras["test"] + extras["bench"]}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {_name(r): r.replace(" ", "") for r in pip if not r.startswith("-e")}
    assert listed == wanted
    assert wanted["torch"] == "torch==2.14.1" and wanted["torchvision"] == "torchvision==0.29.1"


def test_card_packages_are_dependencies():
    deps = {_name(r) for r in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]}
    assert {"torch", "torchvision", "medmnist", "snakemake", "pandas", "scikit-learn", "scipy", "matplotlib",
            "faiss-cpu", "tabulate", "mlxtend"} <= deps


def test_readme_commands_and_ci_agree():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "bash scripts/run_default.sh" in readme and "bash scripts/test.sh" in readme
    assert "scripts/test.sh" in ci
