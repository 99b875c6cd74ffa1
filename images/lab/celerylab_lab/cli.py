"""`celerylab-worker`: see and control your lab's Celery worker.

Usage:
    celerylab-worker status            # which app, pool, ready or not, import errors
    celerylab-worker restart           # after editing task code; waits until ready
    celerylab-worker logs [-n 50] [-f] # the worker's log
    celerylab-worker use calculator.tasks [--workdir DIR] [--pool prefork] [--concurrency 2]
                                          [--autoscale 8,0]  (default 4,0: no idle child)
                                          [--queues celery,ingest]  (default: the app's)
    celerylab-worker reset             # back to the defaults (module `tasks` in your home)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from celerylab_lab import paths
from celerylab_lab.settings import WorkerSettings


def read_status() -> dict:
    try:
        return json.loads(paths.WORKER_STATUS.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def restart(wait: float) -> int:
    old_pid = read_status().get("pid")
    subprocess.run(["sv", "restart", str(paths.WORKER_SERVICE)], check=True, capture_output=True)
    if not wait:
        return 0
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        status = read_status()
        if status.get("pid") != old_pid and status.get("ready"):
            print_status(status)
            return 1 if status.get("import_error") else 0
        time.sleep(0.2)
    print(
        f"the worker did not become ready within {wait:.0f}s; see: celerylab-worker logs",
        file=sys.stderr,
    )
    return 1


def print_status(status: dict) -> None:
    if not status:
        print("the worker has not started yet; see: celerylab-worker logs")
        return
    ready = "ready" if status.get("ready") else "starting"
    print(
        f"worker pid {status['pid']} ({ready}): app {status['app']!r} from {status['workdir']}, "
        f"pool {status['pool']}, concurrency {status['concurrency']}"
        + (f", queues {status['queues']}" if status.get("queues") else "")
    )
    if status.get("import_error"):
        print(f"\nYour app {status['app']!r} did not import, so the worker runs an empty app:\n")
        print(status["import_error"].rstrip())
        print("\nFix the code, then run: celerylab-worker restart")


def logs(lines: int, follow: bool) -> int:
    if not paths.WORKER_LOG.exists():
        print("no worker log yet", file=sys.stderr)
        return 1
    cmd = ["tail", f"-n{lines}"] + (["-F"] if follow else []) + [str(paths.WORKER_LOG)]
    os.execvp("tail", cmd)  # noqa: S606 - replaces this process with tail, on purpose


def use(args: argparse.Namespace) -> int:
    current = WorkerSettings.load()
    if args.autoscale is not None:
        autoscale = args.autoscale
    elif args.concurrency or (args.pool and args.pool != "prefork"):
        autoscale = ""  # asking for a fixed size or another pool means: no autoscaling
    else:
        autoscale = current.autoscale
    chosen = WorkerSettings(
        app=args.app,
        workdir=str(Path(args.workdir).resolve()),
        pool=args.pool or current.pool,
        concurrency=args.concurrency or current.concurrency,
        autoscale=autoscale,
        queues=args.queues or "",  # another app has other queues: not carried over
    )
    try:
        chosen.validated()
    except ValueError as e:
        print(f"celerylab-worker: {e}", file=sys.stderr)
        return 2
    chosen.save()
    return restart(args.wait)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="celerylab-worker",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("status", help="show the worker's app and state")
    p = sub.add_parser("restart", help="restart the worker (after editing task code)")
    p.add_argument("--wait", type=float, default=30, help="seconds to wait until ready (0: don't)")
    p = sub.add_parser("logs", help="show the worker's log")
    p.add_argument("-n", type=int, default=50, dest="lines")
    p.add_argument("-f", "--follow", action="store_true")
    p = sub.add_parser("use", help="run the worker with another app module")
    p.add_argument("app", help="module holding your Celery app, e.g. calculator.tasks")
    p.add_argument("--workdir", default=".", help="directory the module is imported from")
    p.add_argument("--pool", choices=("prefork", "threads", "solo"))
    p.add_argument("--concurrency", type=int)
    p.add_argument("--autoscale", help="'max,min' for prefork, '' to turn off")
    p.add_argument("--queues", help="queues to consume, e.g. celery,ingest (default: the app's)")
    p.add_argument("--wait", type=float, default=30)
    p = sub.add_parser("reset", help="back to the default app and settings")
    p.add_argument("--wait", type=float, default=30)
    args = parser.parse_args(argv)

    try:
        if args.command == "status":
            print_status(read_status())
            return 0
        if args.command == "restart":
            return restart(args.wait)
        if args.command == "logs":
            return logs(args.lines, args.follow)
        if args.command == "use":
            return use(args)
        if args.command == "reset":
            paths.USER_CONFIG.unlink(missing_ok=True)
            return restart(args.wait)
    except ValueError as e:
        print(f"celerylab-worker: {e}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as e:
        print(
            f"celerylab-worker: the supervisor refused: {e.stderr.decode().strip()}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
