# UperNet + DeiT-B24 pretrained with patch diversification
# (configs/pretrain/deit_b24_diverse.py) on ADE20K: everything as
# upernet_deit_b24_ade20k.py (optimiser included: layer-wise lr decay 0.95,
# AdamW lr 2e-5) except the pretrained checkpoint. The backbone is
# identical: the diversification losses (cosine, contrastive, mixing) act
# only during pretraining and do not change the architecture, so the
# checkpoint loads into the same VisionTransformer with prefix='backbone.'.
_base_ = './upernet_deit_b24_ade20k.py'

pretrained = 'work_dirs/deit_b24_diverse/epoch_300.pth'
model = dict(backbone=dict(init_cfg=dict(
    type='Pretrained', checkpoint=pretrained, prefix='backbone.')))

default_scope = 'mmseg'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
