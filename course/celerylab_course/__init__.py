"""celerylab's course tooling: the curriculum as data, its conformance checker, the notebook
generator, and the grading helpers that hidden tests use inside labs.

`labkit` and `answers` need only the standard library, celery and redis, so the lab image can
install this package without its authoring dependencies.
"""
