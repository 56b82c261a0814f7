"""Every gate file in config/ is well formed and each gated cell names a published number."""

from pathlib import Path

import pytest

from clusterbench.framework.gate import cell_published_value, load_config
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
