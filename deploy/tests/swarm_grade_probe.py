"""Run in the hub container (`docker compose exec -T hub python - NODE < swarm_grade_probe.py`)
while the hub host's own grader is stopped: one sealed submission through the grading broker must
come back executed by the grading fleet's swarm service on NODE (worker celery@grader-NODE).
"""

import base64
import io
import json
import sys
import tarfile
import uuid

from celerylab_hub import grading, secrets
from cryptography.fernet import Fernet

NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "probe",
            "metadata": {},
            "outputs": [],
            "source": "print(6 * 7)",
        }
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def workspace() -> str:
    data = json.dumps(NOTEBOOK).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("probe.ipynb")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return base64.b64encode(buf.getvalue()).decode()


course = "swarm-probe"
fernet = Fernet(secrets.course_grading_key(grading.SECRETS_DIR, course))
# As a course container sends it: an id in the course's namespace, sealed into the job.
task_id = f"{course}.{uuid.uuid4()}"
submission = {"student": "probe", "assignment": "probe", "notebook": "probe.ipynb"}
job = {**submission, "workspace": workspace(), "task_id": task_id}
sealed = fernet.encrypt(json.dumps(job).encode()).decode()
job = {"course": course, "sealed": sealed}
result = grading.execute.apply_async(args=[job], task_id=task_id).get(timeout=300)
if "sealed" not in result:
    sys.exit(f"the fleet refused the probe: {result}")
outcome = json.loads(fernet.decrypt(result["sealed"]))
print(f"probe: {outcome['status']} on celery@{outcome['worker']} in {outcome['seconds']:.1f} s")
cells = json.loads(outcome["notebook"] or "{}").get("cells", [{}])
printed = json.dumps(cells[0].get("outputs", []))  # a stream's text may be a list of lines
ok = outcome["status"] == "ok" and outcome["worker"] == f"grader-{sys.argv[1]}" and "42" in printed
sys.exit(0 if ok else f"unexpected outcome: {outcome['status']} {outcome['reason']!r} {printed!r}")
