"""The images of a split to annotate: listing and whole-image loading."""
import os
import os.path as osp
from typing import List, Optional, Tuple

import mmcv
import torch

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif',
                  '.tiff', '.webp')


def _ann_file_of(data_root: str, split: str,
                 ann_file: Optional[str]) -> Optional[str]:
    """``ann_file`` (as given or under the data root), else
    ``meta/<split>.txt`` when present, else None."""
    if ann_file is None:
        default = osp.join(data_root, 'meta', f'{split}.txt')
        return default if osp.isfile(default) else None
    if not osp.isfile(ann_file) and osp.isfile(osp.join(data_root, ann_file)):
        ann_file = osp.join(data_root, ann_file)
    if not osp.isfile(ann_file):
        raise FileNotFoundError(f'annotation file not found: {ann_file}')
    return ann_file


def list_images(data_root: str, split: str, ann_file: Optional[str] = None,
                limit: Optional[int] = None) -> Tuple[str, List[str]]:
    """``(image folder, keys)``; keys relative to ``<data_root>/<split>``,
    in the order of the annotation file (or sorted, without one).

    Raises:
        FileNotFoundError: The folder or the annotation file is missing.
        ValueError: No image is listed.
    """
    folder = osp.join(data_root, split)
    if not osp.isdir(folder):
        raise FileNotFoundError(f'image folder not found: {folder}')
    ann_file = _ann_file_of(data_root, split, ann_file)
    if ann_file is not None:
        with open(ann_file) as f:
            keys = [line.split()[0] for line in f if line.strip()]
    else:
        keys = sorted(
            osp.relpath(osp.join(d, n), folder).replace(os.sep, '/')
            for d, _, names in os.walk(folder) for n in names
            if n.lower().endswith(IMG_EXTENSIONS))
    if not keys:
        raise ValueError(f'no images listed for split {split!r} under '
                         f'{folder}' + (f' ({ann_file})' if ann_file else ''))
    return folder, keys[:limit] if limit else keys


class ImageList(torch.utils.data.Dataset):
    """Whole images resized to ``S x S``: ``(key, uint8 (3, S, S) BGR)``.

    The whole image (no crop) so that the score map covers all of it, as
    the token-label crop transforms assume.
    """

    def __init__(self, folder: str, keys: List[str], size: int):
        self.folder, self.keys, self.size = folder, keys, size

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, i: int) -> Tuple[str, torch.Tensor]:
        path = osp.join(self.folder, self.keys[i])
        img = mmcv.imread(path, channel_order='bgr')
        if img is None:
            raise OSError(f'cannot read image {path}')
        img = mmcv.imresize(img, (self.size, self.size))
        return self.keys[i], torch.from_numpy(img).permute(2, 0, 1)
