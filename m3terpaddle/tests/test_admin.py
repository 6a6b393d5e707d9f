"""Every admin page loads, with data in it, and no secret ever appears on one."""

import pytest
from django.contrib import admin
from django.urls import reverse

from credentials.tests.factories import IntegrationCredentialFactory
from integrations.tests.factories import IntegrationConfigurationFactory
from m3terdata.tests.factories import ExternalMappingFactory, LineItemFactory

pytestmark = pytest.mark.django_db

API_KEY = "pdl_sdbx_apikey_secretvalue1234567890abcd"


@pytest.fixture
def populated():
    credential = IntegrationCredentialFactory(api_key=API_KEY)
    IntegrationConfigurationFactory(credential=credential)
    LineItemFactory()
    ExternalMappingFactory()
    return credential


def admin_urls():
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        yield pytest.param(
            model, f"admin:{info[0]}_{info[1]}_changelist", id=f"{info[0]}.{info[1]}"
        )


@pytest.mark.parametrize(("model", "url_name"), list(admin_urls()))
def test_changelist_and_change_pages_load_without_secrets(admin_client, populated, model, url_name):
    response = admin_client.get(reverse(url_name))
    assert response.status_code == 200
    assert API_KEY not in response.content.decode()
    assert populated.api_key_encrypted not in response.content.decode()

    instance = model._default_manager.first()
    if instance is not None:
        info = (model._meta.app_label, model._meta.model_name)
        change = admin_client.get(reverse(f"admin:{info[0]}_{info[1]}_change", args=[instance.pk]))
        assert change.status_code == 200
        assert API_KEY not in change.content.decode()
        assert populated.api_key_encrypted not in change.content.decode()
