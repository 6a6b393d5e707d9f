import factory

from credentials.crypto import encrypt_secret, secret_hint
from m3terpaddle.tests.factories import ReceivedAtFactory
from m3tersync.models import InboundEvent, InboundEventStatus, M3terConnection


class M3terConnectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = M3terConnection

    name = factory.Sequence(lambda n: f"m3ter org {n}")
    org_id = factory.Faker("uuid4")
    api_key_id = factory.Sequence(lambda n: f"key-{n}")
    api_secret_encrypted = factory.LazyFunction(lambda: encrypt_secret("m3ter-secret"))
    api_secret_hint = secret_hint("m3ter-secret")


class InboundEventFactory(ReceivedAtFactory):
    """A stored m3ter webhook event; `received_at` may be given (the field sets itself)."""

    class Meta:
        model = InboundEvent

    connection = factory.SubFactory(M3terConnectionFactory)
    event_id = factory.Faker("uuid4")
    event_name = "billing.bill.updated"
    payload = factory.LazyFunction(dict)
    status = InboundEventStatus.PROCESSED
