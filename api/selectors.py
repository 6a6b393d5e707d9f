"""Reads about runs in the shapes m3ter's API answers with. They belong in runs/selectors.py;
they wait here while runs/ is being reorganised."""

import datetime

from django.db.models import OuterRef, QuerySet, Subquery

from runs.models import IntegrationRun, RunLogEntry


def run_records(
    *,
    status: str | None = None,
    created_from: datetime.datetime | None = None,
    created_before: datetime.datetime | None = None,
    entity_type: str | None = None,
    entity_id: str | None = None,
    integration_id=None,
    destination_id: str | None = None,
    destination: str | None = None,
) -> QuerySet[IntegrationRun]:
    """Runs narrowed by any filter given (`created_from` included, `created_before` not)."""
    lookups = {
        "status": status,
        "created_at__gte": created_from,
        "created_at__lt": created_before,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "integration_id": integration_id,
        "destination_id": destination_id,
        "destination": destination,
    }
    return IntegrationRun.objects.filter(
        **{lookup: value for lookup, value in lookups.items() if value is not None}
    )


def run_get(*, run_id) -> IntegrationRun | None:
    """The run with this id, or None. A malformed id raises ValueError or ValidationError, so
    callers can tell it from an unknown one."""
    return IntegrationRun.objects.filter(pk=run_id).first()


def run_latest(*, entity_type: str, entity_id: str) -> IntegrationRun | None:
    """The entity's newest run, or None."""
    return (
        IntegrationRun.objects.filter(entity_type=entity_type, entity_id=entity_id)
        .order_by("-created_at")
        .first()
    )


def runs_latest(*, entity_type: str, entity_ids: list[str]) -> QuerySet[IntegrationRun]:
    """The newest run of each entity that has any, in one query."""
    latest = (
        IntegrationRun.objects.filter(entity_type=entity_type, entity_id=OuterRef("entity_id"))
        .order_by("-created_at")
        .values("pk")[:1]
    )
    return IntegrationRun.objects.filter(
        entity_type=entity_type, entity_id__in=entity_ids, pk=Subquery(latest)
    )


def run_log_entries(*, run: IntegrationRun) -> list[RunLogEntry]:
    return list(RunLogEntry.objects.filter(run=run))
