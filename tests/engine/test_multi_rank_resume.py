"""Two processes seeded differently (``diff_rank_seed=True``) resume
bit-exactly: each rank gets its own RNG stream back, not rank 0's.

The control is the uninterrupted 2-process run; the resumed run starts
from its epoch-1 checkpoint. With only rank 0's snapshot restored on both
ranks (what a checkpoint written by rank 0 alone holds), rank 1's drop-path
masks after the resume would be rank 0's and the weights would differ.
"""
import os
import os.path as osp

import torch
from tool_runner import CLS_CONFIG, data_options, dist_train

# 64 images / (2 processes x 16) = 2 iterations per epoch; drop path 0.1
OPTIONS = ['train_cfg.max_epochs=2', 'train_dataloader.batch_size=16',
           'train_dataloader.num_workers=0',
           'train_dataloader.persistent_workers=False',
           'default_hooks.checkpoint.interval=1',
           'default_hooks.checkpoint.max_keep_ckpts=-1',
           'randomness.seed=0', 'randomness.diff_rank_seed=True']


def _train(work_dir, digits_root, *extra):
    rc, log = dist_train(
        CLS_CONFIG, '--work-dir', work_dir, '--no-validate', *extra,
        '--cfg-options', *OPTIONS,
        *data_options(digits_root, 'imagenet', train_size=64))
    assert rc == 0, log[-4000:]
    return log


def _load(path):
    return torch.load(path, map_location='cpu', weights_only=False)


def test_resume_restores_each_ranks_rng(digits_root, tmp_path):
    straight = str(tmp_path / 'straight')
    _train(straight, digits_root)
    first = _load(osp.join(straight, 'epoch_1.pth'))['resume_state']
    per_rank = first['rng_per_rank']
    assert len(per_rank) == 2
    assert not torch.equal(per_rank[0]['torch'], per_rank[1]['torch'])
    assert torch.equal(per_rank[0]['torch'], first['rng']['torch'])

    resumed = str(tmp_path / 'resumed')
    os.makedirs(resumed)
    log = _train(resumed, digits_root, '--resume',
                 osp.join(straight, 'epoch_1.pth'))
    assert 'resumed epoch: 1, iter: 2' in log
    want = _load(osp.join(straight, 'epoch_2.pth'))['state_dict']
    got = _load(osp.join(resumed, 'epoch_2.pth'))['state_dict']
    assert all(torch.equal(want[k], got[k]) for k in want)
