"""MixToken (Jiang et al. 2021, "All Tokens Matter: Token Labeling for
Training Better Vision Transformers"): CutMix on the token sequence after
the patch embedding."""
from typing import Callable, NamedTuple, Optional, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmpretrain.registry import BATCH_AUGMENTS

from .grid_box import kept_fraction, sample_grid_box


class TokenMix(NamedTuple):
    """One sampled MixToken draw.

    Attributes:
        mask (Tensor): ``(Ht, Wt)`` bool on the token grid, ``M``: True where
            the token comes from the image itself (image 1), False inside the
            box, where it comes from the partner (the batch flipped).
        lam (float): :math:`\\bar\\lambda`, the exact fraction of tokens taken
            from image 1 (``M.mean()``).
        box (tuple): ``(y1, y2, x1, x2)`` of the box in token cells.
    """
    mask: torch.Tensor
    lam: float
    box: Tuple[int, int, int, int]


@BATCH_AUGMENTS.register_module()
class MixToken:
    r"""MixToken: a box of tokens of every image is replaced by the same box
    of its partner's tokens (the batch flipped), after the patch embedding:

    .. math::
        T = T_1 \odot M + T_2 \odot (1 - M), \qquad
        y_i = M_i y_{1,i} + (1 - M_i) y_{2,i}, \qquad
        y_{cls} = \bar\lambda y_1 + (1 - \bar\lambda) y_2

    with :math:`M` a binary box mask on the token grid (box side
    :math:`\sqrt{1-\lambda}` of the grid, :math:`\lambda \sim Beta(\alpha,
    \alpha)`) and :math:`\bar\lambda` the exact fraction of tokens from
    image 1. Unlike image CutMix, the mixing happens on the tokens, so with
    a convolutional (overlapping) patch embedding such as LV-ViT's every
    token is exactly one image's embedding.

    This is not an image-level augment: it is configured as
    ``TokenLabelingClassifier(mix_token=dict(type='MixToken', ...))``, which
    applies it in training only, through a forward hook on
    ``backbone.patch_embed`` (see :meth:`patch_embed_hook`). Putting it in
    ``train_cfg.augments`` raises an error.

    Args:
        alpha (float): Beta distribution parameter. Defaults to 1.0.
        prob (float): Probability of mixing a batch. Defaults to 1.0.
    """

    def __init__(self, alpha: float = 1.0, prob: float = 1.0) -> None:
        if float(alpha) <= 0:
            raise ValueError(f'MixToken: alpha must be > 0, got {alpha}')
        if not 0. <= float(prob) <= 1.:
            raise ValueError(f'MixToken: prob must be in [0, 1], got {prob}')
        self.alpha = float(alpha)
        self.prob = float(prob)

    def __call__(self, *args, **kwargs):
        raise TypeError(
            'MixToken mixes tokens after the patch embedding, not images: '
            'configure it as the model\'s `mix_token` '
            "(type='TokenLabelingClassifier'), not in train_cfg.augments")

    # ----- sampling -----
    def sample(self, grid: Tuple[int, int], device: torch.device = None,
               lam: Optional[float] = None) -> Optional[TokenMix]:
        """Draw a mask on the token ``grid`` ``(Ht, Wt)``; None when the batch
        is left unmixed (probability ``1 - prob``). ``lam`` overrides the
        Beta draw (the box centre stays random)."""
        if lam is None:
            if self.prob < 1. and np.random.rand() >= self.prob:
                return None
            lam = np.random.beta(self.alpha, self.alpha)
        box = sample_grid_box(grid, float(lam))
        y1, y2, x1, x2 = box
        mask = torch.ones(*grid, dtype=torch.bool, device=device)
        mask[y1:y2, x1:x2] = False
        return TokenMix(mask, kept_fraction(grid, box), box)

    # ----- mixing -----
    @staticmethod
    def _flat_mask(mix: TokenMix, grid: Tuple[int, int]) -> torch.Tensor:
        """``M`` resized to ``grid`` (an integer multiple of the mask grid,
        nearest), flattened to ``(N,)`` in row-major token order."""
        mask = mix.mask
        if tuple(mask.shape) != tuple(grid):
            mh, mw = mask.shape
            if grid[0] % mh or grid[1] % mw:
                raise ValueError(
                    f'MixToken: mask grid {tuple(mask.shape)} does not divide '
                    f'the patch-embedding grid {tuple(grid)}')
            mask = mask.repeat_interleave(grid[0] // mh, 0).repeat_interleave(
                grid[1] // mw, 1)
        return mask.flatten()

    @classmethod
    def mix_tokens(cls, tokens: torch.Tensor, mix: TokenMix,
                   grid: Tuple[int, int]) -> torch.Tensor:
        """``T1 * M + T2 * (1 - M)`` for tokens ``(B, N, C)`` on ``grid``
        (row-major), ``T2`` the batch flipped."""
        mask = cls._flat_mask(mix, grid).to(tokens.device)
        if mask.numel() != tokens.size(1):
            raise ValueError(f'MixToken: {tokens.size(1)} tokens do not fit '
                             f'the grid {tuple(grid)}')
        return torch.where(mask.view(1, -1, 1), tokens, tokens.flip(0))

    @classmethod
    def mix_dense_targets(cls, targets: torch.Tensor,
                          mix: TokenMix) -> torch.Tensor:
        """Token labels ``(B, N, K)`` on the mask grid, mixed with the same
        ``M``."""
        return cls.mix_tokens(targets, mix, tuple(mix.mask.shape))

    @staticmethod
    def mix_scores(scores: torch.Tensor, mix: TokenMix) -> torch.Tensor:
        """Class targets ``(B, K)``: ``lam_bar y1 + (1 - lam_bar) y2``."""
        return mix.lam * scores + (1. - mix.lam) * scores.flip(0)

    @staticmethod
    def patch_source(mix: TokenMix, batch_size: int) -> torch.Tensor:
        """``(B, Ht, Wt)`` long: batch index of the image each token came
        from (``b`` or ``B-1-b``), the format of ``PatchMixing``'s record."""
        index = torch.arange(batch_size, device=mix.mask.device).view(-1, 1, 1)
        flipped = batch_size - 1 - index
        return torch.where(mix.mask.unsqueeze(0), index, flipped)

    def patch_embed_hook(self, mix: TokenMix) -> Callable:
        """A forward hook for an mmpretrain-style patch embedding returning
        ``(tokens (B, N, C), (h, w))``: replaces the tokens by their mix.
        Register it before any other hook on the module so that later hooks
        see the mixed tokens."""

        def hook(module, args, output):
            tokens, grid = output
            return self.mix_tokens(tokens, mix, tuple(grid)), grid

        return hook

    @staticmethod
    def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
        """``(B,)`` labels -> ``(B, K)`` float one-hot."""
        return F.one_hot(labels.long(), num_classes).float()
