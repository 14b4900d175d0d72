"""Training-loop extensions (hooks, optimizers and optimizer-wrapper
constructors, resumable train loops, the FSDP strategy) and the process
group's lifecycle shared by every multi-process entry point."""
from . import hooks, optimizers, process_group, runner  # noqa: F401
from . import strategies  # noqa: F401
