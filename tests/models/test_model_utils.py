"""model_config (a config's model as the Runner builds it) and
class_targets (gt_score, else gt_label)."""
import torch
from mmengine.config import Config
from mmpretrain.structures import DataSample

import mmvitreg  # noqa: F401
from mmvitreg.models.utils import class_targets, model_config


def test_model_config_merges_the_top_level_preprocessor():
    cfg = Config(dict(model=dict(type='ImageClassifier'),
                      data_preprocessor=dict(num_classes=3)))
    merged = model_config(cfg)
    assert merged == dict(type='ImageClassifier',
                          data_preprocessor=dict(num_classes=3))
    assert 'data_preprocessor' not in cfg.model  # a copy
    own = Config(dict(model=dict(type='ImageClassifier',
                                 data_preprocessor=dict(num_classes=5)),
                      data_preprocessor=dict(num_classes=3)))
    assert model_config(own).data_preprocessor == dict(num_classes=5)
    assert model_config(Config(dict(model=dict(type='X')))) == dict(type='X')


def test_class_targets_prefer_scores_over_labels():
    labelled = [DataSample().set_gt_label(k) for k in (2, 0)]
    assert torch.equal(class_targets(labelled), torch.tensor([2, 0]))
    scored = [DataSample().set_gt_label(1).set_gt_score(torch.tensor(s))
              for s in ([0.25, 0.75], [1.0, 0.0])]
    assert torch.equal(class_targets(scored),
                       torch.tensor([[0.25, 0.75], [1.0, 0.0]]))
