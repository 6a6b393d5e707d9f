import factory

from credentials.crypto import encrypt_secret, secret_hint
from credentials.models import Destination, IntegrationCredential


class IntegrationCredentialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntegrationCredential
        exclude = ["api_key"]

    name = factory.Sequence(lambda n: f"Paddle sandbox key {n}")
    destination = Destination.PADDLE_SANDBOX
    api_key = factory.Sequence(lambda n: f"pdl_sdbx_apikey_test{n:020d}")
    api_key_encrypted = factory.LazyAttribute(lambda o: encrypt_secret(o.api_key))
    api_key_hint = factory.LazyAttribute(lambda o: secret_hint(o.api_key))
