"""Safe weights_only loading of mmengine checkpoints, refusal of others:
attack pickles (nothing runs, the refusal names what they pickle), the
exact allow-list, and checkpoints as mmpretrain 1.x writes them."""
import fractions
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import _load_checkpoint

import mmvitreg  # noqa: F401
from mmvitreg.compat import (
    TRUST_ENV_VAR,
    UntrustedCheckpointError,
    safe_torch_load,
)
from mmvitreg.compat.checkpoint_loading import (
    admitted_global_names,
    mmengine_checkpoint_globals,
    torch_admitted_names,
)


def mmengine_like_checkpoint() -> dict:
    buffer = HistoryBuffer()
    for v in (1.0, 2.0, 4.0):
        buffer.update(v)
    return dict(
        meta=dict(epoch=3, iter=30, seed=np.int64(7), cfg='model = dict()',
                  dataset_meta=dict(classes=('a', 'b'))),
        state_dict={'w': torch.ones(2)},
        message_hub=dict(log_scalars={'train/loss': buffer},
                         runtime_info={'epoch': 3, 'arr': np.arange(3.)},
                         resumed_keys={'epoch': True}),
        optimizer={'state': {}, 'param_groups': [{'lr': np.float64(0.1)}]})


def test_mmengine_checkpoint_loads_safely(tmp_path):
    path = tmp_path / 'epoch_3.pth'
    torch.save(mmengine_like_checkpoint(), path)
    # premise: torch's default (weights_only) refuses it
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path)
    ckpt = _load_checkpoint(str(path))  # mmengine path -> our loader
    buffer = ckpt['message_hub']['log_scalars']['train/loss']
    assert buffer.mean() == pytest.approx(7 / 3)
    assert ckpt['meta']['seed'] == 7
    np.testing.assert_array_equal(ckpt['message_hub']['runtime_info']['arr'],
                                  [0., 1., 2.])


def test_foreign_pickle_refused_with_reason(tmp_path, monkeypatch):
    monkeypatch.delenv(TRUST_ENV_VAR, raising=False)
    path = tmp_path / 'odd.pth'
    torch.save({'state_dict': {}, 'x': fractions.Fraction(1, 3)}, path)
    with pytest.raises(UntrustedCheckpointError) as info:
        _load_checkpoint(str(path))
    message = str(info.value)
    assert str(path) in message
    assert 'fractions.Fraction' in message
    assert TRUST_ENV_VAR in message and '--trust-checkpoint' in message


def test_trust_env_var_loads_foreign_pickle(tmp_path, monkeypatch):
    path = tmp_path / 'odd.pth'
    torch.save({'x': fractions.Fraction(1, 3)}, path)
    monkeypatch.setenv(TRUST_ENV_VAR, '1')
    assert safe_torch_load(path)['x'] == fractions.Fraction(1, 3)


