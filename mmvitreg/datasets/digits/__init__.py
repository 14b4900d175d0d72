"""Writer of the embedded default data set.

No download is possible, so every demo and test runs on scikit-learn's bundled
handwritten digits (``sklearn.datasets.load_digits``: 1,797 real 8x8 scans,
grey values 0-16, 10 classes), written to disk in the exact layouts that
mmpretrain and mmseg read::

    <out>/
    ├── .complete.json                    arguments and per-part SHA-256
    │                                     digests of the run (written last)
    ├── imagenet/                         mmpretrain ``CustomDataset``
    │   ├── train/n0000000<d>/digit_<idx:05d>.JPEG
    │   ├── val/n0000000<d>/digit_<idx:05d>.JPEG
    │   └── meta/{train,val,classes}.txt  ``n00000003/digit_00012.JPEG 3``
    ├── ade/ADEChallengeData2016/         mmseg ``ADE20KDataset``
    │   ├── images/{training,validation}/ADE_{train,val}_<i:08d>.jpg
    │   └── annotations/{training,validation}/ADE_{train,val}_<i:08d>.png
    └── cityscapes/                       mmseg ``CityscapesDataset``
        ├── leftImg8bit/{train,val}/<city>/<stem>_leftImg8bit.png
        └── gtFine/{train,val}/<city>/<stem>_gtFine_labelTrainIds.png

with ``<stem> = <city>_000000_<i:06d>`` and the cities ``digitown`` (odd
``i``) and ``numberg`` (even ``i``).

Classification: each scan's grey value ``v`` (0-16) becomes ``255 * v / 16``
and is upscaled bicubically to ``size`` px, replicated to RGB and saved as
JPEG. The split is stratified: per class, ``round(0.2 * n_class)`` scans
(chosen by a seeded permutation) go to ``val``, the rest to ``train``.

Segmentation scenes (``scene_size`` square): a dark, smooth textured, noisy
background cut into cells of the classification images' side ``size``, 1 to
``n - 1`` of its ``n`` cells (1-3 of 4 for the default 64 / 32) holding a
digit upscaled to ``size`` px in grey ink of random intensity: the digits
keep the scale and position on the token grid that pretraining saw (with
free placement and 16-32 px digits, measured here, a tiny ViT pretrained on
the 1,438 scans transferred nothing: a linear probe on its patch tokens
found 19% digit accuracy and UperNet stayed at background after 1,000
iterations; on these scenes the same checkpoint reaches 88% mIoU). With
``g`` the digit's upscaled grey value in [0, 1], a pixel is
``bg * (1 - g) + ink * g`` and its label is

- digit ``d`` where ``g >= 0.5``,
- ambiguous (the anti-aliased rim of a stroke) where ``0.25 < g < 0.5``,
- background elsewhere.

ADE files store ``0`` = ambiguous/unlabelled, ``1`` = background,
``2 + d`` = digit ``d``; mmseg's ``reduce_zero_label=True`` turns that into
``255`` = ignore, ``0`` = background, ``1 + d`` = digit ``d`` (11 classes).
Cityscapes files store those reduced train ids directly. Train scenes use
scans from the classification train split only, val scenes from the val split
only. ADE and Cityscapes hold the same scenes (ADE as JPEG, Cityscapes as
lossless PNG).

Everything is drawn from ``numpy.random.default_rng`` streams spawned from
``seed`` (the split, the train scenes and the val scenes each get their own
stream, so changing ``train_scenes`` does not change the val scenes), and
images are encoded with fixed OpenCV parameters: the same arguments give the
same bytes. The tree is written into a temporary sibling folder and renamed
into place, with the marker written last, so a tree carrying ``.complete.json``
is never half-written.
"""
from ..digit_scene_render import (
    ADE_BACKGROUND,
    ADE_DIGIT_OFFSET,
    ADE_UNLABELED,
    HIGH_THRESHOLD,
    IGNORE_INDEX,
    LOW_THRESHOLD,
    ade_to_train_ids,
    pick_cells,
    render_background,
    render_scene,
    to_uint8,
    upscale,
)
from .layouts import CITIES, write_imagenet, write_scenes
from .prepare import FORMAT_VERSION, MARKER, prepare_digits
from .scans import (
    DIGIT_CLASSES,
    VAL_FRACTION,
    WNIDS,
    load_digit_scans,
    stratified_split,
)
