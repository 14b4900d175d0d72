"""mmvitreg.models: models, losses and batch augmentations registered into
mmpretrain; the segmentor into mmseg.

``backbones/`` (DeiT3ViT, LVViT), ``classifiers/`` (the objectives),
``losses/``, ``heads/``, ``batch_augments/`` (PatchMixing, MixToken),
``segmentors/`` (DiverseEncoderDecoder), ``weight_init/`` (checked
pretrained loading) and ``utils/`` (token reading, shared helpers).
"""
from . import (
    backbones,
    batch_augments,
    classifiers,
    heads,
    losses,
    segmentors,
    utils,
    weight_init,
)
