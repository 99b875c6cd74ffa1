"""Judge a notebook's hidden tests in a process of its own, where the student's code cannot
decide a verdict (the trust model: docs/grading.md, "Hidden tests").

celerylab_lab.sandbox_grade starts `python -I -m celerylab_lab.sandbox_judge <sockets>` once per
notebook, in a fresh copy of the submitted workspace, and writes one line on stdin: the
notebook's code cells in order (the student's and the given ones, and each test). The judge
replays them and, right after each test, reports its verdict as a connection to one of two
Unix sockets the grader listens on, `<sockets>/pass-<cell>` or `<sockets>/fail-<cell>`; the
grader takes a connection to a pass socket from this very process (its pid, by SO_PEERCRED) as
the only proof that that test passed. A test that never reports (os._exit, a timeout) fails,
and the grader starts a judge again for the tests after it, without it.

Why the student's code cannot make that connection:
- an audit hook, installed before any student code and never removable, lets a connection to
  a pass socket through only when it is made by `main` itself, called from this module's top
  level under runpy and nothing else, with main's own local `verdict` equal to "pass". A
  frame's local variables cannot be changed from Python (3.11) once tracing is refused, so
  only main's own code, after the test's code returned, can set it; main sets it back to
  "fail" before any other code runs;
- the same hook refuses what would change that: tracing, profiling on the main thread (but
  cProfile's own, C, profiler started by its runcall or `with`), other audit hooks,
  ctypes, the garbage collector's object scans, other threads' frames, /proc/*/mem and
  writable /proc files, and replacing a test helper's code;
- the student's cells run on a thread of their own, so main's frame is not under them; main
  binds everything it uses after them to its own locals first (no module global is read
  again), and what it keeps is immutable (code the tests call can read main's locals);
- before each test, main puts back the builtins, sys.modules and the course's test helpers
  (celerylab_course.*), and runs the test in a namespace whose builtins are a copy taken before
  any student code ran; a thread still running then, or after the test, fails the test.

Anything else is a failure: an exception (SystemExit included), os._exit, a timeout.
"""

from __future__ import annotations

import _socket as _socketmodule
import builtins
import contextlib
import json
import os
import signal
import socket
import stat
import sys
import threading
import time
import types

#: The course's test helpers: put back as they were before the student's code ran.
TRUSTED_PREFIX = "celerylab_course"
#: Helpers whose AssertionError message is the course's own teaching (passed on to feedback).
TEACHING = ("celerylab_course.checks", "celerylab_course.answers")
TRUSTED = ("celerylab_course.labkit", "celerylab_course.checks", "celerylab_course.answers")
# os.exec: a new program in the judge's own pid, without this hook, could report for it.
#: The name a test's last expression is assigned to (sandbox_grade.notebook_steps): its value,
#: if a number, is the test's partial credit.
SCORE = "__celerylab_score__"
REFUSED = {"sys.settrace", "sys.addaudithook", "sys._current_frames", "os.exec"}
REFUSED_PREFIXES = ("ctypes.", "gc.get_")


