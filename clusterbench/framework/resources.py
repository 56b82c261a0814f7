"""The library's data files, read with :mod:`importlib.resources`, and the user folder over them.

Packaged data (one source: the checkout's folders, mapped into the package by
pyproject.toml's ``package-dir``; an installed wheel carries copies of them):

========================  =======================  ============================================
kind                      package                  checkout folder
========================  =======================  ============================================
config                    clusterbench.packaged    config/ (methods, pretrain, profiles,
                          .config                  tables, regression*.yaml gate files)
published                 ...packaged.published    results/published (numbers, references.bib)
reference                 ...packaged.reference    results/reference (the gate's own reference)
schemas                   ...packaged.schemas      workflow/schemas (JSON Schemas)
========================  =======================  ============================================

User folder: ``$CLUSTERBENCH_CONFIG``, else ``./config`` when it holds a
``methods/`` folder (a checkout, or a project folder of the user's). Its
``methods/``, ``pretrain/``, ``profiles/`` and ``tables/`` files add to the
packaged ones; a file with a packaged file's name replaces it.
"""

from __future__ import annotations

import os
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

PACKAGES = {
    "config": "clusterbench.packaged.config",
    "published": "clusterbench.packaged.published",
    "reference": "clusterbench.packaged.reference",
    "schemas": "clusterbench.packaged.schemas",
}


class MissingDataError(RuntimeError):
    """A data file the library needs is not installed (a broken or partial installation)."""


def packaged(kind: str) -> Traversable:
    """The packaged folder of ``kind`` (config, published, reference, schemas); loud when absent."""
    name = PACKAGES[kind]
    try:
        root = resources.files(name)
    except ModuleNotFoundError:
        root = None
    if root is None or not root.is_dir():
        raise MissingDataError(f"clusterbench's packaged {kind} data ({name}) is missing: reinstall clusterbench "
                               f"(pip install clusterbench) or run from a checkout")
    return root


def packaged_file(kind: str, *parts: str) -> Traversable:
    """One packaged file; a missing one is an error naming it."""
    node = packaged(kind)
    for part in parts:
        node = node / part
    if not node.is_file():
        raise MissingDataError(f"clusterbench's packaged data file {kind}/{'/'.join(parts)} ({PACKAGES[kind]}) "
                               f"is missing: reinstall clusterbench")
    return node


def user_dir() -> Path | None:
    """``$CLUSTERBENCH_CONFIG``, else ``./config`` when it has a ``methods/`` folder, else None."""
    if os.environ.get("CLUSTERBENCH_CONFIG"):
        return Path(os.environ["CLUSTERBENCH_CONFIG"])
    local = Path("config")
    return local if (local / "methods").is_dir() else None


def config_files(folder: str, pattern: str = "*.yaml") -> dict[str, Traversable | Path]:
    """``config/{folder}/`` files by stem: the packaged ones, then the user folder's over them.

    ``folder`` may be nested ("tables/ahcl"); ``pattern`` "**/*.yaml" walks subfolders and keys
    files by their path relative to ``folder`` without the suffix.
    """
    found: dict[str, Traversable | Path] = {}
    recursive = pattern.startswith("**/")
    suffix = pattern.rsplit("*", 1)[-1]
    base = packaged("config")
    for part in folder.split("/"):
        base = base / part if part != "." else base
    found.update(_walk(base, suffix, recursive))
    user = user_dir()
    if user is not None and (user / folder).is_dir() and user.resolve() != as_path(packaged("config")).resolve():
        found.update(_walk(user / folder, suffix, recursive))
    return dict(sorted(found.items()))


def _walk(root, suffix: str, recursive: bool, prefix: str = "") -> dict:
    out = {}
    if not root.is_dir():
        return out
    for child in root.iterdir():
        if child.is_file() and child.name.endswith(suffix) and not child.name.startswith("."):
            out[prefix + child.name[: -len(suffix)]] = child
        elif recursive and child.is_dir() and not child.name.startswith((".", "__")):
            out.update(_walk(child, suffix, True, f"{prefix}{child.name}/"))
    return out


def config_file(*parts: str) -> Traversable | Path:
    """``config/{parts}``: the user folder's copy when it has one, else the packaged file."""
    user = user_dir()
    if user is not None and user.joinpath(*parts).is_file():
        return user.joinpath(*parts)
    return packaged_file("config", *parts)


def as_path(node: Traversable | Path) -> Path:
    """A real filesystem path for ``node`` (packaged files of an installed wheel or checkout are files)."""
    if isinstance(node, Path):
        return node
    return Path(str(node))
