"""Print, or write into README.md, the model-zoo table generated from the
metafiles (model-index.yml -> configs/model_zoo/*/metafile.yml).

Usage::

    python tools/analysis/model_zoo_table.py            # print
    python tools/analysis/model_zoo_table.py --write    # update README.md

``--write`` replaces the lines between the table's two marker comments in
README.md; tests/model_zoo/test_model_zoo.py fails when they differ.
"""
import argparse
import os.path as osp
import sys

import mmvitreg  # noqa: F401  (compat layer + registration first)

# isort: split

from mmvitreg.model_zoo.table import BEGIN, END, model_zoo_table

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def replace_table(text: str, table: str, path: str) -> str:
    """``text`` with the marked table replaced; fails naming ``path`` when
    the markers are missing."""
    start, stop = text.find(BEGIN), text.find(END)
    if start < 0 or stop < start:
        raise ValueError(f'{path}: no model-zoo table markers ({BEGIN!r} '
                         f'... {END!r})')
    return text[:start] + table + text[stop + len(END):]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--write', action='store_true',
                        help='write the table into README.md')
    parser.add_argument('--readme', default=osp.join(ROOT, 'README.md'),
                        help='the README whose model zoo table to write')
    args = parser.parse_args(argv)
    table = model_zoo_table()
    if not args.write:
        print(table)
        return 0
    with open(args.readme) as f:
        text = f.read()
    with open(args.readme, 'w') as f:
        f.write(replace_table(text, table, args.readme))
    print(f'wrote the model-zoo table into {args.readme}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
