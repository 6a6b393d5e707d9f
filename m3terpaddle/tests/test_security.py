"""The security properties of the whole product, checked across every page and endpoint so a new
one is covered the day it is added:

- every admin page, for a view-only user, and every page and API answer, for a superuser, shows
  no stored secret (only hints);
- every endpoint answers a battery of hostile input with a 4xx, never a 5xx (the test client
  raises what a 500 would hide).
"""

import json

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone

from credentials.crypto import encrypt_secret
from credentials.tests.factories import IntegrationCredentialFactory
from integrations.tests.factories import IntegrationConfigurationFactory, IntegrationEventFactory
from m3terdata.tests.factories import AccountFactory, BillFactory, ExternalMappingFactory
from m3terpaddle.tests.routes import named_routes
from m3tersync.services import connection_create
from paddle_destination.models import PaddleStatusSync
from runs.tests.factories import DeliveryFactory, IntegrationRunFactory, RunLogEntryFactory

pytestmark = pytest.mark.django_db

PADDLE_KEY = "pdl_sdbx_apikey_01hsecretsecretsecretsecretsecret_KEY1"
M3TER_SECRET = "m3ter-api-secret-never-shown-0001"
WEBHOOK_SECRET = "m3ter-webhook-secret-never-shown-0002"
PADDLE_ENDPOINT_SECRET = "pdl_ntfset_secret-never-shown-0003"
SECRETS = (PADDLE_KEY, M3TER_SECRET, WEBHOOK_SECRET, PADDLE_ENDPOINT_SECRET)
NOWHERE = "http://127.0.0.1:9"  # nothing listens: no request of these tests leaves the machine


@pytest.fixture
def world(settings):
    """One of everything, with secrets stored in the models that encrypt them."""
    settings.PADDLE_API_URL = settings.PADDLE_SANDBOX_API_URL = NOWHERE
    credential = IntegrationCredentialFactory(api_key=PADDLE_KEY)
    integration = IntegrationConfigurationFactory(credential=credential)
    account = AccountFactory()
    bill = BillFactory(account=account)
    run = IntegrationRunFactory(integration=integration, bill=bill, failed=True)
    RunLogEntryFactory(run=run)
    DeliveryFactory(integration=integration, bill_m3ter_id=bill.m3ter_id)
    mapping = ExternalMappingFactory(m3ter_id=account.m3ter_id, integration=integration)
    PaddleStatusSync.objects.create(
        credential=credential,
        notification_setting_id="ntfset_1",
        webhook_url="https://hub.example.com/paddle/webhooks/",
        webhooks_set_up_at=timezone.now(),
        endpoint_secret_key_encrypted=encrypt_secret(PADDLE_ENDPOINT_SECRET),
    )
    event = IntegrationEventFactory(integration=integration)
    connection = connection_create(
        name="m3ter",
        org_id="org-1",
        api_key_id="key-1",
        api_secret=M3TER_SECRET,
        base_url=NOWHERE,
        webhook_api_key="hook-key",
        webhook_secret=WEBHOOK_SECRET,
    )
    return {
        "credential": credential,
        "integration": integration,
        "account": account,
        "bill": bill,
        "run": run,
        "mapping": mapping,
        "connection": connection,
        "event": event,
    }


def assert_no_secret(response, where):
    body = response.content.decode(errors="replace")
    for secret in SECRETS:
        assert secret not in body, f"{where} shows a stored secret"


# --- no secret on any admin page for a view-only user ----------------------------------------


def encrypted_models():
    return sorted(
        model._meta.label
        for model in apps.get_models()
        if any(field.name.endswith("_encrypted") for field in model._meta.fields)
    )


def test_the_models_with_encrypted_fields_are_the_ones_this_module_stores_secrets_in():
    # A new encrypted field must get a secret in `world`, so the checks below cover it.
    assert encrypted_models() == [
        "credentials.IntegrationCredential",
        "m3tersync.M3terConnection",
        "paddle_destination.PaddleStatusSync",
    ]


@pytest.fixture
def viewer(client):
    """Staff who may view everything and change nothing."""
    user = User.objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    client.force_login(user)
    return client


def admin_pages(world):
    for model in admin.site._registry:
        opts = model._meta
        yield reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        for instance in model.objects.all()[:3]:
            for page in ("change", "history"):
                yield reverse(
                    f"admin:{opts.app_label}_{opts.model_name}_{page}", args=[instance.pk]
                )


def test_no_admin_page_shows_a_stored_secret_to_a_view_only_user(viewer, world):
    pages = list(admin_pages(world))
    for label in encrypted_models():
        model = apps.get_model(label)
        if model not in admin.site._registry:
            continue  # no admin page at all
        for page in ("change", "history"):
            url = reverse(
                f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}",
                args=[model.objects.get().pk],
            )
            assert url in pages

    for url in pages:
        response = viewer.get(url)
        assert response.status_code == 200, url
        assert_no_secret(response, url)


# --- every endpoint × hostile input: 4xx, never 5xx; no secret in any answer ---------------------


