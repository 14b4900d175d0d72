"""``tools/reproduce.py``: one command per paper-table row, chaining the
suite's own tools (one process per stage) with hand-offs, skipping and
resuming (:mod:`.chain`), rows in :mod:`.rows`, ``--tiny`` in :mod:`.tiny`,
the final table in :mod:`.report`."""
from .chain import Context, StageRun, run_row
from .report import published, result_table, row_listing
from .rows import ROWS, Row, get_row
from .stages import Launch, Stage

__all__ = ['Context', 'Launch', 'ROWS', 'Row', 'Stage', 'StageRun',
           'get_row', 'published', 'result_table', 'row_listing', 'run_row']
