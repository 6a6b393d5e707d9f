from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from m3terdata.demo import demo_payload
from m3tersync.demo_history import demo_runs_backdate
from m3tersync.services.inbound import m3ter_import
from paddle_destination.notifications import notifications_set_up, status_sync_lines


class Command(BaseCommand):
    help = (
        "Seed realistic demo data (a SaaS company's customers, monthly bills in USD/EUR/GBP and "
        "JPY, every line item type with fitting units, credits, a 120-line bill). With "
        "--with-integration, first create a connected Paddle (Sandbox Mode) integration, so the "
        "bills become runs."
    )

    def add_arguments(self, parser):
        parser.add_argument("--months", type=int, default=2)
        parser.add_argument(
            "--with-integration",
            action="store_true",
            help="Create the 'Demo Paddle (Sandbox Mode)' credential and integration first.",
        )
        parser.add_argument(
            "--history-wait",
            type=float,
            default=90,
            help="With --with-integration: seconds to wait for the runs (a worker must be "
            "running) before moving them back to when their bills were calculated.",
        )

    def handle(self, *args, months, with_integration, history_wait, **options):
        since = timezone.now()
        with transaction.atomic():
            if with_integration:
                integration, credential_was_there = demo_integration_ensure()
                self.stdout.write(f"Integration: {integration.name} ({integration.id})")
            result = m3ter_import(payload=demo_payload(months=months))
        if with_integration and credential_was_there:
            # A new credential gets its webhooks from the worker. An earlier demo's credential
            # points at a stand-in that has forgotten its notification setting since (it keeps
            # transactions, not settings), maybe at another port: set them up again.
            sync = notifications_set_up(credential=integration.credential)
            self.stdout.write(" ".join(status_sync_lines(sync)[:1]))
        self.stdout.write(f"Accounts: {result.accounts.as_text()}")
        self.stdout.write(f"Bills: {result.bills.as_text()}")
        self.stdout.write(f"External mappings: {result.external_mappings.as_text()}")
        if with_integration:
            moved = demo_runs_backdate(since=since, timeout_seconds=history_wait)
            self.stdout.write(f"Runs moved back to when their bills were calculated: {moved}")


def demo_integration_ensure():
    from credentials.models import Destination, IntegrationCredential
    from credentials.services import credential_create
    from integrations.models import IntegrationConfiguration
    from integrations.services import integration_create
    from m3terdata.models import LineItemType

    credential = IntegrationCredential.objects.filter(name="Demo sandbox key").first()
    credential_was_there = credential is not None
    if credential is None:
        credential = credential_create(
            name="Demo sandbox key",
            destination=Destination.PADDLE_SANDBOX,
            # The shape of a real sandbox key; the stand-in accepts any such key.
            api_key="pdl_sdbx_apikey_01jdemo0000000000000000000_DemoOnlyNotARealPaddle_Key",
            user=None,
        )
    integration = IntegrationConfiguration.objects.filter(name="Demo Paddle (Sandbox Mode)").first()
    if integration is None:
        integration = integration_create(
            values={
                "name": "Demo Paddle (Sandbox Mode)",
                "destination": Destination.PADDLE_SANDBOX,
                # Credits are negative lines, which Paddle invoices cannot carry.
                "excluded_line_item_types": [
                    LineItemType.CREDIT_DEDUCTION,
                    LineItemType.USAGE_CREDIT,
                    LineItemType.COUNTER_ADJUSTMENT_CREDIT,
                    LineItemType.MINIMUM_SPEND_REFUND,
                    LineItemType.CREDIT_MEMO,
                ],
                "sort_line_items_by": "SUBTOTAL",
                "credential": credential,
            }
        )
    return integration, credential_was_there
