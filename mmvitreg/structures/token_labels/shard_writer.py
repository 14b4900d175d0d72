"""Writer of token-label shards (format: :mod:`.shard_format`)."""
import os
import os.path as osp
import re
import zlib
from typing import Dict, List, Optional

import numpy as np

from .shard_format import (
    FORMAT_VERSION,
    MAGIC,
    MAX_CLASSES,
    SHARD_DIR,
    atomic_write,
    atomic_write_json,
    encode_record,
)


class ShardWriter:
    """Collect records and write them as shards of ``shard_size`` images.

    Each full shard (and the last partial one on :meth:`close`) is written
    atomically, then its manifest; so after an interruption every image
    listed in a manifest is readable and the rest must be redone.

    Args:
        root: store directory.
        rank: writer id (one per process), part of the shard names.
        topk / num_classes: ``k`` and ``K`` of every record.
        shard_size: images per shard.
        meta: free-form metadata copied into manifests (model, resolution).
    """

    def __init__(self,
                 root: str,
                 rank: int = 0,
                 topk: int = 5,
                 num_classes: int = 1000,
                 shard_size: int = 1024,
                 meta: Optional[dict] = None):
        if not 0 < num_classes <= MAX_CLASSES:
            raise ValueError(f'num_classes must be in [1, {MAX_CLASSES}] for '
                             f'int16 indices, got {num_classes}')
        if shard_size < 1:
            raise ValueError(f'shard_size must be >= 1, got {shard_size}')
        self.root = root
        self.shard_dir = osp.join(root, SHARD_DIR)
        os.makedirs(self.shard_dir, exist_ok=True)
        self.rank = rank
        self.topk = topk
        self.num_classes = num_classes
        self.shard_size = shard_size
        self.meta = dict(meta or {})
        self._seq = self._next_seq()
        self._chunks: List[bytes] = []
        self._entries: Dict[str, list] = {}
        self._offset = len(MAGIC)
        self.written: List[str] = []

    def _next_seq(self) -> int:
        seqs = [-1]
        for name in os.listdir(self.shard_dir):
            m = re.match(r'^r(\d{3})-(\d{6})\.', name)
            if m and int(m.group(1)) == self.rank:
                seqs.append(int(m.group(2)))
        return max(seqs) + 1

    def add(self, key: str, scores: np.ndarray, indices: np.ndarray) -> None:
        """Append one image's ``(k, H', W')`` top-k map under ``key``."""
        if scores.shape[0] != self.topk:
            raise ValueError(f'{key}: expected top-{self.topk} maps, got '
                             f'{scores.shape[0]} entries')
        rec = encode_record(scores, indices, self.num_classes)
        _, h, w = scores.shape
        self._entries[key] = [self._offset, h, w, zlib.crc32(rec)]
        self._chunks.append(rec)
        self._offset += len(rec)
        if len(self._entries) >= self.shard_size:
            self.flush()

    def flush(self) -> Optional[str]:
        """Write the pending records as one shard; returns its file name."""
        if not self._entries:
            return None
        name = f'r{self.rank:03d}-{self._seq:06d}.bin'
        data = MAGIC + b''.join(self._chunks)
        atomic_write(osp.join(self.shard_dir, name), data)
        atomic_write_json(
            osp.join(self.shard_dir, name[:-4] + '.json'),
            dict(
                version=FORMAT_VERSION,
                shard=name,
                nbytes=len(data),
                topk=self.topk,
                num_classes=self.num_classes,
                meta=self.meta,
                images=self._entries))
        self.written.append(name)
        self._seq += 1
        self._chunks, self._entries = [], {}
        self._offset = len(MAGIC)
        return name

    def close(self) -> None:
        self.flush()
