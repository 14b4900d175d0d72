"""Random-access reader of a token-label store (format:
:mod:`.shard_format`)."""
import json
import mmap
import os
import os.path as osp
import zlib
from typing import Dict, List, Optional

from .shard_format import (
    FORMAT_VERSION,
    INDEX_NAME,
    MAGIC,
    SHARD_DIR,
    CorruptShardError,
    TopK,
    decode_record,
)


class TokenLabelStore:
    """Random-access reader of a token-label store.

    ``store[key]`` returns ``(scores, indices)``, both ``(k, H', W')``
    (float16, int16), for an image path relative to the split's data prefix.
    :meth:`lookup` also accepts an absolute image path and matches it by its
    trailing path components.

    Every read checks the record's CRC32, and the first read from a shard its
    size, so a truncated or overwritten shard raises
    :class:`CorruptShardError` naming the shard file. A missing image raises
    ``KeyError`` naming the image and the store.

    The index is loaded lazily (on first use), so a store built in the main
    process is cheap to pickle into data-loader workers. Shards are read
    through a read-only memory map opened once per shard and process (a
    record read is then a slice, no ``open``/``seek`` system calls).
    """

    def __init__(self, root: str):
        self.root = osp.abspath(osp.expanduser(root))
        self.index_path = osp.join(self.root, INDEX_NAME)
        if not osp.isfile(self.index_path):
            raise FileNotFoundError(
                f'no token-label index {self.index_path}: generate it with '
                'tools/generate_token_labels.py --out ' + self.root)
        self._index: Optional[dict] = None
        self._shards: Dict[int, mmap.mmap] = {}  # checked shards, mapped
        self._key_depth = 0  # path parts of the last key found by lookup

    # pickling for data-loader workers: drop the loaded index and maps
    def __getstate__(self):
        return dict(root=self.root, index_path=self.index_path)

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._index, self._shards, self._key_depth = None, {}, 0

    @property
    def index(self) -> dict:
        if self._index is None:
            try:
                with open(self.index_path) as f:
                    index = json.load(f)
            except ValueError as e:
                raise CorruptShardError(
                    f'unreadable token-label index {self.index_path}: {e}'
                ) from e
            if index.get('version') != FORMAT_VERSION:
                raise ValueError(f'{self.index_path}: unsupported version '
                                 f'{index.get("version")}')
            self._index = index
        return self._index

    @property
    def topk(self) -> int:
        return self.index['topk']

    @property
    def num_classes(self) -> int:
        return self.index['num_classes']

    @property
    def meta(self) -> dict:
        return self.index.get('meta', {})

    def keys(self) -> List[str]:
        return list(self.index['images'])

    def __len__(self) -> int:
        return len(self.index['images'])

    def __contains__(self, key: str) -> bool:
        return key in self.index['images']

    def shard_path(self, sid: int) -> str:
        name = self.index['shards'][sid]['name']
        return osp.join(self.root, SHARD_DIR, name)

    def check_shard(self, sid: int) -> None:
        """Raise :class:`CorruptShardError` unless the shard has its size and
        header."""
        shard = self.index['shards'][sid]
        path = self.shard_path(sid)
        if not osp.isfile(path):
            raise CorruptShardError(f'token-label shard {path} is missing '
                                    f'(listed in {self.index_path})')
        size = osp.getsize(path)
        if size != shard['nbytes']:
            raise CorruptShardError(
                f'token-label shard {path} is corrupt: {size} bytes, expected '
                f'{shard["nbytes"]} (truncated or overwritten); regenerate it')
        with open(path, 'rb') as f:
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if data[:len(MAGIC)] != MAGIC:
            data.close()
            raise CorruptShardError(
                f'token-label shard {path} is corrupt: bad header')
        self._shards[sid] = data

    def __getitem__(self, key: str) -> TopK:
        entry = self.index['images'].get(key)
        if entry is None:
            raise KeyError(f'no token label for image {key!r} in store '
                           f'{self.root}')
        sid, off, h, w, crc = entry
        if sid not in self._shards:
            self.check_shard(sid)
        n = 4 * self.topk * h * w
        buf = self._shards[sid][off:off + n]
        if len(buf) != n or zlib.crc32(buf) != crc:
            raise CorruptShardError(
                f'token-label shard {self.shard_path(sid)} is corrupt: '
                f'record of {key!r} at byte {off} fails its checksum; '
                'regenerate it')
        return decode_record(buf, self.topk, h, w)

    def lookup(self, img_path: str, data_prefix: Optional[str] = None) -> TopK:
        """Top-k map of an image given by its (absolute) path.

        With ``data_prefix`` the key is ``relpath(img_path, data_prefix)``;
        without, the longest trailing part of ``img_path`` that is a key of
        the index (``.../train/n01/x.JPEG`` -> ``n01/x.JPEG``).
        """
        if data_prefix:
            return self[osp.relpath(img_path, data_prefix).replace(
                os.sep, '/')]
        parts = osp.normpath(img_path).replace(os.sep, '/').split('/')
        images = self.index['images']
        # a split's keys all have the same depth: try the last match first
        depth = self._key_depth
        if depth and len(parts) > depth and '/'.join(
                parts[-depth - 1:]) not in images:
            key = '/'.join(parts[-depth:])
            if key in images:
                return self[key]
        for i in range(len(parts)):
            key = '/'.join(parts[i:])
            if key in images:
                self._key_depth = len(parts) - i
                return self[key]
        raise KeyError(f'no token label for image {img_path!r} in store '
                       f'{self.root} (no trailing part of the path is a key '
                       'of its index)')

    def verify(self) -> List[str]:
        """Read every shard and record; returns the problems found."""
        problems = []
        by_shard: Dict[int, List[str]] = {}
        for key, entry in self.index['images'].items():
            by_shard.setdefault(entry[0], []).append(key)
        for sid in range(len(self.index['shards'])):
            try:
                self.check_shard(sid)
                for key in by_shard.get(sid, []):
                    self[key]
            except CorruptShardError as e:
                problems.append(str(e))
        return problems
