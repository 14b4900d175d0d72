"""``save_best`` checkpoints: a failed write never costs the previous best.

mmengine's ``CheckpointHook._save_best_checkpoint`` deletes the previous
``best_*`` file, then writes the new one in place. The hook is driven here
through its public hook point ``after_val_epoch`` with a minimal runner
whose ``save_checkpoint`` writes a small file, or dies half-way (as a kill
or a full disk would) when told to.
"""
import os
import os.path as osp

import pytest
import torch
from mmengine.logging import MessageHub, MMLogger

from mmvitreg.engine.hooks import AtomicCheckpointHook


class _Runner:
    """What ``CheckpointHook.after_val_epoch`` reads from a runner."""

    def __init__(self, work_dir: str) -> None:
        self.work_dir = work_dir
        self.epoch = self.iter = 0
        # instances are global by name: one per test's work dir (an id()
        # can be reused and would bring another test's best score along)
        self.message_hub = MessageHub.get_instance(f'best-{work_dir}')
        self.logger = MMLogger.get_instance(f'best-{work_dir}')
        self.fail_after_bytes = None

    def save_checkpoint(self, out_dir, filename, *args, **kwargs) -> None:
        path = osp.join(out_dir, filename)
        if self.fail_after_bytes is not None:
            with open(path, 'wb') as f:
                f.write(b'\0' * self.fail_after_bytes)
            raise OSError('No space left on device')
        torch.save({'epoch': self.epoch}, path)


def _hook(runner) -> AtomicCheckpointHook:
    hook = AtomicCheckpointHook(interval=1, save_best='accuracy/top1',
                                rule='greater')
    hook.before_train(runner)
    return hook


def _files(work_dir):
    return sorted(os.listdir(work_dir))


def test_new_best_replaces_the_previous_one(tmp_path):
    runner = _Runner(str(tmp_path))
    hook = _hook(runner)
    runner.epoch = 1
    hook.after_val_epoch(runner, {'accuracy/top1': 50.0})
    runner.epoch = 2
    hook.after_val_epoch(runner, {'accuracy/top1': 40.0})  # worse
    assert _files(tmp_path) == ['best_accuracy_top1_epoch_1.pth']
    runner.epoch = 3
    hook.after_val_epoch(runner, {'accuracy/top1': 60.0})
    assert _files(tmp_path) == ['best_accuracy_top1_epoch_3.pth']
    assert torch.load(tmp_path / 'best_accuracy_top1_epoch_3.pth')[
        'epoch'] == 3
    assert runner.message_hub.get_info('best_score') == 60.0


def test_failed_write_keeps_the_previous_best_and_no_partial_file(tmp_path):
    runner = _Runner(str(tmp_path))
    hook = _hook(runner)
    runner.epoch = 1
    hook.after_val_epoch(runner, {'accuracy/top1': 50.0})
    runner.epoch, runner.fail_after_bytes = 2, 1000
    with pytest.raises(OSError, match='No space left'):
        hook.after_val_epoch(runner, {'accuracy/top1': 60.0})
    # mmengine's order leaves nothing here (old deleted, new half-written
    # under its final name); the previous best is intact, the partial
    # write only exists as a temporary file, removed at the next start
    assert _files(tmp_path) == ['.best_accuracy_top1_epoch_2.pth.tmp',
                                'best_accuracy_top1_epoch_1.pth']
    assert torch.load(tmp_path / 'best_accuracy_top1_epoch_1.pth')[
        'epoch'] == 1
    # the runner is left unpatched, the backend deletes again
    assert 'save_checkpoint' not in vars(runner)
    doomed = tmp_path / 'doomed'
    doomed.write_bytes(b'')
    hook.file_backend.remove(str(doomed))
    assert not doomed.exists()
    _hook(runner)  # a restarted run cleans the temporary file
    assert _files(tmp_path) == ['best_accuracy_top1_epoch_1.pth']
