"""One stage of a paper row, and the command line that runs it.

A row is a linear chain of stages; each stage consumes the output of the
one before it (its *hand-off*) and is run as one process through the
suite's own tools and launchers (``tools/train.py`` / ``dist_train.sh`` /
``slurm_train.sh``, ``tools/test.py`` / ``dist_test.sh`` /
``slurm_test.sh``, ``tools/convert_checkpoint.py``,
``tools/generate_token_labels.py``, ``tools/prepare_digits.py``).
"""
import os.path as osp
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

#: How a stage's predecessor output enters its command.
HANDOFFS = {
    # a pretrained backbone for a segmentor / fine-tune
    'backbone': 'model.backbone.init_cfg.checkpoint={}',
    # the whole model, e.g. DeiT III 192 px -> 224 px (init_cfg list item 2)
    'model_init2': 'model.init_cfg.2.checkpoint={}',
    # a converted 22k Swin checkpoint for swin_l (model-level Pretrained)
    'model_init': 'model.init_cfg.checkpoint={}',
    # a token-label store for the token-labeling pipeline (step 1)
    'store': 'train_dataloader.dataset.pipeline.1.store_root={}',
    # a whole checkpoint as initial weights (configs without a Pretrained)
    'load_from': 'load_from={}',
}
KINDS = ('train', 'test', 'convert', 'generate', 'prepare')
LAUNCHERS = ('none', 'pytorch', 'slurm')


@dataclass(frozen=True)
class Stage:
    """One process of a row's chain.

    Attributes:
        kind: ``train``, ``test`` (evaluates the previous stage's
            checkpoint with ``config``), ``convert``, ``generate`` (token
            labels) or ``prepare`` (the digits data, ``--tiny`` only).
        config: the config (train/test) or annotator (generate: a config,
            or a timm model name with ``inputs``).
        handoff: how the previous output enters (:data:`HANDOFFS` key,
            ``'resume'`` to continue the previous run, ``'annotator'`` for
            generate, ``''`` for none).
        options: extra ``--cfg-options`` (train/test) or arguments.
        inputs: external files this stage reads: ``{name: default path}``
            (``--input name=PATH`` overrides).
        layout: data layout of the config (``imagenet``, ``ade``,
            ``cityscapes``), for ``--tiny``'s data options.
    """
    kind: str
    config: str = ''
    handoff: str = ''
    options: Tuple[str, ...] = ()
    inputs: Tuple[Tuple[str, str], ...] = ()
    layout: str = 'imagenet'
    name: str = ''

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f'stage kind must be one of {KINDS}, got '
                             f'{self.kind!r}')
        if self.handoff not in ('', 'resume', 'annotator', *HANDOFFS):
            raise ValueError(f'unknown hand-off {self.handoff!r}')

    @property
    def dir_name(self) -> str:
        """The stage's folder name: its config's stem unless named."""
        if self.name:
            return self.name
        return osp.splitext(osp.basename(self.config))[0] or self.kind


@dataclass
class Launch:
    """How train/test processes start: ``launcher`` none (one process),
    ``pytorch`` (torchrun, ``gpus`` processes) or ``slurm``
    (``partition``, ``gpus`` tasks)."""
    launcher: str = 'none'
    gpus: int = 1
    partition: str = ''
    python: str = sys.executable

    def __post_init__(self):
        if self.launcher not in LAUNCHERS:
            raise ValueError(f'--launcher must be one of {LAUNCHERS}')
        if self.launcher == 'slurm' and not self.partition:
            raise ValueError('--launcher slurm needs --partition')

    def env(self) -> Dict[str, str]:
        """Environment additions (Slurm scripts read ``GPUS``)."""
        return {'GPUS': str(self.gpus)} if self.launcher == 'slurm' else {}


def _cfg_options(options: List[str]) -> List[str]:
    return ['--cfg-options', *options] if options else []


def train_command(launch: Launch, config: str, work_dir: str,
                  resume: Optional[str], options: List[str],
                  job: str, extra: Tuple[str, ...] = ()) -> List[str]:
    """``tools/train.py`` through the chosen launcher. ``resume``:
    ``'auto'`` (latest in ``work_dir``), a checkpoint, or None."""
    args = list(extra)
    if resume == 'auto':
        args.append('--resume')
    elif resume:
        args += ['--resume', resume]
    args += _cfg_options(options)
    if launch.launcher == 'pytorch':
        return ['bash', 'tools/dist_train.sh', config, str(launch.gpus),
                '--work-dir', work_dir, *args]
    if launch.launcher == 'slurm':
        return ['bash', 'tools/slurm_train.sh', launch.partition, job, config,
                work_dir, *args]
    return [launch.python, 'tools/train.py', config, '--work-dir', work_dir,
            *args]


def test_command(launch: Launch, config: str, checkpoint: str,
                 work_dir: str, options: List[str], job: str) -> List[str]:
    """``tools/test.py`` through the chosen launcher."""
    args = ['--work-dir', work_dir, *_cfg_options(options)]
    if launch.launcher == 'pytorch':
        return ['bash', 'tools/dist_test.sh', config, checkpoint,
                str(launch.gpus), *args]
    if launch.launcher == 'slurm':
        return ['bash', 'tools/slurm_test.sh', launch.partition, job, config,
                checkpoint, *args]
    return [launch.python, 'tools/test.py', config, checkpoint, *args]
