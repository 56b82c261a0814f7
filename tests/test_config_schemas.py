"""Typed configuration: every kind refuses a wrong type, an out-of-range value and an unknown key with
one message naming the file, the key and the expectation, before any job runs (issues 14.2, 16.9-10)."""

import subprocess
import sys
from pathlib import Path

import pytest

from clusterbench.framework.registry import ConfigError, load_profile, methods, resolve_config
from clusterbench.framework.validate import validate_configuration

REPO = Path(__file__).resolve().parent.parent
KMEANS = "display: K\nimplementation: clusterbench.baselines.kmeans:KMeans\nkind: baseline\n"
DEC = "display: D\nimplementation: clusterbench.baselines.dec:DEC\nkind: baseline\npretrain: ae_mse\n"


@pytest.fixture
def user(tmp_path, monkeypatch):
    """A user folder over the packaged configuration; write(rel, text) adds or replaces a file."""
    monkeypatch.setenv("CLUSTERBENCH_CONFIG", str(tmp_path))

    def write(rel, text):
        from clusterbench.framework.registry import _methods

        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        _methods.cache_clear()                  # the registry is cached per user folder
        return path
    write.root = tmp_path
    return write


def _refused(match, fn, *args):
    with pytest.raises(ConfigError, match=match) as info:
        fn(*args)
    assert "\n" not in str(info.value)          # one line
    return str(info.value)


# ----------------------------------------------------------------- method entries and their parameters

@pytest.mark.parametrize("body, match", [
    ("params: {n_init: two}", r"kmeans\.yaml: params\.n_init: 'two' is not of type 'integer'"),
    ("profiles: {smoke: {n_init: 0}}", r"kmeans\.yaml: profiles\.smoke\.n_init: 0 is less than the minimum of 1"),
    ("params: {backend: gpu}", r"kmeans\.yaml: params\.backend: 'gpu' is not one of \['auto', 'sklearn', 'faiss'\]"),
    ("params: {max_iter: -1}", r"kmeans\.yaml: params\.max_iter: -1 is less than the minimum of 0"),
    ("params: {n_inits: 3}", r"kmeans\.yaml: params: unknown parameter\(s\) \['n_inits'\]; KMeansConfig has"),
    ("datasets: {digits: {n_init: 1.5}}", r"datasets\.digits\.n_init: 1\.5 is not of type 'integer'"),
])
def test_method_parameters_are_typed_from_the_config_dataclass(user, body, match):
    user("methods/kmeans.yaml", KMEANS + body + "\n")
    _refused(match, resolve_config, "kmeans", "digits", "smoke")
    _refused(match, validate_configuration, ["kmeans"])


@pytest.mark.parametrize("body, match", [
    ("params: {batch_size: 0}", r"dec\.yaml: params\.batch_size: 0 is less than the minimum of 1"),
    ("params: {update_interval: 0}", r"dec\.yaml: params\.update_interval: 0 is less than the minimum of 1"),
    ("params: {lr: -0.01}", r"dec\.yaml: params\.lr: -0\.01 is less than or equal to the minimum of 0"),
    ("params: {kmeans_backend: cuml}", r"dec\.yaml: params\.kmeans_backend: 'cuml' is not one of"),
    ("params: {optimizer: adagrad}", r"dec\.yaml: params\.optimizer: 'adagrad' is not one of"),
])
def test_issue16_values_are_refused_before_any_job(user, body, match):
    user("methods/dec.yaml", DEC + body + "\n")
    _refused(match, validate_configuration, ["dec"])


def test_exponent_strings_are_read_as_floats(user):
    """PyYAML reads ``1e-3`` as a string; a float parameter takes it as 0.001 (documented in params.schema.yaml)."""
    user("methods/dec.yaml", DEC + "params: {lr: 1e-3, tol: 5E-4}\n")
    _, config = resolve_config("dec", "digits", "paper")
    assert config.lr == 0.001 and isinstance(config.lr, float) and config.tol == 0.0005
    user("methods/kmeans.yaml", KMEANS + "params: {n_init: 1e1}\n")      # not for an integer
    _refused(r"params\.n_init: '1e1' is not of type 'integer'", resolve_config, "kmeans", "digits", "smoke")


@pytest.mark.parametrize("body, match", [
    ("kind: baselin\n", r"kmeans\.yaml: kind: 'baselin' is not one of \['baseline', 'method'\]"),
    ("order: -3\n", r"kmeans\.yaml: order: -3 is less than the minimum of 0"),
    ("profils: {}\n", r"kmeans\.yaml: \(top level\): Additional properties are not allowed \('profils' was unexpected\)"),
    ("profiles: {fast: {}}\n", r"kmeans\.yaml: profiles: 'fast' is not one of"),
    ("datasets: {digitz: {n_init: 2}}\n", r"kmeans\.yaml: datasets: unknown dataset\(s\) \['digitz'\]"),
    ("only_datasets: digits\n", r"kmeans\.yaml: only_datasets: 'digits' is not of type 'array'"),
])
def test_method_entry_schema(user, body, match):
    text = KMEANS.replace("kind: baseline\n", "") + body if body.startswith("kind") else KMEANS + body
    user("methods/kmeans.yaml", text)
    _refused(match, methods)


