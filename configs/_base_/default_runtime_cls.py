# Classification runtime: mmpretrain's own defaults plus mmvitreg registration.
_base_ = 'mmpretrain::_base_/default_runtime.py'

default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmvitreg'], allow_failed_imports=False)
