"""Live services for hidden tests, lessons and course tests: a throwaway Redis and a real Celery
worker for the student's module, each started with a deadline and stopped cleanly.

Needs only the standard library, celery and redis (and `redis-server` on PATH), so it runs in the
lab image and in the network-less grading sandbox alike. Typical hidden test:

    from celerylab_course import labkit
    lab = labkit.Lab.get("calculator.tasks")    # Redis + worker, started once per kernel
    tasks = lab.module                          # the student's module, bound to that Redis
    assert tasks.add.delay(2, 3).get(timeout=10) == 5

Nothing here is eager mode: every task that goes through `lab` crosses a real broker to a real
worker process.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import redis

DEFAULT_DEADLINE = 30.0


class ServiceError(RuntimeError):
    """A live service did not start, or stopped answering, within its deadline."""


def wait_for(
    predicate: Callable[[], Any], timeout: float, interval: float = 0.1, what: str = "it"
) -> Any:
    """Call predicate until it returns something truthy; ServiceError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except ServiceError:
            raise  # the predicate knows it will never succeed (e.g. the process exited)
        except Exception as e:
            last_error = e
        if time.monotonic() >= deadline:
            hint = f" (last error: {last_error!r})" if last_error else ""
            raise ServiceError(f"gave up waiting for {what} after {timeout:g}s{hint}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the process that started us dies (Linux), so a killed
    kernel or test run never leaves a worker or Redis behind."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    os.setsid()


class RedisServer:
    """A private redis-server on 127.0.0.1, a free port and a random password; no persistence."""

    def __init__(self, password: str | None = None, deadline: float = 10.0):
        self.password = password or secrets.token_urlsafe(18)
        self.deadline = deadline
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.dir: str | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(
            host="127.0.0.1",
            port=self.port,
            password=self.password,
            db=db,
            socket_timeout=5,
            socket_connect_timeout=2,
        )

    def start(self) -> RedisServer:
        exe = shutil.which("redis-server")
        if exe is None:
            raise ServiceError("redis-server is not installed (apt-get install redis-server)")
        self.dir = tempfile.mkdtemp(prefix="celerylab-redis-")
        for _attempt in range(5):
            self.port = free_port()
            self.proc = subprocess.Popen(
                [
                    exe,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--requirepass",
                    self.password,
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    self.dir,
                    "--loglevel",
                    "warning",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )
            try:
                wait_for(
                    lambda: self.proc.poll() is not None or self.client().ping(),
                    self.deadline,
                    what=f"redis-server on port {self.port}",
                )
            except ServiceError:
                self.stop()
                raise
            if self.proc.poll() is None:
                return self
            # The port was taken between choosing it and binding it: try another.
        raise ServiceError("redis-server did not start on any of 5 free ports")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Worker:
    """`celery -A <app> worker` in a subprocess, bound to the given Redis, ready when it answers a
    ping. Its log is kept in a file so a failure can show why the worker did not start."""

    def __init__(
        self,
        app: str,
        broker_url: str,
        backend_url: str,
        workdir: str | Path = ".",
        queues: list[str] | None = None,
        pool: str = "prefork",
        concurrency: int = 2,
        extra_args: list[str] | tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        deadline: float = DEFAULT_DEADLINE,
    ):
        self.app, self.broker_url, self.backend_url = app, broker_url, backend_url
        self.workdir = Path(workdir).resolve()
        self.queues, self.pool, self.concurrency = queues, pool, concurrency
        self.extra_args, self.env, self.deadline = list(extra_args), env or {}, deadline
        self.name = f"labkit-{secrets.token_hex(4)}@{socket.gethostname()}"
        self.proc: subprocess.Popen | None = None
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in close()
            prefix="celerylab-worker-", suffix=".log", delete=False
        )

    @property
    def log_path(self) -> str:
        return self._log.name

    def log(self, tail: int = 40) -> str:
        try:
            lines = Path(self.log_path).read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return ""
        return "\n".join(lines[-tail:])

    def environ(self) -> dict[str, str]:
        env = {
            **os.environ,
            **self.env,
            "CELERY_BROKER_URL": self.broker_url,
            "CELERY_RESULT_BACKEND": self.backend_url,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(self.workdir), env.get("PYTHONPATH")])
        )
        return env

    def argv(self) -> list[str]:
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            self.app,
            "worker",
            "--loglevel=INFO",
            f"--pool={self.pool}",
            f"--concurrency={self.concurrency}",
            "-n",
            self.name,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--task-events",
        ]
        if self.queues:
            argv.append(f"--queues={','.join(self.queues)}")
        return argv + self.extra_args

    def start(self) -> Worker:
        self.proc = subprocess.Popen(
            self.argv(),
            cwd=self.workdir,
            env=self.environ(),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        from celery import Celery

        probe = Celery(
            "labkit-probe", broker=self.broker_url, backend=self.backend_url, set_as_current=False
        )  # never the current app: shared tasks sent after this go through the lab's own app
        saved = point_env_at(self.broker_url, self.backend_url)
        try:

            def answered():
                if self.proc.poll() is not None:
                    raise ServiceError(
                        f"the worker for {self.app!r} exited with code "
                        f"{self.proc.returncode}:\n{self.log()}"
                    )
                return probe.control.ping(destination=[self.name], timeout=0.5)

            try:
                wait_for(answered, self.deadline, interval=0.2, what=f"a worker for {self.app!r}")
            except ServiceError as e:
                self.stop()
                if "exited with code" in str(e):
                    raise
                raise ServiceError(f"{e}\n--- worker log ---\n{self.log()}") from None
        finally:
            probe.close()
            restore_env(saved)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                # cold shutdown (the whole process group, pool children too): a test worker has
                # nothing to finish, and a warm shutdown costs seconds per test
                os.killpg(self.proc.pid, signal.SIGQUIT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def close(self) -> None:
        self.stop()
        self._log.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.log_path)

    def __enter__(self) -> Worker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


class Flower:
    """`celery flower` on 127.0.0.1 and a free port, ready when /healthcheck answers OK."""

    def __init__(
        self,
        app: str,
        broker_url: str,
        backend_url: str,
        workdir: str | Path = ".",
        deadline: float = DEFAULT_DEADLINE,
    ):
        self.app, self.broker_url, self.backend_url = app, broker_url, backend_url
        self.workdir, self.deadline = Path(workdir).resolve(), deadline
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Flower:
        import urllib.request

        self.port = free_port()
        env = {
            **os.environ,
            "CELERY_BROKER_URL": self.broker_url,
            "CELERY_RESULT_BACKEND": self.backend_url,
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(self.workdir), os.environ.get("PYTHONPATH")])
            ),
        }
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                self.app,
                "flower",
                "--address=127.0.0.1",
                f"--port={self.port}",
            ],
            cwd=self.workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )

        def healthy():
            if self.proc.poll() is not None:
                raise ServiceError(f"flower exited with code {self.proc.returncode}")
            with urllib.request.urlopen(f"{self.url}/healthcheck", timeout=1) as response:  # noqa: S310
                return response.status == 200

        try:
            wait_for(healthy, self.deadline, interval=0.2, what="flower")
        except ServiceError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> Flower:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