def _install_guard(
    pass_paths: tuple[str, ...],
    fail_paths: tuple[str, ...],
    main_code,
    module_file: str,
    bootstrap: frozenset,
    protected: frozenset,
) -> None:
    """The audit hook. Everything it uses is bound here: it reads no module global later.

    Frames stay readable (libraries need sys._getframe, even at import): the student's code can
    read main's locals, never change them, since no trace or Python profile function may run
    on this thread."""
    getframe, stat_of, writable = sys._getframe, os.stat, stat.S_IWUSR
    # Builtins too: the student's code can change builtins, not this closure.
    isinstance_, len_, id_, str_ = isinstance, len, id, str
    refusal, too_shallow = RuntimeError, ValueError
    type_error = TypeError
    thread_id, main_thread = threading.get_ident, threading.get_ident()
    import cProfile

    # cProfile's own (C) profiler, started by its runcall/runctx/with: no Python code sees a
    # frame. Any other profiler on the main thread could rewrite main's locals (a Python
    # profile function's frame locals are written back), so it is refused there.
    profilers = frozenset(
        getattr(cProfile.Profile, name).__code__
        for name in ("runcall", "runctx", "__enter__", "__exit__", "create_stats")
    )
    proc_dev = os.stat("/proc").st_dev if os.path.isdir("/proc") else None
    refused, prefixes = frozenset(REFUSED), REFUSED_PREFIXES

    def by_main(with_a_pass: bool) -> bool:
        frame = getframe(2)  # 0: this function, 1: the hook, 2: whoever called connect()
        if frame.f_code is not main_code:
            return False
        if with_a_pass and frame.f_locals.get("verdict") != "pass":
            return False
        frame = frame.f_back
        if frame is None or frame.f_code.co_filename != module_file:
            return False
        frame = frame.f_back
        while frame is not None:  # runpy, down to the interpreter's own start
            if frame.f_code not in bootstrap:
                return False
            frame = frame.f_back
        return True

    inside = [False]  # the guard's own sys._getframe calls are not the student's

    def caller_code(depth: int):  # depth 1: the guard's caller
        inside[0] = True
        try:
            return getframe(depth + 1).f_code
        finally:
            inside[0] = False

    pass_identities = frozenset(
        (found.st_dev, found.st_ino) for found in (stat_of(path) for path in pass_paths)
    )
    fail_identities = frozenset(
        (found.st_dev, found.st_ino) for found in (stat_of(path) for path in fail_paths)
    )
    path_types, to_bytes, text_or_bytes = (str, bytes, bytearray), bytes, (str, bytes)

    def reaches(address, identities: frozenset) -> bool:
        """Whether a connect() reaches one of these sockets, by whatever name (a symlink, ./,
        bytes)."""
        if not isinstance_(address, path_types):  # an IP address pair, and so on
            return False
        try:
            found = stat_of(address if isinstance_(address, str_) else to_bytes(address))
        except OSError:  # nothing there: connect() will not reach it either
            return False
        except (type_error, too_shallow):  # a name stat() refuses: refuse it too
            return True
        return (found.st_dev, found.st_ino) in identities

    def guard(event: str, args: tuple) -> None:
        if inside[0]:
            return
        if (
            event == "sys.setprofile"
            and thread_id() == main_thread
            and caller_code(1) not in profilers  # the frame that started it
        ):
            raise refusal("profile with cProfile.Profile().runcall(...) while grading")
        if event in refused or event.startswith(prefixes):
            raise refusal(f"{event} is not allowed while grading")
        if (
            event == "object.__setattr__"
            and len_(args) > 1
            and args[1] == "__code__"
            and id_(args[0]) in protected
        ):
            raise refusal("replacing a test helper's code is not allowed while grading")
        if event == "open" and args and isinstance_(args[0], text_or_bytes) and proc_dev:
            try:
                info = stat_of(args[0])
            except OSError:
                return
            if info.st_dev == proc_dev and info.st_mode & writable:
                raise refusal(f"opening {args[0]!r} is not allowed while grading")
        if event == "socket.connect" and len_(args) > 1:
            # A pass only from main with its verdict "pass"; a failure's reason only from main
            # too (anyone else's text there would reach the feedback).
            if reaches(args[1], pass_identities) and not by_main(True):
                raise refusal("only the judge reports a pass")
            if reaches(args[1], fail_identities) and not by_main(False):
                raise refusal("only the judge reports a failure")

    sys.addaudithook(guard)


