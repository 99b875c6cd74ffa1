"""Hidden tests that student code cannot fool or read (docs/grading.md, "Hidden tests").

Each submission runs as in the grading sandbox, minus the container: a real kernel runs the
notebook with its tests emptied, then the tests are judged by a fresh process
(celerylab_lab.sandbox_grade). Every attack below is paired with a WRONG add(): the attack is
the only way to points, so any point means it got through. The same attacks run live in the
sandbox container in integration-tests/test_sandbox.py.
"""

from __future__ import annotations

import textwrap

import nbformat
import pytest
from celerylab_lab.sandbox_grade import is_test, judged_execute_class
from nbgrader.utils import determine_grade

SECRET = "SECRET-HIDDEN-ASSERTION"
TESTS = {
    "test_plain": "assert add(1, 2) == 3\n### BEGIN HIDDEN TESTS\n"
    f"assert add(-1, 1) == 0  # {SECRET}\n### END HIDDEN TESTS",
    "test_checks": "from celerylab_course.checks import expect_equal\n"
    "expect_equal(add(2, 2), 4, 'add(2, 2)', hint='add the two numbers.')",
    "test_types": "assert isinstance(add(1, 1), int) and add(1, 1) == 2",
}
WRONG = "def add(a, b):\n    return a - b\n"
RIGHT = "def add(a, b):\n    return a + b\n"

