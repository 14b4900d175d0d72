"""Token labels as data: machine-annotator score maps on disk and their
expansion into dense targets. Both the dataset transforms and the token
labeling classifier read them, so they sit below ``datasets`` and
``models``; generating them (:mod:`mmvitreg.token_labels`) sits above.

- :mod:`.shard_format`: the on-disk format (records, shard manifests, the
  merged index);
- :mod:`.shard_writer`: :class:`ShardWriter`, which writes shards;
- :mod:`.store`: :class:`TokenLabelStore`, the random-access reader;
- :mod:`.batch_expand`: :class:`TokenLabelCrop` (a compact label and its
  crop) and :func:`expand_token_labels` (dense targets per batch, on the
  model's device).
"""
from .batch_expand import TokenLabelCrop, expand_token_labels
from .shard_format import CorruptShardError, merge_index, read_manifests
from .shard_writer import ShardWriter
from .store import TokenLabelStore

__all__ = [
    'CorruptShardError', 'ShardWriter', 'TokenLabelCrop', 'TokenLabelStore',
    'expand_token_labels', 'merge_index', 'read_manifests'
]
