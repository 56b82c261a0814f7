"""``python -m clusterbench``: the command line (see :mod:`clusterbench.framework.cli`)."""

import sys

from clusterbench.framework.cli import main

sys.exit(main())
