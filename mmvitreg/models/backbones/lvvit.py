"""LV-ViT backbone (Jiang et al. 2021, "All Tokens Matter: Token Labeling for
Training Better Vision Transformers")."""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks.transformer import AdaptivePadding
from mmengine.model import BaseModule, ModuleList
from mmengine.utils import to_2tuple
from mmpretrain.models.backbones import VisionTransformer
from mmpretrain.models.backbones.vision_transformer import (
    TransformerEncoderLayer,
)
from mmpretrain.registry import MODELS

from .checkpointing import block_forward


class ConvPatchEmbed(BaseModule):
    """LV-ViT's 4-layer convolutional patch embedding.

    ``conv 7x7 /2 -> BN -> ReLU -> conv 3x3 -> BN -> ReLU -> conv 3x3 -> BN
    -> ReLU`` (``stem_channels`` wide, no conv bias), then a projection conv
    with kernel = stride = ``patch_size // 2`` to ``embed_dims``, so every
    token covers a ``patch_size`` cell of the image (8x8 projection after
    the stride-2 stem for 16 px patches, as in the released ``PatchEmbed4_2``).

    Same interface as mmcv's ``PatchEmbed``: ``forward(x (B, 3, H, W)) ->
    (tokens (B, h*w, C), (h, w))`` and ``init_out_size``, and the same
    ``padding`` modes: with ``'corner'`` (mmcv's and mmpretrain ViT's
    default) an image whose side is not a multiple of ``patch_size`` is
    zero-padded at the bottom/right first (mmcv's ``AdaptivePadding``), so
    the grid is ``ceil(H / P) x ceil(W / P)`` as for ``VisionTransformer``
    (256x309 -> 16x20 at P=16); ``'same'`` pads both sides; None pads
    nothing, and the stem's strides round the grid down as the released code
    does (256x309 -> 16x19). Multiples of ``patch_size`` give the same grid
    and the same tokens in all three modes. ``stem_norm_cfg`` picks the
    stem's norm (``SyncBN`` in segmentation configs); ``norm_cfg`` an
    optional norm of the tokens (mmcv's ``PatchEmbed.norm``); ``bias`` the
    projection's bias (mmpretrain turns it off with ``pre_norm``).
    """

    PADDINGS = ('corner', 'same', None)

    def __init__(self,
                 img_size=224,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 embed_dims: int = 384,
                 stem_channels: int = 64,
                 stem_norm_cfg: Optional[dict] = None,
                 padding: Optional[str] = 'corner',
                 bias: bool = True,
                 norm_cfg: Optional[dict] = None,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if stem_norm_cfg is None:  # a fresh dict, not a shared default
            stem_norm_cfg = dict(type='BN')
        if patch_size < 2 or patch_size % 2:
            raise ValueError('ConvPatchEmbed: patch_size must be even and '
                             f'>= 2, got {patch_size}')
        if padding not in self.PADDINGS:
            raise ValueError(f'ConvPatchEmbed: padding must be one of '
                             f'{self.PADDINGS}, got {padding!r}')
        proj = patch_size // 2
        self.adaptive_padding = None if padding is None else AdaptivePadding(
            kernel_size=patch_size, stride=patch_size, padding=padding)

        def conv_bn_relu(cin, kernel, stride):
            return [
                nn.Conv2d(cin, stem_channels, kernel, stride, kernel // 2,
                          bias=False),
                build_norm_layer(stem_norm_cfg, stem_channels)[1],
                nn.ReLU(inplace=True)
            ]

        self.stem = nn.Sequential(*conv_bn_relu(in_channels, 7, 2),
                                  *conv_bn_relu(stem_channels, 3, 1),
                                  *conv_bn_relu(stem_channels, 3, 1))
        self.proj = nn.Conv2d(stem_channels, embed_dims, proj, proj,
                              bias=bias)
        self.norm = None if norm_cfg is None else build_norm_layer(
            norm_cfg, embed_dims)[1]
        self.init_out_size = self.out_size(to_2tuple(img_size))

    @staticmethod
    def _conv_out(size: int, kernel: int, stride: int, pad: int) -> int:
        return (size + 2 * pad - kernel) // stride + 1

    def out_size(self, size: Tuple[int, int]) -> Tuple[int, int]:
        """Token grid ``(h, w)`` for an image of ``size``."""
        if self.adaptive_padding is not None:
            pad = self.adaptive_padding.get_pad_shape(size)
            size = (size[0] + pad[0], size[1] + pad[1])
        kernel = self.proj.kernel_size[0]
        return tuple(
            self._conv_out(self._conv_out(s, 7, 2, 3), kernel, kernel, 0)
            for s in size)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, tuple]:
        if self.adaptive_padding is not None:
            x = self.adaptive_padding(x)
        x = self.proj(self.stem(x))
        out_size = (x.shape[2], x.shape[3])
        x = x.flatten(2).transpose(1, 2)
        if self.norm is not None:
            x = self.norm(x)
        return x, out_size


