"""Weight initialisers (registered into mmengine's WEIGHT_INITIALIZERS)."""
from .checked_pretrained import (
    CheckedPretrainedInit,
    PretrainedMismatchError,
    load_state_dict_report,
)

__all__ = ['CheckedPretrainedInit', 'PretrainedMismatchError',
           'load_state_dict_report']
