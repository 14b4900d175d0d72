"""A ClsDataPreprocessor that hands PatchMixing's per-patch sources to the
model through the data samples."""
from typing import List

from mmpretrain.models.utils import ClsDataPreprocessor
from mmpretrain.registry import MODELS

from ..batch_augments.patch_mixing import PatchMixing


@MODELS.register_module()
class DiverseDataPreprocessor(ClsDataPreprocessor):
    """``ClsDataPreprocessor`` plus the patch-source hand-off of
    :class:`PatchMixing`.

    mmpretrain batch augments see only ``(inputs, batch_score)``. When a
    ``PatchMixing`` (alone or inside ``RandomBatchAugment``) has mixed the
    batch, this preprocessor writes into every ``DataSample``:

    - ``patch_source``: ``(gh, gw)`` long, the batch index of the image each
      patch came from;
    - ``unmixed_score``: ``(K,)``, the sample's score before mixing.

    When another augment (or none) was chosen the fields are absent and
    ``DiverseImageClassifier`` takes every patch's target from its own image.
    Arguments are those of ``ClsDataPreprocessor``.
    """

    def _patch_mixers(self) -> List[PatchMixing]:
        augments = getattr(self.batch_augments, 'augments', [])
        return [aug for aug in augments if isinstance(aug, PatchMixing)]

    def forward(self, data: dict, training: bool = False) -> dict:
        mixers = self._patch_mixers()
        for mixer in mixers:
            mixer.pop_record()
        data = super().forward(data, training)
        records = [m.pop_record() for m in mixers]
        records = [r for r in records if r is not None]
        if records and data.get('data_samples') is not None:
            record = records[0]
            for sample, source, score in zip(data['data_samples'],
                                             record.patch_source,
                                             record.source_score, strict=True):
                sample.set_field(source, 'patch_source')
                sample.set_field(score, 'unmixed_score')
        return data
