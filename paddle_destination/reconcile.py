"""The fallback when webhooks are missed (or cannot reach the hub): every credential in use asks
Paddle for the manual transactions updated since its cursor, page by page under the shared rate
limit, and applies them to the deliveries exactly as a webhook would. Statuses are therefore right
within one cycle even with no HUB_PUBLIC_URL.

The cursor is the newest `updated_at` seen; the next cycle asks from there inclusive (`[GTE]`), so a
transaction updated in the same instant as the last one read is not skipped; reading one twice
changes nothing.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db.models import Min, Q
from django.utils import timezone
from paddle_billing.Entities.Shared import CollectionMode
from paddle_billing.Resources.Shared.Operations import Comparator, DateComparison, OrderBy, Pager
from paddle_billing.Resources.Transactions.Operations import ListTransactions

from credentials.models import IntegrationCredential
from paddle_destination.client import paddle_client
from paddle_destination.errors import PaddleProblem, paddle_errors
from paddle_destination.notifications import notifications_set_up, status_sync_for
from runs.models import Delivery
from runs.services.invoice_status import TransactionNews, delivery_invoice_status_apply

logger = logging.getLogger(__name__)

_PAGE = 30  # Paddle's largest page of transactions
# The first cursor comes from the hub's clock, later ones from Paddle's: the first cycle starts a
# little earlier than the hub's first delivery, in case the two clocks disagree.
_CLOCK_MARGIN = datetime.timedelta(minutes=5)


def status_sync_reconcile(*, credential: IntegrationCredential) -> int:
    """One cycle for one credential; the number of bills whose invoice status changed. A Paddle
    failure is recorded on the status sync (the cursor stays, so the next cycle catches up)."""
    sync = status_sync_for(credential=credential)
    started = timezone.now()
    deliveries = Delivery.objects.filter(integration__credential=credential).exclude(external_id="")
    cursor = sync.reconcile_cursor
    if cursor is None:
        first = deliveries.aggregate(first=Min("created_at"))["first"]
        cursor = first - _CLOCK_MARGIN if first else None
    changed, newest = 0, cursor
    try:
        if cursor is not None:
            client = paddle_client(credential=credential)
            listing = ListTransactions(
                pager=Pager(order_by=OrderBy("updated_at", "ASC"), per_page=_PAGE),
                collection_mode=CollectionMode.Manual,
                updated_at=DateComparison(cursor, Comparator.GTE),
            )
            page = []
            with paddle_errors("listing the transactions updated since the last reconciliation"):
                # The SDK's collection fetches the next page when iteration reaches it (and
                # restarts if iter() is called on it again, so it is walked once, here).
                for txn in client.transactions.list(listing):
                    page.append(txn)
                    if len(page) == _PAGE:
                        changed += _apply_page(page, deliveries, credential.pk)
                        newest, page = max(newest, page[-1].updated_at), []
            if page:
                changed += _apply_page(page, deliveries, credential.pk)
                newest = max(newest, page[-1].updated_at)
    except PaddleProblem as problem:
        sync.last_reconcile_error = problem.text
        sync.last_reconciled_at = started
        sync.save(update_fields=["last_reconcile_error", "last_reconciled_at", "updated_at"])
        logger.warning(
            "Reconciling invoice statuses of credential %s failed: %s", credential.pk, problem
        )
        return changed
    sync.reconcile_cursor = newest or started
    sync.last_reconciled_at = started
    sync.last_reconcile_changed = changed
    sync.last_reconcile_error = ""
    sync.save()
    return changed


def _apply_page(page, deliveries, credential_id) -> int:
    """Apply the page's transactions that are the hub's (one query finds them)."""
    ours = set(
        deliveries.filter(external_id__in=[t.id for t in page]).values_list(
            "external_id", flat=True
        )
    )
    changed = 0
    for txn in page:
        if txn.id in ours:
            news = TransactionNews(
                transaction_id=txn.id,
                paddle_status=str(txn.status),
                occurred_at=txn.updated_at,
                invoice_number=txn.invoice_number,
                billed_at=txn.billed_at,
                credential_id=credential_id,
            )
            changed += len(delivery_invoice_status_apply(news=news))
    return changed


def credentials_reconcile_due() -> list[str]:
    """Reconcile every credential in use whose last cycle is older than
    PADDLE_RECONCILE_INTERVAL_MINUTES; the ids reconciled."""
    interval = settings.PADDLE_RECONCILE_INTERVAL_MINUTES
    if interval <= 0:
        return []
    due_before = timezone.now() - datetime.timedelta(minutes=interval)
    credentials = (
        IntegrationCredential.objects.filter(integrations__isnull=False)
        .filter(
            Q(status_sync__isnull=True)
            | Q(status_sync__last_reconciled_at__isnull=True)
            | Q(status_sync__last_reconciled_at__lte=due_before)
        )
        .distinct()
    )
    done = []
    for credential in credentials:
        # Heals webhooks whose set-up failed, and follows a changed HUB_PUBLIC_URL.
        notifications_set_up(credential=credential, only_if_outdated=True)
        status_sync_reconcile(credential=credential)
        done.append(str(credential.pk))
    return done
