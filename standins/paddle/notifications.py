"""Paddle's notification settings and signed webhooks, for the stand-in.

- `POST/GET /notification-settings`, `GET/PATCH/DELETE /notification-settings/{id}`: validated
  against the spec like every other body (unknown event names are refused by its enum); `type:
  url` needs an http(s) URL. The answer carries `endpoint_secret_key` (`pdl_ntfset_…`) as
  Paddle's does.
- When a transaction moves on out of band (the admin `mark` endpoint: issued, paid, completed,
  past due, canceled) every active `url` setting subscribed to the event is sent
  `{event_id, event_type, occurred_at, notification_id, data}` with
  `Paddle-Signature: ts=…;h1=HMAC-SHA256(secret, "{ts}:{raw body}")`. Issuing sends
  `transaction.billed` without the invoice number, then `transaction.updated` with it, the order
  Paddle uses. Creating and updating a transaction through the API sends `transaction.created`
  and `transaction.updated` (with the transaction as answered), as Paddle does for a client's own
  changes. A delivery that gets no 2xx (or no answer in 5 s) is retried after each of
  `retry_delays` (Paddle retries for days; the stand-in's delays are short so tests and the demo
  see the retry happen). Every attempt is in `deliveries` (`GET /__standin/webhooks`).
"""

from __future__ import annotations

import copy
import heapq
import hmac
import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any
from urllib.parse import urlsplit

import requests

from . import errors
from .ids import new_id
from .store import now

ROUTES = [
    ("GET", "/notification-settings", "list_notification_settings"),
    ("POST", "/notification-settings", "create_notification_setting"),
    ("GET", "/notification-settings/{notification_setting_id}", "get_notification_setting"),
    ("PATCH", "/notification-settings/{notification_setting_id}", "update_notification_setting"),
    ("DELETE", "/notification-settings/{notification_setting_id}", "delete_notification_setting"),
]

