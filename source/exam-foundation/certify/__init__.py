"""The Foundation exam's package: your tasks go in certify/tasks.py."""
