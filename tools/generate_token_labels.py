"""Write machine-annotator token labels (top-k dense score maps) for a split.

Token labeling (``methods.md`` section 2): a pretrained classifier's head is
applied at every location of its last feature map (``DenseAnnotator``) and
the top-k (score, class) pairs per location are stored for every image
(``mmvitreg/token_labels/storage.py`` describes the format).

Usage::

    # an mmpretrain classifier config + checkpoint
    python tools/generate_token_labels.py CONFIG.py CKPT \\
        --data-root data/imagenet --split train --out data/imagenet/tl
    # a timm model (checkpoint optional: a state dict file)
    python tools/generate_token_labels.py resnet18 resnet18.pth \\
        --data-root data/imagenet --out data/imagenet/tl --resolution 448
    # several processes (each annotates a disjoint slice, writes its own
    # shards; rank 0 merges the index at the end; gloo on CPU)
    torchrun --nproc_per_node 4 tools/generate_token_labels.py ...
    # check a store: every image of the split labelled, every shard readable
    python tools/generate_token_labels.py MODEL --data-root R --out DIR --verify

Images are listed from ``--ann-file`` (default ``meta/<split>.txt`` under the
data root when present, else every image under ``<data-root>/<split>``);
keys are paths relative to ``<data-root>/<split>``. Each image is resized as
a whole to ``S x S`` (so the map covers the full image, as the crop
transforms assume) and normalised as the model expects (mmpretrain: its
``data_preprocessor``; timm: its ``pretrained_cfg`` mean/std).

Resuming: shards are written atomically every ``--shard-size`` images, and
images already in a shard are skipped by the next run; a shard whose size
does not match its manifest is set aside (``*.corrupt``) and its images are
redone. ``--verify`` annotates nothing and exits 1 listing the problems.
"""
import argparse
import os
import os.path as osp
import re
import sys
import time
from typing import Callable, List, Optional, Tuple

import mmvitreg  # noqa: F401  (compat layer and registries first)
import mmcv
import numpy as np
import torch
from mmengine import dist
from mmengine.config import Config, DictAction
from mmengine.utils import ProgressBar

from mmvitreg.token_labels import (DenseAnnotator, ShardWriter,
                                   TokenLabelStore, merge_index,
                                   read_manifests)
from mmvitreg.token_labels.storage import SHARD_DIR, shard_size_ok

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif',
                  '.tiff', '.webp')
MAX_LISTED = 50


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='Write top-k dense token labels of a machine annotator.')
    p.add_argument('model', help='mmpretrain classifier config (.py) or a '
                   'timm model name')
    p.add_argument('checkpoint', nargs='?', help='checkpoint (mmpretrain '
                   'checkpoint, or a timm state dict)')
    p.add_argument('--data-root', required=True, help='ImageNet-layout root')
    p.add_argument('--split', default='train')
    p.add_argument('--ann-file', help='list of "relative/path [label]" lines '
                   '(default: <data-root>/meta/<split>.txt if present)')
    p.add_argument('--limit', type=int, help='first N images of the list')
    p.add_argument('--out', required=True, help='store directory')
    p.add_argument('--topk', type=int, default=5)
    p.add_argument('--resolution', type=int,
                   help='annotation input size S (default: the model\'s: '
                   'a ViT\'s img_size, else the config\'s test crop)')
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--shard-size', type=int, default=1024)
    p.add_argument('--workers', type=int, default=2,
                   help='image-decoding workers per process')
    p.add_argument('--device', help='default: cuda if available, else cpu')
    p.add_argument('--model-kwargs', nargs='+', action=DictAction,
                   default={}, help='timm.create_model keyword arguments '
                   '(e.g. img_size=448 dynamic_img_size=True)')
    p.add_argument('--verify', action='store_true',
                   help='only check the store against the split')
    return p.parse_args(argv)


# ----------------------------------------------------------------- images
def list_images(data_root: str, split: str, ann_file: Optional[str] = None,
                limit: Optional[int] = None) -> Tuple[str, List[str]]:
    """``(image folder, keys)``; keys relative to the folder, in list
    order."""
    folder = osp.join(data_root, split)
    if not osp.isdir(folder):
        raise FileNotFoundError(f'image folder not found: {folder}')
    if ann_file is None and osp.isfile(
            osp.join(data_root, 'meta', f'{split}.txt')):
        ann_file = osp.join(data_root, 'meta', f'{split}.txt')
    if ann_file is not None:
        if not osp.isfile(ann_file) and osp.isfile(
                osp.join(data_root, ann_file)):
            ann_file = osp.join(data_root, ann_file)
        if not osp.isfile(ann_file):
            raise FileNotFoundError(f'annotation file not found: {ann_file}')
        with open(ann_file) as f:
            keys = [line.split()[0] for line in f if line.strip()]
    else:
        keys = sorted(
            osp.relpath(osp.join(d, n), folder).replace(os.sep, '/')
            for d, _, names in os.walk(folder) for n in names
            if n.lower().endswith(IMG_EXTENSIONS))
    if not keys:
        raise ValueError(f'no images listed for split {split!r} under '
                         f'{folder}' + (f' ({ann_file})' if ann_file else ''))
    return folder, keys[:limit] if limit else keys


