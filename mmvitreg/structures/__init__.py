"""Data structures shared by the data pipeline and the models, below both
(see the layer order in :mod:`mmvitreg`).

- :mod:`.token_labels`: token-label score maps on disk (format, writer,
  reader) and their crop-aligned expansion into dense targets.
"""
