"""Other data is a named warning: a part changed after writing, or a
default tree whose bytes differ from the committed reference digests."""
import json
import os
import os.path as osp

from mmvitreg.datasets.digits import MARKER, prepare_digits
from mmvitreg.datasets.digits_manifest import DEFAULT_ARGS, PARTS, check_digits


def test_written_tree_checks_clean_and_an_edit_is_named(tiny_digits_root):
    marker = json.loads(open(osp.join(tiny_digits_root, MARKER)).read())
    assert set(marker['digests']) == set(PARTS)
    assert check_digits(tiny_digits_root) == []
    folder = osp.join(tiny_digits_root, 'imagenet', 'val', 'n00000003')
    jpeg = osp.join(folder, sorted(os.listdir(folder))[0])
    with open(jpeg, 'ab') as f:
        f.write(b'\0')
    (warning, ) = check_digits(tiny_digits_root)
    assert osp.join(tiny_digits_root, 'imagenet') in warning
    assert 'changed after prepare_digits wrote it' in warning


def test_default_tree_with_other_bytes_is_named(tiny_digits_root):
    # a small tree presented as the default one: its scenes (24 + 8, not
    # 300 + 60) differ from the committed reference; its classification
    # part is the default's (all 1,797 scans, same size and split)
    path = osp.join(tiny_digits_root, MARKER)
    marker = json.loads(open(path).read())
    marker['args'] = DEFAULT_ARGS
    del marker['digests']  # a tree written before digests were recorded
    open(path, 'w').write(json.dumps(marker))
    warnings = check_digits(tiny_digits_root)
    assert len(warnings) == 2
    for part, warning in zip(('ade', 'cityscapes'), warnings, strict=True):
        assert osp.join(tiny_digits_root, part) in warning
        assert 'other bytes than the committed reference' in warning


def test_default_tree_here_matches_the_reference(tmp_path):
    root = prepare_digits(str(tmp_path / 'digits'))['root']
    assert check_digits(root) == []
