import factory

from credentials.crypto import encrypt_secret, secret_hint
from credentials.models import Destination, IntegrationCredential
from standins.paddle import make_api_key


class IntegrationCredentialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntegrationCredential
        exclude = ["api_key"]

    name = factory.Sequence(lambda n: f"Paddle sandbox key {n}")
    destination = Destination.PADDLE_SANDBOX
    # Well-formed: the Paddle stand-in, like Paddle, refuses a key of any other shape.
    api_key = factory.LazyFunction(lambda: make_api_key("sandbox"))
    api_key_encrypted = factory.LazyAttribute(lambda o: encrypt_secret(o.api_key))
    api_key_hint = factory.LazyAttribute(lambda o: secret_hint(o.api_key))
