"""Convert a public ViT/DeiT/DeiT III/Swin/LV-ViT checkpoint to a slim
mmpretrain backbone checkpoint.

    python tools/convert_checkpoint.py deit_small.pth work/deit_s.pth
    python tools/convert_checkpoint.py swin_t.pth swin.pth --window-size 12
    python tools/convert_checkpoint.py vit.npz.pth vit512.pth --img-size 512
    python tools/convert_checkpoint.py lvvit_s-26M-224-83.3.pth.tar \
        lvvit_s_512.pth --img-size 512

The result, ``{'state_dict': {'backbone.<key>': tensor}, 'meta': {...}}``,
loads under torch's ``weights_only=True`` and with
``init_cfg=dict(type='Pretrained', checkpoint=DST, prefix='backbone.')``
into ``mmpretrain.VisionTransformer`` / ``DeiT3`` / ``SwinTransformer`` /
``LVViT`` backbones of classifiers or mmseg segmentors. Formats (``--type``):

* ``timm-vit``: timm ``VisionTransformer`` state dict;
* ``deit``: facebookresearch DeiT release (``{'model': timm names}``);
* ``deit3``: DeiT III release / timm ``no_embed_class`` (``pos_embed``
  without class-token entry);
* ``timm-swin`` / ``swin-official``: timm >= 0.9 / microsoft Swin releases;
* ``lvvit``: zihangJiang/TokenLabeling LV-ViT releases (convolutional stem;
  ``num_heads``/``skip_lam`` are not stored and are printed from the
  matching release definition);
* ``auto`` (default): read from the key names, and printed.
"""
import argparse
import json
import os
import sys

import mmvitreg  # noqa: F401  (compat layer: safe checkpoint loading)
from mmvitreg.compat.checkpoint_loading import (
    TRUST_ENV_VAR,
    UntrustedCheckpointError,
)
from mmvitreg.converters import FORMATS, CheckpointFormatError, convert_file


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('src', help='public checkpoint (.pth)')
    p.add_argument('dst', help='where to write the slim checkpoint')
    p.add_argument('--type',
                   default='auto',
                   choices=('auto', ) + FORMATS,
                   help='source format (auto: detect from key names)')
    p.add_argument('--img-size',
                   type=int,
                   nargs='+',
                   metavar=('H', 'W'),
                   help='resize position embeddings for this input size')
    p.add_argument('--patch-size',
                   type=int,
                   default=None,
                   help='ViT: resample the patch embedding to this size '
                   '(LV-ViT: its own size only)')
    p.add_argument('--window-size',
                   type=int,
                   default=None,
                   help='Swin: resize relative position tables to this '
                   'window (default: the checkpoint\'s)')
    p.add_argument('--prefix',
                   default='backbone.',
                   help="key prefix of the output (default 'backbone.'; '' "
                   'for none)')
    p.add_argument('--deit3-target',
                   choices=('deit3', 'vit'),
                   default='deit3',
                   help="DeiT III: write mmpretrain.DeiT3 keys (default) or "
                   "mmpretrain.VisionTransformer keys ('vit', exact "
                   'numerics, see mmvitreg/converters/timm_vit.py)')
    p.add_argument('--trust-checkpoint',
                   action='store_true',
                   help='allow arbitrary pickled objects in SRC (only for '
                   f'files you trust; same as {TRUST_ENV_VAR}=1)')
    args = p.parse_args(argv)
    if args.img_size is not None and len(args.img_size) > 2:
        p.error('--img-size takes H or H W')
    return args


def main(argv=None) -> dict:
    """Run the conversion; returns the saved ``meta``."""
    args = parse_args(argv)
    previous = os.environ.get(TRUST_ENV_VAR)
    if args.trust_checkpoint:  # for this call only
        os.environ[TRUST_ENV_VAR] = '1'
    try:
        result, saved = convert_file(args.src,
                                     args.dst,
                                     fmt=args.type,
                                     prefix=args.prefix,
                                     img_size=args.img_size,
                                     patch_size=args.patch_size,
                                     window_size=args.window_size,
                                     deit3_target=args.deit3_target)
    except (CheckpointFormatError, UntrustedCheckpointError, FileNotFoundError,
            ValueError) as err:
        sys.exit(f'convert_checkpoint.py: error: {err}')
    finally:
        if previous is None:
            os.environ.pop(TRUST_ENV_VAR, None)
        else:
            os.environ[TRUST_ENV_VAR] = previous
    meta = saved['meta']
    print(f'{args.src}: format {result.format} '
          f'({"detected" if args.type == "auto" else "given"}) -> '
          f'{result.target}')
    print(f'wrote {len(saved["state_dict"])} tensors to {args.dst} '
          f'(prefix {meta["prefix"]!r}); dropped {len(result.dropped)}: '
          f'{", ".join(result.dropped[:6])}'
          f'{" ..." if len(result.dropped) > 6 else ""}')
    for note in result.notes[1:]:
        print(f'  {note}')
    print(f'  arch: {json.dumps(result.arch)}')
    return meta


if __name__ == '__main__':
    main()
