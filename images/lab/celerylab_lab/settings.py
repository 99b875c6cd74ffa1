"""The student's worker settings: defaults from the environment the hub gives the lab,
overridden by the student's own ~/.config/celerylab/worker.json (written by `celerylab-worker use`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from celerylab_lab import paths

POOLS = ("prefork", "threads", "solo")
QUEUE_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")


@dataclass
class WorkerSettings:
    app: str = "tasks"
    workdir: str = str(Path.home())
    pool: str = "prefork"
    concurrency: int = 1
    #: "max,min" for prefork autoscaling; empty for a fixed pool of `concurrency`. With min 0 an
    #: idle worker keeps no child process; the first task forks one.
    autoscale: str = "4,0"
    #: comma-separated queues to consume (celery's --queues); empty: the app's default queue
    queues: str = ""

    @classmethod
    def load(cls, config: Path | None = None) -> WorkerSettings:
        """Environment defaults, then the student's file; bad values raise ValueError."""
        config = config or paths.USER_CONFIG
        values = {
            "app": os.environ.get("CELERYLAB_WORKER_APP", cls.app),
            "workdir": os.environ.get("CELERYLAB_WORKER_DIR", str(Path.home())),
            "pool": os.environ.get("CELERYLAB_WORKER_POOL", cls.pool),
            "concurrency": os.environ.get("CELERYLAB_WORKER_CONCURRENCY", cls.concurrency),
            "autoscale": os.environ.get("CELERYLAB_WORKER_AUTOSCALE", cls.autoscale),
        }
        if config.exists():
            try:
                saved = json.loads(config.read_text())
            except json.JSONDecodeError as e:
                raise ValueError(f"{config} is not valid JSON: {e}") from e
            known = {f.name for f in fields(cls)}
            unknown = set(saved) - known
            if unknown:
                raise ValueError(
                    f"{config}: unknown settings {sorted(unknown)}; known: {sorted(known)}"
                )
            values.update(saved)
        return cls(**values).validated()

    def validated(self) -> WorkerSettings:
        if self.pool not in POOLS:
            raise ValueError(f"pool must be one of {', '.join(POOLS)}, not {self.pool!r}")
        try:
            self.concurrency = int(self.concurrency)
        except (TypeError, ValueError):
            raise ValueError(
                f"concurrency must be a whole number, not {self.concurrency!r}"
            ) from None
        if not 1 <= self.concurrency <= 16:
            raise ValueError(f"concurrency must be between 1 and 16, not {self.concurrency}")
        if self.autoscale:
            parts = str(self.autoscale).split(",")
            if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
                raise ValueError(
                    f"autoscale must look like 'max,min' (e.g. '4,1'), not {self.autoscale!r}"
                )
            high, low = (int(p) for p in parts)
            if not 0 <= low <= high <= 16 or high == 0:
                raise ValueError(
                    f"autoscale needs 0 <= min <= max <= 16 and max >= 1, not {self.autoscale!r}"
                )
            if self.pool != "prefork":
                raise ValueError("autoscale works only with the prefork pool")
        if self.queues:
            names = [q.strip() for q in str(self.queues).split(",")]
            if not all(QUEUE_NAME.match(q) for q in names):
                raise ValueError(
                    f"queues must be names separated by commas (e.g. 'celery,ingest'), "
                    f"not {self.queues!r}"
                )
            self.queues = ",".join(names)
        if not self.app.strip():
            raise ValueError("app must name a module, e.g. 'tasks' or 'calculator.tasks'")
        return self

    def save(self, config: Path | None = None) -> None:
        config = config or paths.USER_CONFIG
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(json.dumps(asdict(self), indent=2) + "\n")

    def worker_argv(self) -> list[str]:
        argv = [
            "worker",
            "--loglevel=INFO",
            f"--pool={self.pool}",
            "--task-events",  # Flower and the lessons on task states need the events
            "--without-gossip",  # one worker per lab: nobody to gossip or mingle with,
            "--without-mingle",  # and skipping both makes the worker ready a second sooner
        ]
        if self.autoscale:
            argv.append(f"--autoscale={self.autoscale}")
        else:
            argv.append(f"--concurrency={self.concurrency}")
        if self.queues:
            argv.append(f"--queues={self.queues}")
        return argv
