"""The F08 lab's inventory application."""
