"""Every gate file in config/ is well formed and each gated cell names a published number."""

from pathlib import Path

import pytest

from clusterbench.framework.gate import cell_published_value, gating_problem, load_config, stored_verdict
from clusterbench.framework.published import load_published

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("path", sorted((REPO / "config").glob("regression*.yaml")), ids=lambda p: p.name)
def test_gated_cells_have_published_values(path):
    config = load_config(path)
    published = load_published()
    assert config["gated"]
    for cell in config["gated"]:
        value = cell_published_value(published, cell)
        assert value is not None, f"{path.name}: no published value for {cell}"


@pytest.mark.parametrize("path", sorted((REPO / "config").glob("regression*.yaml")), ids=lambda p: p.name)
def test_deviations_are_measured_and_explained(path):
    """Every deviation names a published value, its measured gap and an explanation; no cell is listed twice."""
    config = load_config(path)
    published = load_published()
    cells = config["gated"] + (config.get("deviations") or [])
    keys = [(str(c["table"]), c["method"], c["dataset"], c["metric"]) for c in cells]
    assert len(set(keys)) == len(keys), f"{path.name}: a cell is listed twice"
    for dev in config.get("deviations") or []:
        assert cell_published_value(published, dev) is not None, f"{path.name}: no published value for {dev}"
        assert dev["explanation"].strip() and "gap" in dev and "reproduced" in dev, dev


@pytest.mark.parametrize("path", sorted((REPO / "config").glob("regression*.yaml")), ids=lambda p: p.name)
def test_gated_cells_pass_their_stored_run_with_room_for_a_rerun(path):
    """A gated cell's stored run lies inside the rule's bound by at least 2√2 SEM and is stable; a deviation
    stored on the points scale fails one of these (else it should be gated)."""
    config = load_config(path)
    published = load_published()
    tolerance = float(config.get("tolerance", 3.0))
    for cell in config["gated"]:
        verdict = stored_verdict(cell, published, tolerance)
        if verdict is not None:
            assert gating_problem(verdict) is None, f"{path.name}: {cell}: {gating_problem(verdict)}"
    for dev in config.get("deviations") or []:
        verdict = stored_verdict(dev, published, tolerance)
        if verdict is not None:
            assert gating_problem(verdict) is not None, f"{path.name}: deviation {dev} could be gated"


def test_gating_problem_names_each_reason():
    from clusterbench.budget import reproduction

    assert gating_problem(reproduction(70.0, 1.0, 10, 70.5, paper_budget=True)) is None
    assert gating_problem(reproduction(70.0, 1.0, 10, 75.0, paper_budget=True)).startswith("outside the bound")
    assert gating_problem(reproduction(70.0, 6.0, 10, 70.5, paper_budget=True)).startswith("unstable")
    # inside max(3, 2 SEM) = 3 by 0.07 with SEM 2.72/3: a rerun's mean moves by more than that
    close = gating_problem(reproduction(63.58, 2.72, 10, 66.51, paper_budget=False))
    assert close.startswith("inside the bound by 0.07") and "2.56" in close