def test_missing_file_names_path(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        safe_torch_load(tmp_path / 'nope.pth')


# -- attacks: every one refused, naming what it pickles, nothing run -------
class _Call:
    """Pickles as ``func(*args)`` (REDUCE); callable so that a ``_Call``
    can itself be the function of another (chained calls)."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __call__(self, *args):  # never called: only pickled
        raise AssertionError('pickling helper called')

    def __reduce__(self):
        return self.func, self.args


def _marker_attacks(marker):
    """(name, payload, what the refusal must name); each payload would
    create ``marker`` (or reach something that could) if it ran."""
    import os
    import subprocess
    builtins_get = _Call(getattr, _Call(getattr, HistoryBuffer, '__init__'),
                         '__builtins__')
    return [
        ('chained_getattr_to_eval',
         _Call(_Call(getattr, builtins_get, 'get'), 'eval'),
         "builtins.getattr(HistoryBuffer, '__init__')"),
        # HistoryBuffer.min is admitted (pickled as getattr(HistoryBuffer,
        # 'min')); its __globals__ is the allowed class's module
        ('allowed_class_module', _Call(getattr, HistoryBuffer.min,
                                       '__globals__'),
         "builtins.getattr(HistoryBuffer.min, '__globals__')"),
        ('getattr_on_numpy', _Call(_Call(getattr, np.ndarray, 'tofile'),
                                   str(marker)),
         "builtins.getattr(ndarray, 'tofile')"),
        ('eval', _Call(eval, f'open({str(marker)!r}, "w")'), 'builtins.eval'),
        ('os_system', _Call(os.system, f'touch {marker}'),
         f'{os.system.__module__}.system'),
        ('subprocess', _Call(subprocess.check_call, ['touch', str(marker)]),
         'subprocess.check_call'),
        ('import', _Call(__import__, 'os'), 'builtins.__import__'),
    ]


ATTACKS = [name for name, _, _ in _marker_attacks('m')]


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'raw'])
@pytest.mark.parametrize('attack', ATTACKS)
def test_attack_is_refused_naming_the_global(tmp_path, monkeypatch, attack,
                                             legacy):
    monkeypatch.delenv(TRUST_ENV_VAR, raising=False)
    marker = tmp_path / 'ran'
    _, payload, named = next(a for a in _marker_attacks(marker)
                             if a[0] == attack)
    path = tmp_path / 'attack.pth'
    torch.save({'state_dict': {}, 'meta': {'x': payload}}, path,
               _use_new_zipfile_serialization=not legacy)
    with pytest.raises(UntrustedCheckpointError) as info:
        _load_checkpoint(str(path))  # mmengine's loader -> ours
    assert str(path) in str(info.value)
    assert named in str(info.value)
    assert not marker.exists()


def _raw_global(module: str, name: str) -> bytes:
    """A protocol-2 pickle calling ``module.name()`` (hand-written: no
    pickler writes a global that is not an attribute path it resolved)."""
    return (b'\x80\x02c' + module.encode() + b'\n' + name.encode() + b'\n'
            + b')R.')


@pytest.mark.parametrize('module,name', [
    ('mmengine.logging.history_buffer', 'np'),  # the allowed class's module
    ('numpy', 'load'),
    ('builtins', 'getattr.__self__'),
])
def test_raw_pickle_refusal_names_the_globals(tmp_path, module, name):
    path = tmp_path / 'raw.pkl'
    path.write_bytes(_raw_global(module, name))
    with pytest.raises(UntrustedCheckpointError) as info:
        safe_torch_load(path)
    assert f'{module}.{name}' in str(info.value)
    assert str(path) in str(info.value)


class _ForgedBuffer:
    """Pickles as a ``HistoryBuffer`` (NEWOBJ + BUILD) with any state."""

    def __init__(self, state):
        self.state = state

    @property
    def __class__(self):  # what the pickler checks NEWOBJ's class against
        return HistoryBuffer

    def __reduce__(self):
        import copyreg
        return copyreg.__newobj__, (HistoryBuffer, ), self.state


def test_history_buffer_state_naming_other_methods_is_refused(tmp_path):
    import collections
    buffer = HistoryBuffer()
    buffer.update(1.0)
    state = dict(vars(buffer), statistics_methods={
        'mean': collections.Counter})  # an admitted global, wrong place
    path = tmp_path / 'buffer.pth'
    torch.save({'buffer': _ForgedBuffer(state)}, path)
    with pytest.raises(UntrustedCheckpointError,
                       match='HistoryBuffer statistics_methods mean'):
        safe_torch_load(path)
    # the class-wide registry HistoryBuffer.__setstate__ would update
    assert HistoryBuffer._statistics_methods['mean'] is HistoryBuffer.mean


def test_numpy_1_names_and_raw_format_load(tmp_path):
    """A checkpoint written under numpy 1 (``numpy.core.multiarray``) in
    torch's raw (pre-zip) format still loads."""
    path = tmp_path / 'numpy1.pth'
    torch.save(mmengine_like_checkpoint(), path,
               _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    assert b'numpy._core.multiarray' in data  # premise: numpy 2 wrote it
    path.write_bytes(data.replace(b'numpy._core.multiarray',
                                  b'numpy.core.multiarray'))
    ckpt = safe_torch_load(path)
    assert ckpt['message_hub']['log_scalars']['train/loss'].mean() == \
        pytest.approx(7 / 3)
    assert ckpt['meta']['seed'] == 7


def test_admitted_globals_are_exactly_mmengines():
    """Beyond torch's weights-only defaults: HistoryBuffer, the getattr
    stand-in, numpy arrays/dtypes/scalars; no other builtin, no module."""
    extra = admitted_global_names() - torch_admitted_names()
    numpy_core = {f'{m}.{f}' for m in ('numpy._core.multiarray',
                                       'numpy.core.multiarray')
                  for f in ('_reconstruct', 'scalar')}
    dtype_classes = {n for n in extra if n.startswith('numpy.dtypes.')}
    assert extra - dtype_classes == numpy_core | {
        'mmengine.logging.history_buffer.HistoryBuffer', 'builtins.getattr',
        'numpy.ndarray', 'numpy.dtype'}
    assert 'numpy.dtypes.Float64DType' in dtype_classes
    assert all(n.endswith('DType') for n in dtype_classes)
    # what 'builtins.getattr' is rebuilt with: not getattr
    stand_in = dict((name, f) for f, name in mmengine_checkpoint_globals())
    assert stand_in['builtins.getattr'] is not getattr
    assert stand_in['builtins.getattr'](HistoryBuffer, 'mean') is \
        HistoryBuffer.mean


def test_checkpoint_saved_as_mmpretrain_saves_loads(digits_root, tmp_path,
                                                    monkeypatch):
    """mmpretrain 1.x's own default runtime (mmengine ``Runner``,
    ``CheckpointHook``, message hub, EMA, param scheduler, seed) on a
    ResNet-18 classifier: its checkpoint loads with nothing extra admitted,
    equal to an unrestricted load."""
    import os.path as osp

    import mmpretrain
    from mmengine.config import Config
    from mmengine.runner import Runner
    monkeypatch.delenv(TRUST_ENV_VAR, raising=False)
    base = osp.join(osp.dirname(mmpretrain.__file__), '.mim', 'configs',
                    '_base_')
    cfg = Config.fromfile(osp.join(base, 'default_runtime.py'))
    cfg.merge_from_dict(Config.fromfile(
        osp.join(base, 'models', 'resnet18.py')).to_dict())
    cfg.model.head.num_classes = 10
    cfg.merge_from_dict(dict(
        work_dir=str(tmp_path / 'work'), randomness=dict(seed=0),
        train_dataloader=dict(
            batch_size=4, num_workers=0,
            dataset=dict(type='CustomDataset', indices=4, data_root=osp.join(
                digits_root, 'imagenet', 'train'), pipeline=[
                    dict(type='LoadImageFromFile'),
                    dict(type='PackInputs')]),
            sampler=dict(type='DefaultSampler', shuffle=True)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1,
                                          momentum=0.9)),
        param_scheduler=dict(type='MultiStepLR', milestones=[1]),
        custom_hooks=[dict(type='EMAHook')]))
    Runner.from_cfg(cfg).train()
    path = osp.join(cfg.work_dir, 'epoch_1.pth')
    outside_a_load = torch.serialization.get_safe_globals()
    assert getattr not in outside_a_load  # nothing of ours stays admitted
    assert not [g for g in outside_a_load
                if 'numpy' in str(g) or 'mmengine' in str(g)]
    got = safe_torch_load(path)
    want = torch.load(path, weights_only=False)
    assert set(got) == set(want) >= {'meta', 'state_dict', 'message_hub',
                                     'optimizer', 'param_schedulers'}
    for key in ('state_dict', 'ema_state_dict'):
        assert all(torch.equal(got[key][k], v) for k, v in want[key].items())
    scalars = got['message_hub']['log_scalars']
    assert scalars['train/loss'].mean() == \
        want['message_hub']['log_scalars']['train/loss'].mean()
    assert got['meta']['seed'] == 0
