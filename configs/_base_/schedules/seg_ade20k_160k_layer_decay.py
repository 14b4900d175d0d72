# ADE20K schedule for plain ViT backbones with layer-wise lr decay: mmseg's
# BEiT-B UperNet recipe (beit-base_upernet_8xb2-160k_ade20k-640x640.py, 12
# blocks): AdamW lr 3e-5, weight decay 0.05, layer_decay_rate 0.9, i.e. block
# i (0-based) of L trains at lr * 0.9 ** (L - i), the patch embedding,
# cls_token and pos_embed at lr * 0.9 ** (L + 1), neck and heads at lr. No
# weight decay for 1-D parameters (biases, norms, LayerScale), pos_embed and
# cls_token (BEiT's rule; mmseg's constructor misses the last two because it
# compares prefixed names). The depth comes from the backbone's
# ``get_layer_depth`` (mmvitreg's BackboneLayerDecayOptimWrapperConstructor;
# mmseg's own constructor only accepts BEiT/MAE/ConvNeXt backbones).
# Warm-up and poly decay as seg_ade20k_160k.py (1500 iterations, 160k),
# which BEiT's recipe shares. seg_cityscapes_80k_layer_decay.py inherits
# this optim_wrapper.
_base_ = './seg_ade20k_160k.py'

optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=3e-5, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='BackboneLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(
        layer_decay_rate=0.9,
        flat_decay_mult=0.,
        custom_keys={
            '.pos_embed': dict(decay_mult=0.),
            '.cls_token': dict(decay_mult=0.)
        }),
    clip_grad=None)
