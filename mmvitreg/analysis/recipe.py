"""The values that define a training recipe, read from a resolved config.

``recipe(cfg)`` flattens a config (``Config.fromfile``) into a short list of
(name, value) rows: model, image size, length, batch per GPU x GPUs, the
optimiser and its lr / weight decay, schedule, warm-up, drop path, layer
scale, augmentations, loss, EMA, sampler, layer decay. ``markdown`` and
``terminal_table`` render several configs side by side; ``recipes_doc``
renders docs/recipes.md (one table per config, with the published value
and its source from :mod:`mmvitreg.analysis.recipes_published`).
"""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config

Rows = List[Tuple[str, str]]

#: Row names, in display order.
KEYS = ('model', 'image size', 'length', 'batch (per GPU x GPUs)',
        'optimizer', 'lr', 'weight decay', 'schedule', 'warm-up',
        'drop path', 'layer scale', 'augmentations', 'loss', 'EMA',
        'sampler', 'layer decay', 'test')


def _short(value) -> str:
    """A compact, stable text of a config value (dicts without ``type``
    noise where the type is the point)."""
    if isinstance(value, dict):
        kind = value.get('type', '')
        rest = ', '.join(f'{k}={_short(v)}' for k, v in value.items()
                         if k not in ('type', '_scope_', 'pipeline'))
        return f'{kind}({rest})' if kind else '{' + rest + '}'
    if isinstance(value, (list, tuple)):
        return '[' + ', '.join(_short(v) for v in value) + ']'
    if isinstance(value, float):
        return f'{value:g}'
    return str(value)


def _model(cfg: Config) -> str:
    model = cfg.model
    backbone = model.get('backbone', {})
    arch = backbone.get('arch', '')
    if isinstance(arch, dict):
        arch = (f"{arch.get('num_layers')} blocks x "
                f"{arch.get('embed_dims')}")
    return f"{model.get('type')} / {backbone.get('type')} {arch}".strip()


def _image_size(cfg: Config) -> str:
    if cfg.get('crop_size') is not None:
        return 'x'.join(str(s) for s in cfg.crop_size)
    return str(cfg.model.get('backbone', {}).get('img_size', '-'))


def _length(cfg: Config) -> str:
    train = cfg.get('train_cfg') or {}
    if train.get('max_epochs'):
        return f"{train['max_epochs']} epochs"
    if train.get('max_iters'):
        return f"{train['max_iters']} iterations"
    return '-'


def _batch(cfg: Config) -> str:
    per_gpu = cfg.train_dataloader.get('batch_size')
    base = (cfg.get('auto_scale_lr') or {}).get('base_batch_size')
    gpus = cfg.get('num_gpus') or (base // per_gpu if base and per_gpu
                                   else None)
    total = per_gpu * gpus if gpus else None
    return f'{per_gpu} x {gpus} = {total}' if gpus else f'{per_gpu} x ?'


def _schedulers(cfg: Config) -> Tuple[str, str]:
    scheds = cfg.get('param_scheduler') or []
    if isinstance(scheds, dict):
        scheds = [scheds]
    warm = [s for s in scheds if s.get('type') == 'LinearLR']
    main = [s for s in scheds if s.get('type') != 'LinearLR']
    warmup = '-'
    if warm:
        w = warm[0]
        unit = 'epochs' if w.get('by_epoch', True) else 'iterations'
        # the absolute start lr too: it is what releases state
        # (``--warmup-lr``), and a factor hides a mismatch with the lr
        lr = (cfg.optim_wrapper.get('optimizer') or {}).get('lr')
        start = (f" = {_short(w.get('start_factor') * lr)}"
                 if isinstance(lr, float) else '')
        warmup = (f"{w.get('end')} {unit} from "
                  f"{_short(w.get('start_factor'))} x lr{start}")
    schedule = ', '.join(
        _short({k: v for k, v in s.items()
                if k in ('type', 'eta_min', 'power', 'factor', 'begin',
                         'end')}) for s in main) or '-'
    return schedule, warmup


def _augmentations(cfg: Config) -> str:
    pipe = cfg.train_dataloader.dataset.get('pipeline', [])
    names = []
    for t in pipe:
        kind = t.get('type')
        if kind in ('LoadImageFromFile', 'LoadAnnotations', 'PackInputs',
                    'PackSegInputs', 'LoadTokenLabel', 'CheckSegAnnotation'):
            continue
        if kind == 'RandAugment':
            names.append(f"RandAugment(m{t.get('magnitude_level')}, "
                         f"n{t.get('num_policies')}, "
                         f"mstd{t.get('magnitude_std')})")
        elif kind == 'RandomErasing':
            names.append(f"RandomErasing({t.get('erase_prob')})")
        elif kind in ('RandomResizedCrop', 'RandomResizedCropWithBox'):
            names.append(f'{kind}({t.get("scale")})')
        elif kind == 'RandomResize':
            names.append(f"RandomResize({t.get('scale')}, "
                         f"{t.get('ratio_range')})")
        else:
            names.append(kind)
    augments = (cfg.model.get('train_cfg') or {}).get('augments') or []
    names += [f"{a['type']}({a.get('alpha')})" for a in augments]
    if cfg.model.get('mix_token'):
        names.append('MixToken')
    return ', '.join(names) or '-'


