"""Package data, not code: this folder installs as clusterbench.packaged.published (see pyproject.toml, clusterbench/framework/resources.py)."""
