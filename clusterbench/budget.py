"""A run's budget against the paper's, and the suite's one reproduction rule.

:func:`budget` compares the resolved configuration of (method, dataset, profile)
with the same method's resolved ``paper`` profile on that dataset (and the same
for its shared pretraining recipe), key by key, so the description follows the
YAML and is never written per cell::

    >>> budget("ahcl", "usps", "cpu").description
    'AHCL: 10 of 140 epochs, narrower network (widths 8/16/32 of 32/64/128, fc_hidden 128 of 512), ...'

:func:`reproduction` is the one rule every report, ``reports/index.md`` and
every gate applies to a reproduced cell against its published value:

- reproduced: the run is at the paper budget and
  |mean − published| ≤ max(3 points, 2 × SEM over the seeds);
- unstable: std over the seeds > 5 points (shown whatever the gap);
- a cell at a reduced budget shows its gap but never counts as reproduced; a
  gate at a reduced budget is a regression check at that budget.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

#: keys that set the length of training (counted in steps by :func:`training_steps`)
LENGTH_KEYS = ("epochs", "iterations", "max_iter", "max_iterations", "max_steps", "s1_length", "s2_length",
               "s3_length", "layer_iterations", "finetune_iterations", "dec_max_iter")
#: keys that set the size of the network
NETWORK_KEYS = ("widths", "fc_hidden", "z_dim", "hidden", "embedding_dim", "mlp_width", "mlp_depth", "backbone",
                "resnet_width", "pre_feature_dim", "blocks_per_set")
#: keys that change what is logged or kept, never the result
COSMETIC_KEYS = ("log_every", "snapshot_epochs", "snapshot_seeds", "diagnostics_max", "record_budget",
                 "record_assignments")

#: the reproduction rule's constants, in points (percent scale)
TOLERANCE_POINTS = 3.0
UNSTABLE_POINTS = 5.0


@dataclass(frozen=True)
class Difference:
    key: str
    used: object
    paper: object
    kind: str  # length | network | setting
    unit: str = ""  # length keys: what is counted ("epochs", "iterations per epoch", "stage-1 steps")


@dataclass(frozen=True)
class Budget:
    """How (method, dataset, profile) compares with the paper's budget for that method and dataset."""

    method: str
    dataset: str
    profile: str
    display: str
    paper_budget: bool                 # every non-cosmetic value equals the paper profile's
    fraction: float | None             # training steps used / the paper's (None: no length key)
    steps: int | None = None
    paper_steps: int | None = None
    pretrain: str | None = None        # the shared pretraining recipe, if any
    pretrain_fraction: float | None = None
    differences: tuple = field(default_factory=tuple)         # of the method's own config
    pretrain_differences: tuple = field(default_factory=tuple)

    @property
    def description(self) -> str:
        """``AHCL: 10 of 140 epochs, narrower network`` (``AHCL: paper budget`` when nothing differs)."""
        if self.paper_budget:
            return f"{self.display}: paper budget"
        parts = [", ".join(_describe(self.differences))] if self.differences else []
        if self.pretrain_differences:
            parts.append(f"pretraining {self.pretrain}: " + ", ".join(_describe(self.pretrain_differences)))
        return f"{self.display}: " + "; ".join(parts)

    @property
    def details(self) -> str:
        """:attr:`description` with every network value named."""
        if self.paper_budget:
            return self.description
        parts = [", ".join(_describe(self.differences, True))] if self.differences else []
        if self.pretrain_differences:
            parts.append(f"pretraining {self.pretrain}: " + ", ".join(_describe(self.pretrain_differences, True)))
        return f"{self.display}: " + "; ".join(parts)

    @property
    def short(self) -> str:
        """``1/14 of the paper's steps`` / ``reduced budget`` / ``paper budget``: the cell marker's words."""
        if self.paper_budget:
            return "paper budget"
        if self.fraction is not None and self.fraction < 1:
            return f"{_fraction_text(self.fraction)} of the paper's steps"
        return "reduced budget"


def _fraction_text(f: float) -> str:
    if f <= 0:
        return "0"
    inverse = 1 / f
    if inverse >= 1.5 and abs(inverse - round(inverse)) < 0.05 * inverse:
        return f"1/{round(inverse):,}"
    return f"{f:.2g}"


