"""Where the lab runtime keeps its state. One place, so the worker, the CLI and the server
extension cannot disagree."""

import os
from pathlib import Path

#: Runtime state (not persisted): runit service dirs, logs, worker status, busy heartbeat.
RUN_DIR = Path(os.environ.get("CELERYLAB_RUN_DIR", "/run/celerylab"))
SERVICE_DIR = RUN_DIR / "service"
WORKER_SERVICE = SERVICE_DIR / "celery-worker"
WORKER_LOG = RUN_DIR / "log" / "celery-worker" / "current"
WORKER_STATUS = RUN_DIR / "worker.json"
#: Touched by the worker while it has active or reserved tasks; its mtime is the activity time.
WORKER_BUSY = RUN_DIR / "worker-busy"
#: The worker's task counters (prometheus_client multiprocess files), read by the metrics endpoint.
METRICS_DIR = RUN_DIR / "metrics"

#: The student's own worker settings (persisted in their home).
USER_CONFIG = Path.home() / ".config" / "celerylab" / "worker.json"
