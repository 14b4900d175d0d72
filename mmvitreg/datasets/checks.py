"""Validate a whole data split before a long run (``tools/check_dataset.py``).

Every sample of the split is read once, as the pipeline would read it:
images must decode; segmentation annotations must have their image's size
and only ids in ``[0, num_classes)`` or the ignore index; the dataset's
class count must equal the model's ``num_classes``; with token labeling,
every shard must be intact and every image must have a label. Problems are
collected (not raised one at a time) so that one pass lists them all.
"""
import copy
import os.path as osp
from dataclasses import dataclass, field
from multiprocessing import Pool
from typing import Dict, List, Optional, Tuple

from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar

from mmvitreg.datasets.transforms.check_seg_annotation import (
    seg_annotation_problems,
)


@dataclass
class SplitReport:
    """Problems found per check, and how many items each check saw."""
    checked: Dict[str, int] = field(default_factory=dict)
    problems: Dict[str, List[str]] = field(default_factory=dict)

    def add(self, check: str, count: int, problems: List[str]) -> None:
        self.checked[check] = self.checked.get(check, 0) + count
        self.problems.setdefault(check, []).extend(problems)

    @property
    def ok(self) -> bool:
        return not any(self.problems.values())

    def table(self, limit: int = 20) -> str:
        """A summary table, then the first ``limit`` problems."""
        rows = [f'{"check":<18} {"checked":>9} {"problems":>9}']
        for check, count in self.checked.items():
            rows.append(f'{check:<18} {count:>9} '
                        f'{len(self.problems.get(check, [])):>9}')
        found = [p for ps in self.problems.values() for p in ps]
        rows += found[:limit]
        if len(found) > limit:
            rows.append(f'... and {len(found) - limit} more problems')
        return '\n'.join(rows)


def _num_classes(cfg: Config) -> Tuple[Optional[int], int]:
    model = cfg.model
    head = model.get('decode_head') or model.get('head') or {}
    if isinstance(head, (list, tuple)):
        head = head[-1]
    return head.get('num_classes'), head.get('ignore_index', 255)


def _check_sample(job: tuple) -> Tuple[str, List[str]]:
    """Read one sample; returns (check name, problems)."""
    import mmcv
    info, num_classes, ignore_index = job
    img_path = info['img_path']
    try:
        img = mmcv.imread(img_path)
        if img is None:
            raise ValueError('cannot be decoded')
    except Exception as err:  # any decoder error: report, go on
        return 'images', [f'{img_path}: unreadable image ({err})']
    seg_path = info.get('seg_map_path')
    if seg_path is None:
        return 'images', []
    from mmseg.datasets.transforms import LoadAnnotations
    try:
        results = LoadAnnotations(
            reduce_zero_label=info.get('reduce_zero_label', False))(
                dict(info, seg_fields=[]))
    except Exception as err:
        return 'annotations', [f'{seg_path}: unreadable annotation ({err})']
    problems = seg_annotation_problems(
        img.shape[:2], results['gt_seg_map'], num_classes, ignore_index,
        bool(info.get('reduce_zero_label')))
    return 'annotations', [f'{seg_path}: {"; ".join(problems)} (image '
                           f'{img_path})'] if problems else []


def _token_label_store(pipeline) -> Tuple[int, Optional[dict]]:
    """The ``LoadTokenLabel`` step of ``pipeline`` and its index."""
    for index, step in enumerate(pipeline or []):
        if step.get('type') == 'LoadTokenLabel':
            return index, step
    return -1, None


def _build_dataset(cfg: Config, key: str, report: SplitReport):
    """The dataset of ``cfg[key]`` without its pipeline (the checks read
    files themselves; a pipeline transform such as ``LoadTokenLabel`` would
    fail on a missing store before any row is written), or None with the
    error as a ``dataset`` row."""
    from mmengine.registry import DATASETS
    dataset_cfg = copy.deepcopy(cfg[key].dataset)
    inner = dataset_cfg
    while 'dataset' in inner:  # wrappers
        inner = inner.dataset
    inner.pipeline = []
    try:
        dataset = DATASETS.build(dataset_cfg)  # checks paths, ann files
    except Exception as err:  # missing root or ann file, unknown type
        report.add('dataset', 1, [f'{cfg.filename}: {key}.dataset: '
                                  f'{type(err).__name__}: {err}'])
        return None
    report.add('dataset', 1, [])
    while hasattr(dataset, 'dataset'):  # wrappers
        dataset = dataset.dataset
    return dataset


def check_split(cfg: Config, split: str = 'train', workers: int = 0,
                progress: bool = True) -> SplitReport:
    """Check every sample of ``<split>_dataloader.dataset`` of ``cfg``.

    Every problem, of the config or of the data, is a row of the report
    (nothing is raised): a missing loader, a dataset that cannot be built,
    a token-label step without ``store_root``, a bad sample.
    """
    import mmvitreg  # noqa: F401  (registration)
    init_default_scope(cfg.default_scope)
    report = SplitReport()
    key = f'{split}_dataloader'
    loader = cfg.get(key)
    if not loader or 'dataset' not in loader:
        report.add('config', 1, [f'{cfg.filename}: no {key}.dataset'])
        return report
    dataset = _build_dataset(cfg, key, report)
    if dataset is None:
        return report
    num_classes, ignore_index = _num_classes(cfg)
    classes = dataset.metainfo.get('classes')
    if num_classes is not None and classes is not None:
        report.add('class count', 1, [] if len(classes) == num_classes else [
            f'{split} dataset {dataset.data_prefix}: {len(classes)} classes '
            f'but the model has num_classes={num_classes}'])
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    jobs = [(info, num_classes or 256, ignore_index) for info in infos]
    bar = ProgressBar(len(jobs)) if progress else None
    pool = Pool(workers) if workers > 0 else None
    results = (pool.imap(_check_sample, jobs, chunksize=16) if pool
               else map(_check_sample, jobs))
    for check, problems in results:
        report.add(check, 1, problems)
        if bar:
            bar.update()
    if pool:
        pool.close()
    index, step = _token_label_store(loader.dataset.get('pipeline'))
    if step is not None:
        _check_token_labels(step, infos, report,
                            f'{key}.dataset.pipeline.{index}.store_root')
    return report


def _check_token_labels(step: dict, infos: List[dict], report: SplitReport,
                        key: str) -> None:
    from mmvitreg.structures.token_labels import TokenLabelStore
    root = step.get('store_root')
    if not root:
        report.add('token shards', 1, [
            f'LoadTokenLabel has no store_root: set it with --cfg-options '
            f'{key}=<dir written by tools/generate_token_labels.py>'])
        return
    try:
        store = TokenLabelStore(root)
        report.add('token shards', len(store.index['shards']),
                   store.verify())
    except Exception as err:
        report.add('token shards', 1, [f'{root} ({key}): {err}'])
        return
    missing = []
    for info in infos:
        try:
            store.lookup(info['img_path'], step.get('data_prefix'))
        except KeyError:
            missing.append(f'{info["img_path"]}: no token label in store '
                           f'{osp.abspath(root)}')
    report.add('token coverage', len(infos), missing)
