"""Every benchmark in one run, every ratio in one JSON (not a test).

Runs, through the functions of the other benchmark scripts:

* ``patch_diversity_step``: train steps of timm's ViT vs the suite's
  baseline (``configs/pretrain/deit_s24.py``), and of
  ``deit_s24_diverse.py`` with each diversity loss alone and all three;
* ``token_labeling_step``: ``deit_s_token_labeling.py`` as a plain
  classifier, with the dense head, and with the dense head + MixToken;
* activation memory of each objective: bytes of the tensors autograd saves
  for backward in one loss forward (``saved_activation_bytes``: deduplicated
  by storage, parameters excluded; device-independent, not RSS);
* ``token_label_loader``: loader images/s with token labels (per batch, as
  the full configs, and per sample) and with 3-Augment, vs the plain loader;
* ``upernet_step``: UperNet inference throughput, slide vs whole, and the
  ``DiverseEncoderDecoder`` train step with / without the cosine loss.

Step-time ratios are medians of interleaved steps. Sizes: default = the
README's (DeiT-S24 at 224 px, batch 8, 3 steps; UperNet DeiT-S24 at 512 px;
ImageNet-like loader sizes); ``--small`` = DeiT-S24 at 224 px, batch 4,
7 steps after 2 warm-up steps (with 2 steps the ratios swung from 0.63 to
1.69), the digits loader and the demo UperNet (134 s on 2 CPU cores);
``--tiny`` = 2-block width-32 models at 32 px, seconds (the test).

    python benchmarks/run_all.py [--device cpu|cuda] [--small|--tiny]
        --json OUT
"""
import argparse
import json
import math
import os.path as osp
import sys
import time

import torch
from mmengine.registry import init_default_scope

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import patch_diversity_step as pds  # noqa: E402
import token_label_loader as tll  # noqa: E402
import token_labeling_step as tls  # noqa: E402
import upernet_step as ups  # noqa: E402

DIVERSE = 'configs/pretrain/deit_s24_diverse.py'
BASELINE = 'configs/pretrain/deit_s24.py'
#: diversity objective -> the losses switched off in ``DIVERSE``
DIVERSITY = {
    'cosine': ('contrastive_loss', 'mixing_loss'),
    'contrastive': ('cosine_loss', 'mixing_loss'),
    'mixing': ('cosine_loss', 'contrastive_loss'),
    'all_diversity': (),
}
TINY_ARCH = dict(embed_dims=32, num_layers=2, num_heads=2,
                 feedforward_channels=128)
SIZES = {
    'tiny': dict(
        img_size=32, batch_size=2, steps=1, warmup=0,
        cls_options={'model.backbone.arch': TINY_ARCH,
                     'model.backbone.img_size': 32,
                     'model.head.in_channels': 32,
                     'model.dense_head.in_channels': 32},
        timm_kwargs=dict(depth=2, embed_dim=32, num_heads=2),
        loader_args=['--images', '16', '--batch-size', '8',
                     '--repeats', '1'],
        seg_config='configs/demo/upernet_vit_tiny_digits_ade20k.py',
        seg_options={}),
    'small': dict(
        img_size=224, batch_size=4, steps=7, warmup=2, cls_options={},
        timm_kwargs={}, loader_args=['--images', '512', '--repeats', '2'],
        seg_config='configs/demo/upernet_vit_tiny_digits_ade20k.py',
        seg_options={}),
    'full': dict(
        img_size=224, batch_size=8, steps=3, warmup=1, cls_options={},
        timm_kwargs={},
        loader_args=['--image-size', '500', '375', '--scale', '224',
                     '--num-classes', '1000', '--grid', '14',
                     '--map-size', '18'],
        seg_config=ups.CONFIG, seg_options={}),
}


def _cls_options(size: dict, config: str) -> dict:
    """The size's overrides that exist in ``config``'s model."""
    options = dict(size['cls_options'])
    if config != tls.CONFIG:
        options.pop('model.dense_head.in_channels', None)
    return options


