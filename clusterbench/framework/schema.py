"""Typed configuration: one JSON Schema per configuration kind, and one error format.

Kinds and their schema files (``workflow/schemas/``, packaged as ``clusterbench.packaged.schemas``):

=============  ==========================  ==========================================
kind           schema                      files
=============  ==========================  ==========================================
workflow       config.schema.yaml          config/config.yaml and ``--config``
method         method.schema.yaml          config/methods/*.yaml (+ params below)
recipe         recipe.schema.yaml          config/pretrain/*.yaml (+ params below)
params         derived from ``Config``     a method's / recipe's parameter overrides
profile        profile.schema.yaml         config/profiles/*.yaml
table          table.schema.yaml           config/tables/**/*.yaml
gate           gate.schema.yaml            config/regression*.yaml
published      published.schema.yaml       one row of results/published/*.csv
submission     (leaderboard's schema)      leaderboard submissions (issue 18)
=============  ==========================  ==========================================

A method's parameters are typed from its ``Config`` dataclass (:func:`config_schema`):
types from the annotations, ranges and choices from the shared vocabulary
``params.schema.yaml`` (by field name) and from a field's ``metadata={"schema": ...}``.
Every error is one line: ``{file}: {key.path}: {what was expected}``.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from functools import lru_cache
from typing import Any

import yaml



class ConfigError(ValueError):
    """A configuration names something that does not exist or has a wrong value (one line: file, key, expectation)."""

SCHEMA_FILES = {
    "workflow": "config.schema.yaml", "method": "method.schema.yaml", "recipe": "recipe.schema.yaml",
    "profile": "profile.schema.yaml", "table": "table.schema.yaml", "gate": "gate.schema.yaml",
    "published": "published.schema.yaml", "params": "params.schema.yaml",
}
#: the leaderboard's submission format (issue 18) is defined by its package; this is its slot
SUBMISSION_SCHEMA = ("clusterbench.leaderboard", "schemas/submission.schema.json")

#: what PyYAML 1.1 leaves as a string although it spells a float (``1e-3``, ``5E+2``)
_EXPONENT_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")


@lru_cache(maxsize=None)
def schema(kind: str) -> dict:
    """The JSON Schema of ``kind`` (see the module docstring)."""
    from .resources import packaged, packaged_file

    if kind == "submission":
        import json
        from importlib import resources

        package, name = SUBMISSION_SCHEMA
        try:
            node = resources.files(package).joinpath(name)
        except ModuleNotFoundError:
            node = None
        if node is None or not node.is_file():
            raise ConfigError(f"the submission schema {package}/{name} is not installed")
        return json.loads(node.read_text())
    if kind not in SCHEMA_FILES:
        raise KeyError(f"no schema kind {kind!r}; known: {sorted(SCHEMA_FILES) + ['submission']}")
    packaged("schemas")
    return yaml.safe_load(packaged_file("schemas", SCHEMA_FILES[kind]).read_text())


def _where(error) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "(top level)"


def _message(error) -> str:
    """jsonschema's message, made specific for oneOf/anyOf (the closest branch's complaint)."""
    import jsonschema

    if error.validator in ("oneOf", "anyOf") and error.context:
        best = jsonschema.exceptions.best_match(error.context)
        if best is not None and list(best.absolute_path) != list(error.absolute_path):
            return f"{'.'.join(map(str, best.absolute_path))}: {best.message}"
        options = sorted({e.message for e in error.context})
        return f"{error.instance!r} is not valid: expected one of: " + "; ".join(options)
    return error.message


def errors(instance: Any, schema_: dict, prefix: str = "") -> list[str]:
    """Every violation of ``schema_`` as ``key.path: expectation`` (sorted by path)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema_)
    out = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path]):
        where = _where(error)
        if prefix:
            where = prefix if where == "(top level)" else f"{prefix}.{where}"
        out.append(f"{where}: {_message(error)}")
    return out


def check(instance: Any, kind_or_schema, source: str, prefix: str = "") -> None:
    """Raise :class:`ConfigError` ``{source}: {key}: {expectation}`` for the first violation."""
    schema_ = schema(kind_or_schema) if isinstance(kind_or_schema, str) else kind_or_schema
    found = errors(instance, schema_, prefix)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise ConfigError(f"{source}: {found[0]}{more}")


