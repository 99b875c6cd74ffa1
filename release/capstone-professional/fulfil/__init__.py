"""The Professional capstone's package: your service goes in fulfil/tasks.py."""
