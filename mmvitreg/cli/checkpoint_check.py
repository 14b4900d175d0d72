"""Strict checkpoint loading for evaluation, with an error naming the file."""
import torch.nn as nn
from mmengine.runner import Runner

from mmvitreg.engine.finite import (NonFiniteError, describe_keys,
                                    nonfinite_tensors)


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's keys or shapes do not match the model it is loaded
    into."""


def load_checkpoint_strict(runner: Runner, filename: str) -> dict:
    """Load ``filename`` into ``runner.model`` and fail on any key mismatch.

    mmengine's ``Runner.load_checkpoint`` only warns about missing or
    unexpected keys, so a wrong checkpoint would silently evaluate a partly
    random model. Here missing/unexpected keys and shape mismatches raise
    :class:`CheckpointMismatchError` naming the file and the keys. A
    checkpoint holding NaN/inf weights (a diverged run) raises
    :class:`~mmvitreg.engine.finite.NonFiniteError` naming the tensors,
    rather than being scored as an all-background model.
    """
    try:
        checkpoint = runner.load_checkpoint(filename, strict=True)
    except RuntimeError as err:
        if isinstance(err, CheckpointMismatchError):
            raise
        model: nn.Module = runner.model
        raise CheckpointMismatchError(
            f'checkpoint {filename} does not match the model '
            f'({type(getattr(model, "module", model)).__name__}) of '
            f'{runner.cfg.filename}:\n{err}') from None
    state = checkpoint.get('state_dict', checkpoint)
    bad = nonfinite_tensors(state)
    if bad:
        raise NonFiniteError(
            f'checkpoint {filename} holds NaN/inf values in {len(bad)} of '
            f'{len(state)} tensors ({describe_keys(bad)}): it comes from '
            'a diverged run; refusing to evaluate it.')
    return checkpoint