class ScaledResidualLayer(TransformerEncoderLayer):
    r"""mmpretrain ``TransformerEncoderLayer`` with both residual branches
    divided by a constant ``skip_lam`` (LV-ViT's residual scaling):
    :math:`x = x + \mathrm{MHSA}(LN(x)) / \lambda,\;
    x = x + \mathrm{FFN}(LN(x)) / \lambda`. Drop path stays on the branch.
    ``with_cp``: activation checkpointing (recomputed in backward).
    """

    def __init__(self, *args, skip_lam: float = 1.0, with_cp: bool = False,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.with_cp = bool(with_cp)
        if skip_lam <= 0:
            raise ValueError(f'skip_lam must be > 0, got {skip_lam}')
        self.skip_lam = float(skip_lam)
        self.ffn.add_identity = False

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x)) / self.skip_lam
        x = x + self.ffn(self.ln2(x)) / self.skip_lam
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return block_forward(self._forward, x, self.with_cp)


@MODELS.register_module()
class LVViT(VisionTransformer):
    """LV-ViT: a plain ViT with a 4-layer convolutional patch embedding
    (:class:`ConvPatchEmbed`) and residual branches scaled by ``1/skip_lam``
    (:class:`ScaledResidualLayer`), as in the released ``lvvit_{s,m,l}``.

    ============ ====== ====== ===== ========= ======== ==== ================
    arch         layers dim    heads FFN       skip_lam stem params (K=1000)
    ============ ====== ====== ===== ========= ======== ==== ================
    ``'s'``      16     384    6     1152 (x3) 2        64   25.77M
    ``'m'``      20     512    8     1536 (x3) 2        64   55.83M*
    ``'l'``      24     768    12    2304 (x3) 3        128  150.47M* (448)
    ============ ====== ====== ===== ========= ======== ==== ================

    Params as in the released README: backbone + class head (S), and
    (*) + the auxiliary dense head. No qkv bias, LayerNorm eps 1e-5.

    Everything else, including ``out_type`` (``'cls_token'``, ``'featmap'``,
    ``'avg_featmap'``, ``'raw'``), ``out_indices``, ``final_norm``,
    ``pre_norm``, ``layer_scale_init_value``, ``layer_cfgs``,
    position-embedding resizing and layer-wise depth, is mmpretrain's
    ``VisionTransformer``, so mmseg builds it as ``mmpretrain.LVViT`` with
    ``out_type='featmap'`` and feeds ``MultiLevelNeck``, and the patch-token
    hooks of :mod:`mmvitreg.models.utils.patch_tokens` work unchanged. Inputs
    whose sides are not multiples of ``patch_size`` are zero-padded at the
    bottom/right, as mmpretrain's ViT does (grid ``ceil(H / P)``).

    Where it differs from ``VisionTransformer``: the patch embedding is
    :class:`ConvPatchEmbed` (keys ``patch_embed.stem.*``/``patch_embed.proj.*``
    instead of ``patch_embed.projection.*``), so ``patch_cfg`` takes only the
    keys that embedding has (``padding``, ``bias``, ``norm_cfg``,
    ``stem_norm_cfg``, ``init_cfg``), not ``conv_type``/``kernel_size``/
    ``stride``/``dilation``; ``qkv_bias`` defaults to False and ``norm_cfg``
    to eps 1e-5 (the release); and bad arguments raise ``ValueError``/
    ``TypeError`` naming the argument where mmpretrain asserts.

    Args:
        arch (str | dict): ``'s'``, ``'m'``, ``'l'`` or a dict with
            ``embed_dims``, ``num_layers``, ``num_heads``,
            ``feedforward_channels`` and optionally ``skip_lam``,
            ``stem_channels``.
        img_size (int | tuple): Input size for the position embedding.
        patch_size (int): Token stride in pixels (even). Defaults to 16.
        out_indices, drop_rate, drop_path_rate, final_norm, out_type,
        with_cls_token, frozen_stages, interpolate_mode, pre_norm,
        layer_scale_init_value, init_cfg: as in ``VisionTransformer``.
        patch_cfg (dict): :class:`ConvPatchEmbed` overrides, e.g.
            ``dict(padding=None)`` for the released round-down grid.
        layer_cfgs (dict | list[dict]): :class:`ScaledResidualLayer`
            overrides, one dict for all blocks or one per block (e.g.
            ``skip_lam``, ``act_cfg``, ``ffn_type``), as in
            ``VisionTransformer``.
        qkv_bias (bool): Defaults to False (released code).
        norm_cfg (dict): Defaults to ``dict(type='LN', eps=1e-5)``.
        with_cp (bool): Activation checkpointing of every block (their
            activations are recomputed in backward). Defaults to False.
    """
    arch_zoo = {
        's': dict(embed_dims=384, num_layers=16, num_heads=6,
                  feedforward_channels=1152, skip_lam=2.0, stem_channels=64),
        'm': dict(embed_dims=512, num_layers=20, num_heads=8,
                  feedforward_channels=1536, skip_lam=2.0, stem_channels=64),
        'l': dict(embed_dims=768, num_layers=24, num_heads=12,
                  feedforward_channels=2304, skip_lam=3.0, stem_channels=128),
    }

    def __init__(self,
                 arch='s',
                 img_size=224,
                 patch_size: int = 16,
                 in_channels: int = 3,
                 out_indices=-1,
                 drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 qkv_bias: bool = False,
                 norm_cfg: Optional[dict] = None,
                 final_norm: bool = True,
                 out_type: str = 'cls_token',
                 with_cls_token: bool = True,
                 frozen_stages: int = -1,
                 interpolate_mode: str = 'bicubic',
                 stem_norm_cfg: Optional[dict] = None,
                 with_cp: bool = False,
                 layer_scale_init_value: float = 0.,
                 patch_cfg: Optional[dict] = None,
                 layer_cfgs: Union[dict, List[dict], None] = None,
                 pre_norm: bool = False,
                 init_cfg=None) -> None:
        if norm_cfg is None:  # a fresh dict, not a shared default
            norm_cfg = dict(type='LN', eps=1e-5)
        if isinstance(arch, str):
            if arch.lower() not in self.arch_zoo:
                raise ValueError(f'LVViT: arch {arch!r} is not one of '
                                 f'{sorted(self.arch_zoo)}')
            arch = self.arch_zoo[arch.lower()]
        arch = dict(arch)
        skip_lam = float(arch.pop('skip_lam', 1.0))
        stem_channels = int(arch.pop('stem_channels', 64))
        # mmpretrain builds a 16x16 linear patch embedding and encoder layers
        # without residual scaling; build a single layer there and replace
        # both below (num_layers=1 keeps its index checks trivially valid).
        super().__init__(
            arch=dict(arch, num_layers=1),
            img_size=img_size,
            patch_size=patch_size,
            in_channels=in_channels,
            out_indices=-1,
            drop_rate=drop_rate,
            qkv_bias=qkv_bias,
            norm_cfg=norm_cfg,
            final_norm=final_norm,
            out_type=out_type,
            with_cls_token=with_cls_token,
            interpolate_mode=interpolate_mode,
            pre_norm=pre_norm,
            init_cfg=init_cfg)
        self.arch_settings = dict(
            arch, skip_lam=skip_lam, stem_channels=stem_channels)
        self.num_layers = int(arch['num_layers'])
        self.out_indices = self._check_out_indices(out_indices)

        self.patch_embed = ConvPatchEmbed(**_patch_embed_cfg(
            patch_cfg, img_size=img_size, patch_size=patch_size,
            in_channels=in_channels, embed_dims=self.embed_dims,
            stem_channels=stem_channels, stem_norm_cfg=stem_norm_cfg,
            bias=not pre_norm))
        self.patch_resolution = self.patch_embed.init_out_size
        num_tokens = (self.patch_resolution[0] * self.patch_resolution[1] +
                      self.num_extra_tokens)
        if self.pos_embed.size(1) != num_tokens:
            self.pos_embed = nn.Parameter(
                torch.zeros(1, num_tokens, self.embed_dims))

        dpr = np.linspace(0, drop_path_rate, self.num_layers).tolist()
        overrides = _per_layer(layer_cfgs, self.num_layers)
        self.layers = ModuleList()
        for i in range(self.num_layers):
            layer_cfg = dict(
                embed_dims=self.embed_dims,
                num_heads=arch['num_heads'],
                feedforward_channels=arch['feedforward_channels'],
                layer_scale_init_value=layer_scale_init_value,
                drop_rate=drop_rate,
                drop_path_rate=dpr[i],
                qkv_bias=qkv_bias,
                norm_cfg=norm_cfg,
                skip_lam=skip_lam,
                with_cp=with_cp)
            layer_cfg.update(overrides[i])
            self.layers.append(ScaledResidualLayer(**layer_cfg))
        self.frozen_stages = frozen_stages
        if frozen_stages > 0:
            self._freeze_stages()

    def _check_out_indices(self, out_indices) -> list:
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        if not isinstance(out_indices, Sequence):
            raise TypeError('LVViT: out_indices must be an int or a sequence, '
                            f'got {type(out_indices).__name__}')
        checked = []
        for index in out_indices:
            index = self.num_layers + index if index < 0 else index
            if not 0 <= index < self.num_layers:
                raise ValueError(f'LVViT: out index {index} out of range for '
                                 f'{self.num_layers} layers')
            checked.append(index)
        return checked


