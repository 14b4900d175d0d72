"""Per-sample seeded data loading: augmentations that do not depend on
which process loads a sample, nor on what it loaded before.

mmengine seeds each loader worker once (``seed + worker_id``,
``mmengine.dataset.worker_init_fn``; no epoch), so a worker's random state
depends on every sample it loaded before: with persistent workers on the
whole run, otherwise on the epoch so far. A run resumed in the middle of an
epoch starts fresh workers and cannot reproduce those states, and with
``num_workers=0`` the pipeline draws from the training process's own
generators. Here every sample is loaded with Python, NumPy and torch-CPU
generators seeded from ``(seed, rank, epoch, position in the epoch)`` and
the caller's states are put back afterwards, so:

* a sample's augmentation is the same with 0, 2 or 8 workers, persistent or
  not, and after skipping the first ``n`` samples of an epoch;
* data loading in the main process (``num_workers=0``) leaves the training
  step's random stream (drop path, batch augments) untouched.

:class:`SeededSampler` wraps the sampler (it yields ``(index, seed)``
pairs and can skip the first samples of its next pass);
:class:`SeededDataset` wraps the dataset (it loads ``index`` under
``seed``; a plain ``int`` index loads as before).
"""
import itertools
import random
from contextlib import contextmanager
from typing import Any, Iterator, Optional, Tuple

import numpy as np
import torch
from mmengine.dataset import InfiniteSampler
from torch.utils.data import DataLoader, Dataset, Sampler


def sample_seed(seed: int, rank: int, epoch: int, position: int) -> int:
    """A 128-bit seed for one sample, from independent SeedSequence
    entropy (no arithmetic collisions between epochs and positions)."""
    words = np.random.SeedSequence(
        [seed % 2**63, rank, epoch, position]).generate_state(4)
    return int.from_bytes(words.tobytes(), 'little')


@contextmanager
def seeded_generators(seed: int) -> Iterator[None]:
    """Seed Python, NumPy and torch's CPU generator from ``seed`` inside,
    restore the caller's states outside (CUDA generators untouched)."""
    saved = (random.getstate(), np.random.get_state(),
             torch.default_generator.get_state())
    random.seed(seed)
    np.random.seed([(seed >> (32 * i)) & 0xFFFFFFFF for i in range(4)])
    torch.default_generator.manual_seed(seed & 0xFFFFFFFFFFFFFFFF)
    try:
        yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
        torch.default_generator.set_state(saved[2])


class SeededSampler(Sampler):
    """Yield ``(index, sample_seed)`` for each index of ``sampler``.

    Args:
        sampler: The sampler to wrap (``DefaultSampler``,
            ``InfiniteSampler``, ``RepeatAugSampler``, ...).
        seed (int): Base seed (the runner's).
        rank (int): Process rank (different augmentations per rank).
    """

    def __init__(self, sampler: Sampler, seed: int, rank: int = 0) -> None:
        self.sampler = sampler
        self.seed = seed
        self.rank = rank
        self.epoch = 0
        self._skip = 0

    def set_epoch(self, epoch: int) -> None:
        """Forwarded to the wrapped sampler (``DistSamplerSeedHook``)."""
        self.epoch = epoch
        if hasattr(self.sampler, 'set_epoch'):
            self.sampler.set_epoch(epoch)

    def skip_next(self, num_samples: int) -> None:
        """Make the next pass start at sample ``num_samples`` of its order
        (same order, same seeds as without skipping)."""
        self._skip = int(num_samples)

    def _pass(self) -> Iterator[int]:
        """A new pass of the wrapped sampler. mmengine's InfiniteSampler
        yields from one generator made at construction, so a second pass
        would continue (or, once the first is closed, end) it: its stream
        is restarted instead, so positions count from the run's start."""
        if isinstance(self.sampler, InfiniteSampler):
            return self.sampler._indices_of_rank()
        return iter(self.sampler)

    def __iter__(self) -> Iterator[Tuple[int, int]]:
        skip, self._skip = self._skip, 0
        indices = itertools.islice(self._pass(), skip, None)
        for position, index in enumerate(indices, start=skip):
            yield index, sample_seed(self.seed, self.rank, self.epoch,
                                     position)

    def __len__(self) -> int:
        return len(self.sampler)


class SeededDataset(Dataset):
    """Load ``dataset[index]`` under the seed a :class:`SeededSampler`
    paired with it; other attributes (``metainfo``, ...) are the wrapped
    dataset's."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, tuple):
            index, seed = key
            with seeded_generators(seed):
                return self.dataset[index]
        return self.dataset[key]

    def __len__(self) -> int:
        return len(self.dataset)

    def __getattr__(self, name: str) -> Any:
        if name == 'dataset':  # not set yet (unpickling in a worker)
            raise AttributeError(name)
        return getattr(self.dataset, name)


def seeded_dataloader(loader: DataLoader, seed: int,
                      rank: int = 0) -> Optional[DataLoader]:
    """The same loader with per-sample seeding, or ``None`` when the loader
    uses a custom ``batch_sampler`` (whose grouping this cannot follow)."""
    if loader.batch_size is None or isinstance(loader.dataset,
                                               SeededDataset):
        return None
    extra = {}
    for name in ('pin_memory_device', 'in_order'):
        if hasattr(loader, name):
            extra[name] = getattr(loader, name)
    return DataLoader(
        SeededDataset(loader.dataset),
        batch_size=loader.batch_size,
        sampler=SeededSampler(loader.sampler, seed, rank),
        num_workers=loader.num_workers,
        collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory,
        drop_last=loader.drop_last,
        timeout=loader.timeout,
        worker_init_fn=loader.worker_init_fn,
        multiprocessing_context=loader.multiprocessing_context,
        # base seeds of worker processes come from here, not from the
        # global generator the training step uses
        generator=torch.Generator().manual_seed(seed % 2**63),
        prefetch_factor=loader.prefetch_factor,
        persistent_workers=loader.persistent_workers,
        **extra)
