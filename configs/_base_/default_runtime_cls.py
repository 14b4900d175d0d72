# Classification runtime: mmpretrain's own defaults plus mmvitreg registration.
_base_ = 'mmpretrain::_base_/default_runtime.py'

default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)

# Non-finite loss term or gradient norm: stop with an error naming the term
# and the iteration (action='skip': skip that optimizer step instead, at
# most max_skips times in the run); a checkpoint with NaN/inf weights is
# never written (mmvitreg DivergenceGuardHook).
default_hooks = dict(
    checkpoint=dict(type='AtomicCheckpointHook'),  # kill-safe, resumable
    divergence=dict(type='DivergenceGuardHook', action='stop', max_skips=10))