class ImageList(torch.utils.data.Dataset):
    """Whole images resized to ``S x S``: uint8 ``(3, S, S)`` BGR."""

    def __init__(self, folder: str, keys: List[str], size: int):
        self.folder, self.keys, self.size = folder, keys, size

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, i: int):
        path = osp.join(self.folder, self.keys[i])
        img = mmcv.imread(path, channel_order='bgr')
        if img is None:
            raise OSError(f'cannot read image {path}')
        img = mmcv.imresize(img, (self.size, self.size))
        return self.keys[i], torch.from_numpy(img).permute(2, 0, 1)


# ------------------------------------------------------------------ models
Preprocess = Callable[[torch.Tensor], torch.Tensor]


def _load_state_dict(path: str) -> dict:
    ckpt = torch.load(path, map_location='cpu', weights_only=True)
    for key in ('state_dict', 'model', 'state_dict_ema'):
        if isinstance(ckpt, dict) and isinstance(ckpt.get(key), dict):
            return ckpt[key]
    return ckpt


def build_mmpretrain(config: str, checkpoint: Optional[str],
                     device: str) -> Tuple[torch.nn.Module, Preprocess, int]:
    from mmengine.runner import load_checkpoint
    from mmpretrain.apis import get_model
    model = get_model(config, pretrained=False, device=device)
    if checkpoint:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    model.to(device).eval()

    def preprocess(imgs: torch.Tensor) -> torch.Tensor:
        return model.data_preprocessor(dict(inputs=imgs), False)['inputs']

    size = getattr(getattr(model.backbone, 'patch_embed', None),
                   'init_input_size', None)
    if size:
        return model, preprocess, int(size[0])
    return model, preprocess, test_crop_size(model._config)


def test_crop_size(cfg: Config, default: int = 224) -> int:
    """The input side of a config's test pipeline (its ``CenterCrop``, else
    its first ``Resize``): the resolution a CNN classifier was evaluated at."""
    pipeline = cfg.get('test_dataloader', {}).get('dataset', {}).get(
        'pipeline', [])
    size = None
    for t in pipeline:
        if t.get('type') == 'CenterCrop':
            size = t.get('crop_size')
        elif t.get('type') == 'Resize' and size is None:
            size = t.get('scale')
    if isinstance(size, (list, tuple)):
        size = size[0]
    return int(size) if size else default


def build_timm(name: str, checkpoint: Optional[str], device: str,
               kwargs: dict) -> Tuple[torch.nn.Module, Preprocess, int]:
    import timm
    from timm.data import resolve_data_config
    if not timm.is_model(name):
        raise ValueError(f'{name!r} is neither a config file (.py) nor a timm '
                         'model name')
    kwargs = dict(kwargs)
    state = None
    if checkpoint:
        state = _load_state_dict(checkpoint)
        if 'num_classes' not in kwargs:
            probe = timm.create_model(name, pretrained=False, **kwargs)
            key = probe.pretrained_cfg.get('classifier', 'head') + '.weight'
            if key in state:
                kwargs['num_classes'] = state[key].shape[0]
    model = timm.create_model(name, pretrained=False, **kwargs)
    if state is not None:
        model.load_state_dict(state, strict=True)
    model.to(device).eval()
    cfg = resolve_data_config({}, model=model)
    mean = torch.tensor(cfg['mean'], device=device).view(1, 3, 1, 1) * 255
    std = torch.tensor(cfg['std'], device=device).view(1, 3, 1, 1) * 255

    def preprocess(imgs: torch.Tensor) -> torch.Tensor:
        return (imgs.flip(1).float() - mean) / std  # BGR -> RGB

    # a ViT built with another img_size reports it on its patch embedding
    native = getattr(getattr(model, 'patch_embed', None), 'img_size', None)
    native = native or cfg['input_size'][-2:]
    return model, preprocess, int(native[0])


def build_model(args, device: str):
    if args.model.endswith('.py'):
        if not osp.isfile(args.model):
            raise FileNotFoundError(f'config not found: {args.model}')
        return build_mmpretrain(args.model, args.checkpoint, device)
    return build_timm(args.model, args.checkpoint, device, args.model_kwargs)


