"""Layer-wise learning-rate decay for segmentors with a ViT-family backbone.

BEiT's fine-tuning recipe (Bao et al. 2021), as mmseg's BEiT/MAE UperNet
configs use it: with ``L`` backbone blocks, a parameter at depth ``d`` gets

    lr_d = base_lr * layer_decay_rate ** (L + 1 - d)

where ``d = 0`` for the patch embedding, ``cls_token`` and ``pos_embed``,
``d = i + 1`` for block ``i`` (0-based) and ``d = L + 1`` (scale 1) for
everything else: the neck, the decode and auxiliary heads, and backbone
parameters after the last block.

Neither library applies this to an mmseg ``EncoderDecoder`` built around
``mmpretrain.VisionTransformer`` (mmseg 1.2.2 / mmpretrain 1.2.0):

* mmseg's ``LearningRateDecayOptimizerConstructor`` (and its alias
  ``LayerDecayOptimizerConstructor``) raises ``NotImplementedError`` unless
  the backbone's class name contains ``BEiT``, ``MAE`` or ``ConvNeXt``;
* mmpretrain's ``LearningRateDecayOptimWrapperConstructor`` computes exactly
  the rule above, but asks the *top-level* model for ``get_layer_depth``,
  which mmpretrain's classifiers have and mmseg's segmentors lack.

This constructor is mmpretrain's, with the depth taken from
``model.backbone.get_layer_depth(name, prefix='backbone.')``, which
mmpretrain's ``VisionTransformer`` (so ``DeiT3``, mmvitreg's ``DeiT3ViT``
and ``LVViT``), ``SwinTransformer``, ``ConvNeXt``, ``BEiTViT``... define
with ``num_layers = L + 2``. Weight decay follows mmpretrain's
``paramwise_cfg`` keys; the BEiT rule (none for 1-D parameters, i.e. biases,
norms and LayerScale, nor for ``pos_embed`` / ``cls_token``) reads::

    optim_wrapper = dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=3e-5, betas=(0.9, 0.999),
                       weight_decay=0.05),
        constructor='BackboneLayerDecayOptimWrapperConstructor',
        paramwise_cfg=dict(
            layer_decay_rate=0.9,
            flat_decay_mult=0.,
            custom_keys={'.pos_embed': dict(decay_mult=0.),
                         '.cls_token': dict(decay_mult=0.)}))

Every parameter becomes its own group carrying ``lr``, ``lr_scale``,
``layer_id`` and ``param_name``; mmengine's parameter schedulers scale each
group's lr, so the ratios hold over warm-up and poly decay.
"""
import functools
from collections import defaultdict
from typing import Callable, List, Optional, Tuple

from mmengine.logging import MMLogger
from mmpretrain.engine.optimizers import (
    LearningRateDecayOptimWrapperConstructor,
)
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS
from torch import nn

NAME = 'BackboneLayerDecayOptimWrapperConstructor'
#: ``paramwise_cfg`` keys that mmpretrain's constructor reads.
ALLOWED_KEYS = ('layer_decay_rate', 'custom_keys', 'bias_decay_mult',
                'norm_decay_mult', 'flat_decay_mult')
#: Keys of mmseg's constructor (or of mmengine's default one) that would be
#: silently ignored here, with what to do instead.
FOREIGN_KEY_HINTS = {
    'decay_rate': "spell it 'layer_decay_rate'",
    'num_layers': 'the depth comes from model.backbone.get_layer_depth',
    'decay_type': "only 'layer_wise' decay over the backbone exists here",
}

LayerDepthFn = Callable[[str], Tuple[int, int]]


