# DeiT III ViT-L/16, ImageNet-1k from scratch at 224 px, 800 epochs: the
# deit3_s_in1k.py recipe with ViT-L, LAMB lr 3e-3 and constant drop path
# 0.45 (released command: 32 GPUs x 64 = 2048). Like ViT-B, the released
# command pretrains at 192 px and fine-tunes 20 epochs at 224 (drop path
# 0.45 there): derive that pair from deit3_b_in1k_192.py / _ft224.py.
# Target (released ViT-L weights, 224 px): 84.9 top-1.
# Inherits deit3_b_in1k.py, the same recipe (bases, LAMB lr 3e-3) for ViT-B.
_base_ = './deit3_b_in1k.py'

model = dict(
    backbone=dict(arch='large', drop_path_rate=0.45),
    head=dict(in_channels=1024))

# 32 GPUs x 64 = 2048 images per step.
train_dataloader = dict(batch_size=64)

default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
