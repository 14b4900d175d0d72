"""Load a checkpoint into a model built outside a ``Runner``, strictly."""
import torch.nn as nn
from mmengine.runner import load_checkpoint


def load_weights_strict(model: nn.Module, filename: str,
                        config: str) -> dict:
    """Load ``filename`` into ``model`` and fail on any key mismatch.

    The model-level counterpart of
    :func:`mmvitreg.cli.checkpoint_check.load_checkpoint_strict` (which
    needs a ``Runner``): the same mmengine loader (the safe one that
    ``import mmvitreg`` registers; ``module.`` prefixes stripped) with
    ``strict=True``, and the same error class.

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
    """
    from mmvitreg.cli.checkpoint_check import CheckpointMismatchError
    try:
        return load_checkpoint(model, filename, map_location='cpu',
                               strict=True)
    except RuntimeError as err:
        raise CheckpointMismatchError(
            f'checkpoint {filename} does not match the model '
            f'({type(model).__name__}) of {config}:\n{err}') from None
