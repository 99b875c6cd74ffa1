"""The F04 lab's package: your tasks go in progress/tasks.py."""
