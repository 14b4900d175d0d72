"""The source of the digits set: scikit-learn's 1,797 handwritten 8x8
scans, their class names and the seeded stratified train/val split (the
layouts are written by :mod:`.layouts`, the tree by :mod:`.prepare`)."""
from typing import Tuple

import numpy as np

DIGIT_CLASSES = ('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven',
                 'eight', 'nine')
#: ImageNet-like class folder names, ``n00000000`` ... ``n00000009``.
WNIDS = tuple(f'n{d:08d}' for d in range(10))
VAL_FRACTION = 0.2


def load_digit_scans() -> Tuple[np.ndarray, np.ndarray]:
    """Load the bundled scans.

    Returns:
        tuple: ``images`` float32 (1797, 8, 8) in [0, 1] (grey value / 16)
        and ``labels`` int64 (1797,) in 0-9.
    """
    from sklearn.datasets import load_digits  # lazy: only the writer needs it
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)
    return images, digits.target.astype(np.int64)


def stratified_split(
        labels: np.ndarray,
        rng: np.random.Generator,
        val_fraction: float = VAL_FRACTION) -> Tuple[np.ndarray, np.ndarray]:
    """Per class, put ``round(val_fraction * n_class)`` random indices in val.

    Returns:
        tuple: sorted ``train_idx`` and ``val_idx`` index arrays.
    """
    train, val = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(len(idx))]
        n_val = int(round(val_fraction * len(idx)))
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))
