"""The Professional exam's package: your service goes in pipeline/tasks.py."""
