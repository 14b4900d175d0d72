"""Strict checkpoint loading through a ``Runner`` (``tools/test.py``).

The rule (every key and shape, no NaN/inf) and the errors are the
model-level loader's (:mod:`mmvitreg.models.utils.strict_load`); here the
checkpoint goes through ``Runner.load_checkpoint`` so that hooks (EMA) and
the wrapped model see it as in any mmengine run.
"""
from mmengine.runner import Runner

from mmvitreg.models.utils.strict_load import (
    CheckpointMismatchError,
    check_finite,
    mismatch_error,
)

__all__ = ['CheckpointMismatchError', 'load_checkpoint_strict']


def load_checkpoint_strict(runner: Runner, filename: str) -> dict:
    """Load ``filename`` into ``runner.model``; fail naming the file and
    the keys on any mismatch (:class:`CheckpointMismatchError`) or the
    tensors on NaN/inf (``NonFiniteError``)."""
    try:
        checkpoint = runner.load_checkpoint(filename, strict=True)
    except CheckpointMismatchError:
        raise
    except RuntimeError as err:
        raise mismatch_error(filename, runner.model, runner.cfg.filename,
                             err) from None
    check_finite(filename, checkpoint)
    return checkpoint
