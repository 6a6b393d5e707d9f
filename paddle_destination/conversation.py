"""One delivery's calls to Paddle, each translated into PaddleProblem and logged with a redacted
summary of the requests it made (method, path, status, request id; never keys or bodies)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from paddle_billing import Client

from m3terpaddle.text import sentences
from paddle_destination.client import client_exchanges
from paddle_destination.errors import PaddleProblem, paddle_errors
from runs.models import LogLevel

Log = Callable[[str, str, dict[str, Any]], None]


class Conversation:
    """One delivery's calls to Paddle: each is translated into PaddleProblem and logged."""

    def __init__(self, client: Client, log: Log) -> None:
        self.client = client
        self.log = log
        self._logged = 0

    def call(self, action: str, request: Callable[[], Any], *, expected: tuple[str, ...] = ()):
        """Run `request` (one SDK call); `expected` are Paddle error codes the caller handles,
        logged as information rather than as a failure."""
        try:
            with paddle_errors(action):
                result = request()
        except PaddleProblem as problem:
            if problem.code in expected:
                message = sentences(f"Paddle: {problem.message}", "This is expected and handled")
                self.log(LogLevel.INFO, message, self._exchanges(problem.as_dict()))
            else:
                message = f"Paddle: {problem.message}"
                self.log(LogLevel.WARNING, message, self._exchanges(problem.as_dict()))
            raise
        self.log(LogLevel.INFO, f"Paddle: done {action}.", self._exchanges({}))
        return result

    def _exchanges(self, extra: dict[str, Any]) -> dict[str, Any]:
        exchanges = client_exchanges(self.client)
        new, self._logged = exchanges[self._logged :], len(exchanges)
        return {"requests": [e.as_dict() for e in new], **extra}
