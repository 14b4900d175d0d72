"""Token labeling data side: machine-annotator score maps on disk.

- :mod:`.shard_format`: the on-disk format (records, shard manifests, the
  merged index);
- :mod:`.shard_writer`: :class:`ShardWriter`, which writes shards;
- :mod:`.store`: :class:`TokenLabelStore`, the random-access reader;
- :mod:`.batch_expand`: :class:`TokenLabelCrop` (a compact label and its
  crop) and :func:`expand_token_labels` (dense targets per batch, on the
  model's device);
- :mod:`.annotator`: :class:`DenseAnnotator`, a classifier's head applied at
  every feature location (top-k per location).

Generating a store (``tools/generate_token_labels.py``), imported on
demand rather than here (it builds models and process groups):

- :mod:`.annotator_models`: the annotating classifier (mmpretrain config or
  timm model) with its normalisation and input size;
- :mod:`.image_list`: the images of a split;
- :mod:`.resume`: what a previous run left (resume scan, ``--verify``);
- :mod:`.generation`: one annotation run over processes.

The crop-aligned dense targets are made by the transforms in
``mmvitreg/datasets/transforms/token_labels.py``.
"""
from .annotator import DenseAnnotator, linear_as_conv1x1
from .batch_expand import TokenLabelCrop, expand_token_labels
from .shard_format import CorruptShardError, merge_index, read_manifests
from .shard_writer import ShardWriter
from .store import TokenLabelStore

__all__ = [
    'CorruptShardError', 'DenseAnnotator', 'ShardWriter', 'TokenLabelCrop',
    'TokenLabelStore', 'expand_token_labels', 'linear_as_conv1x1',
    'merge_index', 'read_manifests'
]
