"""The paper rows ``tools/reproduce.py`` runs, each as a chain of stages.

A row is named after the model-zoo entry of its last config (its published
number and source come from the metafiles). ``stages`` is the full-size
chain; ``tiny`` the same chain on the digits demo configs (``--tiny``),
with ``tiny_note`` saying where the two differ.
"""
from dataclasses import dataclass
from typing import Dict, Tuple

from .stages import Stage

TEST = Stage('test')
SWIN_22K = Stage(
    'convert', name='swin_l_22k', options=('--type', 'swin-official'),
    inputs=(('swin_l_22k',
             'pretrain/swin_large_patch4_window7_224_22k.pth'), ))
NFNET_TOKEN_LABELS = Stage(
    'generate', config='dm_nfnet_f6', name='token_labels_nfnet_f6',
    # the released labels: NFNet-F6 at 576 px, top-5 (recipe audit)
    options=('--data-root', 'data/imagenet', '--resolution', '576',
             '--topk', '5'),
    inputs=(('nfnet_f6', 'pretrain/dm_nfnet_f6.pth'), ))


def pre(config: str, handoff: str = '', **kw) -> Stage:
    return Stage('train', f'configs/pretrain/{config}.py', handoff, **kw)


def seg(config: str, handoff: str = 'backbone', layout: str = 'ade',
        **kw) -> Stage:
    return Stage('train', f'configs/seg/{config}.py', handoff, layout=layout,
                 **kw)


def demo(config: str, handoff: str = '', layout: str = 'imagenet',
         **kw) -> Stage:
    return Stage('train', f'configs/demo/{config}.py', handoff,
                 layout=layout, **kw)


TINY_ANNOTATOR = (demo('resnet_tiny_digits_annotator'),
                  Stage('generate', name='token_labels', handoff='annotator',
                        options=('--topk', '5')))
TINY_TL = (*TINY_ANNOTATOR, demo('vit_tiny_digits_token_labeling', 'store'))
FULL_TL = (NFNET_TOKEN_LABELS, pre('lvvit_s_token_labeling', 'store'))
SWIN_L = (SWIN_22K, pre('swin_l', 'model_init'))
NO_CONVERT = ('no 22k checkpoint at digits scale: the convert stage is '
              'left out')


@dataclass(frozen=True)
class Row:
    """One cell of a paper table: its chains and what ``--tiny`` changes."""
    name: str
    stages: Tuple[Stage, ...]
    tiny: Tuple[Stage, ...]
    tiny_note: str = ''


def _cls(name: str, tiny_cfg: str, note: str = '') -> Row:
    return Row(name, (pre(name), TEST), (demo(tiny_cfg), TEST), note)


def _upernet_vit(name: str, backbone: str, tiny_backbone: str) -> Row:
    return Row(name, (pre(backbone), seg(name), TEST),
               (demo(tiny_backbone),
                demo('upernet_vit_tiny_digits_ade20k', 'backbone', 'ade'),
                TEST))


ROWS: Dict[str, Row] = {row.name: row for row in [
    _cls('deit_s24', 'vit_tiny_digits'),
    _cls('deit_s24_diverse', 'vit_tiny_digits_diverse'),
    _cls('deit_b24', 'vit_tiny_digits'),
    _cls('deit_b24_diverse', 'vit_tiny_digits_diverse'),
    Row('deit_b24_diverse_released_refine',
        (pre('deit_b24_diverse_released'),
         pre('deit_b24_diverse_released_refine', 'resume'), TEST),
        (demo('vit_tiny_digits_diverse'),
         demo('vit_tiny_digits_diverse', 'resume', name='refine',
              options=('train_cfg.max_epochs=3', )), TEST)),
    _cls('swin_b', 'swin_tiny_digits'),
    _cls('swin_b_diverse', 'swin_tiny_digits',
         'no diverse Swin demo config: the plain tiny Swin'),
    Row('swin_l', (*SWIN_L, TEST), (demo('swin_tiny_digits'), TEST),
        NO_CONVERT),
    Row('swin_l_diverse', (SWIN_22K, pre('swin_l_diverse', 'model_init'),
                           TEST), (demo('swin_tiny_digits'), TEST),
        NO_CONVERT + '; no diverse Swin demo config'),
    Row('lvvit_s_token_labeling', (*FULL_TL, TEST), (*TINY_TL, TEST),
        'a tiny ResNet annotator trained first instead of NFNet-F6; a ViT '
        'instead of LV-ViT'),
    Row('deit3_b_in1k_ft224',
        (pre('deit3_b_in1k_192'), pre('deit3_b_in1k_ft224', 'model_init2'),
         TEST),
        (demo('deit3_tiny_digits'),
         demo('deit3_tiny_digits', 'load_from', name='ft224'), TEST),
        'the fine-tune stage re-runs the demo config from the first '
        "stage's weights (load_from); no resolution change"),
    Row('upernet_swin_l_ade20k_stage2',
        (*SWIN_L, seg('upernet_swin_l_ade20k'),
         seg('upernet_swin_l_ade20k_stage2', 'resume'), TEST),
        (demo('swin_tiny_digits'),
         demo('upernet_swin_tiny_digits_ade20k', 'backbone', 'ade'),
         demo('upernet_swin_tiny_digits_ade20k', 'resume', 'ade',
              name='stage2', options=('train_cfg.max_iters=4', )), TEST),
        NO_CONVERT),
    Row('upernet_swin_b_ade20k', (pre('swin_b'), seg('upernet_swin_b_ade20k'),
                                  TEST),
        (demo('swin_tiny_digits'),
         demo('upernet_swin_tiny_digits_ade20k', 'backbone', 'ade'), TEST)),
    _upernet_vit('upernet_deit_s24_ade20k', 'deit_s24', 'vit_tiny_digits'),
    _upernet_vit('upernet_deit_s24_diverse_ade20k', 'deit_s24_diverse',
                 'vit_tiny_digits_diverse'),
    _upernet_vit('upernet_deit_b24_ade20k', 'deit_b24', 'vit_tiny_digits'),
    _upernet_vit('upernet_deit_b24_diverse_ade20k', 'deit_b24_diverse',
                 'vit_tiny_digits_diverse'),
    Row('upernet_lvvit_s_ade20k',
        (*FULL_TL, seg('upernet_lvvit_s_ade20k'), TEST),
        (*TINY_TL, demo('upernet_vit_tiny_digits_ade20k', 'backbone', 'ade'),
         TEST), 'tiny ResNet annotator; a ViT instead of LV-ViT'),
    Row('upernet_swin_l_cityscapes',
        (*SWIN_L, seg('upernet_swin_l_cityscapes', layout='cityscapes'),
         TEST),
        (demo('vit_tiny_digits_diverse'),
         demo('upernet_vit_tiny_digits_cityscapes', 'backbone', 'cityscapes'),
         TEST),
        NO_CONVERT + '; the digits Cityscapes demo is a ViT UperNet, so a '
        'tiny ViT stands in for Swin-L'),
]}


def get_row(name: str) -> Row:
    """The row called ``name``; the error lists the rows."""
    if name not in ROWS:
        raise KeyError(f'unknown ROW {name!r}; rows: {", ".join(ROWS)} '
                       '(tools/reproduce.py --list)')
    return ROWS[name]
