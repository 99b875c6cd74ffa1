"""The Foundation capstone's package: your service goes in thumbs/tasks.py."""