def check_paramwise_cfg(paramwise_cfg: dict) -> None:
    """Fail on keys the layer-decay rule would silently ignore.

    Requires ``layer_decay_rate`` in (0, 1]; rejects keys outside
    :data:`ALLOWED_KEYS` (mmseg's ``decay_rate`` / ``num_layers``,
    mmengine's ``bias_lr_mult`` ...) and ``lr_mult`` in ``custom_keys`` (the
    lr is set by depth alone). Errors name the config key.
    """
    key = 'optim_wrapper.paramwise_cfg'
    unknown = sorted(set(paramwise_cfg) - set(ALLOWED_KEYS))
    if unknown:
        hints = [f'{k} ({FOREIGN_KEY_HINTS[k]})' if k in FOREIGN_KEY_HINTS
                 else k for k in unknown]
        raise ValueError(f'{NAME}: {key} has keys it would ignore: '
                         f'{", ".join(hints)}; allowed: {list(ALLOWED_KEYS)}')
    rate = paramwise_cfg.get('layer_decay_rate')
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) \
            or not 0 < rate <= 1:
        raise ValueError(f'{NAME}: {key}.layer_decay_rate must be a number '
                         f'in (0, 1], got {rate!r}')
    for name, custom in paramwise_cfg.get('custom_keys', {}).items():
        if 'lr_mult' in custom:
            raise ValueError(
                f'{NAME}: {key}.custom_keys[{name!r}].lr_mult would be '
                'ignored: the lr is base_lr * layer_decay_rate ** '
                '(num_layers - 1 - depth)')


def backbone_layer_depth(model: nn.Module) -> LayerDepthFn:
    """``name -> (depth, num_layers)`` for the segmentor's parameter names.

    ``model.backbone.get_layer_depth(name, prefix='backbone.')``: names
    outside ``backbone.`` (neck, heads) get ``num_layers - 1``.
    """
    backbone = getattr(model, 'backbone', None)
    if not isinstance(backbone, nn.Module):
        raise NotImplementedError(
            f'{NAME}: the model ({type(model).__name__}) has no `backbone` '
            'module to take the layer depth from (optim_wrapper.constructor)')
    get_depth = getattr(backbone, 'get_layer_depth', None)
    if not callable(get_depth):
        cls = type(backbone)
        raise NotImplementedError(
            f'{NAME}: model.backbone ({cls.__module__}.{cls.__qualname__}) '
            'has no get_layer_depth(param_name, prefix), so layer-wise lr '
            'decay cannot place its parameters; use a backbone that defines '
            'it (mmpretrain.VisionTransformer, mmpretrain.SwinTransformer, '
            '...) or drop optim_wrapper.constructor')
    return functools.partial(get_depth, prefix='backbone.')


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class BackboneLayerDecayOptimWrapperConstructor(
        LearningRateDecayOptimWrapperConstructor):
    """mmpretrain's layer-wise lr decay, depth read from ``model.backbone``.

    ``lr = base_lr * layer_decay_rate ** (num_layers - 1 - depth)`` with
    ``(depth, num_layers) = model.backbone.get_layer_depth(name,
    'backbone.')`` (see the module docstring). ``paramwise_cfg`` keys:
    ``layer_decay_rate`` (required, in (0, 1]), ``custom_keys`` (only
    ``decay_mult``), ``bias_decay_mult``, ``norm_decay_mult``,
    ``flat_decay_mult``, as mmpretrain's constructor.
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        check_paramwise_cfg(paramwise_cfg or {})
        super().__init__(optim_wrapper_cfg, paramwise_cfg)

    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   get_layer_depth: Optional[LayerDepthFn] = None,
                   **kwargs) -> None:
        """Add one group per trainable parameter of ``module`` to ``params``.

        The top-level call (the segmentor) resolves the backbone's depth
        function; recursive calls receive it from mmpretrain's method.
        """
        top_level = get_layer_depth is None
        if top_level:
            get_layer_depth = backbone_layer_depth(module)
        super().add_params(
            params, module, prefix=prefix, get_layer_depth=get_layer_depth,
            **kwargs)
        if top_level:
            self._log_summary(params, type(module.backbone).__name__)

    def _log_summary(self, params: List[dict], backbone: str) -> None:
        """One INFO line: lr scale and parameter count per depth."""
        count = defaultdict(int)
        scale = {}
        for group in params:
            count[group['layer_id']] += 1
            scale[group['layer_id']] = group['lr_scale']
        per_depth = ', '.join(f'{d}: {scale[d]:.3g} ({count[d]})'
                              for d in sorted(count))
        MMLogger.get_current_instance().info(
            f'{NAME}: layer_decay_rate '
            f'{self.paramwise_cfg["layer_decay_rate"]} over {backbone}; lr '
            f'scale (parameter tensors) by depth: {per_depth}')
