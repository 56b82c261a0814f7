import pytest

from clusterbench.framework.registry import ConfigError, get_method, load_profile, methods, resolve_config


def test_registry_lists_baselines_first():
    names = list(methods())
    assert names[:2] == ["kmeans", "spectral"] or {"kmeans", "spectral"} <= set(names)
    kinds = [methods()[n].kind for n in names]
    assert kinds == sorted(kinds, key=lambda k: k != "baseline")


def test_resolve_config_applies_profile_budget():
    _, smoke = resolve_config("kmeans", "digits", "smoke")
    _, quick = resolve_config("kmeans", "digits", "quick")
    assert smoke.n_init == 2 and quick.n_init == 10


def test_unknown_names_are_rejected_with_their_name():
    with pytest.raises(ConfigError, match="'kmeens'"):
        get_method("kmeens")
    with pytest.raises(ConfigError, match="'fast'"):
        resolve_config("kmeans", "digits", "fast")
    with pytest.raises(ConfigError, match="n_inits"):
        resolve_config("kmeans", "digits", "quick", {"n_inits": 3})


def test_typo_in_method_yaml_is_rejected(tmp_path, monkeypatch):
    (tmp_path / "methods").mkdir()
    (tmp_path / "methods" / "kmeans.yaml").write_text(
        "display: K\nimplementation: clusterbench.baselines.kmeans:KMeans\nkind: baseline\nprofils: {}\n")
    monkeypatch.setenv("CLUSTERBENCH_CONFIG", str(tmp_path))
    with pytest.raises(ConfigError, match="profils"):
        methods()
    (tmp_path / "methods" / "kmeans.yaml").write_text(
        "display: K\nimplementation: clusterbench.baselines.kmeans:KMeans\nkind: baseline\nparams: {n_int: 3}\n")
    from clusterbench.framework.registry import _methods

    _methods.cache_clear()
    with pytest.raises(ConfigError, match="n_int"):
        resolve_config("kmeans", "digits", "quick")
    _methods.cache_clear()


def test_profiles_validate(tmp_path, monkeypatch):
    for name in ("smoke", "quick", "cpu", "paper"):
        profile = load_profile(name)
        assert profile["datasets"] and profile["seeds"]
    assert load_profile("quick")["seeds"] == list(range(10))
    (tmp_path / "profiles").mkdir()
    (tmp_path / "methods").symlink_to(load_profile.__globals__["config_dir"]().resolve() / "methods")
    (tmp_path / "profiles" / "smoke.yaml").write_text("datasets: [digitz]\nseeds: 2\n")
    monkeypatch.setenv("CLUSTERBENCH_CONFIG", str(tmp_path))
    with pytest.raises(ConfigError, match="'digitz'"):
        load_profile("smoke")