def _loss(cfg: Config) -> str:
    model = cfg.model
    parts = []
    head = model.get('head') or model.get('decode_head') or {}
    loss = head.get('loss') or head.get('loss_decode')
    if loss:
        parts.append(_short(loss))
    aux = model.get('auxiliary_head')
    if aux:
        parts.append('aux ' + _short(aux.get('loss_decode')))
    for key in ('dense_head',):
        if model.get(key):
            parts.append('dense ' + _short(model[key].get('loss')))
    for key in ('cosine_loss', 'contrastive_loss', 'mixing_loss',
                'diversity_loss'):
        if model.get(key):
            parts.append(f"{model[key]['type']} x "
                         f"{model[key].get('loss_weight')}")
    return '; '.join(parts) or '-'


def _ema(cfg: Config) -> str:
    hooks = cfg.get('custom_hooks') or []
    ema = [h for h in hooks if 'EMA' in str(h.get('type'))]
    if not ema:
        return '-'
    return f"EMAHook momentum {_short(ema[0].get('momentum'))}"


def recipe(cfg: Config) -> Rows:
    """(name, value) rows of :data:`KEYS` for one resolved config."""
    optim = cfg.optim_wrapper
    opt = optim.get('optimizer', {})
    schedule, warmup = _schedulers(cfg)
    backbone = cfg.model.get('backbone', {})
    paramwise = optim.get('paramwise_cfg') or {}
    sampler = cfg.train_dataloader.get('sampler') or {}
    test = (cfg.model.get('test_cfg') or {}).get('mode', '-')
    values = {
        'model': _model(cfg),
        'image size': _image_size(cfg),
        'length': _length(cfg),
        'batch (per GPU x GPUs)': _batch(cfg),
        'optimizer': str(opt.get('type')) + (
            f", clip {_short(optim['clip_grad'])}"
            if optim.get('clip_grad') else ''),
        'lr': _short(opt.get('lr')),
        'weight decay': _short(opt.get('weight_decay')),
        'schedule': schedule,
        'warm-up': warmup,
        'drop path': (_short(backbone.get('drop_path_rate', '-')) + (
            f" ({backbone['drop_path_mode']})"
            if backbone.get('drop_path_mode') else '')),
        'layer scale': _short(backbone.get('layer_scale_init_value', '-')),
        'augmentations': _augmentations(cfg),
        'loss': _loss(cfg),
        'EMA': _ema(cfg),
        'sampler': _short({k: v for k, v in sampler.items()
                           if k != 'shuffle'}) or '-',
        'layer decay': _short(paramwise.get('layer_decay_rate', '-')),
        'test': test,
    }
    return [(key, values[key]) for key in KEYS]


def terminal_table(named: Sequence[Tuple[str, Rows]]) -> str:
    """Configs side by side, one row per recipe value, fixed width."""
    header = ['value'] + [name for name, _ in named]
    lines = [[key] + [dict(rows)[key] for _, rows in named] for key in KEYS]
    widths = [max(len(r[i]) for r in [header] + lines)
              for i in range(len(header))]

    def fmt(row):
        cells = zip(row, widths, strict=True)
        return '  '.join(c.ljust(w) for c, w in cells).rstrip()

    return '\n'.join([fmt(header), fmt(['-' * w for w in widths])] +
                     [fmt(r) for r in lines])


def _cell(text: str) -> str:
    return text.replace('|', '\\|')


def markdown(named: Sequence[Tuple[str, Rows]]) -> str:
    """Configs side by side as one Markdown table."""
    header = ['value'] + [f'`{name}`' for name, _ in named]
    out = ['| ' + ' | '.join(header) + ' |',
           '|' + '---|' * len(header)]
    for key in KEYS:
        cells = [key] + [_cell(dict(rows)[key]) for _, rows in named]
        out.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(out)


def config_name(path: str, root: str) -> str:
    """``configs/...`` path relative to the repository ``root``."""
    return osp.relpath(osp.abspath(path), root).replace(osp.sep, '/')


def recipe_section(name: str, rows: Rows,
                   published: Optional[Dict[str, Tuple[str, str]]]) -> str:
    """One config's Markdown table: value | this config | published |
    source."""
    published = published or {}
    out = [f'### `{name}`', '',
           '| value | config | published | source |', '|---|---|---|---|']
    for key, value in rows:
        pub, src = published.get(key, ('', ''))
        out.append(f'| {key} | {_cell(value)} | {_cell(pub)} | '
                   f'{_cell(src)} |')
    return '\n'.join(out)


#: Folders whose configs docs/recipes.md covers (the full-size ones).
FULL_CONFIG_DIRS = ('configs/pretrain', 'configs/seg')


def full_configs(root: str) -> List[str]:
    """Every full config under ``root``, sorted, relative names."""
    import glob
    paths = []
    for folder in FULL_CONFIG_DIRS:
        paths += glob.glob(osp.join(root, folder, '*.py'))
    return sorted(config_name(p, root) for p in paths)


def recipes_doc(root: str, memory: Optional[str] = None) -> str:
    """docs/recipes.md: one table per full config, with the published
    value and source of each row the release or paper states; after the
    intro the ``memory`` section (:mod:`.memory_doc`), when given."""
    from .recipes_published import PUBLISHED
    parts = [
        '# Recipes of the full configs', '',
        'Generated by `python tools/analysis/print_recipe.py --doc` from '
        'the resolved configs (`Config.fromfile`); do not edit by hand '
        '(tests/analysis/test_recipe.py regenerates it and fails when it '
        'differs). "published" and "source": the value the paper or the '
        'released code states, from `mmvitreg/analysis/'
        'recipes_published.py`; blank where none is stated. Each config\'s '
        'header comment says why it differs where it does.', '']
    if memory:
        parts.append(memory)
    for name in full_configs(root):
        cfg = Config.fromfile(osp.join(root, name))
        parts += [recipe_section(name, recipe(cfg), PUBLISHED.get(name)),
                  '']
    return '\n'.join(parts)
