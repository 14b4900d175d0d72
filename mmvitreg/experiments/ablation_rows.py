"""The controlled ablation's table: its rows and their schedule.

Each row is one recipe and names its control: the row it differs from in
exactly the thing the row names (a config file that inherits the control's
and adds one piece, or ``--cfg-options`` on the control's config). Every
row runs the same shortened schedule (``Schedule``) for every seed; seeds
change the data order and the initialisation (``randomness.seed``).
Adding a row is one line in ``ROWS``; ``ablation`` runs them and
``ablation_report`` summarises them. The depth rows (``*_24blocks``: the
same recipes at 24 blocks instead of 12, the papers' deep setting) cost
about 1.3x as much per run and are not in the default ``--rows``.
"""
from dataclasses import dataclass, replace
from typing import Dict, List, Optional, Sequence, Tuple

DEMO = 'configs/demo/'
VIT = DEMO + 'vit_tiny_digits.py'
PATCHMIX = DEMO + 'vit_tiny_digits_patchmix.py'
DIVERSE = DEMO + 'vit_tiny_digits_diverse.py'
TOKEN_LABELING = DEMO + 'vit_tiny_digits_token_labeling.py'
DEIT3 = DEMO + 'deit3_tiny_digits.py'
DEIT3_CE = DEMO + 'deit3_tiny_digits_ce.py'
ANNOTATOR = DEMO + 'resnet_tiny_digits_annotator.py'
ADE_VIT = DEMO + 'upernet_vit_tiny_digits_ade20k.py'
ADE_DEIT3 = DEMO + 'upernet_deit3_tiny_digits_ade20k.py'


DEPTH = 24  # the depth rows' blocks; the demo ViT has 12


def depth_options(blocks: int) -> Tuple[str, ...]:
    """``--cfg-options`` giving the demo ViT ``blocks`` blocks."""
    return (f'model.backbone.arch.num_layers={blocks}', )


def transfer_depth_options(blocks: int) -> Tuple[str, ...]:
    """The UperNet transfer of a ``blocks``-block backbone: same depth, and
    the neck reads the last block of each quarter, as the 12-block demo
    config's ``out_indices=(2, 5, 8, 11)`` does."""
    quarter = blocks // 4
    taps = ','.join(str(quarter * (i + 1) - 1) for i in range(4))
    return depth_options(blocks) + (f'model.backbone.out_indices=[{taps}]', )


def diverse_loss(key: str, loss_type: str, weight: float) -> Tuple[str, ...]:
    """``--cfg-options`` switching one patch loss on (the classifier becomes
    ``DiverseImageClassifier``, which without losses is ImageClassifier)."""
    return ('model.type=DiverseImageClassifier',
            f'model.{key}.type={loss_type}',
            f'model.{key}.loss_weight={weight}')


@dataclass(frozen=True)
class AblationRow:
    """One recipe: ``config`` + ``options``; ``control``: the row it
    differs from in exactly what ``note`` names."""
    name: str
    config: str
    control: Optional[str]
    note: str
    options: Tuple[str, ...] = ()
    transfer: Optional[str] = None  # ADE-layout UperNet config
    annotator: bool = False  # needs the seed's token-label store
    transfer_options: Tuple[str, ...] = ()  # --cfg-options of the transfer
    optional: bool = False  # not in the default --rows


