"""mmvitreg.models.utils: token extraction and the diversification data
preprocessor."""
from .diverse_data_preprocessor import DiverseDataPreprocessor
from .patch_tokens import PatchTokens, record_patch_tokens

__all__ = ['DiverseDataPreprocessor', 'PatchTokens', 'record_patch_tokens']