_ENV_KEYS = ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")


def point_env_at(broker_url: str, backend_url: str) -> dict[str, str | None]:
    """Set CELERY_BROKER_URL / CELERY_RESULT_BACKEND; return the old values for restore_env.

    Celery reads these two variables *before* its own configuration every time it connects (an
    app made with broker=... still uses CELERY_BROKER_URL when it is set), so code that talks to
    a test Redis in a lab, where they point at the lab's Redis, must point them there."""
    saved = {k: os.environ.get(k) for k in _ENV_KEYS}
    os.environ["CELERY_BROKER_URL"], os.environ["CELERY_RESULT_BACKEND"] = broker_url, backend_url
    return saved


def restore_env(saved: dict[str, str | None]) -> None:
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def fresh_import(module: str, workdir: str | Path = ".") -> ModuleType:
    """Import `module` from `workdir` anew (after the student rewrote it), dropping the old copy
    of its whole package from sys.modules."""
    workdir = str(Path(workdir).resolve())
    if workdir not in sys.path:
        sys.path.insert(0, workdir)
    top = module.split(".")[0]
    for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
        del sys.modules[name]
    _forget_shared_tasks(top)
    importlib.invalidate_caches()
    return importlib.import_module(module)


def _forget_shared_tasks(package: str) -> None:
    """Drop the old copy's task constructors. `@app.task` also registers each task with every
    app finalized later ("shared" tasks), so without this the re-imported module's app would
    get the *old* functions first (and Celery warns about a duplicate task name)."""
    from celery import _state

    for callback in list(_state._on_app_finalizers):
        for cell in callback.__closure__ or ():
            try:
                owner = getattr(cell.cell_contents, "__module__", None) or ""
            except ValueError:  # an empty cell
                continue
            if callable(cell.cell_contents) and (
                owner == package or owner.startswith(package + ".")
            ):
                _state._on_app_finalizers.discard(callback)
                break