def diversity_ratios(size: dict, device) -> dict:
    """Step-time and activation-memory ratios of the diversity objectives
    (and of the suite's baseline step against timm's)."""
    batch, img = size['batch_size'], size['img_size']
    models = {'baseline': pds.suite_model(
        BASELINE, device, _cls_options(size, BASELINE))}
    for name, off in DIVERSITY.items():
        options = _cls_options(size, DIVERSE)
        options.update({f'model.{key}': None for key in off})
        models[name] = pds.suite_model(DIVERSE, device, options)
    steps = {name: pds.suite_step(model, batch, img)
             for name, model in models.items()}
    steps['timm'] = pds.timm_step(device, batch, img, size['timm_kwargs'])
    sec = ups.interleaved_seconds(steps, size['steps'], size['warmup'])
    mem = {name: pds.saved_activation_bytes(model,
                                            pds.suite_batch(batch, img))
           for name, model in models.items()}
    out = {'step_time_ratio_suite_vs_timm': sec['baseline'] / sec['timm']}
    for name in DIVERSITY:
        out[f'step_time_ratio_{name}_vs_baseline'] = (sec[name] /
                                                      sec['baseline'])
        out[f'activation_memory_ratio_{name}_vs_baseline'] = (
            mem[name] / mem['baseline'])
    return out


def token_labeling_ratios(size: dict, device) -> dict:
    """Token labeling (dense head) and MixToken (dense head + MixToken)
    against the same model as a plain classifier."""
    img = size['img_size']
    grid = (img // 16, img // 16)
    variants = tls.build_variants(device, _cls_options(size, tls.CONFIG))

    def batch():
        return tls.make_batch(size['batch_size'], img, grid)

    times, _ = tls.time_variants(variants, batch, size['steps'],
                                 size['warmup'], device)
    sec = {name: sorted(v)[len(v) // 2] for name, v in times.items()}
    mem = {name: pds.saved_activation_bytes(model, batch())
           for name, (model, _) in variants.items()}
    out = {}
    for key, name in (('token_labeling', 'dense'),
                      ('mixtoken', 'dense+mixtoken')):
        out[f'step_time_ratio_{key}_vs_baseline'] = (sec[name] /
                                                     sec['baseline'])
        out[f'activation_memory_ratio_{key}_vs_baseline'] = (
            mem[name] / mem['baseline'])
    return out


def loader_ratios(size: dict) -> dict:
    """Loader images/s against the plain loader."""
    init_default_scope('mmpretrain')  # (upernet_step set mmseg's)
    threads = torch.get_num_threads()
    try:
        best = tll.measure(tll.parse_args(size['loader_args']))
    finally:
        torch.set_num_threads(threads)
    return {
        'loader_throughput_ratio_token_labels_vs_plain':
        best['token-batch'] / best['plain'],
        'loader_throughput_ratio_token_labels_per_sample_vs_plain':
        best['token'] / best['plain'],
        'loader_throughput_ratio_three_augment_vs_plain':
        best['three-augment'] / best['plain'],
    }


def upernet_ratios(size: dict, device) -> dict:
    """UperNet slide vs whole inference throughput; the diverse
    segmentor's train step time against the plain one's."""
    sec = ups.measure(size['seg_config'], device, size['steps'],
                      size['warmup'], size['seg_options'])
    return {
        'upernet_inference_throughput_ratio_slide_vs_whole':
        sec['whole'] / sec['slide'],
        'diverse_encoder_decoder_step_time_ratio':
        sec['diverse'] / sec['plain'],
    }


def run(size_name: str, device) -> dict:
    """All ratios (plus the settings) for one size."""
    size = SIZES[size_name]
    start = time.perf_counter()
    result = {}
    result.update(diversity_ratios(size, device))
    result.update(token_labeling_ratios(size, device))
    result.update(upernet_ratios(size, device))
    result.update(loader_ratios(size))
    bad = [k for k, v in result.items() if not (math.isfinite(v) and v > 0)]
    if bad:
        raise RuntimeError(f'run_all: non-positive or non-finite {bad}')
    result['settings'] = dict(
        size=size_name, device=str(device),
        torch_threads=torch.get_num_threads(),
        seconds=round(time.perf_counter() - start, 1),
        **{k: v for k, v in size.items() if k in (
            'img_size', 'batch_size', 'steps', 'warmup', 'seg_config')})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument('--small', action='store_true')
    sizes.add_argument('--tiny', action='store_true',
                       help='2-block models at 32 px: seconds (tests)')
    parser.add_argument('--json', required=True, help='output file')
    args = parser.parse_args()
    size = 'tiny' if args.tiny else 'small' if args.small else 'full'
    result = run(size, torch.device(args.device))
    with open(args.json, 'w') as f:
        json.dump(result, f, indent=1, sort_keys=True)
    for key, value in sorted(result.items()):
        if key != 'settings':
            print(f'{key}: {value:.3f}')
    print(f'written to {args.json} ({result["settings"]["seconds"]} s)')


if __name__ == '__main__':
    main()
