"""DeiT III's 3-Augment per image: mmvitreg's ``ThreeAugment`` vs the
released torchvision pipeline (not a test).

The released ``new_data_aug_generator`` (facebookresearch/deit
``augment.py``) applies ``RandomChoice([Grayscale(3), Solarization,
GaussianBlur])`` then ``ColorJitter(0.3, 0.3, 0.3)`` to a PIL image; here
torchvision's ``RandomSolarize(128, p=1)`` and ``GaussianBlur(9, (0.1,
2.0))`` stand in for deit's own PIL ops. Both run single-threaded (as in a
loader worker) on the same random crops; medians of interleaved repeats.
Prints ms per image of each and the ratio ours / torchvision, which tells
whether the 3-Augment loader's cost (``run_all.py``:
``loader_throughput_ratio_three_augment_vs_plain``) is the recipe's or
this implementation's.

    python benchmarks/three_augment_op.py [--size 224] [--images 200]
"""
import argparse
import os.path as osp
import sys
import time

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import mmvitreg  # noqa: E402,F401  (registration)

# isort: split
import torchvision.transforms as T  # noqa: E402
from PIL import Image  # noqa: E402

from mmvitreg.datasets.transforms import ThreeAugment  # noqa: E402


def measure(size: int, images: int, repeats: int = 5) -> dict:
    """Median ms per image of ``ours`` and ``torchvision``."""
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    crops = [rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
             for _ in range(images)]
    pil = [Image.fromarray(c[..., ::-1]) for c in crops]  # BGR -> RGB
    ours = ThreeAugment(color_jitter=0.3)
    released = T.Compose([
        T.RandomChoice([T.Grayscale(3), T.RandomSolarize(128, p=1.0),
                        T.GaussianBlur(9, (0.1, 2.0))]),
        T.ColorJitter(0.3, 0.3, 0.3)
    ])
    runs = {
        'ours': lambda: [ours.transform({'img': c.copy()}) for c in crops],
        'torchvision': lambda: [released(p) for p in pil],
    }
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - start) / images)
    return {name: 1e3 * sorted(v)[len(v) // 2] for name, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--images', type=int, default=200)
    args = parser.parse_args()
    ms = measure(args.size, args.images)
    ratio = ms['ours'] / ms['torchvision']
    print(f'{args.size} px, {args.images} images, 1 thread: ours '
          f'{ms["ours"]:.2f} ms, torchvision {ms["torchvision"]:.2f} ms per '
          f'image; ratio ours / torchvision {ratio:.3f}')


if __name__ == '__main__':
    main()
