"""Every gate file in config/ is well formed and each gated cell names a published number."""

from pathlib import Path

import pytest

from clusterbench.check import cell_published_value, load_config
from clusterbench.published import load_published

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("path", sorted((REPO / "config").glob("regression*.yaml")), ids=lambda p: p.name)
def test_gated_cells_have_published_values(path):
    config = load_config(path)
    published = load_published()
    assert config["gated"]
    for cell in config["gated"]:
        value = cell_published_value(published, cell)
        assert value is not None, f"{path.name}: no published value for {cell}"