def test_unknown_implementation_is_named(user):
    user("methods/kmeans.yaml", KMEANS.replace("kmeans:KMeans", "kmeans:KMean"))
    _refused(r"kmeans\.yaml: implementation 'clusterbench\.baselines\.kmeans:KMean': module 'clusterbench\.baselines\.kmeans' has no 'KMean'",
             resolve_config, "kmeans", "digits", "smoke")


def test_yaml_syntax_error_names_its_file_and_line(user):
    path = user("methods/kmeans.yaml", KMEANS + "params: {n_init: [1, 2}\n")
    message = _refused(r"invalid YAML", methods)
    assert message.startswith(f"{path}: line 4")


# ----------------------------------------------------------------- pretraining recipes

@pytest.mark.parametrize("body, match", [
    ("recipe: ae_mse\nprofiles: {smoke: {epochs: many}}\n", r"ae_mse\.yaml: profiles\.smoke\.epochs: 'many' is not of type 'integer'"),
    ("recipe: ae_mse\nparams: {lr: 0}\n", r"ae_mse\.yaml: params\.lr: 0 is less than or equal to the minimum of 0"),
    ("recipe: ae_mse\nparams: {learning_rate: 0.1}\n", r"ae_mse\.yaml: params: unknown parameter\(s\) \['learning_rate'\]; AEMSEConfig"),
    ("recipe: ae_mse\nsteps: 3\n", r"ae_mse\.yaml: \(top level\): Additional properties are not allowed \('steps'"),
    ("recipe: vae\n", r"ae_mse\.yaml: recipe: 'vae' is not one of \['ae_mse', 'ae_denoising', 'acai'\]"),
])
def test_recipe_schema(user, body, match):
    from clusterbench.blocks.pretrain import resolve_recipe

    user("pretrain/ae_mse.yaml", body)
    _refused(match, resolve_recipe, "ae_mse", "digits", "smoke")


# ----------------------------------------------------------------- profiles

@pytest.mark.parametrize("body, match", [
    ("datasets: digits\nseeds: 2\n", r"smoke\.yaml: datasets: 'digits' is not of type 'array'"),   # not split
    ("datasets: []\nseeds: 2\n", r"smoke\.yaml: datasets: \[\] should be non-empty"),
    ("datasets: [digits]\nseeds: 0\n", r"smoke\.yaml: seeds: 0 is not valid: expected one of: 0 is less than the minimum of 1"),
    ("datasets: [digits]\nseeds: two\n", r"smoke\.yaml: seeds: 'two' is not valid"),
    ("datasets: [digits]\nmethods: []\n", r"smoke\.yaml: methods: \[\] is not valid"),
    ("datasets: [digits]\nseed: 2\n", r"smoke\.yaml: \(top level\): Additional properties are not allowed \('seed'"),
    ("datasets: [digitz]\n", r"smoke\.yaml: unknown dataset 'digitz'"),
])
def test_profile_schema(user, body, match):
    user("profiles/smoke.yaml", body)
    _refused(match, load_profile, "smoke")


def test_empty_lists_mean_the_same_on_the_command_line():
    """``--config datasets=[]`` is refused like ``datasets: []`` in a profile (not "the profile's")."""
    import jsonschema
    import yaml

    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    for key in ("datasets", "methods"):
        with pytest.raises(jsonschema.ValidationError, match="non-empty"):
            jsonschema.validate({"profile": "smoke", key: []}, schema)
        with pytest.raises(jsonschema.ValidationError, match="not of type 'array'"):
            jsonschema.validate({"profile": "smoke", key: "digits"}, schema)


# ----------------------------------------------------------------- table specs

SPEC = "rows: registered\ndatasets: profile\nmetrics: [{key: acc, label: ACC}]\n"


@pytest.mark.parametrize("body, match", [
    (SPEC + "digits: two\n", r"t\.yaml: digits: 'two' is not of type 'integer'"),
    (SPEC + "digits: 9\n", r"t\.yaml: digits: 9 is greater than the maximum of 6"),
    (SPEC + "colour: red\n", r"t\.yaml: \(top level\): Additional properties are not allowed \('colour'"),
    ("rows: [{method: kmeens}]\ndatasets: [digits]\nmetrics: [acc]\n",
     r"t\.yaml: rows\.0\.method: unknown method 'kmeens': neither registered"),
    ("rows: registered\ndatasets: [digitz]\nmetrics: [acc]\n", r"t\.yaml: datasets\.0: unknown dataset 'digitz'"),
    ("rows: registered\ndatasets: [digits]\nmetrics: [{key: accuracy}]\n", r"t\.yaml: metrics\.0: unknown metric 'accuracy'"),
    ("rows: registered\ndatasets: [digits]\nmetrics: [acc]\nscale: percentage\n", r"t\.yaml: scale: 'percentage' is not one of"),
])
def test_table_spec_schema_and_names(tmp_path, body, match):
    from clusterbench.framework.report.tables import load_spec

    path = tmp_path / "t.yaml"
    path.write_text(body)
    _refused(match, load_spec, path)


