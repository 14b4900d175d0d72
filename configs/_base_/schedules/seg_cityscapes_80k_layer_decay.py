# Cityscapes schedule for plain ViT backbones: seg_cityscapes_80k.py (80k
# iterations, 1500 warm-up iterations, poly, evaluation every 8k) with the
# layer-wise lr decay optimiser of seg_ade20k_160k_layer_decay.py (BEiT-B
# recipe: AdamW lr 3e-5, weight decay 0.05, layer_decay_rate 0.9): the same
# optim_wrapper, kept identical by
# tests/engine/test_layer_decay_constructor.py.
_base_ = './seg_cityscapes_80k.py'

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
