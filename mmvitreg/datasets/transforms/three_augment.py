"""3-Augment, the data augmentation of DeiT III (Touvron et al., 2022)."""
from typing import Dict, Optional, Sequence, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms.utils import cache_randomness
from mmpretrain.datasets.transforms import ColorJitter
from mmpretrain.registry import TRANSFORMS
from PIL import Image, ImageFilter


def grayscale(img: np.ndarray) -> np.ndarray:
    """Grayscale keeping 3 channels: ``Y = 0.299 R + 0.587 G + 0.114 B``.

    Exactly PIL's ``convert('L')``, which torchvision's ``Grayscale(3)``
    (the released 3-Augment) calls: ITU-R 601-2 luma in PIL's integer
    arithmetic, ``(R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16``.
    (OpenCV's ``cvtColor``, behind ``mmcv.bgr2gray``, rounds differently
    and is one grey level off on about 0.13% of colours.)
    ``img``: (H, W, 3) uint8, BGR.
    """
    if img.dtype != np.uint8:
        raise ValueError('ThreeAugment grayscale expects a uint8 image, '
                         f'got {img.dtype}')
    b, g, r = (img[..., i].astype(np.uint32) for i in range(3))
    luma = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16
    return np.repeat(luma.astype(np.uint8)[..., None], 3, axis=2)


def solarize(img: np.ndarray, thr: float) -> np.ndarray:
    """Solarization: ``p -> 255 - p`` where ``p >= thr``, else unchanged."""
    return mmcv.solarize(img, thr=thr).astype(img.dtype)


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """PIL Gaussian blur with standard deviation (PIL "radius") ``sigma``.

    Channel-wise, so the BGR order of ``img`` does not matter.
    """
    pil_img = Image.fromarray(img).filter(ImageFilter.GaussianBlur(sigma))
    return np.asarray(pil_img, dtype=img.dtype).copy()


@TRANSFORMS.register_module()
class ThreeAugment(BaseTransform):
    """3-Augment of DeiT III: one of grayscale / solarization / Gaussian blur,
    chosen uniformly per image, then colour jitter.

    Follows ``new_data_aug_generator`` of facebookresearch/deit
    (``augment.py``): ``RandomChoice([Grayscale(3), Solarization,
    GaussianBlur])`` with every op applied with probability 1, followed by
    ``ColorJitter(cj, cj, cj)`` (no hue). RandomResizedCrop (or
    :class:`SimpleRandomCrop`) and the horizontal flip are separate
    transforms placed before this one in the pipeline, as in the release.

    - ``grayscale``: ``Y = 0.299 R + 0.587 G + 0.114 B`` copied to 3 channels.
    - ``solarize``: pixels ``>= solarize_thr`` become ``255 - p``.
    - ``gaussian_blur``: ``sigma ~ U[blur_sigma[0], blur_sigma[1]]``.
    - colour jitter: mmpretrain's :class:`ColorJitter` (PIL backend,
      brightness/contrast/saturation factors ``~ U[1 - cj, 1 + cj]`` applied
      in random order, like torchvision's).

    Randomness comes from numpy's global RNG (as in mmcv/mmpretrain
    transforms), so ``mmengine.runner.set_random_seed`` and mmengine's
    data-loader worker seeding make it reproducible.

    **Required Keys:** ``img`` ((H, W, 3) uint8, BGR as loaded by mmcv).

    **Modified Keys:** ``img``.

    **Added Keys:** ``three_augment`` (name of the op applied) and
    ``three_augment_sigma`` (blur sigma, ``None`` unless blurred).

    Args:
        color_jitter (float): Brightness, contrast and saturation jitter
            strength; 0 disables the jitter. Defaults to 0.3 (DeiT III).
        solarize_thr (float): Solarization threshold. Defaults to 128.
        blur_sigma (Sequence[float]): Range ``(min, max)`` of the Gaussian
            blur sigma. Defaults to (0.1, 2.0).
    """

    OPS: Tuple[str, ...] = ('grayscale', 'solarize', 'gaussian_blur')

    def __init__(self,
                 color_jitter: float = 0.3,
                 solarize_thr: float = 128,
                 blur_sigma: Sequence[float] = (0.1, 2.0)) -> None:
        if color_jitter is None or color_jitter < 0:
            raise ValueError('ThreeAugment: `color_jitter` must be a number '
                             f'>= 0 (0 disables it), got {color_jitter!r}')
        if len(blur_sigma) != 2 or not 0 < blur_sigma[0] <= blur_sigma[1]:
            raise ValueError('ThreeAugment: `blur_sigma` must be (min, max) '
                             f'with 0 < min <= max, got {blur_sigma!r}')
        self.color_jitter = float(color_jitter)
        self.solarize_thr = solarize_thr
        self.blur_sigma = (float(blur_sigma[0]), float(blur_sigma[1]))
        self.jitter: Optional[ColorJitter] = None
        if self.color_jitter > 0:
            self.jitter = ColorJitter(
                brightness=self.color_jitter,
                contrast=self.color_jitter,
                saturation=self.color_jitter)

    @cache_randomness
    def _rand_params(self) -> Tuple[str, Optional[float]]:
        """Draw the op (uniform over :attr:`OPS`) and, for blur, sigma."""
        op = self.OPS[np.random.randint(len(self.OPS))]
        sigma = None
        if op == 'gaussian_blur':
            sigma = float(np.random.uniform(*self.blur_sigma))
        return op, sigma

    def transform(self, results: Dict) -> Dict:
        """Apply one of the three ops, then the colour jitter."""
        img = results.get('img')
        if img is None or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(
                'ThreeAugment expects results["img"] of shape (H, W, 3), got '
                f'{None if img is None else img.shape}')
        op, sigma = self._rand_params()
        if op == 'grayscale':
            img = grayscale(img)
        elif op == 'solarize':
            img = solarize(img, self.solarize_thr)
        else:
            img = gaussian_blur(img, sigma)
        results['img'] = img
        results['three_augment'] = op
        results['three_augment_sigma'] = sigma
        if self.jitter is not None:
            results = self.jitter.transform(results)
        return results

    def __repr__(self) -> str:
        repr_str = self.__class__.__name__
        repr_str += f'(color_jitter={self.color_jitter}, '
        repr_str += f'solarize_thr={self.solarize_thr}, '
        repr_str += f'blur_sigma={self.blur_sigma})'
        return repr_str
