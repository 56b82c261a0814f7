"""Ranks that respect noise.

Per dataset (:func:`rank_dataset`): ranked entries (reproduced and submitted, each with per-seed
values) are ordered by mean; the best one leads group 1, and every entry whose difference to it is
not significant over seeds (Welch t-test or Mann–Whitney U, two-sided, Holm-corrected over the
comparisons with that leader, α = 0.05) joins it; the best remaining entry then leads group 2, and
so on. Published-only rows take no rank and no group.

Across datasets (:func:`cross_dataset`): average ranks over the datasets where every compared
method has a result (Demšar 2006), the Friedman test (scipy) and the Nemenyi post-hoc test with its
critical difference (scikit-posthocs), drawn as a critical-difference diagram.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import ALPHA, TESTS  # noqa: F401 - re-exported


def pairwise_p(a: list[float], b: list[float], test: str = "welch") -> float:
    """Two-sided p-value of "a and b have the same mean (welch) / distribution (mannwhitney)".

    Fewer than two values on a side: 1.0 (no evidence of a difference). Both sides without spread:
    0.0 if the means differ (deterministic methods), else 1.0.
    """
    import warnings

    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 2 or len(b) < 2:
        return 1.0
    if test == "welch":
        if a.std() == 0 and b.std() == 0:
            return 0.0 if a.mean() != b.mean() else 1.0
        with warnings.catch_warnings():  # nearly identical seeds: scipy warns, the p-value stays usable
            warnings.simplefilter("ignore", RuntimeWarning)
            p = stats.ttest_ind(a, b, equal_var=False).pvalue
    elif test == "mannwhitney":
        if np.array_equal(np.sort(a), np.sort(b)):
            return 1.0
        p = stats.mannwhitneyu(a, b, alternative="two-sided").pvalue
    else:
        raise ValueError(f"test {test!r} not in {TESTS}")
    return 1.0 if p is None or math.isnan(p) else float(p)


def holm(p_values: list[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (statsmodels' multipletests)."""
    if not p_values:
        return []
    from statsmodels.stats.multitest import multipletests

    return [float(p) for p in multipletests(p_values, method="holm")[1]]


def rank_dataset(entries: list[dict], test: str = "welch", alpha: float = ALPHA,
                 higher_is_better: bool = True) -> list[dict]:
    """Entries of one (profile, dataset, metric), ordered, with ``rank``, ``group`` and ``p_adj``.

    ``entries``: dicts with ``mean``, ``values`` and ``source``; ``source == "published"`` rows are
    placed by their value between the ranked ones with ``rank = group = None``. ``p_adj`` is the
    Holm-adjusted p-value against the leader of the entry's group (None for a leader), ``p_leader``
    the one against the overall leader.
    """
    sign = 1.0 if higher_is_better else -1.0
    ranked = [dict(e) for e in entries if e["source"] != "published" and e.get("mean") is not None]
    published = [dict(e, rank=None, group=None, p_adj=None, p_leader=None) for e in entries
                 if e["source"] == "published" and e.get("mean") is not None]
    ranked.sort(key=lambda e: (-sign * e["mean"], e["method"]))
    previous = None
    for i, e in enumerate(ranked):
        e["rank"] = previous["rank"] if previous is not None and previous["mean"] == e["mean"] else i + 1
        e["group"], e["p_adj"], e["p_leader"] = None, None, None
        previous = e
    remaining, group = list(ranked), 0
    while remaining:
        group += 1
        leader, others = remaining[0], remaining[1:]
        leader["group"] = group
        adjusted = holm([pairwise_p(leader["values"], o["values"], test) for o in others])
        keep = []
        for o, p in zip(others, adjusted):
            if group == 1:
                o["p_leader"] = p  # against the overall leader, Holm over all its comparisons
            if p >= alpha:
                o["group"], o["p_adj"] = group, p
            else:
                keep.append(o)
        remaining = keep
    merged = ranked + published
    merged.sort(key=lambda e: (-sign * e["mean"], e["source"] == "published", e["method"]))
    return merged


