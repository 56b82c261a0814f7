"""Package data, not code: this folder installs as clusterbench.packaged.reference (see pyproject.toml, clusterbench/framework/resources.py)."""
