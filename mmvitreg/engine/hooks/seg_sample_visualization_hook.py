"""mmseg's visualization hook, drawing every ``interval``-th image.

mmseg's ``SegVisualizationHook`` draws every sample of every
``interval``-th *batch* (default 50): ``tools/test.py --show-dir`` on a
test set of one batch painted nothing. mmpretrain's ``VisualizationHook``
and mmpretrain's ``tools/test.py --interval`` count *images*; this hook
gives the segmenters that meaning (``tools/test.py --show-dir D
[--interval N]`` puts it in place of mmseg's), and leaves the drawing
itself to mmseg's hook.
"""
from typing import Sequence

from mmseg.engine.hooks import SegVisualizationHook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class SegSampleVisualizationHook(SegVisualizationHook):
    """``SegVisualizationHook`` whose ``interval`` counts images: images 0,
    N, 2N, ... of each validation or test run are drawn.

    Args:
        interval (int): draw every ``interval``-th image. Defaults to 1.
        **kwargs: the other arguments of ``SegVisualizationHook``.
    """

    def __init__(self, interval: int = 1, **kwargs) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        super().__init__(interval=1, **kwargs)  # upstream: every batch
        self.sample_interval = interval
        self._seen = 0

    def before_val_epoch(self, runner) -> None:
        self._seen = 0

    def before_test_epoch(self, runner) -> None:
        self._seen = 0

    def _after_iter(self, runner, batch_idx: int, data_batch: dict,
                    outputs: Sequence, mode: str = 'val') -> None:
        chosen = [out for index, out in enumerate(outputs, self._seen)
                  if index % self.sample_interval == 0]
        self._seen += len(outputs)
        if chosen:
            super()._after_iter(runner, batch_idx, data_batch, chosen, mode)
