"""One annotation run: the images of a split not yet in the store are
annotated, one disjoint slice per process, and rank 0 merges the index.

``tools/generate_token_labels.py`` is argument parsing plus
:func:`annotate` (or :func:`~.resume.verify_store`); under ``torchrun``
``mmvitreg.engine.process_group.process_group`` opens and closes the
process group around it.
"""
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np
import torch
from mmengine import dist
from mmengine.utils import ProgressBar

from mmvitreg.structures.token_labels.shard_format import (
    merge_index,
    read_manifests,
    shard_size_ok,
)
from mmvitreg.structures.token_labels.shard_writer import ShardWriter

from .annotator import DenseAnnotator
from .annotator_models import Preprocess, build_annotator_model
from .image_list import ImageList
from .resume import scan_done


@dataclass
class AnnotationJob:
    """What to annotate with and where to write (the tool's options).

    ``model``: an mmpretrain config (``.py``) or a timm model name;
    ``resolution``: the input side ``S`` (None: the model's own);
    ``workers``: image-decoding workers per process.
    """
    model: str
    checkpoint: Optional[str]
    out: str
    split: str = 'train'
    topk: int = 5
    resolution: Optional[int] = None
    batch_size: int = 32
    shard_size: int = 1024
    workers: int = 2
    device: Optional[str] = None
    model_kwargs: dict = field(default_factory=dict)


def _device(job: AnnotationJob, world: int) -> str:
    device = job.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if device == 'cuda' and world > 1:
        device = f'cuda:{torch.cuda.current_device()}'
    return device


def _my_pending(job: AnnotationJob, keys: List[str], rank: int,
                world: int) -> List[str]:
    """This process's slice of the images not yet in the store (rank 0
    scans the store and tells the others)."""
    pending = [None]
    if rank == 0:
        os.makedirs(job.out, exist_ok=True)
        done = scan_done(job.out, job.topk)
        pending = [[k for k in keys if k not in done]]
        print(f'token labels: {len(keys) - len(pending[0])} of {len(keys)} '
              f'images already in {job.out}; annotating '
              f'{len(pending[0])} with {world} process(es)', flush=True)
    dist.broadcast_object_list(pending, src=0)
    return pending[0][rank::world]


def _open_writer(job: AnnotationJob, num_classes: int, size: int,
                 rank: int) -> ShardWriter:
    return ShardWriter(
        job.out,
        rank=rank,
        topk=min(job.topk, num_classes),
        num_classes=num_classes,
        shard_size=job.shard_size,
        meta=dict(model=job.model, checkpoint=job.checkpoint,
                  resolution=size, split=job.split))


def _write_all(loader, annotator: DenseAnnotator, preprocess: Preprocess,
               writer: ShardWriter, device: str,
               bar: Optional[ProgressBar]) -> None:
    """Annotate every batch; top-k scores as float16, classes as int16."""
    for batch_keys, imgs in loader:
        scores, indices = annotator(preprocess(imgs.to(device)))
        scores = scores.cpu().numpy().astype(np.float16)
        indices = indices.cpu().numpy().astype(np.int16)
        for key, s, i in zip(batch_keys, scores, indices, strict=True):
            writer.add(key, s, i)
        if bar is not None:
            bar.update(len(batch_keys))
    writer.close()
    if bar is not None:
        print(flush=True)


def _merge(out: str) -> None:
    """Merge the intact shards' manifests into ``out/index.json``."""
    manifests = [m for m in read_manifests(out) if shard_size_ok(out, m)]
    index = merge_index(out, manifests)
    print(f'token labels: {len(index["images"])} images in '
          f'{len(index["shards"])} shards, index '
          f'{osp.join(out, "index.json")}', flush=True)


def annotate(job: AnnotationJob, folder: str, keys: List[str]) -> int:
    """Annotate the images of ``keys`` (relative to ``folder``) not yet in
    the store ``job.out``; returns how many this process annotated."""
    rank, world = dist.get_rank(), dist.get_world_size()
    device = _device(job, world)
    model, preprocess, native = build_annotator_model(
        job.model, job.checkpoint, device, job.model_kwargs)
    size = job.resolution or native
    annotator = DenseAnnotator(model, topk=job.topk)
    mine = _my_pending(job, keys, rank, world)
    with torch.no_grad():
        num_classes = annotator.score_map(
            preprocess(torch.zeros(1, 3, size, size, dtype=torch.uint8,
                                   device=device))).shape[1]
    writer = _open_writer(job, num_classes, size, rank)
    loader = torch.utils.data.DataLoader(
        ImageList(folder, mine, size),
        batch_size=job.batch_size,
        num_workers=job.workers if mine else 0)
    bar = ProgressBar(len(mine)) if rank == 0 and mine else None
    _write_all(loader, annotator, preprocess, writer, device, bar)
    dist.barrier()
    if rank == 0:
        _merge(job.out)
    return len(mine)