def load_yaml(path, kind: str | None = None):
    """Parse a YAML file (a syntax error names the file and line); validate against ``kind``'s schema."""
    from pathlib import Path

    try:
        text = Path(str(path)).read_text() if not hasattr(path, "read_text") else path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{path}:{where}: invalid YAML: {problem}") from None
    data = {} if data is None else data
    if kind is not None:
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: (top level): expected a mapping of keys, got {type(data).__name__}")
        check(data, kind, str(path))
    return data


# ----------------------------------------------------------------- Config dataclasses

def _json_type(tp) -> dict:
    """JSON Schema of a Python annotation (int, float, str, bool, list[...], X | None, Literal[...])."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return {}
    if origin is typing.Literal:
        return {"enum": list(typing.get_args(tp))}
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        subs = [_json_type(a) for a in args if a is not type(None)]
        nullable = type(None) in args
        if len(subs) == 1 and "type" in subs[0] and nullable:
            t = subs[0]["type"]
            return {**subs[0], "type": (t if isinstance(t, list) else [t]) + ["null"]}
        return {"anyOf": subs + ([{"type": "null"}] if nullable else [])}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if tp is str:
        return {"type": "string"}
    if tp in (list, tuple) or origin in (list, tuple):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        out = {"type": "array"}
        if args:
            out["items"] = _json_type(args[0])
        return out
    if tp is dict or origin is dict:
        return {"type": "object"}
    return {}


def _vocabulary() -> list[tuple[re.Pattern, dict]]:
    rules = schema("params").get("rules") or {}
    return [(re.compile(pattern), dict(rule)) for pattern, rule in rules.items()]


@lru_cache(maxsize=None)
def config_schema(config_cls: type) -> dict:
    """JSON Schema of the overrides of ``config_cls`` (a dataclass): known keys only, typed, ranged."""
    hints = typing.get_type_hints(config_cls)
    vocabulary = _vocabulary()
    properties = {}
    for f in dataclasses.fields(config_cls):
        prop = _json_type(hints.get(f.name, Any))
        if prop.get("type") in ("integer", "number") or (isinstance(prop.get("type"), list)
                                                         and {"integer", "number"} & set(prop["type"])):
            for pattern, rule in vocabulary:
                if pattern.match(f.name):
                    prop.update({k: v for k, v in rule.items() if k != "enum"})
        if "string" in (prop.get("type") if isinstance(prop.get("type"), list) else [prop.get("type")]):
            for pattern, rule in vocabulary:
                if pattern.match(f.name) and "enum" in rule:
                    prop["enum"] = rule["enum"] + ([None] if isinstance(prop.get("type"), list) else [])
        prop.update(f.metadata.get("schema", {}))
        properties[f.name] = prop
    return {"type": "object", "additionalProperties": False, "properties": properties,
            "title": f"{config_cls.__name__} overrides"}


def coerce(overrides: dict, config_cls: type) -> dict:
    """``overrides`` with exponent-form strings turned into floats where ``config_cls`` wants a number."""
    if not isinstance(overrides, dict):
        return overrides
    properties = config_schema(config_cls)["properties"]
    out = dict(overrides)
    for key, value in overrides.items():
        t = properties.get(key, {}).get("type")
        wants_number = t == "number" or (isinstance(t, list) and "number" in t)
        if wants_number and isinstance(value, str) and _EXPONENT_FLOAT.match(value.strip()):
            out[key] = float(value)
    return out


def check_overrides(overrides, config_cls: type, source: str, prefix: str) -> dict:
    """Validate one layer of overrides (e.g. ``profiles.smoke``) of ``config_cls``; return them coerced."""
    if overrides is None:
        return {}
    if not isinstance(overrides, dict):
        raise ConfigError(f"{source}: {prefix}: expected a mapping of {config_cls.__name__} parameters, "
                          f"got {overrides!r}")
    overrides = coerce(overrides, config_cls)
    found = errors(overrides, config_schema(config_cls), prefix)
    if found:
        first = found[0]
        if "Additional properties" in first:
            unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(config_cls)})
            first = (f"{prefix}: unknown parameter(s) {unknown}; {config_cls.__name__} has "
                     f"{sorted(f.name for f in dataclasses.fields(config_cls))}")
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise ConfigError(f"{source}: {first}{more}")
    return overrides
