"""Token labeling data side: machine-annotator score maps on disk.

- :mod:`.storage`: the shard/index format and its writer;
- :mod:`.store`: :class:`TokenLabelStore`, the reader;
- :mod:`.batch_expand`: :class:`TokenLabelCrop` (a compact label and its
  crop) and :func:`expand_token_labels` (dense targets per batch, on the
  model's device);
- :mod:`.annotator`: :class:`DenseAnnotator`, a classifier's head applied at
  every feature location (top-k per location).

The crop-aligned dense targets are made by the transforms in
``mmvitreg/datasets/transforms/token_labels.py``; the maps are written by
``tools/generate_token_labels.py``.
"""
from .annotator import DenseAnnotator, linear_as_conv1x1
from .batch_expand import TokenLabelCrop, expand_token_labels
from .storage import (CorruptShardError, ShardWriter, merge_index,
                      read_manifests)
from .store import TokenLabelStore

__all__ = [
    'CorruptShardError', 'DenseAnnotator', 'ShardWriter', 'TokenLabelCrop',
    'TokenLabelStore', 'expand_token_labels', 'linear_as_conv1x1',
    'merge_index', 'read_manifests'
]
