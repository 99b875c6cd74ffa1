"""Progress reporting through the result backend (F04 example).

Usage:
    cd course/examples
    celery -A f04_progress worker --loglevel=INFO    # terminal 1
    python -m f04_progress 8                         # terminal 2: a progress bar for 8 steps

`long_job` reports a PROGRESS state with {"current", "total"} after every step; the command
line polls `AsyncResult.state` / `.info` (never blocking) and draws a bar, as a web page would.
"""

import sys
import time

from celery import Celery

app = Celery("f04_progress")
app.conf.update(task_track_started=True, result_expires=3600)


@app.task(bind=True)
def long_job(self, steps, delay=0.2):
    for current in range(1, steps + 1):
        time.sleep(delay)
        self.update_state(state="PROGRESS", meta={"current": current, "total": steps})
    return {"current": steps, "total": steps}


def bar(info, width=30):
    filled = int(width * info["current"] / info["total"]) if info.get("total") else 0
    done, total = info.get("current", 0), info.get("total", "?")
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"


def watch(result, interval=0.1, timeout=60):
    """Yield a progress line each time the state or metadata changes, until the task ends."""
    last, deadline = None, time.monotonic() + timeout
    while time.monotonic() < deadline:
        state, info = result.state, result.info
        line = bar(info) if state in ("PROGRESS", "SUCCESS") else state
        if line != last:
            yield line
            last = line
        if result.ready():
            return
        time.sleep(interval)
    raise TimeoutError("the job did not finish in time")


def main(argv=None):
    steps = int((sys.argv[1:] if argv is None else argv)[0])
    for line in watch(long_job.delay(steps)):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
