from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

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