#: ``patch_cfg`` keys :class:`ConvPatchEmbed` has; mmcv ``PatchEmbed``'s
#: ``conv_type``/``kernel_size``/``stride``/``dilation`` describe a single
#: projection conv that the LV-ViT stem replaces.
PATCH_CFG_KEYS = ('padding', 'bias', 'norm_cfg', 'stem_norm_cfg',
                  'init_cfg')


def _patch_embed_cfg(patch_cfg: Optional[dict], **defaults) -> dict:
    """``ConvPatchEmbed`` arguments: ``defaults`` updated by ``patch_cfg``
    (as mmpretrain updates its ``_patch_cfg``), unknown keys refused."""
    patch_cfg = dict(patch_cfg or {})
    unknown = sorted(set(patch_cfg) - set(PATCH_CFG_KEYS))
    if unknown:
        raise ValueError(
            f'LVViT: patch_cfg keys {unknown} do not apply to its '
            f'convolutional patch embedding; it takes {PATCH_CFG_KEYS}')
    return dict(defaults, **patch_cfg)


def _per_layer(layer_cfgs: Union[dict, List[dict], None],
               num_layers: int) -> List[dict]:
    """One override dict per block, as ``VisionTransformer`` reads
    ``layer_cfgs`` (a dict for all blocks, or a list of ``num_layers``)."""
    if layer_cfgs is None:
        return [{}] * num_layers
    if isinstance(layer_cfgs, dict):
        return [dict(layer_cfgs)] * num_layers
    if not isinstance(layer_cfgs, Sequence) or len(layer_cfgs) != num_layers:
        raise ValueError(
            'LVViT: layer_cfgs must be a dict or a list of one dict per '
            f'block ({num_layers}), got {layer_cfgs!r}')
    return [dict(cfg) for cfg in layer_cfgs]