def _fmt(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "/".join(_fmt(v) for v in value)
    return str(value)


def _size(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value):
        return float(sum(value))
    return None


def _describe(differences, details: bool = False) -> list[str]:
    """Words for a list of differences: lengths first, then the network, then other settings."""
    out = []
    for d in (d for d in differences if d.kind == "length"):
        if d.key == "max_steps" and not d.paper:
            out.append(f"at most {_fmt(d.used)} steps (paper: no cap)")
        elif isinstance(d.unit, tuple):
            out.append(f"{_fmt(d.used)} {d.unit[0]} of {_fmt(d.paper)} {d.unit[1]}")
        else:
            out.append(f"{_fmt(d.used)} of {_fmt(d.paper)} {d.unit or d.key.replace('_', ' ')}")
    network = [d for d in differences if d.kind == "network"]
    if network:
        sizes = [(_size(d.used), _size(d.paper)) for d in network]
        comparable = all(u is not None and p is not None for u, p in sizes)
        word = ("narrower network" if comparable and all(u <= p for u, p in sizes)
                else "larger network" if comparable and all(u >= p for u, p in sizes) else "other network")
        out.append(word + (" (" + ", ".join(f"{d.key} {_fmt(d.used)} of {_fmt(d.paper)}" for d in network) + ")"
                           if details else ""))
    for d in differences:
        if d.kind == "setting":
            out.append(f"{d.key} {_fmt(d.used)} (paper {_fmt(d.paper)})")
    return out


_UNITS = {"epochs": "epochs", "max_iter": "iterations at most", "max_iterations": "steps at most",
          "max_steps": "steps at most", "layer_iterations": "iterations per layer",
          "finetune_iterations": "fine-tuning iterations", "dec_max_iter": "DEC iterations at most"}


def _unit(key: str, a: dict, b: dict):
    """What a length key counts, in words (a (used, paper) pair when the two configs count differently)."""
    if key == "iterations":
        return "iterations per epoch" if "epochs" in a else "iterations"
    if key.startswith("s") and key.endswith("_length"):
        stage = key[1]
        ua, ub = a.get("unit", "steps"), b.get("unit", "steps")
        return f"stage-{stage} {ua}" if ua == ub else (f"stage-{stage} {ua}", f"stage-{stage} {ub}")
    return _UNITS.get(key, key.replace("_", " "))


def _differences(used, paper) -> tuple[Difference, ...]:
    a, b = dataclasses.asdict(used), dataclasses.asdict(paper)
    out = []
    for key in a:
        if key in COSMETIC_KEYS or a[key] == b.get(key):
            continue
        if key in LENGTH_KEYS:
            out.append(Difference(key, a[key], b.get(key), "length", _unit(key, a, b)))
        else:
            out.append(Difference(key, a[key], b.get(key), "network" if key in NETWORK_KEYS else "setting"))
    order = {"length": 0, "network": 1, "setting": 2}
    return tuple(sorted(out, key=lambda d: order[d.kind]))


def training_steps(config, n_samples: int | None = None) -> int | None:
    """Optimisation steps a resolved config trains for (None when it has no length key).

    AHCL-style ``epochs`` × ``iterations`` per epoch; NMCE's stages summed (``s1_length`` ...
    as the procedure uses them; ``unit: epochs`` counts epochs); DEC/IDEC/DynAE ``max_iter``,
    R-DC ``max_iterations`` (caps: training may stop earlier); ACAI ``iterations``; the MSE
    pretraining's epochs × ceil(N / batch) capped by ``max_steps``; the layer-wise denoising
    pretraining's iterations per layer pair × pairs + fine-tuning.
    """
    c = dataclasses.asdict(config)
    if "epochs" in c and "iterations" in c:
        return int(c["epochs"]) * int(c["iterations"])
    if "s1_length" in c:
        stages = {"one_stage": 1, "tcr_ensc": 1, "two_stage": 2, "three_stage": 3}.get(c.get("procedure"), 3)
        per_unit = (math.ceil(n_samples / int(c.get("batch_size", 256))) if n_samples else 1) \
            if c.get("unit") == "epochs" else 1
        return sum(int(c.get(f"s{k}_length", 0)) for k in range(1, stages + 1)) * per_unit
    if "max_iterations" in c:
        return int(c["max_iterations"])
    if "max_iter" in c and "update_interval" in c:  # DEC / IDEC / DynAE (k-means' max_iter is Lloyd's cap)
        return int(c["max_iter"])
    if "layer_iterations" in c:
        return int(c["layer_iterations"]) * (len(c.get("hidden") or []) + 1) + int(c["finetune_iterations"])
    if "iterations" in c:
        return int(c["iterations"])
    if "epochs" in c:
        per_epoch = math.ceil(n_samples / int(c.get("batch_size", 256))) if n_samples else 1
        steps = int(c["epochs"]) * per_epoch
        return min(steps, int(c["max_steps"])) if c.get("max_steps") else steps
    return None


def budget(method: str, dataset: str, profile: str, extra: dict | None = None) -> Budget:
    """The budget of ``method`` on ``dataset`` under ``profile`` against its ``paper`` profile.

    ``extra``: command-line overrides of the run (``--set``), applied to the used config only.
    """
    from .data import get_spec
    from .framework.registry import get_method, resolve_config

    entry = get_method(method)
    _, used = resolve_config(method, dataset, profile, extra)
    _, paper = resolve_config(method, dataset, "paper")
    try:
        n = get_spec(dataset).n_samples
    except Exception:  # noqa: BLE001 - an unknown dataset has no size; the step count then ignores it
        n = None
    diffs = _differences(used, paper)
    steps, paper_steps = training_steps(used, n), training_steps(paper, n)
    fraction = steps / paper_steps if steps is not None and paper_steps else None
    pre_diffs, pre_fraction = (), None
    if entry.pretrain:
        from .blocks.pretrain import resolve_recipe

        pre_used, pre_paper = resolve_recipe(entry.pretrain, dataset, profile), resolve_recipe(entry.pretrain, dataset,
                                                                                               "paper")
        pre_diffs = _differences(pre_used, pre_paper)
        s, p = training_steps(pre_used, n), training_steps(pre_paper, n)
        pre_fraction = s / p if s is not None and p else None
        if pre_fraction is not None and not any(d.kind == "length" for d in pre_diffs) and s != p:
            pre_diffs = (Difference("steps", s, p, "length"),) + pre_diffs
    mse_steps = [d for d in pre_diffs if d.key == "max_steps"]
    if mse_steps and pre_fraction is not None:  # "300 of 1,820 steps" reads better than "at most 300 (no cap)"
        pre_diffs = tuple(Difference("steps", min(mse_steps[0].used, training_steps(pre_paper, n)),
                                     training_steps(pre_paper, n), "length") if d.key == "max_steps" else d
                          for d in pre_diffs)
    return Budget(method, dataset, profile, entry.display, paper_budget=not diffs and not pre_diffs,
                  fraction=fraction, steps=steps, paper_steps=paper_steps, pretrain=entry.pretrain,
                  pretrain_fraction=pre_fraction, differences=diffs, pretrain_differences=pre_diffs)


def profile_budgets(methods_: list[str], datasets_: list[str], profile: str) -> dict[str, list[Budget]]:
    """Per method, the budgets on the datasets it runs on (for captions)."""
    from .framework.registry import get_method

    out = {}
    for m in methods_:
        entry = get_method(m)
        out[m] = [budget(m, d, profile) for d in datasets_ if entry.applies_to(d)]
    return out


def caption_line(budgets: list[Budget]) -> str:
    """One method's budgets in words, datasets sharing a description grouped:
    ``AHCL: 10 of 140 epochs, narrower network (...)`` or ``... (umist, coil20); ... (usps)``."""
    if not budgets:
        return ""
    groups: dict[str, list[str]] = {}
    for b in budgets:
        groups.setdefault(b.description, []).append(b.dataset)
    if len(groups) == 1:
        return next(iter(groups))
    display = budgets[0].display
    return f"{display}: " + "; ".join(f"{text.split(': ', 1)[1]} ({', '.join(ds)})" for text, ds in groups.items())


# ------------------------------------------------------------------ the reproduction rule

@dataclass(frozen=True)
class Verdict:
    """The rule's reading of one reproduced cell (all numbers in the cell's display units)."""

    status: str              # reproduced | not reproduced | reduced budget
    gap: float               # mean − published
    allowed: float           # max(tolerance, 2 × SEM)
    sem: float
    within: bool             # |gap| ≤ allowed (at a reduced budget: the regression check passes)
    unstable: bool           # std > the unstable threshold
    paper_budget: bool

    @property
    def reproduced(self) -> bool:
        return self.status == "reproduced"

    @property
    def label(self) -> str:
        """Short words for a cell or a gate row: ``reproduced``, ``not reproduced``, ``reduced budget``,
        each followed by ``, unstable`` where it applies."""
        return self.status + (", unstable" if self.unstable else "")


def sem(std: float, n: int) -> float:
    """Standard error of a mean over ``n`` seeds from the population std (ddof 0) the reports show:
    std · sqrt(n / (n − 1)) / sqrt(n) = std / sqrt(n − 1); 0 for a single seed (no spread known)."""
    return float(std) / math.sqrt(n - 1) if n > 1 else 0.0


def reproduction(mean: float, std: float, n: int, published: float, *, paper_budget: bool,
                 scale: str = "percent", tolerance: float | None = None,
                 unstable_above: float | None = None) -> Verdict:
    """The suite's one reproduction rule for a cell (mean, std over ``n`` ok seeds) against ``published``.

    ``scale``: the display units of the numbers, ``percent`` (points) or ``fraction`` (the thresholds
    3 and 5 points become 0.03 and 0.05); ``tolerance`` / ``unstable_above`` override the thresholds
    in those units (a spec's metric with its own scale, e.g. raw values). ``std`` is the population
    std (ddof 0) over the seeds.
    """
    factor = 1.0 if scale == "percent" else 0.01
    tol = TOLERANCE_POINTS * factor if tolerance is None else float(tolerance)
    unstable_limit = UNSTABLE_POINTS * factor if unstable_above is None else float(unstable_above)
    s = sem(std, n)
    allowed = max(tol, 2 * s)
    gap = float(mean) - float(published)
    within = abs(gap) <= allowed + 1e-9
    status = ("reproduced" if within else "not reproduced") if paper_budget else "reduced budget"
    return Verdict(status, gap, allowed, s, within, float(std) > unstable_limit + 1e-12, paper_budget)


RULE_TEXT = ("reproduced: paper budget and |mean − published| ≤ max(3 points, 2 × SEM over the seeds); "
             "unstable: std over the seeds > 5 points; a reduced-budget cell shows its Δ and never counts "
             "as reproduced")