# What a transaction's new status makes Paddle send (issuing is handled apart: two events).
STATUS_EVENTS = {
    "paid": "transaction.paid",
    "completed": "transaction.completed",
    "past_due": "transaction.past_due",
    "canceled": "transaction.canceled",
    "draft": "transaction.updated",
    "ready": "transaction.updated",
}
_TIMEOUT_SECONDS = 5.0  # Paddle's: an answer slower than this counts as a failure
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """Paddle's `Paddle-Signature` value for `body` signed with `secret`."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}:".encode() + body, sha256).hexdigest()
    return f"ts={ts};h1={digest}"


def _secret_key() -> str:
    pick = lambda n: "".join(secrets.choice(_ALNUM) for _ in range(n))  # noqa: E731
    return f"pdl_ntfset_{pick(26)}_{pick(32)}"


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    setting_id: str = field(compare=False)
    body: bytes = field(compare=False)
    notification_id: str = field(compare=False)
    attempt: int = field(compare=False, default=1)


class Notifications:
    """Notification settings and the webhook sender (one thread, a queue of due deliveries)."""

    def __init__(self, event_types: list[tuple[str, str, str]]) -> None:
        self.event_types = {name: (group, text) for name, group, text in event_types}
        self._lock = threading.Condition()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self.retry_delays: list[float] = [0.5, 1.0, 2.0]
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.settings: dict[str, dict[str, Any]] = {}
            self._queue: list[_Job] = []
            self._sending = 0
            self.deliveries: list[dict[str, Any]] = []
            self._lock.notify_all()

    # --- the API ---------------------------------------------------------------------------------

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        self._check(body)
        setting = {
            "id": new_id("ntfset"),
            "description": body["description"],
            "type": body["type"],
            "destination": body["destination"],
            "active": True,
            "api_version": body.get("api_version", 1),
            "include_sensitive_fields": body.get("include_sensitive_fields", False),
            "subscribed_events": [self._event_type(n) for n in body["subscribed_events"]],
            "endpoint_secret_key": _secret_key(),
            "traffic_source": body.get("traffic_source", "platform"),
        }
        with self._lock:
            self.settings[setting["id"]] = setting
            return copy.deepcopy(setting)

    def get(self, setting_id: str) -> dict[str, Any]:
        with self._lock:
            if setting_id not in self.settings:
                raise errors.not_found(setting_id)
            return copy.deepcopy(self.settings[setting_id])

    def list(self, active: str | None) -> list[dict[str, Any]]:
        with self._lock:
            rows = list(self.settings.values())
        if active in ("true", "false"):
            rows = [s for s in rows if s["active"] == (active == "true")]
        return copy.deepcopy(rows)

    def update(self, setting_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if setting_id not in self.settings:
                raise errors.not_found(setting_id)
            merged = {**self.settings[setting_id], **body}
            merged["subscribed_events"] = [
                e if isinstance(e, str) else e["name"] for e in merged["subscribed_events"]
            ]
            self._check(merged)
            merged["subscribed_events"] = [self._event_type(n) for n in merged["subscribed_events"]]
            self.settings[setting_id] = merged
            return copy.deepcopy(merged)

    def delete(self, setting_id: str) -> None:
        with self._lock:
            if self.settings.pop(setting_id, None) is None:
                raise errors.not_found(setting_id)

    def _check(self, body: dict[str, Any]) -> None:
        problems = []
        if body["type"] == "url":
            parts = urlsplit(body["destination"])
            if parts.scheme not in ("http", "https") or not parts.netloc:
                problems.append({"field": "destination", "message": "must be a valid URL"})
        if problems:
            raise errors.invalid_field(problems)

    def _event_type(self, name: str) -> dict[str, Any]:
        # The spec's enum has already refused unknown names; the stand-in describes only some.
        group, text = self.event_types.get(name, (name.split(".")[0].title(), name))
        return {"name": name, "description": text, "group": group, "available_versions": [1]}

    # --- sending ---------------------------------------------------------------------------------

    def transaction_moved(self, transaction: dict[str, Any]) -> None:
        """Send what Paddle sends when a transaction reaches its (new) status."""
        if transaction["status"] == "billed":
            self.emit("transaction.billed", {**transaction, "invoice_number": None})
            self.emit("transaction.updated", transaction)
        else:
            self.emit(STATUS_EVENTS[transaction["status"]], transaction)

    def emit(self, event_type: str, data: dict[str, Any]) -> None:
        event = {
            "event_id": new_id("evt"),
            "event_type": event_type,
            "occurred_at": now(),
            "data": data,
        }
        with self._lock:
            for setting in self.settings.values():
                names = {e["name"] for e in setting["subscribed_events"]}
                if setting["active"] and setting["type"] == "url" and event_type in names:
                    notification_id = new_id("ntf")
                    body = json.dumps({**event, "notification_id": notification_id}).encode()
                    heapq.heappush(
                        self._queue,
                        _Job(
                            time.monotonic(), next(self._seq), setting["id"], body, notification_id
                        ),
                    )
            self._ensure_thread()
            self._lock.notify_all()

    def sent(self) -> list[dict[str, Any]]:
        """Every delivery attempt so far: notification, event type, attempt number, answer."""
        with self._lock:
            return copy.deepcopy(self.deliveries)

    def wait_sent(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or being sent (retries included)."""
        with self._lock:
            return self._lock.wait_for(lambda: not self._queue and not self._sending, timeout)

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._run, name="paddle-standin-webhooks", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue or self._queue[0].due > time.monotonic():
                    wait = self._queue[0].due - time.monotonic() if self._queue else None
                    self._lock.wait(wait)
                job = heapq.heappop(self._queue)
                setting = copy.deepcopy(self.settings.get(job.setting_id))
                self._sending += 1
            try:
                if setting is not None:
                    self._send(job, setting)
            finally:
                with self._lock:
                    self._sending -= 1
                    self._lock.notify_all()

    def _send(self, job: _Job, setting: dict[str, Any]) -> None:
        headers = {
            "Content-Type": "application/json",
            "Paddle-Signature": signature_header(setting["endpoint_secret_key"], job.body),
        }
        try:
            answer = requests.post(
                setting["destination"], data=job.body, headers=headers, timeout=_TIMEOUT_SECONDS
            )
            status, ok = answer.status_code, 200 <= answer.status_code < 300
        except requests.RequestException as exc:
            status, ok = type(exc).__name__, False
        with self._lock:
            self.deliveries.append(
                {
                    "notification_id": job.notification_id,
                    "setting_id": job.setting_id,
                    "event_type": json.loads(job.body)["event_type"],
                    "attempt": job.attempt,
                    "status": status,
                }
            )
            if not ok and job.attempt <= len(self.retry_delays):
                job.due = time.monotonic() + self.retry_delays[job.attempt - 1]
                job.attempt += 1
                heapq.heappush(self._queue, job)


class NotificationRoutes:
    """The notification-settings handlers, mixed into PaddleStandin (which routes `_h_<name>`)."""

    notifications: Notifications

    def _h_list_notification_settings(self, request, route, params, config):
        return 200, {"data": self.notifications.list(request.args.get("active"))}

    def _h_create_notification_setting(self, request, route, params, config):
        return 201, {"data": self.notifications.create(self._body(request, route))}

    def _h_get_notification_setting(self, request, route, params, config):
        return 200, {"data": self.notifications.get(params["notification_setting_id"])}

    def _h_update_notification_setting(self, request, route, params, config):
        body = self._body(request, route)
        return 200, {"data": self.notifications.update(params["notification_setting_id"], body)}

    def _h_delete_notification_setting(self, request, route, params, config):
        self.notifications.delete(params["notification_setting_id"])
        return 204, {"data": None}