#: Each: what the student appends to a wrong add() in the answer cell.
ATTACKS = {
    "input_transformer": "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])",
    "ast_transformer": """
        import ast
        class Nothing(ast.NodeTransformer):
            def visit_Module(self, node):
                return ast.Module(body=[ast.Pass()], type_ignores=[])
        get_ipython().ast_transformers.append(Nothing())
    """,
    "silent_showtraceback": """
        get_ipython().showtraceback = lambda *a, **k: None
        get_ipython()._showtraceback = lambda *a, **k: None
    """,
    "forged_iopub": """
        kernel = get_ipython().kernel
        real_send = kernel.session.send
        def send(stream, msg_or_type, content=None, *args, **kwargs):
            kind = msg_or_type if isinstance(msg_or_type, str) else msg_or_type.get('msg_type')
            if kind == 'error':
                return None
            if kind == 'execute_reply' and content and content.get('status') == 'error':
                content = {**content, 'status': 'ok'}
            return real_send(stream, msg_or_type, content, *args, **kwargs)
        kernel.session.send = send
    """,
    "patched_builtins": """
        import builtins
        real_import = builtins.__import__
        class Fake:
            expect_equal = staticmethod(lambda *a, **k: None)
        def fake_import(name, *args, **kwargs):
            if name.startswith('celerylab_course'):
                return Fake
            return real_import(name, *args, **kwargs)
        builtins.__import__ = fake_import
        builtins.isinstance = lambda *a: True
        builtins.AssertionError = type('AssertionError', (Exception,), {})
        def isinstance(*a):
            return True
    """,
    "patched_helpers": """
        import sys, types
        import celerylab_course.checks as checks, celerylab_course.labkit as labkit
        import celerylab_course.answers as answers
        checks.expect_equal = lambda *a, **k: None
        checks.expect_equal.__code__ = (lambda *a, **k: None).__code__
        sys.modules['celerylab_course.checks'] = types.SimpleNamespace(
            expect_equal=lambda *a, **k: None)
        labkit.Lab = answers.check = None
    """,
    "settrace": """
        import sys, threading
        def skip(frame, event, arg):
            if frame.f_code.co_filename.startswith('<hidden'):
                raise SystemExit
            return skip
        threading.settrace(skip)
        sys.settrace(skip)
    """,
    "exit_in_test": """
        def add(a, b):
            import os
            os._exit(0)
    """,
    "system_exit_in_test": """
        def add(a, b):
            raise SystemExit(0)
    """,
    # sys.argv[1] is the judge's folder of report sockets (pass-<cell>, fail-<cell>).
    "atexit_and_forged_verdict": """
        import atexit, glob, os, socket, subprocess, sys
        SOCKETS = sorted(glob.glob(os.path.join(sys.argv[1], 'pass-*'))) if len(sys.argv) > 1 \
            else []
        assert SOCKETS or 'ipykernel' in sys.modules, 'the attack lost its target'
        def claim(paths=tuple(SOCKETS)):
            for path in paths:
                try:
                    socket.socket(socket.AF_UNIX).connect(path)
                except Exception:
                    pass
        atexit.register(claim)
        subprocess.Popen([sys.executable, '-c',
            'import socket, sys, time\\nfor _ in range(50):\\n'
            '    for path in sys.argv[1:]:\\n'
            '        try:\\n            socket.socket(socket.AF_UNIX).connect(path)\\n'
            '        except OSError: pass\\n    time.sleep(0.05)', *SOCKETS])
        claim()
    """,
    # The judge's pid, with a new program in it that has no audit hook: exec from a test.
    "exec_keeps_the_pid": """
        import glob, os, sys
        def add(a, b):
            folder = sys.argv[1]
            passes = glob.glob(os.path.join(folder, 'pass-*'))
            assert passes, 'the attack lost its target'
            forger = ('import socket, sys\\nfor path in sys.argv[1:]:\\n'
                      '    socket.socket(socket.AF_UNIX).connect(path)')
            os.execv(sys.executable, [sys.executable, '-c', forger, *passes])
    """,
    "pass_socket_by_another_name": """
        import glob, os, socket, sys
        def add(a, b):
            import builtins
            folder = sys.argv[1]
            names = sorted(os.path.basename(p) for p in glob.glob(folder + '/pass-*'))
            assert names, 'the attack lost its target'
            others = [os.path.join(folder, '.', n) for n in names]
            others += [os.path.join(folder, n).encode() for n in names]
            builtins.isinstance = lambda *a: False  # the judge's guard must not ask builtins
            builtins.len = lambda *a: 0
            for other in others:
                try:
                    socket.socket(socket.AF_UNIX).connect(other)
                except OSError:
                    pass
            return a - b
    """,
    "threads_outliving_the_cell": """
        import threading, time, sys
        def meddle():
            while True:
                mod = sys.modules.get('celerylab_course.checks')
                if mod is not None:
                    mod.expect_equal = lambda *a, **k: None
                time.sleep(0.001)
        threading.Thread(target=meddle, daemon=True).start()
    """,
    "frames_from_the_test": """
        def add(a, b):
            import sys
            frame = sys._getframe(1)
            while frame.f_back is not None:
                frame = frame.f_back
            frame.f_locals['verdict'] = 'pass'
            return a - b
    """,
    # The judge's own state, reached through frames from code a test calls (test_plain calls
    # add() before test_checks runs): what is put back before the next test, and the thread
    # check. Main keeps only immutable things, and checks threads inline.
    "frames_mutate_saved_state": """
        import sys
        def add(a, b):
            frame = sys._getframe(1)
            while frame is not None:
                for value in list(frame.f_locals.values()):
                    try:
                        if isinstance(value, dict) and 'isinstance' in value:
                            value['isinstance'] = lambda *a: True
                        for entry in value if isinstance(value, (list, tuple)) else ():
                            if isinstance(entry, tuple) and len(entry) == 4:
                                dict(entry[1])  # a namespace kept as a dict: forge it
                                entry[1]['expect_equal'] = lambda *a, **k: None
                    except Exception:
                        pass
                frame = frame.f_back
            return a - b
    """,
    "frames_replace_the_thread_check": """
        import sys, threading, time, types
        def meddle():
            while True:
                mod = sys.modules.get('celerylab_course.checks')
                if mod is not None:
                    mod.expect_equal = lambda *a, **k: None
                time.sleep(0.001)
        threading.Thread(target=meddle, daemon=True).start()
        def add(a, b):
            frame = sys._getframe(1)
            while frame is not None:
                for name, value in list(frame.f_locals.items()):
                    if isinstance(value, types.FunctionType) and name != 'main':
                        try:
                            value.__code__ = (lambda *a, **k: True).__code__
                            value.__defaults__ = None
                        except Exception:
                            pass
                frame = frame.f_back
            return a - b
    """,
    "profiler_rewrites_locals": """
        import sys
        wrong_add = add
        def add(a, b):
            def rewrite(frame, event, arg):
                while frame is not None:
                    if 'verdict' in frame.f_locals:
                        frame.f_locals['verdict'] = 'pass'
                    frame = frame.f_back
            sys.setprofile(rewrite)
            return wrong_add(a, b)
    """,
    "writing_into_the_workspace": """
        import os
        os.makedirs('celerylab_course', exist_ok=True)
        for name in ('__init__.py', 'checks.py'):
            with open(os.path.join('celerylab_course', name), 'w') as f:
                f.write('def expect_equal(*a, **k):\\n    pass\\n')
        with open('sitecustomize.py', 'w') as f:
            f.write('import builtins\\nbuiltins.isinstance = lambda *a: True\\n')
    """,
}


def notebook(answer: str, extra_cells: tuple[str, ...] = ()) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    answer_cell = nbformat.v4.new_code_cell(answer)
    answer_cell.metadata["nbgrader"] = {
        "grade": False, "solution": True, "locked": False, "grade_id": "answer",
        "schema_version": 3,
    }  # fmt: skip
    nb.cells = [answer_cell] + [nbformat.v4.new_code_cell(c) for c in extra_cells]
    for grade_id, source in TESTS.items():
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["nbgrader"] = {
            "grade": True, "solution": False, "locked": True, "points": 1, "grade_id": grade_id,
            "schema_version": 3,
        }  # fmt: skip
        nb.cells.append(cell)
    return nb


def grade(nb: nbformat.NotebookNode, workdir) -> tuple[float, nbformat.NotebookNode]:
    execute = judged_execute_class()(timeout=20)
    graded, _ = execute.preprocess(nb, {"metadata": {"path": str(workdir)}})
    score = sum(determine_grade(c)[0] for c in graded.cells if is_test(c))
    return score, graded


