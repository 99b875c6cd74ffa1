"""The F03 lab's package: your tasks go in orders/tasks.py."""
