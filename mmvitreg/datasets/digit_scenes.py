"""Digit scenes (``tools/prepare_digits.py``) as mmseg datasets.

The scenes are written twice, in ADE20K and in Cityscapes layout, with 11
classes after mmseg's label handling: 0 = background, ``1 + d`` = digit ``d``,
255 = ignore (the anti-aliased rims of the strokes). mmseg's ``metainfo=``
override can only select a subset of a dataset's own classes, so renaming
ADE20K's 150 / Cityscapes' 19 classes needs these subclasses.
"""
from mmseg.datasets import ADE20KDataset, CityscapesDataset
from mmseg.registry import DATASETS

from .digits import DIGIT_CLASSES

SCENE_CLASSES = ('background', ) + DIGIT_CLASSES
SCENE_PALETTE = [[0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25],
                 [0, 130, 200], [245, 130, 48], [145, 30, 180], [70, 240, 240],
                 [240, 50, 230], [210, 245, 60], [250, 190, 212]]


@DATASETS.register_module()
class DigitScenesADE20KDataset(ADE20KDataset):
    """Digit scenes in ADE20K layout (``ADEChallengeData2016``).

    Annotation files store 0 = unlabelled, 1 = background, ``2 + d`` = digit
    ``d``; ``reduce_zero_label=True`` (the default) maps them to 255, 0 and
    ``1 + d``. Images ``.jpg``, masks ``.png``.
    """
    METAINFO = dict(classes=SCENE_CLASSES, palette=SCENE_PALETTE)

    def __init__(self,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = True,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)


@DATASETS.register_module()
class DigitScenesCityscapesDataset(CityscapesDataset):
    """Digit scenes in Cityscapes layout (``leftImg8bit`` / ``gtFine``).

    ``*_gtFine_labelTrainIds.png`` store the train ids directly: 0 =
    background, ``1 + d`` = digit ``d``, 255 = ignore.
    """
    METAINFO = dict(classes=SCENE_CLASSES, palette=SCENE_PALETTE)
