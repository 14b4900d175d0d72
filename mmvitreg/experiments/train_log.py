"""The training loss per epoch, read back from a run's own log, and the
epoch at which it leaves the chance plateau.

A 10-class classifier that predicts the uniform distribution has a
cross-entropy of exactly ln(10) = 2.3026 whatever its (smoothed, mixed or
soft) targets, so a logged loss at ln(10) means "not learning yet". The
tiny ViTs sit there for a seed-dependent number of epochs; when a seed
leaves it decides most of its final top-1 at a 15-epoch budget.

mmengine logs ``loss`` as the classification head's loss even when a
model adds terms (``loss_cosine``, ``loss_token``, ...): its
``parse_losses`` puts the sum first and the head's own ``loss`` key then
overwrites that value, so ``loss`` here is always the classifier's
cross-entropy.
"""
import glob
import math
import os.path as osp
import re
from typing import List, Optional, Sequence

LN10 = math.log(10)
#: below ln(10) by more than this (nats, epoch mean): off the plateau. On
#: it the epoch means stay within about 0.02 of ln(10) (the baseline's
#: first 3 epochs, seed 0, measured here); 0.1 is 5x that.
MARGIN = 0.1

_LINE = re.compile(r'Epoch\(train\)\s*\[(\d+)\]\[\s*\d+/\d+\].*?\sloss: '
                   r'([0-9.]+(?:e[-+]?\d+)?|nan|inf)')


def loss_per_epoch(log_text: str) -> List[float]:
    """Mean of the logged training ``loss`` values of each epoch
    (``mmengine`` ``Epoch(train) [e][i/n] ... loss: x`` lines), epoch 1
    first; an epoch without a logged line is an error (a log cut short
    inside the run would otherwise shift every later epoch)."""
    sums, counts = {}, {}
    for match in _LINE.finditer(log_text):
        epoch, value = int(match.group(1)), float(match.group(2))
        sums[epoch] = sums.get(epoch, 0.0) + value
        counts[epoch] = counts.get(epoch, 0) + 1
    if not sums:
        return []
    missing = sorted(set(range(1, max(sums) + 1)) - set(sums))
    if missing:
        raise ValueError(f'training log has no loss line for epochs '
                         f'{missing}')
    return [sums[e] / counts[e] for e in range(1, max(sums) + 1)]


def read_training_log(work_dir: str) -> str:
    """The text of mmengine's own logs of a run (``<work_dir>/<timestamp>/
    <timestamp>.log``, one per launch, oldest first): written whatever the
    tools print to the console, so a quiet console log loses nothing."""
    paths = sorted(glob.glob(osp.join(work_dir, '*', '*.log')))
    if not paths:
        raise FileNotFoundError(f'no mmengine log under {work_dir}/*/')
    texts = []
    for path in paths:
        with open(path) as f:
            texts.append(f.read())
    return '\n'.join(texts)


def plateau_exit_epoch(losses: Sequence[float],
                       margin: float = MARGIN) -> Optional[int]:
    """The first epoch (1-based) whose mean loss is below ln(10) - margin;
    None when the run never leaves the plateau."""
    for epoch, loss in enumerate(losses, start=1):
        if loss < LN10 - margin:
            return epoch
    return None
