"""mmengine's train loops, resumable in the middle of an epoch, bit-exact.

mmengine 0.10.7 resumes an ``EpochBasedTrainLoop`` at the start of the
checkpoint's epoch (a mid-epoch checkpoint replays the batches already
seen) and an ``IterBasedTrainLoop`` by loading and discarding every batch
already trained on; neither restores the random generators. These loops:

* load data through :mod:`.seeded_loading` (augmentations independent of
  workers and of skipping);
* give :meth:`resume_state` for the checkpoint: the position (epoch,
  batches done in it, iteration) and the global RNG states
  (:mod:`.rng_state`) as they are when the checkpoint is written;
* after :meth:`load_resume_state` and ``Runner.resume``, skip the batches
  of the epoch already trained on through the sampler (same order, same
  per-sample seeds, nothing loaded) and restore the RNG states exactly
  where the interrupted run took its snapshot: before
  ``before_train_epoch`` at an epoch boundary, after it mid-epoch;
* run validation with the RNG states saved and restored around it, so the
  training stream does not depend on when (or whether) validation runs.

``AtomicCheckpointHook`` moves the state into and out of checkpoints. The
tools' runner (:class:`mmvitreg.cli.WorkDirSafeRunner`) builds these loops
in place of mmengine's two default ones.
"""
import logging
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional, Sequence

import torch
from mmengine.dataset import InfiniteSampler
from mmengine.dist import get_rank, get_world_size
from mmengine.logging import print_log
from mmengine.registry import LOOPS
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop
from mmengine.runner.loops import _InfiniteDataloaderIterator

from .rng_state import get_rng_state, rank_rng_state, set_rng_state
from .seeded_loading import SeededSampler, seeded_dataloader

#: The mmengine 0.10.7 code these loops copy or import, as
#: ``'module:qualname': (sha256[:16] of inspect.getsource, what to
#: re-check)``; tests/compat/test_upstream_drift.py fails when one changes.
UPSTREAM_SOURCES = {
    'mmengine.runner.loops:EpochBasedTrainLoop.run': (
        '51ae20508b4d459f', 'ResumableEpochBasedTrainLoop.run (hooks, '
        'validation condition)'),
    'mmengine.runner.loops:EpochBasedTrainLoop.run_epoch': (
        '5a9b993c3e9727d4', 'ResumableEpochBasedTrainLoop.run_epoch'),
    'mmengine.runner.loops:EpochBasedTrainLoop.run_iter': (
        '407a13390ddeff6d', '_ResumableMixin._step'),
    'mmengine.runner.loops:IterBasedTrainLoop.run': (
        'f5de0b5cf6e25e3b', 'ResumableIterBasedTrainLoop.run'),
    'mmengine.runner.loops:IterBasedTrainLoop.run_iter': (
        '16915bb18ebb5f90', '_ResumableMixin._step'),
    'mmengine.runner.loops:_InfiniteDataloaderIterator': (
        'e43515e544958c3b', 'ResumableIterBasedTrainLoop._skip_iterations '
        '(a fresh iterator after the sampler skipped)'),
}


def _build_seeded(runner, dataloader):
    """Build ``dataloader`` as mmengine's loops do, then add seeding."""
    if isinstance(dataloader, dict):
        diff_rank_seed = runner._randomness_cfg.get('diff_rank_seed', False)
        dataloader = runner.build_dataloader(
            dataloader, seed=runner.seed, diff_rank_seed=diff_rank_seed)
    seeded = seeded_dataloader(dataloader, runner.seed, get_rank())
    if seeded is None:
        print_log(
            'Train loader has a custom batch_sampler: data is loaded '
            'without per-sample seeds and a mid-epoch resume replays the '
            'epoch\'s first batches (not bit-exact with workers).',
            logger='current', level=logging.WARNING)
        return dataloader
    return seeded


