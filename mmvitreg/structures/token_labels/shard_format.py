"""On-disk format of machine-annotator token labels (top-k score maps):
records, shard manifests and the merged index.

Token labeling (Jiang et al. 2021, ``methods.md`` section 2) runs a strong
classifier once over the training set and keeps, for every image, the top-k
scores and class indices at every location of its final feature map:
``scores (k, H', W')`` float16 and ``indices (k, H', W')`` int16.

Layout of a store directory ``DIR``::

    DIR/index.json                 merged index (:func:`merge_index`),
                                   read by TokenLabelStore (:mod:`.store`)
    DIR/shards/r000-000000.bin     shard: header + N records, written
                                   atomically by ShardWriter
                                   (:mod:`.shard_writer`)
    DIR/shards/r000-000000.json    its manifest (written after the shard)

A shard is ``MAGIC`` (8 bytes) followed by one record per image; a record is
``scores.tobytes() + indices.tobytes()`` (C order, little endian), i.e.
``4 k H' W'`` bytes. Its manifest maps each image's relative path to
``[offset, H', W', crc32]``. Shards and manifests are written to a temporary
file and renamed (``os.replace``), so an interrupted writer leaves either a
complete shard or none; a shard without manifest is an orphan and ignored.

``index.json``::

    {"version": 1, "topk": k, "num_classes": K, "meta": {...},
     "shards": [{"name": "r000-000000.bin", "nbytes": ..., "count": ...}],
     "images": {"n0144/x.JPEG": [shard_id, offset, H', W', crc32], ...}}

Image keys are paths relative to the data prefix of the split (the
``relative/path`` of mmpretrain ann files, e.g. ``n01440764/x.JPEG``).
"""
import json
import os
import os.path as osp
import re
from typing import Iterable, List, Optional, Tuple

import numpy as np

MAGIC = b'MMVTLBL1'
FORMAT_VERSION = 1
INDEX_NAME = 'index.json'
SHARD_DIR = 'shards'
SHARD_RE = re.compile(r'^r(\d{3})-(\d{6})\.bin$')
#: int16 indices hold classes ``0 .. 32767``.
MAX_CLASSES = int(np.iinfo(np.int16).max) + 1

TopK = Tuple[np.ndarray, np.ndarray]


class CorruptShardError(RuntimeError):
    """A shard file is truncated, resized or its bytes do not match."""


def atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file + rename."""
    tmp = f'{path}.tmp.{os.getpid()}'
    with open(tmp, 'wb') as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: str, obj) -> None:
    """Write ``obj`` as JSON to ``path`` atomically."""
    atomic_write(path, json.dumps(obj, separators=(',', ':')).encode())


def encode_record(scores: np.ndarray, indices: np.ndarray,
                  num_classes: int) -> bytes:
    """Serialise one image's top-k map.

    Args:
        scores: ``(k, H', W')`` scores (cast to float16).
        indices: ``(k, H', W')`` class indices in ``[0, num_classes)``
            (cast to int16).
        num_classes: ``K``, checked against the indices.
    """
    if scores.ndim != 3 or scores.shape != indices.shape:
        raise ValueError(f'scores {scores.shape} and indices {indices.shape} '
                         'must both be (k, H, W)')
    if indices.size and (indices.min() < 0 or indices.max() >= num_classes):
        raise ValueError(f'class indices must lie in [0, {num_classes}), got '
                         f'[{indices.min()}, {indices.max()}]')
    s = np.ascontiguousarray(scores, dtype='<f2')
    i = np.ascontiguousarray(indices, dtype='<i2')
    return s.tobytes() + i.tobytes()


def decode_record(buf: bytes, k: int, h: int, w: int) -> TopK:
    """Inverse of :func:`encode_record`: ``(scores f16, indices i16)``."""
    n = k * h * w
    scores = np.frombuffer(buf, dtype='<f2', count=n).reshape(k, h, w)
    indices = np.frombuffer(buf, dtype='<i2', count=n, offset=2 * n)
    return scores, indices.reshape(k, h, w)


def read_manifests(root: str) -> List[dict]:
    """All shard manifests of a store, sorted by shard name."""
    shard_dir = osp.join(root, SHARD_DIR)
    if not osp.isdir(shard_dir):
        return []
    out = []
    for name in sorted(os.listdir(shard_dir)):
        if not (name.endswith('.json') and SHARD_RE.match(name[:-5] + '.bin')):
            continue
        path = osp.join(shard_dir, name)
        try:
            with open(path) as f:
                manifest = json.load(f)
        except (OSError, ValueError) as e:
            raise CorruptShardError(
                f'unreadable shard manifest {path}: {e}') from e
        manifest['_path'] = path
        out.append(manifest)
    return out


def shard_size_ok(root: str, manifest: dict) -> bool:
    """Whether the manifest's shard exists with the recorded size."""
    path = osp.join(root, SHARD_DIR, manifest['shard'])
    return osp.isfile(path) and osp.getsize(path) == manifest['nbytes']


def merge_index(root: str, manifests: Iterable[dict],
                meta: Optional[dict] = None) -> dict:
    """Merge shard manifests into ``root/index.json`` (written atomically).

    Raises:
        ValueError: manifests disagree on ``topk``/``num_classes``.
    """
    shards, images = [], {}
    topk = num_classes = None
    for m in manifests:
        if topk is None:
            topk, num_classes = m['topk'], m['num_classes']
            meta = {**m.get('meta', {}), **(meta or {})}
        elif (m['topk'], m['num_classes']) != (topk, num_classes):
            raise ValueError(
                f'{m["_path"]}: top-{m["topk"]} / {m["num_classes"]} classes '
                f'differ from the rest of the store (top-{topk} / '
                f'{num_classes} classes)')
        sid = len(shards)
        shards.append(
            dict(name=m['shard'], nbytes=m['nbytes'], count=len(m['images'])))
        for key, (off, h, w, crc) in m['images'].items():
            images[key] = [sid, off, h, w, crc]
    index = dict(
        version=FORMAT_VERSION,
        topk=topk,
        num_classes=num_classes,
        meta=meta or {},
        shards=shards,
        images=images)
    atomic_write_json(osp.join(root, INDEX_NAME), index)
    return index
