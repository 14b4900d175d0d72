"""The on-disk layouts mmpretrain and mmseg read (ImageNet folders, ADE20K,
Cityscapes), written from the scans of :mod:`.scans` with fixed encoder
parameters so that the same arguments give the same bytes."""
import os
import os.path as osp
from typing import Dict, Sequence

import cv2
import numpy as np

from ..digit_scene_render import (
    ade_to_train_ids,
    render_scene,
    to_uint8,
    upscale,
)
from .scans import DIGIT_CLASSES, WNIDS

CITIES = ('digitown', 'numberg')
JPEG_PARAMS = [int(cv2.IMWRITE_JPEG_QUALITY), 95]
PNG_PARAMS = [int(cv2.IMWRITE_PNG_COMPRESSION), 3]


def _write(path: str, img: np.ndarray, ext: str, params: Sequence[int]):
    """Encode with OpenCV (RGB input for 3-channel images) and write."""
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(ext, img, list(params))
    if not ok:
        raise OSError(f'OpenCV could not encode {path}')
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(buf.tobytes())


# --------------------------------------------------------------------------
# Layouts
# --------------------------------------------------------------------------
def write_imagenet(root: str, scans: np.ndarray, labels: np.ndarray,
                   splits: Dict[str, np.ndarray], size: int) -> Dict[str, int]:
    """Write ``train/``, ``val/`` and ``meta/`` (see module docstring)."""
    counts = {}
    for split, idx in splits.items():
        lines = []
        for i in idx:
            rel = f'{WNIDS[labels[i]]}/digit_{i:05d}.JPEG'
            grey = to_uint8(upscale(scans[i], size) * 255.0)
            _write(
                osp.join(root, split, rel), np.repeat(grey[..., None], 3, 2),
                '.jpg', JPEG_PARAMS)
            lines.append(f'{rel} {labels[i]}')
        lines.sort()
        os.makedirs(osp.join(root, 'meta'), exist_ok=True)
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
        counts[split] = len(lines)
    with open(osp.join(root, 'meta', 'classes.txt'), 'w') as f:
        f.write('\n'.join(DIGIT_CLASSES) + '\n')
    return counts


def write_scenes(ade_root: str, city_root: str, scans: np.ndarray,
                 labels: np.ndarray, pool: np.ndarray, split: str, num: int,
                 scene_size: int, rng: np.random.Generator,
                 digit_size: int = 32) -> None:
    """Write ``num`` scenes of one split in both ADE20K and Cityscapes form."""
    ade_split = {'train': 'training', 'val': 'validation'}[split]
    for i in range(1, num + 1):
        img, mask = render_scene(rng, scans, labels, pool, scene_size,
                                 digit_size)
        name = f'ADE_{split}_{i:08d}'
        _write(
            osp.join(ade_root, 'images', ade_split, name + '.jpg'), img,
            '.jpg', JPEG_PARAMS)
        _write(
            osp.join(ade_root, 'annotations', ade_split, name + '.png'), mask,
            '.png', PNG_PARAMS)
        city = CITIES[(i - 1) % len(CITIES)]
        stem = f'{city}_000000_{i:06d}'
        _write(
            osp.join(city_root, 'leftImg8bit', split, city,
                     stem + '_leftImg8bit.png'), img, '.png', PNG_PARAMS)
        _write(
            osp.join(city_root, 'gtFine', split,
                     city, stem + '_gtFine_labelTrainIds.png'),
            ade_to_train_ids(mask), '.png', PNG_PARAMS)