class _ResumableMixin:
    """Resume state shared by the two loops."""

    def _init_resume(self) -> None:
        self._pending: Optional[Dict[str, Any]] = None
        self._in_iter = False
        self._batches_done = 0
        self._rng_before_val: Optional[Dict[str, Any]] = None

    @property
    def _seeded_sampler(self) -> Optional[SeededSampler]:
        sampler = getattr(self.dataloader, 'sampler', None)
        return sampler if isinstance(sampler, SeededSampler) else None

    def _position(self) -> Dict[str, int]:
        raise NotImplementedError

    def resume_state(self) -> Dict[str, Any]:
        """Position and RNG states, as a checkpoint written now needs."""
        rng = self._rng_before_val or get_rng_state()
        return dict(self._position(), rng=rng)

    @staticmethod
    def _restore_rng(state: Dict[str, Any]) -> None:
        """This process's RNG snapshot from ``state`` (per rank when the
        checkpoint has one for each)."""
        set_rng_state(rank_rng_state(state, get_rank(), get_world_size()))

    def load_resume_state(self, state: Dict[str, Any]) -> None:
        """Keep ``state`` (from :meth:`resume_state`) for :meth:`run`."""
        self._pending = dict(state)

    def _take_pending(self) -> Optional[Dict[str, Any]]:
        """The loaded state if it matches the resumed iteration."""
        state, self._pending = self._pending, None
        if state is None:
            return None
        if state.get('iter') != self._iter:
            print_log(
                f'Checkpoint resume state is for {state.get("iter")} '
                f'finished iterations but the loop resumes after '
                f'{self._iter}: not restored.',
                logger='current', level=logging.WARNING)
            return None
        return state

    @contextmanager
    def _validation_keeps_rng(self) -> Iterator[None]:
        self._rng_before_val = get_rng_state()
        try:
            yield
        finally:
            set_rng_state(self._rng_before_val)
            self._rng_before_val = None

    def _step(self, batch_idx: int, data_batch: Sequence[dict]) -> None:
        """mmengine's ``run_iter`` with the position counted before the
        ``after_train_iter`` hooks (a checkpoint there includes the batch)."""
        self.runner.call_hook(
            'before_train_iter', batch_idx=batch_idx, data_batch=data_batch)
        outputs = self.runner.model.train_step(
            data_batch, optim_wrapper=self.runner.optim_wrapper)
        self._batches_done += 1
        self._in_iter = True
        try:
            self.runner.call_hook(
                'after_train_iter', batch_idx=batch_idx,
                data_batch=data_batch, outputs=outputs)
        finally:
            self._in_iter = False
        self._iter += 1


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(_ResumableMixin, EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` that resumes mid-epoch bit-exactly (same
    arguments)."""

    def __init__(self, runner, dataloader, *args, **kwargs) -> None:
        super().__init__(runner, _build_seeded(runner, dataloader), *args,
                         **kwargs)
        self._init_resume()

    def _position(self) -> Dict[str, int]:
        if self._in_iter:  # after_train_iter: the epoch goes on
            return dict(epoch=self._epoch, batch=self._batches_done,
                        iter=self._iter + 1)
        # after_train_epoch (epoch not yet counted) or validation after it
        epoch = self._epoch + (0 if self._rng_before_val else 1)
        return dict(epoch=epoch, batch=0, iter=self._iter)

    def run(self) -> torch.nn.Module:
        """mmengine's ``run`` with validation that keeps the RNG."""
        self.runner.call_hook('before_train')
        self._resume_at = self._take_pending()
        while self._epoch < self._max_epochs and not self.stop_training:
            self.run_epoch()
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._epoch >= self.val_begin
                    and (self._epoch % self.val_interval == 0
                         or self._epoch == self._max_epochs)):
                with self._validation_keeps_rng():
                    self.runner.val_loop.run()
        self.runner.call_hook('after_train')
        return self.runner.model

    def run_epoch(self) -> None:
        """One epoch, or the rest of the resumed one."""
        state, self._resume_at = getattr(self, '_resume_at', None), None
        skip = state['batch'] if state else 0
        if state and state['epoch'] != self._epoch:
            raise RuntimeError(
                f'resume state is for epoch {state["epoch"]}, the loop is at '
                f'epoch {self._epoch}')
        if state and not skip:
            self._restore_rng(state)
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        self._batches_done = skip
        discard = self._skip_batches(skip) if skip else 0
        batches = iter(self.dataloader)
        for _ in range(discard):
            next(batches)
        if skip:
            self._restore_rng(state)
        for idx, data_batch in enumerate(batches, start=skip):
            self._step(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def _skip_batches(self, num: int) -> int:
        """Make the next pass over the loader start at batch ``num``;
        returns how many batches the caller must still load and discard
        (0 with a seeded sampler)."""
        print_log(f'Resuming epoch {self._epoch + 1} after its first {num} '
                  'batches', logger='current')
        sampler = self._seeded_sampler
        if sampler is None:
            return num
        sampler.skip_next(num * self.dataloader.batch_size)
        return 0


@LOOPS.register_module()
class ResumableIterBasedTrainLoop(_ResumableMixin, IterBasedTrainLoop):
    """``IterBasedTrainLoop`` that resumes bit-exactly without loading the
    batches already trained on (with an ``InfiniteSampler``)."""

    def __init__(self, runner, dataloader, *args, **kwargs) -> None:
        super().__init__(runner, _build_seeded(runner, dataloader), *args,
                         **kwargs)
        self._init_resume()

    def _position(self) -> Dict[str, int]:
        return dict(epoch=0, batch=0,
                    iter=self._iter + (1 if self._in_iter else 0))

    def run(self) -> torch.nn.Module:
        """mmengine's ``run``: sampler-side skipping, RNG restored before
        the first resumed iteration, validation keeps the RNG."""
        self.runner.call_hook('before_train')
        state = self._take_pending()
        self.runner.call_hook('before_train_epoch')
        if self._iter > 0:
            self._skip_iterations(self._iter)
        if state is not None:
            self._restore_rng(state)
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            data_batch = next(self.dataloader_iterator)
            self._step(self._iter, data_batch)
            self._decide_current_val_interval()
            if (self.runner.val_loop is not None
                    and self._iter >= self.val_begin
                    and (self._iter % self.val_interval == 0
                         or self._iter == self._max_iters)):
                with self._validation_keeps_rng():
                    self.runner.val_loop.run()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model

    def _skip_iterations(self, num: int) -> None:
        sampler = self._seeded_sampler
        if sampler is not None and isinstance(sampler.sampler,
                                              InfiniteSampler):
            print_log(f'Resuming after {num} iterations: the sampler skips '
                      'their samples', logger='current')
            # a fresh iterator (its workers) starting after those samples
            sampler.skip_next(num * self.dataloader.batch_size)
            self.dataloader_iterator = _InfiniteDataloaderIterator(
                self.dataloader)
            return
        print_log(f'Advance dataloader {num} steps to skip data that has '
                  'already been trained', logger='current',
                  level=logging.WARNING)
        for _ in range(num):
            next(self.dataloader_iterator)
