"""Training-loop extensions (hooks, optimizers and optimizer-wrapper
constructors, resumable train loops, the FSDP strategy) and the process
group's lifecycle shared by every multi-process entry point."""
from . import hooks, optimizers, process_group, runner, strategies
