"""Loaded into a grading kernel before the student's code: cap what it may print.

ipykernel sends a cell's printed text in batches; an endless print loop fills memory with one
batch before the runner sees it. Counting at write() stops the loop in the kernel instead, with
an error the student sees in that cell. (Deliberately bypassing this still meets the memory
limit; this only makes the common case, a runaway loop, fail with the right reason.)
"""

from __future__ import annotations

import sys


class OutputLimitExceeded(Exception):
    pass


def install(limit: int) -> None:
    written = [0]

    def counting(write):
        def counted(text, *args, **kwargs):
            written[0] += len(text)
            if written[0] > limit:
                raise OutputLimitExceeded(
                    f"output limit exceeded: this notebook printed more than {limit // 1024} KiB"
                )
            return write(text, *args, **kwargs)

        return counted

    def before_cell(*_):
        # IPython swaps the streams' write() around every cell (to keep output history):
        # wrap whatever it installed, for this cell.
        for stream in (sys.stdout, sys.stderr):
            stream.write = counting(stream.write)

    get_ipython().events.register("pre_run_cell", before_cell)  # noqa: F821
