"""Digests of the digits tree, so that a run on other data says so.

``prepare_digits`` is deterministic on one machine, but its bytes come
from OpenCV's resize and JPEG/PNG encoders, which another OpenCV build or
CPU could change; a file edited after writing changes them too. Either
would move every number of the main job. The marker of a written tree
records one SHA-256 per part (``imagenet``, ``ade``, ``cityscapes``: over
every file's relative path and bytes, in sorted order), and the digests of
the default tree (``tools/prepare_digits.py`` without arguments) are
committed below. ``check_digits`` compares the tree on disk with both and
returns one warning per differing part, naming its folder.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, List

PARTS = ('imagenet', 'ade', 'cityscapes')

#: digests of ``prepare_digits('data/digits')`` (default arguments, format
#: 2), written on the machine of the committed ablation (AMD EPYC, x86-64,
#: opencv-python-headless of requirements.txt)
DEFAULT_ARGS = dict(size=32, scene_size=64, train_scenes=300, val_scenes=60,
                    seed=0)
REFERENCE: Dict[str, str] = {
    'imagenet':
    'cc177e62f4cab4900980e0b0f4ae398f26e161850f8b03a22741dc1dd835e4c0',
    'ade': '8d7300bf8aea32afec0e4684afe387c5166f072421683a9ad40db5e09290ef6b',
    'cityscapes':
    '334e7a7f0faf799c862880ce023e5349b9496f2c2d2c2038c0e8e9203b2b1d63',
}


def part_digest(folder: str) -> str:
    """SHA-256 over the sorted relative paths and bytes of ``folder``."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            path = osp.join(dirpath, name)
            h.update(osp.relpath(path, folder).encode() + b'\0')
            with open(path, 'rb') as f:
                h.update(f.read())
    return h.hexdigest()


def tree_digests(root: str) -> Dict[str, str]:
    """One digest per part of the tree at ``root``."""
    return {part: part_digest(osp.join(root, part)) for part in PARTS}


def check_digits(root: str, marker: str = '.complete.json') -> List[str]:
    """Warnings (empty when the data is the expected data): a part that
    changed since it was written, and, for a default tree, a part whose
    bytes differ from the committed reference."""
    with open(osp.join(root, marker)) as f:
        info = json.load(f)
    found = tree_digests(root)
    warnings = []
    written = info.get('digests') or {}
    for part in PARTS:
        folder = osp.join(root, part)
        if written.get(part) not in (None, found[part]):
            warnings.append(
                f'warning: {folder} changed after prepare_digits wrote it '
                f'(digest {found[part][:12]}, written {written[part][:12]}); '
                'rerun tools/prepare_digits.py --force')
        elif (info.get('args') == DEFAULT_ARGS and part in REFERENCE
              and REFERENCE[part] != found[part]):
            warnings.append(
                f'warning: {folder} holds other bytes than the committed '
                f'reference (digest {found[part][:12]}, reference '
                f'{REFERENCE[part][:12]}): this OpenCV build or CPU '
                'encodes the digits differently, and every number of the '
                'main job may move for that reason alone')
    return warnings
