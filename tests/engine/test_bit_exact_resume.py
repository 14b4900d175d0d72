"""A run killed (SIGKILL) mid-epoch and resumed with ``--resume`` ends with
weights and optimizer state ``torch.equal`` to an uninterrupted run.

Deterministic mode on CPU, for the three kinds of training that draw
random numbers in different places: the diversity demo (drop path,
PatchMixing, the patch losses), token labeling (MixToken, label maps
cropped with the image) and UperNet (iteration-based loop, infinite
sampler). The uninterrupted reference loads with ``num_workers=0``; the
interrupted runs use 0 and 2 (persistent) workers, so the test also shows
that the data do not depend on the worker count.

Epoch-based: 6 batches an epoch, 2 epochs, a checkpoint every 4
iterations, killed after iteration 5 (its last checkpoint is mid-epoch, 4
batches into the first epoch). Iteration-based: 8 iterations over 24
scenes (the sampler wraps around), checkpoint every 3, killed after 5.
"""
import os.path as osp

import pytest
import torch
from kill_runs import (
    assert_ok,
    assert_sigkilled,
    digits_options,
    kill_config,
    load,
    read_last_checkpoint,
    train,
)
from random_token_labels import random_token_label_store

DIVERSE = 'configs/demo/vit_tiny_digits_diverse.py'
TOKEN_LABELING = 'configs/demo/vit_tiny_digits_token_labeling.py'
SEG = 'configs/demo/upernet_vit_tiny_digits_ade20k.py'
EPOCH_RUN = ['train_cfg.max_epochs=2',
             'default_hooks.checkpoint.by_epoch=False',
             'default_hooks.checkpoint.interval=4',
             'default_hooks.checkpoint.max_keep_ckpts=1']
ITER_RUN = ['train_cfg.max_iters=8', 'train_cfg.val_interval=8',
            'model.backbone.init_cfg=None',
            'default_hooks.checkpoint.interval=3',
            'default_hooks.checkpoint.max_keep_ckpts=1']


def _case(name, digits_root, tmp_path_factory):
    """(config, options without the worker count, final checkpoint)."""
    if name == 'seg':
        return SEG, 'ade', 24, ITER_RUN, 'iter_8.pth'
    opts = list(EPOCH_RUN)
    config = DIVERSE
    if name == 'token_labeling':
        config = TOKEN_LABELING
        store = random_token_label_store(
            digits_root, str(tmp_path_factory.mktemp('store') / 's'), 48)
        opts.append(
            f'train_dataloader.dataset.pipeline.1.store_root={store}')
    return config, 'imagenet', 48, opts, 'iter_12.pth'


@pytest.fixture(scope='module', params=['diverse', 'token_labeling', 'seg'])
def reference(request, digits_root, tmp_path_factory):
    """An uninterrupted run of each case (0 workers) and its setup."""
    tmp = tmp_path_factory.mktemp(request.param)
    config, layout, size, opts, final = _case(request.param, digits_root,
                                              tmp_path_factory)
    config = kill_config(tmp, config)
    batch = 8
    setup = dict(config=config, final=final, options=lambda workers: [
        *digits_options(digits_root, layout, size, batch, workers), *opts])
    work_dir = str(tmp / 'reference')
    assert_ok(train(config, work_dir, setup['options'](0)))
    return setup, load(osp.join(work_dir, final))


def _assert_same_training_state(resumed: dict, reference: dict) -> None:
    assert resumed['meta']['iter'] == reference['meta']['iter']
    weights, expected = resumed['state_dict'], reference['state_dict']
    assert weights.keys() == expected.keys()
    differ = [k for k in expected if not torch.equal(weights[k],
                                                     expected[k])]
    assert not differ, f'{len(differ)} of {len(expected)} tensors differ'
    state, ref = resumed['optimizer']['state'], reference['optimizer'][
        'state']
    assert state.keys() == ref.keys() and ref
    for idx, slots in ref.items():
        for slot, value in slots.items():
            assert torch.equal(torch.as_tensor(state[idx][slot]),
                               torch.as_tensor(value)), (idx, slot)


@pytest.mark.parametrize('workers', [0, 2])
def test_killed_mid_epoch_resumes_bit_exact(reference, workers, tmp_path):
    setup, expected = reference
    work_dir = str(tmp_path / 'killed')
    options = setup['options'](workers)
    assert_sigkilled(train(setup['config'], work_dir, options,
                           kill='after_iter=5'))
    mid = load(read_last_checkpoint(work_dir))
    assert 0 < mid['meta']['iter'] < 5
    assert not osp.exists(osp.join(work_dir, setup['final']))
    proc = train(setup['config'], work_dir, options, resume='')
    assert_ok(proc)
    assert f"resumed epoch: {mid['meta']['epoch']}, iter: " \
        f"{mid['meta']['iter']}" in proc.stdout + proc.stderr
    _assert_same_training_state(
        load(osp.join(work_dir, setup['final'])), expected)
