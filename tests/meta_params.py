"""Build full-size models without memory: parameters registered on ``meta``.

mmpretrain's Swin calls ``Tensor.item()`` in ``__init__``, so a plain
``torch.device('meta')`` context cannot build every config; moving each
parameter to ``meta`` as it is registered can.
"""
import contextlib

from torch import nn


@contextlib.contextmanager
def params_on_meta():
    """Register every parameter on ``meta`` (no memory, no init cost)."""
    orig = nn.Module.register_parameter

    def register(self, name, param):
        if param is not None:
            param = nn.Parameter(
                param.to('meta'), requires_grad=param.requires_grad)
        orig(self, name, param)

    nn.Module.register_parameter = register
    try:
        yield
    finally:
        nn.Module.register_parameter = orig
