"""Every byte the kernel sends counts against the grading sandbox's output cap: not only
printed text, but display updates and widget (comm) state, which the kernel-side cap does not
see (a 31 MB result once came back against a 2 MiB cap)."""

from __future__ import annotations

import nbformat
import pytest
from celerylab_lab.sandbox_run import OutputLimitExceeded, _limited_execute

FLOODS = {
    "display_updates": (
        "from IPython.display import display\n"
        "handle = display('start', display_id=True)\n"
        "for i in range(20000):\n"
        "    handle.update('y' * 1000 + str(i))"
    ),
    "widget_state": (
        "from ipykernel.comm import Comm\n"
        "comm = Comm(target_name='flood')\n"
        "for i in range(20000):\n"
        "    comm.send({'method': 'update', 'state': {'value': 'y' * 1000 + str(i)}})"
    ),
}


@pytest.mark.parametrize("flood", sorted(FLOODS))
def test_floods_the_kernel_side_cap_does_not_see_stop_at_the_cap(flood, tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(FLOODS[flood])]
    execute = _limited_execute(cell_timeout=60, output_limit=64 * 1024, as_nobody=False)
    with pytest.raises(OutputLimitExceeded):
        execute.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert execute.produced <= 2 * 64 * 1024 + 4096


def test_ordinary_output_is_not_stopped(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("for i in range(100):\n    print(i)")]
    execute = _limited_execute(cell_timeout=60, output_limit=64 * 1024, as_nobody=False)
    executed, _ = execute.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert "99" in executed.cells[0].outputs[0].text
