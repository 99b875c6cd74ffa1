"""Judge ONE hidden test in a process of its own, where the student's code cannot decide the
verdict (the trust model: docs/grading.md, "Hidden tests").

celerylab_lab.sandbox_grade starts `python -I -m celerylab_lab.sandbox_judge <pass> <fail>` for
each test cell, in a fresh copy of the submitted workspace, and writes one line on stdin: the
notebook's code cells before the test, in order (the student's and the given ones, and the
earlier tests, for what they leave behind) and the test's source. The verdict is a connection
to one of two Unix sockets the grader listens on; the grader takes a connection to <pass> from
this very process (its pid, by SO_PEERCRED) as the only proof that the test passed.

Why the student's code cannot make that connection:
- an audit hook, installed before any student code and never removable, lets a connection to
  <pass> through only when it is made by `main` itself, called from this module's top level
  under runpy and nothing else, with main's own local `verdict` equal to "pass". A frame's
  local variables cannot be changed from Python (3.11) once tracing is refused, so only main's
  own code, after the test's code returned, can set it;
- the same hook refuses what would change that: tracing, profiling on the main thread (but
  cProfile's own, C, profiler started by its runcall or `with`), other audit hooks,
  ctypes, the garbage collector's object scans, other threads' frames, /proc/*/mem and
  writable /proc files, and replacing a function's code;
- the student's cells run on a thread of their own, so main's frame is not under them; main
  binds everything it uses after them to its own locals first (no module global is read again);
- before the test, main puts back the builtins, sys.modules and the course's test helpers
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
TRUSTED = ("celerylab_course.labkit", "celerylab_course.checks", "celerylab_course.answers")
REFUSED = {"sys.settrace", "sys.addaudithook", "sys._current_frames"}
REFUSED_PREFIXES = ("ctypes.", "gc.get_")


def _install_guard(
    pass_path: str,
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

    def by_main_with_a_pass() -> bool:
        frame = getframe(2)  # 0: this function, 1: the hook, 2: whoever called connect()
        if frame.f_code is not main_code or frame.f_locals.get("verdict") != "pass":
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

    pass_socket = stat_of(pass_path)
    pass_identity = (pass_socket.st_dev, pass_socket.st_ino)
    path_types, to_bytes, text_or_bytes = (str, bytes, bytearray), bytes, (str, bytes)

    def is_pass_socket(address) -> bool:
        """Whether a connect() reaches the pass socket, by whatever name (a symlink, ./, bytes)."""
        if not isinstance_(address, path_types):  # an IP address pair, and so on
            return False
        try:
            found = stat_of(address if isinstance_(address, str_) else to_bytes(address))
        except OSError:  # nothing there: connect() will not reach it either
            return False
        except (type_error, too_shallow):  # a name stat() refuses: refuse it too
            return True
        return (found.st_dev, found.st_ino) == pass_identity

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
        if (
            event == "socket.connect"
            and len_(args) > 1
            and is_pass_socket(args[1])
            and not by_main_with_a_pass()
        ):
            raise refusal("only the judge reports a pass")

    sys.addaudithook(guard)


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


def main(pass_path: str, fail_path: str) -> None:
    # Everything used after the student's code is bound here, before it: locals cannot be
    # rebound from outside this frame, module globals and builtins can.
    _exec, _len, _listdir, _vars, _setattr, _delattr = exec, len, os.listdir, vars, setattr, delattr
    _dict, _type, _set, _chdir, _base = dict, type, set, os.chdir, BaseException
    _socket, _unix, _stream = _socketmodule.socket, socket.AF_UNIX, socket.SOCK_STREAM
    _sig, _dfl, _mask, _block = (
        signal.signal,
        signal.SIG_DFL,
        signal.pthread_sigmask,
        signal.SIG_BLOCK,
    )
    _join, _thread, _sleep = threading.Thread.join, threading.Thread, time.sleep

    def alone(_len=_len, _listdir=_listdir, _sleep=_sleep) -> bool:
        # A thread that has just returned takes a moment to leave the OS's list.
        for _ in range(40):
            if _len(_listdir("/proc/self/task")) == 1:
                return True
            _sleep(0.05)
        return False

    import runpy

    program = json.loads(sys.stdin.readline())
    for name in TRUSTED:
        with contextlib.suppress(ImportError):  # a lab image without the course package
            __import__(name)
    test = compile(program["test"], "<hidden test>", "exec")
    shell = _shell()
    trusted = _trusted_state()
    protected = frozenset(id(f) for _, _, functions, _ in trusted for f, _, _ in functions)
    bootstrap = frozenset((runpy._run_code.__code__, runpy._run_module_as_main.__code__))
    _install_guard(pass_path, main.__code__, __file__, bootstrap, protected)
    # An AssertionError raised by the course's check helpers says what to fix: it is passed on.
    checks = sys.modules.get("celerylab_course.checks")
    teaching = frozenset(
        f.__code__
        for f in (vars(checks).values() if checks else ())
        if isinstance(f, types.FunctionType)
    )
    _assertion, _str = AssertionError, str
    user_ns = shell.user_ns
    _signals = list(signal.valid_signals())
    builtins_dict = builtins.__dict__
    pristine = _dict(builtins_dict)
    modules, saved_modules = sys.modules, _dict(sys.modules)
    workdir = os.getcwd()
    known_exceptions = {v for v in pristine.values() if isinstance(v, type)}
    _raised_in = raised_in
    # The workspace (the student's modules) after everything the judge and the tests import.
    sys.path.append(workdir)
    # The notebook before the test, in order: the student's and given cells (on a thread of
    # their own, batch by batch), and the earlier tests (here, for what they leave behind: the
    # notebook's later cells may rely on it; their own outcome is judged in their own process).
    steps = [
        (kind, payload if kind == "cells" else compile(payload, "<hidden test>", "exec"))
        for kind, payload in program["steps"]
    ]
    cell_timeout = float(program["cell_timeout"])
    del program

    def replay(cells, shell=shell):
        for source in cells:
            try:  # noqa: SIM105 - no module global (contextlib) after the student's code
                shell.run_cell(source, store_history=False)
            except BaseException:  # noqa: S110 - a cell's error is its own, as in a notebook
                pass

    student = payload = None
    for kind, payload in steps:
        if kind == "cells":
            student = _thread(target=replay, args=(payload,), name="notebook", daemon=True)
            student.start()
            _join(student, cell_timeout * _len(payload))
            continue
        try:  # noqa: SIM105 - no module global (contextlib) after the student's code
            _exec(payload, user_ns)
        except _base:  # judged in its own process
            pass
    del student, replay, shell, steps, payload

    verdict, reason = "fail", "threads left running by the notebook's code"
    if alone():
        # Put back what the test relies on, as it was before the student's code ran.
        builtins_dict.clear()
        builtins_dict.update(pristine)
        for name, module in saved_modules.items():
            modules[name] = module
        for module, namespace, functions, classes in trusted:
            _vars(module).clear()
            _vars(module).update(namespace)
            for function, defaults, kwdefaults in functions:
                _setattr(function, "__defaults__", defaults)
                _setattr(function, "__kwdefaults__", kwdefaults)
            for cls, attrs in classes:
                for attr in _set(_vars(cls)) - _set(attrs):
                    _delattr(cls, attr)
                for attr, value in attrs.items():
                    if (
                        attr not in ("__dict__", "__weakref__")
                        and _vars(cls).get(attr) is not value
                    ):
                        _setattr(cls, attr, value)
        _chdir(workdir)
        scope = {k: v for k, v in user_ns.items() if k not in pristine}
        scope["__builtins__"] = _dict(pristine)
        scope["__name__"] = "__main__"
        reason = "failed"
        try:
            _exec(test, scope)
            verdict = "pass"
        except _base as e:  # SystemExit and KeyboardInterrupt included: a failure
            verdict = "fail"
            reason = "Exception"
            if _type(e) in known_exceptions:
                reason = _type(e).__name__
            if _type(e) is _assertion and _raised_in(e, teaching):
                message = e.args[0] if e.args and _type(e.args[0]) is _str else ""
                reason = f"AssertionError\n{message[:300]}"
        if verdict == "pass" and not alone():
            verdict, reason = "fail", "threads left running by the test"
    # No handler of the student's runs from here on.
    _mask(_block, _signals)
    for sig in _signals:
        try:  # noqa: SIM105 - no module global (contextlib) after the student's code
            _sig(sig, _dfl)
        except (OSError, ValueError, RuntimeError):
            pass
    channel = _socket(_unix, _stream)
    if verdict == "pass":
        channel.connect(pass_path)
    else:
        channel.connect(fail_path)
        channel.sendall(reason.encode()[:1000])
    channel.close()


if __name__ == "__main__":
    try:
        main(sys.argv[1], sys.argv[2])
    except BaseException:  # the judge's own failure (its stderr is for debugging only)
        import traceback

        traceback.print_exc()
    finally:
        # Never the student's atexit hooks, and never a second word to the grader.
        os._exit(0)
