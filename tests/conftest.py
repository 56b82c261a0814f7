"""Shared fixtures: an isolated data cache, the shared mirror, a tiny dataset."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_MIRROR = REPO.parent / "shared" / "datasets"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Every test gets its own dataset cache unless it sets one itself."""
    if "CLUSTERBENCH_DATA" not in os.environ or not os.environ["CLUSTERBENCH_DATA"].startswith(str(tmp_path_factory.getbasetemp())):
        monkeypatch.setenv("CLUSTERBENCH_DATA", str(tmp_path_factory.mktemp("data")))
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))


@pytest.fixture
def mirror():
    """The shared offline dataset copies; skips the test when they are absent."""
    if not (SHARED_MIRROR / "UMIST.mat").exists():
        pytest.skip("shared dataset mirror not present")
    return str(SHARED_MIRROR)


@pytest.fixture
def blobs():
    """A tiny, well-separated 3-cluster Dataset (vectors)."""
    from clusterbench.data import Dataset

    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [6, 0], [0, 6]], dtype=np.float32)
    y = np.repeat(np.arange(3), 40)
    X = centres[y] + rng.standard_normal((120, 2)).astype(np.float32) * 0.5
    return Dataset("blobs", X.astype(np.float32), y, 3)
