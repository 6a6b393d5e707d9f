import factory
from django.utils import timezone

from credentials.models import Destination
from integrations.models import IntegrationConfiguration, IntegrationEvent, IntegrationEventName


class IntegrationConfigurationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntegrationConfiguration

    name = factory.Sequence(lambda n: f"Paddle integration {n}")
    destination = Destination.PADDLE_SANDBOX
    credential = None


class IntegrationEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntegrationEvent

    name = IntegrationEventName.VALIDATION
    integration = factory.SubFactory(IntegrationConfigurationFactory)
    integration_name = factory.LazyAttribute(lambda o: o.integration.name if o.integration else "")
    entity_type = "Bill"
    entity_id = factory.Sequence(lambda n: f"bill-{n}")
    message = "Paddle refused the transaction: email is not a valid e-mail address."
    last_occurred_at = factory.LazyFunction(timezone.now)
