import factory

from credentials.models import Destination
from integrations.models import IntegrationConfiguration


class IntegrationConfigurationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntegrationConfiguration

    name = factory.Sequence(lambda n: f"Paddle integration {n}")
    destination = Destination.PADDLE_SANDBOX
    credential = None
