"""mmengine code that mmvitreg copies, follows step by step or patches has
not changed since it was read.

Each module that depends on an upstream body records, next to that
dependency, ``UPSTREAM_SOURCES = {'module:qualname': (hash, what to
re-check)}``: the first 16 hex digits of the SHA-256 of
``inspect.getsource`` of the upstream object (unwrapped, so a patch
installed by mmvitreg does not count). After an mmengine upgrade this test
names every body that changed and the mmvitreg code to compare with it;
once that code is brought in line, record the new hash it prints.
"""
import hashlib
import inspect
import pkgutil

import mmengine
import pytest

from mmvitreg.compat import sample_errors
from mmvitreg.engine.hooks import atomic_checkpoint_hook
from mmvitreg.engine.runner import resumable_loops
from mmvitreg.engine.strategies import recipe_fsdp_strategy

DEPENDENTS = (resumable_loops, recipe_fsdp_strategy, atomic_checkpoint_hook,
              sample_errors)
RECORDED = [(module.__name__, name, digest, what)
            for module in DEPENDENTS
            for name, (digest, what) in module.UPSTREAM_SOURCES.items()]


def source_digest(name: str) -> str:
    """SHA-256 (16 hex digits) of the upstream object's source."""
    obj = inspect.unwrap(pkgutil.resolve_name(name))
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()[:16]


def drift_message(dependent: str, name: str, recorded: str, now: str,
                  what: str) -> str:
    return (f'{name} changed upstream (mmengine {mmengine.__version__}): '
            f'its source hashes to {now}, {dependent} recorded {recorded}. '
            f'Re-check {what} in {dependent} against the new code, then '
            f'record {now!r} in {dependent}.UPSTREAM_SOURCES.')


@pytest.mark.parametrize('dependent,name,recorded,what', RECORDED,
                         ids=[r[1] for r in RECORDED])
def test_upstream_source_is_the_one_recorded(dependent, name, recorded,
                                             what):
    now = source_digest(name)
    assert now == recorded, drift_message(dependent, name, recorded, now,
                                          what)


def test_every_patch_and_copy_is_recorded():
    assert {name for _, name, _, _ in RECORDED} >= {
        'mmengine.runner.loops:EpochBasedTrainLoop.run_epoch',
        'mmengine.runner.loops:IterBasedTrainLoop.run',
        'mmengine._strategy.single_device:SingleDeviceStrategy.prepare',
        'mmengine.hooks.checkpoint_hook:CheckpointHook._save_best_checkpoint',
        'mmengine.dataset.base_dataset:Compose.__call__',
    }


def test_the_pipeline_patch_is_wrapped_and_keeps_the_signature():
    from mmengine.dataset import Compose
    wrapper = Compose.__call__
    assert wrapper._names_sample_files
    original = wrapper.__wrapped__
    assert wrapper.__name__ == original.__name__ == '__call__'
    assert wrapper.__doc__ == original.__doc__
    assert list(inspect.signature(wrapper).parameters) == ['self', 'data']
