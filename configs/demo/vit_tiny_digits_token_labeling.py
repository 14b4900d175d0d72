# Demo of token labeling: vit_tiny_digits.py (12-block ViT, dim 64, 8 px
# patches, 4x4 tokens, 32 px digits) trained as in
# pretrain/deit_s_token_labeling.py: class-token CE + beta * per-token soft
# CE against a machine annotator's dense score maps, MixToken, and LV-ViT
# inference (X_cls + 0.5 max_i X_i).
#
# The labels come from resnet_tiny_digits_annotator.py, which tools/demo.py
# trains first, then annotates the training split with
#   tools/generate_token_labels.py configs/demo/resnet_tiny_digits_annotator.py
#       CKPT --data-root data/digits/imagenet --out <store> --topk 5
# and passes the store here with
#   --cfg-options train_dataloader.dataset.pipeline.1.store_root=<store>
# (default below: data/digits/imagenet/token_labels).
_base_ = './vit_tiny_digits.py'

num_classes = 10
embed_dims = 64
token_grid = (4, 4)  # 32 px / 8 px patches
model = dict(
    type='TokenLabelingClassifier',
    dense_head=dict(
        type='DenseTokenHead',
        in_channels=embed_dims,
        num_classes=num_classes,
        loss=dict(type='TokenLabelingLoss', beta=0.5)),
    mix_token=dict(type='MixToken', alpha=1.0, prob=1.0),
    aux_inference_weight=0.5,
    # no image-level batch augments (they would not mix the token labels)
    train_cfg=None)

# the baseline demo's mild crop, replayed on the label map (no flip: digits)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadTokenLabel',
         store_root='data/digits/imagenet/token_labels'),
    dict(
        type='RandomResizedCropWithBox',
        scale=32,
        crop_ratio_range=(0.5, 1.0),
        backend='pillow',
        interpolation='bicubic'),
    dict(
        type='AlignTokenLabel',
        grid=token_grid,
        num_classes=num_classes,
        expand='batch'),
    dict(type='PackInputs', algorithm_keys=['token_label']),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
