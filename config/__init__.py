"""Package data, not code: this folder installs as clusterbench.packaged.config (see pyproject.toml, clusterbench/framework/resources.py)."""
