"""Package data, not code: this folder installs as clusterbench.packaged.schemas (see pyproject.toml, clusterbench/framework/resources.py)."""
