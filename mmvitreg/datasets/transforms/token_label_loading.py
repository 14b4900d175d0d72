"""Token labeling, step 1: read an image's stored annotator score map.

The map (top-k scores and classes per location, written by
``tools/generate_token_labels.py``) is read from the store at the start of
the pipeline; :mod:`.token_label_alignment` then follows the image's crop,
flip and geometric augmentation with it and makes the dense target.
"""
from typing import Optional

from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from mmvitreg.structures.token_labels.store import TokenLabelStore


@TRANSFORMS.register_module()
class LoadTokenLabel(BaseTransform):
    """Load an image's stored top-k score map.

    **Required Keys:** ``img_path``.

    **Added Keys:** ``token_label_scores`` (float16 ``(k, H', W')``),
    ``token_label_indices`` (int16 ``(k, H', W')``).

    Args:
        store_root: directory written by ``tools/generate_token_labels.py``.
        data_prefix: the dataset's image folder; the key is
            ``relpath(img_path, data_prefix)``. Default ``None``: the longest
            trailing part of ``img_path`` found in the store's index (for an
            ImageNet layout, ``<class>/<file>``).

    Raises:
        KeyError: no label for the image (names image and store).
        CorruptShardError: the shard holding it is truncated or damaged.
    """

    def __init__(self, store_root: str, data_prefix: Optional[str] = None):
        self.store = TokenLabelStore(store_root)
        self.data_prefix = data_prefix

    def transform(self, results: dict) -> dict:
        scores, indices = self.store.lookup(results['img_path'],
                                            self.data_prefix)
        results['token_label_scores'] = scores
        results['token_label_indices'] = indices
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(store_root={self.store.root!r}, '
                f'data_prefix={self.data_prefix!r})')
