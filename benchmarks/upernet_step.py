"""UperNet timing (not a test): inference throughput of whole-image vs
sliding-window inference, and the training step of ``DiverseEncoderDecoder``
with the patch cosine loss on vs off.

The model is a segmentation config's (``--config``, default the DeiT-S24
ADE20K one) with SyncBN reverted to BN (no process group on one CPU);
inputs are random uint8 images of ``crop x 4/3 crop`` (the ADE20K test
aspect) for inference, and ``crop x crop`` with random labels for training.
Slide uses the config's crop with stride ``2/3`` of it (the LV-ViT UperNet
config's 512/341), i.e. two windows side by side.

    python benchmarks/upernet_step.py [--config C] [--device cpu]
        [--steps 3] [--warmup 1]
"""
import argparse
import os.path as osp
import time
from typing import Callable, Optional, Tuple

import torch

import mmvitreg  # noqa: F401  (compat layer and registries first)

# isort: split
from mmengine.config import Config, ConfigDict
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmvitreg.models.utils import model_config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/seg/upernet_deit_s24_ade20k.py'


def seg_model(config: str, device, options: Optional[dict] = None):
    """The segmentor of ``config`` (relative to the repository), BN for
    SyncBN, with dotted ``options`` merged; no pretrained weights."""
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.merge_from_dict({'model.backbone.init_cfg': None, **(options or {})})
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(model_config(cfg))
    return revert_sync_batchnorm(model).to(device)


def crop_size(model) -> Tuple[int, int]:
    """The training crop, from the data preprocessor's ``size``."""
    return tuple(model.data_preprocessor.size)


def seg_batch(size: Tuple[int, int], batch_size: int, num_classes: int,
              labels: bool) -> dict:
    """uint8 images (and random label maps) as the loader hands them."""
    samples = []
    for _ in range(batch_size):
        sample = SegDataSample(metainfo=dict(img_shape=size, ori_shape=size,
                                             pad_shape=size))
        if labels:
            sample.gt_sem_seg = PixelData(
                data=torch.randint(0, num_classes, (1, *size)))
        samples.append(sample)
    images = torch.randint(0, 256, (batch_size, 3, *size), dtype=torch.uint8)
    return dict(inputs=list(images), data_samples=samples)


def inference_step(model, mode: str, batch_size: int = 1) -> Callable:
    """One ``test_step`` in ``'whole'`` or ``'slide'`` mode on an image of
    the ADE20K test aspect (``crop x 4/3 crop``)."""
    crop = crop_size(model)
    size = (crop[0], crop[1] * 4 // 3)
    model.test_cfg = ConfigDict(mode='whole') if mode == 'whole' else \
        ConfigDict(mode='slide', crop_size=crop,
                   stride=(crop[0] * 2 // 3, crop[1] * 2 // 3))
    model.eval()
    num_classes = model.decode_head.num_classes
    data = seg_batch(size, batch_size, num_classes, labels=False)

    def step():
        with torch.no_grad():
            model.test_step(data)

    return step


def train_step(model, batch_size: int = 2) -> Callable:
    """One ``train_step`` (preprocessor, forward, backward, AdamW)."""
    model.train()
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=6e-5))
    data = seg_batch(crop_size(model), batch_size,
                     model.decode_head.num_classes, labels=True)

    def step():
        model.train_step(data, optim)

    return step


def interleaved_seconds(steps: dict, repeats: int, warmup: int) -> dict:
    """Median seconds of each named step, run alternately (a shared
    machine's slow phases then hit every variant alike)."""
    times = {name: [] for name in steps}
    for i in range(warmup + repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            if i >= warmup:
                times[name].append(time.perf_counter() - start)
    return {name: sorted(v)[len(v) // 2] for name, v in times.items()}


def measure(config: str, device, steps: int, warmup: int,
            options: Optional[dict] = None) -> dict:
    """Seconds per step: ``whole``/``slide`` inference and ``plain`` /
    ``diverse`` (``PatchCosineLoss`` on) training."""
    model = seg_model(config, device, options)
    infer = interleaved_seconds(
        {mode: inference_step(model, mode) for mode in ('whole', 'slide')},
        steps, warmup)
    diverse = seg_model(config, device, {
        **(options or {}), 'model.diversity_loss': dict(
            type='PatchCosineLoss')})
    diverse.load_state_dict(seg_model(config, device, options).state_dict())
    train = interleaved_seconds(
        dict(plain=train_step(seg_model(config, device, options)),
             diverse=train_step(diverse)), steps, warmup)
    return dict(infer, **train)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=CONFIG)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    args = parser.parse_args()
    sec = measure(args.config, torch.device(args.device), args.steps,
                  args.warmup)
    print(f'{args.config} on {args.device}:')
    print(f'  inference whole {sec["whole"]:.3f} s, slide '
          f'{sec["slide"]:.3f} s: throughput slide/whole '
          f'{sec["whole"] / sec["slide"]:.3f}')
    print(f'  train step plain {sec["plain"]:.3f} s, diverse '
          f'{sec["diverse"]:.3f} s: diverse/plain '
          f'{sec["diverse"] / sec["plain"]:.3f}')


if __name__ == '__main__':
    main()
