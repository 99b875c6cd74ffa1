"""A Prometheus exporter for Celery task events (P10 example).

Usage:
    cd course/examples
    celery -A p10_exporter worker -E --loglevel=INFO             # terminal 1: with task events
    python -m p10_exporter --port 9808                           # terminal 2: the exporter
    curl -s 127.0.0.1:9808/metrics | grep celery_tasks_total     # terminal 3
    python -c "import p10_exporter as e; e.work.delay(2)"        # some work to count

Counts finished tasks by name and state (`celery_tasks_total`) and observes runtimes
(`celery_task_runtime_seconds`) from the worker's events; scrape it from Prometheus.
"""

import argparse
import sys

from celery import Celery
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server

app = Celery("p10_exporter")


@app.task
def work(x):
    if x < 0:
        raise ValueError(f"negative: {x}")
    return 2 * x


class TaskMetrics:
    def __init__(self, registry=None):
        self.registry = registry or CollectorRegistry()
        self.tasks = Counter(
            "celery_tasks", "Finished tasks", ["name", "state"], registry=self.registry
        )
        self.runtime = Histogram(
            "celery_task_runtime_seconds", "Task runtime", ["name"], registry=self.registry
        )
        self._names = {}

    def handle(self, event):
        kind = event.get("type")
        if kind == "task-received":
            self._names[event["uuid"]] = event["name"]
        elif kind in ("task-succeeded", "task-failed"):
            name = self._names.pop(event["uuid"], "unknown")
            state = "succeeded" if kind == "task-succeeded" else "failed"
            self.tasks.labels(name=name, state=state).inc()
            if state == "succeeded":
                self.runtime.labels(name=name).observe(event.get("runtime", 0))


def serve(port, address="127.0.0.1", stop=None):
    """Serve /metrics and count events until `stop` (a threading.Event) is set."""
    metrics = TaskMetrics()
    server, thread = start_http_server(port, addr=address, registry=metrics.registry)

    class Receiver(app.events.Receiver):
        def on_iteration(self):
            self.should_stop = stop is not None and stop.is_set()

    print(f"metrics on http://{address}:{port}/metrics", flush=True)
    try:
        with app.connection_for_read() as conn:
            Receiver(conn, handlers={"*": metrics.handle}).capture(limit=None, wakeup=False)
    finally:
        server.shutdown()
        thread.join(5)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="p10_exporter")
    parser.add_argument("--port", type=int, default=9808)
    parser.add_argument("--address", default="127.0.0.1")
    args = parser.parse_args(argv)
    serve(args.port, args.address)
    return 0


if __name__ == "__main__":
    sys.exit(main())
