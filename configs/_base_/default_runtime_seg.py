# Segmentation runtime: mmseg's own defaults plus mmvitreg registration.
# ``mmvitreg`` must be imported before mmseg (it installs the mmcv-lite
# ``mmcv.ops`` stand-in), hence first in ``custom_imports``.
_base_ = 'mmseg::_base_/default_runtime.py'

default_scope = 'mmseg'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
