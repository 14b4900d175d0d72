"""The published number of a row (from the model zoo's metafiles) and the
end-of-run table: measured, published, difference, and each stage's
config and output."""
from typing import List, Optional, Tuple

from .chain import StageRun

#: model-index metric name -> key of tools/test.py's test_metrics.json
METRIC_KEYS = {'Top 1 Accuracy': 'accuracy/top1', 'mIoU': 'mIoU'}


def published(row: str) -> Tuple[Optional[str], Optional[float], str]:
    """``(metric name, value, source)`` of the model-zoo entry ``row``;
    value None where nothing is published."""
    from mmvitreg.model_zoo import load_models
    model = {m.name: m for m in load_models()}[row]
    result = model.results[0]
    source = (model.metadata.data or {}).get('Published Source', '-')
    metric = ('Top 1 Accuracy' if result.task == 'Image Classification'
              else 'mIoU')
    value = (result.metrics or {}).get(metric)
    return metric, value, source


def row_listing(rows: List[str]) -> str:
    """``--list``: each row with its published number and source."""
    lines = []
    for name in rows:
        metric, value, source = published(name)
        shown = f'{metric} {value}' if value is not None else 'none published'
        lines.append(f'{name:36s} {shown:22s} {source}')
    return '\n'.join(lines)


def result_table(row: str, runs: List[StageRun], tiny: bool) -> str:
    """The table printed at the end of a run."""
    metric, value, source = published(row)
    test = [r for r in runs if r.stage.kind == 'test'][-1]
    measured = test.metrics.get(METRIC_KEYS[metric])
    diff = ('-' if measured is None or value is None else
            f'{measured - value:+.2f}')
    shown = '-' if measured is None else f'{measured:.2f}'
    note = ' (tiny run: digits demo, not comparable)' if tiny else ''
    lines = [
        f'{row}: {metric}',
        '| measured | published | difference | source |',
        '|---|---|---|---|',
        f'| {shown} | '
        f'{value if value is not None else "-"} | {diff}{note} | {source} |',
        '',
        '| stage | kind | config | output | status |',
        '|---|---|---|---|---|',
    ]
    for index, run in enumerate(runs, 1):
        lines.append(f'| {index} | {run.stage.kind} | {run.config or "-"} | '
                     f'{run.output or "-"} | {run.status} |')
    return '\n'.join(lines)
