"""What every page's navigation shows about integrations."""

from integrations.event_views import VIEW_PERMISSION
from integrations.selectors import integration_events_open_count


def open_integration_events(request) -> dict:
    """The count of events nobody has actioned yet, for people who may see them."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm(VIEW_PERMISSION):
        return {}
    return {"open_integration_events": integration_events_open_count()}
