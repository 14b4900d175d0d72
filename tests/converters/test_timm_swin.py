"""timm (>= 0.9) and official Swin state dicts -> mmpretrain SwinTransformer.

Official releases and timm < 0.9 put patch merging at the end of a stage
and save the ``relative_position_index``/``attn_mask`` buffers; that layout
is built here from the timm model by moving keys (no download), after
checking that timm merges the 2x2 neighbours in the official order.
"""
import pytest
import torch
from mmpretrain.models import SwinTransformer
from mmpretrain.models.utils.attention import WindowMSA

from mmvitreg.converters import (
    CheckpointFormatError,
    convert_state_dict,
    relative_position_index,
)
from mmvitreg.converters.timm_swin import (
    merging_norm_to_unfold,
    merging_reduction_to_unfold,
    resize_table,
)
from mmvitreg.models.weight_init.checked_pretrained import (
    load_state_dict_report,
)

from .conftest import SWIN_ARCH, timm_swin, timm_vit


def mm_swin(**kwargs):
    model = SwinTransformer(**{
        **dict(arch=SWIN_ARCH, img_size=32, patch_size=2, window_size=2),
        **kwargs
    })
    model.eval()
    return model


def load_all(model, state_dict):
    report = load_state_dict_report(model, state_dict)
    assert report.ratio == 1.0 and not report.unexpected, report.summary()
    return report


def official_layout(timm_state):
    """timm >= 0.9 keys -> official release keys (``{'model': ...}``)."""
    from timm.layers import gen_relative_position_index
    out = {}
    for key, value in timm_state.items():
        if '.downsample.' in key:  # layers.i.downsample -> layers.(i-1)
            stage = int(key.split('.')[1])
            key = key.replace(f'layers.{stage}.', f'layers.{stage - 1}.', 1)
        out[key.replace('head.fc.', 'head.')] = value
        if key.endswith('relative_position_bias_table'):
            window = (int(value.shape[0]**0.5) + 1) // 2
            out[key.replace('bias_table', 'index')] = \
                gen_relative_position_index((window, window))
            out[key.replace('attn.relative_position_bias_table',
                            'attn_mask')] = torch.zeros(4, 4, 4)
    return {'model': out}


def test_timm_swin_loads_fully_and_matches(images):
    src = timm_swin()
    result = convert_state_dict(src.state_dict())
    assert result.format == 'timm-swin'
    assert result.arch == dict(embed_dims=16,
                               depths=[2, 2, 2, 2],
                               num_heads=[1, 1, 2, 2],
                               window_size=2,
                               patch_size=[2, 2])
    assert result.dropped == ['head.fc.weight', 'head.fc.bias']
    model = mm_swin()
    load_all(model, result.state_dict)
    with torch.no_grad():
        out = model(images)[-1]
        ref = src.forward_features(images).permute(0, 3, 1, 2)
    assert out.shape == (2, 128, 2, 2)
    torch.testing.assert_close(out, ref)


def test_timm_merges_neighbours_in_the_official_order():
    """Official Swin: cat([x[0::2, 0::2], x[1::2, 0::2], x[0::2, 1::2],
    x[1::2, 1::2]]) along channels, then norm and reduction."""
    merge = timm_swin().layers[1].downsample
    x = torch.randn(1, 4, 4, 16)  # B, H, W, C (timm layout)
    parts = [
        x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]
    ]
    ref = merge.reduction(merge.norm(torch.cat(parts, -1)))
    with torch.no_grad():
        torch.testing.assert_close(merge(x), ref)


def test_merging_reorder_by_hand():
    # one output, C = 2: neighbour-major [00:c0 c1, 10:.., 01:.., 11:..]
    weight = torch.arange(8.).reshape(1, 8)
    # channel-major unfold order: c0:[00, 01, 10, 11], c1:[...]
    assert merging_reduction_to_unfold(weight).tolist() == [[
        0., 4., 2., 6., 1., 5., 3., 7.
    ]]
    assert merging_norm_to_unfold(
        torch.arange(8.)).tolist() == [0., 4., 2., 6., 1., 5., 3., 7.]


def test_official_layout_gives_the_same_backbone(images):
    src = timm_swin()
    timm_result = convert_state_dict(src.state_dict())
    result = convert_state_dict(official_layout(src.state_dict()))
    assert result.format == 'swin-official'
    assert sum('relative_position_index' in k or 'attn_mask' in k
               for k in result.dropped) == 16
    assert result.state_dict.keys() == timm_result.state_dict.keys()
    for key, value in result.state_dict.items():
        assert torch.equal(value, timm_result.state_dict[key]), key


@pytest.mark.parametrize('window', [2, 3, 4])
def test_rebuilt_index_matches_mmpretrain_and_timm(window):
    from timm.layers import gen_relative_position_index
    index = relative_position_index(window)
    attn = WindowMSA(embed_dims=4, window_size=(window, window), num_heads=1)
    assert torch.equal(index, attn.relative_position_index)
    assert torch.equal(index, gen_relative_position_index((window, window)))


def test_window_resize_keeps_near_offsets_and_loads():
    src = timm_swin()
    result = convert_state_dict(src.state_dict(), window_size=4)
    assert result.arch['window_size'] == 4
    old = src.layers[2].blocks[1].attn.relative_position_bias_table
    new = result.state_dict[
        'stages.2.blocks.1.attn.w_msa.relative_position_bias_table']
    assert old.shape == (3 * 3, 2) and new.shape == (7 * 7, 2)
    # offsets (dy, dx) in {-1, 0, 1}^2 keep their values: the inner 3 x 3
    # of the 7 x 7 table (geometric resampling maps +-1 onto +-1).
    inner = new.reshape(7, 7, 2)[2:5, 2:5].reshape(9, 2)
    torch.testing.assert_close(inner, old.detach())
    assert torch.equal(
        result.state_dict['stages.0.blocks.0.attn.w_msa.'
                          'relative_position_index'],
        relative_position_index(4))
    model = mm_swin(window_size=4, pad_small_map=True)
    load_all(model, result.state_dict)
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 32, 32))[-1].shape == (1, 128, 2, 2)


def test_resize_table_to_same_window_is_identity():
    table = torch.randn(9, 3)
    assert torch.equal(resize_table(table, 2), table)


def test_wrong_family_and_swin_v2_are_refused():
    vit = timm_vit().state_dict()
    with pytest.raises(CheckpointFormatError, match=r'vit\.pth: not a Swin'):
        convert_state_dict(vit, 'timm-swin', source='vit.pth')
    from timm.models.swin_transformer_v2 import SwinTransformerV2
    v2 = SwinTransformerV2(img_size=32,
                           patch_size=4,
                           window_size=2,
                           embed_dim=8,
                           depths=(1, 1),
                           num_heads=(1, 1))
    with pytest.raises(CheckpointFormatError) as info:
        convert_state_dict(v2.state_dict(), source='v2.pth')
    assert 'v2.pth' in str(info.value)
    assert 'logit_scale' in str(info.value) or 'cpb_mlp' in str(info.value)
