"""DeiT III ViT backbone with the released training settings.

mmpretrain's :class:`~mmpretrain.models.backbones.DeiT3` is the DeiT III
architecture (LayerScale on both residual branches, position embedding added
before the class token is concatenated) but it was written for inference of
converted checkpoints. Training it as DeiT III (Touvron et al. 2022, "DeiT
III: Revenge of the ViT") needs four changes, made here without touching its
parameter names, so a state dict of one loads strictly into the other:

1. Stochastic depth **constant across depth** (``drop_path_mode='constant'``,
   the released ``models_v2.py``: ``dpr = [drop_path_rate] * depth``);
   mmpretrain raises it linearly from 0 (``'linear'`` keeps that).
2. LayerScale initialised to ``layer_scale_init_value`` (1e-4 for every size
   in the released code); mmpretrain hard-codes 1e-5.
3. The FFN branch normalises with ``ln2``: in mmpretrain 1.2.0
   ``DeiT3TransformerEncoderLayer.forward`` computes
   ``ffn(ln1(x))``, so ``ln2`` gets no gradient (DDP without
   ``find_unused_parameters`` fails) and converted DeiT III checkpoints,
   whose ``norm2`` lands in ``ln2``, are evaluated with the wrong norm.
4. FFN linears are left to the model's ``init_cfg`` (truncated normal,
   std 0.02, as the released ``_init_weights``) instead of mmpretrain's
   Xavier re-initialisation.

One block, tokens ``x`` of shape (B, 1 + h * w, C)::

    x = x + DropPath_p(gamma_1 * Attn(LN_1(x)))
    x = x + DropPath_p(gamma_2 * FFN(LN_2(x)))

with ``gamma_1, gamma_2`` in R^C initialised to ``layer_scale_init_value``
and ``p`` the block's stochastic-depth rate.
"""
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.model import BaseModule, ModuleList
from mmpretrain.models.backbones.deit3 import (
    DeiT3,
    DeiT3TransformerEncoderLayer,
)
from mmpretrain.models.utils import LayerScale
from mmpretrain.registry import MODELS

from .checkpointing import block_forward

DROP_PATH_MODES = ('constant', 'linear')


def drop_path_rates(drop_path_rate: float, num_layers: int,
                    mode: str) -> List[float]:
    """Per-block stochastic-depth rates.

    ``'constant'``: ``[r] * L`` (DeiT III); ``'linear'``:
    ``linspace(0, r, L)`` (DeiT, mmpretrain's ViT/DeiT3).
    """
    if mode not in DROP_PATH_MODES:
        raise ValueError(f'DeiT3ViT: `drop_path_mode` must be one of '
                         f'{DROP_PATH_MODES}, got {mode!r}')
    if not 0 <= drop_path_rate < 1:
        raise ValueError('DeiT3ViT: `drop_path_rate` must be in [0, 1), '
                         f'got {drop_path_rate!r}')
    if mode == 'constant':
        return [float(drop_path_rate)] * num_layers
    return [float(r) for r in np.linspace(0, drop_path_rate, num_layers)]


class DeiT3ViTLayer(DeiT3TransformerEncoderLayer):
    """DeiT III block: pre-norm attention and FFN, each scaled by LayerScale.

    Same sub-modules and parameter names as mmpretrain's
    ``DeiT3TransformerEncoderLayer`` (``ln1, attn, ln2, ffn``,
    ``attn.gamma1.weight``, ``ffn.gamma2.weight``); the FFN reads ``ln2``.

    Args:
        embed_dims (int): Token width C.
        num_heads (int): Attention heads.
        feedforward_channels (int): FFN hidden width.
        layer_scale_init_value (float): Initial value of every entry of
            ``gamma_1`` and ``gamma_2``; 0 disables LayerScale (no
            ``gamma`` parameters). Defaults to 1e-4.
        with_cp (bool): Recompute the block's activations in backward
            (activation checkpointing). Defaults to False.
        **kwargs: Other arguments of ``DeiT3TransformerEncoderLayer``
            (``drop_rate``, ``drop_path_rate``, ``qkv_bias``, ``norm_cfg``,
            ...), except ``use_layer_scale``.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 feedforward_channels: int,
                 layer_scale_init_value: float = 1e-4,
                 with_cp: bool = False,
                 **kwargs) -> None:
        if 'use_layer_scale' in kwargs:
            raise ValueError('DeiT3ViTLayer: set `layer_scale_init_value` '
                             '(0 disables LayerScale), not `use_layer_scale`')
        super().__init__(
            embed_dims,
            num_heads,
            feedforward_channels,
            use_layer_scale=False,
            **kwargs)
        if layer_scale_init_value > 0:
            self.attn.gamma1 = LayerScale(embed_dims, layer_scale_init_value)
            self.ffn.gamma2 = LayerScale(embed_dims, layer_scale_init_value)
        self.with_cp = bool(with_cp)

    def init_weights(self) -> None:
        """Only the own ``init_cfg``: no Xavier re-init of the FFN."""
        BaseModule.init_weights(self)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))
        return self.ffn(self.ln2(x), identity=x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, C) -> (B, N, C)."""
        return block_forward(self._forward, x, self.with_cp)


