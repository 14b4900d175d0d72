"""Sliding-window vs whole-image inference of an mmseg ``EncoderDecoder``.

mmseg's ``slide_inference`` (1.2.2) places windows at
``y1 = i * stride`` (``i < max(H - crop + stride - 1, 0) // stride + 1``),
clips the last one to end at the border (``y1 = max(min(y1 + crop, H) -
crop, 0)``) and averages the overlapping logits. It never pads: an image
smaller than the window is decoded as one crop of the whole image, i.e.
exactly what ``mode='whole'`` does.
"""
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

import mmvitreg  # noqa: F401  (compat layer before mmseg)

NUM_CLASSES = 3
CROP, STRIDE = (64, 64), (32, 32)


def _build(mode: str):
    init_default_scope('mmseg')
    norm_cfg = dict(type='BN', requires_grad=True)
    test_cfg = dict(mode=mode)
    if mode == 'slide':
        test_cfg.update(crop_size=CROP, stride=STRIDE)
    torch.manual_seed(0)
    # ConfigDict as from a config file: EncoderDecoder reads test_cfg.mode
    model = MODELS.build(ConfigDict(
        type='EncoderDecoder',
        backbone=dict(
            type='mmpretrain.VisionTransformer',
            arch=dict(embed_dims=32, num_layers=2, num_heads=2,
                      feedforward_channels=64),
            img_size=CROP, patch_size=8, out_indices=(0, 1),
            out_type='featmap', final_norm=False, with_cls_token=True,
            interpolate_mode='bicubic'),
        neck=dict(type='MultiLevelNeck', in_channels=[32, 32],
                  out_channels=16, scales=[2, 1]),
        decode_head=dict(
            type='UPerHead', in_channels=[16, 16], in_index=[0, 1],
            pool_scales=(1, 2), channels=16, dropout_ratio=0.1,
            num_classes=NUM_CLASSES, norm_cfg=norm_cfg, align_corners=False,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        test_cfg=test_cfg))
    model.init_weights()
    return model.eval()


@pytest.fixture(scope='module')
def models():
    whole = _build('whole')
    slide = _build('slide')
    slide.load_state_dict(whole.state_dict())
    return whole, slide


def _metas(h: int, w: int):
    return [dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))]


def test_slide_equals_whole_below_the_window(models):
    whole, slide = models
    image = torch.randn(1, 3, 48, 48)
    with torch.no_grad():
        a = whole.inference(image, _metas(48, 48))
        b = slide.inference(image, _metas(48, 48))
    assert a.shape == b.shape == (1, NUM_CLASSES, 48, 48)
    # one window, no padding, count 1: the same forward pass
    torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)


def test_slide_covers_every_pixel_above_the_window(models):
    whole, slide = models
    h, w = 96, 80
    image = torch.randn(1, 3, h, w)
    # windows (hand-placed): rows [0, 64) and [32, 96) (grids
    # (96 - 64 + 31) // 32 + 1 = 2); columns [0, 64) and [16, 80) (grids
    # (80 - 64 + 31) // 32 + 1 = 2; the second, x1 = 32, is clipped to end
    # at 80)
    windows = [(y, x) for y in (0, 32) for x in (0, 16)]
    with torch.no_grad():
        out = slide.inference(image, _metas(h, w))
        total = torch.zeros(1, NUM_CLASSES, h, w)
        count = torch.zeros(1, 1, h, w)
        for y, x in windows:
            crop = image[:, :, y:y + 64, x:x + 64]
            logits = whole.encode_decode(crop, _metas(64, 64))
            total += F.pad(logits, (x, w - x - 64, y, h - y - 64))
            count[:, :, y:y + 64, x:x + 64] += 1
    assert out.shape == (1, NUM_CLASSES, h, w)
    assert torch.isfinite(out).all()
    # every pixel is covered by 1, 2 or 4 windows
    assert count.min() == 1 and count.max() == 4
    assert count[0, 0, 40, 40] == 4 and count[0, 0, 0, 0] == 1
    assert count[0, 0, 0, 40] == 2 and count[0, 0, 40, 0] == 2
    torch.testing.assert_close(out, total / count, rtol=1e-5, atol=1e-6)
    # and it is not just whole-image inference on the larger image
    with torch.no_grad():
        full = whole.inference(image, _metas(h, w))
    assert not torch.allclose(out, full, atol=1e-3)


def test_slide_predict_returns_full_resolution_labels(models):
    _, slide = models
    from mmseg.structures import SegDataSample
    sample = SegDataSample(metainfo=_metas(96, 80)[0])
    with torch.no_grad():
        result = slide.predict(torch.randn(1, 3, 96, 80), [sample])[0]
    labels = result.pred_sem_seg.data
    assert labels.shape == (1, 96, 80)
    assert labels.min() >= 0 and labels.max() < NUM_CLASSES
