import factory
from django.utils import timezone

from credentials.tests.factories import IntegrationCredentialFactory
from m3terpaddle.tests.factories import ReceivedAtFactory
from paddle_destination.models import PaddleEvent, PaddleEventStatus


class PaddleEventFactory(ReceivedAtFactory):
    """A stored Paddle webhook event; `received_at` may be given (the field sets itself)."""

    class Meta:
        model = PaddleEvent

    event_id = factory.Sequence(lambda n: f"evt_{n:026d}")
    credential = factory.SubFactory(IntegrationCredentialFactory)
    event_type = "transaction.paid"
    occurred_at = factory.LazyFunction(timezone.now)
    transaction_id = factory.Sequence(lambda n: f"txn_{n:026d}")
    status = PaddleEventStatus.APPLIED
