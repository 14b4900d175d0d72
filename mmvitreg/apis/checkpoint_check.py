"""Strict checkpoint loading for evaluation, with an error naming the file."""
import torch.nn as nn
from mmengine.runner import Runner


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's keys or shapes do not match the model it is loaded
    into."""


def load_checkpoint_strict(runner: Runner, filename: str) -> dict:
    """Load ``filename`` into ``runner.model`` and fail on any key mismatch.

    mmengine's ``Runner.load_checkpoint`` only warns about missing or
    unexpected keys, so a wrong checkpoint would silently evaluate a partly
    random model. Here missing/unexpected keys and shape mismatches raise
    :class:`CheckpointMismatchError` naming the file and the keys.
    """
    try:
        return runner.load_checkpoint(filename, strict=True)
    except RuntimeError as err:
        if isinstance(err, CheckpointMismatchError):
            raise
        model: nn.Module = runner.model
        raise CheckpointMismatchError(
            f'checkpoint {filename} does not match the model '
            f'({type(getattr(model, "module", model)).__name__}) of '
            f'{runner.cfg.filename}:\n{err}') from None
