"""The tests' tiny ViT: mmpretrain's ``VisionTransformer`` on 32x32 images,
32-wide, 2 heads. Small enough that a model built from it trains a step
in well under a second on one CPU core, large enough to have a patch grid
and several blocks for the patch-level losses and analyses."""

#: ``arch`` of the tiny ViT (embedding width, heads, MLP width) at two
#: blocks; tests that need another depth pass ``num_layers``.
TINY_VIT_ARCH = dict(embed_dims=32, num_layers=2, num_heads=2,
                     feedforward_channels=64)


def tiny_vit_backbone(num_layers: int = 2, patch_size: int = 4) -> dict:
    """The backbone config of the tiny ViT: ``num_layers`` blocks over a
    32x32 image cut in ``patch_size`` patches (4: an 8x8 token grid)."""
    return dict(type='VisionTransformer',
                arch=dict(TINY_VIT_ARCH, num_layers=num_layers),
                img_size=32, patch_size=patch_size)
