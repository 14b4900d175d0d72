"""Predict with a trained model: OpenMMLab's inferencers on suite configs.

    python tools/infer.py CONFIG CKPT IMAGE [IMAGE ...] [--out-dir D]
        [--device cpu|cuda] [--cfg-options k=v ...]

Classifiers (``default_scope='mmpretrain'``): mmpretrain's
``ImageClassificationInferencer``; prints, per image, the class, its index
and score; with ``--out-dir`` also writes each image with its label painted
(``D/<image name>``).

Segmenters (``default_scope='mmseg'``): mmseg's ``MMSegInferencer``;
writes the mask ``D/pred/<n>_pred.png`` (class indices 0 .. C-1, in the
order of the images; not the dataset label format of ``tools/test.py
--out``) and the overlay ``D/vis/<image name>``; ``D`` defaults to
``work_dirs/infer/<config name>``.

The checkpoint is loaded strictly (any missing or unexpected key is an
error naming the file); an image that cannot be read is named.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

import mmvitreg  # noqa: E402,F401  (compat layer before mmseg, registration)
from mmvitreg.cli import task_of  # noqa: E402
from mmvitreg.cli.inference import build_inferencer, check_images_readable  # noqa: E402
from mmvitreg.utils.config import load_config  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Predict classes or masks for images with a trained '
        'model', formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('config', help='the config the model was trained '
                        'with')
    parser.add_argument('checkpoint', help='trained checkpoint (.pth)')
    parser.add_argument('images', nargs='+', metavar='IMAGE',
                        help='image files')
    parser.add_argument(
        '--out-dir', help='classifiers: painted images (none if not given); '
        'segmenters: pred/ masks and vis/ overlays (default '
        'work_dirs/infer/<config name>)')
    parser.add_argument('--device', default=None,
                        help="torch device; None: 'cuda' if available, "
                        "else 'cpu'")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config')
    return parser.parse_args(argv)


def _classify(inferencer, args) -> list:
    kwargs = dict(show_dir=args.out_dir) if args.out_dir else {}
    results = inferencer(args.images, **kwargs)
    for image, result in zip(args.images, results, strict=True):
        print(f'{image}: {result.get("pred_class", "-")} (class '
              f'{result["pred_label"]}) score {result["pred_score"]:.4f}')
    return results


def _segment(inferencer, args, cfg) -> list:
    out_dir = args.out_dir or osp.join(
        'work_dirs', 'infer', osp.splitext(osp.basename(args.config))[0])
    results = inferencer(args.images, out_dir=out_dir)
    masks = results['predictions']
    masks = masks if isinstance(masks, list) else [masks]
    for i, image in enumerate(args.images):
        print(f'{image}: mask {osp.join(out_dir, "pred", f"{i:08d}_pred.png")}'
              f', overlay {osp.join(out_dir, "vis", osp.basename(image))}')
    return masks


def main(argv=None) -> list:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    check_images_readable(args.images)
    device = args.device
    if device is None:
        import torch
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    inferencer = build_inferencer(cfg, args.checkpoint, device)
    if task_of(cfg) == 'cls':
        return _classify(inferencer, args)
    return _segment(inferencer, args, cfg)


if __name__ == '__main__':
    main()