def our_endpoint(name: str) -> bool:
    """Every route but Django's own admin pages: its custom ones (test buttons) are ours."""
    return not name.startswith("admin:") or name.endswith(("_test", "_test_connection"))


ENDPOINTS = sorted(
    set((name, tuple(kwargs)) for name, kwargs in named_routes() if our_endpoint(name))
)


def path_values(name: str, world) -> dict:
    """Real ids, so the battery reaches past the lookups into each view's own handling."""
    resource = name.split(":")[-1].split("-")[0]
    ids = {
        "integration": world["integration"].pk,
        "credential": world["credential"].pk,
        "mapping": world["mapping"].pk,
        "run": world["run"].pk,
        "account": world["account"].m3ter_id,
        "bill": world["bill"].m3ter_id,
        "event": world["event"].pk,
    }
    admin_objects = {
        "admin:m3tersync_m3terconnection_test": world["connection"].pk,
        "admin:credentials_integrationcredential_test_connection": world["credential"].pk,
    }
    return {
        "orgId": settings.M3TER_ORG_ID,
        "id": ids.get(resource),
        "entityType": "Bill",
        "entityId": world["bill"].m3ter_id,
        "destinationId": world["credential"].pk,
        "entity": "Account",
        "m3terId": world["account"].m3ter_id,
        "system": "Paddle",
        "externalTable": "Customer",
        "externalId": world["mapping"].external_id,
        "pk": world["integration"].pk,
        "integration_id": world["integration"].pk,
        "run_id": world["run"].pk,
        "m3ter_id": world["bill"].m3ter_id,
        "connection_id": world["connection"].pk,
        "credential_id": world["credential"].pk,
        "object_id": admin_objects.get(name),
    }


HOSTILE_QUERIES = [
    {},
    {"page": "9" * 40},
    {"page": "-1"},
    {"pageSize": "9" * 40},
    {"pageSize": "-5"},
    {"nextToken": "%%%not-a-token"},
    {"ids": "\x00"},
    {"codes": ",".join(["c"] * 500)},
    {"connection": "not-a-uuid"},
    {"integration": "not-a-uuid"},
    {"status": "NOT_A_STATUS"},
    {"q": "x" * 10_000},
    {"account_filter": "(" * 300 + "currency == USD" + ")" * 300},
    {"account_filter": "NOT " * 500 + "currency == USD"},
    {"dtFrom": "nan", "dtTo": "2026-13-45", "from": "1e400", "to": "yesterday"},
    {"bill": "\x00", "account": "'; DROP TABLE x; --"},
]

POISON = {
    "id": "\x00",
    "version": 2**64,
    "name": "n" * 100_000,
    "code": ["not", "a", "string"],
    "destination": "NOWHERE",
    "entityType": {"x": 1},
    "apiKey": "k" * 10_000,
    "configData": {
        "accountFilter": "(" * 300 + "currency == USD" + ")" * 300,
        "accountIds": ["\x00"] * 3,
        "excludedLineItemTypes": "not-a-list",
    },
    "lineItems": "not-a-list",
    "customFields": {"k" * 300: "v"},
    "address": ["not", "an", "object"],
    "integrationCredentialsId": "not-a-uuid",
    "m3terEvent": "x",
    "eventName": "billing.bill.updated",
}

HOSTILE_BODIES = [
    ("application/json", b"[" * 5_000),
    ("application/json", b"{" * 50_000),
    ("application/json", b"[]"),
    ("application/json", b"null"),
    ("application/json", b"1e400"),
    ("application/json", b"NaN"),
    ("application/json", b'"\\u0000"'),
    ("application/json", b"\xff\xfe\x00{"),
    ("application/json", b'{"version": 18446744073709551616, "id": "x"}'),
    ("application/json", json.dumps(POISON).encode()),
    ("application/x-www-form-urlencoded", b"name=%00&version=1e400&grant_type=%ff"),
    ("application/xml", b"<bill/>"),
]


@pytest.fixture
def superuser(client):
    client.force_login(User.objects.create_superuser("root", password="x"))
    return client


@pytest.mark.slow
@pytest.mark.parametrize(("name", "kwargs"), ENDPOINTS, ids=[name for name, _ in ENDPOINTS])
def test_every_endpoint_answers_hostile_input_with_a_4xx_and_shows_no_secret(
    superuser, world, name, kwargs
):
    values = path_values(name, world)
    missing = [kwarg for kwarg in kwargs if values.get(kwarg) is None]
    assert not missing, f"{name}: give {missing} a value in path_values"
    url = reverse(name, kwargs={kwarg: values[kwarg] for kwarg in kwargs})

    for query in HOSTILE_QUERIES:
        for method in (superuser.get, superuser.head):
            response = method(url, query)
            assert response.status_code < 500, (name, query)
            assert_no_secret(response, url)
    assert superuser.options(url).status_code < 500, (name, "OPTIONS")
    for send in (superuser.post, superuser.put, superuser.patch, superuser.delete):
        for content_type, body in HOSTILE_BODIES:
            response = send(url, body, content_type=content_type)
            assert response.status_code < 500, (name, send.__name__, body[:60])
            assert_no_secret(response, url)
