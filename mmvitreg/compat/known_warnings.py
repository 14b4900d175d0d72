"""The warnings of the pinned stack that are known and harmless: filtered
here, and only here, by message (and category where the message is
generic), so that the tools print what matters.

Each one comes from upstream code the suite runs as designed:

* setuptools < 82 (needed by mmengine to resolve ``mmseg::`` bases) warns
  on every import of ``pkg_resources``, several times per process;
* mmcv's pillow-backend colour jitter warns on every call (every training
  image of the 3-Augment/RandAugment pipelines) that ``alpha`` is only used
  with pillow, which is the backend the configs choose;
* torch 2.x warns that FSDP's ``state_dict_type`` / ``optim_state_dict``
  APIs, which mmengine 0.10.7's ``FSDPStrategy`` calls, are deprecated;
* mmseg 1.2.2 warns from its own decode heads and ``LoadAnnotations``
  that ``build_loss`` and ``reduce_zero_label`` will be deprecated, and
  from every ``CrossEntropyLoss`` built with its default
  ``avg_non_ignore=False`` (the recipes' setting);
* mmengine's ``Visualizer`` warns that its ``LocalVisBackend`` has no
  ``save_dir`` whenever an inferencer builds one (the inferencers write
  their outputs themselves).

Imports only the standard library: ``mmvitreg.compat`` applies it before
anything imports mmengine, and the interpreter-start hook
(:mod:`.startup_hook`) for upstream tools run in the venv.
"""
import warnings

#: (message regex, category) of each filtered warning.
KNOWN_HARMLESS = (
    (r'pkg_resources is deprecated as an API', Warning),
    (r"Only use 'alpha' for pillow backend", UserWarning),
    (r'FSDP\.state_dict_type\(\) and FSDP\.set_state_dict_type\(\) are '
     r'being deprecated', Warning),
    (r'``FullyShardedDataParallel\.\w+``\s*is being deprecated', Warning),
    (r'``build_loss`` would be deprecated soon', UserWarning),
    (r'`reduce_zero_label` will be deprecated', UserWarning),
    (r'Default ``avg_non_ignore`` is False', UserWarning),
    (r"Failed to add <class 'mmengine\.visualization\.vis_backend\."
     r"LocalVisBackend'>, please provide the `save_dir` argument",
     UserWarning),
)


def filter_known_warnings() -> None:
    """Ignore the :data:`KNOWN_HARMLESS` warnings (idempotent: the
    ``warnings`` module drops duplicate filters)."""
    for message, category in KNOWN_HARMLESS:
        warnings.filterwarnings('ignore', message=message, category=category)
