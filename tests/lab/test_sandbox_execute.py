"""The course side of sandboxed grading: what goes to the sandbox, what comes back marked."""

import io
import tarfile

import nbformat
from celerylab_lab.sandbox_execute import mark_not_run, workspace_tar


def test_the_workspace_carries_the_restored_notebook_and_the_files_beside_it(tmp_path):
    (tmp_path / "ps1.ipynb").write_text("as submitted")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.csv").write_text("1,2")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "ps1-checkpoint.ipynb").write_text("old")
    tar = workspace_tar(tmp_path, "ps1.ipynb", "with hidden tests")
    with tarfile.open(fileobj=io.BytesIO(tar), mode="r:gz") as t:
        assert sorted(t.getnames()) == ["data/rows.csv", "ps1.ipynb"]
        assert t.extractfile("ps1.ipynb").read() == b"with hidden tests"


def test_cells_that_did_not_run_score_nothing_and_say_why():
    nb = nbformat.v4.new_notebook()
    ran = nbformat.v4.new_code_cell("x = 1", execution_count=1)
    nb.cells = [ran, nbformat.v4.new_code_cell("assert x == 1"), nbformat.v4.new_markdown_cell("")]
    assert mark_not_run(nb, "memory limit (256m) exceeded") == 1
    (error,) = nb.cells[1].outputs
    assert error.output_type == "error" and "memory limit" in error.evalue
    assert ran.outputs == []


def test_a_failed_submission_is_reported_with_the_fleets_reason_not_nbgraders_pointer():
    from celerylab_lab.grade_all import reason

    result = {
        "log": "[AutogradeApp | ERROR] There was an error processing assignment: /c/submitted/s1\n"
        "[AutogradeApp | ERROR] Traceback (most recent call last):\n"
        "celerylab_lab.sandbox_execute.GradingServiceError: the grading fleet timed out after "
        "3600 s (sent, no result)\n",
        "error": "nbgrader.apps.baseapp.NbGraderException: Please see the error log above\n",
    }
    assert reason(result) == (
        "celerylab_lab.sandbox_execute.GradingServiceError: the grading fleet timed out after "
        "3600 s (sent, no result)"
    )
    assert reason({"error": "KeyError: 'x'\n\n", "log": ""}) == "KeyError: 'x'"
    assert reason({"error": "", "log": ""}) == "see the log"
