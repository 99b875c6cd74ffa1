"""Settings of the A4 deployment lab: web, workers and beat read this one file, and this file
reads the environment through depot.env.env (which you write). Nothing differs per process."""

from pathlib import Path

from depot.env import env

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = env("DEPOT_SECRET_KEY", "lab-only-not-a-secret")
DEBUG = env("DEPOT_DEBUG", False, bool)
ALLOWED_HOSTS = env("DEPOT_ALLOWED_HOSTS", ["testserver", "localhost", "127.0.0.1"], list)
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "jobs"]
ROOT_URLCONF = "depot.urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env("DEPOT_DB", str(BASE_DIR / "depot.sqlite3")),
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        # Web reuses a connection for 60 s; Celery closes workers' connections after every task.
        "CONN_MAX_AGE": env("DEPOT_CONN_MAX_AGE", 60, int),
        "CONN_HEALTH_CHECKS": True,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
CELERY_BROKER_URL = env("CELERY_BROKER_URL", "redis://localhost:6379/0")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", "redis://localhost:6379/1")
CELERY_TASK_ACKS_LATE = env("DEPOT_ACKS_LATE", True, bool)
CELERY_TASK_REJECT_ON_WORKER_LOST = env("DEPOT_REJECT_ON_WORKER_LOST", True, bool)
CELERY_WORKER_PREFETCH_MULTIPLIER = env("DEPOT_PREFETCH", 1, int)
CELERY_TASK_DEFAULT_QUEUE = env("DEPOT_QUEUE", "depot")
