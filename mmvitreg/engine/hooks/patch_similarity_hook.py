"""Log the per-layer patch similarity (over-smoothing) during training."""
from typing import List, Optional, Sequence, Tuple

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS

from mmvitreg.models.utils.patch_similarity import layer_similarity


@HOOKS.register_module()
class PatchSimilarityHook(Hook):
    """Track the mean pairwise cosine similarity of patch tokens per block.

    On a fixed probe of ``num_images`` images, at every block ``l``:
    ``mean_b (|s_b|^2 - N) / (N (N - 1))`` with ``s_b = sum_i h_i / |h_i|``
    over the patch tokens ``h^[l]`` ``(B, N, C)`` of image ``b`` (Gong et
    al. 2021, Figure 1; see :mod:`mmvitreg.models.utils.patch_similarity`).

    The probe is the first ``num_images`` samples (dataset order, no
    shuffling) of the validation dataset, or of the training dataset when
    the runner has no validation loop or ``split='train'``, taken once at
    ``before_train`` and collated with the loader's ``collate_fn``; random
    training augmentations are therefore drawn once and then frozen.

    The curve is computed in ``torch.no_grad()`` with the model in eval mode
    (its mode is restored afterwards; DDP wrappers are unwrapped) and logged
    as scalars ``{prefix}/layer_00 ...`` and ``{prefix}/last``:

    * to ``runner.visualizer.add_scalars(..., step=iteration)`` (TensorBoard,
      local ``scalars.json``, ...), ``iteration`` being the number of
      finished training iterations;
    * to ``runner.message_hub`` under the same names (no ``train/`` prefix,
      so that ``LoggerHook`` does not re-send stale values every interval);
    * as one ``runner.logger`` line.

    With ``rank0_only=True`` only the main process measures and logs; the
    hook issues no collective operation, so other ranks never wait on it.

    Example::

        custom_hooks = [
            dict(type='PatchSimilarityHook', interval=500, num_images=64)]

    Args:
        interval (int, optional): Measure every ``interval`` training
            iterations; ``None`` or 0 to disable. Defaults to 500.
        num_images (int): Probe size. Defaults to 64.
        after_epoch (bool): Also measure after every training epoch.
            Defaults to False.
        before_train (bool): Also measure once before training (step 0).
            Defaults to False.
        split (str): ``'val'`` (falls back to ``'train'`` without a
            validation loop) or ``'train'``. Defaults to ``'val'``.
        batch_size (int, optional): Probe images per forward pass; defaults
            to the source loader's batch size.
        final_norm (bool): Read the last block after the backbone's final
            norm, as the patch-wise cosine loss does. Defaults to True.
        prefix (str): Scalar name prefix. Defaults to ``'patch_sim'``.
        rank0_only (bool): Measure only on the main process. Defaults to
            True.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: Optional[int] = 500,
                 num_images: int = 64,
                 after_epoch: bool = False,
                 before_train: bool = False,
                 split: str = 'val',
                 batch_size: Optional[int] = None,
                 final_norm: bool = True,
                 prefix: str = 'patch_sim',
                 rank0_only: bool = True) -> None:
        if interval is not None and interval < 0:
            raise ValueError(
                f'PatchSimilarityHook: interval must be >= 0, got {interval}')
        if num_images < 1:
            raise ValueError('PatchSimilarityHook: num_images must be '
                             f'positive, got {num_images}')
        if split not in ('val', 'train'):
            raise ValueError("PatchSimilarityHook: split must be 'val' or "
                             f"'train', got {split!r}")
        if batch_size is not None and batch_size < 1:
            raise ValueError('PatchSimilarityHook: batch_size must be '
                             f'positive, got {batch_size}')
        self.interval = interval or 0
        self.num_images = num_images
        self.after_epoch = after_epoch
        self.measure_before_train = before_train
        self.split = split
        self.batch_size = batch_size
        self.final_norm = final_norm
        self.prefix = prefix
        self.rank0_only = rank0_only
        self._probe: List[dict] = []
        self._probe_size = 0
        self._last_step: Optional[int] = None
        #: ``(step, curve)`` of every measurement on this process.
        self.history: List[Tuple[int, List[float]]] = []

    # ------------------------------------------------------------------ probe
    def _source_loader(self, runner):
        if self.split == 'val' and runner.val_loop is not None:
            return runner.val_dataloader
        return runner.train_dataloader

    def _build_probe(self, runner) -> None:
        loader = self._source_loader(runner)
        dataset = loader.dataset
        size = min(self.num_images, len(dataset))
        if size == 0:
            raise ValueError('PatchSimilarityHook: the probe dataset '
                             f'{type(dataset).__name__} is empty')
        batch_size = self.batch_size or loader.batch_size or 1
        samples = [dataset[i] for i in range(size)]
        self._probe = [
            loader.collate_fn(samples[start:start + batch_size])
            for start in range(0, size, batch_size)
        ]
        self._probe_size = size

    def _active(self) -> bool:
        return not self.rank0_only or is_main_process()

    # -------------------------------------------------------------- measuring
    def measure(self, runner) -> List[float]:
        """The similarity curve of ``runner.model`` on the probe."""
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        return layer_similarity(
            model, self._probe, self._probe_size, final_norm=self.final_norm)

    def scalar_names(self, num_blocks: int) -> List[str]:
        width = max(2, len(str(num_blocks - 1)))
        return [
            f'{self.prefix}/layer_{i:0{width}d}' for i in range(num_blocks)
        ]

    def _log(self, runner, step: int, curve: Sequence[float]) -> None:
        scalars = dict(zip(self.scalar_names(len(curve)), curve, strict=True))
        scalars[f'{self.prefix}/last'] = curve[-1]
        for name, value in scalars.items():
            runner.message_hub.update_scalar(name, value)
        runner.visualizer.add_scalars(scalars, step=step)
        values = ' '.join(f'{v:.3f}' for v in curve)
        runner.logger.info(
            f'Patch similarity at iter {step} ({self._probe_size} images, '
            f'{len(curve)} blocks): {values} | last {curve[-1]:.4f}')

    def _measure_and_log(self, runner, step: int) -> None:
        if not self._active() or step == self._last_step:
            return
        curve = self.measure(runner)
        self._last_step = step
        self.history.append((step, list(curve)))
        self._log(runner, step, curve)

    # ------------------------------------------------------------------ hooks
    def before_train(self, runner) -> None:
        if not self._active():
            return
        self._build_probe(runner)
        if self.measure_before_train:
            self._measure_and_log(runner, runner.iter)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        if self.interval and self.every_n_train_iters(runner, self.interval):
            self._measure_and_log(runner, runner.iter + 1)

    def after_train_epoch(self, runner) -> None:
        if self.after_epoch:
            # the loop has already counted the epoch's last iteration
            self._measure_and_log(runner, runner.iter)