def test_unregistered_method_with_published_numbers_is_a_valid_row(tmp_path):
    """A paper's method not implemented yet (published numbers only) renders 'not implemented', not an error."""
    from clusterbench.framework.published import load_published
    from clusterbench.framework.registry import methods as registered
    from clusterbench.framework.report.tables import load_spec

    method = next(m for m in sorted(set(load_published().method)) if m not in registered())
    path = tmp_path / "t.yaml"
    path.write_text(f"rows: [{{method: {method}}}]\ndatasets: [digits]\nmetrics: [acc]\n")
    assert load_spec(path)["rows"] == [{"method": method}]


# ----------------------------------------------------------------- gate files

@pytest.mark.parametrize("body, match", [
    ("tolerance: three\n", r"g\.yaml: tolerance: 'three' is not of type 'number'"),
    ("tolerance: -1\n", r"g\.yaml: tolerance: -1 is less than the minimum of 0"),
    ("gated: [{paper: ahcl, table: '2', method: kmeans, dataset: umist, metric: acc, tolerence: 2}]\n",
     r"g\.yaml: gated\.0: Unevaluated properties are not allowed \('tolerence' was unexpected\)"),
    ("gated: [{paper: ahcl, table: '2', method: kmeans, dataset: umist}]\n", r"g\.yaml: gated\.0: 'metric' is a required"),
    ("gated: [{paper: ahcl, table: '2', method: kmeens, dataset: umist, metric: acc}]\n",
     r"g\.yaml: gated\.0\.method: unknown method 'kmeens'"),
    ("reference: {z: 0}\n", r"g\.yaml: reference\.z: 0 is less than or equal to the minimum of 0"),
])
def test_gate_schema(tmp_path, body, match):
    from clusterbench.framework.gate import load_config

    path = tmp_path / "g.yaml"
    path.write_text("profile: paper\n" + body)
    _refused(match, load_config, path)


# ----------------------------------------------------------------- published numbers

HEADER = "paper,table,row,method,dataset,dataset_display,metric,value,scale,note\n"


@pytest.mark.parametrize("row, match", [
    ("ahcl,2,K-Means,kmeans,umist,UMIST,acc,high,percent,", r"ahcl\.csv: line 2: value 'high' is not a number"),
    ("ahcl,2,K-Means,kmeans,umist,UMIST,acc,51.2,percentage,", r"ahcl\.csv: line 2: scale 'percentage' not in"),
    ("ahcl,2,K-Means,kmeans,umist,UMIST,acc,51.2,percent,,extra", r"ahcl\.csv: line 2: 11 fields, expected 10"),
    ("ahcl,2,K-Means,kmeans,umist,UMIST,acc,1_000,percent,", r"ahcl\.csv: line 2: value: '1_000' does not match"),
])
def test_published_csv_schema(tmp_path, row, match):
    from clusterbench.framework.published import load_published

    (tmp_path / "ahcl.csv").write_text(HEADER + row + "\n")
    with pytest.raises(ValueError, match=match):
        load_published(tmp_path)


# ----------------------------------------------------------------- CLI and DAG: refused before any job

def test_cli_run_refuses_bad_values_and_writes_nothing(user, capsys, tmp_path):
    from clusterbench.framework.cli import main

    user("methods/kmeans.yaml", KMEANS + "profiles: {smoke: {n_init: two}}\n")
    out = tmp_path / "runs"
    assert main(["run", "--method", "kmeans", "--dataset", "digits", "--profile", "smoke", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "profiles.smoke.n_init: 'two' is not of type 'integer'" in err
    assert not out.exists()
    user("methods/kmeans.yaml", KMEANS)
    assert main(["run", "--method", "kmeans", "--dataset", "digits", "--profile", "smoke", "--out", str(out),
                 "--set", '{"n_init": -2}']) == 2
    assert "command-line overrides: --set.n_init" in capsys.readouterr().err


@pytest.mark.slow
def test_snakemake_dry_run_refuses_an_unknown_key(tmp_path):
    """An unknown parameter in a method YAML stops ``snakemake -n`` at parse time, naming file and key."""
    import shutil

    for item in ("Snakefile", "environment.yml"):
        shutil.copy(REPO / item, tmp_path / item)
    for item in ("workflow", "config"):
        shutil.copytree(REPO / item, tmp_path / item)
    path = tmp_path / "config" / "methods" / "dec.yaml"
    path.write_text(path.read_text().replace("  smoke: {", "  smoke: {n_inti: 3, ", 1))
    snakemake = Path(sys.executable).parent / "snakemake"
    out = subprocess.run([str(snakemake), "-n", "--config", "profile=smoke"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, env={"PATH": f"{snakemake.parent}:/usr/bin:/bin", "HOME": str(tmp_path)})
    assert out.returncode != 0
    assert "config/methods/dec.yaml: profiles.smoke: unknown parameter(s) ['n_inti']" in out.stdout + out.stderr
    assert not (tmp_path / "results").exists()
