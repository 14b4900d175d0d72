"""An ImageNet-style classification folder that validates itself up front.

mmpretrain's ``CustomDataset`` reads class sub-folders or an ``ann_file`` of
``relative/path label`` lines, but a wrong path only shows up later as an
opaque error deep inside a data loader worker (or as a silently empty class).
``ImageNetFolder`` takes the same arguments and fails at construction with one
error that names the offending path.
"""

import os.path as osp
from typing import List, Sequence, Union

from mmengine.fileio import LocalBackend, get_file_backend, list_from_file
from mmpretrain.datasets import CustomDataset
from mmpretrain.datasets.custom import find_folders, get_samples
from mmpretrain.registry import DATASETS


@DATASETS.register_module()
class ImageNetFolder(CustomDataset):
    """``CustomDataset`` with early, path-naming checks.

    Checked when the data list is loaded (at construction unless
    ``lazy_init=True``):

    - ``data_root`` and the image folder (``data_prefix``) exist
      (``FileNotFoundError``);
    - ``ann_file`` exists (``FileNotFoundError``), every line reads
      ``<relative/path> <int label>`` with ``0 <= label < len(classes)`` when
      classes are known (``ValueError`` naming file and line), and every
      listed image exists (``FileNotFoundError`` naming the ann file, line
      number and image path);
    - without ``ann_file``: there are class sub-folders, none of them is empty
      and their number equals ``len(classes)`` when given (``ValueError``
      naming the folder).

    The per-image check costs one ``os.path.isfile`` per listed file; pass
    ``verify_files=False`` to skip it for huge sets (the folder and ann-file
    checks stay). Non-local storage (``s3://`` ...) is not checked.

    Args:
        classes (str | Sequence[str], optional): class names, or the path of a
            file with one name per line; a relative path not found as given is
            looked up under ``data_root`` (so ``classes='meta/classes.txt'``
            works like ``ann_file``).
        verify_files (bool): check that every ``ann_file`` entry exists.
            Defaults to True.
        **kwargs: the other arguments of :class:`CustomDataset` and
            :class:`BaseDataset` (``data_root``, ``data_prefix``,
            ``ann_file``, ``with_label``, ``extensions``, ``pipeline`` ...).
    """

    def __init__(self,
                 data_root: str = '',
                 data_prefix: Union[str, dict] = '',
                 ann_file: str = '',
                 classes: Union[str, Sequence[str], None] = None,
                 verify_files: bool = True,
                 **kwargs):
        self.verify_files = verify_files
        super().__init__(
            data_root=data_root,
            data_prefix=data_prefix,
            ann_file=ann_file,
            classes=self._resolve_classes_file(classes, data_root),
            **kwargs)

    @staticmethod
    def _resolve_classes_file(classes, data_root: str):
        if not isinstance(classes, str) or osp.isfile(osp.expanduser(classes)):
            return classes
        if data_root and not osp.isabs(classes):
            joined = osp.join(data_root, classes)
            if osp.isfile(joined):
                return joined
            raise FileNotFoundError(
                f'classes file not found: {classes} (nor {joined})')
        raise FileNotFoundError(f'classes file not found: {classes}')

    # ------------------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        if not isinstance(
                get_file_backend(
                    self.img_prefix or '.', enable_singleton=True),
                LocalBackend):
            return super().load_data_list()
        if self.data_root and not osp.isdir(self.data_root):
            raise FileNotFoundError(f'data_root not found: {self.data_root}')
        if not osp.isdir(self.img_prefix or '.'):
            raise FileNotFoundError(
                f'image folder (data_prefix) not found: {self.img_prefix}')
        if not self.ann_file:
            return super().load_data_list()  # -> self._find_samples()
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'ann_file not found: {self.ann_file}')
        return self._load_ann_file()

    def _load_ann_file(self) -> List[dict]:
        """Parse ``ann_file``, naming file and line on any bad entry."""
        num_classes = len(self.CLASSES) if self.CLASSES else None
        data_list, missing = [], []
        for lineno, line in enumerate(list_from_file(self.ann_file), 1):
            line = line.strip()
            if not line:
                continue
            where = f'{self.ann_file}, line {lineno}'
            if self.with_label:
                parts = line.rsplit(' ', 1)
                try:
                    filename, label = parts[0], int(parts[1])
                except (IndexError, ValueError):
                    raise ValueError(f'{where}: expected "<relative/path> '
                                     f'<int label>", got {line!r}') from None
                if label < 0 or (num_classes is not None
                                 and label >= num_classes):
                    raise ValueError(f'{where}: label {label} is outside [0, '
                                     f'{num_classes}) for {line!r}')
                info = dict(gt_label=label)
            else:
                filename, info = line, {}
            img_path = osp.join(self.img_prefix, filename)
            if self.verify_files and not osp.isfile(img_path):
                missing.append(f'{where}: image not found: {img_path}')
            data_list.append(dict(img_path=img_path, **info))
        if missing:
            more = (f' (and {len(missing) - 1} more missing images)'
                    if len(missing) > 1 else '')
            raise FileNotFoundError(missing[0] + more)
        if not data_list:
            raise ValueError(f'ann_file lists no images: {self.ann_file}')
        return data_list

    def _find_samples(self):
        """Scan class sub-folders (no ``ann_file``); reject empty ones."""
        root = self.img_prefix or '.'
        if not self.with_label:
            samples, _ = get_samples(root, None, self.is_valid_file)
            if not samples:
                raise ValueError(f'no image with extension {self.extensions} '
                                 f'under {root}')
            return samples
        folders, folder_to_idx = find_folders(root)
        if not folders:
            raise ValueError(f'no class sub-folders in {root}')
        if self.CLASSES is not None and len(self.CLASSES) != len(folders):
            raise ValueError(
                f'{root} has {len(folders)} class sub-folders but '
                f'{len(self.CLASSES)} classes were given')
        samples, empty = get_samples(root, folder_to_idx, self.is_valid_file)
        if empty:
            raise ValueError(
                f'empty class folder: {osp.join(root, sorted(empty)[0])} '
                f'(no file with extension {self.extensions}; '
                f'{len(empty)} empty in all)')
        self.folder_to_idx = folder_to_idx
        if self.CLASSES is None:
            self._metainfo['classes'] = tuple(folders)
        return samples
