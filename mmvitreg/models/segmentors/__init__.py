"""mmvitreg.models.segmentors: registered into mmseg's ``MODELS``.

- ``DiverseEncoderDecoder``: mmseg ``EncoderDecoder`` with an optional
  patch-diversity loss on the backbone's last tokens while fine-tuning.
"""
from .diverse_encoder_decoder import DiverseEncoderDecoder  # noqa: F401
