"""Training-loop extensions (hooks, optimizers and optimizer-wrapper
constructors, resumable train loops, the FSDP strategy)."""
from . import hooks, optimizers, runner, strategies  # noqa: F401
