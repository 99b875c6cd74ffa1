"""The F06 lab's package: your tasks go in pipeline/tasks.py."""
