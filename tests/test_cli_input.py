"""Issue 16.11-16.13 (and 14.4): bad command-line input ends in one clear line naming the option or file and
exit status 2, before any work and without writing anything; devices are validated and the device used is
recorded; seed lists are bounded and reach the shell as short ranges."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from clusterbench.framework.cli import main

REPO = Path(__file__).resolve().parent.parent
RUN = ["run", "--method", "kmeans", "--dataset", "digits", "--profile", "smoke"]


def _refused(argv, tmp_path, capsys, needle):
    code = main(argv + (["--out", str(tmp_path / "runs")] if argv[0] == "run" else []))
    err = capsys.readouterr().err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("clusterbench: error:"), err
    assert needle in lines[0], lines[0]
    assert not list(tmp_path.rglob("record.json"))
    return lines[0]


# ---------------------------------------------------------------- 16.11 seeds

@pytest.mark.parametrize("seed", ["3-1", "0--2", "", "0-", "a", "-1", "1.5", "0-2,1", "1,1", "4294967296",
                                  "0-4294967296", "1,,2", " "])
def test_bad_seed_is_one_line_and_exit_2(seed, tmp_path, capsys):
    _refused(RUN + ["--seed", seed], tmp_path, capsys, "--seed")


def test_good_seed_lists(tmp_path, capsys):
    from clusterbench.framework.seeds import format_seeds, parse_seeds

    assert parse_seeds("0-2,5,7-8") == [0, 1, 2, 5, 7, 8]
    assert parse_seeds(["3", "0-1"]) == [3, 0, 1]
    assert parse_seeds("4294967295") == [2**32 - 1]
    assert format_seeds([0, 1, 2, 5, 7, 8]) == "0-2,5,7-8" and parse_seeds(format_seeds(list(range(1000))))
    assert main(RUN + ["--seed", "1", "--out", str(tmp_path / "runs"), "--summary", str(tmp_path / "s.json")]) == 0
    assert [r["seed"] for r in json.loads((tmp_path / "s.json").read_text())] == [1]


@pytest.mark.parametrize("command", [["pretrain", "--recipe", "ae_mse", "--dataset", "digits", "--profile", "smoke"],
                                     ["aggregate", "--profile", "smoke", "--out", "x.csv"]])
def test_seed_options_of_other_commands(command, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    option = "--seeds" if command[0] == "aggregate" else "--seed"
    _refused(command + [option, "2-1"], tmp_path, capsys, option)
    assert not list(tmp_path.rglob("*.pt")) and not (tmp_path / "x.csv").exists()


# ---------------------------------------------------------------- 16.11 --set, missing files, implementation, weights

@pytest.mark.parametrize("value, needle", [('{"n_init": 2', "not valid JSON"), ("n_init=2", "not valid JSON"),
                                           ("[1, 2]", "JSON object"), ('"n_init"', "JSON object"), ("3", "JSON object")])
def test_bad_set_is_one_line(value, needle, tmp_path, capsys):
    line = _refused(RUN + ["--seed", "0", "--set", value], tmp_path, capsys, "--set")
    assert needle in line


@pytest.mark.parametrize("argv, needle", [
    (["check", "--config", "nope/regression.yaml"], "nope/regression.yaml"),
    (["check", "--config", str(REPO / "config/regression.yaml"), "--reference", "nope/ref.csv"], "nope/ref.csv"),
    (["render", "--spec", "nope/table.yaml", "--profile", "smoke", "--out", "t.md"], "nope/table.yaml"),
    (["render", "--spec", str(REPO / "config/tables/table2.yaml"), "--profile", "smoke", "--runs", "nope/runs.csv",
      "--out", "t.md"], "nope/runs.csv"),
    (["index", "--tables", "nope/tables", "--profile", "smoke"], "nope/tables"),
])
def test_missing_files_are_named(argv, needle, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _refused(argv, tmp_path, capsys, needle)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("text, needle", [("gated: [\n", "invalid YAML"), ("- 1\n", "mapping"),
                                         ("gated: 3\n", "gated: 3 is not of type 'array'"),
                                         ("gated: [umist]\n", "gated.0: 'umist' is not of type 'object'")])
def test_bad_gate_config_is_one_line(text, needle, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gate.yaml").write_text(text)
    line = _refused(["check", "--config", "gate.yaml", "--out", ""], tmp_path, capsys, "gate.yaml")
    assert needle in line


def test_unknown_implementation_is_one_line(tmp_path, capsys, monkeypatch):
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    text = (config / "methods/kmeans.yaml").read_text()
    (config / "methods/kmeans.yaml").write_text(text.replace("implementation: ", "implementation: nowhere_", 1))
    monkeypatch.setenv("CLUSTERBENCH_CONFIG", str(config))
    line = _refused(RUN + ["--seed", "0"], tmp_path, capsys, "kmeans.yaml")
    assert "nowhere_" in line


def test_weights_of_the_wrong_shapes_are_named(tmp_path, capsys, monkeypatch):
    import torch

    from clusterbench.blocks.pretrain import weights_path

    monkeypatch.setenv("CLUSTERBENCH_PRETRAINED", str(tmp_path / "pretrained"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    argv = ["run", "--method", "ae_kmeans", "--dataset", "digits", "--profile", "smoke", "--seed", "0",
            "--out", str(tmp_path / "runs")]
    assert main(argv) == 0
    path = weights_path("smoke", "digits", "ae_mse", 0, tmp_path / "pretrained")
    payload = torch.load(path, weights_only=True)
    name = next(iter(payload["ae"]))
    payload["ae"][name] = torch.zeros(3, 3)  # the right hash, the wrong tensors (a foreign or edited file)
    torch.save(payload, path)
    shutil.rmtree(tmp_path / "runs")
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and str(path) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


# ---------------------------------------------------------------- 16.12 devices

@pytest.mark.parametrize("device, needle", [("banana", "banana"), ("cuda:x", "cuda:x"), ("cuda:99", "cuda:99"),
                                            ("CPU", "CPU")])
def test_bad_device_is_refused_before_any_work(device, needle, tmp_path, capsys):
    _refused(RUN + ["--seed", "0", "--device", device], tmp_path, capsys, needle)


def test_cuda_without_a_gpu_is_refused(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    _refused(RUN + ["--seed", "0", "--device", "cuda"], tmp_path, capsys, "cuda")


def test_the_device_used_is_recorded(tmp_path, capsys):
    """k-means runs on the CPU whatever --device says; a torch method records the torch device it used."""
    import torch

    from clusterbench.framework.runner import used_device

    assert main(RUN + ["--seed", "0", "--out", str(tmp_path / "runs")]) == 0
    record = json.loads(next((tmp_path / "runs").rglob("record.json")).read_text())
    assert record["device"] == "cpu" and record["provenance"]["device"] == "cpu"
    from clusterbench.framework.registry import get_method

    kmeans, ahcl = get_method("kmeans").load_class(), get_method("ahcl").load_class()
    assert used_device(kmeans, "cpu") == "cpu" and used_device(ahcl, "cpu") == "cpu"
    if torch.cuda.is_available():
        assert used_device(kmeans, "cuda") == "cpu"
        assert used_device(ahcl, "cuda") == f"cuda:{torch.cuda.current_device()}"


# ---------------------------------------------------------------- GPU precision and faiss device (#19)

@pytest.mark.parametrize("precision", ["tf32", "bf16"])
def test_gpu_precision_on_a_cpu_is_refused_before_any_work(precision, tmp_path, capsys):
    _refused(RUN + ["--seed", "0", "--precision", precision], tmp_path, capsys, f"--precision {precision}")


def test_a_bad_precision_in_the_environment_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CLUSTERBENCH_PRECISION", "fp8")
    _refused(RUN + ["--seed", "0"], tmp_path, capsys, "'fp8'")


def test_precision_is_recorded_and_keeps_records_apart(tmp_path, monkeypatch):
    """fp32 records: precision recorded, hash unchanged; a tf32 setting changes a torch method's hash only."""
    from clusterbench.framework.registry import resolve_config
    from clusterbench.framework.runner import precision_mode, run_hash

    assert main(RUN + ["--seed", "0", "--out", str(tmp_path / "runs")]) == 0
    record = json.loads(next((tmp_path / "runs").rglob("record.json")).read_text())
    assert record["precision"] == "fp32" and record["faiss_gpu"] is False
    hashes = {}
    for value in ("fp32", "tf32"):
        monkeypatch.setenv("CLUSTERBENCH_PRECISION", value)
        hashes[value] = {m: run_hash(m, "digits", "smoke", resolve_config(m, "digits", "smoke")[1])
                         for m in ("kmeans", "ahcl")}
    assert hashes["tf32"]["kmeans"] == hashes["fp32"]["kmeans"]
    assert hashes["tf32"]["ahcl"] == hashes["fp32"]["ahcl"] + "+tf32"
    import torch

    with precision_mode("bf16", "cpu"):                    # nothing changes on a CPU
        assert not torch.is_autocast_enabled("cuda") and not torch.is_autocast_enabled("cpu")