def _not_dumpable() -> None:
    """No process of the same user (the student's children) may attach to the judge or write
    its memory (/proc/<judge>/mem, ptrace, process_vm_writev): a non-dumpable process's /proc
    files are root's, and tracing it takes CAP_SYS_PTRACE. Done with ctypes before the guard
    refuses ctypes."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE, 0


def _trusted_state() -> list[tuple]:
    """(module, its dict, [(function, defaults, kwdefaults)], [(class, its dict)]), copied."""
    found = []
    for name, module in list(sys.modules.items()):
        if not name.startswith(TRUSTED_PREFIX) or module is None:
            continue
        functions, classes = [], []
        for value in vars(module).values():
            if isinstance(value, types.FunctionType):
                functions.append((value, value.__defaults__, value.__kwdefaults__))
            elif isinstance(value, type) and value.__module__ == module.__name__:
                classes.append((value, dict(vars(value))))
                for member in vars(value).values():
                    if isinstance(member, types.FunctionType):
                        functions.append((member, member.__defaults__, member.__kwdefaults__))
        found.append((module, dict(vars(module)), functions, classes))
    return found


def raised_in(error: BaseException, codes: frozenset) -> bool:
    """Whether the error came from `codes` called by the test's own code, with no other code
    (the student's) between them: only then is its message the course's, passed on."""
    tb = error.__traceback__.tb_next  # the first is main's, which ran the test
    last = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename != "<hidden test>" and code not in codes:
            return False
        last, tb = code, tb.tb_next
    return last in codes


def _shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False  # no history thread, no database
    config.HistoryManager.hist_file = ":memory:"
    return InteractiveShell.instance(config=config, colors="NoColor")


def main(sockets: str) -> None:
    # Everything used after the student's code is bound here, before it: locals cannot be
    # rebound from outside this frame, module globals and builtins can. What main keeps is
    # immutable (tuples, frozensets, strings): code the tests call can read main's locals
    # through frames, and must not change, e.g., the builtins put back before the next test.
    _exec, _len, _listdir, _vars, _setattr, _delattr = exec, len, os.listdir, vars, setattr, delattr
    _dict, _type, _set, _chdir, _base = dict, type, set, os.chdir, BaseException
    _socket, _unix, _stream = _socketmodule.socket, socket.AF_UNIX, socket.SOCK_STREAM
    _mask, _block, _setmask = signal.pthread_sigmask, signal.SIG_BLOCK, signal.SIG_SETMASK
    _join, _thread, _sleep = threading.Thread.join, threading.Thread, time.sleep

    import runpy

    _not_dumpable()
    program = json.loads(sys.stdin.readline())
    for name in TRUSTED:
        with contextlib.suppress(ImportError):  # a lab image without the course package
            __import__(name)
    shell = _shell()
    trusted = tuple(
        (module, tuple(namespace.items()), tuple(functions), tuple(
            (cls, tuple(attrs.items())) for cls, attrs in classes
        ))
        for module, namespace, functions, classes in _trusted_state()
    )  # fmt: skip
    protected = frozenset(id(f) for _, _, functions, _ in trusted for f, _, _ in functions)
    bootstrap = frozenset((runpy._run_code.__code__, runpy._run_module_as_main.__code__))
    # The notebook in order: the student's and given cells (on a thread of their own, batch
    # by batch) and each test (here, on the main thread, reported at once).
    steps = tuple(
        ("cells", tuple(step[1]))
        if step[0] == "cells"
        else ("test", f"{sockets}/pass-{step[1]}", f"{sockets}/fail-{step[1]}",
              compile(step[2], "<hidden test>", "exec"))
        for step in program["steps"]
    )  # fmt: skip
    passes = tuple(step[1] for step in steps if step[0] == "test")
    failures = tuple(step[2] for step in steps if step[0] == "test")
    _install_guard(passes, failures, main.__code__, __file__, bootstrap, protected)
    # An AssertionError raised by the course's check helpers (labs' checks, quizzes' answers)
    # says what to fix: it is passed on.
    helpers = [sys.modules.get(name) for name in TEACHING]
    teaching = frozenset(
        f.__code__
        for module in helpers
        if module is not None
        for f in vars(module).values()
        if isinstance(f, types.FunctionType) and f.__module__ == module.__name__
    )
    _assertion, _str = AssertionError, str
    _number, _repr, _score_name = frozenset((float, int)), repr, SCORE
    user_ns = shell.user_ns
    _signals = frozenset(signal.valid_signals())
    builtins_dict = builtins.__dict__
    pristine = tuple(builtins_dict.items())
    pristine_names = frozenset(builtins_dict)
    modules, saved_modules = sys.modules, tuple(sys.modules.items())
    workdir = os.getcwd()
    known_exceptions = frozenset(v for _, v in pristine if isinstance(v, type))
    _raised_in = raised_in
    # The workspace (the student's modules) after everything the judge and the tests import.
    sys.path.append(workdir)
    cell_timeout = float(program["cell_timeout"])
    del program, helpers

    def replay(cells, shell=shell):
        for source in cells:
            try:  # noqa: SIM105 - no module global (contextlib) after the student's code
                shell.run_cell(source, store_history=False)
            except BaseException:  # noqa: S110 - a cell's error is its own, as in a notebook
                pass

    for step in steps:
        verdict = "fail"
        if step[0] == "cells":
            student = _thread(target=replay, args=(step[1],), name="notebook", daemon=True)
            student.start()
            _join(student, cell_timeout * _len(step[1]))
            student = None
            continue
        _, pass_path, fail_path, test = step
        reason = "threads left running by the notebook's code"
        # Inline, not a function: a function's code or defaults could be replaced from the
        # student's code (main's locals are readable). A thread that has just returned takes
        # a moment to leave the OS's list.
        for _ in range(40):
            alone = _len(_listdir("/proc/self/task")) == 1
            if alone:
                break
            _sleep(0.05)
        if alone:
            # Put back what the test relies on, as it was before the student's code ran.
            builtins_dict.clear()
            builtins_dict.update(pristine)
            for name, module in saved_modules:
                modules[name] = module
            for module, namespace, functions, classes in trusted:
                _vars(module).clear()
                _vars(module).update(namespace)
                for function, defaults, kwdefaults in functions:
                    _setattr(function, "__defaults__", defaults)
                    _setattr(function, "__kwdefaults__", kwdefaults)
                for cls, attrs in classes:
                    for attr in _set(_vars(cls)) - _set(name for name, _ in attrs):
                        _delattr(cls, attr)
                    for attr, value in attrs:
                        if (
                            attr not in ("__dict__", "__weakref__")
                            and _vars(cls).get(attr) is not value
                        ):
                            _setattr(cls, attr, value)
            _chdir(workdir)
            scope = {k: v for k, v in user_ns.items() if k not in pristine_names}
            scope["__builtins__"] = _dict(pristine)
            scope["__name__"] = "__main__"
            reason = "failed"
            score = None
            try:
                _exec(test, scope)
                verdict = "pass"
                # A test that ends in a number gives that partial credit (nbgrader's rule).
                score = scope.pop(_score_name, None)
            except _base as e:  # SystemExit and KeyboardInterrupt included: a failure
                verdict = "fail"
                reason = "Exception"
                if _type(e) in known_exceptions:
                    reason = _type(e).__name__
                if _type(e) is _assertion and _raised_in(e, teaching):
                    message = e.args[0] if e.args and _type(e.args[0]) is _str else ""
                    reason = f"AssertionError\n{message[:300]}"
                e = None
            for _ in range(40):
                alone = _len(_listdir("/proc/self/task")) == 1
                if alone:
                    break
                _sleep(0.05)
            if verdict == "pass" and not alone:
                verdict, reason = "fail", "threads left running by the test"
            # What the test defined, for the cells after it (as in the notebook).
            scope.pop("__builtins__", None)
            user_ns.update(scope)
            scope = None
        # No handler of the student's runs while the verdict is reported.
        unblocked = _mask(_block, _signals)
        channel = _socket(_unix, _stream)
        try:
            if verdict == "pass":
                channel.connect(pass_path)
                if _type(score) in _number:  # never bool, never a subclass
                    channel.sendall(_repr(score).encode()[:40])
            else:
                channel.connect(fail_path)
                channel.sendall(reason.encode()[:1000])
        finally:
            channel.close()
            verdict, score = "fail", None
            channel = None
            _mask(_setmask, unblocked)


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except BaseException:  # the judge's own failure (its stderr is for debugging only)
        import traceback

        traceback.print_exc()
    finally:
        # Never the student's atexit hooks, and never a second word to the grader.
        os._exit(0)
