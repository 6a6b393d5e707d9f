"""Deleting many rows a batch at a time: memory holds one batch of ids, and no statement holds
its locks for long, whatever the number of rows."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import transaction
from django.db.models import QuerySet

BATCH_SIZE = 1000


def queryset_delete_in_batches(
    queryset: QuerySet,
    *,
    deadline: float | None = None,
    batch_size: int = BATCH_SIZE,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Delete the rows `queryset` selects, `batch_size` at a time, each batch in a transaction
    of its own together with `on_batch(number deleted)` (so what it records commits with the
    deletion); stop before a batch that would start after `deadline` (time.monotonic()). The
    number of rows deleted."""
    model, deleted = queryset.model, 0
    while deadline is None or time.monotonic() < deadline:
        with transaction.atomic():
            ids = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
            if not ids:
                break
            _, by_model = model._base_manager.filter(pk__in=ids).delete()
            count = by_model.get(model._meta.label, 0)
            if on_batch is not None:
                on_batch(count)
        deleted += count
    return deleted
