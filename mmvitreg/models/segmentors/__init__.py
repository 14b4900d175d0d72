"""mmvitreg.models.segmentors: registered into mmseg's MODELS."""
from .diverse_encoder_decoder import DiverseEncoderDecoder  # noqa: F401
