from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from m3terpaddle.views_common import page_of, requires
from m3tersync import selectors, services
from m3tersync.models import M3terConnection


@requires("m3tersync.view_m3terpull")
def pull_list(request):
    connection_id = request.GET.get("connection") or None
    connections = selectors.connections_for_pull_page()
    if connection_id and not (
        services.is_uuid(connection_id) and connections.filter(pk=connection_id).exists()
    ):
        connection_id = None
    page = page_of(request, selectors.pulls_recent(connection_id=connection_id))
    return render(
        request,
        "m3tersync/pull_list.html",
        {
            "connections": connections,
            "page": page,
            "connection_id": connection_id,
            "can_pull": request.user.has_perm("m3tersync.change_m3terconnection"),
            "interval": settings.M3TER_PULL_INTERVAL_MINUTES,
        },
    )


@requires("m3tersync.change_m3terconnection")
@require_POST
def pull_now(request, connection_id):
    connection = get_object_or_404(M3terConnection, pk=connection_id)
    services.pull_request(connection=connection, user=request.user)
    messages.success(
        request, f"A pull of {connection.name} is queued; it appears below once it starts."
    )
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(next_url)
    return redirect("m3tersync:pulls")


def webhook_url(request) -> str:
    """The URL m3ter called, as it signed it: behind a proxy, M3TER_WEBHOOK_BASE_URL says how the
    outside world reaches the hub."""
    base = settings.M3TER_WEBHOOK_BASE_URL
    return base.rstrip("/") + request.get_full_path() if base else request.build_absolute_uri()


@csrf_exempt
@require_POST
def webhook_receive(request, connection_id):
    """m3ter's Outgoing webhook: checked, stored and answered at once; processed on a worker."""
    connection = M3terConnection.objects.filter(pk=connection_id).first()
    if connection is None:
        return JsonResponse({"error": "No m3ter connection with this id."}, status=404)
    try:
        event = services.inbound_event_receive(
            connection=connection,
            body=request.body,
            headers=request.headers,
            url=webhook_url(request),
        )
    except services.WebhookRefused as refused:
        return JsonResponse({"error": refused.message}, status=refused.status)
    return JsonResponse({"id": event.pk, "status": event.status}, status=202)
