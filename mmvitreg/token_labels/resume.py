"""What an interrupted or finished annotation run left: the images already
labelled (resuming) and the problems of a store (``--verify``)."""
import os
import os.path as osp
import re
from typing import List, Set

from mmvitreg.structures.token_labels.shard_format import (
    SHARD_DIR,
    read_manifests,
    shard_size_ok,
)
from mmvitreg.structures.token_labels.store import TokenLabelStore

#: shard / manifest names a ShardWriter writes (``rNNN-NNNNNN.bin|json``).
OUR_NAME = re.compile(r'^r\d{3}-\d{6}\.(bin|json)$')


def _set_aside(out: str, manifest: dict) -> None:
    """Rename a damaged shard and its manifest to ``*.corrupt``."""
    shard = osp.join(out, SHARD_DIR, manifest['shard'])
    print(f'warning: shard {shard} does not match its manifest; set '
          'aside as *.corrupt, its images are redone', flush=True)
    if osp.exists(shard):
        os.replace(shard, shard + '.corrupt')
    os.replace(manifest['_path'], manifest['_path'] + '.corrupt')


def _remove_leftovers(shard_dir: str, listed: Set[str]) -> None:
    """Delete our temporary files and shards without a manifest."""
    if not osp.isdir(shard_dir):
        return
    for name in os.listdir(shard_dir):
        stem = name.split('.tmp.')[0]
        if not OUR_NAME.match(stem):
            continue  # not ours
        interrupted = name != stem
        orphan = stem.endswith('.bin') and stem not in listed
        if interrupted or orphan:
            os.remove(osp.join(shard_dir, name))


def scan_done(out: str, topk: int) -> Set[str]:
    """Images already in intact shards of the store ``out``.

    Sets damaged shards aside (``*.corrupt``, their images are redone) and
    removes leftovers of interrupted writes (our file names only).

    Raises:
        ValueError: The store holds labels of another ``topk``.
    """
    done, listed = set(), set()
    for m in read_manifests(out):
        if m['topk'] != topk:
            raise ValueError(
                f'{out} holds top-{m["topk"]} labels ({m["_path"]}); use '
                f'--topk {m["topk"]} or another --out')
        if shard_size_ok(out, m):
            done.update(m['images'])
            listed.add(m['shard'])
        else:
            _set_aside(out, m)
    _remove_leftovers(osp.join(out, SHARD_DIR), listed)
    return done


def verify_store(out: str, keys: List[str]) -> List[str]:
    """Problems of the store ``out`` for the listed images (empty: ok):
    an unreadable index or shard, or an image without labels."""
    try:
        store = TokenLabelStore(out)
        problems = store.verify()
    except (FileNotFoundError, RuntimeError, ValueError) as e:
        return [str(e)]
    problems += [f'missing token label: {k}' for k in keys if k not in store]
    return problems
