"""Strict checkpoint loading: every key and shape must match, no NaN/inf.

mmengine's loaders only warn about missing or unexpected keys, so a wrong
checkpoint would silently evaluate (or analyse, or annotate with) a partly
random model; and a diverged run's NaN weights would be scored as an
all-background model. One rule for every consumer of trained weights:

* :func:`load_weights_strict` loads into a model built outside a
  ``Runner`` (the similarity tool, the token-label annotator);
* ``mmvitreg.cli.load_checkpoint_strict`` does the same through a
  ``Runner`` (``tools/test.py``: hooks such as EMA see the checkpoint),
  with :func:`mismatch_error` and :func:`check_finite` from here.
"""
import torch.nn as nn
from mmengine.runner import load_checkpoint

from mmvitreg.utils.finite import (
    NonFiniteError,
    describe_keys,
    nonfinite_tensors,
)


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's keys or shapes do not match the model it is loaded
    into."""


def mismatch_error(filename: str, model: nn.Module, config: str,
                   error: Exception) -> CheckpointMismatchError:
    """The error naming the file, the model class and its config."""
    model = getattr(model, 'module', model)
    return CheckpointMismatchError(
        f'checkpoint {filename} does not match the model '
        f'({type(model).__name__}) of {config}:\n{error}')


def check_finite(filename: str, checkpoint: dict) -> None:
    """Raise :class:`NonFiniteError` naming the tensors of ``checkpoint``
    (its ``state_dict``) that hold NaN/inf."""
    state = checkpoint.get('state_dict', checkpoint)
    bad = nonfinite_tensors(state)
    if bad:
        raise NonFiniteError(
            f'checkpoint {filename} holds NaN/inf values in {len(bad)} of '
            f'{len(state)} tensors ({describe_keys(bad)}): it comes from '
            'a diverged run; refusing to use it.')


def load_weights_strict(model: nn.Module, filename: str,
                        config: str) -> dict:
    """Load ``filename`` into ``model``; fail on any mismatch or NaN/inf.

    mmengine's loader (the safe one that ``import mmvitreg`` registers;
    ``module.`` prefixes stripped) with ``strict=True``.

    Args:
        model (nn.Module): The built model.
        filename (str): Checkpoint path or URL.
        config (str): The config ``model`` was built from, for messages.

    Returns:
        dict: The loaded checkpoint.

    Raises:
        FileNotFoundError: If a local file does not exist.
        CheckpointMismatchError: Missing/unexpected keys, shape mismatches
            or no state dict, naming the file, the config and the keys.
        NonFiniteError: NaN/inf weights, naming the tensors.
    """
    try:
        checkpoint = load_checkpoint(model, filename, map_location='cpu',
                                     strict=True)
    except RuntimeError as err:
        raise mismatch_error(filename, model, config, err) from None
    check_finite(filename, checkpoint)
    return checkpoint
