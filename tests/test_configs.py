"""Every config under ``configs/`` parses, registers mmvitreg and builds.

Full-size models are built with their parameters on the ``meta`` device (no
memory; mmpretrain's Swin calls ``Tensor.item()`` in ``__init__``, so a plain
``torch.device('meta')`` context cannot be used); demo models are built for
real and run one forward pass on a tiny random batch.
"""
import contextlib
import copy
import functools
import glob
import os.path as osp

import pytest
import torch
from meta_params import params_on_meta
from mmengine.config import Config
from mmengine.registry import init_default_scope
from torch import nn

import mmvitreg  # noqa: F401  (compat layer before mmseg)
from mmvitreg.models.utils import model_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                         recursive=True)
    if '_base_' not in p.split(osp.sep))
DEMOS = [p for p in CONFIGS if osp.sep + 'demo' + osp.sep in p]
FULL = [p for p in CONFIGS if p not in DEMOS]


def _rel(path):
    return osp.relpath(path, ROOT)


@functools.lru_cache(maxsize=None)
def _parse(path):
    return Config.fromfile(path)


def _load(rel_or_abs):
    """Parse once per session (about 1 s each), hand out copies."""
    return copy.deepcopy(_parse(osp.join(ROOT, rel_or_abs)))


def _build(cfg, meta=False):
    """Build ``cfg.model`` in the config's scope, as the Runner would."""
    init_default_scope(cfg.default_scope)
    model_cfg = model_config(cfg)
    if cfg.default_scope == 'mmseg':
        from mmseg.registry import MODELS
    else:
        from mmpretrain.registry import MODELS
    ctx = params_on_meta() if meta else contextlib.nullcontext()
    with ctx:
        return MODELS.build(model_cfg)


def _norm_types(model):
    return {type(m).__name__ for m in model.modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm)}


@pytest.mark.parametrize('path', CONFIGS, ids=_rel)
def test_config_parses_with_scope_and_imports(path):
    cfg = _load(path)
    assert cfg.default_scope in ('mmpretrain', 'mmseg'), _rel(path)
    assert cfg.custom_imports['imports'][0] == 'mmvitreg', _rel(path)
    assert cfg.custom_imports['allow_failed_imports'] is False
    expected = 'mmseg' if '/seg/' in path or 'upernet' in path \
        else 'mmpretrain'
    assert cfg.default_scope == expected


@pytest.mark.parametrize('path', FULL, ids=_rel)
def test_full_size_model_builds_on_meta(path):
    model = _build(_load(path), meta=True)
    devices = {p.device.type for p in model.parameters()}
    assert devices == {'meta'}
    if '/seg/' in path:
        # full segmentation configs keep mmseg's multi-GPU SyncBN
        assert _norm_types(model) == {'SyncBatchNorm'}


def test_deit24_architectures():
    for name, width, heads, dp in (('deit_s24', 384, 6, 0.1),
                                   ('deit_b24', 768, 12, 0.2)):
        cfg = _load(f'configs/pretrain/{name}.py')
        bb = _build(cfg, meta=True).backbone
        assert (bb.num_layers, bb.embed_dims) == (24, width)
        assert bb.layers[0].attn.num_heads == heads
        assert bb.layers[0].ffn.layers[0][0].out_features == 4 * width
        assert cfg.model.backbone.drop_path_rate == dp
        assert cfg.model.head.num_classes == 1000
        assert cfg.train_cfg.max_epochs == 300
        # DeiT recipe: lr 5e-4 * 1024 / 512, 5 warm-up epochs, no clipping
        assert cfg.optim_wrapper.optimizer.lr == pytest.approx(1e-3)
        assert cfg.optim_wrapper.optimizer.weight_decay == 0.05
        assert cfg.optim_wrapper.clip_grad is None
        assert cfg.param_scheduler[0].end == 5
        assert cfg.model.head.loss.label_smooth_val == 0.1
        assert [a.alpha for a in cfg.model.train_cfg.augments] == [0.8, 1.0]
        pipe = [t.type for t in cfg.train_dataloader.dataset.pipeline]
        assert pipe == ['LoadImageFromFile', 'RandomResizedCrop',
                        'RandomFlip', 'RandAugment', 'RandomErasing',
                        'PackInputs']


