"""Token labeling: making machine-annotator score maps. The maps as data
(format, writer, store, batch expansion) are in
:mod:`mmvitreg.structures.token_labels`, below the datasets and models that
read them; this package builds models and process groups, so it sits above.

- :mod:`.annotator`: :class:`DenseAnnotator`, a classifier's head applied at
  every feature location (top-k per location).

Generating a store (``tools/generate_token_labels.py``), imported on
demand rather than here (it builds models and process groups):

- :mod:`.annotator_models`: the annotating classifier (mmpretrain config or
  timm model) with its normalisation and input size;
- :mod:`.image_list`: the images of a split;
- :mod:`.resume`: what a previous run left (resume scan, ``--verify``);
- :mod:`.generation`: one annotation run over processes.

The crop-aligned dense targets are made by the transforms in
``mmvitreg/datasets/transforms/token_label_alignment.py``.
"""
from .annotator import DenseAnnotator, linear_as_conv1x1

__all__ = ['DenseAnnotator', 'linear_as_conv1x1']
