"""Mixed precision: one training step of each pretraining demo config under
CPU bf16 autocast gives the fp32 step's loss terms, and the diversity losses
stay finite and bounded on over-smoothed (near-identical) tokens in bf16.

mmengine 0.10.7's ``AmpOptimWrapper`` asserts a CUDA/NPU/MLU/MUSA device in
``__init__``, so it cannot be built on this CPU machine. Its training path
is ``optim_context`` = ``OptimWrapper.optim_context`` inside
``mmengine.runner.amp.autocast(dtype=cast_dtype)`` plus a ``GradScaler``
(which bf16 does not need); :class:`CpuBf16OptimWrapper` below is exactly
that context on CPU, driven through the model's own ``train_step``.
"""
import copy
import math
import os.path as osp
from contextlib import contextmanager

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.runner.amp import autocast
from mmpretrain.registry import MODELS
from random_token_labels import random_token_label_store
from tool_runner import ROOT

import mmvitreg  # noqa: F401
from mmvitreg.models.utils import model_config

CONFIGS = ('vit_tiny_digits', 'vit_tiny_digits_diverse',
           'vit_tiny_digits_token_labeling', 'deit3_tiny_digits')
BATCH = 8
#: Tolerances (relative), from bf16's 8 mantissa bits (step 2^-8 = 0.4%):
#: the suite's losses take the bf16 features but reduce in fp32; measured
#: here every such term is within 2e-4 of its fp32 value (cosine: 8e-4 of
#: its small value 0.024). The class-token term of mmpretrain's soft-target
#: CrossEntropy/LabelSmoothLoss runs log_softmax in bf16 under CPU autocast
#: (CUDA autocast runs it in fp32): measured 0.8% off.
SUITE_RTOL = 3e-3
MMPRETRAIN_CE_RTOL = 2e-2
#: the 'loss' key is ThresholdedBCELoss (the suite's) in the DeiT III demo
SUITE_CLASS_LOSS = {'deit3_tiny_digits'}


class CpuBf16OptimWrapper(OptimWrapper):
    """``AmpOptimWrapper.optim_context`` on CPU with bf16 (no scaler)."""

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), \
                autocast(device_type='cpu', dtype=torch.bfloat16):
            yield


def _setup(name: str, digits_root: str, tmp_path):
    """(model, optim_wrapper config, one training batch) of a demo."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs/demo', name + '.py'))
    init_default_scope('mmpretrain')
    loader = copy.deepcopy(cfg.train_dataloader)
    loader.update(batch_size=BATCH, num_workers=0, persistent_workers=False)
    loader.dataset.update(data_root=osp.join(digits_root, 'imagenet'),
                          indices=BATCH)
    if 'token_labeling' in name:
        store = random_token_label_store(digits_root, str(tmp_path / 'store'),
                                         BATCH)
        loader.dataset.pipeline[1].store_root = store
    batch = next(iter(Runner.build_dataloader(loader, seed=0)))
    # stochastic depth off: under autocast DropPath draws its keep mask in
    # bf16 (keep_prob + rand rounded), a different network, not a
    # precision error of the losses
    cfg.model.backbone.drop_path_rate = 0.
    torch.manual_seed(0)
    model = MODELS.build(model_config(cfg))
    model.init_weights()
    # std 0.02 heads give ~uniform logits (loss ln K in any precision);
    # larger weights make the class term depend on the features
    for param in model.head.parameters():
        torch.nn.init.normal_(param, std=0.5)
    return model, cfg.optim_wrapper, batch


def _step(model, optim_cfg, batch, amp: bool) -> dict:
    """``train_step`` on a copy of ``model`` (it updates the weights, which
    stay finite); the logged loss terms."""
    before = [p.detach().clone() for p in model.parameters()]
    model = copy.deepcopy(model).train()
    optim_cfg = copy.deepcopy(optim_cfg)
    if amp:
        optim_cfg['type'] = CpuBf16OptimWrapper
    wrapper = build_optim_wrapper(model, optim_cfg)
    torch.manual_seed(1)
    np.random.seed(1)
    log_vars = model.train_step(copy.deepcopy(batch), wrapper)
    after = list(model.parameters())
    assert all(torch.isfinite(p).all() for p in after)
    assert any(not torch.equal(a, b)
               for a, b in zip(after, before, strict=True))
    return {k: float(v) for k, v in log_vars.items()}


@pytest.mark.parametrize('name', CONFIGS)
def test_bf16_step_matches_fp32(name, digits_root, tmp_path):
    model, optim_cfg, batch = _setup(name, digits_root, tmp_path)
    fp32 = _step(model, optim_cfg, batch, amp=False)
    bf16 = _step(model, optim_cfg, batch, amp=True)
    expected = {'vit_tiny_digits': {'loss'},
                'vit_tiny_digits_diverse': {
                    'loss', 'loss_cosine', 'loss_contrastive',
                    'loss_mixing'},
                'vit_tiny_digits_token_labeling': {'loss', 'loss_token'},
                'deit3_tiny_digits': {'loss'}}[name]
    assert expected <= set(fp32) and set(bf16) == set(fp32)
    for key, value in fp32.items():
        rtol = SUITE_RTOL
        if key == 'loss' and name not in SUITE_CLASS_LOSS:
            rtol = MMPRETRAIN_CE_RTOL
        assert math.isfinite(bf16[key]), key
        assert bf16[key] == pytest.approx(value, rel=rtol), key


def test_amp_context_really_casts_to_bf16():
    """Guards the test above: inside the wrapper's context a linear layer
    runs in bf16 (otherwise both steps would be fp32 and trivially equal)."""
    layer = torch.nn.Linear(4, 4)
    wrapper = CpuBf16OptimWrapper(torch.optim.SGD(layer.parameters(), 0.1))
    with wrapper.optim_context(layer):
        assert layer(torch.randn(2, 4)).dtype == torch.bfloat16


def _near_identical_tokens(b=2, n=16, c=64, eps=1e-2) -> torch.Tensor:
    torch.manual_seed(0)
    base = torch.randn(b, 1, c)
    return (base + eps * torch.randn(b, n, c)).bfloat16()


def test_cosine_loss_bounded_on_oversmoothed_bf16_tokens():
    tokens = _near_identical_tokens().requires_grad_()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = MODELS.build(dict(type='PatchCosineLoss'))(tokens)
    loss.backward()
    assert loss.dtype == torch.float32
    # expectation: explicit fp64 Gram matrix of the same bf16 tokens
    unit = F.normalize(tokens.detach().double(), dim=-1)
    sim = unit @ unit.transpose(1, 2)
    n = tokens.size(1)
    off_diag = ~torch.eye(n, dtype=torch.bool)
    explicit = torch.stack([s[off_diag].mean() for s in sim]).mean()
    assert 0.99 < explicit.item() < 1.0
    assert loss.item() == pytest.approx(explicit.item(), abs=1e-5)
    assert -1 / (n - 1) <= loss.item() <= 1 + 1e-6
    assert torch.isfinite(tokens.grad).all()


def test_contrastive_loss_bounded_on_oversmoothed_bf16_tokens():
    first = _near_identical_tokens()
    last = _near_identical_tokens(eps=2e-2).requires_grad_()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = MODELS.build(dict(type='PatchContrastiveLoss'))(first, last)
    loss.backward()
    n = first.size(1)
    # all logits ~1: the softmax is ~uniform, the loss ~log N; with unit
    # vectors and t = 1 it can never leave [0, log N + 2]
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(math.log(n), abs=1e-2)
    assert 0 <= loss.item() <= math.log(n) + 2
    assert torch.isfinite(last.grad).all()