@MODELS.register_module()
class DeiT3ViT(DeiT3):
    """DeiT III backbone with constant stochastic depth and LayerScale 1e-4.

    A drop-in for mmpretrain's ``DeiT3`` (same ``arch`` names and dicts,
    outputs, ``out_type``, state-dict keys, position-embedding resize on
    load, which logs ``Resize the pos_embed shape from ... to ...``); the
    differences are listed in this module's docstring. Custom ``arch``
    dicts give e.g. the 24-block DeiT-S24/B24 shapes.

    Args:
        arch (str | dict): As ``DeiT3`` ('small', 'medium', 'base',
            'large', 'huge' or a dict with ``embed_dims``, ``num_layers``,
            ``num_heads``, ``feedforward_channels``). Defaults to 'base'.
        drop_path_rate (float): Stochastic-depth rate r. Defaults to 0.
        drop_path_mode (str): ``'constant'`` (every block r, DeiT III) or
            ``'linear'`` (``linspace(0, r, L)``, mmpretrain). Defaults to
            ``'constant'``.
        layer_scale_init_value (float): LayerScale init; 0 disables
            LayerScale. Defaults to 1e-4 (released DeiT III code).
        with_cp (bool): Activation checkpointing of every block (their
            activations are recomputed in backward). Defaults to False.
        layer_cfgs (Sequence[dict] | dict): Per-block overrides, applied
            last (as in ``DeiT3``).
        drop_rate, qkv_bias, norm_cfg: As ``DeiT3``.
        **kwargs: Other arguments of ``DeiT3`` (``img_size``,
            ``patch_size``, ``out_indices``, ``out_type``, ``final_norm``,
            ``with_cls_token``, ``interpolate_mode``, ``patch_cfg``,
            ``init_cfg``, ...), except ``use_layer_scale``.
    """

    def __init__(self,
                 arch: Union[str, dict] = 'base',
                 drop_path_rate: float = 0.,
                 drop_path_mode: str = 'constant',
                 layer_scale_init_value: float = 1e-4,
                 drop_rate: float = 0.,
                 qkv_bias: bool = True,
                 norm_cfg: Optional[dict] = None,
                 with_cp: bool = False,
                 layer_cfgs: Union[Sequence[dict], dict, None] = None,
                 **kwargs) -> None:
        # None: DeiT III's LayerNorm (eps 1e-6) and no per-block overrides
        # (a fresh dict per call, never a shared mutable default).
        if norm_cfg is None:
            norm_cfg = dict(type='LN', eps=1e-6)
        if layer_cfgs is None:
            layer_cfgs = {}
        if 'use_layer_scale' in kwargs:
            raise ValueError('DeiT3ViT: set `layer_scale_init_value` '
                             '(0 disables LayerScale), not `use_layer_scale`')
        if layer_scale_init_value < 0:
            raise ValueError('DeiT3ViT: `layer_scale_init_value` must be '
                             f'>= 0, got {layer_scale_init_value!r}')
        # The parent builds (and validates) everything; its blocks are then
        # replaced by DeiT3ViTLayer blocks with the same names.
        super().__init__(
            arch=arch,
            drop_rate=drop_rate,
            qkv_bias=qkv_bias,
            norm_cfg=norm_cfg,
            use_layer_scale=False,
            **kwargs)
        if isinstance(layer_cfgs, dict):
            layer_cfgs = [layer_cfgs] * self.num_layers
        if len(layer_cfgs) != self.num_layers:
            raise ValueError(f'DeiT3ViT: `layer_cfgs` has {len(layer_cfgs)} '
                             f'entries for {self.num_layers} layers')
        self.drop_path_mode = drop_path_mode
        self.layer_scale_init_value = layer_scale_init_value
        rates = drop_path_rates(drop_path_rate, self.num_layers,
                                drop_path_mode)
        layers = []
        for rate, layer_cfg in zip(rates, layer_cfgs, strict=True):
            cfg = dict(
                embed_dims=self.embed_dims,
                num_heads=self.arch_settings['num_heads'],
                feedforward_channels=self.
                arch_settings['feedforward_channels'],
                drop_rate=drop_rate,
                drop_path_rate=rate,
                qkv_bias=qkv_bias,
                norm_cfg=norm_cfg,
                layer_scale_init_value=layer_scale_init_value,
                with_cp=with_cp)
            cfg.update(layer_cfg)
            layers.append(DeiT3ViTLayer(**cfg))
        self.layers = ModuleList(layers)

    @property
    def drop_path_rates(self) -> List[float]:
        """Stochastic-depth rate of each block (attention and FFN share
        it)."""
        return [
            float(getattr(layer.attn.out_drop, 'drop_prob', 0.))
            for layer in self.layers
        ]