def _greedy_block(matrix: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    block, dropped_m, dropped_d = matrix.copy(), [], []
    while block.size and block.isna().any().any():
        by_method, by_dataset = block.isna().sum(axis=0), block.isna().sum(axis=1)
        # drop a method unless a dataset is missing a larger share of its row than any method of its column
        if by_method.max() / max(len(block.index), 1) >= by_dataset.max() / max(len(block.columns), 1):
            name = by_method.idxmax()
            dropped_m.append(name)
            block = block.drop(columns=name)
        else:
            name = by_dataset.idxmax()
            dropped_d.append(name)
            block = block.drop(index=name)
    return block, dropped_m, dropped_d


def complete_block(matrix: pd.DataFrame) -> tuple[pd.DataFrame, list[str], list[str]]:
    """A complete (datasets × methods) block of ``matrix``: of two candidates, (a) dropping one at a time
    the method or dataset with the largest share of missing cells and (b) keeping only the methods with
    results on every dataset, the one that allows a Friedman test (≥ 3 methods, ≥ 2 datasets), then the
    larger. Returns (block, dropped methods, dropped datasets)."""
    greedy = _greedy_block(matrix)
    full = [m for m in matrix.columns if matrix[m].notna().all()]
    every = (matrix[full], [m for m in matrix.columns if m not in full], [])

    def score(candidate):
        block = candidate[0]
        return (block.shape[1] >= 3 and block.shape[0] >= 2, block.size)

    return max((greedy, every), key=score)


def cross_dataset(matrix: pd.DataFrame, alpha: float = ALPHA, higher_is_better: bool = True) -> dict:
    """Average ranks, Friedman and Nemenyi over a (datasets × methods) matrix of means.

    Returns {methods, datasets, dropped_methods, dropped_datasets, average_ranks, friedman, nemenyi,
    critical_difference, reason}; ``reason`` says why a test was not run (fewer than 3 methods or
    2 datasets in the complete block).
    """
    from scipy import stats

    block, dropped_m, dropped_d = complete_block(matrix)
    out = {"methods": list(block.columns), "datasets": list(block.index), "dropped_methods": dropped_m,
           "dropped_datasets": dropped_d, "average_ranks": {}, "friedman": None, "nemenyi": None,
           "critical_difference": None, "reason": None}
    k, n = block.shape[1], block.shape[0]
    if k < 2 or n < 1:
        out["reason"] = f"{k} method(s) on {n} dataset(s) with results for all of them"
        return out
    ranks = (-block if higher_is_better else block).rank(axis=1, method="average")
    avg = ranks.mean(axis=0).sort_values()
    out["average_ranks"] = {m: float(r) for m, r in avg.items()}
    if k < 3 or n < 2:
        out["reason"] = f"Friedman needs at least 3 methods on 2 datasets; complete block: {k} × {n}"
        return out
    values = block.to_numpy(float)
    if np.all(values == values[:, :1]):
        out["reason"] = "every method has the same value on every dataset"
        return out
    statistic, p = stats.friedmanchisquare(*[values[:, j] for j in range(k)])
    out["friedman"] = {"statistic": float(statistic), "p_value": float(p), "k": k, "n": n}
    import scikit_posthocs as sp

    nemenyi = sp.posthoc_nemenyi_friedman(values if higher_is_better else -values)
    nemenyi.index = nemenyi.columns = list(block.columns)
    out["nemenyi"] = {a: {b: float(nemenyi.loc[a, b]) for b in block.columns} for a in block.columns}
    # Demšar (2006) Eq. 5: CD = q_alpha sqrt(k (k+1) / (6 N)), q_alpha the studentized range quantile / sqrt 2
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    out["critical_difference"] = float(q * math.sqrt(k * (k + 1) / (6.0 * n)))
    return out


def cd_diagram(result: dict, path, title: str, labels: dict[str, str] | None = None) -> bool:
    """Draw the critical-difference diagram of :func:`cross_dataset`'s result to ``path`` (PNG).
    Returns False (and draws nothing) when there is no post-hoc test to draw."""
    if not result.get("nemenyi"):
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import scikit_posthocs as sp

    from ..framework.atomic import atomic_path

    labels = labels or {}
    names = [labels.get(m, m) for m in result["methods"]]
    sig = pd.DataFrame([[result["nemenyi"][a][b] for b in result["methods"]] for a in result["methods"]],
                       index=names, columns=names)
    ranks = pd.Series({labels.get(m, m): r for m, r in result["average_ranks"].items()})
    fig, ax = plt.subplots(figsize=(7.5, 1.6 + 0.3 * len(names)), dpi=120)
    sp.critical_difference_diagram(ranks, sig, ax=ax, cd=result["critical_difference"])
    f = result["friedman"]
    ax.set_title(f"{title}\nFriedman χ² = {f['statistic']:.2f}, p = {f['p_value']:.3g} "
                 f"({f['k']} methods, {f['n']} datasets); CD = {result['critical_difference']:.2f} (Nemenyi, α = 0.05)",
                 fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return True
