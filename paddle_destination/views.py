"""Paddle's side of the hub over HTTP: its webhooks in, and Preview in Paddle from a bill's page
(Paddle's own totals for the invoice an integration would make of the bill, nothing created)."""

from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.selectors import integration_get
from m3terdata.selectors import bill_detail
from m3terpaddle.views_common import object_or_404, requires
from paddle_destination.errors import PaddleProblem
from paddle_destination.preview import invoice_preview
from paddle_destination.webhooks import WebhookRefused, paddle_webhook_receive


@csrf_exempt
@require_POST
def webhook_receive(request, credential_id):
    """Paddle's webhook for one credential's account: verified, stored and answered at once
    (Paddle wants a 2xx within 5 seconds); applied on a worker."""
    try:
        event = paddle_webhook_receive(credential_id=credential_id, request=request)
    except WebhookRefused as refused:
        return JsonResponse({"error": refused.message}, status=refused.status)
    if event is None:
        return JsonResponse({"status": "duplicate: already received"}, status=200)
    return JsonResponse({"id": event.pk, "status": event.status}, status=202)


@require_POST
@requires("m3terdata.view_bill")
def bill_preview_view(request, m3ter_id, integration_id):
    bill = object_or_404(bill_detail, "No bill with this m3ter id.", m3ter_id=m3ter_id)
    integration = integration_get(integration_id=integration_id)
    if integration is None:
        raise Http404("No such integration.")
    preview = problem = None
    try:
        preview = invoice_preview(integration=integration, bill=bill)
    except PaddleProblem as refused:
        problem = refused
    return render(
        request,
        "paddle_destination/bill_preview.html",
        {"bill": bill, "integration": integration, "preview": preview, "problem": problem},
    )
