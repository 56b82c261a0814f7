"""`python -m clusterbench ...`: the CLI without the console script (the workflow's conda envs)."""

from clusterbench.cli import main

raise SystemExit(main())
