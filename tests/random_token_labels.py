"""A token-label store of random top-2 4x4 maps (the annotator's format),
for tests that need one without training an annotator."""
import os.path as osp

import numpy as np

from mmvitreg.structures.token_labels.shard_format import (
    merge_index,
    read_manifests,
)
from mmvitreg.structures.token_labels.shard_writer import ShardWriter


def random_token_label_store(digits_root: str, out: str, count: int) -> str:
    """Random maps for the first ``count`` digits train images; ``out``."""
    with open(osp.join(digits_root, 'imagenet/meta/train.txt')) as f:
        keys = [line.split()[0] for line in f][:count]
    rng = np.random.default_rng(0)
    writer = ShardWriter(out, topk=2, num_classes=10, shard_size=64)
    for key in keys:
        idx = np.stack([rng.permutation(10)[:2] for _ in range(16)], -1)
        writer.add(key, rng.normal(size=(2, 4, 4)).astype(np.float16),
                   idx.reshape(2, 4, 4).astype(np.int16))
    writer.close()
    merge_index(out, read_manifests(out))
    return out