# ------------------------------------------------------------------- store
def scan_done(out: str, topk: int) -> set:
    """Images already in intact shards; sets aside damaged shards and
    removes leftovers of interrupted writes (our file names only)."""
    shard_dir = osp.join(out, SHARD_DIR)
    done = set()
    listed = set()
    for m in read_manifests(out):
        if m['topk'] != topk:
            raise ValueError(
                f'{out} holds top-{m["topk"]} labels ({m["_path"]}); use '
                f'--topk {m["topk"]} or another --out')
        if shard_size_ok(out, m):
            done.update(m['images'])
            listed.add(m['shard'])
            continue
        shard = osp.join(shard_dir, m['shard'])
        print(f'warning: shard {shard} does not match its manifest; set '
              'aside as *.corrupt, its images are redone', flush=True)
        if osp.exists(shard):
            os.replace(shard, shard + '.corrupt')
        os.replace(m['_path'], m['_path'] + '.corrupt')
    if osp.isdir(shard_dir):
        for name in os.listdir(shard_dir):
            stem = name.split('.tmp.')[0]
            if not re.match(r'^r\d{3}-\d{6}\.(bin|json)$', stem):
                continue  # not ours
            interrupted = name != stem
            orphan = stem.endswith('.bin') and stem not in listed
            if interrupted or orphan:
                os.remove(osp.join(shard_dir, name))
    return done


def verify(out: str, keys: List[str]) -> List[str]:
    """Problems of the store ``out`` for the listed images (empty: ok)."""
    try:
        store = TokenLabelStore(out)
        problems = store.verify()
    except (FileNotFoundError, RuntimeError, ValueError) as e:
        return [str(e)]
    problems += [f'missing token label: {k}' for k in keys if k not in store]
    return problems


def init_distributed() -> bool:
    if int(os.environ.get('WORLD_SIZE', '1')) <= 1:
        return False
    if torch.cuda.is_available():
        dist.init_dist('pytorch')
    else:
        from mmvitreg.apis.distributed import init_cpu_process_group
        init_cpu_process_group(Config(), 'pytorch')
    return True


def annotate(args, folder: str, keys: List[str]) -> int:
    """Annotate the images of ``keys`` not yet in the store; returns the
    number annotated by this process."""
    rank, world = dist.get_rank(), dist.get_world_size()
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if device == 'cuda' and world > 1:
        device = f'cuda:{torch.cuda.current_device()}'
    model, preprocess, native = build_model(args, device)
    size = args.resolution or native
    annotator = DenseAnnotator(model, topk=args.topk)

    pending = [None]
    if rank == 0:
        os.makedirs(args.out, exist_ok=True)
        done = scan_done(args.out, args.topk)
        pending = [[k for k in keys if k not in done]]
        print(f'token labels: {len(keys) - len(pending[0])} of {len(keys)} '
              f'images already in {args.out}; annotating '
              f'{len(pending[0])} with {world} process(es)', flush=True)
    dist.broadcast_object_list(pending, src=0)
    mine = pending[0][rank::world]

    with torch.no_grad():
        num_classes = annotator.score_map(
            preprocess(torch.zeros(1, 3, size, size, dtype=torch.uint8,
                                   device=device))).shape[1]
    writer = ShardWriter(
        args.out,
        rank=rank,
        topk=min(args.topk, num_classes),
        num_classes=num_classes,
        shard_size=args.shard_size,
        meta=dict(
            model=args.model,
            checkpoint=args.checkpoint,
            resolution=size,
            split=args.split))
    loader = torch.utils.data.DataLoader(
        ImageList(folder, mine, size),
        batch_size=args.batch_size,
        num_workers=args.workers if mine else 0)
    bar = ProgressBar(len(mine)) if rank == 0 and mine else None
    for batch_keys, imgs in loader:
        scores, indices = annotator(preprocess(imgs.to(device)))
        scores = scores.cpu().numpy().astype(np.float16)
        indices = indices.cpu().numpy().astype(np.int16)
        for key, s, i in zip(batch_keys, scores, indices):
            writer.add(key, s, i)
        if bar is not None:
            bar.update(len(batch_keys))
    writer.close()
    if bar is not None:
        print(flush=True)
    dist.barrier()
    if rank == 0:
        manifests = [m for m in read_manifests(args.out)
                     if shard_size_ok(args.out, m)]
        index = merge_index(args.out, manifests)
        print(f'token labels: {len(index["images"])} images in '
              f'{len(index["shards"])} shards, index '
              f'{osp.join(args.out, "index.json")}', flush=True)
    return len(mine)


def main(argv=None) -> int:
    args = parse_args(argv)
    folder, keys = list_images(args.data_root, args.split, args.ann_file,
                               args.limit)
    if args.verify:
        problems = verify(args.out, keys)
        for p in problems[:MAX_LISTED]:
            print(p)
        if len(problems) > MAX_LISTED:
            print(f'... and {len(problems) - MAX_LISTED} more problems')
        print(f'verify {args.out}: {len(keys)} images, '
              f'{len(problems)} problem(s)')
        return 1 if problems else 0
    started = init_distributed()
    try:
        t0 = time.time()
        n = annotate(args, folder, keys)
        print(f'rank {dist.get_rank()}: annotated {n} images in '
              f'{time.time() - t0:.1f} s', flush=True)
    finally:
        if started:
            torch.distributed.destroy_process_group()
    return 0


if __name__ == '__main__':
    sys.exit(main())
