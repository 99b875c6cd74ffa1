"""Runtime of a celerylab student lab.

Runs inside the lab container only and never imports the hub package. The container's start
script (images/lab/start.sh) prepares the user and starts Redis and the Celery worker under runit;
this package holds the worker launcher, the `celerylab-worker` command, the Jupyter server
extension that reports a busy worker as activity, and the jupyter-server-proxy entries.
"""


def _jupyter_server_extension_points():
    return [
        {"module": "celerylab_lab.system_dns"},
        {"module": "celerylab_lab.activity"},
        {"module": "celerylab_lab.course_links"},
        {"module": "celerylab_lab.lazy_nbgrader"},
        {"module": "celerylab_lab.status"},
        {"module": "celerylab_lab.metrics"},
    ]
