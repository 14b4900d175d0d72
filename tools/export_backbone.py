"""Export the backbone of a checkpoint trained here to timm's key layout.

    python tools/export_backbone.py work_dirs/deit_s24/epoch_300.pth \
        deit_s24_timm.pth
    python tools/export_backbone.py CKPT swin.safetensors --to safetensors

Works for mmpretrain ``VisionTransformer`` (ViT/DeiT), ``DeiT3`` /
``DeiT3ViT`` (timm ``no_embed_class=True``) and ``SwinTransformer``
backbones, of classifiers or UperNet segmentors (the ``backbone.*``
tensors; heads are not exported). The output is a plain tensor dict for
``timm.create_model(NAME, num_classes=0).load_state_dict(..., strict=True)``
(``--to safetensors``: a ``.safetensors`` file timm also reads). The inverse
of ``tools/convert_checkpoint.py``.
"""
import argparse
import json
import sys

import mmvitreg  # noqa: F401  (compat layer: safe checkpoint loading)
from mmvitreg.compat.checkpoint_loading import UntrustedCheckpointError
from mmvitreg.converters import CheckpointFormatError
from mmvitreg.converters.export import EXPORT_FORMATS, export_file
from mmvitreg.utils.finite import NonFiniteError


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('ckpt', help='checkpoint written by tools/train.py')
    p.add_argument('out', help='where to write the timm state dict')
    p.add_argument('--to', choices=EXPORT_FORMATS, default='timm',
                   help='timm: torch.save of the tensor dict (default); '
                   'safetensors: a .safetensors file')
    p.add_argument('--prefix', default='backbone.',
                   help="key prefix of the backbone (default 'backbone.')")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        result = export_file(args.ckpt, args.out, args.to, args.prefix)
    except (CheckpointFormatError, NonFiniteError, UntrustedCheckpointError,
            FileNotFoundError, ValueError) as err:
        sys.exit(f'export_backbone.py: error: {err}')
    print(f'{args.ckpt}: {result.layout} backbone -> {args.out} '
          f'({len(result.state_dict)} timm tensors, {args.to})')
    if result.dropped:
        print(f'  dropped (no timm counterpart): {", ".join(result.dropped)}')
    print(f'  arch: {json.dumps(result.arch)} (num_heads: the config\'s '
          'arch; not stored in the weights)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