ROWS: Dict[str, AblationRow] = {row.name: row for row in [
    AblationRow('baseline', VIT, None,
                'DeiT recipe shrunk to digits, CE + smoothing, no batch '
                'augment', transfer=ADE_VIT),
    AblationRow('patch_mixing', PATCHMIX, 'baseline',
                '+ PatchMixing augment (CutMix on the patch grid), no loss',
                transfer=ADE_VIT),
    AblationRow('cosine_0.03', VIT, 'baseline', '+ patch cosine loss 0.03',
                diverse_loss('cosine_loss', 'PatchCosineLoss', 0.03)),
    AblationRow('cosine_0.1', VIT, 'baseline', '+ patch cosine loss 0.1',
                diverse_loss('cosine_loss', 'PatchCosineLoss', 0.1),
                transfer=ADE_VIT),
    AblationRow('cosine_0.3', VIT, 'baseline', '+ patch cosine loss 0.3',
                diverse_loss('cosine_loss', 'PatchCosineLoss', 0.3)),
    AblationRow('contrastive', VIT, 'baseline',
                '+ patch contrastive loss 1.0',
                diverse_loss('contrastive_loss', 'PatchContrastiveLoss',
                             1.0)),
    AblationRow('mixing', PATCHMIX, 'patch_mixing',
                '+ patch mixing loss 1.0 (over the PatchMixing control)',
                diverse_loss('mixing_loss', 'PatchMixingLoss', 1.0)),
    AblationRow('diverse', DIVERSE, 'patch_mixing',
                '+ cosine 0.1, contrastive 1.0, mixing 1.0 (full-config '
                'weights) over the PatchMixing control', transfer=ADE_VIT),
    AblationRow('token_labeling', TOKEN_LABELING, 'baseline',
                'token labeling recipe: dense annotator labels + MixToken',
                transfer=ADE_VIT, annotator=True),
    AblationRow('token_labeling_no_mixtoken', TOKEN_LABELING,
                'token_labeling', 'token labeling without MixToken',
                ('model.mix_token=None', ), annotator=True),
    # deit3_ce pretrains only: three more 1000-iteration transfers did not
    # fit the 90-minute budget, so deit3's mIoU has no paired control
    AblationRow('deit3_ce', DEIT3_CE, None,
                'DeiT III recipe with CE + smoothing 0.1 instead of BCE'),
    AblationRow('deit3', DEIT3, 'deit3_ce',
                'DeiT III recipe (BCE) over its CE control',
                transfer=ADE_DEIT3),
]}


def deeper(row: AblationRow, control: str, note: str,
           blocks: int = DEPTH) -> AblationRow:
    """``row`` at ``blocks`` blocks (pretraining and transfer), named
    ``<row>_<blocks>blocks``, against ``control``; optional."""
    return replace(row, name=f'{row.name}_{blocks}blocks', control=control,
                   note=note, options=row.options + depth_options(blocks),
                   transfer_options=transfer_depth_options(blocks),
                   optional=True)


# the depth study: each deep row's control is its 12-block twin's control
# at 24 blocks, except the deep baseline's (the 12-block one)
ROWS.update({row.name: row for row in [
    deeper(ROWS['baseline'], 'baseline',
           f'baseline at {DEPTH} blocks instead of 12'),
    deeper(ROWS['patch_mixing'], f'baseline_{DEPTH}blocks',
           f'+ PatchMixing augment, no loss ({DEPTH} blocks)'),
    deeper(ROWS['diverse'], f'patch_mixing_{DEPTH}blocks',
           '+ cosine 0.1, contrastive 1.0, mixing 1.0 over the '
           f'PatchMixing control ({DEPTH} blocks)'),
]})
DEFAULT_ROWS: List[str] = [n for n, r in ROWS.items() if not r.optional]


WARMUP_ITERS = 30  # the demo UperNet configs' linear warm-up


@dataclass(frozen=True)
class Schedule:
    """The ablation's schedule, the same for every row and seed.

    Pretraining is shortened from the demo configs' 25 epochs to 15 (all
    rows x 3 seeds then fit in about 90 minutes on 2 cores); the transfer
    keeps the demo configs' 1000 iterations: at 500, the baseline was still
    on the fine-tuning plateau (14.1 mIoU, background only), so the column
    would measure nothing.
    """
    epochs: int = 15
    seg_iters: int = 1000

    def __post_init__(self):
        if self.epochs < 2:  # the cosine schedule starts after epoch 1
            raise ValueError(f'epochs must be >= 2, got {self.epochs}')
        if self.seg_iters <= WARMUP_ITERS:
            raise ValueError(f'seg_iters must exceed the {WARMUP_ITERS} '
                             f'warm-up iterations, got {self.seg_iters}')

    def pretrain_options(self) -> List[str]:
        e = self.epochs
        return [f'train_cfg.max_epochs={e}', f'train_cfg.val_interval={e}',
                f'default_hooks.checkpoint.interval={e}']

    def transfer_options(self) -> List[str]:
        n = self.seg_iters  # param_scheduler.1: the demo configs' PolyLR
        return [f'train_cfg.max_iters={n}', f'train_cfg.val_interval={n}',
                f'param_scheduler.1.end={n}',
                f'default_hooks.checkpoint.interval={n}']


def check_rows(names: Sequence[str]) -> List[AblationRow]:
    """The named rows; an unknown name is an error listing the known ones."""
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        raise ValueError(f'unknown ablation rows {unknown}; choose among '
                         f'{list(ROWS)}')
    return [ROWS[n] for n in names]
