"""The *_diverse configs differ from their plain configs only in the model
type, the loss settings and CutMix -> PatchMixing."""
import pytest
from mmengine import Config

import mmvitreg  # noqa: F401

PAIRS = [('configs/pretrain/deit_s24.py', 16),
         ('configs/pretrain/deit_b24.py', 16),
         ('configs/pretrain/swin_b.py', 32),
         ('configs/pretrain/swin_l.py', 32),
         ('configs/demo/vit_tiny_digits.py', 8)]
EXTRA = {'cosine_loss', 'contrastive_loss', 'mixing_loss', 'first_layer'}


@pytest.mark.parametrize('plain_path,patch_size', PAIRS)
def test_diverse_config_is_a_loss_only_delta(plain_path, patch_size):
    plain = Config.fromfile(plain_path).to_dict()
    diverse = Config.fromfile(
        plain_path.replace('.py', '_diverse.py')).to_dict()
    plain_model, model = plain.pop('model'), diverse.pop('model')
    assert diverse == plain  # nothing outside `model` changes
    assert model.pop('type') == 'DiverseImageClassifier'
    assert set(model) - set(plain_model) == EXTRA
    augments = model['train_cfg']['augments']
    plain_augments = plain_model['train_cfg']['augments']
    patch_mixing = dict(type='PatchMixing', alpha=1.0, patch_size=patch_size)
    if plain_augments is None:  # the digits demo trains without Mixup/CutMix
        assert augments == [patch_mixing]
    else:
        assert [a['type'] for a in plain_augments] == ['Mixup', 'CutMix']
        assert augments == [plain_augments[0], patch_mixing]
    for key in ('backbone', 'neck', 'head'):
        assert model.get(key) == plain_model.get(key)
    assert model['cosine_loss']['loss_weight'] == 0.1