def fingerprint(workdir: str | Path) -> str:
    """A hash of the Python files under workdir, so a cached Lab restarts after an edit."""
    import hashlib

    digest = hashlib.sha256()
    root = Path(workdir)
    for path in sorted(root.rglob("*.py")):
        if any(
            part.startswith(".") or part == "__pycache__" for part in path.relative_to(root).parts
        ):
            continue
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class Lab:
    """A Redis, a worker for `app` and the freshly imported module, bound together.

    `Lab.get(...)` keeps one per (app, workdir, options) for the life of the process (a notebook
    kernel during autograding), so several grade cells share one worker; everything stops at exit.
    While a Lab is in use this process's CELERY_BROKER_URL / CELERY_RESULT_BACKEND point at its
    Redis (see point_env_at); closing the last Lab restores them.
    """

    _cache: ClassVar[dict[tuple, Lab]] = {}

    def __init__(self, app: str, workdir: str | Path = ".", **worker_options: Any):
        self.app, self.workdir = app, Path(workdir).resolve()
        self.redis = RedisServer().start()
        self.broker_url, self.backend_url = self.redis.url(0), self.redis.url(1)
        self.worker: Worker | None = None
        self.stamp = ""
        self._saved_env = point_env_at(self.broker_url, self.backend_url)
        try:
            self.module = fresh_import(app.split(":")[0], self.workdir)
            self.worker = Worker(
                app, self.broker_url, self.backend_url, self.workdir, **worker_options
            ).start()
        except BaseException:
            self.close()
            raise

    @classmethod
    def get(cls, app: str, workdir: str | Path = ".", **worker_options: Any) -> Lab:
        key = (app, str(Path(workdir).resolve()), repr(sorted(worker_options.items())))
        stamp = fingerprint(workdir)
        lab = cls._cache.get(key)
        if lab is not None and (
            lab.stamp != stamp or lab.worker is None or lab.worker.proc.poll() is not None
        ):
            lab.close()
            lab = None
        if lab is None:
            lab = cls._cache[key] = cls(app, workdir, **worker_options)
            lab.stamp = stamp
        return lab

    @property
    def celery_app(self):
        """The student's Celery app object (the module's `app`)."""
        return self.module.app

    def close(self) -> None:
        if self.worker:
            self.worker.close()
            self.worker = None
        self.redis.stop()
        if self._saved_env is not None:
            restore_env(self._saved_env)
            self._saved_env = None

    @classmethod
    def close_all(cls) -> None:
        for lab in cls._cache.values():
            lab.close()
        cls._cache.clear()


atexit.register(Lab.close_all)


def services_answer(timeout: float = 2.0) -> bool:
    """True when the Redis in CELERY_BROKER_URL answers a PING (the lab's own services)."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis"):
        return False
    try:
        return bool(
            redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping()
        )
    except redis.RedisError:
        return False


def require_services(timeout: float = 2.0) -> None:
    """Stop a notebook cell early, with a hint, when the lab's Redis is not answering (for example
    while grading, where labs are checked by their hidden tests instead)."""
    if not services_answer(timeout):
        raise ServiceError(
            "your lab's Redis (CELERY_BROKER_URL) is not answering, so this cell cannot reach your "
            "worker. In your lab, check it with `celerylab-worker status`. (While grading this is "
            "expected: the grader starts its own Redis and worker.)"
        )
