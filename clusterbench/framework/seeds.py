"""Seed lists: one grammar for ``--seed`` / ``--seeds``, the workflow's ``seeds`` and the profiles, one bound.

A seed list is comma-separated items, each ``N`` or an inclusive range ``A-B``
(A ≤ B) of non-negative integers, e.g. ``0-9`` or ``1,3,5-7``. Seeds are below
2³² (what numpy and scikit-learn accept), a seed may appear once, and one
request holds at most :data:`MAX_SEEDS` seeds (the papers use 10; the bound
keeps a typo such as ``seeds=30000`` from launching days of work and keeps
the workflow's command lines short).
"""

from __future__ import annotations

import re

from .registry import ConfigError

#: largest seed: numpy's legacy seeding and scikit-learn's random_state take [0, 2**32)
MAX_SEED = 2**32 - 1
#: most seeds in one request (CLI, workflow config, profile)
MAX_SEEDS = 1000

_ITEM = re.compile(r"(\d+)(?:-(\d+))?")
GRAMMAR = "N, A-B (A <= B) or a comma-separated list of them, with non-negative integers"


def parse_seeds(values: str | list[str], where: str = "--seed") -> list[int]:
    """The seeds of ``values`` (one string or several, as ``--seed`` given more than once), in order.

    Raises :class:`ConfigError` naming ``where`` and the bad item: an empty list or item, a
    non-integer, a negative number, a reversed range, a repeated seed, a seed ≥ 2³², more than
    :data:`MAX_SEEDS` seeds.
    """
    texts = [values] if isinstance(values, str) else list(values)
    ranges: list[tuple[int, int]] = []
    count = 0
    for text in texts:
        if not str(text).strip():
            raise ConfigError(f"{where}: empty seed list; expected {GRAMMAR}")
        for item in str(text).split(","):
            item = item.strip()
            match = _ITEM.fullmatch(item)
            if not match:
                raise ConfigError(f"{where}: {item!r} is not a seed or seed range; expected {GRAMMAR}")
            lo = int(match.group(1))
            hi = int(match.group(2)) if match.group(2) is not None else lo
            if hi < lo:
                raise ConfigError(f"{where}: range {item!r} is reversed; write {hi}-{lo}")
            if hi > MAX_SEED:
                raise ConfigError(f"{where}: seed {hi} is too large; seeds are below 2**32 = {MAX_SEED + 1}")
            count += hi - lo + 1
            if count > MAX_SEEDS:
                raise ConfigError(f"{where}: more than {MAX_SEEDS} seeds requested; the bound is {MAX_SEEDS}")
            for a, b in ranges:
                if lo <= b and a <= hi:
                    raise ConfigError(f"{where}: seed {max(a, lo)} is given twice")
            ranges.append((lo, hi))
    return [s for lo, hi in ranges for s in range(lo, hi + 1)]


def check_seed_list(seeds, where: str) -> list[int]:
    """A seed list from a YAML profile or the workflow config (a count or a list of integers), validated.

    A count ``n`` means seeds 0..n-1. Booleans, floats and strings are refused.
    """
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ConfigError(f"{where}: seeds must be at least 1, got {seeds}")
        if seeds > MAX_SEEDS:
            raise ConfigError(f"{where}: seeds={seeds} exceeds the bound of {MAX_SEEDS} seeds per request")
        return list(range(seeds))
    if not (isinstance(seeds, list) and seeds
            and all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)):
        raise ConfigError(f"{where}: seeds must be a count or a non-empty list of non-negative integers, "
                          f"got {seeds!r}")
    return parse_seeds(",".join(str(s) for s in seeds) if all(s >= 0 for s in seeds) else str(seeds), where)


def format_seeds(seeds: list[int]) -> str:
    """The shortest text :func:`parse_seeds` reads back as ``seeds`` (runs of consecutive seeds as ``A-B``)."""
    items: list[str] = []
    start = prev = None
    for s in seeds:
        if prev is not None and s == prev + 1:
            prev = s
            continue
        if start is not None:
            items.append(f"{start}-{prev}" if prev > start else str(start))
        start = prev = s
    if start is not None:
        items.append(f"{start}-{prev}" if prev > start else str(start))
    return ",".join(items)
