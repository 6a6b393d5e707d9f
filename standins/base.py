"""What the local API stand-ins (Paddle's and m3ter's) share: a threaded WSGI server started and
stopped from tests or a command, a queue of injected faults, and a request log.

A stand-in subclasses `StandinServer`, is itself the WSGI app (`__call__`), names its own `Fault`
subclass in `fault_class`, and logs each request with `_log_request`.
"""

from __future__ import annotations

import copy
import json
import random
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response


@dataclass
class Fault:
    """A failure to inject into the next matching request(s).

    method/path: match the request (method None = any; path is a prefix, "" = any path).
    times: how many matching requests it fires for (None = until cleared).
    probability: the chance it fires for a matching request (background noise, e.g. 0.1 with
        times None: one request in ten); one that does not fire leaves the request to the next
        matching fault.
    A subclass lists its `kinds` and adds the fields its kinds need.
    """

    kinds: ClassVar[tuple[str, ...]] = ()

    kind: str
    method: str | None = None
    path: str = ""
    times: int | None = 1
    probability: float = 1.0
    fired: int = 0
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    def __post_init__(self) -> None:
        if self.kind not in self.kinds:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {self.kinds}")
        if self.method:
            self.method = self.method.upper()
        if not 0 < self.probability <= 1:
            raise ValueError("probability must be more than 0 and at most 1")

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path.startswith(self.path)

    def hit(self) -> bool:
        """True when the fault fires for this matching request (and counts it)."""
        if self.probability < 1 and random.random() >= self.probability:
            return False
        self.fired += 1
        return True

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times


class _QuietHandler(WSGIRequestHandler):
    # One line per request on stderr drowns test output; the request log holds the same facts.
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class StandinServer:
    """A stand-in served from a daemon thread; thread-safe, one instance serves many clients."""

    fault_class: ClassVar[type[Fault]] = Fault
    thread_name: ClassVar[str] = "standin"
    request_log_limit: ClassVar[int | None] = None  # newest entries kept; None = all

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards faults and the request log (and a subclass's own)
        self._faults: list[Fault] = []
        self._log: list[dict[str, Any]] = []
        self._server = None
        self._thread: threading.Thread | None = None
        self.url: str | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Self:
        if self._server is not None:
            raise RuntimeError("stand-in already started")
        self._server = make_server(host, port, self, threaded=True, request_handler=_QuietHandler)
        # A wildcard bind is reachable at loopback; clients need a connectable URL.
        url_host = "127.0.0.1" if host in ("", "0.0.0.0") else host
        self.url = f"http://{url_host}:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"{self.thread_name}:{self._server.server_port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def wait(self) -> None:
        """Block until the server stops; Ctrl-C raises KeyboardInterrupt here."""
        while self._thread is not None and self._thread.is_alive():
            # A bounded join keeps the main thread responsive to signals.
            self._thread.join(timeout=0.5)

    def __enter__(self) -> Self:
        return self if self._server is not None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget what a test did (a subclass knows what that is)."""
        raise NotImplementedError

    # --- faults and the request log -------------------------------------------------------------

    def push_fault(self, kind: str, **options: Any) -> Fault:
        """Queue a fault, e.g. push_fault("rate_limit", method="GET", path="/x", times=2)."""
        fault = self.fault_class(kind=kind, **options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def faults(self) -> list[Fault]:
        with self._lock:
            return [copy.copy(f) for f in self._faults]

    def _take_fault(self, method: str, path: str) -> Fault | None:
        """The first queued fault that matches the request and fires for it (dropped once used
        up)."""
        with self._lock:
            fault = next((f for f in self._faults if f.matches(method, path) and f.hit()), None)
            if fault is None:
                return None
            if fault.exhausted:
                self._faults.remove(fault)
            return copy.copy(fault)

    def _log_request(self, request: Request, route: str | None, **extra: Any) -> dict[str, Any]:
        """Log a request as it arrives; the caller fills in `status` once it has answered."""
        entry = {
            "method": request.method,
            "path": request.path,
            "route": route or request.path,
            "query": request.query_string.decode("latin-1"),
            "status": None,
            **extra,
        }
        with self._lock:
            self._log.append(entry)
            if self.request_log_limit is not None:
                del self._log[: -self.request_log_limit]
        return entry

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The request log, one dict a request (what the client sent, what it got)."""
        with self._lock:
            return copy.deepcopy(self._log)


def reset_around(standin: StandinServer) -> Iterator[Any]:
    """A per-test fixture's body: the session's stand-in, reset before and after the test."""
    standin.reset()
    yield standin
    standin.reset()


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, headers=headers or {}, mimetype="application/json"
    )
