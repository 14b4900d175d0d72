"""Prepare a checkpoint for release: weights and plain metadata only, the
sha256 prefix in the file name (OpenMMLab's publish_model.py convention).

    python tools/publish_checkpoint.py work_dirs/upernet/iter_160000.pth \
        release/upernet_deit_s24_ade20k.pth
    # -> release/upernet_deit_s24_ade20k-<sha256[:8]>.pth

Loads the source with the suite's safe loader, drops the optimizer, message
hub, parameter schedulers, EMA copy and resume state, refuses NaN/inf
weights (naming them), and writes a file that plain
``torch.load(weights_only=True)`` reads. Prints the final path.
"""
import argparse
import sys

import mmvitreg  # noqa: F401  (compat layer: safe checkpoint loading)
from mmvitreg.compat.checkpoint_loading import UntrustedCheckpointError
from mmvitreg.converters import CheckpointFormatError
from mmvitreg.converters.publish import publish
from mmvitreg.utils.finite import NonFiniteError


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('in_file', help='checkpoint written by tools/train.py')
    p.add_argument('out_file', help='output name; -<sha8>.pth is appended')
    args = p.parse_args(argv)
    try:
        result = publish(args.in_file, args.out_file)
    except (CheckpointFormatError, NonFiniteError, UntrustedCheckpointError,
            FileNotFoundError) as err:
        sys.exit(f'publish_checkpoint.py: error: {err}')
    print(f'dropped: {", ".join(result.dropped) or "-"}'
          + (f'; meta: {", ".join(result.dropped_meta)}'
             if result.dropped_meta else ''))
    print(f'sha256 {result.sha256}')
    print(result.path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