def test_the_right_answer_keeps_full_marks(tmp_path):
    score, graded = grade(notebook(RIGHT), tmp_path)
    assert score == len(TESTS), nbformat.writes(graded)


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_no_attack_gives_a_wrong_answer_a_point(attack, tmp_path):
    score, graded = grade(notebook(WRONG + textwrap.dedent(ATTACKS[attack])), tmp_path)
    assert score == 0, nbformat.writes(graded)


def test_a_failed_check_still_teaches(tmp_path):
    _, graded = grade(notebook(WRONG), tmp_path)
    (cell,) = [c for c in graded.cells if c.metadata["nbgrader"]["grade_id"] == "test_checks"]
    (error,) = cell.outputs
    assert error.ename == "AssertionError"
    assert error.evalue == "add(2, 2) gave 0; expected 4. Hint: add the two numbers.", error


def test_no_text_of_the_students_reaches_the_feedback_as_a_reason(tmp_path):
    # A failure's reason is the judge's to send: the student's code, which can read the tests'
    # code through frames, must not write it there (into the fail sockets) for them to read.
    leak = """
        import glob, os, socket, sys
        def add(a, b):
            folder = sys.argv[1]
            fails = glob.glob(os.path.join(folder, 'fail-*'))
            assert fails, 'the attack lost its target'
            for path in fails:
                try:
                    s = socket.socket(socket.AF_UNIX)
                    s.connect(path)
                    s.sendall(b'AssertionError\\nLEAKED-' + b'BY-THE-STUDENT')
                    s.close()
                except OSError:
                    pass
            return a - b
    """
    score, graded = grade(notebook(WRONG + textwrap.dedent(leak)), tmp_path)
    assert score == 0
    assert "LEAKED-BY-THE-STUDENT" not in nbformat.writes(graded)


def test_feedback_names_the_tests_and_their_outcomes_but_never_their_code(tmp_path):
    prying = """
        import glob, json
        found = glob.glob('**/*.ipynb', recursive=True) + glob.glob('/sandbox/**', recursive=True)
        for path in found:
            try:
                print(path, open(path).read())
            except OSError:
                pass
        print(In, Out, globals().keys())
    """
    nb = notebook(RIGHT, extra_cells=(textwrap.dedent(prying),))
    # The submission as the student hands it in, beside it: its tests without the hidden part.
    handed_in = nbformat.writes(nb).replace(SECRET, "")
    (tmp_path / "ps1.ipynb").write_text(handed_in)
    score, graded = grade(nb, tmp_path)
    assert score == len(TESTS)
    assert "glob.glob" in nbformat.writes(graded)  # the prying cell ran, and its output is there
    assert SECRET not in nbformat.writes(graded)
    tests = [c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert [c.source for c in tests] == [f"# {gid}: hidden test, passed" for gid in TESTS]
    assert [c.outputs for c in tests] == [[], [], []]


#: Attacks that get points when the tests run in the student's kernel (nbgrader's own Execute,
#: as the sandbox did before): the suite above would catch them coming back.
REAL_IN_THE_KERNEL = (
    "ast_transformer",
    "forged_iopub",
    "input_transformer",
    "patched_helpers",
    "writing_into_the_workspace",
)


@pytest.mark.parametrize("attack", REAL_IN_THE_KERNEL)
def test_the_attacks_are_real_where_tests_share_the_kernel(attack, tmp_path):
    from nbgrader.preprocessors import Execute

    nb = notebook(WRONG + textwrap.dedent(ATTACKS[attack]))
    graded, _ = Execute(timeout=20).preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert sum(determine_grade(c)[0] for c in graded.cells if is_test(c)) > 0


def partial_notebook(answer: str, test_source: str) -> nbformat.NotebookNode:
    nb = notebook(answer)
    cell = nbformat.v4.new_code_cell(test_source)
    cell.metadata["nbgrader"] = {
        "grade": True, "solution": False, "locked": True, "points": 1, "grade_id": "test_part",
        "schema_version": 3,
    }  # fmt: skip
    nb.cells.append(cell)
    return nb


PARTIAL = "assert add(1, 2) == 3\n0.25 if add(2, 2) == 4 else 0.0  # as checks.style_grade does"


def test_a_test_that_ends_in_a_number_gives_that_partial_credit(tmp_path):
    """nbgrader's partial credit: the judge carries the number a passing test ends with."""
    score, graded = grade(partial_notebook(RIGHT, PARTIAL), tmp_path)
    assert score == len(TESTS) + 0.25, nbformat.writes(graded)


def test_the_student_cannot_turn_partial_credit_into_full_marks(tmp_path):
    """Renaming what the judge reads the score from (a module global of the judge) or
    returning a bool changes nothing: the name was bound before the student's code ran."""
    answer = RIGHT + textwrap.dedent(
        """
        import threading
        # The replaying thread's target is the judge's own function: its module's globals.
        target = getattr(threading.current_thread(), "_target", None)
        if target is not None and "SCORE" in target.__globals__:
            target.__globals__["SCORE"] = "elsewhere"
        """
    )
    score, graded = grade(partial_notebook(answer, PARTIAL), tmp_path)
    assert score == len(TESTS) + 0.25, nbformat.writes(graded)
