"""The built wheel works where it is installed: list, validate, run (smoke and quick) and check from a
folder outside the checkout, with the data read from the installed package (importlib.resources)."""

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _run(cmd, cwd, env, check=True):
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if check and out.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {out.returncode}:\n{out.stdout}\n{out.stderr}")
    return out


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory):
    """A fresh venv with the wheel installed; the dependencies come from this interpreter's site dirs."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "src"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split("\0")
    for rel in filter(None, files):
        if (REPO / rel).is_file():
            (source / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, source / rel)
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(root),
           "PIP_DISABLE_PIP_VERSION_CHECK": "1", "OMP_NUM_THREADS": "1"}
    for key in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_CONFIG_FILE", "PIP_NO_INDEX"):
        if key in os.environ:
            env[key] = os.environ[key]
    dist = root / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(source)], root, env)
    wheel = next(dist.glob("clusterbench-*.whl"))
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], root, env)
    python = venv / "bin" / "python"
    purelib = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        root, env).stdout.strip())
    # the dependencies already installed for this interpreter (no download, no copy)
    deps = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"],
                          *site.getsitepackages()])
    (purelib / "_clusterbench_test_deps.pth").write_text("\n".join(deps) + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
         root, env)
    work = root / "elsewhere"
    work.mkdir()
    run_env = {**env, "PATH": f"{venv / 'bin'}:/usr/bin:/bin", "CLUSTERBENCH_DATA": str(root / "data"),
               "PYTHONNOUSERSITE": "1"}
    return {"wheel": wheel, "python": python, "exe": venv / "bin" / "clusterbench", "cwd": work, "env": run_env,
            "purelib": purelib}


@pytest.mark.slow
def test_wheel_carries_the_data_and_namespaced_methods(wheel_env):
    names = zipfile.ZipFile(wheel_env["wheel"]).namelist()
    for needed in ("clusterbench/methods/ahcl.py", "clusterbench/baselines/kmeans.py",
                   "clusterbench/packaged/config/methods/kmeans.yaml", "clusterbench/packaged/config/tables/table2.yaml",
                   "clusterbench/packaged/config/profiles/quick.yaml", "clusterbench/packaged/config/pretrain/ae_mse.yaml",
                   "clusterbench/packaged/config/regression.yaml", "clusterbench/packaged/published/ahcl.csv",
                   "clusterbench/packaged/published/references.bib", "clusterbench/packaged/reference/quick.csv",
                   "clusterbench/packaged/schemas/method.schema.yaml"):
        assert needed in names, needed
    assert not any(n.startswith(("methods/", "baselines/")) for n in names)   # no generic top-level packages


@pytest.mark.slow
def test_installed_cli_lists_runs_and_checks_outside_the_checkout(wheel_env):
    exe, cwd, env = str(wheel_env["exe"]), wheel_env["cwd"], wheel_env["env"]
    where = _run([str(wheel_env["python"]), "-c", "import clusterbench; print(clusterbench.__file__)"], cwd, env)
    assert where.stdout.startswith(str(wheel_env["purelib"])), where.stdout   # the installed copy, not the checkout
    assert "clusterbench" in _run([exe, "--version"], cwd, env).stdout
    listed = _run([exe, "list"], cwd, env).stdout
    assert "clusterbench.baselines.kmeans:KMeans" in listed and "clusterbench.methods.ahcl:AHCL" in listed
    assert "configuration valid" in _run([exe, "validate"], cwd, env).stdout
    smoke = _run([exe, "run", "--method", "kmeans", "--dataset", "digits", "--profile", "smoke", "--out", "runs"],
                 cwd, env)
    assert smoke.stdout.count(": ok ACC") == 2                      # the smoke profile's two seeds
    _run([exe, "run", "--method", "kmeans", "--dataset", "digits", "--profile", "quick", "--out", "runs"], cwd, env)
    check = _run([exe, "check", "--reference", "--profile", "quick", "--methods", "kmeans", "--datasets", "digits",
                  "--runs-root", "runs", "--out", "regression.md"], cwd, env)
    assert "PASS: all" in check.stdout and "FAIL" not in check.stdout
    assert (cwd / "regression.md").exists()
    # a user folder adds a method without editing the package
    (cwd / "config" / "methods").mkdir(parents=True)
    (cwd / "config" / "methods" / "kmeans_many.yaml").write_text(
        "display: K-Means (50 restarts)\nimplementation: clusterbench.baselines.kmeans:KMeans\nkind: baseline\n"
        "params: {n_init: 50}\n")
    assert "kmeans_many" in _run([exe, "list"], cwd, env).stdout


@pytest.mark.slow
def test_missing_package_data_fails_loudly(wheel_env, tmp_path):
    """Remove the installed registry: the CLI names what is missing and exits 2 (no empty 'Methods:')."""
    packaged = wheel_env["purelib"] / "clusterbench" / "packaged" / "config"
    backup = tmp_path / "config"
    shutil.move(str(packaged), backup)
    try:
        out = _run([str(wheel_env["exe"]), "list"], wheel_env["cwd"], {**wheel_env["env"]}, check=False)
    finally:
        shutil.move(str(backup), packaged)
    assert out.returncode == 2
    assert "clusterbench.packaged.config" in out.stderr and "missing" in out.stderr


def test_every_subpackage_is_listed_in_pyproject():
    """pyproject.toml lists packages explicitly (methods/ and baselines/ are mapped): a new subpackage of
    clusterbench must be listed there, or the wheel silently lacks it."""
    import tomllib

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "clusterbench").rglob("__init__.py")
             if "__pycache__" not in p.parts}
    assert found <= listed, f"add to [tool.setuptools] packages in pyproject.toml: {sorted(found - listed)}"
