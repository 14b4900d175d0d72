"""The model part of a config as mmengine's ``Runner`` builds it."""
from mmengine.config import Config, ConfigDict


def model_config(cfg: Config) -> ConfigDict:
    """A copy of ``cfg.model`` with the top-level ``data_preprocessor``
    merged in (``setdefault``: the model's own one wins), as
    ``Runner.__init__`` does before building the model.

    Building ``cfg.model`` alone would silently give the model a default
    preprocessor (no mean/std, no batch augments) instead of the config's.
    """
    model_cfg = cfg.model.copy()
    if cfg.get('data_preprocessor') is not None:
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    return model_cfg
