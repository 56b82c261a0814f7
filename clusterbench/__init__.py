"""clusterbench: reproducibility benchmark suite for deep clustering.

The library holds everything generic (datasets, metrics, the method interface,
the runner, reports); one file per method lives in the top-level ``methods``
(paper methods) and ``baselines`` packages.
"""

from pathlib import Path

__version__ = "0.1.0"

#: Root of the source checkout (holds ``config/``, ``results/published``).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
