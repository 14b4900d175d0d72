"""Token-label store: exact round trip, atomic shards, clear errors."""
import os
import os.path as osp
import pickle

import numpy as np
import pytest

from mmvitreg.structures.token_labels import (
    CorruptShardError,
    ShardWriter,
    TokenLabelStore,
    merge_index,
    read_manifests,
)
from mmvitreg.structures.token_labels.shard_format import MAGIC


def random_map(rng, k, h, w, num_classes):
    scores = rng.normal(scale=20, size=(k, h, w)).astype(np.float16)
    scores[0, 0, 0] = np.float16(65504)  # fp16 extremes survive
    scores[-1, -1, -1] = np.float16(-6e-8)
    idx = np.stack([rng.choice(num_classes, k, replace=False)
                    for _ in range(h * w)], -1).reshape(k, h, w)
    return scores, idx.astype(np.int16)


def write(root, maps, num_classes, shard_size=3, k=5):
    w = ShardWriter(root, topk=k, num_classes=num_classes,
                    shard_size=shard_size, meta=dict(model='m'))
    for key, (s, i) in maps.items():
        w.add(key, s, i)
    w.close()
    merge_index(root, read_manifests(root))
    return w


def test_round_trip_is_exact(tmp_path):
    rng = np.random.default_rng(0)
    num_classes = 32768  # int16 holds up to class 32767
    maps = {f'c{j % 2}/img_{j}.JPEG': random_map(rng, 5, 2 + j % 3, 3,
                                                 num_classes)
            for j in range(7)}
    maps['c0/img_0.JPEG'][1][0, 0, 0] = 32767
    root = str(tmp_path / 'store')
    writer = write(root, maps, num_classes)
    # 7 images, 3 per shard -> 3 shards, each with its manifest, no temp
    assert writer.written == [
        'r000-000000.bin', 'r000-000001.bin', 'r000-000002.bin'
    ]
    assert sorted(os.listdir(osp.join(root, 'shards'))) == sorted(
        writer.written + [n[:-4] + '.json' for n in writer.written])
    store = TokenLabelStore(root)
    assert len(store) == 7 and store.topk == 5
    assert store.num_classes == num_classes and store.meta['model'] == 'm'
    for key, (scores, indices) in maps.items():
        s, i = store[key]
        assert s.dtype == np.float16 and i.dtype == np.int16
        np.testing.assert_array_equal(s.view(np.uint16),
                                      scores.view(np.uint16))  # bit-exact
        np.testing.assert_array_equal(i, indices)
    # record = 2 bytes x 2 arrays x k H W; shard = 8-byte header + records
    sizes = [4 * 5 * (2 + j % 3) * 3 for j in range(7)]
    assert osp.getsize(osp.join(root, 'shards', 'r000-000000.bin')) == \
        len(MAGIC) + sum(sizes[:3])
    assert osp.getsize(osp.join(root, 'shards', 'r000-000002.bin')) == \
        len(MAGIC) + sizes[6]
    assert store.verify() == []


def test_new_writer_continues_numbering(tmp_path):
    rng = np.random.default_rng(1)
    root = str(tmp_path / 'store')
    write(root, {'a.png': random_map(rng, 2, 2, 2, 10)}, 10, k=2)
    w = write(root, {'b.png': random_map(rng, 2, 2, 2, 10)}, 10, k=2)
    assert w.written == ['r000-000001.bin']  # the first shard is untouched
    assert set(TokenLabelStore(root).keys()) == {'a.png', 'b.png'}


def test_lookup_by_image_path(tmp_path):
    rng = np.random.default_rng(2)
    root = str(tmp_path / 'store')
    m = random_map(rng, 2, 2, 2, 10)
    write(root, {'n01/x.JPEG': m}, 10, k=2)
    store = TokenLabelStore(root)
    np.testing.assert_array_equal(
        store.lookup('/data/imagenet/train/n01/x.JPEG')[1], m[1])
    np.testing.assert_array_equal(
        store.lookup('/data/imagenet/train/n01/x.JPEG',
                     data_prefix='/data/imagenet/train')[1], m[1])
    with pytest.raises(KeyError) as e:
        store.lookup('/data/imagenet/train/n02/x.JPEG')
    assert 'n02/x.JPEG' in str(e.value) and root in str(e.value)
    with pytest.raises(KeyError) as e:
        store['n01/y.JPEG']
    assert "'n01/y.JPEG'" in str(e.value) and root in str(e.value)


def test_pickled_store_reloads_index(tmp_path):
    rng = np.random.default_rng(3)
    root = str(tmp_path / 'store')
    m = random_map(rng, 2, 2, 2, 10)
    write(root, {'a.png': m}, 10, k=2)
    store = TokenLabelStore(root)
    store['a.png']
    clone = pickle.loads(pickle.dumps(store))
    assert clone._index is None  # workers do not receive the index
    np.testing.assert_array_equal(clone['a.png'][0], m[0])


def _two_image_store(tmp_path):
    rng = np.random.default_rng(4)
    root = str(tmp_path / 'store')
    write(root, {k: random_map(rng, 2, 3, 3, 10)
                 for k in ('a.png', 'b.png')}, 10, k=2)
    return root, osp.join(root, 'shards', 'r000-000000.bin')


def test_truncated_shard_is_refused_naming_it(tmp_path):
    root, shard = _two_image_store(tmp_path)
    with open(shard, 'r+b') as f:
        f.truncate(osp.getsize(shard) - 10)
    store = TokenLabelStore(root)
    with pytest.raises(CorruptShardError) as e:
        store['a.png']  # even a record before the cut: the size is wrong
    assert shard in str(e.value) and 'truncated' in str(e.value)
    problems = store.verify()
    assert len(problems) == 1 and shard in problems[0]


def test_overwritten_bytes_fail_the_checksum(tmp_path):
    root, shard = _two_image_store(tmp_path)
    with open(shard, 'r+b') as f:
        f.seek(len(MAGIC) + 4 * 2 * 9 + 3)  # inside the second record
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 0xFF]))
    store = TokenLabelStore(root)
    store['a.png']  # the first record is intact
    with pytest.raises(CorruptShardError, match='b.png.*checksum') as e:
        store['b.png']
    assert shard in str(e.value)


def test_missing_index_and_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match='index.json'):
        TokenLabelStore(str(tmp_path))
    w = ShardWriter(str(tmp_path / 's'), topk=1, num_classes=4)
    with pytest.raises(ValueError, match=r'\[0, 4\)'):
        w.add('a', np.zeros((1, 1, 1)), np.full((1, 1, 1), 4))
    with pytest.raises(ValueError, match='top-1'):
        w.add('a', np.zeros((2, 1, 1)), np.zeros((2, 1, 1)))
    with pytest.raises(ValueError, match='int16'):
        ShardWriter(str(tmp_path / 's'), num_classes=40000)


def test_merge_refuses_mixed_topk(tmp_path):
    rng = np.random.default_rng(5)
    root = str(tmp_path / 'store')
    w0 = ShardWriter(root, rank=0, topk=2, num_classes=10)
    w0.add('a', *random_map(rng, 2, 1, 1, 10))
    w0.close()
    w1 = ShardWriter(root, rank=1, topk=3, num_classes=10)
    w1.add('b', *random_map(rng, 3, 1, 1, 10))
    w1.close()
    with pytest.raises(ValueError, match='r001-000000.json.*top-3'):
        merge_index(root, read_manifests(root))
