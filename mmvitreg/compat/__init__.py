"""Compatibility layer for the pinned stack (see README, "Stack").

* :mod:`.mmcv_ops`: ``mmcv.ops`` stand-in on mmcv-lite (no-op with full mmcv).
* :mod:`.checkpoint_loading`: torch ``weights_only`` loading with an
  allow-list of what mmengine checkpoints contain.
* :mod:`.sample_errors`: an exception leaving a dataset pipeline names the
  sample's files.
* :mod:`.known_warnings`: the known and harmless warnings of the stack,
  filtered by message.
"""
from .known_warnings import filter_known_warnings

filter_known_warnings()  # before anything below imports mmengine

from .checkpoint_loading import (  # noqa: E402,I001
    TRUST_ENV_VAR, UntrustedCheckpointError, install_safe_checkpoint_loader,
    safe_torch_load)
from .mmcv_ops import CompiledOpUnavailableError, has_compiled_ops  # noqa
from .mmcv_ops import install as install_mmcv_ops  # noqa: E402
from .sample_errors import install as install_sample_errors  # noqa: E402


def install_compat() -> None:
    """Install every compatibility shim. Idempotent."""
    install_mmcv_ops()
    install_safe_checkpoint_loader()
    install_sample_errors()


__all__ = [
    'install_compat', 'install_mmcv_ops', 'install_safe_checkpoint_loader',
    'install_sample_errors',
    'safe_torch_load', 'has_compiled_ops', 'CompiledOpUnavailableError',
    'UntrustedCheckpointError', 'TRUST_ENV_VAR'
]