def test_faiss_runs_on_the_cpu_without_a_gpu_build():
    from clusterbench.blocks.kmeans_knn import faiss_device, faiss_gpus, kmeans, knn

    X = np.random.default_rng(0).standard_normal((300, 4)).astype(np.float32)
    with faiss_device("cpu") as gpu:
        assert gpu is None
    if faiss_gpus() == 0:
        with faiss_device("cuda") as gpu:
            assert gpu is None                             # CPU faiss package: CPU, whatever the device
            _, idx = knn(X, 3)
            labels, _ = kmeans(X, 3, n_init=2, backend="faiss")
        assert idx.shape == (300, 3) and labels.shape == (300,)


# ---------------------------------------------------------------- 16.13 seed bound

def test_seed_count_is_bounded(tmp_path, capsys):
    from clusterbench.framework.seeds import MAX_SEEDS

    line = _refused(RUN + ["--seed", f"0-{MAX_SEEDS}"], tmp_path, capsys, "--seed")
    assert str(MAX_SEEDS) in line


@pytest.mark.slow
def test_workflow_seed_bound_and_short_seed_lists(tmp_path):
    from test_shell_quoting import _copy_workflow, _snakemake

    from clusterbench.framework.seeds import MAX_SEEDS

    _copy_workflow(tmp_path)
    too_many = _snakemake(tmp_path, "-n", "results/smoke/runs.csv", "--config", "profile=smoke",
                          "methods=[kmeans]", "seeds=30000")
    out = too_many.stdout + too_many.stderr
    assert too_many.returncode != 0 and "30000" in out and str(MAX_SEEDS) in out and "Traceback" not in out
    ok = _snakemake(tmp_path, "-n", "-p", "results/smoke/runs.csv", "--config", "profile=smoke",
                    "methods=[kmeans]", f"seeds={MAX_SEEDS}")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"--seed 0-{MAX_SEEDS - 1} " in ok.stdout and f"--seeds 0-{MAX_SEEDS - 1} " in ok.stdout
    assert not (tmp_path / "results").exists()
