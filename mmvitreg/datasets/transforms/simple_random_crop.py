"""Simple Random Crop (SRC) of DeiT III (Touvron et al., 2022)."""
from typing import Dict, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmpretrain.datasets.transforms import ResizeEdge
from mmpretrain.registry import TRANSFORMS

_PADDING_MODES = ('constant', 'edge', 'reflect', 'symmetric')


@TRANSFORMS.register_module()
class SimpleRandomCrop(BaseTransform):
    """Resize the shorter side to ``scale``, pad, take a random square crop.

    DeiT III's SRC, as released (facebookresearch/deit ``augment.py`` with
    ``--src``): ``Resize(S)`` (bicubic, aspect ratio kept) followed by
    ``RandomCrop(S, padding=4, padding_mode='reflect')``. For an image of
    size (H, W) with H <= W:

    1. resize to ``(S, int(S * W / H))`` (mmpretrain's :class:`ResizeEdge`,
       same truncation as torchvision's ``Resize``);
    2. pad ``padding`` pixels on every side -> ``(S + 2p, L + 2p)``;
    3. crop ``S x S`` at a top-left corner ``(y, x)`` drawn uniformly from
       ``{0..2p} x {0..L - S + 2p}``.

    The crop is always square, also for non-square images (the released
    behaviour): it then covers ``S^2 / ((S + 2p)(L + 2p))`` of the padded
    image, which is ``(S / (S + 2p))^2`` for square images and less otherwise;
    along the long side the crop can fall anywhere. Unlike mmpretrain's
    :class:`RandomCrop`, whose ``padding`` is always constant-padded
    (``padding_mode`` only applies to ``pad_if_needed``), the padding here
    uses ``padding_mode`` (``'reflect'``: no edge repeat, like torchvision).

    **Required Keys:** ``img``.

    **Modified Keys:** ``img``, ``img_shape``.

    **Added Keys:** ``scale``, ``scale_factor`` (of the resize, set by
    :class:`ResizeEdge`) and ``crop_bbox`` (``(x1, y1, x2, y2)``, exclusive
    end, in the coordinates of the padded resized image).

    Args:
        scale (int): Output size ``S`` (shorter side after the resize, and
            the side of the square crop).
        padding (int): Padding on each side. Defaults to 4.
        padding_mode (str): ``'reflect'``, ``'constant'``, ``'edge'`` or
            ``'symmetric'``. Defaults to ``'reflect'``.
        pad_val (int): Fill value of every channel when
            ``padding_mode='constant'``. Defaults to 0.
        backend (str): Resize backend, ``'pillow'`` (as released) or
            ``'cv2'``. Defaults to ``'pillow'``.
        interpolation (str): Resize interpolation. Defaults to ``'bicubic'``.
    """

    def __init__(self,
                 scale: int,
                 padding: int = 4,
                 padding_mode: str = 'reflect',
                 pad_val: int = 0,
                 backend: str = 'pillow',
                 interpolation: str = 'bicubic') -> None:
        if not isinstance(scale, int) or scale <= 0:
            raise ValueError('SimpleRandomCrop: `scale` must be a positive '
                             f'int, got {scale!r}')
        if not isinstance(padding, int) or padding < 0:
            raise ValueError('SimpleRandomCrop: `padding` must be an int '
                             f'>= 0, got {padding!r}')
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f'SimpleRandomCrop: `padding_mode` must be one '
                             f'of {_PADDING_MODES}, got {padding_mode!r}')
        self.scale = scale
        self.padding = padding
        self.padding_mode = padding_mode
        self.pad_val = pad_val
        self.resize = ResizeEdge(
            scale=scale,
            edge='short',
            backend=backend,
            interpolation=interpolation)

    @cache_randomness
    def _rand_offset(self, height: int, width: int) -> Tuple[int, int]:
        """Uniform top-left corner of an ``S x S`` crop in (height, width)."""
        y = np.random.randint(0, height - self.scale + 1)
        x = np.random.randint(0, width - self.scale + 1)
        return int(y), int(x)

    def transform(self, results: Dict) -> Dict:
        """Resize the short side, pad, random-crop a square."""
        if results.get('img') is None:
            raise ValueError('SimpleRandomCrop: results["img"] is missing')
        results = self.resize.transform(results)
        img = results['img']
        if self.padding > 0:
            # mmcv.impad hands a scalar to cv2, which fills channel 0 only
            pad_val = self.pad_val
            if img.ndim == 3:
                pad_val = (pad_val, ) * img.shape[2]
            img = mmcv.impad(
                img,
                padding=(self.padding, ) * 4,
                pad_val=pad_val,
                padding_mode=self.padding_mode)
        height, width = img.shape[:2]
        y, x = self._rand_offset(height, width)
        img = img[y:y + self.scale, x:x + self.scale].copy()
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['crop_bbox'] = (x, y, x + self.scale, y + self.scale)
        return results

    def __repr__(self) -> str:
        repr_str = self.__class__.__name__
        repr_str += f'(scale={self.scale}, '
        repr_str += f'padding={self.padding}, '
        repr_str += f'padding_mode={self.padding_mode}, '
        repr_str += f'pad_val={self.pad_val}, '
        repr_str += f'backend={self.resize.backend}, '
        repr_str += f'interpolation={self.resize.interpolation})'
        return repr_str
