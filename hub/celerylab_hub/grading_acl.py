"""Each course's own user on the grading broker: it may queue tasks and read its own results only.

Every course container used to hold the broker's one password, so the staff of one course could
watch another's tasks, write a forged result under its task id, delete its tasks, flush the
broker or stop the graders. Now each course is the Redis ACL user `course-<id>`, whose password
is derived from the broker's admin password (secrets.course_broker_password), and may only

- LPUSH onto the shared `grading` queue (not read, pop, trim or delete it: it cannot see or
  drop anyone's tasks), and
- GET and DEL the results of its own tasks, `celery-task-meta-<id>.*`: its task ids start with
  `<course id>.` (course ids hold no dot), and the workers refuse a task whose id is not in the
  namespace of the course that sealed it (celerylab_hub.grading), so no course can make a worker
  write into another's keys.

No pub/sub channel (so no task events, no remote control of the workers), no other key, no
other command. Why ACL users rather than a gateway in front of the broker: Redis enforces them
itself, nothing new sits on the grading path or can fail there, and the course side keeps its
plain Celery client; the price is that a course can still fill the shared queue (a broker memory
limit and the workers' refusals bound that), which a gateway could rate-limit.

The platform's own users (admin, graders, exporter) are in the broker's ACL file, written by
`celerylab setup` (secrets.broker_acl); course users are set by `celerylab courses sync` through
the admin user and saved to the broker's own ACL file, which its start command merges with the
platform's at every start.
"""

from __future__ import annotations

import hashlib

import redis

QUEUE = "grading"
RESULT_KEY = "celery-task-meta-{task_id}"


def user(course_id: str) -> str:
    return f"course-{course_id}"


def task_prefix(course_id: str) -> str:
    """Every task id of a course starts with this (celerylab_lab.sandbox_execute makes them)."""
    return f"{course_id}."


def course_rules(course_id: str, password: str) -> list[str]:
    """ACL SETUSER rules: queue tasks, read and delete its own results, nothing else."""
    digest = hashlib.sha256(password.encode()).hexdigest()
    own_results = RESULT_KEY.format(task_id=task_prefix(course_id) + "*")
    return [
        "reset",  # idempotent: whatever the user could do before is gone
        "resetchannels",
        "on",
        f"#{digest}",
        "+hello",
        "+ping",
        f"(~{QUEUE} +lpush)",
        f"(~{own_results} +get +del)",
    ]


def course_url(course_id: str, password: str, host: str = "grading-broker") -> str:
    return f"redis://{user(course_id)}:{password}@{host}:6379/0"


def ensure_course_users(admin_url: str, passwords: dict[str, str]) -> None:
    """Create or reset each course's user (course id -> password) and save the broker's ACL
    file, so a broker restart keeps them."""
    client = redis.Redis.from_url(admin_url, socket_timeout=10, socket_connect_timeout=5)
    try:
        for course_id, password in passwords.items():
            rules = course_rules(course_id, password)
            client.execute_command("ACL", "SETUSER", user(course_id), *rules)
        client.execute_command("ACL", "SAVE")
    finally:
        client.close()
