"""Reads for the m3ter pages."""

from django.db.models import QuerySet

from m3tersync.models import M3terConnection, M3terPull


def connections_for_pull_page() -> QuerySet[M3terConnection]:
    return M3terConnection.objects.order_by("name")


def pulls_recent(*, connection_id=None) -> QuerySet[M3terPull]:
    pulls = M3terPull.objects.select_related("connection", "requested_by")
    if connection_id:
        pulls = pulls.filter(connection_id=connection_id)
    return pulls.order_by("-started_at", "-id")
