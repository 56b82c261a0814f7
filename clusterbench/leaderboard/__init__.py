"""Leaderboards: one tidy results table, per-dataset rankings with significance groups, cross-dataset
average ranks with a Friedman test and a critical-difference diagram, as markdown, JSON and a static site.

- :mod:`.results`: the tidy table (one row per method × dataset × metric × source), built from run
  records, ``results/published/`` and ``submissions/``, never by re-running;
- :mod:`.submissions`: a researcher's own results, checked against ``submission.schema.json``;
- :mod:`.ranking`: per-dataset ranks and groups (Welch / Mann–Whitney, Holm), Friedman + Nemenyi;
- :mod:`.build`: the versioned ``reports/leaderboard.json`` and ``reports/leaderboard.md``;
- :mod:`.site`: the static site ``reports/site/``.
"""

#: version of the ``reports/leaderboard.json`` schema (``schemas/leaderboard.schema.json``)
SCHEMA_VERSION = "1.0"

#: pairwise tests against a group's leader (:func:`.ranking.pairwise_p`) and their level; here, not in
#: :mod:`.ranking`, so that building the CLI's parser does not import pandas (every DAG job builds it)
TESTS = ("welch", "mannwhitney")
ALPHA = 0.05
