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

# mmpretrain's visualizer, restated here: inherited through the
# `mmpretrain::` base it carries `_scope_='mmpretrain'`, which mmpretrain's
# own tools/visualization/browse_dataset.py passes on as a keyword argument
# (`UniversalVisualizer(**cfg.visualizer)`: TypeError on `_scope_`).
visualizer = dict(
    _delete_=True,
    type='UniversalVisualizer',
    vis_backends=[dict(type='LocalVisBackend')])
