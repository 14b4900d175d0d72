"""Every DivergenceGuardHook message numbers iterations and epochs the way
checkpoint file names do (``iter_N.pth``: the N-th iteration, from 1;
``epoch_E.pth``: the E-th epoch, from 1).

A toy mmengine Runner (4 samples, batch 2: 2 iterations per epoch) is
poisoned at one iteration; the expected numbers come from the file a clean
run of the same schedule writes (named by mmengine's CheckpointHook).
"""
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn

from mmvitreg.utils.finite import NonFiniteError


class _Toy(BaseModel):
    """Returns a NaN loss at the ``nan_loss_at``-th forward (from 1)."""

    def __init__(self, nan_loss_at: int = 0) -> None:
        super().__init__()
        self.fc = nn.Linear(2, 1)
        self.nan_loss_at = nan_loss_at
        self.calls = 0

    def forward(self, inputs, data_samples=None, mode='loss'):
        self.calls += 1
        loss = self.fc(inputs).pow(2).mean()
        if self.calls == self.nan_loss_at:
            loss = loss * float('nan')
        return dict(loss=loss)


class _PoisonWeights(Hook):
    """Fills the weights with NaN after the ``at``-th iteration (from 1),
    before the checkpoint hook runs."""

    priority = 'NORMAL'

    def __init__(self, at: int) -> None:
        self.at = at

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 == self.at:
            with torch.no_grad():
                runner.model.fc.weight.fill_(float('nan'))


def _run(work_dir: str, by_epoch: bool, interval: int, model: _Toy,
         hooks=()) -> None:
    data = [dict(inputs=torch.ones(2)) for _ in range(4)]
    train_cfg = (dict(by_epoch=True, max_epochs=3) if by_epoch else
                 dict(by_epoch=False, max_iters=6))
    runner = Runner(
        model=model, work_dir=work_dir,
        train_dataloader=dict(dataset=data, batch_size=2,
                              sampler=dict(type='DefaultSampler',
                                           shuffle=False),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=train_cfg,
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=interval,
                            by_epoch=by_epoch),
            divergence=dict(type='DivergenceGuardHook')),
        custom_hooks=list(hooks), default_scope='mmengine')
    runner.train()


@pytest.mark.parametrize('by_epoch,interval,iteration,epoch,expected_file', [
    (False, 3, 3, 1, 'iter_3.pth'),
    (True, 2, 4, 2, 'epoch_2.pth')])  # the 2nd epoch ends with the 4th iter
def test_save_refusal_numbers_as_the_file_it_would_write(
        tmp_path, by_epoch, interval, iteration, epoch, expected_file):
    clean = str(tmp_path / 'clean')
    _run(clean, by_epoch, interval, _Toy())
    assert osp.isfile(osp.join(clean, expected_file))  # premise: the name

    poisoned = str(tmp_path / 'poisoned')
    with pytest.raises(NonFiniteError) as info:
        _run(poisoned, by_epoch, interval, _Toy(), [_PoisonWeights(iteration)])
    assert (f'checkpoint at iteration {iteration} (epoch {epoch}):'
            in str(info.value))
    assert not osp.exists(osp.join(poisoned, expected_file))


def test_divergence_message_numbers_as_files(tmp_path):
    with pytest.raises(NonFiniteError) as info:
        _run(str(tmp_path / 'nan'), False, 100, _Toy(nan_loss_at=3))
    assert 'at iteration 3 (epoch 1)' in str(info.value)
