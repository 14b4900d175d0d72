"""Print the values that define each config's training recipe.

Usage::

    python tools/analysis/print_recipe.py CONFIG [CONFIG ...] [--markdown]
    python tools/analysis/print_recipe.py --doc [--out docs/recipes.md]
        [--keep-memory]

Prints the resolved model, image size, length, batch per GPU x GPUs,
optimiser, lr, weight decay, schedule, warm-up, drop path, layer scale,
augmentations, losses, EMA, sampler and layer decay of each config side by
side (terminal table, then Markdown; ``--markdown``: Markdown only).
``--doc`` writes docs/recipes.md (every config under configs/pretrain and
configs/seg, with the published values; see mmvitreg/analysis/recipe.py)
and its "estimated memory per GPU" table (two fake forward passes per
config: minutes; ``--keep-memory`` reuses the table of the existing file).
"""
import argparse
import os.path as osp
import sys

import mmvitreg  # noqa: F401,I001  (compat layer + registration first)

# isort: split
from mmengine.config import Config

from mmvitreg.analysis.memory_doc import (
    committed_section,
    memory_row,
    memory_section,
)
from mmvitreg.analysis.recipe import (
    config_name,
    full_configs,
    markdown,
    recipe,
    recipes_doc,
    terminal_table,
)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('configs', nargs='*', help='config files')
    parser.add_argument('--markdown', action='store_true',
                        help='print the Markdown table only')
    parser.add_argument('--doc', action='store_true',
                        help='write the recipes document of all full '
                        'configs')
    parser.add_argument('--out', default=osp.join(ROOT, 'docs', 'recipes.md'),
                        help='where --doc writes (default docs/recipes.md)')
    parser.add_argument('--keep-memory', action='store_true',
                        help="--doc: reuse the existing file's memory table "
                        'instead of estimating it again')
    args = parser.parse_args(argv)
    if not args.configs and not args.doc:
        parser.error('give CONFIG files or --doc')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.doc:
        if args.keep_memory:
            with open(args.out) as f:
                memory = committed_section(f.read())
        else:
            rows = []
            for name in full_configs(ROOT):
                rows.append(memory_row(name, Config.fromfile(
                    osp.join(ROOT, name))))
                print(rows[-1], flush=True)
            memory = memory_section(rows)
        with open(args.out, 'w') as f:
            f.write(recipes_doc(ROOT, memory))
        print(f'wrote {args.out}')
        return 0
    for path in args.configs:
        if not osp.isfile(path):
            raise FileNotFoundError(f'config {path!r} does not exist')
    named = [(config_name(p, ROOT) if osp.abspath(p).startswith(ROOT)
              else p, recipe(Config.fromfile(p))) for p in args.configs]
    if not args.markdown:
        print(terminal_table(named))
        print()
    print(markdown(named))
    return 0


if __name__ == '__main__':
    sys.exit(main())
