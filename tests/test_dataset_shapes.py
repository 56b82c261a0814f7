"""Every registered method runs on every dataset shape it is registered for.

Parametrised over the registry (config/methods/*.yaml) and the dataset catalog: each (method, shape) pair
where the method applies to some dataset of that shape runs at the smoke budget on a tiny synthetic
stand-in of that shape (grey 28x28, RGB 32x32, RGB 96x96, 3-D 28^3 volumes, flat vectors, and the other
shapes of the catalog). The stand-in keeps the real dataset's name, so its per-dataset YAML values
(R-DC's alpha/beta on VesselMNIST3D, NMCE's backbone, ...) are the ones resolved. A method added to the
registry (DCCM, PAD) is covered without editing this file.
"""

from __future__ import annotations

import numpy as np
import pytest

from clusterbench.data import DATASETS, Dataset
from clusterbench.framework.registry import methods, resolve_config

N_PER_CLASS, N_CLASSES = 16, 3


def _pairs():
    """(method, shape, the first catalog dataset of that shape the method applies to)."""
    shapes: dict[tuple, list[str]] = {}
    for name, spec in DATASETS.items():
        shapes.setdefault(tuple(spec.shape), []).append(name)
    out = []
    for method, entry in methods().items():
        for shape, names in shapes.items():
            applicable = [n for n in names if entry.applies_to(n)]
            if applicable:
                out.append(pytest.param(method, shape, applicable[0],
                                        id=f"{method}-{'x'.join(map(str, shape))}"))
    return out


def stand_in(name: str, shape: tuple, seed: int = 0) -> Dataset:
    """Three classes of a dataset's shape in [0, 1]: a class-specific bright block on a noisy background."""
    rng = np.random.default_rng(seed)
    n = N_PER_CLASS * N_CLASSES
    y = np.repeat(np.arange(N_CLASSES), N_PER_CLASS)
    X = rng.uniform(0.0, 0.2, size=(n, *shape)).astype(np.float32)
    flat = X.reshape(n, -1)
    d = flat.shape[1]
    for k in range(N_CLASSES):
        flat[y == k, k * d // N_CLASSES:(k + 1) * d // N_CLASSES] += 0.7
    return Dataset(name, np.clip(flat, 0, 1).reshape(n, *shape), y.astype(np.int64), N_CLASSES)


def test_the_issue_shapes_are_covered():
    shapes = {p.values[1] for p in _pairs()}
    assert {(1, 28, 28), (3, 32, 32), (3, 96, 96), (1, 28, 28, 28), (2,), (32,)} <= shapes
    assert any(p.values[:2] == ("rdc", (1, 28, 28, 28)) for p in _pairs())


@pytest.mark.parametrize("method,shape,dataset", _pairs())
def test_method_runs_on_every_registered_shape(method, shape, dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERBENCH_PRETRAINED", str(tmp_path / "pretrained"))
    entry = methods()[method]
    cls, config = resolve_config(method, dataset, "smoke")
    from clusterbench.framework.base import RunContext

    # the smoke budget of the method and of its shared pretraining (an explicit context, as the runner gives)
    instance = cls(config, context=RunContext(profile="smoke", pretrain=entry.pretrain))
    data = stand_in(dataset, shape)
    result = instance.fit_predict(data, N_CLASSES, seed=0, device="cpu")
    labels = np.asarray(result.labels)
    assert labels.shape == (data.n_samples,)
    assert labels.min() >= 0 and np.unique(labels).size <= N_CLASSES