def test_seg_configs_claims():
    cfg = _load('configs/seg/upernet_swin_l_ade20k.py')
    model = _build(cfg, meta=True)
    bb = model.backbone
    assert type(bb).__module__.startswith('mmpretrain')
    assert bb.embed_dims == 192
    assert [len(s.blocks) for s in bb.stages] == [2, 2, 18, 2]
    assert bb.stages[0].blocks[0].attn.w_msa.window_size == (12, 12)
    assert bb.stages[3].blocks[0].attn.w_msa.num_heads == 48
    assert cfg.optim_wrapper.optimizer.lr == 6e-5
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.01
    assert cfg.param_scheduler[0].end == 1500
    assert cfg.train_cfg.max_iters == 160000
    assert cfg.model.decode_head.num_classes == 150
    assert cfg.model.backbone.drop_path_rate == 0.3
    assert cfg.model.backbone.init_cfg.prefix == 'backbone.'

    cfg = _load('configs/seg/upernet_deit_s24_ade20k.py')
    assert cfg.model.backbone.out_indices == (5, 11, 17, 23)
    assert cfg.model.neck.scales == [4, 2, 1, 0.5]
    assert cfg.model.decode_head.pool_scales == (1, 2, 3, 6)
    assert cfg.model.decode_head.channels == 512

    for name in ('upernet_deit_b24_cityscapes', 'upernet_swin_l_cityscapes'):
        cfg = _load(f'configs/seg/{name}.py')
        assert cfg.model.decode_head.num_classes == 19
        assert cfg.train_cfg.max_iters == 80000
        assert cfg.crop_size == (512, 1024)
        assert cfg.model.test_cfg == dict(
            mode='slide', crop_size=(512, 1024), stride=(341, 341))
        assert cfg.param_scheduler[1].end == 80000


# demo -> the full-size config it stands for (and inherits)
DEMO_OF = {
    'vit_tiny_digits.py': 'configs/pretrain/deit_s24.py',
    'deit3_tiny_digits.py': 'configs/pretrain/deit3_s_in1k.py',
    'swin_tiny_digits.py': 'configs/pretrain/swin_b.py',
    'upernet_vit_tiny_digits_ade20k.py':
    'configs/seg/upernet_deit_s24_ade20k.py',
    'upernet_vit_tiny_digits_cityscapes.py':
    'configs/seg/upernet_deit_b24_cityscapes.py',
    'upernet_swin_tiny_digits_ade20k.py':
    'configs/seg/upernet_swin_b_ade20k.py',
}


@pytest.mark.parametrize('demo', sorted(DEMO_OF))
def test_demo_inherits_its_full_config(demo):
    """The demo's first base is the full config it stands for, so it trains
    that recipe with only sizes, data, norm type and schedule overridden;
    any other base is a digits stand-in dataset piece (the shared digits
    splits, pipelines and loaders, under names no recipe uses)."""
    path = osp.join(ROOT, 'configs', 'demo', demo)
    bases = [osp.normpath(osp.join(osp.dirname(path), b))
             for b in Config._get_base_files(path)]
    assert bases[0] == osp.join(ROOT, DEMO_OF[demo])
    datasets = osp.join(ROOT, 'configs', '_base_', 'datasets', 'digit')
    assert all(b.startswith(datasets) for b in bases[1:]), bases


