"""The Expert exam's incident drill: the service you repair is drill/tasks.py."""
