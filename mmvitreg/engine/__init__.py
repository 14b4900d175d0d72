"""Training-loop extensions (hooks, optimizer-wrapper constructors,
resumable train loops)."""
from . import hooks, optimizers, runner  # noqa: F401
