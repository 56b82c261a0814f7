"""Check every configuration file before any job runs (the DAG at parse time, ``clusterbench validate``).

Method entries (schema, and every params / datasets / profiles layer against the
method's ``Config``), pretraining recipes, profiles, table specs and gate files:
the first problem raises :class:`ConfigError` naming the file, the key and
what was expected.
"""

from __future__ import annotations

from .registry import PROFILES, ConfigError, check_entry, load_profile, methods


def validate_configuration(methods_: list[str] | None = None) -> dict:
    """Validate the registry (``methods_`` only when given), recipes, profiles, table specs, gate files.

    Returns counts of what was checked.
    """
    from ..blocks.pretrain import recipes
    from .gate import load_config
    from .report.tables import load_spec
    from .resources import as_path, config_files

    registry = methods()
    names = list(registry) if methods_ is None else list(methods_)
    for name in names:
        if name not in registry:
            raise ConfigError(f"unknown method {name!r}; registered: {', '.join(registry)}")
        entry = registry[name]
        check_entry(entry, entry.load_class().Config)
        if entry.pretrain:
            known = recipes()
            if entry.pretrain not in known:
                raise ConfigError(f"{entry.path}: pretrain: unknown recipe {entry.pretrain!r}; "
                                  f"known: {', '.join(known)}")
    n_recipes = len(recipes())
    for profile in PROFILES:
        load_profile(profile)
    specs = config_files("tables", "**/*.yaml")
    for node in specs.values():
        load_spec(as_path(node))
    gates = [n for n in config_files(".", "*.yaml") if n.startswith("regression")]
    for name in gates:
        from .resources import config_file

        load_config(as_path(config_file(f"{name}.yaml")))
    return {"methods": len(names), "recipes": n_recipes, "profiles": len(PROFILES), "tables": len(specs),
            "gates": len(gates)}
