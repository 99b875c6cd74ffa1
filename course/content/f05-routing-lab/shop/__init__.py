"""The F05 lab's shop application."""
