"""The F02 calculator lab's package: your tasks go in calculator/tasks.py."""
