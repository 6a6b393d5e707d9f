"""A client generated from the hub's /api/schema/ by a standard generator none of us wrote
(openapi-python-client, offline) lists, creates and updates a configuration against the live
server: what the schema promises, the server does."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from api.tests.conftest import ORG_ID, basic

pytestmark = pytest.mark.slow

GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture
def hub_client(tmp_path, monkeypatch):
    """The generated package, imported as `hub_client`."""
    schema = tmp_path / "schema.json"
    schema.write_bytes(APIClient().get("/api/schema/", {"format": "json"}).content)
    config = tmp_path / "generator.yaml"
    config.write_text("post_hooks: []\n")  # no formatter run: only the generated code matters
    subprocess.run(
        [GENERATOR, "generate", "--path", schema, "--output-path", tmp_path / "hub_client",
         "--meta", "none", "--config", config, "--fail-on-warning"],
        check=True, capture_output=True,
    )  # fmt: skip
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module("hub_client")
    for name in [name for name in sys.modules if name.split(".")[0] == "hub_client"]:
        del sys.modules[name]


@pytest.fixture
def token(make_service_user):
    api_key, secret = make_service_user(name="generated")
    response = APIClient().post(
        "/oauth/token",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=basic(api_key.key_id, secret),
    )
    return response.json()["access_token"]


def test_a_generated_client_lists_creates_and_updates_a_configuration(
    hub_client, token, live_server
):
    integrations = importlib.import_module("hub_client.api.integrations")
    models = importlib.import_module("hub_client.models")
    for module in (
        "get_integration_configs",
        "post_integration_config",
        "update_integration_config",
    ):
        importlib.import_module(f"hub_client.api.integrations.{module}")
    client = hub_client.AuthenticatedClient(
        base_url=live_server.url, token=token, headers={"Connection": "close"}, timeout=20
    )

    with client:
        created = integrations.post_integration_config.sync(
            ORG_ID,
            client=client,
            body=models.IntegrationConfigCreateRequest(
                entity_type=models.EntityTypeEnum.BILL,
                destination=models.DestinationEnum.PADDLE_SANDBOX,
                name="Generated",
                config_data=models.ConfigDataRequest(account_filter="currency == USD"),
            ),
        )
        assert isinstance(created, models.IntegrationConfigResponse), created
        assert (created.version, created.config_data.account_filter) == (1, "currency == USD")

        page = integrations.get_integration_configs.sync(ORG_ID, client=client, page_size=1)
        assert [item.id for item in page.data] == [created.id]

        updated = integrations.update_integration_config.sync(
            ORG_ID,
            str(created.id),
            client=client,
            body=models.IntegrationConfigRequestRequest(
                entity_type=models.EntityTypeEnum.BILL,
                destination=models.DestinationEnum.PADDLE_SANDBOX,
                name="Renamed",
                version=created.version,
            ),
        )
        assert (updated.name, updated.version) == ("Renamed", 2)

        stale = integrations.update_integration_config.sync(
            ORG_ID,
            str(created.id),
            client=client,
            body=models.IntegrationConfigRequestRequest(
                entity_type=models.EntityTypeEnum.BILL,
                destination=models.DestinationEnum.PADDLE_SANDBOX,
                version=created.version,
            ),
        )
        # The 409 is in the schema, so the client hands back the error it describes.
        assert isinstance(stale, models.Error) and "version 2" in stale.message
