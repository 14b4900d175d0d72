"""The suite's model zoo in OpenMMLab's format (``model-index.yml`` at the
repository root, one ``metafile.yml`` per config family under
``configs/model_zoo/``), registered so that mim and mmpretrain find it."""
from .index import load_models, zoo_root
from .register import register_model_zoo
from .table import model_zoo_table

__all__ = ['load_models', 'model_zoo_table', 'register_model_zoo', 'zoo_root']
