"""The F07 lab's package: your tasks and schedule go in reports/tasks.py."""
