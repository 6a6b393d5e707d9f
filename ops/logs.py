"""Log lines that say which run they belong to.

`run_context(run_id)` wraps a delivery; `RunIdFilter` (on the console handler) stamps every
record made inside it with `run_id`, whichever logger made it (ours, the SDK's, django-q2's), so
with LOG_FORMAT=json each line of a delivery carries the run's id as a field.
"""

import contextlib
import contextvars
import logging

_RUN_ID = contextvars.ContextVar("run_id", default=None)


@contextlib.contextmanager
def run_context(run_id):
    token = _RUN_ID.set(str(run_id))
    try:
        yield
    finally:
        _RUN_ID.reset(token)


class RunIdFilter(logging.Filter):
    def filter(self, record):
        run_id = _RUN_ID.get()
        if run_id is not None and not hasattr(record, "run_id"):
            record.run_id = run_id
        return True


class PlainFormatter(logging.Formatter):
    """The plain format, with `run=<id>` after the message inside a delivery."""

    def format(self, record):
        line = super().format(record)
        run_id = getattr(record, "run_id", None)
        return f"{line} run={run_id}" if run_id else line
