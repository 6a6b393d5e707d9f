"""The stand-in's data: accounts, bills (with their line items) and external mappings, kept as
m3ter's camelCase JSON. m3ter's bookkeeping is reproduced: an id when none is given, `version`
bumped on every change, `dtCreated` and a strictly increasing `dtLastModified`."""

from __future__ import annotations

import copy
import datetime
import threading
import uuid
from typing import Any

COLLECTIONS = ("accounts", "bills", "externalMappings")


def _iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Store:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._tables: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in COLLECTIONS}
            self._last_stamp = datetime.datetime.min.replace(tzinfo=datetime.UTC)

    def _stamp(self) -> str:
        # Millisecond precision like m3ter; never the same twice, so order by it is total.
        now = datetime.datetime.now(datetime.UTC)
        moment = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if moment <= self._last_stamp:
            moment = self._last_stamp + datetime.timedelta(milliseconds=1)
        self._last_stamp = moment
        return _iso(moment)

    def put(self, collection: str, record: dict[str, Any]) -> dict[str, Any]:
        """Create or change a record (merged into the stored one); returns what is stored now."""
        with self._lock:
            table = self._tables[collection]
            record = copy.deepcopy(record)
            record_id = record.get("id") or str(uuid.uuid4())
            existing = table.get(record_id)
            stored = {**(existing or {}), **record, "id": record_id}
            stamp = self._stamp()
            stored["version"] = existing["version"] + 1 if existing else record.get("version", 1)
            stored.setdefault("dtCreated", stamp)
            stored["dtLastModified"] = stamp
            if collection == "bills":
                for position, item in enumerate(stored.get("lineItems") or []):
                    item.setdefault("id", str(uuid.uuid4()))
                    item.setdefault("sequenceNumber", position)
            table[record_id] = stored
            return copy.deepcopy(stored)

    def delete(self, collection: str, record_id: str) -> None:
        with self._lock:
            self._tables[collection].pop(record_id, None)

    def get(self, collection: str, record_id: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._tables[collection].get(record_id)
            return copy.deepcopy(record) if record else None

    def all(self, collection: str) -> list[dict[str, Any]]:
        """Every record in m3ter's list order (oldest first)."""
        with self._lock:
            records = copy.deepcopy(list(self._tables[collection].values()))
        return sorted(records, key=lambda r: (r["dtCreated"], r["id"]))

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {name: len(table) for name, table in self._tables.items()}
