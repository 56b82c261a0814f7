"""clusterbench: reproducibility benchmark suite for deep clustering.

Layout (what goes where):

- ``clusterbench.framework``: the benchmark machinery. The method interface
  (``base``), the method registry and configuration resolution (``registry``),
  the runner that writes one record per seed (``runner``), atomic record writes
  (``atomic``), records → tidy table (``aggregate``), evaluation metrics
  (``metrics``), published numbers (``published``), the regression gate
  (``gate``), report rendering (``report``) and the command line (``cli``).
- ``clusterbench.blocks``: model building blocks that methods share (networks,
  backbones, augmentations, shared autoencoder pretraining, k-means / k-NN,
  spectral embeddings, EnSC, coding rates, LARS, DEC's losses, training-loop
  helpers). A new method's reusable pieces go here.
- ``clusterbench.data``: dataset catalogue, verified downloads, loading.
- ``clusterbench.methods`` / ``clusterbench.baselines``: one method per file
  (the repository's top-level ``methods/`` and ``baselines/`` folders, installed
  under this namespace). Methods import from ``blocks`` and ``framework``,
  never from one another's or a baseline's module.
"""

from pathlib import Path

__version__ = "0.1.0"

#: Root of the source checkout (holds ``config/``, ``results/published``).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
