import datetime
import uuid
from decimal import Decimal

import factory
from django.utils import timezone

from credentials.models import Destination
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.tests.factories import BillFactory, LineItemFactory
from runs.models import (
    AttemptOutcome,
    Delivery,
    IntegrationRun,
    LogLevel,
    RunAttempt,
    RunLogEntry,
    RunStatus,
)


class IntegrationRunFactory(factory.django.DjangoModelFactory):
    """A run of a bill to an integration; the bill, account and names follow the bill given."""

    class Meta:
        model = IntegrationRun

    integration = factory.SubFactory("integrations.tests.factories.IntegrationConfigurationFactory")
    integration_name = factory.LazyAttribute(lambda o: o.integration.name if o.integration else "")
    bill = factory.SubFactory("m3terdata.tests.factories.BillFactory")
    entity_id = factory.LazyAttribute(lambda o: o.bill.m3ter_id if o.bill else "")
    bill_version = factory.LazyAttribute(lambda o: o.bill.version if o.bill else None)
    account = factory.LazyAttribute(lambda o: o.bill.account if o.bill else None)
    destination = factory.LazyAttribute(lambda o: o.integration.destination)
    status = RunStatus.WAITING

    class Params:
        complete = factory.Trait(
            status=RunStatus.COMPLETE,
            dt_started=factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(seconds=2)),
            dt_completed=factory.LazyFunction(timezone.now),
            attempt_count=1,
            external_id=factory.Sequence(lambda n: f"txn_{n:026d}"),
            url=factory.LazyAttribute(
                lambda o: f"https://sandbox-vendors.paddle.com/transactions-v2/{o.external_id}"
            ),
        )
        failed = factory.Trait(
            status=RunStatus.ERROR,
            dt_started=factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(seconds=1)),
            dt_completed=factory.LazyFunction(timezone.now),
            attempt_count=1,
            # What a run that met a Paddle outage shorter than the circuit's threshold says once
            # it has given up: a failure a person's Retry can mend.
            error="While creating the transaction, Paddle answered 502 Bad Gateway. "
            "Gave up after 8 attempts.",
            error_hint="The hub has stopped retrying this run by itself. Once Paddle answers "
            "again, Retry the run.",
        )


class RunAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RunAttempt

    run = factory.SubFactory(IntegrationRunFactory)
    number = factory.Sequence(lambda n: n + 1)
    started_at = factory.LazyFunction(timezone.now)
    duration_ms = 420
    outcome = AttemptOutcome.SUCCESS
    request_summary = factory.LazyFunction(lambda: {"method": "POST", "path": "/transactions"})
    response_summary = factory.LazyFunction(lambda: {"status": 201})


class RunLogEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RunLogEntry

    run = factory.SubFactory(IntegrationRunFactory)
    level = LogLevel.INFO
    message = "Created draft transaction."


class DeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delivery

    integration = factory.SubFactory("integrations.tests.factories.IntegrationConfigurationFactory")
    bill_m3ter_id = factory.Sequence(lambda n: f"bill-{n:06d}")
    external_id = factory.Sequence(lambda n: f"txn_{n:026d}")


def connected_integration(*, api_key: str | None = None, **fields):
    """An enabled Paddle (Sandbox Mode) integration with a credential attached."""
    credential_fields = {"api_key": api_key} if api_key else {}
    credential = IntegrationCredentialFactory(
        destination=Destination.PADDLE_SANDBOX, **credential_fields
    )
    return IntegrationConfigurationFactory(
        credential=credential, destination=Destination.PADDLE_SANDBOX, **fields
    )


def bill_with_lines(*subtotals: str, lines: int = 0, **bill_fields):
    """A bill with one line item per subtotal given (or `lines` lines of 12.50), whose content
    hash is set as the import would set it."""
    subtotals = subtotals or ("12.50",) * (lines or 2)
    bill_fields.setdefault("content_hash", uuid.uuid4().hex)
    bill = BillFactory(**bill_fields)
    LineItemFactory.create_batch(
        len(subtotals),
        bill=bill,
        sequence=factory.Iterator(range(1, len(subtotals) + 1)),
        subtotal=factory.Iterator([Decimal(s) for s in subtotals]),
    )
    return bill