def _recipe(cfg):
    """What a demo keeps of its full config: the model's and heads' types
    and losses, the optimizer type, weight decay and its exceptions, the
    kind of lr schedule and the hooks (not sizes, data or lengths)."""
    model = cfg.model
    heads = [model.get(k) for k in ('head', 'decode_head', 'auxiliary_head')]
    optim = cfg.optim_wrapper
    return dict(
        model=model.type,
        backbone=model.backbone.type,
        neck=(model.get('neck') or {}).get('type'),
        heads=[(h.type, h.get('loss', h.get('loss_decode')))
               for h in heads if h],
        optimizer=(optim.optimizer.type, optim.optimizer.weight_decay),
        constructor=optim.get('constructor'),
        no_decay=optim.get('paramwise_cfg', {}).get('custom_keys'),
        schedulers=[s.type for s in cfg.param_scheduler],
        hooks={k: h.type for k, h in cfg.default_hooks.items()})


@pytest.mark.parametrize('demo', sorted(DEMO_OF))
def test_demo_keeps_the_full_recipe(demo):
    full = _load(DEMO_OF[demo])
    assert _recipe(_load(osp.join('configs', 'demo', demo))) == \
        _recipe(full)


@pytest.mark.parametrize('path', DEMOS, ids=_rel)
def test_demo_model_builds_and_runs(path):
    torch.manual_seed(0)
    cfg = _load(path)
    model = _build(cfg)
    assert 'SyncBatchNorm' not in _norm_types(model)
    if cfg.default_scope == 'mmpretrain':
        from mmpretrain.structures import DataSample
        model.train()
        n = 4
        size = cfg.model.backbone.get('img_size', 32)  # CNN: digits' 32
        samples = [DataSample().set_gt_label(i % 10) for i in range(n)]
        if cfg.model.type == 'TokenLabelingClassifier':
            grid = size // cfg.model.backbone.patch_size
            for sample in samples:  # uniform soft targets on the token grid
                sample.set_field(torch.full((10, grid, grid), 0.1),
                                 'token_label')
        data = dict(
            inputs=[torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
                    for _ in range(n)],
            data_samples=samples)
        data = model.data_preprocessor(data, True)
        losses = model(**data, mode='loss')
        total = sum(v for k, v in losses.items() if 'loss' in k)
        assert torch.isfinite(total)
        assert cfg.model.head.num_classes == 10
    else:
        model.eval()
        h, w = cfg.crop_size
        x = torch.randn(2, 3, h, w)
        with torch.no_grad():
            out = model(x, mode='tensor')
        # ViT: patch P then the neck's first scale s -> stride P / s (the
        # full configs' 4 for the demo's 8 px patches and x2);
        # Swin: stage 1 at stride 4
        stride = (cfg.model.backbone.patch_size // cfg.model.neck.scales[0]
                  if 'vit' in osp.basename(path) else 4)
        assert stride == 4
        assert out.shape == (2, 11, h // stride, w // stride)
        assert cfg.model.decode_head.num_classes == 11
        assert _norm_types(model) == {'BatchNorm2d'}
        assert cfg.model.backbone.init_cfg.prefix == 'backbone.'


def test_demo_vit_matches_seg_backbone():
    """The tiny ViT of the demo pretraining loads into the demo UperNet."""
    cls = _load('configs/demo/vit_tiny_digits.py')
    torch.manual_seed(0)
    src = _build(cls).state_dict()
    for seg_name in ('upernet_vit_tiny_digits_ade20k',
                     'upernet_vit_tiny_digits_cityscapes'):
        seg = _load(f'configs/demo/{seg_name}.py')
        dst = _build(seg).backbone.state_dict()
        keys = {k[len('backbone.'):]: v.shape for k, v in src.items()
                if k.startswith('backbone.')}
        # every segmentation backbone tensor comes from the checkpoint (the
        # classifier's final norm ``ln1`` is the only extra, unused key)
        assert set(dst) == set(keys) - {'ln1.weight', 'ln1.bias'}
        for k in dst:
            if k != 'pos_embed':  # resized 8x8 -> 16x16 grid on load
                assert dst[k].shape == keys[k], k
