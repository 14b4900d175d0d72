"""Pretrained(head_map=...): a checkpoint's head rows mapped onto a subset
of its classes (Swin's 22k -> 1k fine-tuning), on a tiny classifier."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import mmvitreg  # noqa: F401


def _classifier(num_classes, init_cfg=None):
    init_default_scope('mmpretrain')
    return MODELS.build(dict(
        type='ImageClassifier',
        backbone=dict(type='mmpretrain.VisionTransformer',
                      arch=dict(embed_dims=8, num_layers=1, num_heads=2,
                                feedforward_channels=16),
                      img_size=16, patch_size=8),
        head=dict(type='LinearClsHead', num_classes=num_classes,
                  in_channels=8),
        init_cfg=init_cfg))


@pytest.fixture
def big_checkpoint(tmp_path):
    torch.manual_seed(0)
    big = _classifier(7)
    path = str(tmp_path / 'big.pth')
    torch.save(dict(state_dict=big.state_dict()), path)
    return big.state_dict(), path


def test_head_rows_follow_the_map(big_checkpoint, tmp_path):
    state, ckpt = big_checkpoint
    table = tmp_path / 'map.txt'
    table.write_text('5\n0\n3\n')  # small class i <- big class map[i]
    small = _classifier(3, dict(type='Pretrained', checkpoint=ckpt,
                                head_map=str(table)))
    small.init_weights()
    got = small.state_dict()
    for i, row in enumerate((5, 0, 3)):
        assert torch.equal(got['head.fc.weight'][i],
                           state['head.fc.weight'][row])
        assert got['head.fc.bias'][i] == state['head.fc.bias'][row]
    # and the rest of the model is the checkpoint's
    assert torch.equal(got['backbone.layers.0.ffn.layers.1.weight'],
                       state['backbone.layers.0.ffn.layers.1.weight'])
    # same logits as the big model restricted to the mapped classes
    big = _classifier(7)
    big.load_state_dict(state)
    x = torch.randn(2, 3, 16, 16)
    small.eval(), big.eval()
    with torch.no_grad():
        assert torch.allclose(small(x, mode='tensor'),
                              big(x, mode='tensor')[:, [5, 0, 3]])


def test_without_map_the_head_mismatch_is_reported(big_checkpoint):
    _, ckpt = big_checkpoint
    small = _classifier(3, dict(type='Pretrained', checkpoint=ckpt))
    small.init_weights()  # loads all but the mismatched head
    assert small.state_dict()['head.fc.weight'].shape == (3, 8)


@pytest.mark.parametrize('text,error,words', [
    ('5\nx\n', ValueError, 'line 2'),
    ('5\n9\n0\n', IndexError, 'row 9'),
    ('', ValueError, 'no row index'),
])
def test_bad_map_names_the_file(big_checkpoint, tmp_path, text, error,
                                words):
    _, ckpt = big_checkpoint
    table = tmp_path / 'map.txt'
    table.write_text(text)
    small = _classifier(3, dict(type='Pretrained', checkpoint=ckpt,
                                head_map=str(table)))
    with pytest.raises(error, match=words) as err:
        small.init_weights()
    assert 'map.txt' in str(err.value)


def test_missing_map_file_is_named(big_checkpoint, tmp_path):
    _, ckpt = big_checkpoint
    small = _classifier(3, dict(type='Pretrained', checkpoint=ckpt,
                                head_map=str(tmp_path / 'absent.txt')))
    with pytest.raises(FileNotFoundError, match='absent.txt'):
        small.init_weights()


def test_swin_l_config_maps_the_22k_head():
    import os.path as osp

    from mmengine.config import Config
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(root, 'configs/pretrain/swin_l.py'))
    assert cfg.get('load_from') is None
    assert cfg.model.init_cfg.type == 'Pretrained'
    assert cfg.model.init_cfg.head_map.endswith('map22kto1k.txt')
    assert cfg.model.head.num_classes == 1000
